"""Spending: the card purchases' spending index covers the merchant too.

Revision ID: 0027
Revises: 0026

The summary's top merchants (`laura.bank.spending.query.top_merchants`) read the merchant of each purchase
in the window; without it in the index, each purchase was a heap page of its own (137 pages for one
customer's six months on bench/analytics.py's data). With it every spending read is an index-only scan.
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_PREDICATE = "WHERE captured_cents > refunded_cents"


def upgrade() -> None:
    op.execute(
        f"""
        DROP INDEX ix_card_transactions_spent;
        CREATE INDEX ix_card_transactions_spent ON card_transactions (user_id, created_at)
            INCLUDE (category, captured_cents, refunded_cents, merchant) {_PREDICATE};
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        DROP INDEX ix_card_transactions_spent;
        CREATE INDEX ix_card_transactions_spent ON card_transactions (user_id, created_at)
            INCLUDE (category, captured_cents, refunded_cents) {_PREDICATE};
        """
    )
