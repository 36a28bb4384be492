-- What an update is: a note (the default), or a partner's request for more time. The request
-- was written into the note as English words; it becomes a kind, and each page words it in its
-- reader's language. Keep in step with the other backend's folder.
ALTER TABLE action_updates ADD COLUMN kind TEXT NOT NULL DEFAULT 'note';
UPDATE action_updates SET kind = 'more_time_asked', note = substr(note, 21)
    WHERE note LIKE 'Asks for more time: %';
