-- auth_session_live(session, user): whether an access token's session is still live (not revoked by
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
