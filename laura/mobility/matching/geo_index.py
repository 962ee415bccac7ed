"""The Redis mirror of the available drivers: one GEO set per category plus each driver's exact position.

PostgreSQL stays the truth; this mirror is written after each commit and answers the nearest-drivers
query without touching the database. Writes carry the `driver_locations.version` of the row they copy
and a Lua script keeps only the newest, so after-commit writes landing out of order still converge on
the committed state. Keys share the `{mobility}` hash tag so the script works on Redis Cluster too.

GEOSEARCH ranks by Redis's own haversine (a slightly larger Earth radius) over positions rounded to its
52-bit geohash (about 0.6 m); candidates are re-ranked with `nearest_drivers` on the exact positions
kept in the hash, and the search widens until the bound below proves no unread driver could rank.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from laura.mobility.matching.nearest import DriverPosition, Match, nearest_drivers

try:
    from redis.exceptions import RedisError as GeoIndexUnavailable
except ImportError:  # redis is an optional extra: without it no index exists to fail

    class GeoIndexUnavailable(Exception):  # type: ignore[no-redef]
        """Never raised: stands in for RedisError when redis is not installed."""

_PREFIX = "{mobility}:drivers"
_POSITIONS = f"{_PREFIX}:positions"
# |Redis distance - our haversine| <= 0.03% (Earth radii 6372797.6 m vs 6371008.8 m) + ~1 m of geohash
# rounding at both ends; these margins hold that with room.
_RELATIVE_MARGIN = 0.001
_ABSOLUTE_MARGIN_M = 2.0

_PUT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)'))
  if version >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6]
  .. ' ' .. ARGV[7])
if ARGV[3] == '1' then
  redis.call('GEOADD', KEYS[2], ARGV[5], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


def _geo_key(category: str) -> str:
    return f"{_PREFIX}:geo:{category}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


class RedisGeoIndex:
    """Available drivers by category in Redis GEO sets; `put` mirrors one committed `driver_locations` row."""

    def __init__(self, redis) -> None:  # type: ignore[no-untyped-def]
        self.redis = redis
        self._put = redis.register_script(_PUT)

    async def put(
        self,
        *,
        driver_id: uuid.UUID,
        category: str,
        lat: float,
        lon: float,
        recorded_at: datetime,
        available: bool,
        version: int,
    ) -> bool:
        """Mirror a position row (added to its category's GEO set when available, removed otherwise).

        False when Redis already holds a newer version of the driver.
        """
        args = [str(driver_id), version, "1" if available else "0", repr(lat), repr(lon), category, _micros(recorded_at)]
        return bool(await self._put(keys=[_POSITIONS, _geo_key(category)], args=args))

    async def clear(self, categories: Iterable[str]) -> None:
        """Forget everything (before a rebuild from the database)."""
        await self.redis.delete(_POSITIONS, *(_geo_key(c) for c in categories))

    async def _positions(self, members: list[bytes]) -> list[DriverPosition]:
        values = await self.redis.hmget(_POSITIONS, members) if members else []
        found = []
        for member, value in zip(members, values):
            if value is None:
                continue
            _version, available, lat, lon, category, micros = value.decode().split(" ")
            if available == "1":
                recorded = _EPOCH + timedelta(microseconds=int(micros))
                found.append(DriverPosition(uuid.UUID(member.decode()), float(lat), float(lon), category, recorded))
        return found

    async def nearest(
        self,
        pickup: tuple[float, float],
        *,
        limit: int,
        radius_m: float,
        category: str,
        now: datetime,
        max_age_s: float,
        avg_speed_kmh: float,
        exclude: Iterable[uuid.UUID] = (),
    ) -> list[Match]:
        """The same answer as `nearest_drivers` over every available driver of `category`, from Redis.

        Asks GEOSEARCH for the `count` nearest by Redis's distance and re-ranks them exactly; when the
        limit-th exact match is closer than the count-th Redis distance minus the margins, no driver
        beyond could rank (nor tie), else the count grows.
        """
        excluded = set(exclude)
        reach = radius_m * (1 + _RELATIVE_MARGIN) + _ABSOLUTE_MARGIN_M
        count = 2 * limit + len(excluded) + 8
        while True:
            hits = await self.redis.geosearch(
                _geo_key(category),
                longitude=pickup[1],
                latitude=pickup[0],
                radius=reach,
                unit="m",
                sort="ASC",
                count=count,
                withdist=True,
            )
            members = [member for member, _ in hits]
            candidates = [p for p in await self._positions(members) if p.driver_id not in excluded]
            best = nearest_drivers(
                pickup,
                candidates,
                limit=limit,
                radius_m=radius_m,
                category=category,
                now=now,
                max_age_s=max_age_s,
                avg_speed_kmh=avg_speed_kmh,
            )
            if len(hits) < count:
                return best
            bound = float(hits[-1][1]) * (1 - _RELATIVE_MARGIN) - _ABSOLUTE_MARGIN_M
            if len(best) == limit and best[-1].distance_m < bound:
                return best
            count *= 4
