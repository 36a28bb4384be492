-- Reports from partner agencies whose staff have no account (R3, WSP c2 p18). An administrator
-- issues a referral link to an agency or a named person; the link's holder is a users row that
-- can never sign in (role 'referral_link', inactive, no password), so that the cases and audit
-- entries it makes name who made them. A link can be revoked and expires. Each report through
-- it keeps the reporter's contact details, and when a practitioner acknowledged it (triaged it,
-- not when the receipt was sent), when the reporter was told the decision, and when an
-- unacknowledged report was flagged. Keep in step with the other backend's folder.
CREATE TABLE referral_links (
    id TEXT PRIMARY KEY REFERENCES users (id),
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    person_name TEXT NULL,
    person_email TEXT NULL,
    issued_by TEXT NOT NULL REFERENCES users (id),
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL,
    revoked_by TEXT NULL REFERENCES users (id),
    last_used_at TIMESTAMP NULL
);
CREATE TABLE partner_referrals (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    link_id TEXT NOT NULL REFERENCES referral_links (id),
    reporter_name TEXT NOT NULL,
    reporter_role TEXT NOT NULL,
    reporter_email TEXT NOT NULL,
    reporter_phone TEXT NOT NULL,
    language TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP NULL,
    acknowledged_by TEXT NULL REFERENCES users (id),
    decision_told_at TIMESTAMP NULL,
    flagged_at TIMESTAMP NULL
);
CREATE INDEX partner_referrals_link ON partner_referrals (link_id, submitted_at);
CREATE INDEX partner_referrals_waiting ON partner_referrals (acknowledged_at, flagged_at);
