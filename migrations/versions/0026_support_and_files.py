"""Support tickets, their messages and attachments, and uploaded files.

Revision ID: 0026
Revises: 0025

`files` is one row per upload (its owner, name, size and sniffed type); the bytes live once per content
under the data dir, named by their SHA-256 (`laura.core.files`). A ticket's number comes from
`support_ticket_counters`, one row per Brasília year whose `last_number` the creating transaction increments
under the row's lock: creators queue on it and a rollback gives the number back, so numbers have no gaps.
`first_response_due_at` is the SLA deadline of the first staff answer (`first_response_at`).
`ticket_attachments` ties files to a ticket, and to the message they came with (none: the opening one).
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE files (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id),
            sha256 char(64) NOT NULL,
            name varchar(255) NOT NULL,
            size bigint NOT NULL CHECK (size > 0),
            content_type varchar(100) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_files_owner ON files (owner_id, created_at);

        CREATE TABLE support_ticket_counters (
            year integer PRIMARY KEY,
            last_number integer NOT NULL CHECK (last_number > 0)
        );

        CREATE TABLE support_tickets (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            ticket_number varchar(20) NOT NULL UNIQUE,
            category varchar(20) NOT NULL
                CHECK (category IN ('ACCOUNT', 'CARD', 'TRANSFER', 'BILL', 'TECHNICAL', 'OTHER')),
            priority varchar(10) NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'URGENT')),
            subject varchar(255) NOT NULL,
            description text NOT NULL,
            status varchar(20) NOT NULL DEFAULT 'OPEN'
                CHECK (status IN ('OPEN', 'IN_PROGRESS', 'WAITING', 'RESOLVED', 'CLOSED')),
            assigned_to uuid REFERENCES users (id),
            first_response_due_at timestamptz NOT NULL,
            first_response_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            closed_at timestamptz,
            CHECK ((status = 'RESOLVED') <= (resolved_at IS NOT NULL)),
            CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
        );
        CREATE INDEX ix_support_tickets_user ON support_tickets (user_id, created_at);
        CREATE INDEX ix_support_tickets_queue ON support_tickets (first_response_due_at, created_at);
        CREATE INDEX ix_support_tickets_resolved ON support_tickets (resolved_at) WHERE status = 'RESOLVED';

        CREATE TABLE ticket_messages (
            id uuid PRIMARY KEY,
            ticket_id uuid NOT NULL REFERENCES support_tickets (id),
            author_id uuid NOT NULL REFERENCES users (id),
            author_type varchar(10) NOT NULL CHECK (author_type IN ('USER', 'STAFF')),
            message text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_ticket_messages_ticket ON ticket_messages (ticket_id, created_at);

        CREATE TABLE ticket_attachments (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            ticket_id uuid NOT NULL REFERENCES support_tickets (id),
            message_id uuid REFERENCES ticket_messages (id),
            file_id uuid NOT NULL REFERENCES files (id)
        );
        CREATE INDEX ix_ticket_attachments_ticket ON ticket_attachments (ticket_id);
        CREATE INDEX ix_ticket_attachments_file ON ticket_attachments (file_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE ticket_attachments;
        DROP TABLE ticket_messages;
        DROP TABLE support_tickets;
        DROP TABLE support_ticket_counters;
        DROP TABLE files;
        """
    )
