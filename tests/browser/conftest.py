"""Browser tests: Playwright for Python driving Debian's Chromium by its path (`make test` installs it
where apt-get is usable; Playwright's own browser download is never used), against `laura serve` on a
real socket with the test's own database. Screenshots go to build/screenshots/ (not committed)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server_process import ROOT, LauraProcess, laura_env, laura_process

CHROMIUM = Path(os.environ.get("LAURA_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "build" / "screenshots"

try:
    from playwright.async_api import Browser, async_playwright
except ImportError:  # pragma: no cover - the test extras install it
    async_playwright = None  # type: ignore[assignment]


def _skip_reason() -> str | None:
    if async_playwright is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: `make test` installs it with apt-get where it can (root)"
    return None


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LauraProcess]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    env = laura_env(database_url, tmp_path / "data", LAURA_LOG_LEVEL="WARNING")
    async with laura_process(["serve"], env, tmp_path / "run") as running:
        yield running


@pytest.fixture
async def chromium(server: LauraProcess) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")
