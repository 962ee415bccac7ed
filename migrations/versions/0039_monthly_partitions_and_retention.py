"""ledger_entries and the outbox partitioned by month; an `archive` schema for retired ledger months;
webhook deliveries deletable (their financial events keep their own copy of the payload).

Revision ID: 0039
Revises: 0038

Both tables are rebuilt as RANGE-partitioned tables (laura/core/sql/monthly_partitions.sql): the rows are
copied under an ACCESS EXCLUSIVE lock (writers wait for the copy), the old table dropped, and every index,
trigger and sequence recreated on the new one. A primary key must include the partition key, so it becomes
(id, created_at) / (id, occurred_at); nothing references either id by foreign key. The outbox's `position`
loses its UNIQUE constraint for the same reason (the relay numbers rows from one sequence) and keeps a
plain index. `archive.ledger_entries` is partitioned like ledger_entries and guarded the same way:
`partitions_retire_monthly` moves retired months there, and `ledger_all_entries` (both, UNION ALL) is what
`ledger verify` reads. financial_events.delivery_id becomes ON DELETE SET NULL, so the optional retention
of webhook deliveries (LAURA_WEBHOOK_DELIVERIES_RETENTION_DAYS) can delete old ones.
"""

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

# laura/core/sql/monthly_partitions.sql as of this migration (a snapshot: never read from the file here).
FUNCTIONS = r"""-- Tables partitioned by month on a timestamp (ledger_entries on created_at, outbox on occurred_at;
-- migration 0039). A month's partition is `<parent>_YYYYMM` (UTC months); `<parent>_default` takes any row
-- no month partition covers, so an insert never fails for lack of a partition. Migration 0039 creates the
-- months of the existing rows up to 3 months ahead; the periodic jobs (laura.ledger.tasks,
-- laura.core.events.tasks) keep 3 months ahead and retire the months past their retention.
--
-- PostgreSQL clones a parent's row triggers onto each partition, but not its statement triggers: a
-- partition's TRUNCATE would skip the parent's guard. So each partition made here gets the parent's
-- BEFORE TRUNCATE triggers too.

-- partitions_copy_truncate_guards(parent, partition): gives `partition` each BEFORE TRUNCATE trigger of
-- `parent` (same name, same function) that it lacks.
CREATE OR REPLACE FUNCTION partitions_copy_truncate_guards(p_parent regclass, p_partition regclass)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT t.tgname, t.tgfoid::regproc AS fn FROM pg_trigger t
         WHERE t.tgrelid = p_parent AND NOT t.tgisinternal AND t.tgtype & 32 <> 0
           AND NOT EXISTS (SELECT 1 FROM pg_trigger x WHERE x.tgrelid = p_partition AND x.tgname = t.tgname)
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                       r.tgname, p_partition, r.fn);
    END LOOP;
END $$;

-- partitions_ensure_monthly(parent, from, until): creates `<parent>_default` and the month partitions of
-- every month from `from`'s to `until`'s that are missing; returns how many months it created. A month
-- whose rows already sit in the default partition (the job did not run for months) cannot get its own
-- partition: it is skipped with a WARNING and stays in the default, still read by every query.
-- Creating a partition locks `parent` (ACCESS EXCLUSIVE) for a moment: `lock_timeout` bounds the wait
-- behind a long transaction (the job fails and runs again; the months ahead leave it weeks of slack).
CREATE OR REPLACE FUNCTION partitions_ensure_monthly(p_parent regclass, p_from timestamptz, p_until timestamptz)
RETURNS integer LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    v_schema text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = p_parent);
    v_table text := (SELECT relname FROM pg_class WHERE oid = p_parent);
    v_key text := (SELECT a.attname FROM pg_partitioned_table p
                     JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                    WHERE p.partrelid = p_parent);
    v_default regclass;
    v_month timestamp := date_trunc('month', p_from AT TIME ZONE 'UTC');
    v_name text;
    v_start timestamptz;
    v_end timestamptz;
    v_taken boolean;
    v_created integer := 0;
BEGIN
    v_default := to_regclass(format('%I.%I', v_schema, v_table || '_default'));
    IF v_default IS NULL THEN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', v_schema, v_table || '_default', p_parent);
        v_default := to_regclass(format('%I.%I', v_schema, v_table || '_default'));
        PERFORM partitions_copy_truncate_guards(p_parent, v_default);
    END IF;
    WHILE v_month <= p_until AT TIME ZONE 'UTC' LOOP
        v_name := v_table || '_' || to_char(v_month, 'YYYYMM');
        v_start := v_month AT TIME ZONE 'UTC';
        v_end := (v_month + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(format('%I.%I', v_schema, v_name)) IS NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)', v_default, v_key, v_key)
               INTO v_taken USING v_start, v_end;
            IF v_taken THEN
                RAISE WARNING '% has rows of %: that month stays in the default partition', v_default, v_name;
            ELSE
                EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                               v_schema, v_name, p_parent, v_start, v_end);
                PERFORM partitions_copy_truncate_guards(p_parent, format('%I.%I', v_schema, v_name)::regclass);
                v_created := v_created + 1;
            END IF;
        END IF;
        v_month := v_month + interval '1 month';
    END LOOP;
    RETURN v_created;
END $$;

-- partitions_retire_monthly(parent, before, archive, keep_when): detaches each month partition of
-- `parent` that ends on or before `before`, oldest first, and returns their names. With `archive` (a
-- table partitioned like `parent`, in another schema) the partition moves to that schema and is attached
-- to it, where its rows stay readable (and guarded: the archive's triggers apply to it); without, it is
-- dropped. A partition holding a row that matches `keep_when` (an SQL condition, or NULL for none) is
-- left in place. Detaching locks `parent` briefly (ACCESS EXCLUSIVE): `lock_timeout` bounds the wait, so
-- a long transaction makes the job retry later instead of queueing every writer behind it.
CREATE OR REPLACE FUNCTION partitions_retire_monthly(
    p_parent regclass, p_before timestamptz, p_archive regclass, p_keep_when text
) RETURNS SETOF text LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    v_table text := (SELECT relname FROM pg_class WHERE oid = p_parent);
    v_archive_schema text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE c.oid = p_archive);
    v_partition regclass;
    v_name text;
    v_month timestamp;
    v_kept boolean;
BEGIN
    FOR v_partition, v_name IN
        SELECT c.oid::regclass, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = p_parent AND c.relname ~ ('^' || v_table || '_[0-9]{6}$')
           AND to_date(right(c.relname, 6), 'YYYYMM') + interval '1 month' <= (p_before AT TIME ZONE 'UTC')
         ORDER BY c.relname
    LOOP
        IF p_keep_when IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', v_partition, p_keep_when) INTO v_kept;
            CONTINUE WHEN v_kept;
        END IF;
        v_month := to_date(right(v_name, 6), 'YYYYMM')::timestamp;
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, v_partition);
        IF p_archive IS NULL THEN
            EXECUTE format('DROP TABLE %s', v_partition);
        ELSE
            EXECUTE format('ALTER TABLE %s SET SCHEMA %I', v_partition, v_archive_schema);
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           p_archive, v_archive_schema, v_name, v_month AT TIME ZONE 'UTC',
                           (v_month + interval '1 month') AT TIME ZONE 'UTC');
            PERFORM partitions_copy_truncate_guards(p_archive, format('%I.%I', v_archive_schema, v_name)::regclass);
        END IF;
        RETURN NEXT v_name;
    END LOOP;
END $$;
"""

