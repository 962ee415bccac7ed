"""Cancellation fees charged like fares: a CANCELLATION_FEE intent, its purpose and effect

Revision ID: 0036
Revises: 0035

`payment_intents.purpose` admits CANCELLATION_FEE beside RIDE; the "mobility.cancellation_fee" charge
purpose names its effect, mobility_cancellation_fee_paid, in pix_charge_purposes, and, like a fare's, a Pix
into one of its charges no longer ACTIVE is a refund owed (mobility_ride_paid_unapplied, 0035).

The function's text was written by `laura migrate new-sql`: the text of these files as of this revision,
applied with CREATE OR REPLACE:
- laura/mobility/payments/sql/fee_paid.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/mobility/payments/sql/fee_paid.sql": r"""-- mobility_cancellation_fee_paid(charge, pix, context): the "mobility.cancellation_fee" purpose's effect
-- (pix_charge_purposes): pix_apply_received calls it right after a cancellation fee's charge became PAID
-- (amount checked), under the charge's row lock, in the statement that records the received Pix (webhook,
-- reconciliation, or an internal Pix from a Laura account).
--
-- As a fare (ride_paid.sql), under the reasons the finance report reads: the fee from PIX_A_RECEBER (1300)
-- to RECEITA_CORRIDAS (4100), reason CANCELLATION_FEE, reference 'fee:<txid>' (a replay books nothing and
-- returns), then RECEITA_CORRIDAS to COMISSAO_PLATAFORMA (4200, the intent's commission) and to the
-- driver's MOTORISTAS_A_PAGAR account (the driver's share, cancellation_fee_driver_percent when the intent
-- was written), reason CANCELLATION_FEE_SPLIT, reference 'fee-split:<txid>'; a zero share leaves its line
-- out. The intent becomes CONFIRMED; the ride stays CANCELED; payment.confirmed (with its purpose) goes
-- to the passenger and the driver. p_pix is the Pix as stored (endToEndId, valor, horario...).
CREATE OR REPLACE FUNCTION mobility_cancellation_fee_paid(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_intent payment_intents;
    v_driver_user uuid;
    v_driver_cents bigint;
    v_codes text[] := ARRAY['4100'];
    v_directions text[] := ARRAY['D'];
    v_amounts bigint[] := ARRAY[p_charge.amount_cents];
    v_replayed boolean;
BEGIN
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid FOR UPDATE;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'fee:' || p_charge.txid, 'CANCELLATION_FEE', 'Taxa de cancelamento paga via Pix',
                       'ride', v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY['1300', '4100'], ARRAY['D', 'C'], ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
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
    PERFORM ledger_post(uuid7(), 'fee-split:' || p_charge.txid, 'CANCELLATION_FEE_SPLIT',
                        'Comissão e repasse da taxa de cancelamento', 'ride', v_intent.ride_id::text, v_e2e_id,
                        NULL, array_fill(NULL::uuid, ARRAY[cardinality(v_codes)]), v_codes, v_directions, v_amounts);
    UPDATE payment_intents i SET status = 'CONFIRMED', confirmed_at = now() WHERE i.id = v_intent.id;
    SELECT d.user_id INTO v_driver_user FROM drivers d WHERE d.id = v_intent.driver_id;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.confirmed',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'purpose', v_intent.purpose,
                               'txid', p_charge.txid, 'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id, v_driver_user], '{}', now());
END $$;
""",
}

DOWNGRADE = [
    r"""DROP FUNCTION mobility_cancellation_fee_paid(pix_charges,jsonb,jsonb)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


PURPOSES = [
    "ALTER TABLE payment_intents DROP CONSTRAINT payment_intents_purpose_check",
    (
        "ALTER TABLE payment_intents ADD CONSTRAINT payment_intents_purpose_check"
        " CHECK (purpose IN ('RIDE', 'CANCELLATION_FEE'))"
    ),
]
PURPOSE = (
    "INSERT INTO pix_charge_purposes (purpose, effect, unapplied_effect)"
    " VALUES ('mobility.cancellation_fee', 'mobility_cancellation_fee_paid(pix_charges, jsonb, jsonb)',"
    " 'mobility_ride_paid_unapplied(pix_charges, jsonb, jsonb)')"
)


def upgrade() -> None:
    _run([*PURPOSES, *UPGRADE.values(), PURPOSE])


def downgrade() -> None:
    _run(
        [
            "DELETE FROM pix_charge_purposes WHERE purpose = 'mobility.cancellation_fee'",
            *DOWNGRADE,
            "ALTER TABLE payment_intents DROP CONSTRAINT payment_intents_purpose_check",
            "ALTER TABLE payment_intents ADD CONSTRAINT payment_intents_purpose_check CHECK (purpose = 'RIDE')",
        ]
    )
