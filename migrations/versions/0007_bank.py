"""Bank: checking accounts, Pix keys directory, transfers, bill payments and registered bills.

Revision ID: 0007
Revises: 0006

A checking account is the bank's face of a ledger LIABILITY account (`2101.<user id>`); balances live in the
ledger only. A transfer or bill payment row points at the ledger transaction (or hold) that moved its money.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE bank_account_number_seq START 100001;

        CREATE TABLE bank_accounts (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL UNIQUE REFERENCES users (id),
            ledger_account_id uuid NOT NULL UNIQUE REFERENCES ledger_accounts (id),
            agency char(4) NOT NULL DEFAULT '0001',
            number varchar(12) NOT NULL UNIQUE,
            status varchar(8) NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'BLOCKED', 'CLOSED')),
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE pix_keys (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            type varchar(5) NOT NULL CHECK (type IN ('CPF', 'CNPJ', 'EMAIL', 'PHONE', 'EVP')),
            key varchar(77) NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_pix_keys_user ON pix_keys (user_id);

        CREATE TABLE transfers (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            type varchar(3) NOT NULL CHECK (type IN ('PIX', 'TED', 'P2P')),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            fee_cents bigint NOT NULL DEFAULT 0 CHECK (fee_cents >= 0),
            status varchar(9) NOT NULL
                CHECK (status IN ('SCHEDULED', 'PENDING', 'COMPLETED', 'FAILED', 'CANCELLED')),
            description text,
            pix_key varchar(77),
            pix_key_type varchar(5),
            recipient_user_id uuid REFERENCES users (id),
            recipient_name varchar(255),
            bank_code char(3),
            agency varchar(5),
            account varchar(13),
            account_type varchar(8),
            e2e_id varchar(32) UNIQUE,
            scheduled_for timestamptz,
            estimated_delivery timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            cancelled_at timestamptz,
            cancel_reason text,
            failure_reason text,
            ledger_transaction_id uuid REFERENCES ledger_transactions (id),
            hold_id uuid REFERENCES ledger_transactions (id)
        );
        CREATE INDEX ix_transfers_user_created ON transfers (user_id, created_at DESC, id DESC);
        CREATE INDEX ix_transfers_due ON transfers (scheduled_for) WHERE status = 'SCHEDULED';

        CREATE TABLE registered_bills (
            id uuid PRIMARY KEY,
            barcode char(44) NOT NULL UNIQUE,
            recipient varchar(255) NOT NULL,
            amount_cents bigint CHECK (amount_cents > 0),
            due_date date,
            payment_limit date,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE bill_payments (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            barcode char(44) NOT NULL,
            digitable_line varchar(48) NOT NULL,
            type varchar(7) NOT NULL CHECK (type IN ('BANK', 'UTILITY')),
            bank_code char(3),
            recipient varchar(255),
            amount_cents bigint NOT NULL CHECK (amount_cents > 0),
            due_date date,
            payment_date date NOT NULL,
            status varchar(9) NOT NULL CHECK (status IN ('SCHEDULED', 'COMPLETED', 'FAILED', 'CANCELLED')),
            receipt varchar(24) NOT NULL UNIQUE,
            failure_reason text,
            ledger_transaction_id uuid REFERENCES ledger_transactions (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            paid_at timestamptz
        );
        -- A slip is paid (or waiting to be paid) once in the whole bank.
        CREATE UNIQUE INDEX ux_bill_payments_barcode ON bill_payments (barcode)
            WHERE status IN ('SCHEDULED', 'COMPLETED');
        CREATE INDEX ix_bill_payments_user_created ON bill_payments (user_id, created_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE bill_payments, registered_bills, transfers, pix_keys, bank_accounts;
        DROP SEQUENCE bank_account_number_seq;
        """
    )
