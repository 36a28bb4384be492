-- Following things up: who is chased about an agreed action and when, reviews of a plan,
-- timescale departures, and the periodic jobs that do the chasing. Keep in step with
-- migrations/postgres.

-- When each notice about an action went out, so that each goes once; and who agreed it, whose
-- team lead hears when an owner outside the service lets it slip.
ALTER TABLE agreed_actions ADD COLUMN created_by TEXT;
ALTER TABLE agreed_actions ADD COLUMN reminder_sent_at TIMESTAMP;
ALTER TABLE agreed_actions ADD COLUMN overdue_notice_at TIMESTAMP;
ALTER TABLE agreed_actions ADD COLUMN escalated_at TIMESTAMP;
CREATE INDEX agreed_actions_open_due ON agreed_actions(due_date) WHERE status = 'open';
-- An authority's open actions, found from its cases (the dashboard).
CREATE INDEX agreed_actions_case_open ON agreed_actions(case_id, due_date) WHERE status = 'open';
-- Timeliness figures read the steps finished in a period.
CREATE INDEX step_history_left ON step_history(left_at);

-- Core groups and review conferences of a plan, scheduled from the workflow when the plan is
-- agreed and each time one is held.
CREATE TABLE plan_reviews (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    case_workflow_id TEXT NOT NULL REFERENCES case_workflows(id),
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    due_at TIMESTAMP NOT NULL,
    due_source TEXT NOT NULL,
    status TEXT NOT NULL,
    held_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_reviews_case ON plan_reviews(case_id);
CREATE INDEX plan_reviews_due ON plan_reviews(due_at) WHERE status = 'due';

-- A senior manager's recorded departure from a timescale (WSP): the step (a workflow row and
-- the time it entered the step) or the review stops counting as overdue.
CREATE TABLE timescale_departures (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    case_workflow_id TEXT REFERENCES case_workflows(id),
    step_entered_at TIMESTAMP,
    state TEXT,
    review_id TEXT REFERENCES plan_reviews(id),
    due_at TIMESTAMP NOT NULL,
    rationale TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX timescale_departures_step ON timescale_departures(case_workflow_id, step_entered_at);
CREATE INDEX timescale_departures_review ON timescale_departures(review_id);

-- One row per run of a periodic job and the time it was due: the primary key is the claim,
-- so of several replicas exactly one runs each tick.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    scheduled_for TIMESTAMP NOT NULL,
    claimed_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT,
    PRIMARY KEY (job, scheduled_for)
);
