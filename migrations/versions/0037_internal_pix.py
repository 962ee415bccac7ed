"""Internal Pix: a charge of ours paid from a Laura bank account is recorded with source 'internal'

Revision ID: 0037
Revises: 0036

`financial_events.source` names who told us of a Pix: the PSP's webhook, reconciliation, the PSP's answer
to a send, and now the bank itself, for a charge paid from a customer's account (laura.pix.internal).
"""

from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE financial_events DROP CONSTRAINT financial_events_source_check;
        ALTER TABLE financial_events ADD CONSTRAINT financial_events_source_check
            CHECK (source IN ('webhook', 'reconciliation', 'psp_answer', 'internal'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE financial_events DROP CONSTRAINT financial_events_source_check;
        ALTER TABLE financial_events ADD CONSTRAINT financial_events_source_check
            CHECK (source IN ('webhook', 'reconciliation', 'psp_answer'));
        """
    )
