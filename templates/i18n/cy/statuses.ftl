# The words for each status of a case, an action, a meeting, a review, an answer and an email.
status_open = ar agor
status_closed = wedi cau
status_handed_over = wedi’i drosglwyddo
status_done = wedi’i wneud
status_cancelled = wedi’i ganslo
status_scheduled = wedi’i drefnu
status_held = wedi’i gynnal
status_due = yn ddyledus
status_accepted = yn bresennol
status_declined = ddim yn bresennol
status_pending = dim ateb eto
status_failed = wedi methu
status_sent = wedi’i anfon

# Pa fath o e-bost ydyw, ar y dangosfwrdd ac yn y crynodeb.
email_kind_invitation = gwahoddiad i gyfarfod
email_kind_cancellation = canslo cyfarfod
email_kind_reminder = nodyn atgoffa am gyfarfod
email_kind_agreed_actions = camau gweithredu a gytunwyd
email_kind_meeting_record = cofnod cyfarfod
email_kind_action_reminder = nodyn atgoffa am gam gweithredu
email_kind_action_overdue = cam gweithredu hwyr
email_kind_action_escalation = cam gweithredu hwyr i arweinydd tîm
email_kind_action_news = newyddion am gam gweithredu i’w gadeirydd
email_kind_action_more_time = ateb i gais am fwy o amser
email_kind_daily_digest = crynodeb dyddiol
email_kind_age18_started = trywydd 18 oed wedi dechrau
email_kind_transfer_notice = cynllun yn trosglwyddo i’ch awdurdod
email_kind_age18_handover = trosglwyddo yn 18 oed
email_kind_break_glass = hysbysiad mynediad brys
email_kind_link_code = cod untro
email_kind_account_invitation = gwahoddiad i gyfrif
email_kind_referral_receipt = derbynneb am hysbysiad partner
email_kind_referral_decision = penderfyniad ar hysbysiad partner
email_kind_referral_unacknowledged = hysbysiad partner heb ei gydnabod mewn pryd
email_kind_referral_escalation = sut i uwchgyfeirio hysbysiad heb ei gydnabod
email_kind_referral_link = dolen atgyfeirio ar gyfer asiantaeth bartner
