"""The Redis mirror of the available drivers: one GEO set per category plus each driver's exact position.

PostgreSQL stays the truth; this mirror is written after each commit and answers the nearest-drivers
query without touching the database. Writes carry the `driver_locations.version` of the row they copy
and a Lua script keeps only the newest, so after-commit writes landing out of order still converge on
the committed state. Keys share one hash tag (`{mobility}` by default, `mobility_redis_namespace`) so the
script works on Redis Cluster too.

GEOSEARCH measures with Redis's own haversine (a slightly larger Earth radius) over positions rounded to
its 52-bit geohash (about 0.6 m); candidates are re-ranked with `nearest_drivers` on the exact positions
kept in the hash, and the search widens until the bound in `nearest` proves no unread driver could rank.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from laura.mobility.matching.nearest import DriverPosition, Match, nearest_drivers
from laura.mobility.matching.repository import StoredPosition

try:
    from redis.exceptions import RedisError as GeoIndexUnavailable
except ImportError:  # redis is an optional extra: without it no index exists to fail

    class GeoIndexUnavailable(Exception):  # type: ignore[no-redef]
        """Never raised: stands in for RedisError when redis is not installed."""


# |Redis distance - our haversine| <= 0.03% (Earth radii 6372797.6 m vs 6371008.8 m) + ~1 m of geohash
# rounding at both ends; these margins hold that with room.
_RELATIVE_MARGIN = 0.001
_ABSOLUTE_MARGIN_M = 2.0
_FIRST_RADIUS_M = 400.0

_PUT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)'))
  if version >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1],
  ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[7])
if ARGV[3] == '1' then
  redis.call('GEOADD', KEYS[2], ARGV[5], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _args(row: StoredPosition) -> list:
    available = "1" if row.available else "0"
    return [
        str(row.driver_id),
        row.version,
        available,
        repr(row.lat),
        repr(row.lon),
        row.category,
        _micros(row.recorded_at),
    ]


class RedisGeoIndex:
    """Available drivers by category in Redis GEO sets; `put` mirrors one committed `driver_locations` row."""

    def __init__(self, redis: Any, namespace: str = "mobility") -> None:
        """`redis`: a `redis.asyncio.Redis` without decoded responses (members and values are bytes)."""
        self.redis = redis
        self.prefix = f"{{{namespace}}}:drivers"
        self.positions_key = f"{self.prefix}:positions"
        self._put = redis.register_script(_PUT)

    def geo_key(self, category: str) -> str:
        """The GEO set of one category's available drivers."""
        return f"{self.prefix}:geo:{category}"

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
        row = StoredPosition(driver_id, category, lat, lon, recorded_at, available, version)
        return bool(await self._put(keys=[self.positions_key, self.geo_key(category)], args=_args(row)))

    async def put_many(self, rows: Iterable[StoredPosition], *, chunk: int = 5000) -> int:
        """`put` for many position rows, pipelined in chunks (rebuilding the mirror); how many were sent."""
        sent = 0
        batch: list[StoredPosition] = []
        for row in [*rows, None]:
            if row is not None:
                batch.append(row)
            if batch and (row is None or len(batch) >= chunk):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for item in batch:
                        await self._put(
                            keys=[self.positions_key, self.geo_key(item.category)],
                            args=_args(item),
                            client=pipe,
                        )
                    await pipe.execute()
                sent += len(batch)
                batch = []
        return sent

    async def clear(self, categories: Iterable[str]) -> None:
        """Forget everything (before a rebuild from the database)."""
        await self.redis.delete(self.positions_key, *(self.geo_key(c) for c in categories))

    async def _positions(self, members: list[bytes]) -> list[DriverPosition]:
        values = await self.redis.hmget(self.positions_key, members) if members else []
        found = []
        for member, value in zip(members, values):
            if value is None:
                continue
            _version, available, lat, lon, category, micros = value.decode().split(" ")
            if available == "1":
                recorded = _EPOCH + timedelta(microseconds=int(micros))
                found.append(
                    DriverPosition(uuid.UUID(member.decode()), float(lat), float(lon), category, recorded)
                )
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

        Reads every member within a small radius, re-ranks them exactly, and widens the radius (x3) until
        the limit-th match is closer than the radius read minus the margins: no unread driver could then
        rank or tie. A dense centre is answered from a few dozen members, a sparse suburb in a few reads.
        """
        excluded = set(exclude)
        reach = radius_m * (1 + _RELATIVE_MARGIN) + _ABSOLUTE_MARGIN_M
        radius = min(reach, _FIRST_RADIUS_M)
        while True:
            members = await self.redis.geosearch(
                self.geo_key(category), longitude=pickup[1], latitude=pickup[0], radius=radius, unit="m"
            )
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
            if radius >= reach:
                return best
            if (
                len(best) == limit
                and best[-1].distance_m < radius * (1 - _RELATIVE_MARGIN) - _ABSOLUTE_MARGIN_M
            ):
                return best
            radius = min(reach, radius * 3)
