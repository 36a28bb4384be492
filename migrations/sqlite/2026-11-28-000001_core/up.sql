-- Core schema (SQLite). Keep in step with migrations/postgres: the same tables and columns,
-- only the types and the append-only guards differ.
CREATE TABLE agencies (
    code TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_cy TEXT NOT NULL,
    shipped BOOLEAN NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    team TEXT NOT NULL,
    authority_code TEXT NOT NULL REFERENCES agencies(code),
    token_hash TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_value INTEGER NOT NULL
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    child_name TEXT NOT NULL,
    child_date_of_birth DATE NOT NULL,
    child_gender TEXT NOT NULL,
    located_authority TEXT NOT NULL REFERENCES agencies(code),
    residence_authority TEXT NOT NULL REFERENCES agencies(code),
    looked_after BOOLEAN NOT NULL,
    existing_plan TEXT NOT NULL,
    in_secure_estate BOOLEAN NOT NULL,
    facts TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL,
    audit_head TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_located ON cases(located_authority);
CREATE INDEX cases_residence ON cases(residence_authority);

CREATE TABLE case_workflows (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    workflow TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP,
    due_source TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    UNIQUE (case_id, workflow)
);
CREATE INDEX case_workflows_state ON case_workflows(workflow, state);
-- The current step's deadline lives on the workflow row; this index finds what is overdue.
CREATE INDEX case_workflows_open_due ON case_workflows(due_at) WHERE finished_at IS NULL;

-- One row per step a case has left: when it was entered and left, and its deadline, so that
-- timeliness can be reported without replaying the audit trail.
CREATE TABLE step_history (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    case_workflow_id TEXT NOT NULL REFERENCES case_workflows(id),
    workflow TEXT NOT NULL,
    state TEXT NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP,
    due_source TEXT,
    left_at TIMESTAMP NOT NULL,
    left_by_event TEXT NOT NULL
);
CREATE INDEX step_history_case ON step_history(case_id);

CREATE TABLE case_involvements (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    agency_code TEXT NOT NULL REFERENCES agencies(code),
    person_name TEXT,
    person_email TEXT,
    role TEXT NOT NULL,
    user_id TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_involvements_user ON case_involvements(user_id);
CREATE INDEX case_involvements_case ON case_involvements(case_id);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    location TEXT,
    online_link TEXT,
    chair_user_id TEXT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    warnings TEXT NOT NULL,
    warnings_rationale TEXT,
    cancel_reason TEXT,
    record_summary TEXT,
    next_meeting_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE meeting_cases (
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    PRIMARY KEY (meeting_id, case_id)
);
CREATE INDEX meeting_cases_case ON meeting_cases(case_id);

CREATE TABLE agreed_actions (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    meeting_id TEXT REFERENCES meetings(id),
    kind TEXT,
    title TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    owner_email TEXT,
    owner_user_id TEXT REFERENCES users(id),
    agency_code TEXT REFERENCES agencies(code),
    due_date DATE NOT NULL,
    status TEXT NOT NULL,
    cancellable BOOLEAN NOT NULL,
    rules TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agreed_actions_case ON agreed_actions(case_id);
CREATE INDEX agreed_actions_open ON agreed_actions(status, due_date);

CREATE TABLE audit_events (
    case_id TEXT NOT NULL REFERENCES cases(id),
    seq INTEGER NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    workflow TEXT,
    event TEXT,
    from_state TEXT,
    to_state TEXT,
    decline BOOLEAN NOT NULL,
    rationale TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
-- The audit trail is append-only. These triggers stop ordinary edits; `safeguard audit verify`
-- catches anyone who drops them first.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE access_log (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    action TEXT NOT NULL,
    path TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX access_log_case ON access_log(case_id, at);

CREATE TABLE workflow_definitions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    first_loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (name, version)
);
