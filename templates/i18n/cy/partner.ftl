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
link_code_title = Teipiwch y cod a anfonwyd atoch
link_code_error_prefix = Gwall:
link_code_problem = Mae problem
link_code_wrong = Nid yw’r cod hwnnw’n gywir, neu mae wedi dod i ben. Gwiriwch yr e-bost diweddaraf, neu gofynnwch am god newydd.
link_code_too_many_title = Gormod o godau
link_code_too_many = Mae pum cod wedi’u hanfon ar gyfer y ddolen hon yn yr awr ddiwethaf. Rhowch gynnig arall arni yn nes ymlaen.
link_code_body = Mae’r ddolen hon ar gyfer un person. I’w hagor yma, teipiwch y cod 6 digid rydym newydd ei anfon at { $sent_to }. Mae’n gweithio am { $minutes ->
    [two] { $minutes } funud
   *[other] { $minutes } munud
}.
link_code_label = Cod
link_code_continue = Parhau
link_invalid_title = Nid yw’r ddolen hon yn ddilys
link_expired_title = Mae’r ddolen hon wedi dod i ben
link_invalid_body = Gofynnwch i’r cadeirydd a enwir yn yr e-bost am ddolen newydd: mae eu henw a’u cyfeiriad ynddo. Nid yw atebion i’r e-bost ei hun yn cael eu darllen.
ics_purpose = Cyfarfod amlasiantaethol i rannu’r hyn y mae pob asiantaeth yn ei wybod a chytuno sut i gadw plentyn yn ddiogel. Dewch â’r hyn y mae eich asiantaeth yn ei wybod, ac unrhyw gamau gweithredu sydd gennych eisoes.
ics_chair = Cadeirydd: { $name } ({ $value })
ics_answer = Rhowch wybod i’r cadeirydd a allwch fod yn bresennol:
