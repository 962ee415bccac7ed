"""A simulated day of rides through the anti-fraud rules: detection and false-positive rate per rule; prints
one JSON line.

    python bench/fraud.py [--rides 10000] [--cases 60] [--seed 16]

Every decision is the code that runs in the app: `laura.mobility.fraud.rules` (geofence, impossible
movement, cancellation thresholds, maximum fare, long route, collusion) with the default settings'
`FraudPolicy`, fares from `laura.mobility.rides.pricing.estimate_fare` and final distances measured on
each ride's simulated GPS trail by `trail_distance_m`, as `POST /rides/{id}/complete` does (the estimate
when the trail is too sparse). What is simulated rather than run on PostgreSQL: the rules' state, the
signals counted over 24 hours (refused movements, cancellations) and the pair's completed rides, kept in
memory with the same windows the repository queries use (the whole day is within 24 hours); the tests
cover those queries over HTTP.

The day: `--rides` honest rides over 1,500 drivers and 6,000 passengers in a São Paulo service area,
straight-line distances log-normal around 4 km (0.4-35 km), 4% premium or comfort, 10% surged (up to 2.0x).
Honest traffic is meant to be realistic: driven distance 0.9-1.25x the estimate, 15% of rides with traffic
detours of 1.25-1.5x; GPS reports every 4 s (+-1 s) whose error drifts as GPS error does (Gauss-Markov,
30 s correlation, 8 m; 40 m in street canyons, entered at 1% of reports for 5-15 reports), one outlier of
200-600 m in 5,000 reports, 5% of reports lost, 20% of the time stopped in traffic, 3% of
rides through a tunnel (60-90 s without reports), 5% of phones reporting every 90 s (billed on the
estimate); requests near the area's edge; 0-3 cancellations a user a day (heavy users up to 8); regulars
who ride the same driver twice (400 pairs) or three times (60), and 30 commuter pairs with 4-6 rides over
2 km. Injected, `--cases` of each kind: requests with an end 0.3-30 km outside the area; rides driven 2-4x
the estimate; drivers spoofing their GPS 3-8 times (jumps of 2-50 km); passengers or drivers cancelling
12-40 times; passenger-driver pairs with 4-8 rides of 0.3-1.4 km. The maximum-fare cases are the meter
left running for 24-80 hours, or a city ride padded into 250-400 km (also a long route).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from _common import ROOT  # noqa: F401  (puts the repository on sys.path)

from laura.mobility.fraud import rules
from laura.mobility.fraud.geofence import contains, polygons
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.matching.geo import TrailPoint, haversine_m
from laura.mobility.rides.pricing import estimate_fare, route_estimate, trail_distance_m

# Greater São Paulo, roughly: an irregular polygon (lon, lat) of about 60 km x 45 km.
AREA = {
    "type": "Polygon",
    "coordinates": [
        [[-46.95, -23.75], [-46.75, -23.85], [-46.45, -23.80], [-46.30, -23.62], [-46.35, -23.40],
         [-46.55, -23.30], [-46.80, -23.35], [-46.98, -23.52], [-46.95, -23.75]]
    ],
}  # fmt: skip
CENTRE = (-23.56, -46.64)
DAY = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # midnight in São Paulo
M_PER_DEG = 111_195.0


def offset(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = point
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def inside_point(rng: random.Random, shapes, centre=CENTRE, spread_m=9000.0) -> tuple[float, float]:
    while True:
        p = offset(centre, rng.gauss(0, spread_m), rng.gauss(0, spread_m))
        if contains(shapes, *p):
            return p


@dataclass
class Trip:
    """A ride as it reaches completion: its figures, the truth, and what the rules said."""

    driver: int
    passenger: int
    estimate_m: int
    final_m: int
    billed_on_trail: bool
    fare: Decimal
    completed_at: datetime
    truth: set[str] = field(default_factory=set)


class Day:
    def __init__(self, rng: random.Random, policy: FraudPolicy, shapes) -> None:
        self.rng, self.policy, self.shapes = rng, policy, shapes
        self.refusals: dict[int, int] = defaultdict(int)  # driver -> refused movements today
        self.reports = self.refused_honest_reports = 0
        self.pairs: dict[tuple[int, int], list[rules.PairRide]] = defaultdict(list)
        self.flagged: dict[str, set] = defaultdict(set)
        self.spoofs_left: dict[int, int] = defaultdict(int)

    # -- one ride ---------------------------------------------------------------------------------------
    def trail(self, driver: int, start, end, driven_m: float, at: datetime, *, sparse: bool) -> tuple:
        """GPS reports along pickup -> waypoint -> dropoff (a path `driven_m` long), judged one by one
        against the last stored report as the tracking route does; the stored ones form the trail. A
        spoofing driver's phone jumps 2-50 km away now and then (5% of reports while spoofs are left)."""
        rng = self.rng
        straight = _dist(start, end)
        half = max(driven_m, straight) / 2
        bulge = math.sqrt(max(half**2 - (straight / 2) ** 2, 0.0))
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        north = (end[0] - start[0]) * M_PER_DEG
        east = (end[1] - start[1]) * M_PER_DEG * math.cos(math.radians(mid[0]))
        side = rng.choice((-1, 1)) * bulge / max(math.hypot(north, east), 1.0)
        waypoint = offset(mid, -east * side, north * side)  # off the straight line, square to it
        legs = [(start, waypoint), (waypoint, end)]
        lengths = [_dist(a, b) for a, b in legs]
        total = sum(lengths) or 1.0
        speed = rng.uniform(15, 35) / 3.6
        points: list[TrailPoint] = []
        last: rules.Position | None = None
        done, t = 0.0, at
        tunnel = rng.random() < 0.03
        drift, canyon = [rng.gauss(0, 8.0), rng.gauss(0, 8.0)], 0
        while done < total:
            gap = rng.uniform(80, 95) if sparse else rng.uniform(3, 5)
            moving = rng.random() > 0.2
            done = min(total, done + (speed * gap * rng.uniform(0.6, 1.4) if moving else 0.0))
            t += timedelta(seconds=gap)
            true = _along(legs, lengths, done)
            spoofed = self.spoofs_left[driver] > 0 and rng.random() < 0.05
            if not spoofed and ((tunnel and 0.4 < done / total < 0.5) or rng.random() < 0.05):
                continue  # in the tunnel, or lost on the network
            # GPS error drifts (a Gauss-Markov process, 30 s correlation): 8 m, 40 m in a street canyon
            if canyon == 0 and rng.random() < 0.01:
                canyon = rng.randint(5, 15)
            sigma, canyon = (40.0, canyon - 1) if canyon else (8.0, 0)
            rho = math.exp(-gap / 30.0)
            drift = [rho * d + math.sqrt(1 - rho * rho) * rng.gauss(0, sigma) for d in drift]
            north_m, east_m = drift
            if rng.random() < 1 / 5000:  # a lone outlier fix
                far = rng.uniform(200, 600)
                north_m, east_m = far * math.cos(rng.uniform(0, 6.3)), far * math.sin(rng.uniform(0, 6.3))
            if spoofed:
                self.spoofs_left[driver] -= 1
                far, bearing = rng.uniform(2000, 50000), rng.uniform(0, 2 * math.pi)
                north_m, east_m = far * math.cos(bearing), far * math.sin(bearing)
            seen = offset(true, north_m, east_m)
            report = rules.Position(seen[0], seen[1], t)
            self.reports += 1
            move = rules.impossible_movement(self.policy, last, report)
            if move is not None:
                self.refusals[driver] += rules.movement_counts(self.policy, move)
                self.refused_honest_reports += not spoofed
            else:
                last = report
                points.append(TrailPoint(seen[0], seen[1], t))
        return points, t

    def ride(self, driver: int, passenger: int, start, end, at: datetime, *, ratio: float, truth: set[str],
             category: str = "standard", surge: Decimal = Decimal("1.0"), hours: float = 0.0) -> Trip:  # fmt: skip
        estimate = route_estimate(start, end, avg_speed_kmh=25.0)
        sparse = self.rng.random() < 0.05
        points, ended = self.trail(driver, start, end, estimate.distance_m * ratio, at, sparse=sparse)
        ended += timedelta(hours=hours)  # the meter left running
        measured = trail_distance_m(points, started_at=at, ended_at=ended)
        final = round(measured) if measured is not None else estimate.distance_m
        fare = estimate_fare(final, (ended - at).total_seconds(), category, surge)
        trip = Trip(driver, passenger, estimate.distance_m, final, measured is not None, fare, ended, truth)
        self.judge(trip)
        return trip

    def judge(self, trip: Trip) -> None:
        """What ride_completed decides, plus the movement flag's threshold for the driver so far."""
        policy = self.policy
        if rules.over_max_fare(policy, trip.fare):
            self.flagged["max_fare"].add(id(trip))
        if rules.long_route(policy, trip.final_m, trip.estimate_m, billed_on_trail=trip.billed_on_trail):
            self.flagged["long_route"].add(id(trip))
        pair = self.pairs[(trip.passenger, trip.driver)]
        this = rules.PairRide.of(trip.completed_at, trip.estimate_m, trip.final_m)
        pair.append(this)
        if rules.collusion(policy, trip.completed_at, this, pair) is not None:
            self.flagged["collusion"].add((trip.passenger, trip.driver))
        if rules.movement_flags(policy, self.refusals[trip.driver]):
            self.flagged["impossible_movement"].add(trip.driver)


def _dist(a, b) -> float:
    return haversine_m(a[0], a[1], b[0], b[1])


def _along(legs, lengths, done: float) -> tuple[float, float]:
    for (a, b), length in zip(legs, lengths, strict=True):
        if done <= length or (a, b) == legs[-1]:
            f = min(done / length, 1.0) if length else 1.0
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
        done -= length
    return legs[-1][1]


def rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def run(n_rides: int, cases: int, seed: int) -> dict:
    rng = random.Random(seed)
    shapes = polygons(AREA)
    policy = FraudPolicy(service_area=shapes)
    day = Day(rng, policy, shapes)
    drivers, passengers = 1500, 6000
    spoofers = set(rng.sample(range(drivers), cases))
    for d in spoofers:
        day.spoofs_left[d] = rng.randint(3, 8)
    trips: list[Trip] = []

    def when() -> datetime:
        return DAY + timedelta(seconds=rng.uniform(0, 22 * 3600))

    def honest_ride(driver: int, passenger: int, *, long_commute: bool = False, short: bool = False) -> Trip:
        start = inside_point(rng, shapes)
        km = rng.uniform(0.4, 1.9) if short else min(35.0, max(0.4, rng.lognormvariate(math.log(4.0), 0.7)))
        if long_commute:
            km = rng.uniform(3, 15)
        for _ in range(50):
            end = offset(start, *(km * 1000 * v for v in _unit(rng)))
            if contains(shapes, *end):
                break
        else:
            end = inside_point(rng, shapes)
        ratio = rng.uniform(1.25, 1.5) if rng.random() < 0.15 else rng.uniform(0.9, 1.25)
        category = rng.choices(["standard", "comfort", "premium"], [96, 2, 2])[0]
        surge = Decimal(str(round(rng.uniform(1.1, 2.0), 1))) if rng.random() < 0.1 else Decimal("1.0")
        return day.ride(driver, passenger, start, end, when(), ratio=ratio, truth=set(), category=category,
                        surge=surge)  # fmt: skip

    # honest traffic, regulars and commuters first (they consume part of the rides budget)
    budget = n_rides
    for _ in range(400):
        d, p = rng.randrange(drivers), rng.randrange(passengers)
        trips += [honest_ride(d, p) for _ in range(2)]
    for _ in range(60):
        d, p = rng.randrange(drivers), rng.randrange(passengers)
        trips += [honest_ride(d, p, short=rng.random() < 0.5) for _ in range(3)]
    for _ in range(30):
        d, p = rng.randrange(drivers), rng.randrange(passengers)
        trips += [honest_ride(d, p, long_commute=True) for _ in range(rng.randint(4, 6))]
    budget -= len(trips)
    trips += [honest_ride(rng.randrange(drivers), rng.randrange(passengers)) for _ in range(budget)]
    # spoofers with spoofs left make them on further rides of theirs
    for d in spoofers:
        while day.spoofs_left[d] > 0:
            trips.append(honest_ride(d, rng.randrange(passengers)))

    # injected: fares over the maximum, long routes, collusion
    for i in range(cases):
        start = inside_point(rng, shapes)
        end = inside_point(rng, shapes)
        if i % 2:  # the meter left running for a day or more
            trips.append(day.ride(rng.randrange(drivers), rng.randrange(passengers), start, end, when(),
                                  ratio=1.0, truth={"max_fare"}, hours=rng.uniform(24, 80)))  # fmt: skip
        else:  # a city ride padded into 250-400 km of driving
            ratio = rng.uniform(250_000, 400_000) / max(route_estimate(start, end, 25.0).distance_m, 1)
            trips.append(day.ride(rng.randrange(drivers), rng.randrange(passengers), start, end, when(),
                                  ratio=ratio, truth={"max_fare", "long_route"}))  # fmt: skip
    for _ in range(cases):
        start = inside_point(rng, shapes)
        end = offset(start, *(rng.uniform(1500, 12000) * v for v in _unit(rng)))
        if not contains(shapes, *end):
            end = inside_point(rng, shapes)
        trips.append(day.ride(rng.randrange(drivers), rng.randrange(passengers), start, end, when(),
                              ratio=rng.uniform(2.0, 4.0), truth={"long_route"}))  # fmt: skip
    colluders = []
    for _ in range(cases):
        d, p = rng.randrange(drivers), rng.randrange(passengers)
        colluders.append((p, d))
        base = when() - timedelta(hours=2)
        for k in range(rng.randint(4, 8)):
            start = inside_point(rng, shapes)
            end = offset(start, *(rng.uniform(300, 1400) * v for v in _unit(rng)))
            at = base + timedelta(minutes=25 * k)
            trips.append(day.ride(d, p, start, end, at, ratio=rng.uniform(0.9, 1.2), truth={"collusion"}))

    # geofence: every request of the day, honest ones near the edge included
    edge = [inside_point(rng, shapes, centre=(-23.40, -46.55), spread_m=3000) for _ in range(500)]
    honest_requests = [(inside_point(rng, shapes), inside_point(rng, shapes)) for _ in range(len(trips))]
    honest_requests += [(e, inside_point(rng, shapes)) for e in edge]
    fraud_requests = []
    while len(fraud_requests) < cases:
        a = inside_point(rng, shapes)
        b = offset((-23.30, -46.55), *(rng.uniform(300, 30000) * v for v in _unit(rng)))
        if not contains(shapes, *b):
            fraud_requests.append((a, b) if rng.random() < 0.5 else (b, a))
    geo_fp = sum(bool(rules.outside_service_area(policy, a, b)) for a, b in honest_requests)
    geo_tp = sum(bool(rules.outside_service_area(policy, a, b)) for a, b in fraud_requests)

    # cancellations: the day's count per user through the thresholds
    honest_counts = [min(8, int(rng.expovariate(1.2))) for _ in range(drivers + passengers)]
    abuser_counts = [rng.randint(12, 40) for _ in range(cases)]
    cancel_fp = sum(rules.cancellation_flags(policy, n) for n in honest_counts)
    cancel_tp = sum(rules.cancellation_flags(policy, n) for n in abuser_counts)
    suspended = sum(rules.cancellation_suspends(policy, n) for n in abuser_counts)

    report: dict = {"bench": "fraud", "rides": len(trips), "seed": seed, "rules": {}}
    for rule in ("max_fare", "long_route"):
        fraud = [t for t in trips if rule in t.truth]
        honest = [t for t in trips if rule not in t.truth]
        report["rules"][rule] = {
            "cases": len(fraud),
            "detected": rate(sum(id(t) in day.flagged[rule] for t in fraud), len(fraud)),
            "falsePositive": rate(sum(id(t) in day.flagged[rule] for t in honest), len(honest)),
            "unit": "ride",
            # a trail too sparse to trust bills the estimate: the padding earned the driver nothing
            "missedBilledOnEstimate": sum(
                id(t) not in day.flagged[rule] and not t.billed_on_trail for t in fraud
            ),
        }
    pairs = {pair for pair, rides in day.pairs.items() if len(rides) >= 2} - set(colluders)
    report["rules"]["collusion"] = {
        "cases": len(colluders),
        "detected": rate(sum(p in day.flagged["collusion"] for p in colluders), len(colluders)),
        "falsePositive": rate(sum(p in day.flagged["collusion"] for p in pairs), len(pairs)),
        "unit": "passenger-driver pair with 2+ rides",
        "honestRepeatPairs": len(pairs),
    }
    honest_drivers = set(range(drivers)) - spoofers
    report["rules"]["impossible_movement"] = {
        "cases": len(spoofers),
        "detected": rate(len(day.flagged["impossible_movement"] & spoofers), len(spoofers)),
        "falsePositive": rate(len(day.flagged["impossible_movement"] & honest_drivers), len(honest_drivers)),
        "unit": "driver",
        "honestReportsRefused": rate(day.refused_honest_reports, day.reports),
    }
    report["rules"]["geofence"] = {
        "cases": cases,
        "detected": rate(geo_tp, cases),
        "falsePositive": rate(geo_fp, len(honest_requests)),
        "unit": "ride request",
    }
    report["rules"]["cancellation_abuse"] = {
        "cases": cases,
        "detected": rate(cancel_tp, cases),
        "falsePositive": rate(cancel_fp, len(honest_counts)),
        "suspended": rate(suspended, cases),
        "unit": "user",
    }
    return report


def _unit(rng: random.Random) -> tuple[float, float]:
    a = rng.uniform(0, 2 * math.pi)
    return math.cos(a), math.sin(a)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rides", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    began = time.perf_counter()
    report = run(args.rides, args.cases, args.seed)
    report["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
