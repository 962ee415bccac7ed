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

`ledger_post` has already checked that its lines balance (two or more, positive, debits = credits =
amount) and found every account when it writes the entries, so the commit-time balance check of
migration 0002 is not queued for them: while it applies the lines it names its transaction in the
transaction-local setting `ledger.posting`, and the constraint trigger's WHEN clause (evaluated as each
row is inserted, not at commit) lets through only entries of other transactions. Entries written any
other way, or added to the transaction afterwards, are still checked at commit.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_APPLY = """    PERFORM ledger_apply(tx.id, tx.created_at, p_account_ids, p_account_codes, p_directions, p_amounts, NULL,
                         p_pending);"""
_APPLY_NAMED = f"""    -- The lines were checked above and ledger_apply finds every account: see migration 0009.
    PERFORM set_config('ledger.posting', tx.id::text, true);
{_APPLY}
    PERFORM set_config('ledger.posting', '', true);"""

# ledger_post is patched in place (its definition read back from the database) rather than restated here.
_PATCH_LEDGER_POST = """
DO $patch$
DECLARE
    v_def text := pg_get_functiondef('ledger_post'::regproc);
BEGIN
    IF position($old${old}$old$ IN v_def) = 0 THEN
        RAISE EXCEPTION 'ledger_post is not the definition this migration expects';
    END IF;
    EXECUTE replace(v_def, $old${old}$old$, $new${new}$new$);
END $patch$;
"""

_CHECK_TRIGGER = """
DROP TRIGGER ledger_entries_balanced ON ledger_entries;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}
    EXECUTE FUNCTION ledger_check_balanced();
"""
_UNLESS_POSTING = "WHEN (current_setting('ledger.posting', true) IS DISTINCT FROM NEW.transaction_id::text)"


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
    op.execute(_PATCH_LEDGER_POST.format(old=_APPLY, new=_APPLY_NAMED))
    op.execute(_CHECK_TRIGGER.format(when=_UNLESS_POSTING))


def downgrade() -> None:
    op.execute(_CHECK_TRIGGER.format(when=""))
    op.execute(_PATCH_LEDGER_POST.format(old=_APPLY_NAMED, new=_APPLY))
    op.execute(
        """
        DROP TRIGGER outbox_wake ON outbox;
        DROP FUNCTION outbox_wake();
        DROP FUNCTION idempotency_claim(text, text, timestamptz);
        """
    )
