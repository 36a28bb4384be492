# Y tudalennau y mae partner yn eu hagor o e-bost, heb gyfrif: y ddwy iaith ar bob tudalen,
# iaith y darllenydd yn gyntaf. Cadwch yr un negeseuon yn en/partner.ftl.
partner_service_name = Cyfarfodydd strategaeth diogelu
partner_turn = Cymraeg yn gyntaf
respond_title = Gwahoddiad i gyfarfod
respond_invited = { $name }, fe’ch gwahoddir i gyfarfod ynghylch achos { $references } ({ $kind }).
respond_when = Pryd: { $starts } hyd { $ends } (amser y DU).
respond_where = Ble: { $location }.
respond_cancelled = Mae’r cyfarfod hwn wedi’i ganslo.
respond_answered = Eich ateb: { $answer }. Gallwch newid eich ateb isod.
respond_reason = Os na allwch ddod, pam (dewisol)
respond_attend = Byddaf yn bresennol
respond_not_attend = Ni allaf fod yn bresennol
respond_done_title = Diolch
respond_done_body = Mae eich ateb ({ $answer }) wedi’i gofnodi ar gyfer y cyfarfod ynghylch achos { $references }.
respond_done_attending = yn bresennol
respond_done_not_attending = ddim yn bresennol
actions_title = Eich camau gweithredu
actions_case = Achos
actions_saved = Wedi’i gadw.
actions_due = Erbyn: { $due }. Statws: { $status }.
actions_update = Diweddariad
actions_done = Nodi’n gyflawn gyda’r nodyn hwn
actions_note_only = Ychwanegu’r diweddariad yn unig
actions_more_time = Gofyn am fwy o amser, gan roi’r rheswm uchod
actions_more_time_asked = Yn gofyn am fwy o amser
