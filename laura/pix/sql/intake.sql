-- Received Pix (laura.pix.intake): a webhook delivery stored and every Pix of it applied in one autocommit
-- statement (pix_ingest_delivery), and one Pix applied by reconciliation (pix_apply_received). Both are
-- VOLATILE PL/pgSQL: each statement reads with a fresh snapshot, so a charge paid by a concurrent
-- transaction that committed while this one waited for its lock is seen as paid.

-- pix_apply_received(txid, e2e_id, amount, occurred_at, payload, source, delivery_id, context): locks the
-- charge, decides, records the Pix in financial_events (its unique e2eId makes it count once) and changes
-- the charge. Outcomes (laura.pix.outcomes.ReceivedPixOutcome, and ReceivedPixReason for `reason`):
--   applied     the charge was ACTIVE with this amount: now PAID, and its purpose's effect ran
--               (pix_charge_purposes.effect, e.g. bank_deposit_credit) in the same statement
--   unmatched   no_txid (the Pix names no charge) or unknown_txid
--   flagged     charge_not_active or amount_mismatch: recorded for review; the charge keeps its first
--               review_reason. A Pix into a charge no longer ACTIVE (paid twice, paid after it expired or
--               was cancelled) is money we hold and did not apply: its purpose's unapplied_effect, when it
--               has one (pix_charge_purposes), books it in the same statement (a ride's: a refund owed)
--   duplicate   this e2eId was recorded before: nothing changed
-- `charge` is the charge as it now is (NULL when unmatched).
CREATE OR REPLACE FUNCTION pix_apply_received(
    p_txid text, p_e2e_id text, p_amount_cents bigint, p_occurred_at timestamptz, p_payload jsonb,
    p_source text, p_delivery_id bigint, p_context jsonb,
    OUT outcome text, OUT reason text, OUT charge pix_charges
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_status text := 'applied';
    v_effect regprocedure;
BEGIN
    IF p_txid IS NULL OR p_txid = '' THEN
        v_status := 'unmatched';
        reason := 'no_txid';
    ELSE
        SELECT * INTO charge FROM pix_charges c WHERE c.txid = p_txid FOR UPDATE;
        IF NOT FOUND THEN
            v_status := 'unmatched';
            reason := 'unknown_txid';
        ELSIF charge.status <> 'ACTIVE' THEN
            v_status := 'flagged';
            reason := 'charge_not_active';
        ELSIF charge.amount_cents <> p_amount_cents THEN
            v_status := 'flagged';
            reason := 'amount_mismatch';
        END IF;
    END IF;
    INSERT INTO financial_events AS e (external_id, kind, status, reason, txid, purpose, entity_id,
                                       amount_cents, source, delivery_id, occurred_at, payload)
    VALUES (p_e2e_id, 'pix.received', v_status, reason, p_txid, charge.purpose, charge.entity_id,
            p_amount_cents, p_source, p_delivery_id, p_occurred_at, p_payload)
    ON CONFLICT (external_id) DO NOTHING;
    IF NOT FOUND THEN
        outcome := 'duplicate';
        RETURN;
    END IF;
    outcome := v_status;
    IF v_status = 'applied' THEN
        UPDATE pix_charges c SET status = 'PAID', paid_at = p_occurred_at, e2e_id = p_e2e_id
         WHERE c.txid = p_txid RETURNING * INTO charge;
        SELECT p.effect INTO STRICT v_effect FROM pix_charge_purposes p WHERE p.purpose = charge.purpose;
        EXECUTE format('SELECT %s($1, $2, $3)', v_effect::regproc) USING charge, p_payload, p_context;
    ELSIF charge.txid IS NOT NULL AND charge.review_reason IS NULL THEN
        UPDATE pix_charges c SET review_reason = reason WHERE c.txid = p_txid RETURNING * INTO charge;
    END IF;
    IF reason = 'charge_not_active' THEN
        SELECT p.unapplied_effect INTO v_effect FROM pix_charge_purposes p WHERE p.purpose = charge.purpose;
        IF v_effect IS NOT NULL THEN
            EXECUTE format('SELECT %s($1, $2, $3)', v_effect::regproc) USING charge, p_payload, p_context;
        END IF;
    END IF;
END $$;

-- pix_ingest_delivery(sha256, body, auth, pix_count, error, txids, e2e_ids, amounts, times, payloads,
-- context): stores a webhook delivery (unique by SHA-256) and, unless it was stored before, applies each
-- received Pix of it in order with pix_apply_received. The first row is the delivery (delivery_id NULL: a
-- duplicate delivery, nothing applied); then one row per Pix with its outcome. A delivery thus costs one
-- round trip instead of one plus two per Pix (docs/PERFORMANCE.md, "webhooks").
CREATE OR REPLACE FUNCTION pix_ingest_delivery(
    p_sha256 text, p_body bytea, p_auth text, p_pix_count integer, p_error text,
    p_txids text[], p_e2e_ids text[], p_amounts bigint[], p_occurred_at timestamptz[], p_payloads jsonb,
    p_context jsonb
) RETURNS TABLE (delivery_id bigint, outcome text, reason text, charge pix_charges)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    applied record;
BEGIN
    INSERT INTO webhook_deliveries AS d (sha256, body, auth, pix_count, error)
    VALUES (p_sha256, p_body, p_auth, p_pix_count, p_error)
    ON CONFLICT (sha256) DO NOTHING
    RETURNING d.id INTO delivery_id;
    RETURN NEXT;
    IF delivery_id IS NULL THEN
        RETURN;
    END IF;
    FOR i IN 1..coalesce(cardinality(p_e2e_ids), 0) LOOP
        applied := pix_apply_received(p_txids[i], p_e2e_ids[i], p_amounts[i], p_occurred_at[i],
                                      p_payloads -> (i - 1), 'webhook', delivery_id, p_context);
        outcome := applied.outcome;
        reason := applied.reason;
        charge := applied.charge;
        RETURN NEXT;
    END LOOP;
END $$;

