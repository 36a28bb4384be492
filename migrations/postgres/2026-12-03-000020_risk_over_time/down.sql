DROP TABLE risk_reviews;
DROP TABLE risk_assessments;
DROP TABLE missing_episodes;
