"""card spend from authorizations

Revision ID: 0020
Revises: 0019

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/bank/cards/sql/spend.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/bank/cards/sql/spend.sql": r"""-- card_spent_cents(card, since): what a card has spent since an instant, from its authorizations (never a
-- counter that can drift). An authorization still held counts in full; a captured one counts what was
-- captured less what was refunded; voided and declined ones count nothing. `GET /api/cards` reads it for
-- Brasília's day and month, and the network's authorization for the card's daily, monthly and (virtual
-- cards, since -infinity) total limits, under the card's row lock.
CREATE OR REPLACE FUNCTION card_spent_cents(p_card uuid, p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(CASE status
                            WHEN 'AUTHORIZED' THEN amount_cents
                            WHEN 'CAPTURED' THEN captured_cents - refunded_cents
                            WHEN 'REFUNDED' THEN captured_cents - refunded_cents
                            ELSE 0
                        END), 0)::bigint
      FROM card_transactions
     WHERE card_id = p_card AND created_at >= p_since AND status <> 'DECLINED'
$$;
""",
}

DOWNGRADE = [
    r"""DROP FUNCTION card_spent_cents(uuid,timestamp with time zone)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


def upgrade() -> None:
    _run(list(UPGRADE.values()))


def downgrade() -> None:
    _run(DOWNGRADE)
