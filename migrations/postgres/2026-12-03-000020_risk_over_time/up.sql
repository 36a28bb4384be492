-- Risk over time (issue 14): each child's missing episodes, each structured risk assessment
-- with who made it and the answers as they were asked, and the date the next review falls due.
CREATE TABLE missing_episodes (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    went_missing_at TIMESTAMP NOT NULL,
    returned_at TIMESTAMP,
    reported_by TEXT NOT NULL,
    -- Set when the child returns, from the deadline in the assessment file.
    return_interview_due_at TIMESTAMP,
    interview_offered_at TIMESTAMP,
    interview_held_at TIMESTAMP,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX missing_episodes_case ON missing_episodes(case_id, went_missing_at);
-- The dashboard lists return interviews due: only episodes still waiting for one.
CREATE INDEX missing_episodes_interview_due ON missing_episodes(return_interview_due_at)
    WHERE interview_held_at IS NULL;
CREATE INDEX missing_episodes_started ON missing_episodes(went_missing_at);

CREATE TABLE risk_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    definition TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    -- The questions as they were asked, in both languages, with each answer: evidence of what
    -- the assessor was prompted with, whatever later versions of the file ask.
    answers TEXT NOT NULL,
    category TEXT NOT NULL,
    category_title TEXT NOT NULL,
    category_title_cy TEXT NOT NULL,
    rationale TEXT NOT NULL,
    assessed_by TEXT NOT NULL,
    assessed_at TIMESTAMP NOT NULL,
    next_review_on DATE NOT NULL
);
CREATE INDEX risk_assessments_case ON risk_assessments(case_id, assessed_at);

-- One row a case: when its risk review is next due, and why (the interval of the last
-- assessment's category, or a significant change that brought it forward).
CREATE TABLE risk_reviews (
    case_id TEXT PRIMARY KEY NOT NULL REFERENCES cases(id),
    due_on DATE NOT NULL,
    reason TEXT NOT NULL,
    since TIMESTAMP NOT NULL
);
CREATE INDEX risk_reviews_due ON risk_reviews(due_on);
