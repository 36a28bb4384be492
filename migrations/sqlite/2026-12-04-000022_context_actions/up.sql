-- A context's own actions (issue 14, part 1): disruption by police or partners, and any other
-- action about a place, a group or a person of concern rather than one child. Chased like an
-- agreed action (each notice marked once), but their emails carry only the title and the
-- context's reference. Closed, never deleted: who closed one, when and why stays.
CREATE TABLE context_actions (
    id TEXT PRIMARY KEY NOT NULL,
    context_id TEXT NOT NULL REFERENCES contexts(id),
    title TEXT NOT NULL,
    disruption BOOLEAN NOT NULL,
    owner_name TEXT NOT NULL,
    owner_email TEXT,
    owner_user_id TEXT REFERENCES users(id),
    agency_code TEXT REFERENCES agencies(code),
    due_date DATE NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    closed_by TEXT,
    closed_at TIMESTAMP,
    close_note TEXT,
    reminder_sent_at TIMESTAMP,
    overdue_notice_at TIMESTAMP,
    escalated_at TIMESTAMP,
    -- Why an owner's address outside their agency's email domains is right, when it is.
    addresses_rationale TEXT
);
CREATE INDEX context_actions_context ON context_actions(context_id);
CREATE INDEX context_actions_open ON context_actions(status, due_date);
