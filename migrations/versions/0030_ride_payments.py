"""Ride payments: a ride's payment intents (the fare asked for, its Pix charge, the commission fixed then).

Revision ID: 0030
Revises: 0029

One PENDING intent per ride at a time (a partial unique index): a new charge is asked for only once the
last one expired or failed. The purpose's effect, `mobility_ride_paid`, and its `pix_charge_purposes` row
come in the next migration (generated from laura/mobility/payments/sql/ride_paid.sql).
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE payment_intents (
            id uuid PRIMARY KEY,
            ride_id uuid NOT NULL REFERENCES rides (id),
            purpose varchar(16) NOT NULL DEFAULT 'RIDE' CHECK (purpose = 'RIDE'),
            payer_id uuid NOT NULL REFERENCES users (id),
            driver_id uuid NOT NULL REFERENCES drivers (id),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            commission_cents bigint NOT NULL CHECK (commission_cents BETWEEN 0 AND amount_cents),
            status varchar(10) NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'CONFIRMED', 'EXPIRED', 'FAILED')),
            txid varchar(35) UNIQUE REFERENCES pix_charges (txid),
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            confirmed_at timestamptz
        );
        CREATE INDEX ix_payment_intents_ride ON payment_intents (ride_id, created_at);
        CREATE UNIQUE INDEX uq_payment_intents_live ON payment_intents (ride_id) WHERE status = 'PENDING';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE payment_intents")
