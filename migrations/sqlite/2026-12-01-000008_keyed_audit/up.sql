-- A keyed audit: each entry's hash becomes an HMAC with a key kept apart from the database, and
-- records the case's version after it, so `audit verify` can replay a trail against the case.
-- Each access-log line carries a keyed MAC, and each day's lines are sealed by count and digest
-- in the checkpoint file. Security events (failed sign-ins, revoked tokens) are kept the same
-- way. Keep in step with the other backend's folder.
ALTER TABLE audit_events ADD COLUMN case_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_log ADD COLUMN mac TEXT NOT NULL DEFAULT '';
CREATE INDEX access_log_at ON access_log(at);

CREATE TABLE security_events (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    account TEXT,
    address TEXT,
    user_id TEXT,
    detail TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX security_events_at ON security_events(at);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events
BEGIN SELECT RAISE(ABORT, 'security_events is append-only'); END;
CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events
BEGIN SELECT RAISE(ABORT, 'security_events is append-only'); END;
