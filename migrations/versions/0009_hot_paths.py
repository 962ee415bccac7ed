"""Hot paths: the idempotency claim as one call, the outbox wake as a trigger, a posting's own balance check.

Revision ID: 0009
Revises: 0008

`idempotency_claim` takes the transaction-scoped advisory lock of (owner, key) and only then reads the
stored answer. Being a VOLATILE PL/pgSQL function, its read takes a snapshot after the lock is held, so
an answer committed by the request that held the lock just before is always seen (a single SELECT would
read with the snapshot of its start, from before that commit).

The outbox wake was a second statement after each event insert in processes whose relay does not lead;
a statement trigger sends it instead. PostgreSQL folds identical notifications of one transaction into
one and delivers it only on commit.

`ledger_post` has already checked that its lines balance when it writes them, so it marks its entries as
checked for the commit-time trigger of migration 0002 (`ledger.checked_through`), which then skips them
instead of summing them again. Entries written any other way, or added to the transaction later, are still
checked at commit.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# ledger_post is patched in place (its definition read back from the database) rather than restated here.
_PATCH_LEDGER_POST = """
DO $patch$
DECLARE
    v_def text := pg_get_functiondef('ledger_post'::regproc);
BEGIN
    IF position(%(old)s IN v_def) = 0 THEN
        RAISE EXCEPTION 'ledger_post is not the definition this migration expects';
    END IF;
    EXECUTE replace(v_def, %(old)s, %(new)s);
END $patch$;
"""
_END = "'    replayed := false;'"
_MARKED = (
    "'    -- The lines were checked above (two or more, positive, debits = credits = amount) and ledger_apply'"
    " || chr(10) || '    -- found every account: the commit-time check may skip the entries written so far.'"
    " || chr(10) || '    PERFORM set_config(''ledger.checked_through'', tx.id::text || '':'' ||"
    " currval(''ledger_entries_id_seq''), true);' || chr(10) || '    replayed := false;'"
)


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
    op.execute(_PATCH_LEDGER_POST % {"old": _END, "new": _MARKED})


def downgrade() -> None:
    op.execute(_PATCH_LEDGER_POST % {"old": _MARKED, "new": _END})
    op.execute(
        """
        DROP TRIGGER outbox_wake ON outbox;
        DROP FUNCTION outbox_wake();
        DROP FUNCTION idempotency_claim(text, text, timestamptz);
        """
    )
