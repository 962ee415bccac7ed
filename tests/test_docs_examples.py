"""Every request example of docs/api.md and of the README's "A tour of the API" runs against the app, in the
order written, so the docs cannot drift from the API.

The examples are plain `curl` commands a reader can paste into bash (with `jq`). This reads them the way bash
would for the subset they use: `$VAR`, `$(uuidgen)`, `$(cat .laura/webhook.secret)`, `VAR=$(curl … | jq -r .field)` and
`VAR=$(date -u …)` to keep a value for later commands. A command's status is the one its comment starts
with (`# 201 …`), else any 2xx; the JSON keys the first comment line shows must be in the answer. Values the
docs take as given (an admin's token, a second customer) come from `_Given`.
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from laura.bank.seed import fund_customer
from laura.settings import Settings
from tests.bank.card_network.support import make_card
from tests.helpers import auth_headers, staff_headers
from tests.pix.conftest import WEBHOOK_SECRET
from tests.pix.sandbox.fixtures import CLIENT_ID, CLIENT_SECRET, PIX_KEY, sandbox_server, sandbox_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
API = "http://127.0.0.1:8000"
OPENING_BALANCE = Decimal("5000.00")
RECIPIENT_PIX_KEY = "recipient@example.com"
CARD_NETWORK_KEY = "docs-network-key"

_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
_ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=\$\((.*)\)$", re.DOTALL)
_PLAIN_ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=(\S+)$")
_VARIABLE = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)\}?")
_STATUS = re.compile(r"^\s*(\d{3})\b")
_KEY = re.compile(r'"([A-Za-z][A-Za-z0-9]*)"\s*:')


@dataclass
class Example:
    source: str
    line: int
    text: str
    comment: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


def _split_comment(line: str) -> tuple[str, str]:
    """The command part of a line and its trailing `# comment`, honouring quotes as bash does."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def _text(path: Path, section: str | None) -> tuple[str, int]:
    """The file's text (one `## section` of it, if given) and the line it starts at."""
    text = path.read_text()
    if section is None:
        return text, 0
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None], text[:start].count("\n")


def examples(path: Path, section: str | None = None) -> Iterator[Example]:
    """The commands of the file's bash blocks (of one `## section` only, if given), with their comments."""
    text, offset = _text(path, section)
    for block in _BLOCK.finditer(text):
        first_line = text[: block.start()].count("\n") + 2 + offset
        current: Example | None = None
        pending = ""
        for n, raw in enumerate(block.group(1).splitlines()):
            if not pending and raw.strip().startswith("#"):
                if current is not None and not current.comment:
                    current.comment = raw.strip()[1:].strip()
                continue
            if not pending and not raw.strip():
                continue
            pending = f"{pending}\n{raw}" if pending else raw
            code, comment = _split_comment(pending)
            if _complete(code):
                if current is not None:
                    yield current
                current = Example(path.name, first_line + n, code.replace("\\\n", " "), comment)
                pending = ""
        if current is not None:
            yield current


class _Given:
    """What the docs take as given: the API's address, accounts made by an operator, the webhook secret."""

    def __init__(self, app, http: httpx.AsyncClient, webhook_secret: str) -> None:
        self.app, self.http = app, http
        self.values = {"API": API, "LAURA_PSP_WEBHOOK_SECRET": webhook_secret}

    async def value(self, name: str) -> str:
        if name not in self.values:
            self.values[name] = await self._make(name)
        return self.values[name]

    async def _make(self, name: str) -> str:
        if name == "ADMIN":
            return _bearer(await staff_headers(self.app, self.http, role="admin"))
        if name in ("PASSENGER", "DRIVER"):
            return _bearer((await auth_headers(self.http, user_type=name.lower()))[1])
        if name == "CARD_NETWORK_KEY":
            return CARD_NETWORK_KEY
        if name in ("CARD_NUMBER", "CARD_EXPIRY", "CARD_CVV"):
            card = await make_card(self.app, await self._customer_id(), cvv="123")
            self.values.update(CARD_NUMBER=card.number, CARD_EXPIRY=card.expiry, CARD_CVV=card.cvv)
            return self.values[name]
        if name == "RECIPIENT_ID":
            user, headers = await auth_headers(self.http)
            key = await self.http.post(
                "/api/pix-keys", json={"type": "EMAIL", "key": RECIPIENT_PIX_KEY}, headers=headers
            )
            assert key.status_code == 201, key.text
            return user["id"]
        raise AssertionError(f"the docs use ${name} before setting it")

    async def _customer_id(self, token: str | None = None) -> str:
        """The examples' customer (Maria), by her access token."""
        headers = {"Authorization": f"Bearer {token or self.values['TOKEN']}"}
        return (await self.http.get("/auth/me", headers=headers)).json()["id"]

    async def fund(self, token: str) -> None:
        """The customer of the examples starts with money, as if they had made a deposit."""
        user_id = await self._customer_id(token)
        async with self.app.state.db.unit_of_work() as session:
            await fund_customer(
                session, uuid.UUID(user_id), OPENING_BALANCE, reference=f"docs:{uuid.uuid4()}"
            )


