"""The arithmetic of bench/mixed_day.py, apart from any I/O: the peak hour's mix, when each arrival
happens in the compressed hour, the per-route figures, and the machines a 10,000-ride day needs.

The day (the mobility spec's target city, with a bank in it):

- 10,000 rides a day; the peak hour carries PEAK_SHARE (10 %) of the day: 1,000 rides in that hour.
  Each ride: request, accept, arrived, start, complete, the passenger's app reading the payment until its
  Pix charge exists, and the payer's bank paying it at the PSP (the PSP's webhook confirms it).
- Drivers report their location every REPORT_EVERY_S (15 s) during a job of JOB_MINUTES (20: 5 to the
  pickup, 15 of trip): 80 reports a ride, 20 before `arrived` and 60 during the trip. Idle drivers'
  reports are left out (they would roughly double the reports; they cost what a trip's report costs).
- 20,000 active bank customers in that city (two per ride of the day). Per customer per day, rounded from
  the Central Bank's Pix figures (about 6 billion Pix a month for some 150 million people: ~1.3 a person a
  day, counted once by the payer and once by the payee) and card use of the same order: 0.6 Pix sent
  (to other banks, through the PSP), 0.6 Pix received (a deposit charge paid from another bank, confirmed by
  the PSP's webhook), 0.2 P2P, 0.1 boletos (validated, then paid) and 1.0 card purchase (the network's
  authorization; CAPTURE_SHARE, 95 %, captured). Each app action starts with a balance read.
  The bank's peak hour is taken as 10 % of its day too.

So the peak hour at `--scale 1` is 1,000 rides (80,000 location reports), 1,200 Pix sent, 1,200 Pix
received, 400 P2P, 200 boletos and 2,000 card authorizations; `--scale` multiplies every count, and the
hour is compressed into `--seconds` (a job of 20 minutes lasts 20 minutes / (3600 / seconds)).

Machines for the day: the platform's CPU (both API instances, the worker, the database's backends; not the
PSP sandbox nor the load generator, which stand for the outside world) divided by the rides paid is the
CPU one ride costs together with its share of the bank's traffic, since the mix keeps the day's
proportions. The peak hour needs 1,000 x that / 3,600 s cores; machines of this size (os.cpu_count()
cores) run at most TARGET_UTILISATION (60 %) busy, so machines = ceil(peak cores / (cores x 0.6)). The
same figure read the other way: one machine carries cores x 0.6 / (CPU s a ride) rides a second at peak,
that x 3,600 / 0.10 rides a day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

DAY_RIDES = 10_000
PEAK_SHARE = 0.10
"""The peak hour's share of the day's rides (and of the bank's day)."""
BANK_CUSTOMERS = 20_000
PER_CUSTOMER_DAY = {"pix_out": 0.6, "pix_in": 0.6, "p2p": 0.2, "boleto": 0.1, "card": 1.0}
CAPTURE_SHARE = 0.95
REPORT_EVERY_S = 15
JOB_MINUTES = 20
PICKUP_MINUTES = 5
TARGET_UTILISATION = 0.6
HOUR_S = 3600
P99_GOAL_MS = 500
"""The mobility spec's SLO: p99 under 500 ms."""


def peak_hour(scale: float) -> dict[str, int]:
    """How many of each arrival the peak hour has at `scale` (rides and the bank's actions)."""
    counts = {"ride": DAY_RIDES * PEAK_SHARE * scale}
    for kind, per_day in PER_CUSTOMER_DAY.items():
        counts[kind] = BANK_CUSTOMERS * per_day * PEAK_SHARE * scale
    return {kind: max(1, round(n)) for kind, n in counts.items()}


def reports_per_ride() -> tuple[int, int]:
    """A ride's location reports before `arrived` and during the trip."""
    before = PICKUP_MINUTES * 60 // REPORT_EVERY_S
    return before, JOB_MINUTES * 60 // REPORT_EVERY_S - before


@dataclass(frozen=True)
class Compression:
    """The simulated hour squeezed into `seconds` of wall time."""

    seconds: float

    @property
    def factor(self) -> float:
        return HOUR_S / self.seconds

    @property
    def job_s(self) -> float:
        """A ride's job (to the pickup and the trip) in wall seconds."""
        return JOB_MINUTES * 60 / self.factor

    def concurrent_rides(self, rides: int) -> float:
        """Rides under way at once on average (arrivals spread evenly over the run)."""
        return rides * self.job_s / self.seconds


def schedule(counts: dict[str, int], seconds: float, rng: random.Random) -> list[tuple[float, str]]:
    """Each arrival at a uniformly random moment of the run (a Poisson process, given its count), in order."""
    arrivals = [(rng.uniform(0, seconds), kind) for kind, n in counts.items() for _ in range(n)]
    return sorted(arrivals)


def percentiles_ms(latencies_s: list[float]) -> dict[str, float]:
    """p50, p95 and p99 (nearest rank) in milliseconds."""
    ordered = sorted(latencies_s)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def route_figures(samples: dict[str, list[tuple[float, int | str]]], wall_s: float) -> dict[str, dict]:
    """Per route template: requests/s over `wall_s`, percentiles, and errors by status (4xx, 5xx, or the
    name of the client's exception when no answer came)."""
    figures = {}
    for route, seen in sorted(samples.items()):
        errors: dict[str, int] = {}
        for _, status in seen:
            if isinstance(status, str) or status >= 400:
                errors[str(status)] = errors.get(str(status), 0) + 1
        figures[route] = {
            "requests": len(seen),
            "requests_per_s": round(len(seen) / wall_s, 2),
            **percentiles_ms([latency for latency, _ in seen]),
            "errors": errors,
        }
    return figures


def slow_routes(figures: dict[str, dict], p99_ms: float = P99_GOAL_MS) -> list[str]:
    """The routes whose p99 misses the mobility spec's goal."""
    return [route for route, seen in figures.items() if seen["p99_ms"] >= p99_ms]


def machines_needed(cpu_s_per_ride: float, cores: int) -> dict[str, float | int]:
    """Machines of `cores` cores the day's peak hour needs at TARGET_UTILISATION, and the arithmetic."""
    peak_rides = DAY_RIDES * PEAK_SHARE
    peak_cores = peak_rides * cpu_s_per_ride / HOUR_S
    usable = cores * TARGET_UTILISATION
    return {
        "day_rides": DAY_RIDES,
        "peak_hour_share": PEAK_SHARE,
        "peak_hour_rides": round(peak_rides),
        "cpu_ms_per_ride_with_its_bank_share": round(cpu_s_per_ride * 1000, 1),
        "peak_cores": round(peak_cores, 3),
        "cores_per_machine": cores,
        "target_utilisation": TARGET_UTILISATION,
        "machines": max(1, math.ceil(peak_cores / usable)),
        "rides_per_s_one_machine_carries": round(usable / cpu_s_per_ride, 2),
        "day_rides_one_machine_carries": round(usable / cpu_s_per_ride * HOUR_S / PEAK_SHARE),
    }
