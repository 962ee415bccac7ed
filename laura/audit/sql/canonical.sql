-- The audit row's canonical text in SQL: what laura.audit.service.canonical(row) hashes, written here for
-- units of work that build their audit row in SQL (bank_deposit_credit). tests/audit/test_canonical_sql.py
-- holds it to Python's output on random rows, in a database with a linguistic default collation.

-- audit_canonical_json(value): the text of
-- Python's json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
-- Objects: keys in code point order (COLLATE "C": byte order, which in UTF-8 is code point order),
-- each key and its value joined by ":", the members by ","; arrays in order. Strings (keys too)
-- get PostgreSQL's JSON string escaping, which is Python's: \" \\ \b \f \n \r \t, any other
-- character below U+0020 as \u00xx (lowercase hex), everything else (DEL, non-ASCII, non-BMP)
-- raw. A SQL NULL is written as null, like a JSON null.
-- Numbers are jsonb's text of them, which is Python's only for integers: floats are out of scope
-- (audit values are strings, integers, booleans and null; `_jsonable` turns Decimals into strings).
-- PL/pgSQL rather than SQL: its plans are cached for the session, where a recursive SQL function is
-- planned again at every level of every call (about ten times slower). Scalars inside an object or
-- array are written in place, without a call.
CREATE OR REPLACE FUNCTION audit_canonical_json(p jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(p)
        WHEN 'object' THEN
            RETURN '{' || coalesce((
                SELECT string_agg(to_jsonb(e.key)::text || ':'
                                  || CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                          THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                  ',' ORDER BY e.key COLLATE "C")
                  FROM jsonb_each(p) e), '') || '}';
        WHEN 'array' THEN
            RETURN '[' || coalesce((
                SELECT string_agg(CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                       THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                  ',' ORDER BY e.n)
                  FROM jsonb_array_elements(p) WITH ORDINALITY e(value, n)), '') || ']';
        ELSE
            -- a scalar (string, number, boolean, null) prints alone as JSON; SQL NULL as null
            RETURN coalesce(p::text, 'null');
    END CASE;
END $$;

-- audit_canonical(chain, ...): laura.audit.service.canonical(row) of the row audit_append would store
-- from these arguments. canonical's keys are written out in their sorted order (cheaper than building the object and
-- sorting it); the chain is a number, old and new go through audit_canonical_json, and every other
-- value is a JSON string (the same escaping) or null.
CREATE OR REPLACE FUNCTION audit_canonical(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT '{"action":' || coalesce(to_jsonb(p_action)::text, 'null')
           || ',"actor_id":' || coalesce(to_jsonb(p_actor_id::text)::text, 'null')
           || ',"chain":' || coalesce(p_chain::text, 'null')
           || ',"ip":' || coalesce(to_jsonb(p_ip)::text, 'null')
           || ',"new":' || audit_canonical_json(p_new)
           || ',"occurred_at":' || coalesce(to_jsonb(iso_utc(p_occurred_at))::text, 'null')
           || ',"old":' || audit_canonical_json(p_old)
           || ',"request_id":' || coalesce(to_jsonb(p_request_id)::text, 'null')
           || ',"resource_id":' || coalesce(to_jsonb(p_resource_id)::text, 'null')
           || ',"resource_type":' || coalesce(to_jsonb(p_resource_type)::text, 'null')
           || ',"user_agent":' || coalesce(to_jsonb(p_user_agent)::text, 'null')
           || '}'
$$;

-- audit_append_row(chain, ...): audit_append with the canonical text computed here, for a unit of work
-- that builds its audit row in SQL; the new row's id.
CREATE OR REPLACE FUNCTION audit_append_row(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text
) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT audit_append(p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id,
                        p_old, p_new, p_ip, p_user_agent, p_request_id,
                        audit_canonical(p_chain, p_occurred_at, p_actor_id, p_action,
                                        p_resource_type, p_resource_id, p_old, p_new, p_ip,
                                        p_user_agent, p_request_id))
$$;

