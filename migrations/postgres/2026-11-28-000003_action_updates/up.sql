-- What happened to each agreed action after it was agreed: who said what, when, and any change
-- of status. Owners without an account write here through their signed link.
CREATE TABLE action_updates (
    id TEXT PRIMARY KEY NOT NULL,
    action_id TEXT NOT NULL REFERENCES agreed_actions(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    at TIMESTAMP NOT NULL,
    by_name TEXT NOT NULL,
    by_email TEXT,
    by_user_id TEXT REFERENCES users(id),
    note TEXT NOT NULL,
    new_status TEXT
);
CREATE INDEX action_updates_action ON action_updates(action_id);
