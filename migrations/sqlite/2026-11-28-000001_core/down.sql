-- Reverting the core schema drops every table: only for a fresh development database.
DROP TABLE workflow_definitions;
DROP TABLE access_log;
DROP TABLE audit_events;
DROP TABLE agreed_actions;
DROP TABLE meeting_cases;
DROP TABLE meetings;
DROP TABLE case_involvements;
DROP TABLE step_history;
DROP TABLE case_workflows;
DROP TABLE cases;
DROP TABLE reference_counters;
DROP TABLE users;
DROP TABLE agencies;
