DROP TABLE form_submissions;
DROP TABLE sign_in_attempts;
DROP TABLE web_sessions;
ALTER TABLE users DROP COLUMN language;
ALTER TABLE users DROP COLUMN password_hash;
