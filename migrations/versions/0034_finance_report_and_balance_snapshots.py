"""Finance: the drivers' daily balance snapshots, and the indexes the financial report reads by.

Revision ID: 0034
Revises: 0033

`mobility_driver_balance_snapshots` holds one row per driver account per Brasília day: its posted balance
and the net of its open holds as of the day's end (laura.mobility.finance.tasks, daily). The report
(laura.mobility.finance.repository) reads ledger transactions by reason over a date range, and the Pix
that reconciliation applied by date: two indexes make those range scans instead of full ones.
"""

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mobility_driver_balance_snapshots (
            driver_id uuid NOT NULL REFERENCES drivers (id),
            day date NOT NULL,
            account_id uuid NOT NULL REFERENCES ledger_accounts (id),
            posted_cents bigint NOT NULL,
            pending_cents bigint NOT NULL,
            taken_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (driver_id, day)
        );
        CREATE INDEX ix_mobility_driver_balance_snapshots_day ON mobility_driver_balance_snapshots (day);
        CREATE INDEX ix_ledger_transactions_reason_time ON ledger_transactions (reason, created_at);
        CREATE INDEX ix_financial_events_reconciliation ON financial_events (created_at)
            WHERE source = 'reconciliation';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_financial_events_reconciliation;
        DROP INDEX ix_ledger_transactions_reason_time;
        DROP TABLE mobility_driver_balance_snapshots;
        """
    )
