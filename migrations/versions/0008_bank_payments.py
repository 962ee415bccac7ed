"""Bank payments: the TED recipient's document, and the index the Pix night-limit sum reads.

Revision ID: 0008
Revises: 0007

A TED names its recipient by CPF/CNPJ as well as by name; the Pix night rule sums one customer's Pix that
moved money since 20:00 Brasília, so it reads their PIX rows by completion (or creation) time.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE transfers ADD COLUMN recipient_document varchar(14);
        CREATE INDEX ix_transfers_pix_moved ON transfers (user_id, (coalesce(completed_at, created_at)))
            WHERE type = 'PIX' AND status IN ('PENDING', 'COMPLETED');
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_transfers_pix_moved;
        ALTER TABLE transfers DROP COLUMN recipient_document;
        """
    )
