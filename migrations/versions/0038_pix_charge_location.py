"""Our charge behind a dynamic BR Code: an index on pix_charges' location without its URL scheme

Revision ID: 0038
Revises: 0037

A customer paying a dynamic BR Code from their account is paying one of our own charges when its location
is ours (laura.pix.internal.charge_at): the lookup compares locations without `https://`, as a BR Code
carries them, so the index is on that expression.
"""

from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_pix_charges_location ON pix_charges (regexp_replace(location, '^https?://', ''))"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_pix_charges_location")
