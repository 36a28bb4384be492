DROP INDEX cases_located_scope;
DROP INDEX cases_residence_scope;
CREATE INDEX cases_located ON cases(located_authority);
CREATE INDEX cases_residence ON cases(residence_authority);
