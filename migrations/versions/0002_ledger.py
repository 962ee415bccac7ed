"""Double-entry ledger: accounts, transactions, entries, holds, and the chart of accounts.

Revision ID: 0002
Revises: 0001

Every write goes through the PL/pgSQL functions below (one round trip per posting). Balances are kept per
account; accounts flagged `hot` keep them in 16 shard rows instead, so postings touching them never queue on
one row. Transactions and entries are append-only; a deferred constraint trigger refuses a commit in which
a transaction's entries do not balance.

Errors raised by the functions carry SQLSTATEs of the class `LD` that laura.ledger maps to its AppErrors:
LD001 insufficient funds, LD002 unbalanced, LD003 account not found, LD004 reference reused with other
lines, LD005 hold not pending, LD006 transaction not found, LD007 already reversed, LD008 invalid lines.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SHARDS = 16

# Value rules live in domains: they are checked when a value is written, whereas a table CHECK is re-read
# and re-compiled on every UPDATE of the row (two per posting). Codes and references compare as "C".
TABLES = """
CREATE DOMAIN ledger_account_code AS varchar(64) COLLATE "C"
    CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$');
CREATE DOMAIN ledger_account_type AS varchar(9)
    CHECK (VALUE IN ('ASSET', 'LIABILITY', 'EQUITY', 'INCOME', 'EXPENSE'));
CREATE DOMAIN ledger_currency AS char(3) CHECK (VALUE = 'BRL');
CREATE DOMAIN ledger_transaction_kind AS varchar(9) CHECK (VALUE IN ('posting', 'hold', 'hold_post', 'reversal'));
CREATE DOMAIN ledger_direction AS char(1) CHECK (VALUE IN ('D', 'C'));
CREATE DOMAIN ledger_cents AS bigint CHECK (VALUE > 0);

CREATE TABLE ledger_accounts (
    id uuid PRIMARY KEY,
    code ledger_account_code NOT NULL UNIQUE,
    name varchar(120) NOT NULL,
    type ledger_account_type NOT NULL,
    owner_id uuid,
    currency ledger_currency NOT NULL DEFAULT 'BRL',
    debits_must_not_exceed_credits boolean NOT NULL DEFAULT false,
    credits_must_not_exceed_debits boolean NOT NULL DEFAULT false,
    hot boolean NOT NULL DEFAULT false,
    debits_pending bigint NOT NULL DEFAULT 0,
    debits_posted bigint NOT NULL DEFAULT 0,
    credits_pending bigint NOT NULL DEFAULT 0,
    credits_posted bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_accounts_balances CHECK (
        debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0
        AND (NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted)
        AND (NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted))
) WITH (fillfactor = 80);
CREATE INDEX ix_ledger_accounts_owner ON ledger_accounts (owner_id) WHERE owner_id IS NOT NULL;

-- Balances of hot accounts: each backend adds to its own shard row, reads sum them.
CREATE TABLE ledger_account_shards (
    account_id uuid NOT NULL REFERENCES ledger_accounts (id),
    shard smallint NOT NULL,
    debits_pending bigint NOT NULL DEFAULT 0,
    debits_posted bigint NOT NULL DEFAULT 0,
    credits_pending bigint NOT NULL DEFAULT 0,
    credits_posted bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, shard)
) WITH (fillfactor = 50);

CREATE TABLE ledger_transactions (
    id uuid PRIMARY KEY,
    reference varchar(255) COLLATE "C" NOT NULL UNIQUE,
    kind ledger_transaction_kind NOT NULL,
    reason varchar(64) NOT NULL,
    description text,
    entity_type varchar(64),
    entity_id varchar(128),
    external_ref varchar(128),
    metadata jsonb NOT NULL DEFAULT '{}',
    amount ledger_cents NOT NULL,
    hold_id uuid REFERENCES ledger_transactions (id),
    reverses_id uuid REFERENCES ledger_transactions (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'hold_post') = (hold_id IS NOT NULL)),
    CHECK ((kind = 'reversal') = (reverses_id IS NOT NULL))
);
-- A hold posts once; a transaction is reversed once.
CREATE UNIQUE INDEX ux_ledger_transactions_hold ON ledger_transactions (hold_id) WHERE hold_id IS NOT NULL;
CREATE UNIQUE INDEX ux_ledger_transactions_reverses ON ledger_transactions (reverses_id)
    WHERE reverses_id IS NOT NULL;
