"""A NUL character (which PostgreSQL text cannot hold) in any text of any request is a 422 naming the field,
never a 500: every string of every request body in the OpenAPI schema (nested ones included), every string
query parameter and header, and the path."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from laura.app import create_app
from tests.helpers import auth_headers, staff_headers

ROLES = ("customer", "passenger", "driver")
STAFF = ("staff", "admin")
PROCESSOR_KEY = "nul-test-processor-key"

printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
anything = st.characters(exclude_categories=("Cs",))  # JSON cannot carry lone surrogates
alphanumeric = st.characters(categories=("L", "N"))


def _around_nul(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, tail: f"{head}\x00{tail}", st.text(alphabet, max_size=12), st.text(alphabet, max_size=12)
    )


TEXT = {
    "body": _around_nul(anything),
    "query": _around_nul(anything),
    "header": _around_nul(printable),  # a header is latin-1
    "path": _around_nul(alphanumeric),  # one path segment
}


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _string_paths(spec: dict, schema: dict, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where a string may stand in a body of this schema: object keys, and index 0 of arrays."""
    schema = _resolve(spec, schema)
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    found: set[tuple[Any, ...]] = set()
    for option in alternatives:
        for path in _string_paths(spec, option, prefix):
            if path not in found:
                found.add(path)
                yield path
    if schema.get("type") == "string" and prefix and prefix not in found:
        yield prefix
    for name, child in schema.get("properties", {}).items():
        yield from _string_paths(spec, child, (*prefix, name))
    if schema.get("type") == "array":
        yield from _string_paths(spec, schema.get("items", {}), (*prefix, 0))


def _body_with(path: tuple[Any, ...], text: str) -> Any:
    """The smallest body that puts `text` at `path` (other fields missing: they are refused alongside)."""
    value: Any = text
    for step in reversed(path):
        value = [value] if step == 0 else {step: value}
    return value


def _is_string(spec: dict, schema: dict) -> bool:
    schema = _resolve(spec, schema)
    options = schema.get("anyOf", []) + schema.get("oneOf", [])
    return schema.get("type") == "string" or any(_is_string(spec, option) for option in options)


def _fill(path: str) -> str:
    parts = []
    for part in path.split("/"):
        parts.append(str(uuid.uuid4()) if part.startswith("{") else part)
    return "/".join(parts)


def _targets(spec: dict) -> list[tuple[str, str, str, Any]]:
    """(method, route, where, what) for every text a request can carry: a body path, a query parameter or a
    header parameter, and each route's path parameters."""
    targets = []
    for route, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                for path in _string_paths(spec, content["schema"]):
                    targets.append((method, route, "body", path))
            for parameter in operation.get("parameters", []):
                if _is_string(spec, parameter["schema"]):
                    targets.append((method, route, parameter["in"], parameter["name"]))
    return targets


def _refused_as_nul(response: httpx.Response, field: str) -> bool:
    if response.status_code != 422:
        return False
    body = response.json()
    return body["error"] == "VALIDATION_ERROR" and {"field": field, "type": "string_nul"} in [
        {"field": detail["field"], "type": detail["type"]} for detail in body["details"]
    ]


async def _send(
    http: httpx.AsyncClient, headers: dict, target: tuple[str, str, str, Any], text: str
) -> tuple:
    """Send `text` where the target says, once per role; returns the answers and the field they must name."""
    method, route, where, what = target
    url, params, extra, body = _fill(route), None, {}, None
    if where == "body":
        body, field = _body_with(what, text), ".".join(str(step) for step in what)
    elif where == "query":
        params, field = {what: text}, what
    elif where == "header":
        extra, field = {what: text}, what
    else:  # a path parameter: the NUL reaches the path, refused before any route is matched
        url, field = route.replace("{" + what + "}", quote(text, safe="")), "path"
    answers = []
    for role_headers in headers.values():
        answers.append(
            await http.request(method, url, params=params, json=body, headers={**role_headers, **extra})
        )
    return answers, field


async def _role_headers(app, http: httpx.AsyncClient) -> dict[str, dict]:
    headers = {role: (await auth_headers(http, user_type=role))[1] for role in ROLES}
    for role in STAFF:
        headers[role] = await staff_headers(app, http, role=role)
    headers["processor"] = {"X-Api-Key": PROCESSOR_KEY}  # the card network's routes take no user token
    return headers


def test_a_nul_in_any_text_of_any_request_is_a_422_naming_the_field(settings) -> None:
    app = create_app(settings.model_copy(update={"card_network_api_keys": [PROCESSOR_KEY]}))
    with asyncio.Runner() as runner:
        lifespan = app.router.lifespan_context(app)
        runner.run(lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        try:
            spec = runner.run(http.get("/openapi.json")).json()
            targets = _targets(spec)
            assert {("post", "/api/transfers/ted", "body", ("recipientName",)),
                    ("post", "/auth/register", "body", ("name",)),
                    ("post", "/drivers", "body", ("vehicle", "brand")),
                    ("get", "/audit/logs", "query", "action"),
                    ("post", "/api/transfers/p2p", "header", "Idempotency-Key"),
                    ("get", "/pix/charges/{txid}", "path", "txid")} <= set(targets)  # fmt: skip
            headers = runner.run(_role_headers(app, http))

            @hypothesis.settings(max_examples=4, deadline=None)
            @given(data=st.data())
            def every_target_refuses_a_nul(data: st.DataObject) -> None:
                for target in targets:
                    answers, field = runner.run(_send(http, headers, target, data.draw(TEXT[target[2]])))
                    texts = [answer.text for answer in answers]
                    assert all(answer.status_code != 500 for answer in answers), (target, texts)
                    assert any(_refused_as_nul(answer, field) for answer in answers), (target, texts)

            every_target_refuses_a_nul()
        finally:
            runner.run(http.aclose())
            runner.run(lifespan.__aexit__(None, None, None))
