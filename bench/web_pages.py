"""What the web app's pages cost with the demo data: every main page beside `GET /health`, one JSON line.

    python bench/web_pages.py [--seconds 3] [--connections 1 4] [--rounds 1] [--pages / /ops ...]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch database laura_bench_web at head, seeds it with `laura.seed.seed_demo` (the data `make run` has)
and starts the app as one uvicorn process (rate limits off, INFO logs so that every request's `request`
line with its `duration_ms` is written). The demo customer, passenger, driver and admin sign in through
the web's /login form (the session cookie, as a browser). Every page is opened once (it must answer 200,
not a redirect to /login: a page not measured is an error), then wrk (`bench/_wrk.py`) GETs it with its
user's cookies for `seconds` at each of `connections`, `GET /health` first, the same way, in the same run.

Per page and concurrency: the server's time (p50/p99 of the app's own `duration_ms`, from the request
middleware's first byte in to the last byte out, so neither wrk nor the network is in it), wrk's p50/p99
as the client saw them, the requests per second, and the ratios of the page's p50 to /health's, the
server's and the client's (the ceiling: what the framework, the middleware and the machine cost before a
page does anything; the server's /health is tiny, as its time starts inside uvicorn, so its ratio is large). With
`rounds` > 1 the whole sequence repeats and each figure is the median of the rounds'. `over_50ms` lists
the pages whose server p50 is over the 50 ms of issue 17 at any concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import _wrk as wrk

from laura.seed import DEMO_PASSWORD, seed_demo
from laura.settings import Settings
from laura.web.routes.console.sections import SECTIONS

DB_NAME = "laura_bench_web"
SECRET_KEY = "YmVuY2gtd2ViLXBhZ2VzLXNlY3JldC1rZXktMzJieXQ="
BUDGET_MS = 50.0
CUSTOMER = ("ana@laura.dev", ("/", "/statement", "/pix/send", "/pix/keys", "/ted", "/boletos", "/scheduled"))
PAGES: dict[str, tuple[str, ...]] = {
    "ana@laura.dev": (*CUSTOMER[1], "/cards", "/budgets", "/analytics", "/support"),
    "paula@laura.dev": ("/rider/new", "/rider/history"),
    "diego@laura.dev": ("/driver/dashboard", "/driver/earnings"),
    "admin@laura.dev": ("/ops", *(section.href for section in SECTIONS)),
}
"""Each demo user and the main pages of their area (the admin's: the console and each of its sections)."""
_TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')
_GET_LUA = """
local path, cookie = "%(path)s", "%(cookie)s"
function request()
  local headers = {["Accept-Encoding"] = "gzip"}
  if #cookie > 0 then headers["Cookie"] = cookie end
  return wrk.format("GET", path, headers)
end
"""


async def _prepare(server: str, data_dir: str) -> str:
    """A fresh database at head with the demo data; returns its URL."""
    url = await common.fresh_database(server, DB_NAME)
    await seed_demo(
        Settings(_env_file=None, database_url=url, data_dir=Path(data_dir), secret_key=SECRET_KEY)
    )  # type: ignore[call-arg]
    return url


async def _cookies(base: str, email: str) -> str:
    """`email` signed in by the /login form; returns the browser's Cookie header (session and CSRF)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        form = await http.get("/login")
        token = _TOKEN.search(form.text)
        if token is None:
            raise RuntimeError("the login page has no CSRF token")
        answer = await http.post(
            "/login", data={"csrftoken": token.group(1), "email": email, "password": DEMO_PASSWORD}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"{email} could not sign in: {answer.status_code}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in http.cookies.jar)


async def _check(base: str, path: str, cookie: str) -> None:
    """The page answers 200 for its user (a redirect to /login would measure the wrong thing)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        answer = await http.get(path, headers={"Cookie": cookie} if cookie else {})
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")


def _server_durations(log: Path, start: int, path: str) -> tuple[list[float], int]:
    """The `duration_ms` of the 200 answers to `path` the app logged after byte `start` of its log."""
    with open(log, "rb") as file:
        file.seek(start)
        lines = file.read().decode("utf-8", "replace").splitlines()
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "request" and entry.get("path") == path and entry.get("status") == 200:
            found.append(float(entry["duration_ms"]))
    return found, os.path.getsize(log)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _phase(port: int, log: Path, path: str, cookie: str, connections: int, seconds: int) -> dict:
    """One wrk run against one page: the client's summary and the server's own times for the same requests."""
    script = _GET_LUA % {"path": path, "cookie": cookie} + wrk.DONE_LUA
    start = os.path.getsize(log)
    summary = await asyncio.to_thread(
        wrk.run, script, port=port, threads=min(2, connections), connections=connections, seconds=seconds
    )
    await asyncio.sleep(0.2)  # the last answers' log lines are written just after the answers
    durations, _ = _server_durations(log, start, path)
    return {
        "requests_per_s": summary["requests"] / (summary["duration_us"] / 1e6),
        "server_p50_ms": _percentile(durations, 0.5),
        "server_p99_ms": _percentile(durations, 0.99),
        "client_p50_ms": summary["p50_us"] / 1000,
        "client_p99_ms": summary["p99_us"] / 1000,
        "logged": len(durations),
        "non2xx": summary["non2xx"],
        "socket_errors": summary["socket_errors"],
    }


def _median(phases: list[dict]) -> dict:
    """Each figure's median over the rounds (counts: summed)."""
    summed = ("logged", "non2xx", "socket_errors")
    return {
        key: sum(p[key] for p in phases)
        if key in summed
        else round(statistics.median(p[key] for p in phases), 2)
        for key in phases[0]
    }


async def run(args: argparse.Namespace, data_dir: str, log, log_path: Path) -> dict:  # type: ignore[no-untyped-def]
    url = await _prepare(common.server_url(), data_dir)
    port = common.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"LAURA_SECRET_KEY": SECRET_KEY, "LAURA_LOG_LEVEL": "INFO", "LAURA_LOG_JSON": "true"}
    process = common.start_app(
        url, port, data_dir=data_dir, workers=1, env=env, stdout=log, stderr=log,
        uvicorn_args=("--timeout-keep-alive", "120"),
    )  # fmt: skip
    try:
        await common.wait_ready(base, process)
        return await _measure(port, base, log_path, args)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _measure(port: int, base: str, log: Path, args: argparse.Namespace) -> dict:
    targets = [("/health", "")]
    for email, paths in PAGES.items():
        cookie = await _cookies(base, email)
        targets += [(path, cookie) for path in paths if not args.pages or path in args.pages]
    for path, cookie in targets:
        await _check(base, path, cookie)
    started = time.monotonic()
    phases: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for _ in range(args.rounds):
        for connections in args.connections:
            for path, cookie in targets:
                phases[path][connections].append(
                    await _phase(port, log, path, cookie, connections, args.seconds)
                )
    figures = {path: {f"c{c}": _median(p) for c, p in by_c.items()} for path, by_c in phases.items()}
    for path, by_c in figures.items():
        for key, figure in by_c.items():
            health = figures["/health"][key]
            figure["server_ratio_to_health"] = round(figure["server_p50_ms"] / health["server_p50_ms"], 1)
            figure["client_ratio_to_health"] = round(figure["client_p50_ms"] / health["client_p50_ms"], 1)
    return {
        "benchmark": "web_pages",
        "seconds_per_phase": args.seconds,
        "connections": args.connections,
        "rounds": args.rounds,
        "pages": figures,
        "over_50ms": sorted(
            path
            for path, by_c in figures.items()
            if any(f["server_p50_ms"] > BUDGET_MS for f in by_c.values())
        ),
        "source": _described(),
        "wall_s": round(time.monotonic() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _described() -> str:
    """This checkout's commit (with `+dirty` when `laura/` has uncommitted changes)."""
    git = ["git", "-C", str(common.ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "laura"], capture_output=True, text=True, check=False
    )
    return f"{head.stdout.strip()}{'+dirty' if dirty.stdout.strip() else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="length of each page's phase")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4], help="concurrencies")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pages", nargs="+", help="a subset of the pages (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        log_path = Path(data_dir) / "server.log"
        with open(log_path, "w") as log:
            print(json.dumps(asyncio.run(run(args, data_dir, log, log_path))))


if __name__ == "__main__":
    main()
