-- Errors carry SQLSTATEs of the class LD (laura.ledger.outcomes.LedgerSqlState, mapped to AppErrors by
-- laura.ledger.errors):
-- LD001 insufficient funds, LD002 unbalanced, LD003 account not found, LD004 reference reused with other
-- lines, LD005 hold not pending, LD006 transaction not found, LD007 already reversed, LD008 invalid lines.

-- ledger_reverse(id, original, reference, ...): a new transaction with the original's entries mirrored; the original stays as it was. Balance limits
-- apply, so a reversal that would overdraw an account is refused like any posting (LD001). A replay of the
-- reference returns the first reversal; a second reversal raises LD007, a hold LD008.
CREATE OR REPLACE FUNCTION ledger_reverse(
    p_id uuid, p_original uuid, p_reference text, p_reason text, p_description text, p_metadata jsonb,
    OUT tx ledger_transactions, OUT replayed boolean
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_orig ledger_transactions;
    v_accounts uuid[];
    v_directions text[];
    v_amounts bigint[];
BEGIN
    SELECT * INTO v_orig FROM ledger_transactions WHERE id = p_original FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger transaction % not found', p_original
            USING ERRCODE = 'LD006', DETAIL = p_original::text;
    END IF;
    SELECT * INTO tx FROM ledger_transactions WHERE reference = p_reference;
    IF FOUND THEN
        IF tx.kind = 'reversal' AND tx.reverses_id = p_original THEN
            replayed := true;
            RETURN;
        END IF;
        RAISE EXCEPTION 'reference % was already used for a different transaction', p_reference
            USING ERRCODE = 'LD004', DETAIL = p_reference;
    END IF;
    IF v_orig.kind NOT IN ('posting', 'hold_post') THEN
        RAISE EXCEPTION 'a % cannot be reversed (void a hold instead)', v_orig.kind USING ERRCODE = 'LD008';
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_transactions WHERE reverses_id = p_original) THEN
        RAISE EXCEPTION 'ledger transaction % was already reversed', p_original
            USING ERRCODE = 'LD007', DETAIL = p_original::text;
    END IF;
    SELECT array_agg(account_id ORDER BY id),
           array_agg(CASE direction WHEN 'D' THEN 'C' ELSE 'D' END ORDER BY id),
           array_agg(amount ORDER BY id)
      INTO v_accounts, v_directions, v_amounts
      FROM ledger_entries WHERE transaction_id = p_original;
    INSERT INTO ledger_transactions (id, reference, kind, reason, description, entity_type, entity_id,
                                     external_ref, metadata, amount, reverses_id)
    VALUES (p_id, p_reference, 'reversal', p_reason, p_description, v_orig.entity_type, v_orig.entity_id,
            v_orig.external_ref, coalesce(p_metadata, '{}'), v_orig.amount, p_original)
    ON CONFLICT (reference) DO NOTHING
    RETURNING * INTO tx;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reference % was already used for a different transaction', p_reference
            USING ERRCODE = 'LD004', DETAIL = p_reference;
    END IF;
    PERFORM ledger_apply(tx.id, tx.created_at, v_accounts, NULL, v_directions, v_amounts, NULL, false);
    replayed := false;
END $$;

