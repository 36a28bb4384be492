# The words for each status of a case, an action, a meeting, a review, an answer and an email.
status_open = open
status_closed = closed
status_handed_over = handed over
status_done = done
status_cancelled = cancelled
status_scheduled = scheduled
status_held = held
status_due = due
status_accepted = attending
status_declined = not attending
status_pending = no answer yet
status_failed = failed
status_sent = sent
