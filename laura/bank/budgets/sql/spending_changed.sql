-- budgets_spending_changed(p_user_id): called in the transaction of every write that changes what a
-- customer spent (laura.bank.budgets.alerts.schedule_check on the session path; bank_p2p_send, the P2P's
-- one statement). It is SQL so that the one-statement P2P enqueues its check in its own transaction, like
-- every other spending write, and so both paths share one definition. Answers:
--   false  the customer has no live budget (one probe of the partial unique index; nothing written)
--   true   the customer's budget lock is held shared until the commit, and a `bank.budgets_check` job
--          waits for the customer: this one, or one already waiting (the queueing lock coalesces them)
-- The check job takes the same lock exclusively before it reads, so it cannot read spending between
-- this transaction's enqueue and its commit. The job row is inserted as procrastinate_defer_jobs_v1
-- inserts it, with ON CONFLICT on Procrastinate's queueing-lock index instead of its unique_violation.
CREATE OR REPLACE FUNCTION budgets_spending_changed(p_user_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_lock text := 'budgets:' || p_user_id::text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM budgets WHERE user_id = p_user_id AND deleted_at IS NULL) THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtextextended(p_user_id::text, 24));
    INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
    VALUES ('default', 'bank.budgets_check', 0, v_lock, v_lock, jsonb_build_object('user_id', p_user_id::text))
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
    RETURN true;
END $$;
