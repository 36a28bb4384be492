DROP TABLE job_runs;
DROP TABLE timescale_departures;
DROP TABLE plan_reviews;
DROP INDEX agreed_actions_open_due;
DROP INDEX step_history_left;
ALTER TABLE agreed_actions DROP COLUMN escalated_at;
ALTER TABLE agreed_actions DROP COLUMN overdue_notice_at;
ALTER TABLE agreed_actions DROP COLUMN reminder_sent_at;
ALTER TABLE agreed_actions DROP COLUMN created_by;
