-- A meeting about several children is recorded as a part for the whole meeting
-- (meetings.record_summary) and a section for each child, which goes only into that child's
-- case and to people who may know of that child. Keep in step with the other backend's folder.
CREATE TABLE meeting_record_sections (
    meeting_id TEXT NOT NULL REFERENCES meetings(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    text TEXT NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);
