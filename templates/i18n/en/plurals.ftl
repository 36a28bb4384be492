# Counted things. English has two plural forms; Welsh has six (zero, one, two, few, many,
# other), and a noun after a number mutates after "dau" (2).
working_days = { $count ->
    [one] { $count } working day
   *[other] { $count } working days
}
working_days_late = { $count ->
    [one] { $count } working day late
   *[other] { $count } working days late
}
working_days_left = { $count ->
    [one] { $count } working day left
   *[other] { $count } working days left
}
minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
months = { $count ->
    [one] { $count } month
   *[other] { $count } months
}
risk_review_every = { $count ->
    [one] Review within { $count } working day
   *[other] Review within { $count } working days
}
missing_episodes_begun = { $count ->
    [one] { $count } missing episode began in this period.
   *[other] { $count } missing episodes began in this period.
}
