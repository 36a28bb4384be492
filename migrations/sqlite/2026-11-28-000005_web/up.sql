-- Signing in to the pages: a password (argon2id; a user without one uses only their API
-- token), the language each person reads the pages in, sessions, and sign-in attempts for
-- rate limiting. Keep in step with the other backend's folder.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';

-- Only the SHA-256 of the session cookie is stored, as with API tokens.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

CREATE TABLE sign_in_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX sign_in_attempts_account ON sign_in_attempts(account, at);
CREATE INDEX sign_in_attempts_address ON sign_in_attempts(address, at);

-- Each page form that creates something carries a one-time token: a second submission of the
-- same form (a double click, a resend) finds its token here and leads to what the first made.
CREATE TABLE form_submissions (
    token TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    outcome TEXT
);