def _bearer(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


class Shell:
    """Runs the examples' subset of bash: curl (in process, against the app; `-F` uploads a file of the repository), jq -r, date -u, uuidgen."""

    def __init__(self, given: _Given) -> None:
        self.given = given

    async def expand(self, text: str) -> str:
        text = text.replace("$(uuidgen)", str(uuid.uuid4()))
        text = text.replace(
            "$(cat .laura/webhook.secret)", await self.given.value("LAURA_PSP_WEBHOOK_SECRET")
        )
        for name in sorted(set(_VARIABLE.findall(text)), key=len, reverse=True):
            value = await self.given.value(name)
            text = re.sub(rf"\$\{{{name}\}}|\${name}(?![A-Z0-9_])", lambda _, value=value: value, text)
        return text

    async def run(self, example: Example) -> None:
        plain = _PLAIN_ASSIGNMENT.match(example.text.strip())
        if plain is not None and not plain.group(2).startswith("$("):
            assert plain.group(2) == API, f"{example}: the examples' API is {API}"
            return
        assignment = _ASSIGNMENT.match(example.text.strip())
        if assignment is None:
            await self._curl(example, await self.expand(example.text))
            return
        name, command = assignment.groups()
        command = command.strip()
        if command.startswith("date "):
            self.given.values[name] = _date(shlex.split(command))
            return
        curl, _, pipe = command.rpartition("|")
        words = shlex.split(pipe)
        assert words[:2] == ["jq", "-r"] and len(words) == 3, (
            f"{example}: only `| jq -r FILTER` is understood"
        )
        answer = await self._curl(example, await self.expand(curl))
        self.given.values[name] = str(_jq(answer.json(), words[2]))
        if name == "TOKEN":
            await self.given.fund(self.given.values[name])

    async def _curl(self, example: Example, command: str) -> httpx.Response:
        words = shlex.split(command)
        assert words[0] == "curl", f"{example}: not a curl command"
        method, headers, body, url = None, {}, None, None
        files: dict[str, tuple[str, bytes, str]] = {}
        words = iter(words[1:])
        for word in words:
            if word in ("-s", "-sS"):
                continue
            if word == "-X":
                method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(":")
                headers[name.strip()] = value.strip()
            elif word == "-d":
                body = next(words)
            elif word == "-F":  # field=@path[;type=...], the path from the repository's root
                field, _, spec = next(words).partition("=@")
                path, _, content_type = spec.partition(";type=")
                files[field] = (Path(path).name, (ROOT / path).read_bytes(), content_type or "text/plain")
            elif word == "-o":
                next(words)
            else:
                assert not word.startswith("-"), f"{example}: curl option {word} is not understood"
                url = word
        assert url is not None, f"{example}: no URL"
        target = url.removeprefix(API) if url.startswith(API) else None
        assert target is not None, f"{example}: write the URL as $API/…"
        response = await self.given.http.request(
            method or ("POST" if body is not None or files else "GET"),
            target,
            content=body,
            files=files or None,
            headers=headers,
        )
        _check(example, response)
        return response


def _check(example: Example, response: httpx.Response) -> None:
    status = _STATUS.match(example.comment)
    if status:
        assert response.status_code == int(status.group(1)), (
            f"{example}\n-> {response.status_code} {response.text}"
        )
    else:
        assert 200 <= response.status_code < 300, f"{example}\n-> {response.status_code} {response.text}"
    if (
        response.status_code < 300
        and response.content
        and response.headers["content-type"] == "application/json"
    ):
        keys = _keys(response.json())
        missing = [key for key in _KEY.findall(example.comment) if key not in keys]
        assert not missing, f"{example}\nthe comment shows {missing}, the answer has not: {response.text}"


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for child in value.values() for key in _keys(child)}
    if isinstance(value, list):
        return {key for child in value for key in _keys(child)}
    return set()


def _jq(value: Any, path: str) -> Any:
    """`jq -r` for the paths the docs use: `.a.b`, `.data[0].id`."""
    for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        value = value[part[0]] if part[0] else value[int(part[1])]
    return value


def _date(words: list[str]) -> str:
    """`date -u [-d tomorrow] +FORMAT` (GNU date)."""
    now = datetime.now(UTC)
    words = words[1:]
    assert words[0] == "-u", "dates in the docs are UTC: date -u"
    if words[1] == "-d":
        assert words[2] == "tomorrow", "only `-d tomorrow` is understood"
        now += timedelta(days=1)
        words = words[2:]
    return now.strftime(words[-1].removeprefix("+").replace("%F", "%Y-%m-%d").replace("%T", "%H:%M:%S"))


@pytest.fixture
def settings(settings: Settings, sandbox_url: str) -> Settings:
    """The app against the PSP sandbox (deposits), with no clock that a slow run could outlast between two
    examples (an offer's 15 s, a position's 60 s)."""
    return settings.model_copy(
        update={
            "psp_base_url": sandbox_url,
            "psp_client_id": CLIENT_ID,
            "psp_client_secret": CLIENT_SECRET,
            "psp_pix_key": PIX_KEY,
            "psp_webhook_secret": WEBHOOK_SECRET,
            "card_network_api_keys": [CARD_NETWORK_KEY],
            "ride_offer_ttl_seconds": 3600.0,
            "mobility_location_max_age_seconds": 3600.0,
            "mobility_location_max_delay_seconds": 3600.0,
        }
    )


@pytest.fixture
async def shell(app, client) -> Shell:
    return Shell(_Given(app, client, WEBHOOK_SECRET))


@pytest.mark.parametrize(("document", "section"), [("docs/api.md", None), ("README.md", "A tour of the API")])
async def test_every_example_in_the_docs_runs_as_written(
    shell: Shell, document: str, section: str | None
) -> None:
    ran = list(examples(ROOT / document, section))
    for example in ran:
        await shell.run(example)
    written = sum(block.count("curl ") for block in _BLOCK.findall(_text(ROOT / document, section)[0]))
    assert written > 0 and sum(example.text.count("curl ") for example in ran) == written, (
        "a curl was not run"
    )
