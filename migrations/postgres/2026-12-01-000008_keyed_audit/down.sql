DROP TRIGGER security_events_no_edit ON security_events;
DROP TRIGGER access_log_no_edit ON access_log;
DROP TABLE security_events;
DROP INDEX access_log_at;
ALTER TABLE access_log DROP COLUMN mac;
ALTER TABLE audit_events DROP COLUMN case_version;
