"""SQL functions re-applied from their sql files, as written there

Revision ID: 0017
Revises: 0016

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/audit/sql/append.sql
- laura/audit/sql/canonical.sql
- laura/bank/deposits/sql/deposit_credit.sql
- laura/bank/transfers/sql/p2p_send.sql
- laura/core/sql/idempotency.sql
- laura/core/sql/iso_utc.sql
- laura/core/sql/uuid7.sql
- laura/identity/sql/auth_session_live.sql
- laura/mobility/matching/sql/location_partitions.sql
- laura/mobility/rides/sql/accept.sql
- laura/mobility/rides/sql/ride_wire.sql
- laura/pix/sql/intake.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = {
    "laura/audit/sql/append.sql": r"""-- The audit log (laura.audit): append-only, hash-chained rows. Python appends through
-- laura.audit.repository (audit_append with the canonical text it computed); a unit of work written in SQL
-- uses audit_append_row (canonical.sql), which computes that text here.

-- audit_logs_refuse_change(): the trigger behind audit_logs_immutable (BEFORE UPDATE OR DELETE, each row)
-- and audit_logs_no_truncate (BEFORE TRUNCATE): a change to the log is refused with insufficient_privilege,
-- so even the application's own role cannot rewrite history.
CREATE OR REPLACE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- audit_append(chain, ..., canonical): appends one row chained to the head of its chain, with
-- hash = sha256(previous hash || canonical text) (laura.audit.service.chain_hash); returns the row's id.
-- Call it last in a unit of work: its chain's lock is held from here to the commit.
--
-- Why so: the log is split into independent chains (laura.audit.service.AUDIT_CHAINS) so that audited
-- transactions do not all queue behind one lock until they commit (which would also defeat group commit);
-- the advisory lock orders the appenders of one chain until they commit, and each statement of a VOLATILE
-- function sees rows committed while it waited.
CREATE OR REPLACE FUNCTION audit_append(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text,
    p_request_id text, p_canonical text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_prev text;
    v_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7426002, p_chain);
    SELECT hash INTO v_prev FROM audit_logs WHERE chain = p_chain ORDER BY id DESC LIMIT 1;
    INSERT INTO audit_logs (chain, occurred_at, actor_id, action, resource_type, resource_id, old_values,
                            new_values, ip, user_agent, request_id, prev_hash, hash)
    VALUES (p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id, p_old, p_new, p_ip,
            p_user_agent, p_request_id, v_prev,
            encode(sha256(convert_to(coalesce(v_prev, '') || p_canonical, 'UTF8')), 'hex'))
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;

""",
    "laura/audit/sql/canonical.sql": r"""-- The audit row's canonical text in SQL: what laura.audit.service.canonical(row) hashes, written here for
-- units of work that build their audit row in SQL (bank_deposit_credit). tests/audit/test_canonical_sql.py
-- holds it to Python's output on random rows, in a database with a linguistic default collation.

