"""Background jobs: the Procrastinate schema, the last error of each job, and an index for the admin list.

The schema is read from the installed procrastinate package, so it always matches the library the
worker runs; the version is kept as a comment on `procrastinate_jobs`. Upgrading procrastinate across a
schema change needs a new revision that applies the package's `sql/migrations/*.sql` in between.

Revision ID: 0003
Revises: 0002
"""

from importlib import metadata, resources

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(resources.files("procrastinate.sql").joinpath("schema.sql").read_text(encoding="utf-8"))
    version = metadata.version("procrastinate")
    op.execute(f"COMMENT ON TABLE procrastinate_jobs IS 'schema of procrastinate {version}'")
    op.execute(
        """
        -- Procrastinate keeps no error text: the worker writes the last one here (admin list, retries).
        CREATE TABLE job_errors (
            job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs(id) ON DELETE CASCADE,
            attempt integer NOT NULL,
            error text NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT now()
        );

        -- GET /admin/jobs?status=failed pages newest first without scanning finished jobs.
        CREATE INDEX ix_procrastinate_jobs_status_id ON procrastinate_jobs (status, id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE job_errors;
        DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$
        DECLARE
            fn regprocedure;
        BEGIN
            FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
                       WHERE p.proname LIKE 'procrastinate\\_%'
                         AND p.pronamespace = current_schema()::regnamespace
            LOOP
                EXECUTE 'DROP FUNCTION ' || fn;
            END LOOP;
        END $$;
        DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status;
        """
    )
