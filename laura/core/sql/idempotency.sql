-- The Idempotency-Key protocol's two database steps (laura.core.idempotency): claim a key, store its
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
