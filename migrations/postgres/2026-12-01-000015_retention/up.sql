-- Retention by rule. A legal hold keeps a case past its retention period (its reason, who set
-- it and when); an administrator's approval of a destruction waits for the command that runs
-- it with the database owner's role. Keep in step with the other backend's folder.
ALTER TABLE cases ADD COLUMN legal_hold TEXT NULL;
CREATE TABLE destruction_approvals (
    case_id TEXT PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    approved_by TEXT NOT NULL REFERENCES users (id),
    approved_at TIMESTAMP NOT NULL
);
