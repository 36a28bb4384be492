DROP TABLE action_updates;
