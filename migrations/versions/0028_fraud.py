"""Mobility anti-fraud: review flags, the signals rules count, suspensions.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE fraud_flags (
            id uuid PRIMARY KEY,
            subject_user_id uuid NOT NULL REFERENCES users (id),
            rule varchar(40) NOT NULL,
            day date NOT NULL,
            ride_id uuid,
            details jsonb NOT NULL DEFAULT '{}',
            status varchar(10) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
            created_at timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            resolved_by uuid REFERENCES users (id),
            resolution_note text
        );
        CREATE UNIQUE INDEX uq_fraud_flags_open ON fraud_flags (subject_user_id, rule, day) WHERE status = 'OPEN';
        CREATE INDEX ix_fraud_flags_created ON fraud_flags (created_at DESC, id DESC);
        CREATE TABLE fraud_signals (
            id uuid PRIMARY KEY,
            subject_user_id uuid NOT NULL REFERENCES users (id),
            rule varchar(40) NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX ix_fraud_signals_user ON fraud_signals (subject_user_id, rule, created_at);
        CREATE TABLE mobility_suspensions (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            flag_id uuid NOT NULL REFERENCES fraud_flags (id),
            reason varchar(40) NOT NULL,
            since timestamptz NOT NULL
        );
        CREATE INDEX ix_mobility_suspensions_flag ON mobility_suspensions (flag_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mobility_suspensions; DROP TABLE fraud_signals; DROP TABLE fraud_flags;")
