"""Budgets and the threshold alerts they sent.

Revision ID: 0025
Revises: 0024

A budget caps what a customer spends in one category per period (WEEKLY, MONTHLY, ANNUAL: the spending
layer's windows). Deleting one is soft (`deleted_at`), so its alerts keep their budget; one budget per
customer, category and period is live at a time (the partial unique index, which also serves the "has
the customer a live budget?" probe the spending writes make).

`budget_alerts` is the record of each alert sent: its primary key (budget, period's first day,
threshold) makes the alert once per budget, threshold and period, whoever inserts it first.

Then, as `laura migrate new-sql` wrote them, snapshots of `laura/bank/budgets/sql/spending_changed.sql`
(`budgets_spending_changed`: a spending write enqueues its customer's budget check) and of
`laura/bank/transfers/sql/p2p_send.sql` (`bank_p2p_send` now calls it for the sender), applied with CREATE
OR REPLACE; the text is kept here, never read from the files, and the downgrade puts back what it replaced.
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLES = """
        CREATE TABLE budgets (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            category varchar(20) NOT NULL,
            limit_cents bigint NOT NULL CHECK (limit_cents > 0),
            period varchar(10) NOT NULL CHECK (period IN ('WEEKLY', 'MONTHLY', 'ANNUAL')),
            alert_thresholds integer[] NOT NULL DEFAULT '{50,75,90}',
            start_date date NOT NULL,
            end_date date,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK (end_date IS NULL OR end_date >= start_date)
        );
        CREATE UNIQUE INDEX budgets_live_category_period ON budgets (user_id, category, period)
            WHERE deleted_at IS NULL;

        CREATE TABLE budget_alerts (
            budget_id uuid NOT NULL REFERENCES budgets (id),
            period_start date NOT NULL,
            threshold integer NOT NULL,
            spent_cents bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (budget_id, period_start, threshold)
        );
"""

UPGRADE = {
    "laura/bank/budgets/sql/spending_changed.sql": r"""-- budgets_spending_changed(p_user_id): called in the transaction of every write that changes what a
-- customer spent (laura.bank.budgets.alerts.schedule_check on the session path; bank_p2p_send, the P2P's
-- one statement). It is SQL so that the one-statement P2P enqueues its check in its own transaction, like
-- every other spending write, and so both paths share one definition. Answers:
--   false  the customer has no live budget (one probe of the partial unique index; nothing written)
--   true   the customer's budget lock is held shared until the commit, and a `bank.budgets_check` job
--          waits for the customer: this one, or one already waiting (the queueing lock coalesces them)
-- The check job takes the same lock exclusively before it reads, so it cannot read spending between
-- this transaction's enqueue and its commit. The job row is inserted as procrastinate_defer_jobs_v1
-- inserts it, with ON CONFLICT on Procrastinate's queueing-lock index instead of its unique_violation.
CREATE OR REPLACE FUNCTION budgets_spending_changed(p_user_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_lock text := 'budgets:' || p_user_id::text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM budgets WHERE user_id = p_user_id AND deleted_at IS NULL) THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtextextended(p_user_id::text, 24));
    INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
    VALUES ('default', 'bank.budgets_check', 0, v_lock, v_lock, jsonb_build_object('user_id', p_user_id::text))
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
    RETURN true;
END $$;
""",
    "laura/bank/transfers/sql/p2p_send.sql": r"""-- A P2P transfer (POST /api/transfers/p2p) as one statement: laura.bank.transfers.service.send_p2p sends
-- bank_p2p_send in autocommit, so the call is its own transaction and costs one round trip instead of seven
-- (docs/PERFORMANCE.md, "transfers").

-- bank_transfer_parties(sender, recipient, since, counted): locks the sender's account row (serializing
-- that customer's transfers and daily limit), reads the recipient's status and sums what the sender moved
-- since `since` in the `counted` statuses. sender_status NULL: the sender has no account (nothing else is
-- read). Why PL/pgSQL: one statement would read the sum with the snapshot taken when it started, before
-- the lock was granted, and miss a transfer that committed meanwhile; a VOLATILE function reads each
-- statement with a fresh snapshot, so the sum that follows the lock sees it, in one round trip.
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

