//! Agreed actions on the case page, over plain HTTP on both backends: a partner asks for more
//! time through their link, the chair hears once and sees it flagged, the escalation waits for
//! the chair, and the chair's answer reaches the partner; a chair agrees and passes on actions,
//! and bad dates are explained at their field with what was typed kept.
mod support;

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use safeguard::jobs::scheduler::run_now;
use safeguard::jobs::JobName;
use serde_json::json;
use support::web::{error_at_field, Web};
use support::*;

/// Each email queued to `email`, as (kind, subject, plain text), oldest first.
fn mail_to(app: &TestApp, email: &str) -> Vec<(String, String, String)> {
    use safeguard::storage::schema::outbox;
    let mut conn = app.conn();
    let rows: Vec<(String, String)> = outbox::table
        .filter(outbox::recipient.eq(email))
        .order((outbox::created_at, outbox::id))
        .select((outbox::kind, outbox::raw))
        .load(&mut *conn)
        .expect("outbox");
    rows.into_iter()
        .map(|(kind, raw)| {
            let m = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .expect("mime");
            (
                kind,
                m.subject().unwrap_or_default().to_string(),
                m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

fn link(text: &str, path: &str) -> String {
    let i = text
        .find(&format!("http://safeguard.test{path}"))
        .expect("a link");
    let l = &text[i + "http://safeguard.test".len()..];
    l[..l.find(char::is_whitespace).unwrap_or(l.len())].to_string()
}

/// The value of the hidden input `name` in the form that posts to `action`.
fn hidden_in(page: &str, action: &str, name: &str) -> String {
    let start = page
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form for {action}"));
    Web::hidden(&page[start..], name)
}

on_both_backends! {
    fn a_request_for_more_time_reaches_the_chair_and_the_answer_reaches_the_partner(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person One");
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let case = app.create_case(&chair.token, child(), report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        let reference = case["reference"].as_str().expect("reference").to_string();
        for body in [json!({"event": "accept_report"}), json!({"event": "convene_strategy_meeting", "facts": discussion_facts()})] {
            let (s, b) = app.event(&chair.token, &id, body);
            assert_eq!(s, 200, "{b}");
        }
        let (s, b) = app.event(&chair.token, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(), "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let partner_email = "attendee.two@example.invalid";
        let first = mail_to(app, partner_email);
        assert_eq!(first.len(), 1, "{first:?}");
        // Written for someone who has never used the service: whom to ask, and no step label.
        assert!(first[0].2.contains(&format!("contact Chair Person One ({})", chair.email)), "{}", first[0].2);
        assert!(first[0].2.contains("were agreed for you") && !first[0].2.contains("At the "), "{}", first[0].2);

        // The partner asks for more time through their link.
        let partner = Web::new(app);
        let actions = link(&first[0].2, "/actions/");
        let page = partner.get(&actions).body;
        let action_id = Web::hidden(&page, "action_id");
        let asked = partner.post(&actions, &[("action_id", &action_id), ("note", "The officer is on leave until the 14th."), ("status", "more_time")]);
        assert_eq!(asked.status, 200, "{}", asked.body);

        // The chair hears once, without the partner's free text, and sees the flag.
        let news = mail_to(app, &chair.email);
        assert_eq!(news.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), vec!["action_news"], "{news:?}");
        assert!(news[0].1.contains("More time asked") && news[0].1.contains(reference.trim_start_matches("CSE-")), "{}", news[0].1);
        assert!(!news[0].2.contains("on leave"), "{}", news[0].2);
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let case_url = format!("/cases/{reference}");
        let page = web.get(&case_url).body;
        assert!(page.contains("govuk-tag--yellow\">More time asked"), "{page}");
        assert!(page.contains("The officer is on leave until the 14th."), "the reason is on the case page");

        // Long overdue: the team lead is not chased while the chair holds the answer.
        app.clock.set(Utc.with_ymd_and_hms(2027, 1, 20, 7, 30, 0).single().expect("time"));
        let outcome = run_now(&app.service.state, JobName::Escalation).expect("runs").expect("claimed").outcome;
        assert!(outcome.starts_with("0 actions escalated") && outcome.contains("1 held"), "{outcome}");
        assert!(mail_to(app, &lead.email).is_empty());

        // Weeks later, the chair signs in again and answers.
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let chair_token = app.renewed_token(&chair.token);
        // A date that does not exist is explained at its field, and what was typed is kept.
        let form_url = format!("/cases/{reference}/actions/{action_id}");
        let page = web.get(&case_url).body;
        let token = hidden_in(&page, &form_url, "form_token");
        let csrf = Web::hidden(&page, "csrf");
        let answer = |day: &str, token: &str| vec![
            ("csrf", csrf.clone()), ("form_token", token.to_string()), ("answering", "yes".into()),
            ("answer", "granted".into()), ("due_date-day", day.into()), ("due_date-month", "2".into()),
            ("due_date-year", "2027".into()), ("note", "Agreed with the police.".into()),
        ];
        let pairs = |v: &[(&'static str, String)]| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
        let send = |v: Vec<(&'static str, String)>| {
            let p = pairs(&v);
            let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            web.post(&form_url, &refs)
        };
        let refused = send(answer("31", &token));
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Due date must be a real date, for example 27 3 2027.");
        assert!(refused.body.contains(&format!("href=\"#act-{action_id}-due_date\"")), "the summary links to the day input");
        assert!(refused.body.contains("value=\"31\""), "the day typed is kept");

        // Granted: the partner is told the new date; the same form sent again does nothing more.
        let granted = send(answer("26", &token));
        assert_eq!((granted.status, granted.location.as_str()), (303, format!("{case_url}?done=more_time_answered#actions").as_str()));
        let again = send(answer("26", &token));
        assert_eq!(again.status, 303);
        let page = web.get(&format!("{case_url}?done=more_time_answered")).body;
        assert!(page.contains("Your answer is saved, and the owner has been emailed."), "{page}");
        assert!(!page.contains("govuk-tag--yellow\">More time asked"), "the flag is gone once answered");
        let told: Vec<_> = mail_to(app, partner_email).into_iter().filter(|m| m.0 == "action_more_time").collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].2.contains("More time has been given. The action is now due by Friday 26 February 2027."), "{}", told[0].2);
        let (_, list) = app.get(&chair_token, &format!("/api/cases/{id}/actions"));
        let kinds: Vec<&str> = list["actions"][0]["updates"].as_array().expect("updates").iter().filter_map(|u| u["kind"].as_str()).collect();
        assert_eq!(kinds, vec!["more_time_asked", "more_time_granted"]);
        assert_eq!(list["actions"][0]["due_date"], "2027-02-26");
    }
}

on_both_backends! {
    fn a_chair_agrees_an_action_and_passes_it_on_from_the_case_page(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Two");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let case_url = format!("/cases/{reference}");
        let form_url = format!("{case_url}/actions");
        let page = web.get(&case_url).body;
        let csrf = Web::hidden(&page, "csrf");
        let token = hidden_in(&page, &form_url, "form_token");
        // Half a date: said at the field, and the title typed is still there.
        let refused = web.post(&form_url, &[("csrf", &csrf), ("form_token", &token), ("title", "Visit the school"),
            ("owner_name", "Nurse Sample"), ("owner_email", "nurse.sample@health.example"),
            ("due_date-day", "3"), ("due_date-month", ""), ("due_date-year", "2027")]);
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Due date must include a day, month and year, for example 27 3 2027.");
        assert!(refused.body.contains("value=\"Visit the school\""));
        let agreed = web.post(&form_url, &[("csrf", &csrf), ("form_token", &token), ("title", "Visit the school"),
            ("owner_name", "Nurse Sample"), ("owner_email", "nurse.sample@health.example"),
            ("due_date-day", "3"), ("due_date-month", "2"), ("due_date-year", "2027")]);
        assert_eq!((agreed.status, agreed.location.as_str()), (303, format!("{case_url}?done=action_agreed#actions").as_str()));
        let page = web.get(&format!("{case_url}?done=action_agreed")).body;
        assert!(page.contains("The action is agreed, and its owner has been emailed."));
        assert!(page.contains("Visit the school") && page.contains("3 February 2027"), "{page}");
        assert_eq!(mail_to(app, "nurse.sample@health.example").len(), 1);

        // Passed to a colleague: they get the action, with why they have it.
        let (_, list) = app.get(&chair.token, &format!("/api/cases/{reference}/actions"));
        let action_id = list["actions"][0]["id"].as_str().expect("id").to_string();
        let change_url = format!("{case_url}/actions/{action_id}");
        let token = hidden_in(&page, &change_url, "form_token");
        let passed = web.post(&change_url, &[("csrf", &csrf), ("form_token", &token), ("choice", "reassign"),
            ("note", "The school nurse for the new school takes this on."),
            ("owner_name", "Nurse Other"), ("owner_email", "nurse.other@health.example")]);
        assert_eq!(passed.status, 303, "{}", passed.body);
        let mail = mail_to(app, "nurse.other@health.example");
        assert_eq!(mail.len(), 1, "{mail:?}");
        assert!(mail[0].2.contains("have been passed to you"), "{}", mail[0].2);
        let page = web.get(&case_url).body;
        assert!(page.contains("Nurse Other (nurse.other@health.example)") && page.contains("Passed to a new owner"), "{page}");

        // A cancellation without a reason is refused at the note.
        let token = hidden_in(&page, &change_url, "form_token");
        let refused = web.post(&change_url, &[("csrf", &csrf), ("form_token", &token), ("choice", "cancel"), ("note", "not needed")]);
        assert_eq!(refused.status, 422);
        assert_eq!(error_at_field(&refused.body), "Enter a rationale of at least 20 characters saying why.");
        let (_, list) = app.get(&chair.token, &format!("/api/cases/{reference}/actions"));
        assert_eq!(list["actions"][0]["status"], "open");
    }
}

on_both_backends! {
    fn the_child_name_check_refuses_the_name_not_ordinary_words_or_a_shared_surname(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Seven");
        let mut c = child();
        c["name"] = json!("Will Jones");
        let case = app.create_case(&chair.token, c, report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let path = format!("/api/cases/{reference}/actions");
        // An officer who shares the family name, and "will" as the word it is: both fine.
        let (s, b) = app.post(&chair.token, &path, &json!({"title": "Police will visit the address", "owner_name": "DC Rhys Jones",
            "owner_email": "rhys.jones@police.example", "agency": "police-south-wales"}));
        assert_eq!(s, 201, "{b}");
        // Written as a name, it is the child's: refused, naming the field and the word.
        let (s, b) = app.post(&chair.token, &path, &json!({"title": "Speak to Will at school", "owner_name": "DC Rhys Jones",
            "owner_email": "rhys.jones@police.example", "agency": "police-south-wales"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("child_named"), Some("title")), "{b}");
        assert!(b["message"].as_str().unwrap_or("").contains("\"Will\""), "{b}");
        // An invitee is checked the same way: their name opens the invitation.
        let (s, b) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-12-03T10:00", "ends_at": "2026-12-03T11:00",
            "location": "Room 2", "cases": [case["id"]],
            "invitees": [{"name": "DC Rhys Jones", "email": "rhys.jones@police.example", "agency": "police-south-wales", "role": "officer"},
                         {"name": "Will Jones", "email": "someone@example.invalid", "role": "relative"}]}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("child_named"), Some("invitees[1].name")), "{b}");
        // On the page, the message says which input and which word, in plain words.
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let case_url = format!("/cases/{reference}");
        let page = web.get(&case_url).body;
        let form_url = format!("{case_url}/actions");
        let refused = web.post(&form_url, &[("csrf", &Web::hidden(&page, "csrf")), ("form_token", &hidden_in(&page, &form_url, "form_token")),
            ("title", "Speak to Will at school"), ("owner_name", "DC Rhys Jones"), ("owner_email", "rhys.jones@police.example")]);
        assert_eq!(refused.status, 422);
        assert_eq!(error_at_field(&refused.body), "Action contains “Will”, which names the child. It goes into emails: use the case reference, or “the child”.");
    }
}
