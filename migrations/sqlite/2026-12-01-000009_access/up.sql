-- Access that can be withdrawn, and need to know inside an authority. Keep in step with the
-- other backend's folder.
--
-- API tokens move to a table of their own: several per person, each with an expiry, listed
-- and revoked. The token hash on `users` goes (its tokens are carried over, expiring 90 days
-- after this migration). Sessions remember when they were last used, for the idle timeout.
-- Cases belong to a team; a restricted case opens only to the people named on it; break-glass
-- access is recorded with its reason and ends after a while.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_by TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at)
SELECT 'carried-' || id, id, token_hash, 'first token', created_at, datetime('now', '+90 days')
FROM users;

CREATE TABLE users_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    team TEXT NOT NULL,
    authority_code TEXT NOT NULL REFERENCES agencies(code),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    password_hash TEXT,
    language TEXT NOT NULL DEFAULT 'en'
);
INSERT INTO users_rebuilt (id, name, email, role, team, authority_code, active, created_at, password_hash, language)
SELECT id, name, email, role, team, authority_code, active, created_at, password_hash, language FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;

ALTER TABLE web_sessions ADD COLUMN last_seen_at TIMESTAMP;

ALTER TABLE cases ADD COLUMN team TEXT;
ALTER TABLE cases ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT 0;
UPDATE cases SET team = (SELECT u.team FROM users u WHERE u.id = cases.created_by AND u.authority_code IN (cases.located_authority, cases.residence_authority));

CREATE TABLE case_access_grants (
    case_id TEXT NOT NULL REFERENCES cases(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    granted_by TEXT NOT NULL REFERENCES users(id),
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_access_grants_user ON case_access_grants(user_id);

CREATE TABLE break_glass (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX break_glass_user ON break_glass(user_id, expires_at);

COMMIT;
PRAGMA foreign_keys = ON;
