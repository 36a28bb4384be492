-- Contexts (issue 14, part 1): a place, a peer group or a person of concern, linked to many
-- children's cases. Each link says who made it, when, why and on what information, and can be
-- ended (never deleted: the record keeps what was believed and when).
CREATE TABLE contexts (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The authority whose staff recorded it; they see it, as do those who may see a child
    -- linked to it.
    authority_code TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contexts_authority ON contexts(authority_code);

CREATE TABLE context_links (
    id TEXT PRIMARY KEY NOT NULL,
    context_id TEXT NOT NULL REFERENCES contexts(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    reason TEXT NOT NULL,
    information TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ended_by TEXT,
    end_reason TEXT
);
CREATE INDEX context_links_context ON context_links(context_id);
CREATE INDEX context_links_case ON context_links(case_id);

-- Persons of concern are seen only by those an administrator has given the role.
ALTER TABLE users ADD COLUMN sees_persons_of_concern BOOLEAN NOT NULL DEFAULT FALSE;
