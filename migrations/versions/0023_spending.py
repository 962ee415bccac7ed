"""Spending: the category a customer tags an outgoing transfer with, and the indexes of the spending query.

Revision ID: 0023
Revises: 0022

`laura.bank.spending.query` sums a customer's captured card purchases, paid bills and completed outgoing
transfers over a window of days. Each index below is partial on the query's own predicate and covers the
columns it reads, so a customer's year is an index-only range scan whatever the table's size.
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE transfers ADD COLUMN category varchar(20);
        CREATE INDEX ix_card_transactions_spent ON card_transactions (user_id, created_at)
            INCLUDE (category, captured_cents, refunded_cents) WHERE captured_cents > refunded_cents;
        CREATE INDEX ix_bill_payments_paid ON bill_payments (user_id, paid_at)
            INCLUDE (amount_cents) WHERE status = 'COMPLETED';
        CREATE INDEX ix_transfers_completed ON transfers (user_id, completed_at)
            INCLUDE (amount_cents, fee_cents, category) WHERE status = 'COMPLETED';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_transfers_completed, ix_bill_payments_paid, ix_card_transactions_spent;
        ALTER TABLE transfers DROP COLUMN category;
        """
    )
