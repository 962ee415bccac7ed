"""Card authorizations still held: a partial index for the card network's expiry task.

Revision ID: 0021
Revises: 0020

The task (laura.bank.card_network.tasks) marks VOIDED the AUTHORIZED rows whose ledger hold the ledger's
expiry released; it reads only AUTHORIZED rows, a small share of all card transactions.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_card_transactions_authorized ON card_transactions (hold_id) WHERE status = 'AUTHORIZED'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_card_transactions_authorized")
