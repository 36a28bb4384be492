DROP TABLE outbox;
DROP TABLE meeting_invitees;
