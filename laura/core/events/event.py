"""The domain event as it travels: the outbox row, the bus message and the WebSocket frame."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """Event data as the wire shows it: ids as strings, UTC timestamps with `Z`, money as JSON numbers.

    Decimal becomes a JSON number exactly as the API's `Money` type serializes it.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Event:
    """A committed event. `id` is its outbox row (what clients see and send back as `since`);
    `position` is its place in publication order, given by the relay."""

    id: int
    type: str
    data: dict[str, Any]
    user_ids: tuple[str, ...]
    roles: tuple[str, ...]
    occurred_at: datetime
    position: int

    @classmethod
    def build(
        cls,
        *,
        id: int,
        type: str,
        data: dict[str, Any],
        user_ids: Iterable[Any],
        roles: Iterable[str],
        occurred_at: datetime,
        position: int,
    ) -> Event:
        return cls(
            id=id,
            type=type,
            data=data,
            user_ids=tuple(str(u) for u in user_ids),
            roles=tuple(roles),
            occurred_at=occurred_at,
            position=position,
        )

    def wire(self) -> dict[str, Any]:
        """The frame a WebSocket client receives."""
        return {"type": self.type, "data": self.data, "id": self.id, "occurredAt": iso_z(self.occurred_at)}

    def bus_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "position": self.position,
            "type": self.type,
            "data": self.data,
            "recipients": {"userIds": list(self.user_ids), "roles": list(self.roles)},
            "occurredAt": iso_z(self.occurred_at),
        }

    @classmethod
    def from_bus(cls, message: dict[str, Any]) -> Event:
        return cls.build(
            id=message["id"],
            type=message["type"],
            data=message["data"],
            user_ids=message["recipients"]["userIds"],
            roles=message["recipients"]["roles"],
            occurred_at=datetime.fromisoformat(message["occurredAt"]),
            position=message["position"],
        )


def reference(event: Event) -> dict[str, Any]:
    """A bus message too large to carry: subscribers fetch the row by id."""
    return {"id": event.id, "position": event.position, "ref": True}
