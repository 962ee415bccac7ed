-- The audit log (laura.audit): append-only, hash-chained rows. Python appends through
-- laura.audit.repository (audit_append with the canonical text it computed); a unit of work written in SQL
-- uses audit_append_row (canonical.sql), which computes that text here.

-- audit_logs_refuse_change(): the trigger behind audit_logs_immutable (BEFORE UPDATE OR DELETE, each row)
-- and audit_logs_no_truncate (BEFORE TRUNCATE): a change to the log is refused with insufficient_privilege,
-- so even the application's own role cannot rewrite history.
CREATE OR REPLACE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- audit_append(chain, ..., canonical): appends one row chained to the head of its chain, with
-- hash = sha256(previous hash || canonical text) (laura.audit.service.chain_hash); returns the row's id.
-- Call it last in a unit of work: its chain's lock is held from here to the commit.
--
-- Why so: the log is split into independent chains (laura.audit.service.AUDIT_CHAINS) so that audited
-- transactions do not all queue behind one lock until they commit (which would also defeat group commit);
-- the advisory lock orders the appenders of one chain until they commit, and each statement of a VOLATILE
-- function sees rows committed while it waited.
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

