-- Python's datetime.isoformat() of a UTC time: microseconds only when there are any.
CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN date_part('microseconds', p)::bigint % 1000000 <> 0
                   THEN to_char(p AT TIME ZONE 'UTC', '.US') ELSE '' END
           || '+00:00'
$$;

