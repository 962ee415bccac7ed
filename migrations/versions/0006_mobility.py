"""Mobility: passengers, drivers, vehicles, locations, rides, offers, accept attempts.

Revision ID: 0006
Revises: 0005

`driver_locations` holds one row per driver (the last position) with the H3 cell (resolution 8, as
`laura.mobility.matching.geo.cell_of` computes it, stored as its 64-bit integer) and an `available` flag
(online, approved, not on a trip) kept by the service, so the ring search is one index scan on
(category, h3_cell) over the available drivers; `version` grows with every write of the row, so the Redis
GEO mirror (written after commit, in any order) keeps only the newest state. `location_updates` is the append-only trail, one
partition per UTC day; `mobility_ensure_location_partitions(first, days)` creates missing ones (the
migration makes today -3 .. +7, a periodic job keeps a week ahead and, with
`mobility_drop_location_partitions_before(day)`, drops the days past retention).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE passengers (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL UNIQUE REFERENCES users(id),
            full_name varchar(120) NOT NULL,
            cpf varchar(11) UNIQUE,
            average_rating numeric(3,2),
            rating_count integer NOT NULL DEFAULT 0,
            rating_total integer NOT NULL DEFAULT 0,
            total_rides integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE drivers (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL UNIQUE REFERENCES users(id),
            full_name varchar(120) NOT NULL,
            cpf varchar(11) NOT NULL UNIQUE,
            cnh_number varchar(11) NOT NULL UNIQUE,
            pix_key varchar(77) NOT NULL,
            pix_key_type varchar(8) NOT NULL,
            approval_status varchar(20) NOT NULL DEFAULT 'PENDING_APPROVAL'
                CHECK (approval_status IN ('PENDING_APPROVAL','APPROVED','REJECTED')),
            rejection_reason text,
            reviewed_at timestamptz,
            reviewed_by uuid REFERENCES users(id),
            online boolean NOT NULL DEFAULT false,
            current_ride_id uuid,
            average_rating numeric(3,2),
            rating_count integer NOT NULL DEFAULT 0,
            rating_total integer NOT NULL DEFAULT 0,
            total_rides integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_drivers_pending ON drivers (created_at) WHERE approval_status = 'PENDING_APPROVAL';
        CREATE INDEX ix_drivers_online ON drivers (id) WHERE online;

        CREATE TABLE vehicles (
            id uuid PRIMARY KEY,
            driver_id uuid NOT NULL REFERENCES drivers(id),
            license_plate varchar(7) NOT NULL UNIQUE,
            brand varchar(40) NOT NULL,
            model varchar(60) NOT NULL,
            year integer NOT NULL,
            category varchar(16) NOT NULL CHECK (category IN ('standard','comfort','premium','xl')),
            status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive')),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX ux_vehicles_one_active ON vehicles (driver_id) WHERE status = 'active';

        CREATE TABLE driver_locations (
            driver_id uuid PRIMARY KEY REFERENCES drivers(id),
            category varchar(16) NOT NULL,
            h3_cell bigint NOT NULL,
            lat double precision NOT NULL,
            lon double precision NOT NULL,
            heading real,
            speed real,
            accuracy real,
            recorded_at timestamptz NOT NULL,
            available boolean NOT NULL DEFAULT false,
            version bigint NOT NULL DEFAULT 1
        );
        CREATE INDEX ix_driver_locations_search
            ON driver_locations (category, h3_cell) INCLUDE (lat, lon, recorded_at) WHERE available;

        CREATE TABLE location_updates (
            driver_id uuid NOT NULL,
            ride_id uuid,
            lat double precision NOT NULL,
            lon double precision NOT NULL,
            heading real,
            speed real,
            accuracy real,
            recorded_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (driver_id, recorded_at)
        ) PARTITION BY RANGE (recorded_at);
        CREATE INDEX ix_location_updates_ride ON location_updates (ride_id, recorded_at) WHERE ride_id IS NOT NULL;

        CREATE FUNCTION mobility_ensure_location_partitions(first_day date, days integer) RETURNS integer
        LANGUAGE plpgsql AS $$
        DECLARE
            day date;
            created integer := 0;
            name text;
        BEGIN
            FOR i IN 0 .. days - 1 LOOP
                day := first_day + i;
                name := 'location_updates_' || to_char(day, 'YYYYMMDD');
                IF to_regclass(name) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF location_updates FOR VALUES FROM (%L) TO (%L)',
                        name, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC')
                    );
                    created := created + 1;
                END IF;
            END LOOP;
            RETURN created;
        END $$;

        CREATE FUNCTION mobility_drop_location_partitions_before(cutoff date) RETURNS SETOF text
        LANGUAGE plpgsql AS $$
        DECLARE
            name text;
        BEGIN
            FOR name IN
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'location_updates'::regclass
                   AND c.relname ~ '^location_updates_[0-9]{8}$'
                   AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
                 ORDER BY c.relname
            LOOP
                EXECUTE format('DROP TABLE %I', name);
                RETURN NEXT name;
            END LOOP;
        END $$;

        SELECT mobility_ensure_location_partitions((now() AT TIME ZONE 'UTC')::date - 3, 11);

        CREATE TABLE rides (
            id uuid PRIMARY KEY,
            passenger_id uuid NOT NULL REFERENCES passengers(id),
            driver_id uuid REFERENCES drivers(id),
            status varchar(20) NOT NULL CHECK (status IN (
                'REQUESTED','SEARCHING','OFFERED','ACCEPTED','DRIVER_ARRIVING','DRIVER_ARRIVED','IN_PROGRESS',
                'COMPLETED','PAYMENT_PENDING','PAID','CANCELED','EXPIRED')),
            category varchar(16) NOT NULL CHECK (category IN ('standard','comfort','premium','xl')),
            pickup_lat numeric(10,8) NOT NULL,
            pickup_lon numeric(11,8) NOT NULL,
            pickup_h3 bigint NOT NULL,
            dropoff_lat numeric(10,8) NOT NULL,
            dropoff_lon numeric(11,8) NOT NULL,
            estimated_distance_m integer NOT NULL,
            estimated_duration_s integer NOT NULL,
            surge_multiplier numeric(3,1) NOT NULL,
            estimated_fare numeric(10,2) NOT NULL,
            final_fare numeric(10,2),
            final_distance_m integer,
            final_duration_s integer,
            fare_basis varchar(8) CHECK (fare_basis IN ('trail','estimate')),
            cancellation_fee numeric(10,2),
            canceled_by varchar(16),
            cancel_reason text,
            cancellation_rule varchar(24),
            expire_reason varchar(24),
            dispatch_round integer NOT NULL DEFAULT 0,
            dispatch_round_base integer NOT NULL DEFAULT 0,
            version integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL DEFAULT now(),
            status_changed_at timestamptz NOT NULL DEFAULT now(),
            searching_at timestamptz,
            offered_at timestamptz,
            accepted_at timestamptz,
            arriving_at timestamptz,
            arrived_at timestamptz,
            started_at timestamptz,
            completed_at timestamptz,
            paid_at timestamptz,
            canceled_at timestamptz,
            expired_at timestamptz
        );
        CREATE INDEX ix_rides_status_created ON rides (status, created_at);
        CREATE INDEX ix_rides_created ON rides (created_at);
        CREATE INDEX ix_rides_driver ON rides (driver_id, created_at) WHERE driver_id IS NOT NULL;
        CREATE INDEX ix_rides_passenger ON rides (passenger_id, created_at);
        CREATE INDEX ix_rides_waiting ON rides (category, pickup_h3) WHERE status IN ('REQUESTED','SEARCHING','OFFERED');
        CREATE UNIQUE INDEX ux_rides_one_active_per_passenger ON rides (passenger_id)
            WHERE status IN ('REQUESTED','SEARCHING','OFFERED','ACCEPTED','DRIVER_ARRIVING','DRIVER_ARRIVED','IN_PROGRESS');

        ALTER TABLE drivers ADD CONSTRAINT fk_drivers_current_ride FOREIGN KEY (current_ride_id) REFERENCES rides(id);

        CREATE TABLE ride_offers (
            id uuid PRIMARY KEY,
            ride_id uuid NOT NULL REFERENCES rides(id),
            driver_id uuid NOT NULL REFERENCES drivers(id),
            round integer NOT NULL,
            distance_m integer NOT NULL,
            eta_s integer NOT NULL,
            offered_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            response varchar(10) CHECK (response IN ('ACCEPTED','REJECTED','EXPIRED','CANCELED')),
            responded_at timestamptz,
            UNIQUE (ride_id, driver_id)
        );
        CREATE INDEX ix_ride_offers_expires ON ride_offers (expires_at) WHERE response IS NULL;
        CREATE INDEX ix_ride_offers_driver ON ride_offers (driver_id, offered_at);

        CREATE TABLE ride_accept_attempts (
            id uuid PRIMARY KEY,
            ride_id uuid NOT NULL REFERENCES rides(id),
            driver_id uuid NOT NULL REFERENCES drivers(id),
            idempotency_key varchar(255) NOT NULL,
            status varchar(8) NOT NULL CHECK (status IN ('PENDING','SUCCESS','FAILED')),
            failure_reason text,
            response_status integer,
            response_body jsonb,
            attempt_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            UNIQUE (driver_id, idempotency_key)
        );
        CREATE INDEX ix_ride_accept_attempts_ride ON ride_accept_attempts (ride_id);

        CREATE TABLE ride_ratings (
            id uuid PRIMARY KEY,
            ride_id uuid NOT NULL REFERENCES rides(id),
            rater_role varchar(16) NOT NULL CHECK (rater_role IN ('passenger','driver')),
            rater_user_id uuid NOT NULL REFERENCES users(id),
            stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
            comment varchar(500),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (ride_id, rater_role)
        );

        CREATE TABLE ride_cancellation_counters (
            user_id uuid NOT NULL REFERENCES users(id),
            role varchar(16) NOT NULL CHECK (role IN ('passenger','driver')),
            total integer NOT NULL DEFAULT 0,
            after_acceptance integer NOT NULL DEFAULT 0,
            with_fee integer NOT NULL DEFAULT 0,
            last_canceled_at timestamptz NOT NULL,
            PRIMARY KEY (user_id, role)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE ride_cancellation_counters;
        DROP TABLE ride_ratings;
        DROP TABLE ride_accept_attempts;
        DROP TABLE ride_offers;
        ALTER TABLE drivers DROP CONSTRAINT fk_drivers_current_ride;
        DROP TABLE rides;
        DROP TABLE location_updates;
        DROP FUNCTION mobility_drop_location_partitions_before(date);
        DROP FUNCTION mobility_ensure_location_partitions(date, integer);
        DROP TABLE driver_locations;
        DROP TABLE vehicles;
        DROP TABLE drivers;
        DROP TABLE passengers;
        """
    )
