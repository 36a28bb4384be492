# The name of each kind of entry in a case's history (its audit trail). A step taken is
# named by the workflow's own title for it.
history_case_created = Hysbysiad wedi’i gofnodi
history_workflow_started = Trywydd wedi dechrau
history_transition = Cam wedi’i gymryd
history_agreed_actions = Camau gweithredu wedi’u cytuno
history_action_agreed = Cam gweithredu wedi’i gytuno
history_action_updated = Cam gweithredu wedi’i ddiweddaru
history_action_more_time_asked = Gofyn am fwy o amser ar gyfer cam gweithredu
history_break_glass = Wedi’i agor drwy fynediad brys
history_handover = Wedi’i drosglwyddo yn 18 oed
history_involvement_added = Rhywun wedi’i gynnwys
history_involvement_removed = Rhywun wedi’i dynnu oddi ar yr achos
history_meeting_cancelled = Cyfarfod wedi’i ganslo
history_meeting_recorded = Cyfarfod wedi’i gofnodi
history_meeting_rescheduled = Cyfarfod wedi’i symud
history_meeting_scheduled = Cyfarfod wedi’i alw
history_team_assigned = Wedi’i roi i dîm
history_timescale_departure = Gwyriad oddi wrth yr amserlen wedi’i gofnodi
history_case_restricted = Wedi’i gyfyngu
history_restriction_lifted = Cyfyngiad wedi’i godi
history_access_named = Person wedi’i enwi ar yr achos
history_access_withdrawn = Person wedi’i dynnu oddi ar yr achos
history_languages_recorded = Ieithoedd a’r Cynnig Rhagweithiol o’r Gymraeg wedi’u cofnodi
history_child_corrected = Manylion y plentyn wedi’u cywiro
history_workflow_migrated = Wedi’i symud i fersiwn newydd o’r weithdrefn
history_handed_over = Wedi’i drosglwyddo i gydweithiwr pan adawodd y person a oedd yn ei arwain
history_disclosure_prepared = Datgeliad wedi’i baratoi
