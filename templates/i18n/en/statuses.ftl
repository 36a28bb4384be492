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

# What kind of email it is, on the dashboard and in the digest.
email_kind_invitation = meeting invitation
email_kind_cancellation = meeting cancellation
email_kind_reminder = meeting reminder
email_kind_agreed_actions = agreed actions
email_kind_meeting_record = meeting record
email_kind_action_reminder = action reminder
email_kind_action_overdue = overdue action
email_kind_action_escalation = overdue action for a team lead
email_kind_action_news = news of an action for its chair
email_kind_action_more_time = answer to a request for more time
email_kind_daily_digest = daily summary
email_kind_age18_started = age 18 track started
email_kind_transfer_notice = plan transferring to your authority
email_kind_age18_handover = handover at 18
email_kind_break_glass = break-glass notice
email_kind_link_code = one-time code
email_kind_account_invitation = account invitation
email_kind_referral_receipt = receipt for a partner’s report
email_kind_referral_decision = decision on a partner’s report
email_kind_referral_unacknowledged = partner’s report not acknowledged in time
email_kind_referral_escalation = how to escalate an unacknowledged report
email_kind_referral_link = referral link for a partner agency
