DROP INDEX cases_child_name_folded;
ALTER TABLE cases DROP COLUMN child_name_folded;
ALTER TABLE cases DROP COLUMN welsh_offer;
ALTER TABLE cases DROP COLUMN family_language;
ALTER TABLE cases DROP COLUMN child_language;
