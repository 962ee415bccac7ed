"""Dependencies every mobility router shares: the Redis GEO mirror (when Redis is configured) and settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.settings import Settings


async def _geo_index(request: Request) -> RedisGeoIndex | None:
    state = request.app.state
    if state.redis is None:
        return None
    index = getattr(state, "mobility_geo_index", None)
    if index is None or index.redis is not state.redis:
        index = state.mobility_geo_index = RedisGeoIndex(state.redis, state.settings.mobility_redis_namespace)
    return index


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


GeoIndexDep = Annotated[RedisGeoIndex | None, Depends(_geo_index)]
SettingsDep = Annotated[Settings, Depends(_settings)]
