"""Anti-fraud: held driver shares (2110 REPASSES_EM_REVISAO, mobility_fraud_hold_share), flag decisions

Revision ID: 0032
Revises: 0031

The schema part (written by hand): the ledger account 2110 REPASSES_EM_REVISAO (LIABILITY) that a driver's
share held for review is credited to; fraud_flags.decision ('cleared' / 'confirmed', set by the review);
the holding rules (max_fare, long_route) keep one flag per ride, not one per user and day, so every held
share has its own flag: the open-flag index leaves them out and a per-ride index takes them.

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/mobility/fraud/sql/hold_share.sql
- laura/mobility/payments/sql/ride_paid.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/mobility/fraud/sql/hold_share.sql": r"""-- mobility_fraud_hold_share(ride, driver, driver cents): called by mobility_ride_paid right after the split
-- credited the driver's share to 2100.<driver>. When the ride has an OPEN flag of a holding rule
-- ('max_fare', 'long_route', raised as the ride completed), the share is held for review instead of made
-- available: a ledger hold, reason 'FRAUD_REVIEW', reference 'fraud-hold:<ride id>', D 2100.<driver> /
-- C 2110 (REPASSES_EM_REVISAO). An admin's resolve voids it (cleared) or posts it (confirmed); a flag the
-- review confirmed before the ride was paid posts the hold at once. No such flag: a no-op.
--
-- The ride's holding flags are locked in id order, as the resolve locks them, so a resolve and a payment
-- of the same ride serialize: whichever comes second sees what the first did.
CREATE OR REPLACE FUNCTION mobility_fraud_hold_share(p_ride uuid, p_driver uuid, p_cents bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_reference text := 'fraud-hold:' || p_ride::text;
    v_open boolean;
    v_confirmed boolean;
    v_hold uuid;
BEGIN
    IF p_cents <= 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM fraud_flags f WHERE f.ride_id = p_ride AND f.rule IN ('max_fare', 'long_route')
     ORDER BY f.id FOR UPDATE;
    SELECT coalesce(bool_or(f.status = 'OPEN'), false), coalesce(bool_or(f.decision = 'confirmed'), false)
      INTO v_open, v_confirmed
      FROM fraud_flags f WHERE f.ride_id = p_ride AND f.rule IN ('max_fare', 'long_route');
    IF NOT (v_open OR v_confirmed) THEN
        RETURN;
    END IF;
    SELECT (r.tx).id INTO v_hold
      FROM ledger_post(uuid7(), v_reference, 'FRAUD_REVIEW', 'Repasse retido para revisão antifraude', 'ride',
                       p_ride::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY[mobility_driver_payable_code(p_driver), '2110'], ARRAY['D', 'C'],
                       ARRAY[p_cents, p_cents], true, NULL) r;
    IF v_confirmed THEN
        PERFORM ledger_post_hold(uuid7(), v_hold, NULL, NULL, v_reference || ':confirmed', 'FRAUD_REVIEW',
                                 'Fraude confirmada: repasse retido', NULL);
    END IF;
END $$;
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
-- Flow 2 of the mobility spec: the fare from PIX_A_RECEBER (1300) to RECEITA_CORRIDAS (4100), reference
-- 'ride:<txid>' (a replay books nothing and returns), then RECEITA_CORRIDAS to COMISSAO_PLATAFORMA (4200,
-- the intent's commission) and to the driver's MOTORISTAS_A_PAGAR account (the rest), reference
-- 'ride-split:<txid>'; a zero share leaves its line out. A share the anti-fraud rules flagged is then held
-- for review (mobility_fraud_hold_share, laura/mobility/fraud/sql/hold_share.sql). The intent becomes
-- CONFIRMED; the ride, if it waits for this payment, PAID (versioned and audited as RIDE_STATUS_CHANGED);
-- payment.confirmed goes to the passenger and the driver. p_pix is the Pix as Efí sent it (endToEndId, valor, horario...).
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
END $$;
""",
}

DOWNGRADE = [
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
    r"""DROP FUNCTION mobility_fraud_hold_share(uuid,uuid,bigint)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


SCHEMA = [
    """INSERT INTO ledger_accounts (id, code, name, type, hot)
       VALUES (gen_random_uuid(), '2110', 'REPASSES_EM_REVISAO', 'LIABILITY', false)""",
    """ALTER TABLE fraud_flags ADD COLUMN decision varchar(10)
       CHECK (decision IN ('cleared', 'confirmed') AND status = 'RESOLVED' OR decision IS NULL)""",
    "DROP INDEX uq_fraud_flags_open",
    """CREATE UNIQUE INDEX uq_fraud_flags_open ON fraud_flags (subject_user_id, rule, day)
       WHERE status = 'OPEN' AND rule NOT IN ('max_fare', 'long_route')""",
    """CREATE UNIQUE INDEX uq_fraud_flags_ride ON fraud_flags (ride_id, rule)
       WHERE rule IN ('max_fare', 'long_route')""",
    "CREATE INDEX ix_fraud_flags_subject ON fraud_flags (subject_user_id, status)",
]

UNDO_SCHEMA = [
    "DROP INDEX ix_fraud_flags_subject",
    "DROP INDEX uq_fraud_flags_ride",
    "DROP INDEX uq_fraud_flags_open",
    "DELETE FROM fraud_flags WHERE rule IN ('max_fare', 'long_route')",
    "CREATE UNIQUE INDEX uq_fraud_flags_open ON fraud_flags (subject_user_id, rule, day) WHERE status = 'OPEN'",
    "ALTER TABLE fraud_flags DROP COLUMN decision",
]
"""The account 2110 stays: ledger accounts are never deleted (ledger_accounts_no_delete), as 0019's 2200."""


def upgrade() -> None:
    _run([*SCHEMA, *UPGRADE.values()])


def downgrade() -> None:
    _run([*DOWNGRADE, *UNDO_SCHEMA])
