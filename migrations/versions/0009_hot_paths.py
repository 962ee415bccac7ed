"""Hot paths: the idempotency claim as one call, and the outbox wake as a trigger.

Revision ID: 0009
Revises: 0008

`idempotency_claim` takes the transaction-scoped advisory lock of (owner, key) and only then reads the
stored answer. Being a VOLATILE PL/pgSQL function, its read takes a snapshot after the lock is held, so
an answer committed by the request that held the lock just before is always seen (a single SELECT would
read with the snapshot of its start, from before that commit).

The outbox wake was a second statement after each event insert in processes whose relay does not lead;
a statement trigger sends it instead. PostgreSQL folds identical notifications of one transaction into
one and delivers it only on commit.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION idempotency_claim(p_owner text, p_key text, p_now timestamptz,
                                          OUT got boolean, OUT request_hash text, OUT response_status integer,
                                          OUT response_body jsonb)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            got := pg_try_advisory_xact_lock(hashtextextended(p_owner || E'\\n' || p_key, 7426005));
            IF got THEN
                SELECT k.request_hash, k.response_status, k.response_body
                  INTO request_hash, response_status, response_body
                  FROM idempotency_keys k
                 WHERE k.owner = p_owner AND k.key = p_key AND k.status = 'completed' AND k.expires_at >= p_now;
            END IF;
        END $$;

        CREATE FUNCTION outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('laura_outbox', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER outbox_wake AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER outbox_wake ON outbox;
        DROP FUNCTION outbox_wake();
        DROP FUNCTION idempotency_claim(text, text, timestamptz);
        """
    )