_ENTRY_COLUMNS = """
    id bigint {identity},
    transaction_id uuid NOT NULL,
    account_id uuid NOT NULL,
    direction ledger_direction NOT NULL,
    amount ledger_cents NOT NULL,
    pending boolean NOT NULL,
    balance_after bigint,
    created_at timestamptz NOT NULL"""

_ENTRY_INDEXES = """
CREATE INDEX ix_{name}_account ON {table} (account_id, id);
CREATE INDEX ix_{name}_transaction ON {table} (transaction_id);
CREATE INDEX ix_{name}_credits ON {table} (account_id, created_at) INCLUDE (amount, transaction_id)
    WHERE direction = 'C' AND NOT pending;
"""

_GUARDS = """
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""

# Migration 0009's trigger: ledger_post's own entries are checked by ledger_post itself.
_BALANCED = """
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('ledger.posting', true) IS DISTINCT FROM NEW.transaction_id::text)
    EXECUTE FUNCTION ledger_check_balanced();
"""

LEDGER_UP = (
    """
LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE;
ALTER TABLE ledger_entries RENAME TO ledger_entries_unpartitioned;
ALTER TABLE ledger_entries_unpartitioned DROP CONSTRAINT ledger_entries_pkey;
ALTER TABLE ledger_entries_unpartitioned ALTER COLUMN id DROP IDENTITY;
DROP INDEX ix_ledger_entries_account, ix_ledger_entries_transaction, ix_ledger_entries_credits;
CREATE TABLE ledger_entries ("""
    + _ENTRY_COLUMNS.format(identity="GENERATED ALWAYS AS IDENTITY")
    + """,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
"""
    + _GUARDS.format(table="ledger_entries")
    + """
SELECT partitions_ensure_monthly('ledger_entries',
                                 coalesce((SELECT min(created_at) FROM ledger_entries_unpartitioned), now()),
                                 now() + interval '3 months');
INSERT INTO ledger_entries OVERRIDING SYSTEM VALUE SELECT * FROM ledger_entries_unpartitioned;
SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'),
              coalesce((SELECT max(id) FROM ledger_entries_unpartitioned), 0) + 1, false);
DROP TABLE ledger_entries_unpartitioned;
"""
    + _ENTRY_INDEXES.format(name="ledger_entries", table="ledger_entries")
    + _BALANCED
    + """
