"""Cards, their data keys, card transactions, and one-time codes.

Revision ID: 0019
Revises: 0018

A card's number and CVV are sealed with AES-256-GCM under a data key (`card_keys`, each key itself sealed
by the master key), the key's id stored beside the ciphertext so `laura keys rotate` can re-encrypt cards in
batches. What the card network's authorization needs without decrypting is kept as keyed MACs: the number's
(`number_hash`, for the look-up by number) and the number-with-CVV's (`cvv_mac`). Amounts are cents.

Every authorization the network sends, approved or declined, is a `card_transactions` row; an approval
holds the amount on the customer's ledger account (`hold_id`) against `2200`, the card network settlement
payable opened here. The network's `idempotencyKey` is unique, with the request's fingerprint beside it.

`otp_authenticators` holds a customer's TOTP secret (sealed) and the last time step used, so a code is used
once; `otp_codes` the codes sent to those without an authenticator (hashed); `otp_guards` counts wrong
codes and the lock they lead to.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE card_keys (
            id text PRIMARY KEY,
            key_sealed bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE cards (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            account_id uuid NOT NULL REFERENCES bank_accounts (id),
            type varchar(8) NOT NULL CHECK (type IN ('PHYSICAL', 'VIRTUAL')),
            brand varchar(10) NOT NULL CHECK (brand IN ('VISA', 'MASTERCARD', 'ELO')),
            last_four char(4) NOT NULL,
            number_hash bytea NOT NULL UNIQUE,
            cvv_mac bytea NOT NULL,
            number_sealed bytea NOT NULL,
            cvv_sealed bytea NOT NULL,
            key_id text NOT NULL REFERENCES card_keys (id),
            holder_name varchar(26) NOT NULL,
            status varchar(10) NOT NULL DEFAULT 'ACTIVE'
                CHECK (status IN ('ACTIVE', 'BLOCKED', 'CANCELLED', 'LOST', 'STOLEN')),
            expiry_date char(5) NOT NULL,
            expires_at timestamptz NOT NULL,
            daily_limit_cents bigint NOT NULL CHECK (daily_limit_cents > 0),
            monthly_limit_cents bigint NOT NULL CHECK (monthly_limit_cents > 0),
            limit_cents bigint CHECK (limit_cents > 0),
            description varchar(100),
            replaces_card_id uuid REFERENCES cards (id),
            block_reason varchar(100),
            blocked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((type = 'VIRTUAL') = (limit_cents IS NOT NULL))
        );
        CREATE INDEX ix_cards_user ON cards (user_id, created_at);
        CREATE INDEX ix_cards_key ON cards (key_id);

        CREATE TABLE card_transactions (
            id uuid PRIMARY KEY,
            card_id uuid NOT NULL REFERENCES cards (id),
            user_id uuid NOT NULL REFERENCES users (id),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            captured_cents bigint NOT NULL DEFAULT 0 CHECK (captured_cents >= 0),
            refunded_cents bigint NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
            currency char(3) NOT NULL DEFAULT 'BRL',
            merchant varchar(255) NOT NULL,
            mcc char(4) NOT NULL,
            merchant_city varchar(100),
            merchant_country char(2),
            category varchar(20) NOT NULL,
            status varchar(10) NOT NULL
                CHECK (status IN ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'DECLINED')),
            decline_code varchar(30),
            hold_id uuid,
            idempotency_key varchar(255) NOT NULL UNIQUE,
            request_hash bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((status = 'DECLINED') = (decline_code IS NOT NULL)),
            CHECK (refunded_cents <= captured_cents AND captured_cents <= amount_cents)
        );
        CREATE INDEX ix_card_transactions_card ON card_transactions (card_id, created_at);
        CREATE INDEX ix_card_transactions_user ON card_transactions (user_id, created_at);

        CREATE TABLE otp_authenticators (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            secret_sealed bytea NOT NULL,
            confirmed_at timestamptz,
            last_used_step bigint,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE otp_codes (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            code_hash bytea NOT NULL,
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_otp_codes_user ON otp_codes (user_id, created_at);

        CREATE TABLE otp_guards (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            failures int NOT NULL DEFAULT 0,
            locked_until timestamptz
        );

        INSERT INTO ledger_accounts (id, code, name, type, hot)
        VALUES (gen_random_uuid(), '2200', 'CARTOES_LIQUIDACAO_A_PAGAR', 'LIABILITY', true);
        INSERT INTO ledger_account_shards (account_id, shard)
        SELECT id, s FROM ledger_accounts, generate_series(0, 15) AS s WHERE code = '2200';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE otp_guards, otp_codes, otp_authenticators, card_transactions, cards, card_keys;
        """
    )
