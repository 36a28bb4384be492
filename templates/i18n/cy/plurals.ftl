# Pethau wedi’u cyfrif. Mae gan y Gymraeg chwe ffurf luosog (zero, one, two, few, many,
# other); mae enw ar ôl "dau" (2) yn treiglo'n feddal.
working_days = { $count ->
    [zero] { $count } diwrnod gwaith
    [one] { $count } diwrnod gwaith
    [two] { $count } ddiwrnod gwaith
    [few] { $count } diwrnod gwaith
    [many] { $count } diwrnod gwaith
   *[other] { $count } diwrnod gwaith
}
working_days_late = { $count ->
    [zero] { $count } diwrnod gwaith yn hwyr
    [one] { $count } diwrnod gwaith yn hwyr
    [two] { $count } ddiwrnod gwaith yn hwyr
    [few] { $count } diwrnod gwaith yn hwyr
    [many] { $count } diwrnod gwaith yn hwyr
   *[other] { $count } diwrnod gwaith yn hwyr
}
working_days_left = { $count ->
    [zero] { $count } diwrnod gwaith ar ôl
    [one] { $count } diwrnod gwaith ar ôl
    [two] { $count } ddiwrnod gwaith ar ôl
    [few] { $count } diwrnod gwaith ar ôl
    [many] { $count } diwrnod gwaith ar ôl
   *[other] { $count } diwrnod gwaith ar ôl
}
minutes = { $count ->
    [zero] { $count } munud
    [one] { $count } munud
    [two] { $count } funud
    [few] { $count } munud
    [many] { $count } munud
   *[other] { $count } munud
}
hours = { $count ->
    [zero] { $count } awr
    [one] { $count } awr
    [two] { $count } awr
    [few] { $count } awr
    [many] { $count } awr
   *[other] { $count } awr
}
months = { $count ->
    [zero] { $count } mis
    [one] { $count } mis
    [two] { $count } fis
    [few] { $count } mis
    [many] { $count } mis
   *[other] { $count } mis
}
risk_review_every = { $count ->
    [zero] Adolygu o fewn { $count } diwrnod gwaith
    [one] Adolygu o fewn { $count } diwrnod gwaith
    [two] Adolygu o fewn { $count } ddiwrnod gwaith
    [few] Adolygu o fewn { $count } diwrnod gwaith
    [many] Adolygu o fewn { $count } diwrnod gwaith
   *[other] Adolygu o fewn { $count } diwrnod gwaith
}
missing_episodes_begun = { $count ->
    [zero] Ni ddechreuodd yr un cyfnod ar goll yn ystod y cyfnod hwn.
    [one] Dechreuodd { $count } cyfnod ar goll yn ystod y cyfnod hwn.
    [two] Dechreuodd { $count } gyfnod ar goll yn ystod y cyfnod hwn.
    [few] Dechreuodd { $count } cyfnod ar goll yn ystod y cyfnod hwn.
    [many] Dechreuodd { $count } cyfnod ar goll yn ystod y cyfnod hwn.
   *[other] Dechreuodd { $count } cyfnod ar goll yn ystod y cyfnod hwn.
}
