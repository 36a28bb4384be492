ALTER TABLE outbox DROP COLUMN retried_at;
