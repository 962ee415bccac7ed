"""`create_sandbox_app`: the FastAPI app of the emulator, with Efí's error shape on every failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from laura.pix.sandbox import api, control
from laura.pix.sandbox.config import SandboxConfig
from laura.pix.sandbox.service import Sandbox
from laura.pix.sandbox.state import SandboxError


def create_sandbox_app(config: SandboxConfig) -> FastAPI:
    """A fresh emulator with its own in-memory state (one app = one emulated Efí account)."""
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    app = FastAPI(title="Laura PSP sandbox (Efí-compatible)", lifespan=lifespan, docs_url="/sandbox/docs")
    app.state.sandbox = sandbox
    app.include_router(api.oauth_router)
    app.include_router(api.router)
    app.include_router(control.router)

    @app.exception_handler(SandboxError)
    async def sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse({"nome": exc.nome, "mensagem": exc.mensagem}, exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'/'.join(str(part) for part in error['loc'][1:]) or 'corpo'}: {error['msg']}"
            for error in exc.errors()
        ]
        return JSONResponse({"nome": "json_invalido", "mensagem": "; ".join(problems)}, 400)

    @app.middleware("http")
    async def injected_500s(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count API requests and answer 500 where an `http500` fault says so (never on /sandbox/)."""
        path = request.url.path
        if not path.startswith("/sandbox/"):
            sandbox.state.requests[f"{request.method} {path}"] += 1
            if sandbox.state.faults.take_http500(path):
                return JSONResponse(
                    {"nome": "erro_aplicacao", "mensagem": "Falha simulada pelo sandbox"}, 500
                )
        return await call_next(request)

    return app
