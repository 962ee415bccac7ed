"""Dependencies every mobility router shares: who may call (drivers and passengers by role; admins pass every
role check), the Redis GEO mirror (when Redis is configured) and settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.identity.deps import require_caller_role, require_role
from laura.identity.service import Caller, Principal
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.settings import Settings

DriverUser = Annotated[Principal, Depends(require_role("driver"))]
PassengerUser = Annotated[Principal, Depends(require_role("passenger"))]
DriverCaller = Annotated[Caller, Depends(require_caller_role("driver"))]
"""A driver as the access token says, with no query: for a route whose one statement checks the session."""


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