CREATE INDEX ix_ledger_transactions_entity ON ledger_transactions (entity_type, entity_id)
    WHERE entity_id IS NOT NULL;
CREATE INDEX ix_ledger_transactions_external_ref ON ledger_transactions (external_ref)
    WHERE external_ref IS NOT NULL;

-- balance_after: the account's posted balance (on its normal side) after this entry; NULL on hot accounts,
-- whose statements compute it when read. transaction_id and account_id are checked by the deferred
-- trigger below, once per transaction and without row locks, rather than by foreign keys: a foreign key
-- KEY SHARE-locks the account row for every entry, which on a hot account means a new multixact each time.
CREATE TABLE ledger_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL,
    account_id uuid NOT NULL,
    direction ledger_direction NOT NULL,
    amount ledger_cents NOT NULL,
    pending boolean NOT NULL,
    balance_after bigint,
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_ledger_entries_account ON ledger_entries (account_id, id);
CREATE INDEX ix_ledger_entries_transaction ON ledger_entries (transaction_id);

-- The one mutable part of a hold: pending -> posted | voided | expired, once.
CREATE TABLE ledger_holds (
    transaction_id uuid PRIMARY KEY REFERENCES ledger_transactions (id),
    status varchar(8) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
    expires_at timestamptz,
    resolved_at timestamptz,
    CHECK ((status = 'pending') = (resolved_at IS NULL))
);
CREATE INDEX ix_ledger_holds_expiry ON ledger_holds (expires_at) WHERE status = 'pending' AND expires_at IS NOT NULL;

CREATE VIEW ledger_account_balances AS
SELECT a.id AS account_id,
       a.debits_pending + coalesce(s.debits_pending, 0) AS debits_pending,
       a.debits_posted + coalesce(s.debits_posted, 0) AS debits_posted,
       a.credits_pending + coalesce(s.credits_pending, 0) AS credits_pending,
       a.credits_posted + coalesce(s.credits_posted, 0) AS credits_posted
  FROM ledger_accounts a
  LEFT JOIN (SELECT account_id, sum(debits_pending)::bigint AS debits_pending,
                    sum(debits_posted)::bigint AS debits_posted, sum(credits_pending)::bigint AS credits_pending,
                    sum(credits_posted)::bigint AS credits_posted
               FROM ledger_account_shards GROUP BY account_id) s ON s.account_id = a.id;
"""

GUARDS = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_holds_no_delete BEFORE DELETE ON ledger_holds
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_holds_no_truncate BEFORE TRUNCATE ON ledger_holds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_holds_resolve_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR NEW.status = 'pending' OR NEW.transaction_id <> OLD.transaction_id
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'a ledger hold only moves once from pending to posted, voided or expired'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_holds_resolve_once BEFORE UPDATE ON ledger_holds
    FOR EACH ROW EXECUTE FUNCTION ledger_holds_resolve_once();

-- An account's code, type, owner and flags are fixed when it is opened: one limit at most, and none on a hot
-- account (its balance is spread over shards, so no single lock could check it). Triggers rather than a
-- CHECK, because a CHECK is re-evaluated on every balance update and these columns never change.
CREATE FUNCTION ledger_accounts_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER ledger_accounts_flags BEFORE INSERT ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_fixed();
CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE OF code, type, owner_id, currency, hot,
    debits_must_not_exceed_credits, credits_must_not_exceed_debits ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_fixed();

-- At commit, every transaction that received entries must exist, balance, match its declared amount, and
-- name existing accounts.
-- A transaction's entries fire one after another, so one check covers them all: it records the last entry
-- it saw ("<transaction>:<entry id>", transaction-local) and later events for entries up to it are skipped.
-- An entry written after that check has a higher id and is checked again.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger
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
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
"""

