"""card authorizations

Revision ID: 0022
Revises: 0021

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/bank/card_network/sql/authorize.sql
- laura/bank/cards/sql/spend.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/bank/card_network/sql/authorize.sql": r"""-- A card authorization from the card network (POST /api/card-network/authorizations) as one statement:
-- laura.bank.card_network.service.authorize sends card_authorize in autocommit, so the decision, the
-- ledger hold, the card_transactions row and the outbox event commit together in one round trip. Python
-- computes what needs the keys or the calendar (the number's and the CVV's MACs, the category from the MCC,
-- the Brasília day and month starts, the request's fingerprint, the ids); nothing here sees a card number.

-- card_authorize(...): the outcome (laura.bank.card_network.outcomes.AuthorizeOutcome):
--   REPLAYED         the idempotency key's row exists with the same request hash: its answer (nothing written)
--   KEY_REUSED       the key's row exists with another request hash (nothing written)
--   CARD_NOT_FOUND   no card has this number hash (nothing written: a row needs its card)
--   DECLINED         a DECLINED row with decline_code (DeclineCode), a card.declined event; nothing moved
--   APPROVED         the hold D 2101.<user> C 2200 for p_hold_seconds, an AUTHORIZED row with hold_id and a
--                    card.authorized event
-- The card's row is locked first (FOR UPDATE), which serializes a card's limits; the key is read again
-- after the lock: a VOLATILE PL/pgSQL function reads each statement with a fresh snapshot, so a concurrent
-- request with the same key that held the lock before is seen. Two requests with one key on different
-- cards still race to the key's UNIQUE index: the loser raises unique_violation and the caller asks again.
-- The checks, in order: the card's status, its account's, the expiry, the CVV (when sent), the currency,
-- the day/month limits and a virtual card's life limit (card_spent_cents, read under the lock), and last the
-- balance: ledger_post's own no-overdraft check on the available balance (holds count), whose LD001 is
-- caught in a subtransaction and becomes INSUFFICIENT_BALANCE.
CREATE OR REPLACE FUNCTION card_authorize(
    p_id uuid, p_idempotency_key text, p_request_hash bytea,
    p_number_hash bytea, p_expiry text, p_cvv_mac bytea,
    p_cents bigint, p_currency text, p_merchant text, p_mcc text, p_city text, p_country text,
    p_category text, p_now timestamptz, p_day_start timestamptz, p_month_start timestamptz,
    p_hold_id uuid, p_hold_seconds integer,
    OUT outcome text, OUT authorization_id uuid, OUT decline_code text, OUT amount_cents bigint,
    OUT user_id uuid
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_card cards;
    v_account_status text;
    v_status text;
BEGIN
    FOR attempt IN 1..2 LOOP
        SELECT t.id, t.decline_code, t.amount_cents, t.user_id,
               CASE WHEN t.request_hash = p_request_hash THEN 'REPLAYED' ELSE 'KEY_REUSED' END
          INTO authorization_id, decline_code, amount_cents, user_id, outcome
          FROM card_transactions t WHERE t.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            IF outcome = 'KEY_REUSED' THEN
                authorization_id := NULL;
                decline_code := NULL;
                amount_cents := NULL;
                user_id := NULL;
            END IF;
            RETURN;
        END IF;
        IF attempt = 1 THEN
            SELECT * INTO v_card FROM cards c WHERE c.number_hash = p_number_hash FOR UPDATE;
            IF NOT FOUND THEN
                outcome := 'CARD_NOT_FOUND';
                RETURN;
            END IF;
        END IF;
    END LOOP;

    SELECT a.status INTO v_account_status FROM bank_accounts a WHERE a.id = v_card.account_id;
    decline_code := CASE
        WHEN v_card.status <> 'ACTIVE' THEN 'CARD_BLOCKED'
        WHEN v_account_status IS DISTINCT FROM 'ACTIVE' THEN 'ACCOUNT_NOT_ACTIVE'
        WHEN v_card.expires_at < p_now OR p_expiry IS DISTINCT FROM v_card.expiry_date THEN 'CARD_EXPIRED'
        WHEN p_cvv_mac IS NOT NULL AND p_cvv_mac <> v_card.cvv_mac THEN 'INVALID_CVV'
        WHEN p_currency <> 'BRL' THEN 'CURRENCY_NOT_SUPPORTED'
        WHEN card_spent_cents(v_card.id, p_day_start) + p_cents > v_card.daily_limit_cents
          OR card_spent_cents(v_card.id, p_month_start) + p_cents > v_card.monthly_limit_cents
          OR (v_card.limit_cents IS NOT NULL
              AND card_spent_cents(v_card.id, '-infinity') + p_cents > v_card.limit_cents) THEN 'LIMIT_EXCEEDED'
    END;
    IF decline_code IS NULL THEN
        BEGIN
            PERFORM ledger_post(p_hold_id, 'card:auth:' || p_id, 'CARD_AUTHORIZATION', p_merchant,
                                'card_transaction', p_id::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                                ARRAY[bank_ledger_code(v_card.user_id), '2200'], ARRAY['D', 'C'],
                                ARRAY[p_cents, p_cents], true, p_hold_seconds);
        EXCEPTION WHEN SQLSTATE 'LD001' THEN
            decline_code := 'INSUFFICIENT_BALANCE';
        END;
    END IF;
    v_status := CASE WHEN decline_code IS NULL THEN 'AUTHORIZED' ELSE 'DECLINED' END;

    INSERT INTO card_transactions (id, card_id, user_id, amount_cents, currency, merchant, mcc, merchant_city,
                                   merchant_country, category, status, decline_code, hold_id,
                                   idempotency_key, request_hash, created_at, updated_at)
    VALUES (p_id, v_card.id, v_card.user_id, p_cents, p_currency, p_merchant, p_mcc, p_city, p_country,
            p_category, v_status, decline_code, CASE WHEN decline_code IS NULL THEN p_hold_id END,
            p_idempotency_key, p_request_hash, p_now, p_now);
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES (CASE WHEN decline_code IS NULL THEN 'card.authorized' ELSE 'card.declined' END,
            jsonb_build_object('authorizationId', p_id, 'cardId', v_card.id, 'lastFourDigits', v_card.last_four,
                               'amount', (p_cents::numeric / 100)::numeric(15, 2)::text,
                               'currency', p_currency, 'merchant', p_merchant, 'mcc', p_mcc,
                               'category', p_category, 'status', v_status, 'declineCode', decline_code),
            ARRAY[v_card.user_id], '{}', p_now);
    outcome := CASE WHEN decline_code IS NULL THEN 'APPROVED' ELSE 'DECLINED' END;
    authorization_id := p_id;
    amount_cents := p_cents;
    user_id := v_card.user_id;
END $$;
""",
    "laura/bank/cards/sql/spend.sql": r"""-- card_spent_cents(card, since): what a card has spent since an instant, from its authorizations (never a
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
""",
}

DOWNGRADE = [
    r"""CREATE OR REPLACE FUNCTION public.card_spent_cents(p_card uuid, p_since timestamp with time zone)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
    SELECT coalesce(sum(CASE status
                            WHEN 'AUTHORIZED' THEN amount_cents
                            WHEN 'CAPTURED' THEN captured_cents - refunded_cents
                            WHEN 'REFUNDED' THEN captured_cents - refunded_cents
                            ELSE 0
                        END), 0)::bigint
      FROM card_transactions
     WHERE card_id = p_card AND created_at >= p_since AND status <> 'DECLINED'
$function$
""",
    r"""DROP FUNCTION card_authorize(uuid,text,bytea,bytea,text,bytea,bigint,text,text,text,text,text,text,timestamp with time zone,timestamp with time zone,timestamp with time zone,uuid,integer)""",
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


def upgrade() -> None:
    _run(list(UPGRADE.values()))


def downgrade() -> None:
    _run(DOWNGRADE)
