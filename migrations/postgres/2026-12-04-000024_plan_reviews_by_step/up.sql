-- A transition reads the reviews of its running workflow (the step snapshot); without this index
-- every transition scanned the whole table, so transitions slowed as cases accumulated.
CREATE INDEX plan_reviews_case_workflow ON plan_reviews(case_workflow_id);
