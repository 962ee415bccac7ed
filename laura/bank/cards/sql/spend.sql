-- card_spent_cents(card, since): what a card has spent since an instant, from its authorizations (never a
-- counter that can drift). An authorization still held counts in full; a captured one counts what was
-- captured less what was refunded; voided and declined ones count nothing. `GET /api/cards` reads it for
-- Brasília's day and month, and the network's authorization for the card's daily, monthly and (virtual
-- cards, since -infinity) total limits, under the card's row lock.
CREATE OR REPLACE FUNCTION card_spent_cents(p_card uuid, p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(CASE status
                            WHEN 'AUTHORIZED' THEN amount_cents
                            WHEN 'CAPTURED' THEN captured_cents - refunded_cents
                            WHEN 'REFUNDED' THEN captured_cents - refunded_cents
                            ELSE 0
                        END), 0)::bigint
      FROM card_transactions
     WHERE card_id = p_card AND created_at >= p_since AND status <> 'DECLINED'
$$;
