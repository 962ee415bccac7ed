"""CPU seconds spent by named processes (each with its children) and by one database's backends, summed over
measured windows only: what a unit of work costs, which the machine's other load does not inflate the way it
inflates latency."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Awaitable, Iterable
from typing import TypeVar

import asyncpg
import psutil

T = TypeVar("T")


def _cpu(processes: Iterable[psutil.Process]) -> dict[int, float]:
    found = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[process.pid] = times.user + times.system
    return found


class CpuMeter:
    """`groups` names a root pid each (its children count with it); `db` the database whose backends count
    as `db`; the bench's own process counts as `client` (without its children: wrk is measured apart)."""

    def __init__(self, groups: dict[str, int], conn: asyncpg.Pool, db: str) -> None:
        self.roots = {name: psutil.Process(pid) for name, pid in groups.items()}
        self.conn, self.db = conn, db
        self.totals: Counter[str] = Counter()

    async def _sample(self) -> dict[str, dict[int, float]]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", self.db
        )
        sample = {name: _cpu([root, *root.children(recursive=True)]) for name, root in self.roots.items()}
        sample["db"] = _cpu(psutil.Process(r["pid"]) for r in rows if psutil.pid_exists(r["pid"]))
        sample["client"] = _cpu([psutil.Process(os.getpid())])
        return sample

    async def measure(self, work: Awaitable[T]) -> T:
        """Await `work` and add the CPU it cost to the totals (a process new during it counts from zero)."""
        before = await self._sample()
        result = await work
        after = await self._sample()
        for name, cpus in after.items():
            self.totals[name] += sum(cpu - before[name].get(pid, 0.0) for pid, cpu in cpus.items())
        return result

    def per(self, unit: str, count: int) -> dict[str, float]:
        """Milliseconds of CPU per `unit` for each group, and their sum."""
        figures = {f"{name}_cpu_ms_per_{unit}": round(s * 1000 / count, 2) for name, s in self.totals.items()}
        figures[f"total_cpu_ms_per_{unit}"] = round(sum(self.totals.values()) * 1000 / count, 2)
        return figures

    def reset(self) -> None:
        self.totals.clear()