# The functions pin generic plans: their statements are key lookups whose best plan never depends on the
# arguments, and re-planning them on every call (the "custom plan" heuristic) doubled the cost of a posting.
FUNCTIONS = """
-- Applies one transaction's lines to the balances and writes its entries. Line i names its account by id
-- (p_account_ids[i]) or code (p_account_codes[i]), moves p_amounts[i] (posted, or pending when p_pending)
-- and releases p_releases[i] of pending on the same side. Lines are applied in account id order (then line
-- order), one UPDATE each, so concurrent postings lock accounts in one global order and never deadlock. The
-- limit check is part of the UPDATE's WHERE: it is evaluated on the latest row version under the row lock,
-- and its RETURNING is the entry's running balance. Hot accounts come last, into this backend's shard row:
-- their shared account row is never locked.
CREATE FUNCTION ledger_apply(
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
    v_shard smallint := pg_backend_pid() % SHARDS;
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

-- The lines of an existing transaction, as a sorted text array, to compare a replay with.
CREATE FUNCTION ledger_lines_of(p_tx uuid) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT array_agg(account_id::text || direction || amount::text ORDER BY account_id::text || direction || amount::text)
      FROM ledger_entries WHERE transaction_id = p_tx
$$;

-- Posts (or, with p_pending, holds) a balanced set of lines under a unique reference. Replaying a
-- reference returns the first transaction when the lines match, and raises LD004 when they differ.
CREATE FUNCTION ledger_post(
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
    replayed := false;
END $$;

-- Finds a hold by id or reference; the caller then locks its status row (serializes post/void of one hold).
CREATE FUNCTION ledger_find_hold(p_hold_id uuid, p_hold_reference text) RETURNS ledger_transactions
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

-- Posts a pending hold, in full or (two-line holds) partially; the rest of the hold is released.
CREATE FUNCTION ledger_post_hold(
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

-- Releases a pending hold (p_status 'voided', or 'expired' from the sweep). Voiding again is a no-op;
-- the sweep skips holds that were resolved meanwhile.
CREATE FUNCTION ledger_void_hold(p_hold_id uuid, p_hold_reference text, p_status text DEFAULT 'voided')
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

-- A new transaction with the original's entries mirrored; the original stays as it was. Balance limits
-- apply, so a reversal that would overdraw an account is refused like any posting.
CREATE FUNCTION ledger_reverse(
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
""".replace("SHARDS", str(SHARDS))

# (code, name, type, hot). Customer deposits (2101.<user id>) and driver earnings (2100.<driver id>) are
# opened per owner by laura.ledger.service.open_account, with debits_must_not_exceed_credits.
CHART = [
    ("1100", "BANCO_CORRENTE", "ASSET", True),
    ("1200", "PIX_LIQUIDACAO_PSP", "ASSET", True),
    ("1210", "TED_LIQUIDACAO", "ASSET", True),
    ("1220", "BOLETO_LIQUIDACAO", "ASSET", True),
    ("1300", "PIX_A_RECEBER", "ASSET", True),
    ("2100", "MOTORISTAS_A_PAGAR", "LIABILITY", False),
    ("2101", "DEPOSITOS_CLIENTES", "LIABILITY", False),
    ("3100", "CAPITAL_SOCIAL", "EQUITY", False),
    ("4100", "RECEITA_CORRIDAS", "INCOME", True),
    ("4200", "COMISSAO_PLATAFORMA", "INCOME", True),
    ("4300", "TARIFAS_BANCARIAS", "INCOME", True),
    ("5100", "TARIFAS_PSP", "EXPENSE", True),
]


def _chart_sql() -> str:
    values = ",\n".join(
        f"    (gen_random_uuid(), '{code}', '{name}', '{kind}', {str(hot).lower()})"
        for code, name, kind, hot in CHART
    )
    return (
        f"INSERT INTO ledger_accounts (id, code, name, type, hot) VALUES\n{values};\n"
        f"INSERT INTO ledger_account_shards (account_id, shard)\n"
        f"SELECT id, s FROM ledger_accounts, generate_series(0, {SHARDS - 1}) AS s WHERE hot;\n"
    )


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(GUARDS)
    op.execute(FUNCTIONS)
    op.execute(_chart_sql())


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION ledger_reverse, ledger_void_hold, ledger_post_hold, ledger_find_hold, ledger_post,
                      ledger_lines_of, ledger_apply;
        DROP VIEW ledger_account_balances;
        DROP TABLE ledger_holds, ledger_entries, ledger_transactions, ledger_account_shards, ledger_accounts;
        DROP FUNCTION ledger_check_balanced, ledger_holds_resolve_once, ledger_accounts_fixed, ledger_refuse_change;
        DROP DOMAIN ledger_account_code, ledger_account_type, ledger_currency, ledger_transaction_kind,
                    ledger_direction, ledger_cents;
        """
    )
