"""Foundation: users and sessions, signing keys, the hash-chained audit log, idempotency keys.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id uuid PRIMARY KEY,
            email varchar(254) NOT NULL UNIQUE,
            password_hash text NOT NULL,
            name varchar(120) NOT NULL,
            phone varchar(16),
            cpf varchar(11) UNIQUE,
            role varchar(16) NOT NULL CHECK (role IN ('customer','passenger','driver','staff','admin')),
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE auth_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users(id),
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz,
            revoked_reason varchar(32),
            ip varchar(64),
            user_agent varchar(256)
        );
        CREATE INDEX ix_auth_sessions_user_id ON auth_sessions (user_id);

        CREATE TABLE refresh_tokens (
            id uuid PRIMARY KEY,
            session_id uuid NOT NULL REFERENCES auth_sessions(id),
            token_hash varchar(64) NOT NULL UNIQUE,
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_refresh_tokens_session_id ON refresh_tokens (session_id);

        CREATE TABLE signing_keys (
            kid varchar(32) PRIMARY KEY,
            private_key_sealed bytea NOT NULL,
            public_pem text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz
        );

        CREATE TABLE idempotency_keys (
            owner varchar(64) NOT NULL,
            key varchar(255) NOT NULL,
            request_hash varchar(64) NOT NULL,
            status varchar(16) NOT NULL CHECK (status IN ('in_progress','completed')),
            response_status integer,
            response_body jsonb,
            locked_until timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (owner, key)
        );
        CREATE INDEX ix_idempotency_keys_expires_at ON idempotency_keys (expires_at);

        CREATE TABLE audit_logs (
            id bigserial PRIMARY KEY,
            chain smallint NOT NULL,
            occurred_at timestamptz NOT NULL,
            actor_id uuid,
            action varchar(64) NOT NULL,
            resource_type varchar(64) NOT NULL,
            resource_id varchar(128),
            old_values jsonb,
            new_values jsonb,
            ip varchar(64),
            user_agent text,
            request_id varchar(128),
            prev_hash varchar(64),
            hash varchar(64) NOT NULL
        );
        CREATE INDEX ix_audit_logs_chain ON audit_logs (chain, id);
        CREATE INDEX ix_audit_logs_actor ON audit_logs (actor_id, id);
        CREATE INDEX ix_audit_logs_resource ON audit_logs (resource_type, resource_id);
        CREATE INDEX ix_audit_logs_action ON audit_logs (action, id);

        CREATE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_logs_immutable BEFORE UPDATE OR DELETE ON audit_logs
            FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change();
        CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
            FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change();

        -- Appends one row chained to the head of its chain. The log is split into a few independent
        -- chains so that audited transactions do not all queue behind one lock until they commit (which
        -- would also defeat group commit); the advisory lock orders the appenders of one chain until
        -- they commit, and each statement of a VOLATILE function sees rows committed while it waited.
        CREATE FUNCTION audit_append(
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
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION audit_append;
        DROP TABLE audit_logs;
        DROP FUNCTION audit_logs_refuse_change;
        DROP TABLE idempotency_keys, signing_keys, refresh_tokens, auth_sessions, users;
        """
    )
