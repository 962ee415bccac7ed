"""Driver payouts: the payouts table, and when a driver's Pix key last changed (a payout right after a
change waits 24 hours).

Revision ID: 0033
Revises: 0032
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE drivers ADD COLUMN pix_key_changed_at timestamptz;
        CREATE TABLE payouts (
            id uuid PRIMARY KEY,
            driver_id uuid NOT NULL REFERENCES drivers (id),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            status varchar(10) NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
            pix_key varchar(77) NOT NULL,
            pix_key_type varchar(8) NOT NULL,
            hold_id uuid NOT NULL REFERENCES ledger_transactions (id),
            id_envio varchar(35) UNIQUE REFERENCES pix_sends (id_envio),
            e2e_id varchar(35),
            failure_reason text,
            not_before timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            processing_at timestamptz,
            completed_at timestamptz,
            failed_at timestamptz
        );
        CREATE INDEX ix_payouts_driver_created ON payouts (driver_id, created_at DESC, id DESC);
        CREATE INDEX ix_payouts_created ON payouts (created_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE payouts; ALTER TABLE drivers DROP COLUMN pix_key_changed_at;")
