-- location_updates (the drivers' trail) has one partition per UTC day. Migration 0006 makes today -3 ..
-- +7; the periodic job of laura.mobility.matching keeps a week ahead and drops the days past retention.

-- mobility_ensure_location_partitions(first_day, days): creates the missing daily partitions of
-- first_day .. first_day + days - 1; returns how many it created.
CREATE OR REPLACE FUNCTION mobility_ensure_location_partitions(first_day date, days integer) RETURNS integer
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

-- mobility_drop_location_partitions_before(cutoff): drops the daily partitions of days before cutoff;
-- returns their names, oldest first.
CREATE OR REPLACE FUNCTION mobility_drop_location_partitions_before(cutoff date) RETURNS SETOF text
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

