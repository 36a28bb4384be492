//! Reports from partner agencies through referral links (R3, WSP c2 p18), on SQLite and
//! PostgreSQL, with a real SMTP server: an administrator issues a link; a partner without an
//! account reports through it, and the report arrives as a case at the decision step for the
//! authority where the child is located, with a receipt to the reporter that does not name the
//! child; a form with problems names each one and stores nothing; the same form sent twice
//! makes one case; a report not acknowledged within 7 working days is flagged to the team lead
//! and the reporter told how to escalate, once; an acknowledged one is not; the reporter is
//! told the decision, accepted or not, without detail; a revoked, expired or altered link shows
//! a plain page and takes nothing.
mod support;

use mail_parser::MessageParser;
use serde_json::{json, Value};
use support::smtp::{Received, SmtpSink};
use support::web::Web;
use support::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a time")
}

/// The referral form as a partner fills it in, for a child of `name`.
fn filled(page: &str, name: &str, email: &str) -> Vec<(String, String)> {
    [
        ("csrf", Web::hidden(page, "csrf")),
        ("form_token", Web::hidden(page, "form_token")),
        ("child_name", name.to_string()),
        ("date_of_birth-day", "14".into()),
        ("date_of_birth-month", "5".into()),
        ("date_of_birth-year", "2012".into()),
        ("gender", "female".into()),
        ("located_authority", "la-cardiff".into()),
        ("residence_authority", "".into()),
        (
            "fact:child_whereabouts",
            "At her grandmother's flat in the city".into(),
        ),
        ("fact:immediate_risk", "no".into()),
        ("fact:signs_physical", "none observed".into()),
        ("fact:signs_emotional", "withdrawn in lessons".into()),
        (
            "fact:signs_material",
            "a new phone she will not explain".into(),
        ),
        (
            "fact:signs_behavioural",
            "leaves school at lunchtime".into(),
        ),
        ("fact:care_needs_known", "not known".into()),
        ("reporter_name", "Rowan Reporter".into()),
        ("reporter_role", "Designated safeguarding person".into()),
        ("reporter_email", email.into()),
        ("reporter_phone", "029 2000 0000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn post(web: &Web, path: &str, form: &[(String, String)]) -> support::web::Answer {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    web.post(path, &pairs)
}

fn to(sink: &SmtpSink, address: &str) -> Vec<Received> {
    sink.messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .collect()
}

fn text_of(m: &Received) -> (String, String) {
    let parsed = MessageParser::default().parse(&m.raw).expect("MIME parses");
    (
        parsed.subject().unwrap_or_default().to_string(),
        parsed
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    )
}

fn cases_of_child(app: &TestApp, name: &str) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use safeguard::storage::schema::cases;
    cases::table
        .filter(cases::child_name.eq(name))
        .select((cases::id, cases::reference))
        .load(&mut app.conn())
        .expect("cases")
}

fn path_of(url: &str) -> String {
    url.strip_prefix("http://safeguard.test")
        .expect("the public address")
        .to_string()
}

on_both_backends! {
    fn a_partner_reports_through_a_referral_link_and_hears_the_decision_r3_wsp_c2_p18(base) {
        let sink = SmtpSink::start();
        let app = &TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let lead = app.person("team_lead", "la-cardiff", "Team A", "Lead One");
        let chair = app.person("chair", "la-cardiff", "Team A", "Chair One");
        let (s, b) = app.post(&chair.token, "/api/admin/referral-links", &json!({"agency": "police-south-wales"}));
        assert_eq!(s, 403, "only an administrator issues a link: {b}");
        let (s, b) = app.post(&admin.token, "/api/admin/referral-links", &json!({"agency": "police-south-wales", "person_email": "not an address"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_email"), Some("person_email")), "{b}");
        let (s, link) = app.post(&admin.token, "/api/admin/referral-links",
            &json!({"agency": "police-south-wales", "person_name": "Sam Sergeant", "person_email": "sam.sergeant@police.example", "days": 30}));
        assert_eq!(s, 201, "{link}");
        let url = link["url"].as_str().expect("the link's address").to_string();
        assert_eq!(security_events(app, "referral_link_issued"), 1);
        // The named person is emailed the link.
        app.drain_outbox();
        let sent = to(&sink, "sam.sergeant@police.example");
        assert_eq!(sent.len(), 1);
        assert!(text_of(&sent[0]).1.contains(&url), "the email carries the link: {}", text_of(&sent[0]).1);

        // The form shows the agency and asks the reporter's questions, and nothing of any case.
        let partner = Web::new(app);
        let form = partner.get(&path_of(&url));
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("South Wales Police") && form.body.contains("call 999"), "{}", form.body);
        for asked in ["fact:immediate_risk", "fact:signs_material", "fact:child_whereabouts", "reporter_email"] {
            assert!(form.body.contains(&format!("name=\"{asked}\"")), "{asked} is asked");
        }

        // Problems are each named at their field, in plain words, and nothing is stored.
        let mut bad = filled(&form.body, "Test Child Referral", "not an address");
        bad.retain(|(k, _)| k != "fact:signs_material" && k != "gender");
        let refused = post(&partner, &path_of(&url), &bad);
        assert_eq!(refused.status, 400, "{}", refused.body);
        let summary = refused.body.split("govuk-error-summary__list").nth(1).unwrap_or("").split("</ul>").next().unwrap_or("").to_string();
        for said in ["Enter an email address", "Enter the child’s gender", "Answer this question: Material signs, such as unexplained gifts"] {
            assert!(summary.contains(said), "{said} is named in the summary: {summary}");
        }
        assert!(cases_of_child(app, "Test Child Referral").is_empty(), "a refused form stores nothing");

        // Sent whole, it arrives as a case at the decision for the authority where the child is.
        let good = filled(&form.body, "Test Child Referral", "rowan.reporter@school.example");
        let done = post(&partner, &path_of(&url), &good);
        assert_eq!(done.status, 200, "{}", done.body);
        let made = cases_of_child(app, "Test Child Referral");
        assert_eq!(made.len(), 1);
        let (id, reference) = made[0].clone();
        // Subjects carry the reference without its prefix.
        let numbered = reference.trim_start_matches("CSE-").to_string();
        assert!(done.body.contains(&reference) && done.body.contains("Report sent"), "{}", done.body);
        // The same form sent again makes nothing more and shows the same receipt.
        let again = post(&partner, &path_of(&url), &good);
        assert_eq!(again.status, 200);
        assert!(again.body.contains(&reference));
        assert_eq!(cases_of_child(app, "Test Child Referral").len(), 1, "one report, however often the form is sent");

        let (s, case) = app.get(&lead.token, &format!("/api/cases/{id}"));
        assert_eq!(s, 200, "Cardiff's team lead sees the report: {case}");
        assert_eq!(case["workflows"][0]["state"], "report_received");
        assert_eq!((case["child"]["located_authority"].as_str(), case["child"]["residence_authority"].as_str()), (Some("la-cardiff"), Some("la-cardiff")), "where the child is, and no residence known: {case}");
        assert_eq!(case["facts"]["signs_material"], "a new phone she will not explain");
        let (_, history) = app.get(&lead.token, &format!("/api/cases/{id}/history"));
        let created = history["history"].as_array().expect("history").iter()
            .find(|e| e["kind"] == "case_created").cloned().expect("the report's entry");
        assert_eq!(created["actor_id"], link["id"], "the audit names the link it came through: {created}");
        let svc = &app.service.state.services;
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints).expect("verify");
        assert_eq!(report.problems, Vec::<String>::new(), "the audit replays a partner's report");

        // The receipt reaches the reporter at once, with the reference and never the child's name.
        app.drain_outbox();
        let receipts = to(&sink, "rowan.reporter@school.example");
        assert_eq!(receipts.len(), 1, "one receipt");
        let (subject, body) = text_of(&receipts[0]);
        assert!(subject.contains("We have received your report") && subject.contains(&numbered), "{subject}");
        // 7 working days from Wednesday 25 November: Friday 4 December.
        assert!(body.contains("by Friday 4 December 2026"), "{body}");
        let raw = receipts[0].text();
        assert!(!raw.contains("Test Child Referral") && !raw.contains("2012"), "no child's name or birth year: {raw}");

        // A second report, which a practitioner triages in time.
        let second = Web::new(app);
        let page2 = second.get(&path_of(&url));
        assert_eq!(post(&second, &path_of(&url), &filled(&page2.body, "Test Child Second", "rowan.reporter@school.example")).status, 200);
        let (id2, _) = cases_of_child(app, "Test Child Second")[0].clone();
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{id2}/referral/acknowledge"), &json!({}));
        assert_eq!(s, 200, "{b}");
        let (s, _) = app.post(&lead.token, &format!("/api/cases/{}/referral/acknowledge", "CSE-2099-999999"), &json!({}));
        assert_eq!(s, 404);

        // Friday 4 December, late afternoon: still in time; nothing is flagged.
        app.drain_outbox();
        let before = sink.messages().len();
        app.clock.set(utc(2026, 12, 4, 16, 0));
        let said = safeguard::domain::partner_referral::flag_unacknowledged(&app.service.state.services, &mut app.conn(), app.clock_now()).expect("check");
        assert!(said.starts_with("0 "), "{said}");
        // Monday 7 December: the first is flagged to Cardiff's team lead, by reference, and the
        // reporter is told how to escalate; the acknowledged one is not; a second run adds nothing.
        app.clock.set(utc(2026, 12, 7, 7, 45));
        let said = safeguard::domain::partner_referral::flag_unacknowledged(&app.service.state.services, &mut app.conn(), app.clock_now()).expect("check");
        assert!(said.starts_with("1 "), "{said}");
        let said = safeguard::domain::partner_referral::flag_unacknowledged(&app.service.state.services, &mut app.conn(), app.clock_now()).expect("check");
        assert!(said.starts_with("0 "), "once: {said}");
        app.drain_outbox();
        assert_eq!(sink.messages().len(), before + 2, "one flag to the team lead, one to the reporter");
        let flagged = to(&sink, &lead.email);
        assert_eq!(flagged.len(), 1);
        let (subject, body) = text_of(&flagged[0]);
        assert!(subject.contains("not been acknowledged in time") && subject.contains(&numbered), "{subject}");
        assert!(body.contains("WSP c2 p18"), "{body}");
        assert!(!flagged[0].text().contains("Test Child"), "no child's name");
        let told: Vec<_> = to(&sink, "rowan.reporter@school.example").into_iter().filter(|m| text_of(m).0.contains("not yet been acknowledged")).collect();
        assert_eq!(told.len(), 1, "the reporter is told how to escalate");
        assert!(text_of(&told[0]).1.contains("duty team manager"), "{}", text_of(&told[0]).1);
        // The team lead's dashboard lists it as not acknowledged in time; the triaged one not.
        let (s, dash) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(s, 200, "{dash}");
        let waiting = dash["unacknowledged_referrals"].as_array().expect("the list").clone();
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert_eq!((waiting[0]["reference"].as_str(), waiting[0]["overdue"].as_bool()), (Some(reference.as_str()), Some(true)), "{waiting:?}");

        // The decision: accepted for the first, declined for the second; each reporter email
        // says which and nothing more.
        let (_, c) = app.get(&lead.token, &format!("/api/cases/{id}"));
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{id}/events"),
            &json!({"event": "accept_report", "expected_version": c["version"], "facts": report_facts()}));
        assert_eq!(s, 200, "{b}");
        let (_, c2) = app.get(&lead.token, &format!("/api/cases/{id2}"));
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{id2}/events"),
            &json!({"event": "decline_report", "expected_version": c2["version"],
                    "facts": merge(report_facts(), json!({"preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the school's pastoral team"})),
                    "rationale": "No indication of exploitation once the school's account was checked."}));
        assert_eq!(s, 200, "{b}");
        app.drain_outbox();
        let decisions: Vec<(String, String)> = to(&sink, "rowan.reporter@school.example").iter().map(text_of)
            .filter(|(s, _)| s.contains("The decision on your report")).collect();
        assert_eq!(decisions.len(), 2, "{decisions:?}");
        assert!(decisions.iter().any(|(s, b)| s.contains(&numbered) && b.contains("It has been accepted")), "{decisions:?}");
        assert!(decisions.iter().any(|(s, b)| !s.contains(&numbered) && b.contains("not being taken forward")), "{decisions:?}");
        assert!(decisions.iter().all(|(_, b)| !b.contains("Test Child") && !b.contains("pastoral")), "no detail: {decisions:?}");

        // Revoked: the form is a plain page, and a report sent through it is not taken.
        let (s, b) = app.post(&admin.token, &format!("/api/admin/referral-links/{}/revoke", link["id"].as_str().unwrap_or("")), &json!({}));
        assert_eq!((s, b["status"].as_str()), (200, Some("revoked")), "{b}");
        let late = Web::new(app);
        let closed = late.get(&path_of(&url));
        assert_eq!(closed.status, 410);
        assert!(closed.body.contains("withdrawn") && !closed.body.contains("reporter_email"), "{}", closed.body);
        let sent_late = post(&partner, &path_of(&url), &filled(&form.body, "Test Child Late", "rowan.reporter@school.example"));
        assert_eq!(sent_late.status, 410);
        assert!(cases_of_child(app, "Test Child Late").is_empty());
        // An altered link, and an expired one, show plain pages too.
        let altered = late.get(&format!("{}0", path_of(&url)));
        assert_eq!(altered.status, 404);
        let (_, short) = app.post(&admin.token, "/api/admin/referral-links", &json!({"agency": "health-cardiff-and-vale", "days": 1}));
        let short_url = short["url"].as_str().expect("url").to_string();
        assert_eq!(late.get(&path_of(&short_url)).status, 200);
        app.clock.set(utc(2026, 12, 9, 8, 0));
        let expired = late.get(&path_of(&short_url));
        assert_eq!(expired.status, 410);
        assert!(expired.body.contains("expired"), "{}", expired.body);
    }
}

