"""ride_accept refuses a driver suspended by the anti-fraud rules

Revision ID: 0029
Revises: 0028

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
- laura/mobility/rides/sql/accept.sql
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UPGRADE = {
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
--   SUSPENDED       the user is suspended from rides by the anti-fraud rules (403; replays still answer)
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
    IF EXISTS (SELECT 1 FROM mobility_suspensions WHERE user_id = p_user) THEN
        outcome := 'SUSPENDED';
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
}

DOWNGRADE = [
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
