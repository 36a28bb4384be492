-- Invitees of meetings (their answers, and whether they attended), and the email outbox.
CREATE TABLE meeting_invitees (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    agency_code TEXT REFERENCES agencies(code),
    role TEXT NOT NULL,
    language TEXT NOT NULL,
    direct_knowledge BOOLEAN NOT NULL,
    response TEXT NOT NULL,
    response_reason TEXT,
    responded_at TIMESTAMP,
    attended BOOLEAN
);
CREATE INDEX meeting_invitees_meeting ON meeting_invitees(meeting_id);

-- Every email is written here in the same transaction as the change that causes it, already
-- rendered (with its Message-ID), and delivered by the outbox worker. A row scheduled for
-- later (a reminder) waits for `not_before`. A worker claims a row by setting a lease.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    meeting_id TEXT REFERENCES meetings(id),
    case_id TEXT REFERENCES cases(id),
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    not_before TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    leased_by TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(status, not_before);
CREATE INDEX outbox_meeting ON outbox(meeting_id);
