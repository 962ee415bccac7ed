"""Budgets and the threshold alerts they sent.

Revision ID: 0024
Revises: 0023

A budget caps what a customer spends in one category per period (WEEKLY, MONTHLY, ANNUAL: the spending
layer's windows). Deleting one is soft (`deleted_at`), so its alerts keep their budget; one budget per
customer, category and period is live at a time (the partial unique index, which also serves the "has
the customer a live budget?" probe the spending writes make).

`budget_alerts` is the record of each alert sent: its primary key (budget, period's first day,
threshold) makes the alert once per budget, threshold and period, whoever inserts it first.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE budgets (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            category varchar(20) NOT NULL,
            limit_cents bigint NOT NULL CHECK (limit_cents > 0),
            period varchar(10) NOT NULL CHECK (period IN ('WEEKLY', 'MONTHLY', 'ANNUAL')),
            alert_thresholds integer[] NOT NULL DEFAULT '{50,75,90}',
            start_date date NOT NULL,
            end_date date,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK (end_date IS NULL OR end_date >= start_date)
        );
        CREATE UNIQUE INDEX budgets_live_category_period ON budgets (user_id, category, period)
            WHERE deleted_at IS NULL;

        CREATE TABLE budget_alerts (
            budget_id uuid NOT NULL REFERENCES budgets (id),
            period_start date NOT NULL,
            threshold integer NOT NULL,
            spent_cents bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (budget_id, period_start, threshold)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE budget_alerts; DROP TABLE budgets;")
