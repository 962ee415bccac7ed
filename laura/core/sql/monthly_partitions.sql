-- Tables partitioned by month on a timestamp (ledger_entries on created_at, outbox on occurred_at;
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
