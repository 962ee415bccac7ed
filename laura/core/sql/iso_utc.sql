-- iso_utc(t): the text Python's datetime.isoformat() gives for a UTC time, microseconds only when there
-- are any. Statements that write answers or audit rows in SQL (ride_wire, audit_canonical) need times
-- spelled exactly as the Python side spells them, or replays and audit hashes would differ.
--
--   SELECT iso_utc('2026-01-02 03:04:05+00');         -- 2026-01-02T03:04:05+00:00
--   SELECT iso_utc('2026-01-02 03:04:05.000120+00');  -- 2026-01-02T03:04:05.000120+00:00
--   SELECT iso_utc(NULL);                             -- NULL
CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN date_part('microseconds', p)::bigint % 1000000 <> 0
                   THEN to_char(p AT TIME ZONE 'UTC', '.US') ELSE '' END
           || '+00:00'
$$;
