"""Web test helpers: a cookie-keeping client, the CSRF token of a rendered form, signing in by the form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

_TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')
_FIELD = re.compile(r'name="{name}" value="([^"]*)"')


def hidden(html: str, name: str) -> str:
    found = re.search(_FIELD.pattern.format(name=re.escape(name)), html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def csrf(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@asynccontextmanager
async def browser(app, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own (its own cookie jar), like one browser."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        yield http


async def form_post(http: httpx.AsyncClient, page: str, action: str, data: dict) -> httpx.Response:
    """Open `page`, then post `data` to `action` with the page's CSRF token, as the form would."""
    opened = await http.get(page)
    assert opened.status_code == 200, opened.text
    return await http.post(action, data={"csrftoken": csrf(opened.text), **data})


async def sign_in(http: httpx.AsyncClient, email: str, password: str = "s3cret-passw0rd") -> None:
    response = await form_post(http, "/login", "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
