-- A signed link works only for the person it names: opened from a second browser, or once it
-- is older than a day (both configurable), it asks for a one-time code sent to that person's
-- address. Only hashes of links, browsers and codes are kept. Keep in step with the other
-- backend's folder.
CREATE TABLE link_browsers (
    link_hash TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    open_until TIMESTAMP NOT NULL,
    PRIMARY KEY (link_hash, browser_hash)
);

CREATE TABLE link_codes (
    id TEXT PRIMARY KEY NOT NULL,
    link_hash TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX link_codes_link ON link_codes(link_hash, sent_at);
