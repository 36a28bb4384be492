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
