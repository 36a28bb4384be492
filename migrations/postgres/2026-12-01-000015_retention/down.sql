DROP TABLE destruction_approvals;
ALTER TABLE cases DROP COLUMN legal_hold;
