"""A P2P transfer as one statement: the session check, the idempotency claim, the checks, the ledger posting
and every row the transfer writes, in one autocommit call.

Revision ID: 0012
Revises: 0011

A P2P used to cost seven round trips inside BEGIN ... COMMIT (the session check, the claim, the checks,
the posting, the batched writes), each a wake-up of two processes on both sides of a socket.
`bank_p2p_send` does the same work, in the same order, in one call sent in autocommit, so it is its own
transaction: all of it commits or none of it does. A refusal it can see (session ended, key in flight or
already answered, no account, over a limit) is returned as an `outcome` before anything is written; the
ledger's own refusals (insufficient funds) are raised by `ledger_post` and roll everything back.

`auth_session_live` and `idempotency_store` are the session check and the stored answer of every request,
now SQL functions so that this call and the Python side share them.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION auth_session_live(p_session uuid, p_user uuid) RETURNS boolean
        LANGUAGE sql STABLE AS $$
            SELECT EXISTS (
                SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id = p_session AND u.id = p_user AND s.revoked_at IS NULL AND u.is_active)
        $$;

        -- Stores a request's answer; an expired (or unfinished) row of the same key is replaced, a live
        -- one wins (a retry that answered in between keeps its answer).
        CREATE FUNCTION idempotency_store(p_owner text, p_key text, p_hash text, p_status integer,
                                          p_body jsonb, p_now timestamptz, p_expires timestamptz)
        RETURNS void LANGUAGE sql AS $$
            INSERT INTO idempotency_keys AS k
                   (owner, key, request_hash, status, response_status, response_body, locked_until, expires_at)
            VALUES (p_owner, p_key, p_hash, 'completed', p_status, p_body, p_now, p_expires)
            ON CONFLICT (owner, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, status = 'completed',
                   response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                   locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, created_at = now()
             WHERE k.expires_at < p_now OR k.status <> 'completed'
        $$;

        CREATE FUNCTION bank_p2p_send(
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
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION bank_p2p_send;
        DROP FUNCTION idempotency_store;
        DROP FUNCTION auth_session_live;
        """
    )
