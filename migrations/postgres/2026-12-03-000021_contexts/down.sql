ALTER TABLE users DROP COLUMN sees_persons_of_concern;
DROP TABLE context_links;
DROP TABLE contexts;
