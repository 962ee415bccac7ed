CREATE OR REPLACE FUNCTION bank_transfer_parties(p_sender uuid, p_recipient uuid, p_since timestamptz,
                                      p_counted text[], OUT sender_status text,
                                      OUT recipient_status text, OUT sent bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT s.status INTO sender_status FROM bank_accounts s WHERE s.user_id = p_sender FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT r.status INTO recipient_status FROM bank_accounts r WHERE r.user_id = p_recipient;
    SELECT coalesce(sum(t.amount_cents), 0) INTO sent
      FROM transfers t
     WHERE t.user_id = p_sender AND t.status = ANY (p_counted) AND t.created_at >= p_since;
END $$;

CREATE OR REPLACE FUNCTION bank_p2p_send(
    -- who asks: the access token's session and user, checked live here
    p_session uuid, p_sender uuid,
    -- the transfer, its ledger posting and the limits it must keep
    p_transfer_id uuid, p_recipient uuid, p_cents bigint, p_description text, p_now timestamptz,
    p_ledger_tx_id uuid, p_ledger_reference text, p_ledger_reason text, p_ledger_description text,
    p_sender_code text, p_recipient_code text,
    p_day_start timestamptz, p_counted text[], p_max_cents bigint, p_daily_cents bigint,
    -- the Idempotency-Key (NULL: none) and the answer stored with the transfer
    p_idem_owner text, p_idem_key text, p_idem_hash text, p_idem_status integer, p_idem_body jsonb,
    p_idem_expires timestamptz,
    -- the audit row (audit_append's arguments) and the outbox events (one recipient each)
    p_audit_chain smallint, p_audit_occurred_at timestamptz, p_audit_actor uuid, p_audit_action text,
    p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb,
    p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text,
    p_event_types text[], p_event_data text[], p_event_users uuid[],
    OUT outcome text, OUT sent bigint, OUT stored_hash text, OUT stored_status integer,
    OUT stored_body jsonb
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_claim record;
    v_parties record;
    v_tx uuid;
BEGIN
    IF NOT auth_session_live(p_session, p_sender) THEN
        outcome := 'SESSION_ENDED';
        RETURN;
    END IF;
    IF p_idem_key IS NOT NULL THEN
        SELECT * INTO v_claim FROM idempotency_claim(p_idem_owner, p_idem_key, p_now);
        IF NOT v_claim.got THEN
            outcome := 'IN_PROGRESS';
            RETURN;
        END IF;
        IF v_claim.request_hash IS NOT NULL THEN
            outcome := 'ANSWERED';
            stored_hash := v_claim.request_hash;
            stored_status := v_claim.response_status;
            stored_body := v_claim.response_body;
            RETURN;
        END IF;
    END IF;

    SELECT * INTO v_parties FROM bank_transfer_parties(p_sender, p_recipient, p_day_start, p_counted);
    sent := v_parties.sent;
    outcome := CASE
        WHEN v_parties.sender_status IS NULL THEN 'NO_ACCOUNT'
        WHEN v_parties.sender_status <> 'ACTIVE' THEN 'ACCOUNT_NOT_ACTIVE'
        WHEN v_parties.recipient_status IS DISTINCT FROM 'ACTIVE' THEN 'NO_RECIPIENT'
        WHEN p_cents > p_max_cents OR sent + p_cents > p_daily_cents THEN 'OVER_LIMIT'
    END;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;

    SELECT (r.tx).id INTO v_tx
      FROM ledger_post(p_ledger_tx_id, p_ledger_reference, p_ledger_reason, p_ledger_description,
                       'transfer', p_transfer_id::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY[p_sender_code, p_recipient_code], ARRAY['D', 'C'],
                       ARRAY[p_cents, p_cents]) r;
    INSERT INTO transfers (id, user_id, type, amount_cents, fee_cents, status, description,
                           recipient_user_id, created_at, completed_at, ledger_transaction_id)
    VALUES (p_transfer_id, p_sender, 'P2P', p_cents, 0, 'COMPLETED', p_description, p_recipient, p_now,
            p_now, v_tx);
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    SELECT e.type, e.data::jsonb, ARRAY[e.user_id], '{}', p_now
      FROM unnest(p_event_types, p_event_data, p_event_users) WITH ORDINALITY AS e(type, data, user_id, n)
     ORDER BY e.n;
    IF p_idem_key IS NOT NULL THEN
        PERFORM idempotency_store(p_idem_owner, p_idem_key, p_idem_hash, p_idem_status, p_idem_body, p_now,
                                  p_idem_expires);
    END IF;
    -- last: its chain's lock is held from here to the commit
    PERFORM audit_append(p_audit_chain, p_audit_occurred_at, p_audit_actor, p_audit_action,
                         p_audit_resource_type, p_audit_resource_id, p_audit_old, p_audit_new, p_audit_ip,
                         p_audit_user_agent, p_audit_request_id, p_audit_canonical);
    outcome := 'COMPLETED';
END $$;

