# The pages a partner opens from an email, without an account: both languages on each page,
# the reader's first. Keep the same messages in cy/partner.ftl.
partner_service_name = Safeguarding strategy meetings
partner_turn = English first
respond_title = Meeting invitation
respond_invited = { $name }, you are invited to a { $kind } about case { $references }.
respond_when = When: { $starts } to { $ends } (UK time).
respond_where = Where: { $location }.
respond_cancelled = This meeting has been cancelled.
respond_answered = You answered: { $answer }. You can change your answer below.
respond_reason = If you cannot attend, why (optional)
respond_attend = I will attend
respond_not_attend = I cannot attend
respond_done_title = Thank you
respond_done_body = Your answer ({ $answer }) has been recorded for the meeting about case { $references }.
respond_done_attending = attending
respond_done_not_attending = not attending
actions_title = Your agreed actions
actions_case = Case
actions_saved = Saved.
actions_due = Due: { $due }. Status: { $status }.
actions_update = Update
actions_done = Mark done with this note
actions_note_only = Add the update only
actions_more_time = Ask for more time, giving the reason above
actions_more_time_asked = Asks for more time
link_code_title = Type the code we emailed you
link_code_error_prefix = Error:
link_code_problem = There is a problem
link_code_wrong = That code is not right, or it has run out. Check the latest email, or ask for a new code.
link_code_too_many_title = Too many codes
link_code_too_many = Five codes have been sent for this link in the last hour. Please try again later.
link_code_body = This link is for one person. To open it here, type the 6-digit code we have just sent to { $sent_to }. It works for { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
link_code_label = Code
link_code_continue = Continue
link_invalid_title = This link is not valid
link_expired_title = This link has expired
link_invalid_body = Ask the chair named in the email for a new link: their name and address are in it. Replies to the email itself are not read.
ics_purpose = A multi-agency meeting to share what each agency knows and agree how to keep a child safe. Bring what your agency knows, and any actions you already hold.
ics_chair = Chair: { $name } ({ $value })
ics_answer = Tell the chair whether you can attend:
