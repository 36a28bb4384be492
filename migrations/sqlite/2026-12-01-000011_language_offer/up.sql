-- The Welsh Language Standards: the child's and the family's language, and whether the active
-- offer of Welsh was made to them (made and taken up, made and declined, not made). Names are
-- also kept folded (lower case, without accents) so that a search for "Sian" finds "Siân"; the
-- service fills the folded name for rows recorded before this migration. Keep in step with the
-- other backend's folder.
ALTER TABLE cases ADD COLUMN child_language TEXT NOT NULL DEFAULT 'not_known';
ALTER TABLE cases ADD COLUMN family_language TEXT NOT NULL DEFAULT 'not_known';
ALTER TABLE cases ADD COLUMN welsh_offer TEXT NOT NULL DEFAULT 'not_made';
ALTER TABLE cases ADD COLUMN child_name_folded TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_child_name_folded ON cases(child_name_folded);
