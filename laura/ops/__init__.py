"""Operations for admins: background jobs that ran out of retries, and re-queueing them."""
