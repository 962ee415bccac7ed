-- ledger_post: the ledger's posting, the call behind laura.ledger.service.post (and hold) and inside every
-- one-statement unit of work that moves money (bank_p2p_send, bank_deposit_credit).
--
-- Errors carry SQLSTATEs of the class LD (laura.ledger.outcomes.LedgerSqlState, mapped to AppErrors by
-- laura.ledger.errors):
-- LD001 insufficient funds, LD002 unbalanced, LD003 account not found, LD004 reference reused with other
-- lines, LD005 hold not pending, LD006 transaction not found, LD007 already reversed, LD008 invalid lines.

-- ledger_lines_of(tx): the lines of an existing transaction, as a sorted text array, to compare a replay with.
CREATE OR REPLACE FUNCTION ledger_lines_of(p_tx uuid) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT array_agg(account_id::text || direction || amount::text ORDER BY account_id::text || direction || amount::text)
      FROM ledger_entries WHERE transaction_id = p_tx
$$;

-- ledger_post(id, reference, reason, ..., account ids | codes, directions, amounts, pending, timeout):
-- posts (or, with p_pending, holds for p_timeout_seconds) a balanced set of lines under a unique
-- reference. Outcomes:
--   (tx, replayed = false)   posted now
--   (tx, replayed = true)    the reference was posted before with the same lines: the first transaction
--   LD008 / LD002            fewer than two lines, a line without account, direction or positive amount /
--                            debits and credits differ
--   LD004                    the reference was used before for other lines
--   LD001 / LD003            raised by ledger_apply: a balance limit / an unknown account
--
--   SELECT (r.tx).id, r.replayed
--     FROM ledger_post(uuid7(), 'deposit:abc', 'PIX_DEPOSIT', NULL, NULL, NULL, NULL, NULL,
--                      ARRAY[NULL, NULL]::uuid[], ARRAY['1200', '2101.<user id>'], ARRAY['D', 'C'],
--                      ARRAY[1000, 1000]) r;
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
    -- The lines were checked above and ledger_apply finds every account: see migration 0009.
    PERFORM set_config('ledger.posting', tx.id::text, true);
    PERFORM ledger_apply(tx.id, tx.created_at, p_account_ids, p_account_codes, p_directions, p_amounts, NULL,
                         p_pending);
    PERFORM set_config('ledger.posting', '', true);
    replayed := false;
END $$;

