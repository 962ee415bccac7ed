"""The outbox no longer NOTIFYs from inside the business transaction.

Revision ID: 0013
Revises: 0012

Migration 0009's statement trigger sent `NOTIFY laura_outbox` from every transaction that wrote events.
PostgreSQL serializes notifying transactions through their commit under one database-wide lock (so that
notifications queue in commit order), so every such transaction waited for the previous one's WAL flush,
with its row and advisory locks held: under load a P2P spent most of its time there. The relay is now woken
after the commit instead (`laura.core.events.relay`): the local one directly, the leader in another process
by a NOTIFY that the follower's relay sends on its own connection.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TRIGGER outbox_wake ON outbox; DROP FUNCTION outbox_wake();")


def downgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('laura_outbox', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER outbox_wake AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake();
        """
    )