-- bank_transfer_over_limit(cents, sent, max_cents, daily_cents): which limit a transfer of `cents` would
-- break, after `sent` today: OVER_TRANSFER_LIMIT, OVER_DAILY_LIMIT, or NULL. The caps are the caller's
-- (settings). The rule is also laura.bank.transfers.service.enforce_limits, for the transfers that run in
-- Python (Pix, TED); tests/bank/transfers/test_sql_p2p_send.py holds the two to the same verdicts.
CREATE OR REPLACE FUNCTION bank_transfer_over_limit(p_cents bigint, p_sent bigint, p_max_cents bigint,
                                                    p_daily_cents bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_cents > p_max_cents THEN 'OVER_TRANSFER_LIMIT'
        WHEN p_sent + p_cents > p_daily_cents THEN 'OVER_DAILY_LIMIT'
    END
$$;

-- bank_p2p_send(...): the whole P2P, in the order the session path would do it: the session check, the
-- Idempotency-Key's claim, the parties and limits (bank_transfer_parties), the ledger posting, the transfer
-- row, the outbox events, the sender's budget check (budgets_spending_changed), the stored answer and,
-- last, the audit row. Its outcome
-- (laura.bank.transfers.outcomes.P2PSendOutcome):
--   SESSION_ENDED        the access token's session was revoked or its user deactivated (401)
--   IN_PROGRESS          another request holds the Idempotency-Key (409)
--   ANSWERED             the key was answered before: stored_hash/status/body, to replay (or 422)
--   NO_ACCOUNT           the sender has no bank account (404)
--   ACCOUNT_NOT_ACTIVE   the sender's account is blocked or closed (422)
--   NO_RECIPIENT         the recipient has no active account (404)
--   OVER_TRANSFER_LIMIT  the amount is over p_max_cents (422)
--   OVER_DAILY_LIMIT     `sent` (today's sum, returned) plus the amount is over p_daily_cents (422)
--   COMPLETED            everything was written
-- Refusals write nothing; the ledger's own refusal (LD001 insufficient funds) is raised by ledger_post and
-- rolls the whole statement back.
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
        ELSE bank_transfer_over_limit(p_cents, sent, p_max_cents, p_daily_cents)
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
    PERFORM budgets_spending_changed(p_sender);  -- the sender's budgets' check, if they have any
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

""",
}

DOWNGRADE = [
    r"""CREATE OR REPLACE FUNCTION public.bank_p2p_send(p_session uuid, p_sender uuid, p_transfer_id uuid, p_recipient uuid, p_cents bigint, p_description text, p_now timestamp with time zone, p_ledger_tx_id uuid, p_ledger_reference text, p_ledger_reason text, p_ledger_description text, p_sender_code text, p_recipient_code text, p_day_start timestamp with time zone, p_counted text[], p_max_cents bigint, p_daily_cents bigint, p_idem_owner text, p_idem_key text, p_idem_hash text, p_idem_status integer, p_idem_body jsonb, p_idem_expires timestamp with time zone, p_audit_chain smallint, p_audit_occurred_at timestamp with time zone, p_audit_actor uuid, p_audit_action text, p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb, p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text, p_event_types text[], p_event_data text[], p_event_users uuid[], OUT outcome text, OUT sent bigint, OUT stored_hash text, OUT stored_status integer, OUT stored_body jsonb)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
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
        ELSE bank_transfer_over_limit(p_cents, sent, p_max_cents, p_daily_cents)
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
END $function$
""",
    r"""DROP FUNCTION budgets_spending_changed(uuid)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


def upgrade() -> None:
    op.execute(TABLES)
    _run(list(UPGRADE.values()))


def downgrade() -> None:
    _run(DOWNGRADE)
    op.execute("DROP TABLE budget_alerts; DROP TABLE budgets;")
