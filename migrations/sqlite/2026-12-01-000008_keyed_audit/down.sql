DROP TRIGGER security_events_no_delete;
DROP TRIGGER security_events_no_update;
DROP TRIGGER access_log_no_delete;
DROP TRIGGER access_log_no_update;
DROP TABLE security_events;
DROP INDEX access_log_at;
ALTER TABLE access_log DROP COLUMN mac;
ALTER TABLE audit_events DROP COLUMN case_version;
