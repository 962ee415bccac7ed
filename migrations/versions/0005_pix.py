"""Pix: charges, webhook deliveries, financial events (applied-once ledger of PSP notifications), sends.

Revision ID: 0005
Revises: 0004

- `pix_charges`: one row per charge we created at the PSP, keyed by our own txid.
- `pix_sends`: one row per Pix we send, keyed by our own idEnvio; written before the PSP hears of it.
- `webhook_deliveries`: every authenticated delivery, raw, unique by SHA-256 (an identical copy is a
  duplicate recognised by one statement); `error` says why an unreadable one was refused. What each Pix
  in it came to is in `financial_events` (`delivery_id`); a delivery without rows there was a duplicate.
- `financial_events`: one row per Pix the PSP told us about, unique by e2eId (`external_id`). The insert of
  this row, in the transaction that applies the Pix, is what makes a Pix count once. Rows that were not
  applied (`unmatched`, `flagged`) are the reconciliation queue for ops.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE pix_charges (
            txid varchar(35) PRIMARY KEY CHECK (txid ~ '^[A-Za-z0-9]{26,35}$'),
            purpose varchar(64) NOT NULL,
            entity_id varchar(128) NOT NULL,
            owner_id uuid NOT NULL REFERENCES users (id),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            status varchar(9) NOT NULL DEFAULT 'ACTIVE'
                CHECK (status IN ('ACTIVE', 'PAID', 'EXPIRED', 'CANCELLED')),
            description text,
            pix_copia_e_cola text NOT NULL,
            location text,
            expires_at timestamptz NOT NULL,
            paid_at timestamptz,
            e2e_id varchar(35) UNIQUE,
            review_reason varchar(32),
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((status = 'PAID') = (e2e_id IS NOT NULL AND paid_at IS NOT NULL))
        );
        CREATE INDEX ix_pix_charges_entity ON pix_charges (purpose, entity_id);
        CREATE INDEX ix_pix_charges_owner ON pix_charges (owner_id, created_at);
        -- What reconciliation walks: charges still open in our books and not waiting for ops.
        CREATE INDEX ix_pix_charges_open ON pix_charges (created_at)
            WHERE status = 'ACTIVE' AND review_reason IS NULL;

        CREATE TABLE pix_sends (
            id_envio varchar(35) PRIMARY KEY CHECK (id_envio ~ '^[A-Za-z0-9]{1,35}$'),
            purpose varchar(64) NOT NULL,
            entity_id varchar(128) NOT NULL,
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            payee_key varchar(77) NOT NULL,
            description varchar(140),
            status varchar(10) NOT NULL DEFAULT 'PROCESSING' CHECK (status IN ('PROCESSING', 'DONE', 'FAILED')),
            e2e_id varchar(35) UNIQUE,
            error text,
            submitted_at timestamptz,
            settled_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((status = 'PROCESSING') = (settled_at IS NULL))
        );
        CREATE INDEX ix_pix_sends_entity ON pix_sends (purpose, entity_id);
        CREATE INDEX ix_pix_sends_processing ON pix_sends (created_at) WHERE status = 'PROCESSING';

        CREATE TABLE webhook_deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            provider varchar(16) NOT NULL DEFAULT 'efi',
            sha256 char(64) NOT NULL UNIQUE,
            body bytea NOT NULL,
            auth varchar(4) NOT NULL CHECK (auth IN ('hmac', 'mtls')),
            pix_count integer NOT NULL,
            error text,
            received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_webhook_deliveries_received ON webhook_deliveries (received_at);

        CREATE TABLE financial_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            external_id varchar(35) NOT NULL,
            kind varchar(12) NOT NULL CHECK (kind IN ('pix.received', 'pix.sent')),
            status varchar(9) NOT NULL CHECK (status IN ('applied', 'unmatched', 'flagged')),
            reason varchar(32),
            txid varchar(35),
            id_envio varchar(35),
            purpose varchar(64),
            entity_id varchar(128),
            amount_cents bigint NOT NULL,
            source varchar(14) NOT NULL CHECK (source IN ('webhook', 'reconciliation', 'psp_answer')),
            delivery_id bigint REFERENCES webhook_deliveries (id),
            occurred_at timestamptz NOT NULL,
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((status = 'applied') = (reason IS NULL))
        );
        CREATE UNIQUE INDEX ux_financial_events_external_id ON financial_events (external_id);
        CREATE INDEX ix_financial_events_txid ON financial_events (txid) WHERE txid IS NOT NULL;
        -- The ops queue: Pix recorded but not applied.
        CREATE INDEX ix_financial_events_review ON financial_events (created_at) WHERE status <> 'applied';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE financial_events, webhook_deliveries, pix_sends, pix_charges")
