-- Holds: two-phase transfers (TigerBeetle's pending transfers). ledger_post with p_pending books the
-- amounts as pending; ledger_post_hold posts them (in full or, for two lines, in part) and
-- ledger_void_hold releases them. Each resolves the hold's status row once (ledger_holds_resolve_once).
--
-- Errors carry SQLSTATEs of the class LD (laura.ledger.outcomes.LedgerSqlState, mapped to AppErrors by
-- laura.ledger.errors):
-- LD001 insufficient funds, LD002 unbalanced, LD003 account not found, LD004 reference reused with other
-- lines, LD005 hold not pending, LD006 transaction not found, LD007 already reversed, LD008 invalid lines.

-- ledger_find_hold(id, reference): finds a hold by id or reference (LD006 if there is none); the caller then locks its status row (serializes post/void of one hold).
CREATE OR REPLACE FUNCTION ledger_find_hold(p_hold_id uuid, p_hold_reference text) RETURNS ledger_transactions
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold ledger_transactions;
BEGIN
    IF p_hold_id IS NOT NULL THEN
        SELECT * INTO v_hold FROM ledger_transactions WHERE id = p_hold_id;
    ELSE
        SELECT * INTO v_hold FROM ledger_transactions WHERE reference = p_hold_reference;
    END IF;
    IF v_hold.id IS NULL OR v_hold.kind <> 'hold' THEN
        RAISE EXCEPTION 'ledger hold % not found', coalesce(p_hold_id::text, p_hold_reference)
            USING ERRCODE = 'LD006', DETAIL = coalesce(p_hold_id::text, p_hold_reference);
    END IF;
    RETURN v_hold;
END $$;

-- ledger_post_hold(id, hold, amount, reference, ...): posts a pending hold, in full or (two-line holds)
-- partially; the rest of the hold is released. A replay of the reference returns the first post
-- (replayed = true); a hold already resolved or expired raises LD005 (DETAIL: its status, or 'expired').
CREATE OR REPLACE FUNCTION ledger_post_hold(
    p_id uuid, p_hold_id uuid, p_hold_reference text, p_amount bigint, p_reference text, p_reason text,
    p_description text, p_metadata jsonb, OUT tx ledger_transactions, OUT replayed boolean
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold ledger_transactions;
    v_state ledger_holds;
    v_amount bigint;
    v_accounts uuid[];
    v_directions text[];
    v_held bigint[];
    v_posted bigint[];
BEGIN
    v_hold := ledger_find_hold(p_hold_id, p_hold_reference);
    SELECT * INTO v_state FROM ledger_holds WHERE transaction_id = v_hold.id FOR UPDATE;
    v_amount := coalesce(p_amount, v_hold.amount);
    SELECT * INTO tx FROM ledger_transactions WHERE reference = p_reference;
    IF FOUND THEN
        IF tx.kind = 'hold_post' AND tx.hold_id = v_hold.id AND tx.amount = v_amount THEN
            replayed := true;
            RETURN;
        END IF;
        RAISE EXCEPTION 'reference % was already used for a different transaction', p_reference
            USING ERRCODE = 'LD004', DETAIL = p_reference;
    END IF;
    IF v_state.status <> 'pending' THEN
        RAISE EXCEPTION 'ledger hold % is %', v_hold.id, v_state.status USING ERRCODE = 'LD005', DETAIL = v_state.status;
    END IF;
    IF v_state.expires_at <= now() THEN
        RAISE EXCEPTION 'ledger hold % expired', v_hold.id USING ERRCODE = 'LD005', DETAIL = 'expired';
    END IF;
    SELECT array_agg(account_id ORDER BY id), array_agg(direction::text ORDER BY id), array_agg(amount ORDER BY id)
      INTO v_accounts, v_directions, v_held
      FROM ledger_entries WHERE transaction_id = v_hold.id;
    IF v_amount = v_hold.amount THEN
        v_posted := v_held;
    ELSIF cardinality(v_accounts) <> 2 THEN
        RAISE EXCEPTION 'only a two-line hold can be posted partially' USING ERRCODE = 'LD008';
    ELSIF v_amount <= 0 OR v_amount > v_hold.amount THEN
        RAISE EXCEPTION 'the posted amount must be positive and at most the held %', v_hold.amount
            USING ERRCODE = 'LD008';
    ELSE
        v_posted := ARRAY[v_amount, v_amount];
    END IF;
    INSERT INTO ledger_transactions (id, reference, kind, reason, description, entity_type, entity_id,
                                     external_ref, metadata, amount, hold_id)
    VALUES (p_id, p_reference, 'hold_post', coalesce(p_reason, v_hold.reason),
            coalesce(p_description, v_hold.description), v_hold.entity_type, v_hold.entity_id,
            v_hold.external_ref, coalesce(p_metadata, v_hold.metadata), v_amount, v_hold.id)
    ON CONFLICT (reference) DO NOTHING
    RETURNING * INTO tx;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reference % was already used for a different transaction', p_reference
            USING ERRCODE = 'LD004', DETAIL = p_reference;
    END IF;
    UPDATE ledger_holds SET status = 'posted', resolved_at = tx.created_at WHERE transaction_id = v_hold.id;
    PERFORM ledger_apply(tx.id, tx.created_at, v_accounts, NULL, v_directions, v_posted, v_held, false);
    replayed := false;
END $$;

-- ledger_void_hold(hold, reference, status): releases a pending hold (p_status 'voided', or 'expired' from the sweep). Voiding again is a no-op;
-- the sweep skips holds that were resolved meanwhile.
CREATE OR REPLACE FUNCTION ledger_void_hold(p_hold_id uuid, p_hold_reference text, p_status text DEFAULT 'voided')
RETURNS ledger_holds LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold ledger_transactions;
    v_state ledger_holds;
    v_accounts uuid[];
    v_directions text[];
    v_held bigint[];
BEGIN
    v_hold := ledger_find_hold(p_hold_id, p_hold_reference);
    SELECT * INTO v_state FROM ledger_holds WHERE transaction_id = v_hold.id FOR UPDATE;
    IF v_state.status <> 'pending' THEN
        IF v_state.status IN ('voided', 'expired') OR p_status = 'expired' THEN
            RETURN v_state;
        END IF;
        RAISE EXCEPTION 'ledger hold % is %', v_hold.id, v_state.status USING ERRCODE = 'LD005', DETAIL = v_state.status;
    END IF;
    IF p_status = 'expired' AND (v_state.expires_at IS NULL OR v_state.expires_at > now()) THEN
        RETURN v_state;
    END IF;
    SELECT array_agg(account_id ORDER BY id), array_agg(direction::text ORDER BY id), array_agg(amount ORDER BY id)
      INTO v_accounts, v_directions, v_held
      FROM ledger_entries WHERE transaction_id = v_hold.id;
    UPDATE ledger_holds SET status = p_status, resolved_at = now() WHERE transaction_id = v_hold.id
    RETURNING * INTO v_state;
    PERFORM ledger_apply(v_hold.id, now(), v_accounts, NULL, v_directions,
                         array_fill(0::bigint, ARRAY[cardinality(v_accounts)]), v_held, false);
    RETURN v_state;
END $$;