on_both_backends! {
    fn a_referral_link_takes_a_bounded_number_of_reports_an_hour(app) {
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let (_, link) = app.post(&admin.token, "/api/admin/referral-links", &json!({"agency": "police-south-wales"}));
        let path = path_of(link["url"].as_str().expect("url"));
        let limit = safeguard::domain::partner_referral::PER_HOUR as usize;
        let mut last: Option<support::web::Answer> = None;
        for n in 0..=limit {
            let web = Web::new(app);
            let page = web.get(&path);
            let answer = post(&web, &path, &filled(&page.body, &format!("Test Child Burst {n}"), "rowan.reporter@school.example"));
            if n < limit {
                assert_eq!(answer.status, 200, "report {n}: {}", answer.body);
            }
            last = Some(answer);
        }
        let last = last.expect("an answer");
        assert_eq!(last.status, 429, "{}", last.body);
        assert!(last.body.contains("Telephone the local authority"), "{}", last.body);
        let stored: Value = json!(cases_of_child(app, &format!("Test Child Burst {limit}")).len());
        assert_eq!(stored, json!(0));
    }
}

on_both_backends! {
    fn r29_a_health_practitioner_says_whether_the_risk_questionnaire_informed_the_report(app) {
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let lead = app.person("team_lead", "la-cardiff", "Team A", "Lead One");
        let (s, link) = app.post(&admin.token, "/api/admin/referral-links", &json!({"agency": "health-cardiff-and-vale"}));
        assert_eq!(s, 201, "{link}");
        let path = path_of(link["url"].as_str().expect("url"));
        let web = Web::new(app);
        let page = web.get(&path);
        assert!(page.body.contains("Child Sexual Exploitation Risk Questionnaire (CSERQ)"), "the form asks (R29): {}", page.body);
        let mut form = filled(&page.body, "Test Child Health", "nurse.sample@health.example");
        form.push(("fact:risk_questionnaire_used".into(), "yes".into()));
        let sent = post(&web, &path, &form);
        assert_eq!(sent.status, 200, "{}", sent.body);
        let (id, _) = cases_of_child(app, "Test Child Health")[0].clone();
        let (_, case) = app.get(&lead.token, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["risk_questionnaire_used"], "yes", "{case}");
    }
}

