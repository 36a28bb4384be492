PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE break_glass;
DROP TABLE case_access_grants;
ALTER TABLE cases DROP COLUMN restricted;
ALTER TABLE cases DROP COLUMN team;
ALTER TABLE web_sessions DROP COLUMN last_seen_at;
CREATE TABLE users_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    team TEXT NOT NULL,
    authority_code TEXT NOT NULL REFERENCES agencies(code),
    token_hash TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    password_hash TEXT,
    language TEXT NOT NULL DEFAULT 'en'
);
INSERT INTO users_rebuilt
SELECT u.id, u.name, u.email, u.role, u.team, u.authority_code,
       coalesce((SELECT t.token_hash FROM api_tokens t WHERE t.user_id = u.id ORDER BY t.created_at DESC LIMIT 1), 'none-' || u.id),
       u.active, u.created_at, u.password_hash, u.language
FROM users u;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
DROP TABLE api_tokens;
COMMIT;
PRAGMA foreign_keys = ON;
