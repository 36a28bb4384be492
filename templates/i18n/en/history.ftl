# The name of each kind of entry in a case's history (its audit trail). A step taken is
# named by the workflow's own title for it.
history_case_created = Report recorded
history_workflow_started = Track started
history_transition = Step taken
history_agreed_actions = Actions agreed
history_action_agreed = Action agreed
history_action_updated = Action updated
history_action_more_time_asked = More time asked for an action
history_break_glass = Opened by break-glass
history_handover = Handed over at 18
history_involvement_added = Someone involved
history_involvement_removed = Involvement taken off
history_meeting_cancelled = Meeting cancelled
history_meeting_recorded = Meeting recorded
history_meeting_rescheduled = Meeting moved
history_meeting_scheduled = Meeting convened
history_team_assigned = Given to a team
history_timescale_departure = Departure from the timescale recorded
history_case_restricted = Restricted
history_restriction_lifted = Restriction lifted
history_access_named = Person named on the case
history_access_withdrawn = Person taken off the case
history_languages_recorded = Languages and the active offer of Welsh recorded
history_child_corrected = The child’s details corrected
history_workflow_migrated = Moved to a new version of the procedure
history_handed_over = Handed to a colleague when the person leading it left
history_disclosure_prepared = A disclosure prepared
