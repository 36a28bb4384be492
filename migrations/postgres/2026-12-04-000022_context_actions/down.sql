DROP TABLE context_actions;
