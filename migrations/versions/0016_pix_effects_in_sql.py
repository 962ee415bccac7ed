"""A paid charge's effect as a SQL function, so a webhook delivery is applied in one statement.

Revision ID: 0016
Revises: 0015

Until now a received Pix was applied by `pix_apply_received` and its purpose's effect then ran in Python, in
the same transaction: BEGIN, the intake call, the effect's statements and COMMIT, four round trips or more
per delivery. Now each purpose names its effect in `pix_charge_purposes`: a function
`effect(p_charge pix_charges, p_pix jsonb, p_context jsonb) RETURNS void` that `pix_apply_received` calls
right after the charge became PAID, under the charge's row lock, in the same statement. A delivery of
received Pix is then one autocommit statement, `pix_ingest_delivery`, and reconciliation reaches the same
effect through the same function.

- `p_pix` is the Pix as stored in `financial_events.payload` (Efí's names: endToEndId, valor, horario...).
- `p_context` is who and where, for the effect's audit row: `chain`, `ip`, `user_agent`, `request_id`.
- `pix_charges.purpose` references `pix_charge_purposes`: a charge cannot be created for a purpose whose
  payment nobody would apply.

The bank's deposits are the first purpose: `bank_deposit_credit` books the deposit (reference
`deposit:<txid>`, so a replay books nothing), appends `DEPOSIT_RECEIVED` to the audit log and publishes
`deposit.received`, as `laura.bank.deposits.service.credit_deposit` did in Python.

`uuid7()` gives the ledger transaction its time-ordered id inside SQL, like `laura.core.models.uuid7`:
PostgreSQL has no generator before version 18 and the extensions that add one are not on the embedded
server, so it is written here (48 bits of Unix milliseconds over a random v4 UUID, version bits set to 7).
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
            SELECT encode(
                set_bit(set_bit(
                    overlay(uuid_send(gen_random_uuid())
                            PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                              FROM 3)
                            FROM 1 FOR 6),
                    52, 1), 53, 1),
                'hex')::uuid
        $$;

        CREATE TABLE pix_charge_purposes (
            purpose varchar(64) PRIMARY KEY,
            effect regprocedure NOT NULL
        );

        CREATE FUNCTION bank_deposit_credit(p_charge pix_charges, p_pix jsonb, p_context jsonb)
        RETURNS void LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_e2e_id text := p_pix ->> 'endToEndId';
            v_replayed boolean;
        BEGIN
            SELECT r.replayed INTO v_replayed
              FROM ledger_post(uuid7(), 'deposit:' || p_charge.txid, 'PIX_DEPOSIT', 'Depósito via Pix', 'deposit',
                               p_charge.entity_id, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                               ARRAY['1200', '2101.' || p_charge.owner_id], ARRAY['D', 'C'],
                               ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
            IF v_replayed THEN
                RETURN;
            END IF;
            INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
            VALUES ('deposit.received',
                    jsonb_build_object('depositId', p_charge.entity_id, 'txid', p_charge.txid, 'e2eId', v_e2e_id,
                                       'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
                    ARRAY[p_charge.owner_id], '{}', now());
            PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), p_charge.owner_id,
                                     'DEPOSIT_RECEIVED', 'deposit', p_charge.entity_id, NULL,
                                     jsonb_build_object('txid', p_charge.txid, 'e2eId', v_e2e_id,
                                                        'amountCents', p_charge.amount_cents),
                                     p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
        END $$;

        INSERT INTO pix_charge_purposes (purpose, effect)
        VALUES ('bank.deposit', 'bank_deposit_credit(pix_charges, jsonb, jsonb)');
        ALTER TABLE pix_charges ADD CONSTRAINT pix_charges_purpose_fkey
            FOREIGN KEY (purpose) REFERENCES pix_charge_purposes (purpose);

        DROP FUNCTION pix_ingest_delivery(text, bytea, text, integer, text, text[], text[], bigint[],
                                          timestamptz[], jsonb);
        DROP FUNCTION pix_apply_received(text, text, bigint, timestamptz, jsonb, text, bigint);

        CREATE FUNCTION pix_apply_received(
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
        END $$;

        CREATE FUNCTION pix_ingest_delivery(
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
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION pix_ingest_delivery(text, bytea, text, integer, text, text[], text[], bigint[],
                                          timestamptz[], jsonb, jsonb);
        DROP FUNCTION pix_apply_received(text, text, bigint, timestamptz, jsonb, text, bigint, jsonb);
        ALTER TABLE pix_charges DROP CONSTRAINT pix_charges_purpose_fkey;
        DROP TABLE pix_charge_purposes;
        DROP FUNCTION bank_deposit_credit(pix_charges, jsonb, jsonb);
        DROP FUNCTION uuid7();
        """
    )
    _revision_0010().upgrade()


def _revision_0010():  # type: ignore[no-untyped-def]
    """Migration 0010's module, whose `upgrade` creates the intake functions this one replaced."""
    path = Path(__file__).with_name("0010_pix_intake.py")
    spec = importlib.util.spec_from_file_location("laura_migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
