-- Email is retried for a period (72 hours by default) from when it was queued, or from when an
-- administrator last put a failed message back in the queue. Keep in step with the other
-- backend's folder.
ALTER TABLE outbox ADD COLUMN retried_at TIMESTAMP;
