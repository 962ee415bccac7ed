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


_MARK_CHECKED = (
    "    PERFORM set_config('ledger.checked_through', tx.id::text || ':' || currval('ledger_entries_id_seq'), true);\n"
)
LEDGER_POST = """
CREATE OR REPLACE FUNCTION ledger_post(
    p_id uuid, p_reference text, p_reason text, p_description text, p_entity_type text, p_entity_id text,
    p_external_ref text, p_metadata jsonb, p_account_ids uuid[], p_account_codes text[], p_directions text[],
    p_amounts bigint[], p_pending boolean DEFAULT false, p_timeout_seconds integer DEFAULT NULL,
    OUT tx ledger_transactions, OUT replayed boolean
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_lines int := coalesce(cardinality(p_directions), 0);
    v_debits bigint := 0;
    v_credits bigint := 0;
    v_kind text := CASE WHEN p_pending THEN 'hold' ELSE 'posting' END;
    i int;
BEGIN
    IF v_lines < 2 OR cardinality(p_account_ids) IS DISTINCT FROM v_lines
       OR cardinality(p_account_codes) IS DISTINCT FROM v_lines OR cardinality(p_amounts) IS DISTINCT FROM v_lines THEN
        RAISE EXCEPTION 'a ledger transaction needs two or more lines, with an account, a direction and an amount each'
            USING ERRCODE = 'LD008';
    END IF;
    FOR i IN 1..v_lines LOOP
        IF p_amounts[i] IS NULL OR p_amounts[i] <= 0 OR p_directions[i] IS NULL OR p_directions[i] NOT IN ('D', 'C')
           OR (p_account_ids[i] IS NULL AND p_account_codes[i] IS NULL) THEN
            RAISE EXCEPTION 'ledger line % needs an account, D or C, and a positive amount', i USING ERRCODE = 'LD008';
        END IF;
        IF p_directions[i] = 'D' THEN
            v_debits := v_debits + p_amounts[i];
        ELSE
            v_credits := v_credits + p_amounts[i];
        END IF;
    END LOOP;
    IF v_debits <> v_credits THEN
        RAISE EXCEPTION 'debits (%) and credits (%) differ', v_debits, v_credits USING ERRCODE = 'LD002';
    END IF;

    INSERT INTO ledger_transactions (id, reference, kind, reason, description, entity_type, entity_id,
                                     external_ref, metadata, amount)
    VALUES (p_id, p_reference, v_kind, p_reason, p_description, p_entity_type, p_entity_id, p_external_ref,
            coalesce(p_metadata, '{}'), v_debits)
    ON CONFLICT (reference) DO NOTHING
    RETURNING * INTO tx;
    IF NOT FOUND THEN
        SELECT * INTO tx FROM ledger_transactions WHERE reference = p_reference;
        IF tx.kind <> v_kind OR ledger_lines_of(tx.id) IS DISTINCT FROM (
            SELECT array_agg(x.a::text || x.d || x.m::text ORDER BY x.a::text || x.d || x.m::text)
              FROM (SELECT coalesce(u.id, (SELECT c.id FROM ledger_accounts c WHERE c.code = u.code)) AS a,
                           u.d, u.m
                      FROM unnest(p_account_ids, p_account_codes, p_directions, p_amounts) AS u(id, code, d, m)) x)
        THEN
            RAISE EXCEPTION 'reference % was already used for a different transaction', p_reference
                USING ERRCODE = 'LD004', DETAIL = p_reference;
        END IF;
        replayed := true;
        RETURN;
    END IF;
    IF p_pending THEN
        INSERT INTO ledger_holds (transaction_id, expires_at)
        VALUES (tx.id, CASE WHEN p_timeout_seconds IS NOT NULL
                            THEN tx.created_at + make_interval(secs => p_timeout_seconds) END);
    END IF;
    PERFORM ledger_apply(tx.id, tx.created_at, p_account_ids, p_account_codes, p_directions, p_amounts, NULL,
                         p_pending);
    -- The lines were checked above (two or more, positive, debits = credits = amount) and ledger_apply found
    -- every account: tell the commit-time check that this transaction's entries so far are verified.
    PERFORM set_config('ledger.checked_through', tx.id::text || ':' || currval('ledger_entries_id_seq'), true);
    replayed := false;
END $$;
"""


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
    op.execute(LEDGER_POST)


def downgrade() -> None:
    op.execute(LEDGER_POST.replace(_MARK_CHECKED, ""))
    op.execute(
        """
        DROP TRIGGER outbox_wake ON outbox;
        DROP FUNCTION outbox_wake();
        DROP FUNCTION idempotency_claim(text, text, timestamptz);
        """
    )
