DROP TABLE account_invitations;
ALTER TABLE cases DROP COLUMN lead_user_id;
ALTER TABLE agencies DROP COLUMN area;
ALTER TABLE agencies DROP COLUMN domains;
