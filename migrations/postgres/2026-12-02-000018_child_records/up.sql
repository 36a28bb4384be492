-- The child as a person across cases: police and a school reporting the same child make two
-- cases, and a practitioner who may see both confirms they are one child, merging the two
-- records; siblings are linked. A record holds no personal data of its own (the cases hold the
-- name and date of birth), so it outlives no case's retention. Every merge and link is audited
-- on each case concerned. Each existing case starts as its own child. Keep in step with the
-- other backend's folder.
CREATE TABLE children (
    id TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    -- Set when this record was merged into another: its cases moved there.
    merged_into TEXT NULL REFERENCES children (id),
    merged_at TIMESTAMP NULL
);
CREATE TABLE child_cases (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id)
);
CREATE INDEX child_cases_child ON child_cases (child_id);
CREATE TABLE child_relations (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    other_child_id TEXT NOT NULL REFERENCES children (id),
    relation TEXT NOT NULL,
    reason TEXT NOT NULL,
    made_by TEXT NOT NULL REFERENCES users (id),
    made_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NULL,
    ended_by TEXT NULL REFERENCES users (id)
);
CREATE INDEX child_relations_child ON child_relations (child_id);
CREATE INDEX child_relations_other ON child_relations (other_child_id);
INSERT INTO children (id, created_at) SELECT id, created_at FROM cases;
INSERT INTO child_cases (case_id, child_id) SELECT id, id FROM cases;
