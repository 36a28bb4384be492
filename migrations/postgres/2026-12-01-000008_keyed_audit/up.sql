-- A keyed audit: each entry's hash becomes an HMAC with a key kept apart from the database, and
-- records the case's version after it, so `audit verify` can replay a trail against the case.
-- Each access-log line carries a keyed MAC, and each day's lines are sealed by count and digest
-- in the checkpoint file. Security events (failed sign-ins, revoked tokens) are kept the same
-- way. Keep in step with the other backend's folder.
--
-- Append-only tables refuse UPDATE and DELETE by trigger; the one sanctioned deletion, the
-- destruction of a case under a retention rule, runs as the owner role (the service's own role
-- has no DELETE on these tables at all) with `safeguard.destruction` set for its transaction.
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

CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('safeguard.destruction', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_log_no_edit BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER security_events_no_edit BEFORE UPDATE OR DELETE ON security_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
