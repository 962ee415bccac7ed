-- The ledger's guards: triggers that keep what the ledger functions write true whoever writes
-- (see docs/ledger.md). Transactions and entries are append-only, accounts and holds are never deleted,
-- a hold resolves once, an account's identity never changes, and every transaction balances at commit.

-- ledger_refuse_change(): behind the *_immutable, *_no_delete and *_no_truncate triggers of
-- ledger_transactions, ledger_entries, ledger_accounts and ledger_holds: the change is refused with
-- insufficient_privilege.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- ledger_holds_resolve_once(): BEFORE UPDATE on ledger_holds: a hold moves once, from pending to posted,
-- voided or expired, and its transaction and expiry never change.
CREATE OR REPLACE FUNCTION ledger_holds_resolve_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR NEW.status = 'pending' OR NEW.transaction_id <> OLD.transaction_id
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'a ledger hold only moves once from pending to posted, voided or expired'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

-- ledger_accounts_fixed(): BEFORE INSERT (ledger_accounts_flags) and BEFORE UPDATE OF the identity
-- columns (ledger_accounts_fixed) on ledger_accounts. An account's code, type, owner and flags are fixed when it is opened: one limit at most, and none on a hot
-- account (its balance is spread over shards, so no single lock could check it). Triggers rather than a
-- CHECK, because a CHECK is re-evaluated on every balance update and these columns never change.
CREATE OR REPLACE FUNCTION ledger_accounts_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the code, type, owner and flags of a ledger account never change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.debits_must_not_exceed_credits AND NEW.credits_must_not_exceed_debits THEN
        RAISE EXCEPTION 'a ledger account has one balance limit at most' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.hot AND (NEW.debits_must_not_exceed_credits OR NEW.credits_must_not_exceed_debits) THEN
        RAISE EXCEPTION 'a hot ledger account cannot have a balance limit' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

-- ledger_check_balanced(): the deferred constraint trigger ledger_entries_balanced (AFTER INSERT on
-- ledger_entries, checked at commit). At commit, every transaction that received entries must exist, balance, match its declared amount, and
-- name existing accounts.
-- A transaction's entries fire one after another, so one check covers them all: it records the last entry
-- it saw ("<transaction>:<entry id>", transaction-local) and later events for entries up to it are skipped.
-- An entry written after that check has a higher id and is checked again. ledger_post's own entries skip
-- the check altogether (the trigger's WHEN clause, migration 0009): ledger_post has checked them already.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_checked text := current_setting('ledger.checked_through', true);
    v_debits bigint;
    v_credits bigint;
    v_amount bigint;
    v_last bigint;
    v_unknown_accounts bigint;
BEGIN
    IF split_part(v_checked, ':', 1) = NEW.transaction_id::text THEN
        IF NEW.id <= split_part(v_checked, ':', 2)::bigint THEN
            RETURN NULL;
        END IF;
    END IF;
    -- (OFFSET 0 keeps the account lookup a per-entry index probe whatever the table statistics say)
    SELECT t.amount, s.debits, s.credits, s.last, s.unknown_accounts
      INTO v_amount, v_debits, v_credits, v_last, v_unknown_accounts
      FROM (SELECT coalesce(sum(e.amount) FILTER (WHERE e.direction = 'D'), 0) AS debits,
                   coalesce(sum(e.amount) FILTER (WHERE e.direction = 'C'), 0) AS credits, max(e.id) AS last,
                   count(*) FILTER (WHERE a.id IS NULL) AS unknown_accounts
              FROM ledger_entries e
              LEFT JOIN LATERAL (SELECT x.id FROM ledger_accounts x WHERE x.id = e.account_id OFFSET 0) a ON true
             WHERE e.transaction_id = NEW.transaction_id) s
      LEFT JOIN ledger_transactions t ON t.id = NEW.transaction_id;
    IF v_amount IS NULL OR v_unknown_accounts > 0 THEN
        RAISE EXCEPTION 'ledger entry % names an unknown transaction or account', NEW.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF v_debits <> v_credits OR v_debits <> v_amount THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (debits %, credits %, amount %)',
            NEW.transaction_id, v_debits, v_credits, v_amount
            USING ERRCODE = 'LD002', DETAIL = NEW.transaction_id::text;
    END IF;
    v_checked := set_config('ledger.checked_through', NEW.transaction_id::text || ':' || v_last, true);
    RETURN NULL;
END $$;

