-- Sign-ins with the council's identity provider that have begun: what must be kept until the
-- browser comes back. Only the state's hash is stored; each is used once, within minutes.
-- Keep in step with the other backend's folder.
CREATE TABLE single_sign_ons (
    state_hash TEXT PRIMARY KEY,
    tenant INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