ANALYZE ledger_entries;

CREATE SCHEMA archive;
CREATE TABLE archive.ledger_entries ("""
    + _ENTRY_COLUMNS.format(identity="NOT NULL")
    + """,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
"""
    + _ENTRY_INDEXES.format(name="archive_ledger_entries", table="archive.ledger_entries")
    + _GUARDS.format(table="archive.ledger_entries")
    + """
CREATE VIEW ledger_all_entries AS
SELECT * FROM ledger_entries UNION ALL SELECT * FROM archive.ledger_entries;
"""
)

LEDGER_DOWN = (
    """
LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE;
DROP VIEW ledger_all_entries;
ALTER TABLE ledger_entries RENAME TO ledger_entries_partitioned;
ALTER TABLE ledger_entries_partitioned DROP CONSTRAINT ledger_entries_pkey;
ALTER TABLE ledger_entries_partitioned ALTER COLUMN id DROP IDENTITY;
CREATE TABLE ledger_entries ("""
    + _ENTRY_COLUMNS.format(identity="GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
    + """
);
INSERT INTO ledger_entries OVERRIDING SYSTEM VALUE
SELECT * FROM ledger_entries_partitioned UNION ALL SELECT * FROM archive.ledger_entries ORDER BY id;
SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'),
              coalesce((SELECT max(id) FROM ledger_entries), 0) + 1, false);
DROP TABLE ledger_entries_partitioned;
DROP SCHEMA archive CASCADE;
"""
    + _ENTRY_INDEXES.format(name="ledger_entries", table="ledger_entries")
    + _GUARDS.format(table="ledger_entries")
    + _BALANCED
)

OUTBOX_UP = """
LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE;
ALTER TABLE outbox RENAME TO outbox_unpartitioned;
ALTER SEQUENCE outbox_id_seq OWNED BY NONE;
ALTER TABLE outbox_unpartitioned DROP CONSTRAINT outbox_pkey, DROP CONSTRAINT outbox_position_key;
DROP INDEX ix_outbox_unpublished, ix_outbox_published_at, ix_outbox_user_ids, ix_outbox_roles;
CREATE TABLE outbox (
    id bigint NOT NULL DEFAULT nextval('outbox_id_seq'),
    type varchar(100) NOT NULL,
    data jsonb NOT NULL,
    user_ids uuid[] NOT NULL DEFAULT '{}',
    roles text[] NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    position bigint,
    published_at timestamptz,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE outbox_id_seq OWNED BY outbox.id;
SELECT partitions_ensure_monthly('outbox', coalesce((SELECT min(occurred_at) FROM outbox_unpartitioned), now()),
                                 now() + interval '3 months');
INSERT INTO outbox SELECT * FROM outbox_unpartitioned;
DROP TABLE outbox_unpartitioned;
CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_position ON outbox (position);
CREATE INDEX ix_outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX ix_outbox_user_ids ON outbox USING gin (user_ids);
CREATE INDEX ix_outbox_roles ON outbox USING gin (roles);
ANALYZE outbox;
"""

OUTBOX_DOWN = """
LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE;
ALTER TABLE outbox RENAME TO outbox_partitioned;
ALTER SEQUENCE outbox_id_seq OWNED BY NONE;
ALTER TABLE outbox_partitioned DROP CONSTRAINT outbox_pkey;
CREATE TABLE outbox (
    id bigint PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    type varchar(100) NOT NULL,
    data jsonb NOT NULL,
    user_ids uuid[] NOT NULL DEFAULT '{}',
    roles text[] NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    position bigint UNIQUE,
    published_at timestamptz
);
ALTER SEQUENCE outbox_id_seq OWNED BY outbox.id;
INSERT INTO outbox SELECT * FROM outbox_partitioned ORDER BY id;
DROP TABLE outbox_partitioned;
CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX ix_outbox_user_ids ON outbox USING gin (user_ids);
CREATE INDEX ix_outbox_roles ON outbox USING gin (roles);
"""

_DELIVERY_FK = """
ALTER TABLE financial_events DROP CONSTRAINT financial_events_delivery_id_fkey,
    ADD CONSTRAINT financial_events_delivery_id_fkey FOREIGN KEY (delivery_id)
        REFERENCES webhook_deliveries (id){on_delete};
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(LEDGER_UP)
    op.execute(OUTBOX_UP)
    op.execute(_DELIVERY_FK.format(on_delete=" ON DELETE SET NULL"))


def downgrade() -> None:
    op.execute(_DELIVERY_FK.format(on_delete=""))
    op.execute(OUTBOX_DOWN)
    op.execute(LEDGER_DOWN)
    op.execute(
        """
        DROP FUNCTION partitions_retire_monthly(regclass, timestamptz, regclass, text);
        DROP FUNCTION partitions_ensure_monthly(regclass, timestamptz, timestamptz);
        DROP FUNCTION partitions_copy_truncate_guards(regclass, regclass);
        """
    )
