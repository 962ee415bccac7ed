"""A P2P's checks in one call: the sender's account locked, both statuses, and the day's sum.

Revision ID: 0011
Revises: 0010

`bank_transfer_parties` locks the sender's account row (serializing that customer's transfers and daily
limit), reads the recipient's status and sums what the sender moved since the start of the day. One
statement could not do it: its sum would read with the snapshot taken when it started, before the lock
was granted, and miss a transfer that committed meanwhile. A VOLATILE PL/pgSQL function reads each
statement with a fresh snapshot, so the sum that follows the lock sees it, in one round trip.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION bank_transfer_parties(p_sender uuid, p_recipient uuid, p_since timestamptz,
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
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION bank_transfer_parties(uuid, uuid, timestamptz, text[])")
