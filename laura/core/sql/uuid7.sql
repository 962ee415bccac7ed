-- uuid7(): a time-ordered UUID (RFC 9562 version 7), for ids minted inside SQL, like
-- laura.core.models.uuid7 in Python.
--
-- Why here: PostgreSQL has no generator before version 18, and the extensions that add one are not on
-- the embedded server. 48 bits of Unix milliseconds are laid over a random v4 UUID, and the version bits
-- are set to 7 (0100 -> 0111: bits 52 and 53), so ids sort by creation time and index pages stay local.
--
--   SELECT uuid7();  -- 0190f5c4-9b1e-7c3a-8f5d-...
CREATE OR REPLACE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                      FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
