"""Analytics: a partial index on the posted credits of each ledger account, for a customer's income.

Revision ID: 0024
Revises: 0023

`laura.ledger.credits` sums an account's posted credits over months (GET /api/analytics/summary). The
entries' own index is (account_id, id), which would read every debit too; credits are a small share of a
customer's entries (purchases, bills and transfers are debits).
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_ledger_entries_credits ON ledger_entries (account_id, created_at)"
        " INCLUDE (amount, transaction_id) WHERE direction = 'C' AND NOT pending"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_ledger_entries_credits")
