"""The CSRF token of a multipart form (a support ticket with attachments), read here rather than by
asgi-csrf: asgi-csrf 0.11 builds python-multipart's `FormParser` with a `FileClass` argument that
python-multipart no longer takes, so it would answer every multipart POST with a 500.

The token must be the form's first field, before any file (as asgi-csrf requires too); the body is read
only until that field ends and then replayed to the app untouched. A token that matches the signed
`csrftoken` cookie is handed on as the `X-CSRFToken` header, which asgi-csrf checks first (so it still
decides, and never reaches its multipart path); any other answer is the readable 403 page."""

from __future__ import annotations

import secrets
from typing import Any

from asgi_csrf import (
    DEFAULT_COOKIE_NAME,
    DEFAULT_FORM_INPUT,
    DEFAULT_HTTP_HEADER,
    DEFAULT_SIGNING_NAMESPACE,
    cookies_from_scope,
)
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Message, Receive, Scope

_TOKEN_MAX = 512


class _Done(Exception):
    """The token's field ended (or a file or an oversized field came first): stop reading."""


def multipart_boundary(scope: Scope) -> bytes | None:
    """The boundary of a multipart/form-data POST, or None for any other request."""
    if scope.get("method") != "POST":
        return None
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    kind, options = parse_options_header(content_type)
    return options.get(b"boundary") if kind == b"multipart/form-data" else None


async def _first_field(receive: Receive, boundary: bytes) -> tuple[str | None, list[Message]]:
    """The `csrftoken` field's value if it is the first part, and every message read to find it."""
    found: dict[str, Any] = {"headers": [], "value": b"", "field": b"", "header": b""}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        found["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        found["header"] += data[start:end]

    def on_header_end() -> None:
        found["headers"].append((found["field"].lower(), found["header"]))
        found["field"], found["header"] = b"", b""

    def on_headers_finished() -> None:
        disposition = dict(found["headers"]).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if options.get(b"name") != DEFAULT_FORM_INPUT.encode() or b"filename" in options:
            raise _Done()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        found["value"] += data[start:end]
        if len(found["value"]) > _TOKEN_MAX:
            found["value"] = b""
            raise _Done()

    def on_part_end() -> None:
        found["token"] = found["value"].decode("latin-1")
        raise _Done()

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    messages: list[Message] = []
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            parser.write(message.get("body", b""))
            if not message.get("more_body", False):
                break
    except _Done:
        pass
    return found.get("token"), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


async def with_form_token(
    scope: Scope, receive: Receive, boundary: bytes, secret: str
) -> tuple[Scope, Receive] | None:
    """The request with its form's token as the `X-CSRFToken` header, when that token is the signed
    cookie's; None when it is missing or does not match (the caller refuses the request)."""
    token, messages = await _first_field(receive, boundary)
    cookie = cookies_from_scope(scope).get(DEFAULT_COOKIE_NAME, "")
    try:
        URLSafeSerializer(secret).loads(cookie, DEFAULT_SIGNING_NAMESPACE)
    except BadSignature:
        return None
    if not token or not secrets.compare_digest(token, cookie):
        return None
    headers = [(k, v) for k, v in scope.get("headers") or [] if k != DEFAULT_HTTP_HEADER.encode()]
    headers.append((DEFAULT_HTTP_HEADER.encode(), token.encode("latin-1")))
    return {**scope, "headers": headers}, _replay(messages, receive)
