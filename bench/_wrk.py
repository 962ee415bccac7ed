"""Driving a benchmark's HTTP load with wrk (C, one Lua script per thread), so the load generator does not
eat the CPU the server is measured with (an httpx client on the same 2-core machine costs as much as the
server does). Two shapes:

- `run(script, ...)`: the script makes requests until `seconds` have passed (e.g. random transfers);
- `send_once(requests, ...)`: every request of a prepared list goes out exactly once, in its order,
  split round-robin across the threads, and wrk stops as soon as the last answer is in.

Both return wrk's summary as a dict: requests, duration_us, non2xx, socket_errors and p50/p95/p99 in µs
(wrk's histogram, with its correction for coordinated omission).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

WRK = shutil.which("wrk")

DONE_LUA = """
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,'
    .. '"p50_us":%d,"p95_us":%d,"p99_us":%d%s}\\n', summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary_extra and summary_extra() or ""))
end
"""
"""A `done()` that prints the summary as one `WRK {...}` line (what `run` and `send_once` parse); a script
may add fields with a global `summary_extra()` returning `,"name":value...`."""

_GET_LUA = """
local path, tokens = "%(path)s", {%(tokens)s}
function init(args)
  math.randomseed(%(seed)d + tonumber(tostring({}):sub(8), 16) %% 100000)
end
function request()
  local headers = {["Accept-Encoding"] = "gzip"}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] end
  return wrk.format("GET", path, headers)
end
"""


def get_script(path: str, tokens: list[str]) -> str:
    """A `run` script that GETs `path` as a random caller of `tokens` each time (none: unauthenticated)."""
    quoted = ",".join(f'"{t}"' for t in tokens)
    return _GET_LUA % {"path": path, "tokens": quoted, "seed": random.randrange(1 << 20)} + DONE_LUA


_SEND_ONCE_LUA = """
local threads, finished, started = %(threads)d, "%(finished)s", {}
local requests, claimed, granted, sent, answered = {}, 0, 0, 0, 0
stray = 0
probe = 0
function setup(thread)
  thread:set("index", #started)
  thread:set("probe", #started == 0 and 1 or 0)
  started[#started + 1] = thread
end
function summary_extra()
  local total = 0
  for _, thread in ipairs(started) do total = total + thread:get("stray") end
  return string.format(',"stray":%%d', total)
end
function init(args)
  local data = io.open("%(data)s", "rb"):read("*a")
  local pos, k = 1, 0
  while pos <= #data do
    local header = data:find("\\n", pos, true)
    local length = tonumber(data:sub(pos, header - 1))
    if k %% threads == index then requests[#requests + 1] = data:sub(header + 1, header + length) end
    pos, k = header + 1 + length, k + 1
  end
  if #requests == 0 then io.stderr:write(finished .. "\\n") end
end
-- wrk asks delay() before each request of a connection: a request is granted while some are left, and a
-- connection with none left idles until the thread stops.
function delay()
  if claimed < #requests then
    claimed, granted = claimed + 1, granted + 1
    return 0
  end
  return 86400000
end
-- A request() without a grant is wrk's probe of the first thread's script (never sent), or a connection
-- lost mid-request reconnecting (its delivery is lost): both get a filler GET, the latter counted as stray.
function request()
  if granted == 0 then
    if probe == 1 then probe = 0 else stray = stray + 1 end
    return wrk.format("GET", "/health")
  end
  granted = granted - 1
  sent = sent + 1
  return requests[sent]
end
function response(status, headers, body)
  answered = answered + 1
  if sent == #requests and answered == sent + stray then
    io.stderr:write(finished .. "\\n")
    wrk.thread:stop()
  end
end
"""


def run(script: str, *, port: int, threads: int, connections: int, seconds: float, timeout: int = 10) -> dict:
    """Run wrk with `script` (which must print the `DONE_LUA` line) for `seconds` against 127.0.0.1:`port`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "load.lua")
        path.write_text(script)
        completed = subprocess.run(
            _command(path, port, threads, connections, max(1, int(seconds)), timeout),
            check=True,
            capture_output=True,
            text=True,
        )
    return _summary(completed.stdout)


def send_once(
    requests: list[bytes], *, port: int, threads: int, connections: int, limit_s: int = 600, timeout: int = 10
) -> dict:
    """Send every raw HTTP request of `requests` exactly once (a lost connection loses its request; wrk
    counts it as a socket error); returns the summary plus `stray`, filler GETs a reconnect forced."""
    threads = max(1, min(threads, connections))
    finished = "WRK-THREAD-FINISHED"
    with tempfile.TemporaryDirectory() as folder:
        data, path = Path(folder, "requests.bin"), Path(folder, "send_once.lua")
        data.write_bytes(b"".join(b"%d\n%b" % (len(r), r) for r in requests))
        path.write_text(_SEND_ONCE_LUA % {"threads": threads, "data": data, "finished": finished} + DONE_LUA)
        process = subprocess.Popen(
            _command(path, port, threads, connections, limit_s, timeout),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _stop_when_finished(process, threads, finished)
        stdout, _ = process.communicate(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}")
    return _summary(stdout)


def raw_request(
    method: str, target: str, *, port: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """One HTTP/1.1 request as wrk sends it (keep-alive, explicit Content-Length)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _stop_when_finished(process: subprocess.Popen, threads: int, finished: str) -> None:
    """wrk itself only stops after its duration: interrupt it once every thread has sent its share."""
    assert process.stderr is not None
    done = 0
    for line in process.stderr:
        done += line.strip() == finished
        if done == threads:
            process.send_signal(signal.SIGINT)
            return


def _command(
    script: Path, port: int, threads: int, connections: int, seconds: int, timeout: int
) -> list[str]:
    if WRK is None:
        raise RuntimeError("wrk is not installed")
    return [
        WRK,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        f"{timeout}s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]


def _summary(stdout: str) -> dict:
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("WRK "))[4:])
