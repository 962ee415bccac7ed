-- card_spent_cents(card, since): what a card has spent since an instant, from its authorizations (never a
-- counter that can drift). An authorization counts in full while its ledger hold is pending (once the
-- ledger's expiry has released the hold it counts nothing, even before the card network's task marks it
-- VOIDED); a captured one counts what was captured less what was refunded; voided and declined ones count
-- nothing. `GET /api/cards` reads it for Brasília's day and month, and the network's authorization for the
-- card's daily, monthly and (virtual cards, since -infinity) total limits, under the card's row lock.
CREATE OR REPLACE FUNCTION card_spent_cents(p_card uuid, p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(CASE t.status
                            WHEN 'AUTHORIZED' THEN
                                CASE WHEN h.status = 'pending' THEN t.amount_cents ELSE 0 END
                            WHEN 'CAPTURED' THEN t.captured_cents - t.refunded_cents
                            WHEN 'REFUNDED' THEN t.captured_cents - t.refunded_cents
                            ELSE 0
                        END), 0)::bigint
      FROM card_transactions t
      LEFT JOIN ledger_holds h ON h.transaction_id = t.hold_id AND t.status = 'AUTHORIZED'
     WHERE t.card_id = p_card AND t.created_at >= p_since AND t.status <> 'DECLINED'
$$;
