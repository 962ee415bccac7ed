"""Every query on passengers, drivers and vehicles; never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Numeric, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetchrow
from laura.core.reader import fields_of
from laura.mobility.people.models import (
    ApprovalStatus,
    Driver,
    Passenger,
    Vehicle,
    VehicleStatus,
    driver_status,
)
from laura.mobility.people.schemas import DriverOut, VehicleOut

_ACTIVE_VEHICLE = (Vehicle.driver_id == Driver.id) & (Vehicle.status == VehicleStatus.ACTIVE)
"""The join of a driver to the vehicle they drive."""

_DRIVER_OUT = (
    "SELECT "
    + ", ".join(f"d.{name}" for name in DriverOut.model_fields if name not in ("status", "vehicle"))
    + ", "
    + ", ".join(f"v.{name} AS vehicle__{name}" for name in VehicleOut.model_fields)
    + " FROM drivers d LEFT JOIN vehicles v ON v.driver_id = d.id AND v.status = $2 WHERE d.user_id = $1"
)
"""A driver's profile with its active vehicle, the columns `DriverOut` shows (`status` is derived)."""


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def passenger_by_user(self, user_id: uuid.UUID) -> Passenger | None:
        return await self.session.scalar(select(Passenger).where(Passenger.user_id == user_id))

    async def passenger(self, passenger_id: uuid.UUID) -> Passenger | None:
        return await self.session.get(Passenger, passenger_id)

    async def driver_by_user(self, user_id: uuid.UUID) -> Driver | None:
        return await self.session.scalar(select(Driver).where(Driver.user_id == user_id))

    async def driver(self, driver_id: uuid.UUID, *, for_update: bool = False) -> Driver | None:
        query = select(Driver).where(Driver.id == driver_id).execution_options(populate_existing=True)
        return await self.session.scalar(query.with_for_update(key_share=True) if for_update else query)

    async def driver_with_vehicle(self, driver_id: uuid.UUID) -> tuple[Driver, Vehicle | None] | None:
        return await self._driver_with_vehicle(Driver.id == driver_id)

    async def driver_out_of_user(self, user_id: uuid.UUID) -> DriverOut | None:
        """The user's driver profile as the API shows it, read through the driver (`core.reader`)."""
        row = await fetchrow(self.session, _DRIVER_OUT, user_id, VehicleStatus.ACTIVE.value)
        if row is None:
            return None
        status = driver_status(row["online"], row["current_ride_id"])
        return DriverOut.model_validate({**fields_of(row), "status": status})

    async def _driver_with_vehicle(
        self, condition: ColumnElement[bool]
    ) -> tuple[Driver, Vehicle | None] | None:
        """The driver and its active vehicle in one query."""
        row = (
            await self.session.execute(
                select(Driver, Vehicle)
                .outerjoin(Vehicle, _ACTIVE_VEHICLE)
                .where(condition)
                .execution_options(populate_existing=True)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def active_vehicle(self, driver_id: uuid.UUID) -> Vehicle | None:
        return await self.session.scalar(
            select(Vehicle).where(Vehicle.driver_id == driver_id, Vehicle.status == VehicleStatus.ACTIVE)
        )

    async def drivers(self, driver_ids: list[uuid.UUID]) -> dict[uuid.UUID, Driver]:
        rows = await self.session.scalars(select(Driver).where(Driver.id.in_(driver_ids)))
        return {d.id: d for d in rows}

    async def driver_taken(self, *, cpf: str, cnh: str) -> tuple[bool, bool]:
        """Whether the CPF and the CNH already belong to some driver."""
        row = (
            await self.session.execute(
                select(
                    func.count().filter(Driver.cpf == cpf),
                    func.count().filter(Driver.cnh_number == cnh),
                ).where((Driver.cpf == cpf) | (Driver.cnh_number == cnh))
            )
        ).one()
        return row[0] > 0, row[1] > 0

    async def plate_taken(self, plate: str) -> bool:
        taken: int = (
            await self.session.execute(select(func.count()).where(Vehicle.license_plate == plate))
        ).scalar_one()
        return taken > 0

    async def pending_drivers(
        self, *, offset: int, limit: int
    ) -> tuple[list[tuple[Driver, Vehicle | None]], int]:
        """Drivers awaiting approval, oldest first, with their vehicle, and how many there are."""
        pending = Driver.approval_status == ApprovalStatus.PENDING_APPROVAL
        count = select(func.count()).select_from(Driver).where(pending)
        total: int = (await self.session.execute(count)).scalar_one()
        rows = await self.session.execute(
            select(Driver, Vehicle)
            .outerjoin(Vehicle, _ACTIVE_VEHICLE)
            .where(pending)
            .order_by(Driver.created_at, Driver.id)
            .offset(offset)
            .limit(limit)
        )
        return [(r[0], r[1]) for r in rows], total

    async def add_rating(self, *, table: str, profile_id: uuid.UUID, stars: int) -> None:
        """Count one more rating and recompute the average in the same statement (no lost update)."""
        models: dict[str, type[Driver | Passenger]] = {"drivers": Driver, "passengers": Passenger}
        model = models[table]
        await self.session.execute(
            update(model)
            .where(model.id == profile_id)
            .values(
                rating_count=model.rating_count + 1,
                rating_total=model.rating_total + stars,
                average_rating=func.round(
                    cast(model.rating_total + stars, Numeric) / (model.rating_count + 1), 2
                ),
            )
        )

    async def count_completed_ride(self, *, passenger_id: uuid.UUID, driver_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Passenger)
            .where(Passenger.id == passenger_id)
            .values(total_rides=Passenger.total_rides + 1)
        )
        await self.session.execute(
            update(Driver).where(Driver.id == driver_id).values(total_rides=Driver.total_rides + 1)
        )

    async def user_ids(
        self, *, passenger_id: uuid.UUID | None = None, driver_ids: list[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The user behind each profile id, for addressing events."""
        found: dict[uuid.UUID, uuid.UUID] = {}
        if passenger_id is not None:
            found[passenger_id] = (
                await self.session.execute(select(Passenger.user_id).where(Passenger.id == passenger_id))
            ).scalar_one()
        if driver_ids:
            rows = await self.session.execute(
                select(Driver.id, Driver.user_id).where(Driver.id.in_(list(driver_ids)))
            )
            found.update({r[0]: r[1] for r in rows})
        return found

    async def counts(self) -> tuple[int, int]:
        """Drivers online, and drivers online with no ride (for the gauges)."""
        row = (
            await self.session.execute(
                select(
                    func.count().filter(Driver.online),
                    func.count().filter(Driver.online & Driver.current_ride_id.is_(None)),
                )
            )
        ).one()
        return row[0], row[1]
