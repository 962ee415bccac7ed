CREATE OR REPLACE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Appends one row chained to the head of its chain. The log is split into a few independent
-- chains so that audited transactions do not all queue behind one lock until they commit (which
-- would also defeat group commit); the advisory lock orders the appenders of one chain until
-- they commit, and each statement of a VOLATILE function sees rows committed while it waited.
CREATE OR REPLACE FUNCTION audit_append(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text,
    p_request_id text, p_canonical text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_prev text;
    v_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7426002, p_chain);
    SELECT hash INTO v_prev FROM audit_logs WHERE chain = p_chain ORDER BY id DESC LIMIT 1;
    INSERT INTO audit_logs (chain, occurred_at, actor_id, action, resource_type, resource_id, old_values,
                            new_values, ip, user_agent, request_id, prev_hash, hash)
    VALUES (p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id, p_old, p_new, p_ip,
            p_user_agent, p_request_id, v_prev,
            encode(sha256(convert_to(coalesce(v_prev, '') || p_canonical, 'UTF8')), 'hex'))
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;

