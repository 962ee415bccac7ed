"""Ride refunds owed: money received for a ride that must not pay it again, booked and put up for review

Revision ID: 0035
Revises: 0034

The schema part (written by hand): the ledger account 2300 REEMBOLSOS_A_PAGAR (LIABILITY) that such money
is credited to; `payment_refunds`, one review item per Pix (unique e2eId), OPEN until a person refunds the
payer; `pix_charge_purposes.unapplied_effect`, the function a purpose names for a Pix into one of its
charges that is no longer ACTIVE (pix_apply_received calls it), set for `mobility.ride`.

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/mobility/payments/sql/refund.sql
- laura/mobility/payments/sql/ride_paid.sql
- laura/pix/sql/intake.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/mobility/payments/sql/refund.sql": r"""-- Money received for a ride that must not pay it again: a refund owed to the payer, booked at once and
-- put in front of a person.

-- mobility_ride_refund_due(charge, pix, context, reason): the Pix (p_pix, as Efí sent it: endToEndId,
-- valor; the charge's amount without one) is booked D PIX_A_RECEBER (1300, the PSP holds the money) /
-- C REEMBOLSOS_A_PAGAR (2300, what we owe back), reason 'RIDE_REFUND_DUE', reference
-- 'ride-refund:<e2eId>', on the ride; and a review item for ops, a `payment_refunds` row OPEN (unique by
-- e2eId), which a person closes once the payer has been refunded. Exactly once per e2eId: the intake
-- calls it only for a Pix it has not recorded before, and a replay of the posting (same reference) writes
-- nothing more. `payment.refund_due` tells the passenger.
-- Reasons (laura.mobility.payments.outcomes.RefundReason):
--   ride_already_paid   the charge was paid, but another intent of the ride had paid it (mobility_ride_paid)
--   charge_not_active   a Pix into a charge already PAID, EXPIRED or CANCELLED (mobility_ride_paid_unapplied)
CREATE OR REPLACE FUNCTION mobility_ride_refund_due(p_charge pix_charges, p_pix jsonb, p_context jsonb, p_reason text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_cents bigint := coalesce(round((p_pix ->> 'valor')::numeric * 100)::bigint, p_charge.amount_cents);
    v_intent payment_intents;
    v_replayed boolean;
BEGIN
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'ride-refund:' || v_e2e_id, 'RIDE_REFUND_DUE', 'Pagamento a devolver',
                       'ride', v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY['1300', '2300'], ARRAY['D', 'C'], ARRAY[v_cents, v_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    INSERT INTO payment_refunds (id, e2e_id, ride_id, intent_id, txid, payer_id, amount_cents, reason)
    VALUES (uuid7(), v_e2e_id, v_intent.ride_id, v_intent.id, p_charge.txid, v_intent.payer_id, v_cents, p_reason);
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.refund_due',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'txid', p_charge.txid,
                               'e2eId', v_e2e_id, 'reason', p_reason,
                               'amount', (v_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id], '{}', now());
END $$;

-- mobility_ride_paid_unapplied(charge, pix, context): the "mobility.ride" purpose's unapplied_effect
-- (pix_charge_purposes): pix_apply_received calls it, under the charge's row lock, for a Pix it recorded
-- as flagged / charge_not_active (the charge already PAID, or closed EXPIRED or CANCELLED). The ride is
-- never paid by it: the money is a refund owed.
CREATE OR REPLACE FUNCTION mobility_ride_paid_unapplied(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE sql VOLATILE AS $$
    SELECT mobility_ride_refund_due(p_charge, p_pix, p_context, 'charge_not_active')
$$;
""",
    "laura/mobility/payments/sql/ride_paid.sql": r"""-- The mobility ledger codes (laura.mobility.payments.service.driver_payable_code; the chart of accounts
-- that opens the platform's is migration 0002's, a driver's is opened as their first ride completes).

-- mobility_driver_payable_code(driver): what the platform owes a driver, '2100.<driver id>' (MOTORISTAS_A_PAGAR).
CREATE OR REPLACE FUNCTION mobility_driver_payable_code(p_driver uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '2100.' || p_driver::text
$$;

-- mobility_ride_paid(charge, pix, context): the "mobility.ride" purpose's effect (pix_charge_purposes):
-- pix_apply_received calls it right after a ride's charge became PAID (amount checked), under the
-- charge's row lock, in the statement that records the received Pix (webhook or reconciliation).
--
-- The ride is locked before the intent, as every writer of intents does (laura.mobility.payments), so a
-- payment and a new charge being recorded for the same ride cannot deadlock.
--
-- A ride already paid (another of its intents CONFIRMED: say an old charge still payable at the PSP was
-- paid after a new one) is not paid again: the money is a refund owed (mobility_ride_refund_due,
-- sql/refund.sql, reason 'ride_already_paid') and the intent, if it still waited, EXPIRED. A replay for
-- an intent already CONFIRMED books nothing.
--
-- Otherwise flow 2 of the mobility spec: the fare from PIX_A_RECEBER (1300) to RECEITA_CORRIDAS (4100), reference
-- 'ride:<txid>' (a replay books nothing and returns), then RECEITA_CORRIDAS to COMISSAO_PLATAFORMA (4200,
-- the intent's commission) and to the driver's MOTORISTAS_A_PAGAR account (the rest), reference
-- 'ride-split:<txid>'; a zero share leaves its line out. A share the anti-fraud rules flagged is then held
-- for review (mobility_fraud_hold_share, laura/mobility/fraud/sql/hold_share.sql). The intent becomes
-- CONFIRMED (even one that had expired: its charge was still payable, and paid) and the ride's other
-- PENDING intent, if any, EXPIRED; the ride, if it waits for this payment, PAID (versioned and audited as
-- RIDE_STATUS_CHANGED); payment.confirmed goes to the passenger and the driver. p_pix is the Pix as Efí
-- sent it (endToEndId, valor, horario...).
CREATE OR REPLACE FUNCTION mobility_ride_paid(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_intent payment_intents;
    v_ride rides;
    v_driver_user uuid;
    v_driver_cents bigint;
    v_codes text[] := ARRAY['4100'];
    v_directions text[] := ARRAY['D'];
    v_amounts bigint[] := ARRAY[p_charge.amount_cents];
    v_replayed boolean;
BEGIN
    PERFORM 1 FROM rides r
     WHERE r.id = (SELECT i.ride_id FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid)
       FOR NO KEY UPDATE;
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid FOR UPDATE;
    IF v_intent.status = 'CONFIRMED' THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM payment_intents i
                WHERE i.ride_id = v_intent.ride_id AND i.purpose = v_intent.purpose AND i.status = 'CONFIRMED') THEN
        PERFORM mobility_ride_refund_due(p_charge, p_pix, p_context, 'ride_already_paid');
        UPDATE payment_intents i SET status = 'EXPIRED' WHERE i.id = v_intent.id AND i.status = 'PENDING';
        RETURN;
    END IF;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'ride:' || p_charge.txid, 'RIDE_PAYMENT', 'Corrida paga via Pix', 'ride',
                       v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[], ARRAY['1300', '4100'],
                       ARRAY['D', 'C'], ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    v_driver_cents := p_charge.amount_cents - v_intent.commission_cents;
    IF v_intent.commission_cents > 0 THEN
        v_codes := v_codes || '4200'::text;
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_intent.commission_cents;
    END IF;
    IF v_driver_cents > 0 THEN
        v_codes := v_codes || mobility_driver_payable_code(v_intent.driver_id);
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_driver_cents;
    END IF;
    PERFORM ledger_post(uuid7(), 'ride-split:' || p_charge.txid, 'RIDE_COMMISSION', 'Comissão e repasse da corrida',
                        'ride', v_intent.ride_id::text, v_e2e_id, NULL,
                        array_fill(NULL::uuid, ARRAY[cardinality(v_codes)]), v_codes, v_directions, v_amounts);
    PERFORM mobility_fraud_hold_share(v_intent.ride_id, v_intent.driver_id, v_driver_cents);
    UPDATE payment_intents i SET status = 'CONFIRMED', confirmed_at = now() WHERE i.id = v_intent.id;
    UPDATE payment_intents i SET status = 'EXPIRED'
     WHERE i.ride_id = v_intent.ride_id AND i.purpose = v_intent.purpose AND i.status = 'PENDING';
    UPDATE rides r SET status = 'PAID', paid_at = now(), status_changed_at = now(), version = r.version + 1
     WHERE r.id = v_intent.ride_id AND r.status = 'PAYMENT_PENDING'
    RETURNING * INTO v_ride;
    IF FOUND THEN
        PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), NULL, 'RIDE_STATUS_CHANGED', 'ride',
                                 v_ride.id::text, jsonb_build_object('status', 'PAYMENT_PENDING'),
                                 jsonb_build_object('status', 'PAID', 'version', v_ride.version,
                                                    'actor', 'system', 'reason', 'payment_confirmed'),
                                 p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
    END IF;
    SELECT d.user_id INTO v_driver_user FROM drivers d WHERE d.id = v_intent.driver_id;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.confirmed',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'txid', p_charge.txid,
                               'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id, v_driver_user], '{}', now());
END $$;
""",
    "laura/pix/sql/intake.sql": r"""-- Received Pix (laura.pix.intake): a webhook delivery stored and every Pix of it applied in one autocommit
-- statement (pix_ingest_delivery), and one Pix applied by reconciliation (pix_apply_received). Both are
-- VOLATILE PL/pgSQL: each statement reads with a fresh snapshot, so a charge paid by a concurrent
-- transaction that committed while this one waited for its lock is seen as paid.

-- pix_apply_received(txid, e2e_id, amount, occurred_at, payload, source, delivery_id, context): locks the
-- charge, decides, records the Pix in financial_events (its unique e2eId makes it count once) and changes
-- the charge. Outcomes (laura.pix.outcomes.ReceivedPixOutcome, and ReceivedPixReason for `reason`):
--   applied     the charge was ACTIVE with this amount: now PAID, and its purpose's effect ran
--               (pix_charge_purposes.effect, e.g. bank_deposit_credit) in the same statement
--   unmatched   no_txid (the Pix names no charge) or unknown_txid
--   flagged     charge_not_active or amount_mismatch: recorded for review; the charge keeps its first
--               review_reason. A Pix into a charge no longer ACTIVE (paid twice, paid after it expired or
--               was cancelled) is money we hold and did not apply: its purpose's unapplied_effect, when it
--               has one (pix_charge_purposes), books it in the same statement (a ride's: a refund owed)
--   duplicate   this e2eId was recorded before: nothing changed
-- `charge` is the charge as it now is (NULL when unmatched).
CREATE OR REPLACE FUNCTION pix_apply_received(
    p_txid text, p_e2e_id text, p_amount_cents bigint, p_occurred_at timestamptz, p_payload jsonb,
    p_source text, p_delivery_id bigint, p_context jsonb,
    OUT outcome text, OUT reason text, OUT charge pix_charges
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_status text := 'applied';
    v_effect regprocedure;
BEGIN
    IF p_txid IS NULL OR p_txid = '' THEN
        v_status := 'unmatched';
        reason := 'no_txid';
    ELSE
        SELECT * INTO charge FROM pix_charges c WHERE c.txid = p_txid FOR UPDATE;
        IF NOT FOUND THEN
            v_status := 'unmatched';
            reason := 'unknown_txid';
        ELSIF charge.status <> 'ACTIVE' THEN
            v_status := 'flagged';
            reason := 'charge_not_active';
        ELSIF charge.amount_cents <> p_amount_cents THEN
            v_status := 'flagged';
            reason := 'amount_mismatch';
        END IF;
    END IF;
    INSERT INTO financial_events AS e (external_id, kind, status, reason, txid, purpose, entity_id,
                                       amount_cents, source, delivery_id, occurred_at, payload)
    VALUES (p_e2e_id, 'pix.received', v_status, reason, p_txid, charge.purpose, charge.entity_id,
            p_amount_cents, p_source, p_delivery_id, p_occurred_at, p_payload)
    ON CONFLICT (external_id) DO NOTHING;
    IF NOT FOUND THEN
        outcome := 'duplicate';
        RETURN;
    END IF;
    outcome := v_status;
    IF v_status = 'applied' THEN
        UPDATE pix_charges c SET status = 'PAID', paid_at = p_occurred_at, e2e_id = p_e2e_id
         WHERE c.txid = p_txid RETURNING * INTO charge;
        SELECT p.effect INTO STRICT v_effect FROM pix_charge_purposes p WHERE p.purpose = charge.purpose;
        EXECUTE format('SELECT %s($1, $2, $3)', v_effect::regproc) USING charge, p_payload, p_context;
    ELSIF charge.txid IS NOT NULL AND charge.review_reason IS NULL THEN
        UPDATE pix_charges c SET review_reason = reason WHERE c.txid = p_txid RETURNING * INTO charge;
    END IF;
    IF reason = 'charge_not_active' THEN
        SELECT p.unapplied_effect INTO v_effect FROM pix_charge_purposes p WHERE p.purpose = charge.purpose;
        IF v_effect IS NOT NULL THEN
            EXECUTE format('SELECT %s($1, $2, $3)', v_effect::regproc) USING charge, p_payload, p_context;
        END IF;
    END IF;
END $$;

-- pix_ingest_delivery(sha256, body, auth, pix_count, error, txids, e2e_ids, amounts, times, payloads,
-- context): stores a webhook delivery (unique by SHA-256) and, unless it was stored before, applies each
-- received Pix of it in order with pix_apply_received. The first row is the delivery (delivery_id NULL: a
-- duplicate delivery, nothing applied); then one row per Pix with its outcome. A delivery thus costs one
-- round trip instead of one plus two per Pix (docs/PERFORMANCE.md, "webhooks").
CREATE OR REPLACE FUNCTION pix_ingest_delivery(
    p_sha256 text, p_body bytea, p_auth text, p_pix_count integer, p_error text,
    p_txids text[], p_e2e_ids text[], p_amounts bigint[], p_occurred_at timestamptz[], p_payloads jsonb,
    p_context jsonb
) RETURNS TABLE (delivery_id bigint, outcome text, reason text, charge pix_charges)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    applied record;
BEGIN
    INSERT INTO webhook_deliveries AS d (sha256, body, auth, pix_count, error)
    VALUES (p_sha256, p_body, p_auth, p_pix_count, p_error)
    ON CONFLICT (sha256) DO NOTHING
    RETURNING d.id INTO delivery_id;
    RETURN NEXT;
    IF delivery_id IS NULL THEN
        RETURN;
    END IF;
    FOR i IN 1..coalesce(cardinality(p_e2e_ids), 0) LOOP
        applied := pix_apply_received(p_txids[i], p_e2e_ids[i], p_amounts[i], p_occurred_at[i],
                                      p_payloads -> (i - 1), 'webhook', delivery_id, p_context);
        outcome := applied.outcome;
        reason := applied.reason;
        charge := applied.charge;
        RETURN NEXT;
    END LOOP;
END $$;

""",
}

DOWNGRADE = [
    r"""CREATE OR REPLACE FUNCTION public.pix_apply_received(p_txid text, p_e2e_id text, p_amount_cents bigint, p_occurred_at timestamp with time zone, p_payload jsonb, p_source text, p_delivery_id bigint, p_context jsonb, OUT outcome text, OUT reason text, OUT charge pix_charges)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
DECLARE
    v_status text := 'applied';
    v_effect regprocedure;
BEGIN
    IF p_txid IS NULL OR p_txid = '' THEN
        v_status := 'unmatched';
        reason := 'no_txid';
    ELSE
        SELECT * INTO charge FROM pix_charges c WHERE c.txid = p_txid FOR UPDATE;
        IF NOT FOUND THEN
            v_status := 'unmatched';
            reason := 'unknown_txid';
        ELSIF charge.status <> 'ACTIVE' THEN
            v_status := 'flagged';
            reason := 'charge_not_active';
        ELSIF charge.amount_cents <> p_amount_cents THEN
            v_status := 'flagged';
            reason := 'amount_mismatch';
        END IF;
    END IF;
    INSERT INTO financial_events AS e (external_id, kind, status, reason, txid, purpose, entity_id,
                                       amount_cents, source, delivery_id, occurred_at, payload)
    VALUES (p_e2e_id, 'pix.received', v_status, reason, p_txid, charge.purpose, charge.entity_id,
            p_amount_cents, p_source, p_delivery_id, p_occurred_at, p_payload)
    ON CONFLICT (external_id) DO NOTHING;
    IF NOT FOUND THEN
        outcome := 'duplicate';
        RETURN;
    END IF;
    outcome := v_status;
    IF v_status = 'applied' THEN
        UPDATE pix_charges c SET status = 'PAID', paid_at = p_occurred_at, e2e_id = p_e2e_id
         WHERE c.txid = p_txid RETURNING * INTO charge;
        SELECT p.effect INTO STRICT v_effect FROM pix_charge_purposes p WHERE p.purpose = charge.purpose;
        EXECUTE format('SELECT %s($1, $2, $3)', v_effect::regproc) USING charge, p_payload, p_context;
    ELSIF charge.txid IS NOT NULL AND charge.review_reason IS NULL THEN
        UPDATE pix_charges c SET review_reason = reason WHERE c.txid = p_txid RETURNING * INTO charge;
    END IF;
END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.mobility_ride_paid(p_charge pix_charges, p_pix jsonb, p_context jsonb)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_intent payment_intents;
    v_ride rides;
    v_driver_user uuid;
    v_driver_cents bigint;
    v_codes text[] := ARRAY['4100'];
    v_directions text[] := ARRAY['D'];
    v_amounts bigint[] := ARRAY[p_charge.amount_cents];
    v_replayed boolean;
BEGIN
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid FOR UPDATE;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'ride:' || p_charge.txid, 'RIDE_PAYMENT', 'Corrida paga via Pix', 'ride',
                       v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[], ARRAY['1300', '4100'],
                       ARRAY['D', 'C'], ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    v_driver_cents := p_charge.amount_cents - v_intent.commission_cents;
    IF v_intent.commission_cents > 0 THEN
        v_codes := v_codes || '4200'::text;
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_intent.commission_cents;
    END IF;
    IF v_driver_cents > 0 THEN
        v_codes := v_codes || mobility_driver_payable_code(v_intent.driver_id);
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_driver_cents;
    END IF;
    PERFORM ledger_post(uuid7(), 'ride-split:' || p_charge.txid, 'RIDE_COMMISSION', 'Comissão e repasse da corrida',
                        'ride', v_intent.ride_id::text, v_e2e_id, NULL,
                        array_fill(NULL::uuid, ARRAY[cardinality(v_codes)]), v_codes, v_directions, v_amounts);
    PERFORM mobility_fraud_hold_share(v_intent.ride_id, v_intent.driver_id, v_driver_cents);
    UPDATE payment_intents i SET status = 'CONFIRMED', confirmed_at = now() WHERE i.id = v_intent.id;
    UPDATE rides r SET status = 'PAID', paid_at = now(), status_changed_at = now(), version = r.version + 1
     WHERE r.id = v_intent.ride_id AND r.status = 'PAYMENT_PENDING'
    RETURNING * INTO v_ride;
    IF FOUND THEN
        PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), NULL, 'RIDE_STATUS_CHANGED', 'ride',
                                 v_ride.id::text, jsonb_build_object('status', 'PAYMENT_PENDING'),
                                 jsonb_build_object('status', 'PAID', 'version', v_ride.version,
                                                    'actor', 'system', 'reason', 'payment_confirmed'),
                                 p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
    END IF;
    SELECT d.user_id INTO v_driver_user FROM drivers d WHERE d.id = v_intent.driver_id;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.confirmed',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'txid', p_charge.txid,
                               'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id, v_driver_user], '{}', now());
END $function$
""",
    r"""DROP FUNCTION mobility_ride_paid_unapplied(pix_charges,jsonb,jsonb)""",
    r"""DROP FUNCTION mobility_ride_refund_due(pix_charges,jsonb,jsonb,text)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


SCHEMA = [
    """INSERT INTO ledger_accounts (id, code, name, type, hot)
       VALUES (gen_random_uuid(), '2300', 'REEMBOLSOS_A_PAGAR', 'LIABILITY', false)""",
    """CREATE TABLE payment_refunds (
        id uuid PRIMARY KEY,
        e2e_id varchar(35) NOT NULL UNIQUE,
        ride_id uuid NOT NULL REFERENCES rides (id),
        intent_id uuid NOT NULL REFERENCES payment_intents (id),
        txid varchar(35) NOT NULL REFERENCES pix_charges (txid),
        payer_id uuid NOT NULL REFERENCES users (id),
        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
        reason varchar(32) NOT NULL CHECK (reason IN ('ride_already_paid', 'charge_not_active')),
        status varchar(10) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'REFUNDED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolved_by uuid REFERENCES users (id),
        note text
    )""",
    "CREATE INDEX ix_payment_refunds_ride ON payment_refunds (ride_id)",
    "CREATE INDEX ix_payment_refunds_open ON payment_refunds (created_at) WHERE status = 'OPEN'",
    "ALTER TABLE pix_charge_purposes ADD COLUMN unapplied_effect regprocedure",
]

REGISTER = [
    """UPDATE pix_charge_purposes SET unapplied_effect = 'mobility_ride_paid_unapplied(pix_charges, jsonb, jsonb)'
       WHERE purpose = 'mobility.ride'""",
]

UNDO_SCHEMA = [
    "ALTER TABLE pix_charge_purposes DROP COLUMN unapplied_effect",
    "DROP TABLE payment_refunds",
]
"""The account 2300 stays: ledger accounts are never deleted (ledger_accounts_no_delete), as 0019's 2200."""


def upgrade() -> None:
    _run([*SCHEMA, *UPGRADE.values(), *REGISTER])


def downgrade() -> None:
    _run([*UNDO_SCHEMA[:1], *DOWNGRADE, *UNDO_SCHEMA[1:]])
