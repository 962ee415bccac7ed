"""`PspDep`: the application's one PSP client (opened in the lifespan), for routes that call the PSP."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.pix.psp import EfiClient


async def psp_client(request: Request) -> EfiClient:
    """The client `create_app`'s lifespan keeps in `app.state.psp` (one pool, token cache and breaker)."""
    client: EfiClient = request.app.state.psp
    return client


PspDep = Annotated[EfiClient, Depends(psp_client)]
