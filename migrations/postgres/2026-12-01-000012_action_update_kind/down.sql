UPDATE action_updates SET note = 'Asks for more time: ' || note WHERE kind = 'more_time_asked';
ALTER TABLE action_updates DROP COLUMN kind;
