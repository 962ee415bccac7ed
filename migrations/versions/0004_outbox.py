"""Domain events: the transactional outbox.

Revision ID: 0004
Revises: 0003

`id` is the insertion order (what clients see); bigserial ids can commit out of order, so the relay gives
each row a `position` from its own sequence when it publishes it. Positions follow publication order, which
is what `?since=` replays and what subscribers deduplicate on.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE outbox_position_seq;

        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            type varchar(100) NOT NULL,
            data jsonb NOT NULL,
            user_ids uuid[] NOT NULL DEFAULT '{}',
            roles text[] NOT NULL DEFAULT '{}',
            occurred_at timestamptz NOT NULL DEFAULT now(),
            position bigint UNIQUE,
            published_at timestamptz
        );
        CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
        CREATE INDEX ix_outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
        CREATE INDEX ix_outbox_user_ids ON outbox USING gin (user_ids);
        CREATE INDEX ix_outbox_roles ON outbox USING gin (roles);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE outbox;
        DROP SEQUENCE outbox_position_seq;
        """
    )
