-- The optional second step for local passwords: a TOTP secret (kept, since the service must
-- compute codes from it; set up once a code has proved the person's app holds it), the last
-- time step a code was accepted for (a code works once), single-use recovery codes (hashes
-- only), and sign-ins waiting for their second step. Keep in step with the other backend's
-- folder.
ALTER TABLE users ADD COLUMN totp_secret TEXT NULL;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP NULL;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NULL;
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
CREATE TABLE second_steps (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    next_path TEXT NOT NULL,
    -- The password's sign-in attempt: it counts as succeeded only once the second step is.
    attempt_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
