CREATE OR REPLACE FUNCTION auth_session_live(p_session uuid, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = p_session AND u.id = p_user AND s.revoked_at IS NULL AND u.is_active)
$$;