on_both_backends! {
    fn a_partner_report_of_a_child_who_turns_18_before_the_decision_closes_without_a_decision_email(app) {
        use diesel::prelude::*;
        use safeguard::storage::schema::partner_referrals;
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let (_, link) = app.post(&admin.token, "/api/admin/referral-links", &json!({"agency": "police-south-wales"}));
        let path = path_of(link["url"].as_str().expect("url"));
        let web = Web::new(app);
        let page = web.get(&path);
        let mut form = filled(&page.body, "Test Child Nearly", "rowan.reporter@school.example");
        for (k, v) in form.iter_mut() {
            match k.as_str() {
                "date_of_birth-day" => *v = "30".into(),
                "date_of_birth-month" => *v = "11".into(),
                "date_of_birth-year" => *v = "2008".into(),
                _ => {}
            }
        }
        assert_eq!(post(&web, &path, &form).status, 200);
        let (id, _) = cases_of_child(app, "Test Child Nearly")[0].clone();
        // Monday 30 November: the 18th birthday, before anyone decided.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 6, 0, 0).single().expect("time"));
        let said = safeguard::jobs::run(&app.service.state, safeguard::jobs::JobName::AgeTrigger, app.clock_now()).expect("the age job runs");
        assert!(said.contains("1 cases reached 18") || said.contains("reached 18"), "{said}");
        let lead = app.person("team_lead", "la-cardiff", "Team A", "Lead One");
        let (_, case) = app.get(&lead.token, &format!("/api/cases/{id}"));
        let pathway = case["workflows"].as_array().expect("workflows").iter()
            .find(|w| w["workflow"] == "cse-strategy").cloned().expect("the pathway");
        assert_eq!(pathway["finished"], true, "the pathway ends on the birthday: {pathway}");
        let (told, acknowledged): (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) = partner_referrals::table
            .find(&id)
            .select((partner_referrals::decision_told_at, partner_referrals::acknowledged_at))
            .get_result(&mut app.conn())
            .expect("the referral");
        assert_eq!((told, acknowledged), (None, None), "the birthday is no one's decision or triage");
    }
}
