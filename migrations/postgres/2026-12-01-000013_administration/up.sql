-- Administration in the pages. Keep in step with the other backend's folder.
-- An agency an administrator adds: the email domains its staff use and, for a service of one
-- local authority's area, that authority. Shipped agencies keep theirs in the shipped file.
ALTER TABLE agencies ADD COLUMN domains TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN area TEXT NULL REFERENCES agencies (code);
-- The person a case was handed to when the one who led it left; empty while the lead follows
-- whoever last acted on the case.
ALTER TABLE cases ADD COLUMN lead_user_id TEXT NULL REFERENCES users (id);
-- An invitation to set a password: only the hash of the link's secret is kept.
CREATE TABLE account_invitations (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX account_invitations_user ON account_invitations (user_id);
