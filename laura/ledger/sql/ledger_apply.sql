-- ledger_apply: the one writer of balances and entries, shared by ledger_post, ledger_post_hold,
-- ledger_void_hold and ledger_reverse (never called by the application).
--
-- ledger_apply(tx, at, ids, codes, directions, amounts, releases, pending): applies one transaction's lines
-- to the balances and writes its entries. Line i names its account by id (p_account_ids[i]) or code
-- (p_account_codes[i]), moves p_amounts[i] (posted, or pending when p_pending) and releases p_releases[i] of
-- pending on the same side. Lines are applied in account id order (then line order), one UPDATE each, so
-- concurrent postings lock accounts in one global order and never deadlock. The limit check is part of the
-- UPDATE's WHERE: it is evaluated on the latest row version under the row lock, and its RETURNING is the
-- entry's running balance. Hot accounts come last, into this backend's shard row: their shared account row
-- is never locked. The 16 shards are laura.ledger.repository.SHARDS (the rows migration 0002 and
-- open_account create); a missing shard row raises.
--
-- Errors (SQLSTATEs of laura.ledger.outcomes.LedgerSqlState): LD001 insufficient funds (a balance limit
-- would be crossed), LD003 account not found.
CREATE OR REPLACE FUNCTION ledger_apply(
    p_tx uuid, p_at timestamptz, p_account_ids uuid[], p_account_codes text[], p_directions text[],
    p_amounts bigint[], p_releases bigint[], p_pending boolean
) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    r record;
    v_accounts uuid[] := p_account_ids;
    v_after bigint[] := array_fill(NULL::bigint, ARRAY[cardinality(p_directions)]);
    v_hot uuid[] := '{}';
    v_hot_deltas bigint[] := '{}';
    v_pending bigint;
    v_posted bigint;
    v_dp bigint;
    v_dd bigint;
    v_cp bigint;
    v_cd bigint;
    v_balance bigint;
    v_shard smallint := pg_backend_pid() % 16;
    i int;
BEGIN
    FOR r IN
        SELECT l.n::int AS n, a.id, a.code, a.hot, a.type IN ('ASSET', 'EXPENSE') AS debit_normal,
               coalesce(l.code, l.id::text) AS name, l.direction = 'D' AS debit, l.amount,
               coalesce(l.release, 0) AS release
          FROM unnest(p_account_ids, p_account_codes, p_directions, p_amounts, p_releases) WITH ORDINALITY
               AS l(id, code, direction, amount, release, n)
          LEFT JOIN ledger_accounts a
                 ON a.id = coalesce(l.id, (SELECT c.id FROM ledger_accounts c WHERE c.code = l.code))
         ORDER BY a.id NULLS FIRST, l.n
    LOOP
        IF r.id IS NULL THEN
            RAISE EXCEPTION 'ledger account % not found', r.name USING ERRCODE = 'LD003', DETAIL = r.name;
        END IF;
        v_accounts[r.n] := r.id;
        v_pending := CASE WHEN p_pending THEN r.amount ELSE 0 END - r.release;
        v_posted := CASE WHEN p_pending THEN 0 ELSE r.amount END;
        IF r.debit THEN
            v_dp := v_pending; v_dd := v_posted; v_cp := 0; v_cd := 0;
        ELSE
            v_dp := 0; v_dd := 0; v_cp := v_pending; v_cd := v_posted;
        END IF;
        IF r.hot THEN
            v_hot := v_hot || r.id;
            v_hot_deltas := v_hot_deltas || ARRAY[v_dp, v_dd, v_cp, v_cd];
            CONTINUE;
        END IF;
        UPDATE ledger_accounts
           SET debits_pending = debits_pending + v_dp, debits_posted = debits_posted + v_dd,
               credits_pending = credits_pending + v_cp, credits_posted = credits_posted + v_cd
         WHERE id = r.id
           AND (NOT debits_must_not_exceed_credits
                OR debits_pending + v_dp + debits_posted + v_dd <= credits_posted + v_cd)
           AND (NOT credits_must_not_exceed_debits
                OR credits_pending + v_cp + credits_posted + v_cd <= debits_posted + v_dd)
        RETURNING CASE WHEN r.debit_normal THEN debits_posted - credits_posted
                       ELSE credits_posted - debits_posted END
          INTO v_balance;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'insufficient funds in ledger account %', r.code
                USING ERRCODE = 'LD001', DETAIL = r.code;
        END IF;
        v_after[r.n] := v_balance;
    END LOOP;

    INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, balance_after, created_at)
    SELECT p_tx, l.account_id, l.direction, l.amount, p_pending, l.after, p_at
      FROM unnest(v_accounts, p_directions, p_amounts, v_after) AS l(account_id, direction, amount, after)
     WHERE l.amount > 0;

    FOR i IN 1..cardinality(v_hot) LOOP
        UPDATE ledger_account_shards
           SET debits_pending = debits_pending + v_hot_deltas[4 * i - 3],
               debits_posted = debits_posted + v_hot_deltas[4 * i - 2],
               credits_pending = credits_pending + v_hot_deltas[4 * i - 1],
               credits_posted = credits_posted + v_hot_deltas[4 * i]
         WHERE account_id = v_hot[i] AND shard = v_shard;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'hot ledger account % has no shard %', v_hot[i], v_shard;
        END IF;
    END LOOP;
END $$;