-- audit_canonical_json(value): the text of
-- Python's json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
-- Objects: keys in code point order (COLLATE "C": byte order, which in UTF-8 is code point order),
-- each key and its value joined by ":", the members by ","; arrays in order. Strings (keys too)
-- get PostgreSQL's JSON string escaping, which is Python's: \" \\ \b \f \n \r \t, any other
-- character below U+0020 as \u00xx (lowercase hex), everything else (DEL, non-ASCII, non-BMP)
-- raw. A SQL NULL is written as null, like a JSON null.
-- Numbers are jsonb's text of them, which is Python's only for integers: floats are out of scope
-- (audit values are strings, integers, booleans and null; `_jsonable` turns Decimals into strings).
-- PL/pgSQL rather than SQL: its plans are cached for the session, where a recursive SQL function is
-- planned again at every level of every call (about ten times slower). Scalars inside an object or
-- array are written in place, without a call.
CREATE OR REPLACE FUNCTION audit_canonical_json(p jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(p)
        WHEN 'object' THEN
            RETURN '{' || coalesce((
                SELECT string_agg(to_jsonb(e.key)::text || ':'
                                  || CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                          THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                  ',' ORDER BY e.key COLLATE "C")
                  FROM jsonb_each(p) e), '') || '}';
        WHEN 'array' THEN
            RETURN '[' || coalesce((
                SELECT string_agg(CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                       THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                  ',' ORDER BY e.n)
                  FROM jsonb_array_elements(p) WITH ORDINALITY e(value, n)), '') || ']';
        ELSE
            -- a scalar (string, number, boolean, null) prints alone as JSON; SQL NULL as null
            RETURN coalesce(p::text, 'null');
    END CASE;
END $$;

-- audit_canonical(chain, ...): laura.audit.service.canonical(row) of the row audit_append would store
-- from these arguments. canonical's keys are written out in their sorted order (cheaper than building the object and
-- sorting it); the chain is a number, old and new go through audit_canonical_json, and every other
-- value is a JSON string (the same escaping) or null.
CREATE OR REPLACE FUNCTION audit_canonical(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT '{"action":' || coalesce(to_jsonb(p_action)::text, 'null')
           || ',"actor_id":' || coalesce(to_jsonb(p_actor_id::text)::text, 'null')
           || ',"chain":' || coalesce(p_chain::text, 'null')
           || ',"ip":' || coalesce(to_jsonb(p_ip)::text, 'null')
           || ',"new":' || audit_canonical_json(p_new)
           || ',"occurred_at":' || coalesce(to_jsonb(iso_utc(p_occurred_at))::text, 'null')
           || ',"old":' || audit_canonical_json(p_old)
           || ',"request_id":' || coalesce(to_jsonb(p_request_id)::text, 'null')
           || ',"resource_id":' || coalesce(to_jsonb(p_resource_id)::text, 'null')
           || ',"resource_type":' || coalesce(to_jsonb(p_resource_type)::text, 'null')
           || ',"user_agent":' || coalesce(to_jsonb(p_user_agent)::text, 'null')
           || '}'
$$;

-- audit_append_row(chain, ...): audit_append with the canonical text computed here, for a unit of work
-- that builds its audit row in SQL; the new row's id.
CREATE OR REPLACE FUNCTION audit_append_row(
    p_chain smallint, p_occurred_at timestamptz, p_actor_id uuid, p_action text, p_resource_type text,
    p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text
) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT audit_append(p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id,
                        p_old, p_new, p_ip, p_user_agent, p_request_id,
                        audit_canonical(p_chain, p_occurred_at, p_actor_id, p_action,
                                        p_resource_type, p_resource_id, p_old, p_new, p_ip,
                                        p_user_agent, p_request_id))
$$;

""",
    "laura/bank/deposits/sql/deposit_credit.sql": r"""-- bank_deposit_credit(charge, pix, context): the "bank.deposit" purpose's effect (pix_charge_purposes):
-- pix_apply_received calls it right after a deposit's charge became PAID, under the charge's row lock, in
-- the statement that records the received Pix (webhook or reconciliation).
--
-- It books the deposit from the Pix settlement account (1200) to the customer's (2101.<owner>), under the
-- reference 'deposit:<txid>', so a replay books nothing and returns; else it publishes deposit.received
-- to the owner and appends DEPOSIT_RECEIVED to the audit log (p_context: chain, ip, user_agent,
-- request_id), as laura.bank.deposits.service did in Python. p_pix is the Pix as stored in
-- financial_events.payload (Efí's names: endToEndId, valor, horario...).
CREATE OR REPLACE FUNCTION bank_deposit_credit(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_replayed boolean;
BEGIN
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'deposit:' || p_charge.txid, 'PIX_DEPOSIT', 'Depósito via Pix', 'deposit',
                       p_charge.entity_id, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY['1200', '2101.' || p_charge.owner_id], ARRAY['D', 'C'],
                       ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('deposit.received',
            jsonb_build_object('depositId', p_charge.entity_id, 'txid', p_charge.txid, 'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[p_charge.owner_id], '{}', now());
    PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), p_charge.owner_id,
                             'DEPOSIT_RECEIVED', 'deposit', p_charge.entity_id, NULL,
                             jsonb_build_object('txid', p_charge.txid, 'e2eId', v_e2e_id,
                                                'amountCents', p_charge.amount_cents),
                             p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
END $$;

""",
    "laura/bank/transfers/sql/p2p_send.sql": r"""-- A P2P transfer (POST /api/transfers/p2p) as one statement: laura.bank.transfers.service.send_p2p sends
-- bank_p2p_send in autocommit, so the call is its own transaction and costs one round trip instead of seven
-- (docs/PERFORMANCE.md, "transfers").

-- bank_transfer_parties(sender, recipient, since, counted): locks the sender's account row (serializing
-- that customer's transfers and daily limit), reads the recipient's status and sums what the sender moved
-- since `since` in the `counted` statuses. sender_status NULL: the sender has no account (nothing else is
-- read). Why PL/pgSQL: one statement would read the sum with the snapshot taken when it started, before
-- the lock was granted, and miss a transfer that committed meanwhile; a VOLATILE function reads each
-- statement with a fresh snapshot, so the sum that follows the lock sees it, in one round trip.
CREATE OR REPLACE FUNCTION bank_transfer_parties(p_sender uuid, p_recipient uuid, p_since timestamptz,
                                                 p_counted text[], OUT sender_status text,
                                                 OUT recipient_status text, OUT sent bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT s.status INTO sender_status FROM bank_accounts s WHERE s.user_id = p_sender FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT r.status INTO recipient_status FROM bank_accounts r WHERE r.user_id = p_recipient;
    SELECT coalesce(sum(t.amount_cents), 0) INTO sent
      FROM transfers t
     WHERE t.user_id = p_sender AND t.status = ANY (p_counted) AND t.created_at >= p_since;
END $$;

-- bank_p2p_send(...): the whole P2P, in the order the session path would do it: the session check, the
-- Idempotency-Key's claim, the parties and limits (bank_transfer_parties), the ledger posting, the transfer
-- row, the outbox events, the stored answer and, last, the audit row. Its outcome
-- (laura.bank.transfers.outcomes.P2PSendOutcome):
--   SESSION_ENDED        the access token's session was revoked or its user deactivated (401)
--   IN_PROGRESS          another request holds the Idempotency-Key (409)
--   ANSWERED             the key was answered before: stored_hash/status/body, to replay (or 422)
--   NO_ACCOUNT           the sender has no bank account (404)
--   ACCOUNT_NOT_ACTIVE   the sender's account is blocked or closed (422)
--   NO_RECIPIENT         the recipient has no active account (404)
--   OVER_LIMIT           the amount is over p_max_cents, or `sent` (today's sum) plus it over p_daily_cents
--   COMPLETED            everything was written
-- Refusals write nothing; the ledger's own refusal (LD001 insufficient funds) is raised by ledger_post and
-- rolls the whole statement back. The limits are the caller's (settings); the same rule is
-- laura.bank.transfers.service.enforce_limits, held to this one by tests/bank/transfers/test_sql_p2p_send.py.
CREATE OR REPLACE FUNCTION bank_p2p_send(
    -- who asks: the access token's session and user, checked live here
    p_session uuid, p_sender uuid,
    -- the transfer, its ledger posting and the limits it must keep
    p_transfer_id uuid, p_recipient uuid, p_cents bigint, p_description text, p_now timestamptz,
    p_ledger_tx_id uuid, p_ledger_reference text, p_ledger_reason text, p_ledger_description text,
    p_sender_code text, p_recipient_code text,
    p_day_start timestamptz, p_counted text[], p_max_cents bigint, p_daily_cents bigint,
    -- the Idempotency-Key (NULL: none) and the answer stored with the transfer
    p_idem_owner text, p_idem_key text, p_idem_hash text, p_idem_status integer, p_idem_body jsonb,
    p_idem_expires timestamptz,
    -- the audit row (audit_append's arguments) and the outbox events (one recipient each)
    p_audit_chain smallint, p_audit_occurred_at timestamptz, p_audit_actor uuid, p_audit_action text,
    p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb,
    p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text,
    p_event_types text[], p_event_data text[], p_event_users uuid[],
    OUT outcome text, OUT sent bigint, OUT stored_hash text, OUT stored_status integer,
    OUT stored_body jsonb
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_claim record;
    v_parties record;
    v_tx uuid;
BEGIN
    IF NOT auth_session_live(p_session, p_sender) THEN
        outcome := 'SESSION_ENDED';
        RETURN;
    END IF;
    IF p_idem_key IS NOT NULL THEN
        SELECT * INTO v_claim FROM idempotency_claim(p_idem_owner, p_idem_key, p_now);
        IF NOT v_claim.got THEN
            outcome := 'IN_PROGRESS';
            RETURN;
        END IF;
        IF v_claim.request_hash IS NOT NULL THEN
            outcome := 'ANSWERED';
            stored_hash := v_claim.request_hash;
            stored_status := v_claim.response_status;
            stored_body := v_claim.response_body;
            RETURN;
        END IF;
    END IF;

    SELECT * INTO v_parties FROM bank_transfer_parties(p_sender, p_recipient, p_day_start, p_counted);
    sent := v_parties.sent;
    outcome := CASE
        WHEN v_parties.sender_status IS NULL THEN 'NO_ACCOUNT'
        WHEN v_parties.sender_status <> 'ACTIVE' THEN 'ACCOUNT_NOT_ACTIVE'
        WHEN v_parties.recipient_status IS DISTINCT FROM 'ACTIVE' THEN 'NO_RECIPIENT'
        WHEN p_cents > p_max_cents OR sent + p_cents > p_daily_cents THEN 'OVER_LIMIT'
    END;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;

    SELECT (r.tx).id INTO v_tx
      FROM ledger_post(p_ledger_tx_id, p_ledger_reference, p_ledger_reason, p_ledger_description,
                       'transfer', p_transfer_id::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY[p_sender_code, p_recipient_code], ARRAY['D', 'C'],
                       ARRAY[p_cents, p_cents]) r;
    INSERT INTO transfers (id, user_id, type, amount_cents, fee_cents, status, description,
                           recipient_user_id, created_at, completed_at, ledger_transaction_id)
    VALUES (p_transfer_id, p_sender, 'P2P', p_cents, 0, 'COMPLETED', p_description, p_recipient, p_now,
            p_now, v_tx);
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    SELECT e.type, e.data::jsonb, ARRAY[e.user_id], '{}', p_now
      FROM unnest(p_event_types, p_event_data, p_event_users) WITH ORDINALITY AS e(type, data, user_id, n)
     ORDER BY e.n;
    IF p_idem_key IS NOT NULL THEN
        PERFORM idempotency_store(p_idem_owner, p_idem_key, p_idem_hash, p_idem_status, p_idem_body, p_now,
                                  p_idem_expires);
    END IF;
    -- last: its chain's lock is held from here to the commit
    PERFORM audit_append(p_audit_chain, p_audit_occurred_at, p_audit_actor, p_audit_action,
                         p_audit_resource_type, p_audit_resource_id, p_audit_old, p_audit_new, p_audit_ip,
                         p_audit_user_agent, p_audit_request_id, p_audit_canonical);
    outcome := 'COMPLETED';
END $$;

""",
    "laura/core/sql/idempotency.sql": r"""-- The Idempotency-Key protocol's two database steps (laura.core.idempotency): claim a key, store its
-- answer. The session path calls them inside the request's transaction; one-statement routes
-- (bank_p2p_send) call them from their own function, so both paths share one rule.

-- idempotency_claim(owner, key, now): takes the transaction-scoped advisory lock of (owner, key) and only
-- then reads the stored answer.
--   got = false                      another request holds the key: answer 409 REQUEST_IN_PROGRESS
--   got = true, request_hash NULL    first time (or expired): go on, and store the answer before commit
--   got = true, request_hash set     answered before: replay response_status/response_body (or 422 if the
--                                    request's hash differs)
-- Why PL/pgSQL: a VOLATILE function's statement takes its snapshot after the lock is held, so an answer
-- committed by the request that held the lock just before is always seen (a single SELECT would read with
-- the snapshot of its start, from before that commit).
CREATE OR REPLACE FUNCTION idempotency_claim(p_owner text, p_key text, p_now timestamptz,
                                             OUT got boolean, OUT request_hash text, OUT response_status integer,
                                             OUT response_body jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    got := pg_try_advisory_xact_lock(hashtextextended(p_owner || E'\n' || p_key, 7426005));
    IF got THEN
        SELECT k.request_hash, k.response_status, k.response_body
          INTO request_hash, response_status, response_body
          FROM idempotency_keys k
         WHERE k.owner = p_owner AND k.key = p_key AND k.status = 'completed' AND k.expires_at >= p_now;
    END IF;
END $$;

-- idempotency_store(owner, key, hash, status, body, now, expires): stores a request's answer; an expired
-- (or unfinished) row of the same key is replaced, a live one wins (a retry that answered in between
-- keeps its answer).
CREATE OR REPLACE FUNCTION idempotency_store(p_owner text, p_key text, p_hash text, p_status integer,
                                             p_body jsonb, p_now timestamptz, p_expires timestamptz)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO idempotency_keys AS k
           (owner, key, request_hash, status, response_status, response_body, locked_until, expires_at)
    VALUES (p_owner, p_key, p_hash, 'completed', p_status, p_body, p_now, p_expires)
    ON CONFLICT (owner, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, status = 'completed',
           response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
           locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, created_at = now()
     WHERE k.expires_at < p_now OR k.status <> 'completed'
$$;
""",
    "laura/core/sql/iso_utc.sql": r"""-- iso_utc(t): the text Python's datetime.isoformat() gives for a UTC time, microseconds only when there
-- are any. Statements that write answers or audit rows in SQL (ride_wire, audit_canonical) need times
-- spelled exactly as the Python side spells them, or replays and audit hashes would differ.
--
--   SELECT iso_utc('2026-01-02 03:04:05+00');         -- 2026-01-02T03:04:05+00:00
--   SELECT iso_utc('2026-01-02 03:04:05.000120+00');  -- 2026-01-02T03:04:05.000120+00:00
--   SELECT iso_utc(NULL);                             -- NULL
CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN date_part('microseconds', p)::bigint % 1000000 <> 0
                   THEN to_char(p AT TIME ZONE 'UTC', '.US') ELSE '' END
           || '+00:00'
$$;
""",
    "laura/core/sql/uuid7.sql": r"""-- uuid7(): a time-ordered UUID (RFC 9562 version 7), for ids minted inside SQL, like
-- laura.core.models.uuid7 in Python.
--
-- Why here: PostgreSQL has no generator before version 18, and the extensions that add one are not on
-- the embedded server. 48 bits of Unix milliseconds are laid over a random v4 UUID, and the version bits
-- are set to 7 (0100 -> 0111: bits 52 and 53), so ids sort by creation time and index pages stay local.
--
--   SELECT uuid7();  -- 0190f5c4-9b1e-7c3a-8f5d-...
CREATE OR REPLACE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                      FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
""",
    "laura/identity/sql/auth_session_live.sql": r"""-- auth_session_live(session, user): whether an access token's session is still live (not revoked by
-- logout or a reused refresh token) and its user still active. One-statement routes (bank_p2p_send,
-- ride_accept) ask it first thing, in the same statement, and answer SESSION_ENDED (401) when it is false;
-- the session path asks the same question from laura.identity.repository (a parity test holds the two
-- together: tests/identity/test_sql_auth_session_live.py).
CREATE OR REPLACE FUNCTION auth_session_live(p_session uuid, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = p_session AND u.id = p_user AND s.revoked_at IS NULL AND u.is_active)
$$;
""",
    "laura/mobility/matching/sql/location_partitions.sql": r"""-- location_updates (the drivers' trail) has one partition per UTC day. Migration 0006 makes today -3 ..
-- +7; the periodic job of laura.mobility.matching keeps a week ahead and drops the days past retention.

-- mobility_ensure_location_partitions(first_day, days): creates the missing daily partitions of
-- first_day .. first_day + days - 1; returns how many it created.
CREATE OR REPLACE FUNCTION mobility_ensure_location_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
    name text;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        name := 'location_updates_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF location_updates FOR VALUES FROM (%L) TO (%L)',
                name, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC')
            );
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;

-- mobility_drop_location_partitions_before(cutoff): drops the daily partitions of days before cutoff;
-- returns their names, oldest first.
CREATE OR REPLACE FUNCTION mobility_drop_location_partitions_before(cutoff date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOR name IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'location_updates'::regclass
           AND c.relname ~ '^location_updates_[0-9]{8}$'
           AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
         ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', name);
        RETURN NEXT name;
    END LOOP;
END $$;

""",
    "laura/mobility/rides/sql/accept.sql": r"""-- A ride accept (POST /rides/{id}/accept) as one statement: laura.mobility.rides.accept sends ride_accept
-- in autocommit, so the call is its own transaction and costs one round trip instead of four plus a
-- SQLAlchemy session (docs/PERFORMANCE.md, "accept race").

-- ride_accept_refusal(refusals, kind, request_id, status, response, expires_at): a refusal's answer from
-- its template (p_refusals: kind -> {status, body}, built in Python from the errors): the request id, and
-- the details its kind carries (taken: the ride's status; offer_closed: the offer's response and expiry).
CREATE OR REPLACE FUNCTION ride_accept_refusal(p_refusals jsonb, p_kind text, p_request_id text, p_status text,
                                    p_response text, p_expires_at timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE p_kind
               WHEN 'taken' THEN jsonb_set(b, '{details,currentStatus}', to_jsonb(p_status))
               WHEN 'offer_closed' THEN jsonb_set(b, '{details}', jsonb_build_object(
                   'response', coalesce(p_response, 'EXPIRED'), 'expiresAt', iso_utc(p_expires_at)))
               ELSE b
           END
      FROM (SELECT (p_refusals -> p_kind -> 'body') || jsonb_build_object('requestId', p_request_id) AS b) t
$$;

-- ride_accept(...): the session check, the attempt (the Idempotency-Key's claim, one row per driver and
-- key), the ride's lock and checks, the assignment, the audit row, the outbox events and the stored answer.
-- Of a burst of candidates, the one that gets the ride's advisory lock (or, with Redis, the Redis lock
-- taken before the call: p_locked) goes on to the row lock; the others store their 409 and return at once.
-- Outcomes (laura.mobility.rides.outcomes.AcceptOutcome):
--   SESSION_ENDED   the access token's session was revoked or its user deactivated (401)
--   NO_DRIVER       the user has no driver profile (403)
--   NO_RIDE         no such ride (404)
--   REPLAY          this driver's key has an answer (answer_ride, answer_status, answer_body): replay it
--   RATE_LIMITED    p_may_try is false and the attempt is fresh (429)
--   ANSWERED        answered now with answer_status/answer_body: a refusal (stored on the attempt), or the
--                   ride this driver already holds
--   ACCEPTED        the driver took the ride: ride ACCEPTED, offers closed, driver unavailable (mirror_*
--                   is the driver's location row for the Redis mirror), events and audit row written
-- A refusal's kind (AcceptRefusal) picks its template: not_offered, taken, busy, offer_closed,
-- driver_busy, or invalid:<status> for a ride whose status may not become ACCEPTED; the statuses it may
-- become ACCEPTED from are laura.mobility.rides.states.TRANSITIONS' (tests/mobility/rides/test_sql_accept.py
-- checks every status).
CREATE OR REPLACE FUNCTION ride_accept(
    -- who asks: the access token's session and user, checked live here
    p_session uuid, p_user uuid,
    -- the accept: its ride, Idempotency-Key, attempt id, time and request id (for the answers)
    p_ride uuid, p_key text, p_attempt uuid, p_now timestamptz, p_request_id text,
    -- false: the driver's rate limit is spent (a fresh attempt is refused, a replay still answered)
    p_may_try boolean,
    -- the first layer: try the ride's advisory lock here, or the Redis lock's result (NULL: unknown)
    p_try_lock boolean, p_locked boolean,
    -- the statuses in which a driver holds the ride, and the refusals' templates by kind
    p_taken text[], p_refusals jsonb,
    -- the audit row (audit_append's arguments; the ride's new version replaces "$version")
    p_audit_chain smallint, p_audit_occurred_at timestamptz, p_audit_actor uuid, p_audit_action text,
    p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb,
    p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text,
    -- the events: the ride to its passenger and driver, and the other offers' cancellation
    p_accepted_type text, p_canceled_type text, p_canceled_data jsonb,
    OUT outcome text, OUT answer_status integer, OUT answer_body jsonb, OUT answer_ride uuid,
    OUT ride_created_at timestamptz, OUT mirror_driver uuid, OUT mirror_category text,
    OUT mirror_lat double precision, OUT mirror_lon double precision,
    OUT mirror_recorded_at timestamptz, OUT mirror_version bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_driver uuid;
    v_seen record;
    v_kind text;
    v_held boolean := false;
    v_version integer;
    v_passenger_user uuid;
    v_canceled uuid[];
BEGIN
    IF NOT auth_session_live(p_session, p_user) THEN
        outcome := 'SESSION_ENDED';
        RETURN;
    END IF;
    SELECT id INTO v_driver FROM drivers WHERE user_id = p_user;
    IF v_driver IS NULL THEN
        outcome := 'NO_DRIVER';
        RETURN;
    END IF;
    SELECT r.status, r.driver_id, o.id AS offer_id, o.response, o.expires_at INTO v_seen
      FROM rides r LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = v_driver
     WHERE r.id = p_ride;
    IF NOT FOUND THEN
        outcome := 'NO_RIDE';
        RETURN;
    END IF;
    -- Requests with one key take turns from here to their commit, so a repeat always sees the first's
    -- answer: without it, a repeat that found the ride's lock taken by the first could record its own
    -- "busy" refusal as the key's answer before the first recorded its attempt.
    PERFORM pg_advisory_xact_lock(hashtextextended(v_driver::text || E'\n' || p_key, 7426012));
    SELECT a.ride_id, a.response_status, a.response_body INTO answer_ride, answer_status, answer_body
      FROM ride_accept_attempts a WHERE a.driver_id = v_driver AND a.idempotency_key = p_key;
    IF FOUND THEN
        outcome := 'REPLAY';
        RETURN;
    END IF;
    IF NOT p_may_try THEN
        outcome := 'RATE_LIMITED';
        RETURN;
    END IF;

    -- On sight: never offered, someone else's, or a candidate that did not get the lock. The lock is
    -- tried by candidates only (a live offer of an OFFERED ride), so the others never take it.
    v_kind := CASE
        WHEN v_seen.offer_id IS NULL THEN 'not_offered'
        WHEN v_seen.driver_id <> v_driver AND v_seen.status = ANY(p_taken) THEN 'taken'
        WHEN v_seen.status = 'OFFERED' AND v_seen.response IS NULL AND v_seen.expires_at > p_now
             AND NOT coalesce(CASE WHEN p_try_lock THEN pg_try_advisory_xact_lock(7426011, hashtext(p_ride::text))
                                   ELSE p_locked END, true)
            THEN 'busy'
    END;

    IF v_kind IS NULL THEN
        INSERT INTO ride_accept_attempts (id, ride_id, driver_id, idempotency_key, status, attempt_at)
        VALUES (p_attempt, p_ride, v_driver, p_key, 'PENDING', p_now)
        ON CONFLICT (driver_id, idempotency_key) DO NOTHING;
        IF FOUND THEN
            -- Under the ride's row lock: the state, the offer, then the driver takes the ride.
            SELECT r.status, r.driver_id, o.id AS offer_id, o.response, o.expires_at INTO v_seen
              FROM rides r LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = v_driver
             WHERE r.id = p_ride FOR NO KEY UPDATE OF r;
            v_held := v_seen.driver_id IS NOT DISTINCT FROM v_driver AND v_seen.status = ANY(p_taken);
            v_kind := CASE
                WHEN v_seen.offer_id IS NULL THEN 'not_offered'
                WHEN v_held THEN NULL
                WHEN v_seen.status = ANY(p_taken) THEN 'taken'
                WHEN v_seen.status <> 'OFFERED' THEN 'invalid:' || v_seen.status
                WHEN v_seen.response IS NOT NULL OR v_seen.expires_at <= p_now THEN 'offer_closed'
            END;
            IF v_kind IS NULL AND NOT v_held THEN
                UPDATE drivers SET current_ride_id = p_ride WHERE id = v_driver AND current_ride_id IS NULL;
                IF NOT FOUND THEN
                    v_kind := 'driver_busy';
                END IF;
            END IF;
            IF v_kind IS NOT NULL THEN
                answer_status := (p_refusals -> v_kind ->> 'status')::integer;
                answer_body := ride_accept_refusal(p_refusals, v_kind, p_request_id, v_seen.status,
                                                   v_seen.response, v_seen.expires_at);
                UPDATE ride_accept_attempts
                   SET status = 'FAILED', failure_reason = answer_body ->> 'error',
                       response_status = answer_status, response_body = answer_body, completed_at = p_now
                 WHERE id = p_attempt;
                outcome := 'ANSWERED';
                RETURN;
            END IF;
            IF v_held THEN
                outcome := 'ANSWERED';
            ELSE
                UPDATE rides SET driver_id = v_driver, status = 'ACCEPTED', status_changed_at = p_now,
                                 accepted_at = p_now, version = version + 1
                 WHERE id = p_ride
                RETURNING version, created_at INTO v_version, ride_created_at;
                WITH closed AS (
                    UPDATE ride_offers
                       SET response = CASE WHEN driver_id = v_driver THEN 'ACCEPTED' ELSE 'CANCELED' END,
                           responded_at = p_now
                     WHERE ride_id = p_ride AND response IS NULL
                    RETURNING driver_id, response)
                SELECT coalesce(array_agg(d.user_id) FILTER (WHERE c.response = 'CANCELED'), '{}')
                  INTO v_canceled
                  FROM closed c JOIN drivers d ON d.id = c.driver_id;
                UPDATE driver_locations SET available = false, version = version + 1
                 WHERE driver_id = v_driver
                RETURNING driver_id, category, lat, lon, recorded_at, version
                     INTO mirror_driver, mirror_category, mirror_lat, mirror_lon, mirror_recorded_at,
                          mirror_version;
                outcome := 'ACCEPTED';
            END IF;
            answer_status := 200;
            answer_body := ride_wire(p_ride);
            UPDATE ride_accept_attempts
               SET status = 'SUCCESS', response_status = 200, response_body = answer_body, completed_at = p_now
             WHERE id = p_attempt;
            IF v_held THEN
                RETURN;
            END IF;
            SELECT p.user_id INTO v_passenger_user
              FROM rides r JOIN passengers p ON p.id = r.passenger_id WHERE r.id = p_ride;
            INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
            VALUES (p_accepted_type, answer_body, ARRAY[v_passenger_user, p_user], '{}', p_now);
            IF cardinality(v_canceled) > 0 THEN
                INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
                VALUES (p_canceled_type, p_canceled_data, v_canceled, '{}', p_now);
            END IF;
            -- last: its chain's lock is held from here to the commit
            PERFORM audit_append(p_audit_chain, p_audit_occurred_at, p_audit_actor, p_audit_action,
                                 p_audit_resource_type, p_audit_resource_id, p_audit_old,
                                 jsonb_set(p_audit_new, '{version}', to_jsonb(v_version)), p_audit_ip,
                                 p_audit_user_agent, p_audit_request_id,
                                 replace(p_audit_canonical, '"version":"$version"', '"version":' || v_version));
            RETURN;
        END IF;
    ELSE
        answer_status := (p_refusals -> v_kind ->> 'status')::integer;
        answer_body := ride_accept_refusal(p_refusals, v_kind, p_request_id, v_seen.status, v_seen.response,
                                           v_seen.expires_at);
        INSERT INTO ride_accept_attempts AS a (id, ride_id, driver_id, idempotency_key, status, failure_reason,
                                               response_status, response_body, attempt_at, completed_at)
        VALUES (p_attempt, p_ride, v_driver, p_key, 'FAILED', answer_body ->> 'error', answer_status,
                answer_body, p_now, p_now)
        ON CONFLICT (driver_id, idempotency_key) DO NOTHING;
        IF FOUND THEN
            outcome := 'ANSWERED';
            RETURN;
        END IF;
    END IF;

    -- A concurrent request with the same key claimed it first; it has committed now: its answer.
    SELECT a.ride_id, a.response_status, a.response_body INTO answer_ride, answer_status, answer_body
      FROM ride_accept_attempts a WHERE a.driver_id = v_driver AND a.idempotency_key = p_key;
    outcome := 'REPLAY';
END $$;

""",
    "laura/mobility/rides/sql/ride_wire.sql": r"""-- ride_wire(ride): the ride as the API shows it (laura.mobility.rides.schemas.RideOut, camelCase, times
-- with Z), with its driver and the driver's active vehicle. ride_accept writes it as the winner's answer
-- and event, so it must equal GET /rides/{id}'s body: tests/mobility/rides/test_sql_ride_wire.py holds the
-- two together. NULL for an unknown ride.
CREATE OR REPLACE FUNCTION ride_wire(p_ride uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id, 'status', r.status, 'category', r.category, 'passengerId', r.passenger_id,
        'driverId', r.driver_id,
        'driver', CASE WHEN d.id IS NOT NULL THEN jsonb_build_object(
            'id', d.id, 'fullName', d.full_name, 'averageRating', d.average_rating,
            'vehicle', CASE WHEN v.id IS NOT NULL THEN jsonb_build_object(
                'licensePlate', v.license_plate, 'brand', v.brand, 'model', v.model,
                'category', v.category) END) END,
        'pickup', jsonb_build_object('lat', r.pickup_lat, 'lon', r.pickup_lon),
        'dropoff', jsonb_build_object('lat', r.dropoff_lat, 'lon', r.dropoff_lon),
        'estimatedDistanceMeters', r.estimated_distance_m, 'estimatedDurationSeconds', r.estimated_duration_s,
        'surgeMultiplier', r.surge_multiplier, 'estimatedFare', r.estimated_fare, 'finalFare', r.final_fare,
        'finalDistanceMeters', r.final_distance_m, 'finalDurationSeconds', r.final_duration_s,
        'fareBasis', r.fare_basis, 'cancellationFee', r.cancellation_fee, 'canceledBy', r.canceled_by,
        'cancelReason', r.cancel_reason, 'expireReason', r.expire_reason, 'dispatchRound', r.dispatch_round,
        'version', r.version,
        'createdAt', replace(iso_utc(r.created_at), '+00:00', 'Z'),
        'acceptedAt', replace(iso_utc(r.accepted_at), '+00:00', 'Z'),
        'arrivedAt', replace(iso_utc(r.arrived_at), '+00:00', 'Z'),
        'startedAt', replace(iso_utc(r.started_at), '+00:00', 'Z'),
        'completedAt', replace(iso_utc(r.completed_at), '+00:00', 'Z'),
        'canceledAt', replace(iso_utc(r.canceled_at), '+00:00', 'Z'),
        'expiredAt', replace(iso_utc(r.expired_at), '+00:00', 'Z'))
      FROM rides r
      LEFT JOIN drivers d ON d.id = r.driver_id
      LEFT JOIN vehicles v ON v.driver_id = d.id AND v.status = 'active'
     WHERE r.id = p_ride
$$;

""",
    "laura/pix/sql/intake.sql": r"""-- Received Pix (laura.pix.intake): a webhook delivery stored and every Pix of it applied in one autocommit
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
--               review_reason
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

""",
}

DOWNGRADE = [
    r"""CREATE OR REPLACE FUNCTION public.pix_apply_received(p_txid text, p_e2e_id text, p_amount_cents bigint, p_occurred_at timestamp with time zone, p_payload jsonb, p_source text, p_delivery_id bigint, p_context jsonb, OUT outcome text, OUT reason text, OUT charge pix_charges)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
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
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.pix_ingest_delivery(p_sha256 text, p_body bytea, p_auth text, p_pix_count integer, p_error text, p_txids text[], p_e2e_ids text[], p_amounts bigint[], p_occurred_at timestamp with time zone[], p_payloads jsonb, p_context jsonb)
 RETURNS TABLE(delivery_id bigint, outcome text, reason text, charge pix_charges)
 LANGUAGE plpgsql
AS $function$
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
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.ride_wire(p_ride uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
AS $function$
            SELECT jsonb_build_object(
                'id', r.id, 'status', r.status, 'category', r.category, 'passengerId', r.passenger_id,
                'driverId', r.driver_id,
                'driver', CASE WHEN d.id IS NOT NULL THEN jsonb_build_object(
                    'id', d.id, 'fullName', d.full_name, 'averageRating', d.average_rating,
                    'vehicle', CASE WHEN v.id IS NOT NULL THEN jsonb_build_object(
                        'licensePlate', v.license_plate, 'brand', v.brand, 'model', v.model,
                        'category', v.category) END) END,
                'pickup', jsonb_build_object('lat', r.pickup_lat, 'lon', r.pickup_lon),
                'dropoff', jsonb_build_object('lat', r.dropoff_lat, 'lon', r.dropoff_lon),
                'estimatedDistanceMeters', r.estimated_distance_m, 'estimatedDurationSeconds', r.estimated_duration_s,
                'surgeMultiplier', r.surge_multiplier, 'estimatedFare', r.estimated_fare, 'finalFare', r.final_fare,
                'finalDistanceMeters', r.final_distance_m, 'finalDurationSeconds', r.final_duration_s,
                'fareBasis', r.fare_basis, 'cancellationFee', r.cancellation_fee, 'canceledBy', r.canceled_by,
                'cancelReason', r.cancel_reason, 'expireReason', r.expire_reason, 'dispatchRound', r.dispatch_round,
                'version', r.version,
                'createdAt', replace(iso_utc(r.created_at), '+00:00', 'Z'),
                'acceptedAt', replace(iso_utc(r.accepted_at), '+00:00', 'Z'),
                'arrivedAt', replace(iso_utc(r.arrived_at), '+00:00', 'Z'),
                'startedAt', replace(iso_utc(r.started_at), '+00:00', 'Z'),
                'completedAt', replace(iso_utc(r.completed_at), '+00:00', 'Z'),
                'canceledAt', replace(iso_utc(r.canceled_at), '+00:00', 'Z'),
                'expiredAt', replace(iso_utc(r.expired_at), '+00:00', 'Z'))
              FROM rides r
              LEFT JOIN drivers d ON d.id = r.driver_id
              LEFT JOIN vehicles v ON v.driver_id = d.id AND v.status = 'active'
             WHERE r.id = p_ride
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.ride_accept(p_session uuid, p_user uuid, p_ride uuid, p_key text, p_attempt uuid, p_now timestamp with time zone, p_request_id text, p_may_try boolean, p_try_lock boolean, p_locked boolean, p_taken text[], p_refusals jsonb, p_audit_chain smallint, p_audit_occurred_at timestamp with time zone, p_audit_actor uuid, p_audit_action text, p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb, p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text, p_accepted_type text, p_canceled_type text, p_canceled_data jsonb, OUT outcome text, OUT answer_status integer, OUT answer_body jsonb, OUT answer_ride uuid, OUT ride_created_at timestamp with time zone, OUT mirror_driver uuid, OUT mirror_category text, OUT mirror_lat double precision, OUT mirror_lon double precision, OUT mirror_recorded_at timestamp with time zone, OUT mirror_version bigint)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
        DECLARE
            v_driver uuid;
            v_seen record;
            v_kind text;
            v_held boolean := false;
            v_version integer;
            v_passenger_user uuid;
            v_canceled uuid[];
        BEGIN
            IF NOT auth_session_live(p_session, p_user) THEN
                outcome := 'SESSION_ENDED';
                RETURN;
            END IF;
            SELECT id INTO v_driver FROM drivers WHERE user_id = p_user;
            IF v_driver IS NULL THEN
                outcome := 'NO_DRIVER';
                RETURN;
            END IF;
            SELECT r.status, r.driver_id, o.id AS offer_id, o.response, o.expires_at INTO v_seen
              FROM rides r LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = v_driver
             WHERE r.id = p_ride;
            IF NOT FOUND THEN
                outcome := 'NO_RIDE';
                RETURN;
            END IF;
            -- Requests with one key take turns from here to their commit, so a repeat always sees the first's
            -- answer: without it, a repeat that found the ride's lock taken by the first could record its own
            -- "busy" refusal as the key's answer before the first recorded its attempt.
            PERFORM pg_advisory_xact_lock(hashtextextended(v_driver::text || E'\n' || p_key, 7426012));
            SELECT a.ride_id, a.response_status, a.response_body INTO answer_ride, answer_status, answer_body
              FROM ride_accept_attempts a WHERE a.driver_id = v_driver AND a.idempotency_key = p_key;
            IF FOUND THEN
                outcome := 'REPLAY';
                RETURN;
            END IF;
            IF NOT p_may_try THEN
                outcome := 'RATE_LIMITED';
                RETURN;
            END IF;

            -- On sight: never offered, someone else's, or a candidate that did not get the lock. The lock is
            -- tried by candidates only (a live offer of an OFFERED ride), so the others never take it.
            v_kind := CASE
                WHEN v_seen.offer_id IS NULL THEN 'not_offered'
                WHEN v_seen.driver_id <> v_driver AND v_seen.status = ANY(p_taken) THEN 'taken'
                WHEN v_seen.status = 'OFFERED' AND v_seen.response IS NULL AND v_seen.expires_at > p_now
                     AND NOT coalesce(CASE WHEN p_try_lock THEN pg_try_advisory_xact_lock(7426011, hashtext(p_ride::text))
                                           ELSE p_locked END, true)
                    THEN 'busy'
            END;

            IF v_kind IS NULL THEN
                INSERT INTO ride_accept_attempts (id, ride_id, driver_id, idempotency_key, status, attempt_at)
                VALUES (p_attempt, p_ride, v_driver, p_key, 'PENDING', p_now)
                ON CONFLICT (driver_id, idempotency_key) DO NOTHING;
                IF FOUND THEN
                    -- Under the ride's row lock: the state, the offer, then the driver takes the ride.
                    SELECT r.status, r.driver_id, o.id AS offer_id, o.response, o.expires_at INTO v_seen
                      FROM rides r LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = v_driver
                     WHERE r.id = p_ride FOR NO KEY UPDATE OF r;
                    v_held := v_seen.driver_id IS NOT DISTINCT FROM v_driver AND v_seen.status = ANY(p_taken);
                    v_kind := CASE
                        WHEN v_seen.offer_id IS NULL THEN 'not_offered'
                        WHEN v_held THEN NULL
                        WHEN v_seen.status = ANY(p_taken) THEN 'taken'
                        WHEN v_seen.status <> 'OFFERED' THEN 'invalid:' || v_seen.status
                        WHEN v_seen.response IS NOT NULL OR v_seen.expires_at <= p_now THEN 'offer_closed'
                    END;
                    IF v_kind IS NULL AND NOT v_held THEN
                        UPDATE drivers SET current_ride_id = p_ride WHERE id = v_driver AND current_ride_id IS NULL;
                        IF NOT FOUND THEN
                            v_kind := 'driver_busy';
                        END IF;
                    END IF;
                    IF v_kind IS NOT NULL THEN
                        answer_status := (p_refusals -> v_kind ->> 'status')::integer;
                        answer_body := ride_accept_refusal(p_refusals, v_kind, p_request_id, v_seen.status,
                                                           v_seen.response, v_seen.expires_at);
                        UPDATE ride_accept_attempts
                           SET status = 'FAILED', failure_reason = answer_body ->> 'error',
                               response_status = answer_status, response_body = answer_body, completed_at = p_now
                         WHERE id = p_attempt;
                        outcome := 'ANSWERED';
                        RETURN;
                    END IF;
                    IF v_held THEN
                        outcome := 'ANSWERED';
                    ELSE
                        UPDATE rides SET driver_id = v_driver, status = 'ACCEPTED', status_changed_at = p_now,
                                         accepted_at = p_now, version = version + 1
                         WHERE id = p_ride
                        RETURNING version, created_at INTO v_version, ride_created_at;
                        WITH closed AS (
                            UPDATE ride_offers
                               SET response = CASE WHEN driver_id = v_driver THEN 'ACCEPTED' ELSE 'CANCELED' END,
                                   responded_at = p_now
                             WHERE ride_id = p_ride AND response IS NULL
                            RETURNING driver_id, response)
                        SELECT coalesce(array_agg(d.user_id) FILTER (WHERE c.response = 'CANCELED'), '{}')
                          INTO v_canceled
                          FROM closed c JOIN drivers d ON d.id = c.driver_id;
                        UPDATE driver_locations SET available = false, version = version + 1
                         WHERE driver_id = v_driver
                        RETURNING driver_id, category, lat, lon, recorded_at, version
                             INTO mirror_driver, mirror_category, mirror_lat, mirror_lon, mirror_recorded_at,
                                  mirror_version;
                        outcome := 'ACCEPTED';
                    END IF;
                    answer_status := 200;
                    answer_body := ride_wire(p_ride);
                    UPDATE ride_accept_attempts
                       SET status = 'SUCCESS', response_status = 200, response_body = answer_body, completed_at = p_now
                     WHERE id = p_attempt;
                    IF v_held THEN
                        RETURN;
                    END IF;
                    SELECT p.user_id INTO v_passenger_user
                      FROM rides r JOIN passengers p ON p.id = r.passenger_id WHERE r.id = p_ride;
                    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
                    VALUES (p_accepted_type, answer_body, ARRAY[v_passenger_user, p_user], '{}', p_now);
                    IF cardinality(v_canceled) > 0 THEN
                        INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
                        VALUES (p_canceled_type, p_canceled_data, v_canceled, '{}', p_now);
                    END IF;
                    -- last: its chain's lock is held from here to the commit
                    PERFORM audit_append(p_audit_chain, p_audit_occurred_at, p_audit_actor, p_audit_action,
                                         p_audit_resource_type, p_audit_resource_id, p_audit_old,
                                         jsonb_set(p_audit_new, '{version}', to_jsonb(v_version)), p_audit_ip,
                                         p_audit_user_agent, p_audit_request_id,
                                         replace(p_audit_canonical, '"version":"$version"', '"version":' || v_version));
                    RETURN;
                END IF;
            ELSE
                answer_status := (p_refusals -> v_kind ->> 'status')::integer;
                answer_body := ride_accept_refusal(p_refusals, v_kind, p_request_id, v_seen.status, v_seen.response,
                                                   v_seen.expires_at);
                INSERT INTO ride_accept_attempts AS a (id, ride_id, driver_id, idempotency_key, status, failure_reason,
                                                       response_status, response_body, attempt_at, completed_at)
                VALUES (p_attempt, p_ride, v_driver, p_key, 'FAILED', answer_body ->> 'error', answer_status,
                        answer_body, p_now, p_now)
                ON CONFLICT (driver_id, idempotency_key) DO NOTHING;
                IF FOUND THEN
                    outcome := 'ANSWERED';
                    RETURN;
                END IF;
            END IF;

            -- A concurrent request with the same key claimed it first; it has committed now: its answer.
            SELECT a.ride_id, a.response_status, a.response_body INTO answer_ride, answer_status, answer_body
              FROM ride_accept_attempts a WHERE a.driver_id = v_driver AND a.idempotency_key = p_key;
            outcome := 'REPLAY';
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.ride_accept_refusal(p_refusals jsonb, p_kind text, p_request_id text, p_status text, p_response text, p_expires_at timestamp with time zone)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
AS $function$
            SELECT CASE p_kind
                       WHEN 'taken' THEN jsonb_set(b, '{details,currentStatus}', to_jsonb(p_status))
                       WHEN 'offer_closed' THEN jsonb_set(b, '{details}', jsonb_build_object(
                           'response', coalesce(p_response, 'EXPIRED'), 'expiresAt', iso_utc(p_expires_at)))
                       ELSE b
                   END
              FROM (SELECT (p_refusals -> p_kind -> 'body') || jsonb_build_object('requestId', p_request_id) AS b) t
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.mobility_drop_location_partitions_before(cutoff date)
 RETURNS SETOF text
 LANGUAGE plpgsql
AS $function$
        DECLARE
            name text;
        BEGIN
            FOR name IN
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'location_updates'::regclass
                   AND c.relname ~ '^location_updates_[0-9]{8}$'
                   AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
                 ORDER BY c.relname
            LOOP
                EXECUTE format('DROP TABLE %I', name);
                RETURN NEXT name;
            END LOOP;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.mobility_ensure_location_partitions(first_day date, days integer)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
        DECLARE
            day date;
            created integer := 0;
            name text;
        BEGIN
            FOR i IN 0 .. days - 1 LOOP
                day := first_day + i;
                name := 'location_updates_' || to_char(day, 'YYYYMMDD');
                IF to_regclass(name) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF location_updates FOR VALUES FROM (%L) TO (%L)',
                        name, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC')
                    );
                    created := created + 1;
                END IF;
            END LOOP;
            RETURN created;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.auth_session_live(p_session uuid, p_user uuid)
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$
            SELECT EXISTS (
                SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id = p_session AND u.id = p_user AND s.revoked_at IS NULL AND u.is_active)
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.uuid7()
 RETURNS uuid
 LANGUAGE sql
AS $function$
            SELECT encode(
                set_bit(set_bit(
                    overlay(uuid_send(gen_random_uuid())
                            PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                              FROM 3)
                            FROM 1 FOR 6),
                    52, 1), 53, 1),
                'hex')::uuid
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.iso_utc(p timestamp with time zone)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
            SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                   || CASE WHEN date_part('microseconds', p)::bigint % 1000000 <> 0
                           THEN to_char(p AT TIME ZONE 'UTC', '.US') ELSE '' END
                   || '+00:00'
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.idempotency_claim(p_owner text, p_key text, p_now timestamp with time zone, OUT got boolean, OUT request_hash text, OUT response_status integer, OUT response_body jsonb)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
        BEGIN
            got := pg_try_advisory_xact_lock(hashtextextended(p_owner || E'\n' || p_key, 7426005));
            IF got THEN
                SELECT k.request_hash, k.response_status, k.response_body
                  INTO request_hash, response_status, response_body
                  FROM idempotency_keys k
                 WHERE k.owner = p_owner AND k.key = p_key AND k.status = 'completed' AND k.expires_at >= p_now;
            END IF;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.idempotency_store(p_owner text, p_key text, p_hash text, p_status integer, p_body jsonb, p_now timestamp with time zone, p_expires timestamp with time zone)
 RETURNS void
 LANGUAGE sql
AS $function$
            INSERT INTO idempotency_keys AS k
                   (owner, key, request_hash, status, response_status, response_body, locked_until, expires_at)
            VALUES (p_owner, p_key, p_hash, 'completed', p_status, p_body, p_now, p_expires)
            ON CONFLICT (owner, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, status = 'completed',
                   response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                   locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, created_at = now()
             WHERE k.expires_at < p_now OR k.status <> 'completed'
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.bank_p2p_send(p_session uuid, p_sender uuid, p_transfer_id uuid, p_recipient uuid, p_cents bigint, p_description text, p_now timestamp with time zone, p_ledger_tx_id uuid, p_ledger_reference text, p_ledger_reason text, p_ledger_description text, p_sender_code text, p_recipient_code text, p_day_start timestamp with time zone, p_counted text[], p_max_cents bigint, p_daily_cents bigint, p_idem_owner text, p_idem_key text, p_idem_hash text, p_idem_status integer, p_idem_body jsonb, p_idem_expires timestamp with time zone, p_audit_chain smallint, p_audit_occurred_at timestamp with time zone, p_audit_actor uuid, p_audit_action text, p_audit_resource_type text, p_audit_resource_id text, p_audit_old jsonb, p_audit_new jsonb, p_audit_ip text, p_audit_user_agent text, p_audit_request_id text, p_audit_canonical text, p_event_types text[], p_event_data text[], p_event_users uuid[], OUT outcome text, OUT sent bigint, OUT stored_hash text, OUT stored_status integer, OUT stored_body jsonb)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
        DECLARE
            v_claim record;
            v_parties record;
            v_tx uuid;
        BEGIN
            IF NOT auth_session_live(p_session, p_sender) THEN
                outcome := 'SESSION_ENDED';
                RETURN;
            END IF;
            IF p_idem_key IS NOT NULL THEN
                SELECT * INTO v_claim FROM idempotency_claim(p_idem_owner, p_idem_key, p_now);
                IF NOT v_claim.got THEN
                    outcome := 'IN_PROGRESS';
                    RETURN;
                END IF;
                IF v_claim.request_hash IS NOT NULL THEN
                    outcome := 'ANSWERED';
                    stored_hash := v_claim.request_hash;
                    stored_status := v_claim.response_status;
                    stored_body := v_claim.response_body;
                    RETURN;
                END IF;
            END IF;

            SELECT * INTO v_parties FROM bank_transfer_parties(p_sender, p_recipient, p_day_start, p_counted);
            sent := v_parties.sent;
            outcome := CASE
                WHEN v_parties.sender_status IS NULL THEN 'NO_ACCOUNT'
                WHEN v_parties.sender_status <> 'ACTIVE' THEN 'ACCOUNT_NOT_ACTIVE'
                WHEN v_parties.recipient_status IS DISTINCT FROM 'ACTIVE' THEN 'NO_RECIPIENT'
                WHEN p_cents > p_max_cents OR sent + p_cents > p_daily_cents THEN 'OVER_LIMIT'
            END;
            IF outcome IS NOT NULL THEN
                RETURN;
            END IF;

            SELECT (r.tx).id INTO v_tx
              FROM ledger_post(p_ledger_tx_id, p_ledger_reference, p_ledger_reason, p_ledger_description,
                               'transfer', p_transfer_id::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                               ARRAY[p_sender_code, p_recipient_code], ARRAY['D', 'C'],
                               ARRAY[p_cents, p_cents]) r;
            INSERT INTO transfers (id, user_id, type, amount_cents, fee_cents, status, description,
                                   recipient_user_id, created_at, completed_at, ledger_transaction_id)
            VALUES (p_transfer_id, p_sender, 'P2P', p_cents, 0, 'COMPLETED', p_description, p_recipient, p_now,
                    p_now, v_tx);
            INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
            SELECT e.type, e.data::jsonb, ARRAY[e.user_id], '{}', p_now
              FROM unnest(p_event_types, p_event_data, p_event_users) WITH ORDINALITY AS e(type, data, user_id, n)
             ORDER BY e.n;
            IF p_idem_key IS NOT NULL THEN
                PERFORM idempotency_store(p_idem_owner, p_idem_key, p_idem_hash, p_idem_status, p_idem_body, p_now,
                                          p_idem_expires);
            END IF;
            -- last: its chain's lock is held from here to the commit
            PERFORM audit_append(p_audit_chain, p_audit_occurred_at, p_audit_actor, p_audit_action,
                                 p_audit_resource_type, p_audit_resource_id, p_audit_old, p_audit_new, p_audit_ip,
                                 p_audit_user_agent, p_audit_request_id, p_audit_canonical);
            outcome := 'COMPLETED';
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.bank_transfer_parties(p_sender uuid, p_recipient uuid, p_since timestamp with time zone, p_counted text[], OUT sender_status text, OUT recipient_status text, OUT sent bigint)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
        BEGIN
            SELECT s.status INTO sender_status FROM bank_accounts s WHERE s.user_id = p_sender FOR UPDATE;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            SELECT r.status INTO recipient_status FROM bank_accounts r WHERE r.user_id = p_recipient;
            SELECT coalesce(sum(t.amount_cents), 0) INTO sent
              FROM transfers t
             WHERE t.user_id = p_sender AND t.status = ANY (p_counted) AND t.created_at >= p_since;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.bank_deposit_credit(p_charge pix_charges, p_pix jsonb, p_context jsonb)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
        DECLARE
            v_e2e_id text := p_pix ->> 'endToEndId';
            v_replayed boolean;
        BEGIN
            SELECT r.replayed INTO v_replayed
              FROM ledger_post(uuid7(), 'deposit:' || p_charge.txid, 'PIX_DEPOSIT', 'Depósito via Pix', 'deposit',
                               p_charge.entity_id, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                               ARRAY['1200', '2101.' || p_charge.owner_id], ARRAY['D', 'C'],
                               ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
            IF v_replayed THEN
                RETURN;
            END IF;
            INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
            VALUES ('deposit.received',
                    jsonb_build_object('depositId', p_charge.entity_id, 'txid', p_charge.txid, 'e2eId', v_e2e_id,
                                       'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
                    ARRAY[p_charge.owner_id], '{}', now());
            PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), p_charge.owner_id,
                                     'DEPOSIT_RECEIVED', 'deposit', p_charge.entity_id, NULL,
                                     jsonb_build_object('txid', p_charge.txid, 'e2eId', v_e2e_id,
                                                        'amountCents', p_charge.amount_cents),
                                     p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.audit_append_row(p_chain smallint, p_occurred_at timestamp with time zone, p_actor_id uuid, p_action text, p_resource_type text, p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text)
 RETURNS bigint
 LANGUAGE sql
AS $function$
            SELECT audit_append(p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id,
                                p_old, p_new, p_ip, p_user_agent, p_request_id,
                                audit_canonical(p_chain, p_occurred_at, p_actor_id, p_action,
                                                p_resource_type, p_resource_id, p_old, p_new, p_ip,
                                                p_user_agent, p_request_id))
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.audit_canonical(p_chain smallint, p_occurred_at timestamp with time zone, p_actor_id uuid, p_action text, p_resource_type text, p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text)
 RETURNS text
 LANGUAGE sql
 STABLE
AS $function$
            SELECT '{"action":' || coalesce(to_jsonb(p_action)::text, 'null')
                   || ',"actor_id":' || coalesce(to_jsonb(p_actor_id::text)::text, 'null')
                   || ',"chain":' || coalesce(p_chain::text, 'null')
                   || ',"ip":' || coalesce(to_jsonb(p_ip)::text, 'null')
                   || ',"new":' || audit_canonical_json(p_new)
                   || ',"occurred_at":' || coalesce(to_jsonb(iso_utc(p_occurred_at))::text, 'null')
                   || ',"old":' || audit_canonical_json(p_old)
                   || ',"request_id":' || coalesce(to_jsonb(p_request_id)::text, 'null')
                   || ',"resource_id":' || coalesce(to_jsonb(p_resource_id)::text, 'null')
                   || ',"resource_type":' || coalesce(to_jsonb(p_resource_type)::text, 'null')
                   || ',"user_agent":' || coalesce(to_jsonb(p_user_agent)::text, 'null')
                   || '}'
        $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.audit_canonical_json(p jsonb)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
        BEGIN
            CASE jsonb_typeof(p)
                WHEN 'object' THEN
                    RETURN '{' || coalesce((
                        SELECT string_agg(to_jsonb(e.key)::text || ':'
                                          || CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                                  THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                          ',' ORDER BY e.key COLLATE "C")
                          FROM jsonb_each(p) e), '') || '}';
                WHEN 'array' THEN
                    RETURN '[' || coalesce((
                        SELECT string_agg(CASE WHEN jsonb_typeof(e.value) IN ('object', 'array')
                                               THEN audit_canonical_json(e.value) ELSE e.value::text END,
                                          ',' ORDER BY e.n)
                          FROM jsonb_array_elements(p) WITH ORDINALITY e(value, n)), '') || ']';
                ELSE
                    -- a scalar (string, number, boolean, null) prints alone as JSON; SQL NULL as null
                    RETURN coalesce(p::text, 'null');
            END CASE;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.audit_append(p_chain smallint, p_occurred_at timestamp with time zone, p_actor_id uuid, p_action text, p_resource_type text, p_resource_id text, p_old jsonb, p_new jsonb, p_ip text, p_user_agent text, p_request_id text, p_canonical text)
 RETURNS bigint
 LANGUAGE plpgsql
AS $function$
        DECLARE
            v_prev text;
            v_id bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(7426002, p_chain);
            SELECT hash INTO v_prev FROM audit_logs WHERE chain = p_chain ORDER BY id DESC LIMIT 1;
            INSERT INTO audit_logs (chain, occurred_at, actor_id, action, resource_type, resource_id, old_values,
                                    new_values, ip, user_agent, request_id, prev_hash, hash)
            VALUES (p_chain, p_occurred_at, p_actor_id, p_action, p_resource_type, p_resource_id, p_old, p_new, p_ip,
                    p_user_agent, p_request_id, v_prev,
                    encode(sha256(convert_to(coalesce(v_prev, '') || p_canonical, 'UTF8')), 'hex'))
            RETURNING id INTO v_id;
            RETURN v_id;
        END $function$
""",
    r"""CREATE OR REPLACE FUNCTION public.audit_logs_refuse_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
        BEGIN
            RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $function$
""",
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
