//! Following cases up (the actions issue): agreed actions chased through reminders, overdue
//! notices and escalation; timescale departures; plan reviews; the team lead's dashboard and
//! digest; the age-18 track and handover; periodic jobs claimed once across replicas. Time moves
//! only by the injected clock; mail goes to a real SMTP server on loopback. Each test runs on
//! SQLite and PostgreSQL.
mod support;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use mail_parser::MessageParser;
use safeguard::jobs::scheduler::{run_now, tick};
use safeguard::jobs::JobName;
use serde_json::{json, Value};
use support::smtp::{Received, SmtpSink};
use support::*;

fn app_with_sink(backend: Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(backend, &[("SAFEGUARD_SMTP_URL", sink.url())]);
    (app, sink)
}
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

/// Runs a job a second later on the app's clock (each manual run is its own claimed run) and
/// returns its outcome line.
fn run_job(app: &TestApp, job: JobName) -> String {
    app.clock.advance(chrono::Duration::seconds(1));
    run_now(&app.service.state, job)
        .expect("job runs")
        .expect("claimed")
        .outcome
}

fn at_run(app: &TestApp, t: DateTime<Utc>, job: JobName) -> String {
    app.clock.set(t);
    run_job(app, job)
}

/// Messages delivered to `address`, with their decoded subject and text.
fn mail_to(sink: &SmtpSink, address: &str) -> Vec<(String, String)> {
    sink.messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .map(|m| {
            let msg = MessageParser::default().parse(&m.raw).expect("MIME parses");
            (
                msg.subject().unwrap_or_default().to_string(),
                msg.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Delivers what is due and returns every message the SMTP server has accepted; the tests
/// assert exact counts on it.
fn settle(app: &TestApp, sink: &SmtpSink) -> Vec<Received> {
    app.drain_outbox();
    sink.messages()
}

fn assert_no_child_name(messages: &[Received]) {
    for m in messages {
        let raw = m.text();
        for word in ["Alpha", "Bravo", "Charlie", "2012-05-14", "2012-02-29"] {
            assert!(
                !raw.contains(word),
                "an email names the child ({word}):\n{raw}"
            );
        }
    }
}

fn history_kinds(app: &TestApp, id: &str) -> Vec<String> {
    let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
    h["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn references(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|e| e["reference"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn new_case(app: &TestApp, token: &str) -> (String, String) {
    let case = app.create_case(token, child(), report_facts());
    (
        case["id"].as_str().expect("id").to_string(),
        case["reference"].as_str().expect("reference").to_string(),
    )
}

on_both_backends! {
    fn an_action_is_reminded_then_overdue_after_christmas_then_escalated(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let (id, reference) = new_case(&app, &app.chair);
        let path = format!("/api/cases/{id}/actions");

        // Bad input: each refused with the field named, nothing stored.
        let (s, b) = app.post(&app.chair, &path, &json!({"title": "Safety plan", "owner_name": "Partner Worker"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("owner_email_required"), Some("owner_email")));
        let (s, b) = app.post(&app.chair, &path, &json!({"title": "Safety plan", "owner_name": "Partner Worker", "owner_email": "partner@partner.example", "due_date": "2026-11-24"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("due_date_in_past"), Some("due_date")));
        let (s, b) = app.post(&app.chair, &path, &json!({"title": "Safety plan", "owner_name": "Partner Worker", "owner_email": "partner@partner.example", "due_date": "24/12/2026"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_date"), Some("due_date")));
        let (s, b) = app.post(&app.chair, &path, &json!({"title": "See Alpha at school", "owner_name": "Partner Worker", "owner_email": "partner@partner.example"}));
        assert_eq!((s, b["code"].as_str()), (422, Some("child_named")));
        assert_eq!(app.get(&app.chair, &path).1["actions"], json!([]));

        // Due on Christmas Eve, a Thursday.
        let (s, b) = app.post(&app.chair, &path, &json!({"title": "Return-home interview", "owner_name": "Partner Worker",
            "owner_email": "partner@partner.example", "agency": "police-south-wales", "due_date": "2026-12-24"}));
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["due_date"], "2026-12-24");
        settle(&app, &sink);
        assert_eq!(mail_to(&sink, "partner@partner.example").len(), 1, "the owner is told of the action at once");

        // Reminded two working days before: not on Monday 21st (two working days ahead is the
        // 23rd), but on Tuesday 22nd; once.
        assert_eq!(at_run(&app, utc(2026, 12, 21, 7, 0), JobName::ReminderScan), "0 reminders queued");
        assert_eq!(at_run(&app, utc(2026, 12, 22, 7, 0), JobName::ReminderScan), "1 reminders queued");
        assert_eq!(run_job(&app, JobName::ReminderScan), "0 reminders queued");

        // Overdue from Friday 25th, but Christmas Day, the weekend and the Boxing Day substitute
        // (Monday 28th) are not working days: the notice goes on Tuesday 29th.
        assert!(at_run(&app, utc(2026, 12, 25, 7, 15), JobName::OverdueScan).contains("not a working day"));
        assert!(at_run(&app, utc(2026, 12, 28, 7, 15), JobName::OverdueScan).contains("not a working day"));
        assert_eq!(at_run(&app, utc(2026, 12, 29, 7, 15), JobName::OverdueScan), "1 overdue notices queued");
        assert_eq!(run_job(&app, JobName::OverdueScan), "0 overdue notices queued");

        // Three working days overdue on Thursday 31st: the chair's team lead hears, once.
        assert_eq!(at_run(&app, utc(2026, 12, 30, 7, 30), JobName::Escalation), "0 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");
        assert_eq!(at_run(&app, utc(2026, 12, 31, 7, 30), JobName::Escalation), "1 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");
        assert_eq!(run_job(&app, JobName::Escalation), "0 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");

        let all = settle(&app, &sink);
        assert_eq!(all.len(), 4, "assignment, reminder, overdue notice, escalation: no more");
        let owner = mail_to(&sink, "partner@partner.example");
        assert_eq!(owner.len(), 3);
        // Delivered in parallel: find each by its subject.
        let reminder = owner.iter().find(|(subject, _)| subject.starts_with("Reminder: action due")).expect("reminder");
        assert!(reminder.1.contains("Thursday 24 December 2026"), "{}", reminder.1);
        let notice = owner.iter().find(|(subject, _)| subject.starts_with("Overdue action")).expect("overdue notice");
        assert!(notice.1.contains("http://safeguard.test/actions/"), "the overdue notice carries the owner's link");
        let escalated = mail_to(&sink, &lead.email);
        assert_eq!(escalated.len(), 1);
        assert!(escalated[0].1.contains(&reference) && escalated[0].1.contains("Return-home interview"), "{}", escalated[0].1);
        assert!(escalated[0].1.contains("Partner Worker"), "{}", escalated[0].1);
        assert_no_child_name(&all);

        // The team lead's dashboard shows it overdue and escalated.
        let (s, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(s, 200, "{d}");
        let action = &d["overdue_actions"][0];
        assert_eq!((action["reference"].as_str(), action["escalated"].as_bool(), action["working_days_overdue"].as_i64()),
            (Some(reference.as_str()), Some(true), Some(3)));
        // So does the case page, in words, not just "open".
        let web = support::web::Web::new(&app);
        web.sign_in(&lead.email, TEST_PASSWORD);
        let page = web.get(&format!("/cases/{reference}")).body;
        assert!(page.contains("3 working days late") && page.contains("Told the team lead"), "{page}");
    }
}

on_both_backends! {
    fn actions_are_completed_cancelled_with_a_rationale_or_given_more_time(app) {
        let id = case_at_strategy_meeting(app);
        let chair_id = app.get(&app.chair, "/api/me").1["id"].as_str().expect("id").to_string();
        let mut actions = one_action();
        actions.as_array_mut().expect("list").push(json!({"title": "Refer to ICTA", "owner_user_id": chair_id, "kind": "icta_referral"}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(), "agreed_actions": actions}));
        assert_eq!(s, 200, "{b}");
        let path = format!("/api/cases/{id}/actions");
        let list = app.get(&app.chair, &path).1;
        let find = |title: &str| list["actions"].as_array().expect("actions").iter().find(|a| a["title"] == title).cloned().expect("action");
        let interview = find("Arrange a return-home interview");
        let icta = find("Refer to ICTA");
        assert_eq!(icta["owner_user_id"], json!(chair_id));
        let update = |a: &Value| format!("{path}/{}/updates", a["id"].as_str().unwrap_or_default());

        // A practitioner who does not own it may not change it.
        let practitioner = app.user("practitioner", "la-cardiff");
        let (s, _) = app.post(&practitioner, &update(&interview), &json!({"note": "done"}));
        assert_eq!(s, 403);
        // Cancelling needs a rationale; R12 actions cannot be cancelled at all.
        let (s, b) = app.post(&app.chair, &update(&interview), &json!({"note": "no longer needed", "status": "cancelled"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("rationale_required"), Some("rationale")));
        let (s, b) = app.post(&app.chair, &update(&icta), &json!({"note": "not needed", "status": "cancelled", "rationale": "The child is no longer thought to be trafficked."}));
        assert_eq!((s, b["code"].as_str()), (422, Some("not_cancellable")));
        let (s, b) = app.post(&app.chair, &update(&interview), &json!({"note": "more time", "due_date": "2026-11-01"}));
        assert_eq!((s, b["code"].as_str()), (422, Some("due_date_in_past")));
        let unchanged = app.get(&app.chair, &path).1;
        assert!(unchanged["actions"].as_array().expect("list").iter().all(|a| a["status"] == "open" && a["updates"] == json!([])), "{unchanged}");

        // More time, then a cancellation with its rationale; a closed action stays closed.
        let (s, b) = app.post(&app.chair, &update(&interview), &json!({"note": "Officer on leave; agreed with the police", "due_date": "2026-12-18"}));
        assert_eq!((s, b["due_date"].as_str(), b["status"].as_str()), (200, Some("2026-12-18"), Some("open")), "{b}");
        let (s, b) = app.post(&app.chair, &update(&interview), &json!({"note": "Child moved away", "status": "cancelled", "rationale": "The child has moved to another authority, which holds the case now."}));
        assert_eq!((s, b["status"].as_str()), (200, Some("cancelled")), "{b}");
        let (s, b) = app.post(&app.chair, &update(&interview), &json!({"note": "again", "status": "done"}));
        assert_eq!((s, b["code"].as_str()), (409, Some("action_closed")));
        // The owner who is a user completes their own.
        let (s, b) = app.post(&app.chair, &update(&icta), &json!({"note": "Referral made by phone and email", "status": "done"}));
        assert_eq!((s, b["status"].as_str()), (200, Some("done")));
        let after = app.get(&app.chair, &path).1;
        let interview = after["actions"].as_array().expect("list").iter().find(|a| a["id"] == interview["id"]).cloned().expect("action");
        assert_eq!(interview["updates"].as_array().map(Vec::len), Some(2));
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let cancelled = h["history"].as_array().expect("history").iter()
            .find(|e| e["kind"] == "action_updated" && e["payload"]["new_status"] == "cancelled").expect("cancellation audited");
        assert_eq!(cancelled["payload"]["rationale"], "The child has moved to another authority, which holds the case now.");
    }
}

on_both_backends! {
    fn an_overdue_step_stays_visible_until_a_senior_manager_records_a_departure(app) {
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let senior = app.person("senior_manager", "la-cardiff", "Management", "Senior Manager One");
        let (id, reference) = new_case(app, &app.chair);
        // The decision was due by the end of Thursday 26 November.
        app.clock.set(utc(2026, 11, 27, 9, 0));
        let steps = |app: &TestApp| references(&app.get(&lead.token, "/api/dashboard").1["overdue_steps"]);
        assert_eq!(steps(app), vec![reference.clone()]);
        let (_, late) = app.get(&app.chair, "/api/cases?overdue=true");
        assert_eq!(references(&late["cases"]), vec![reference.clone()]);

        let path = format!("/api/cases/{id}/departures");
        let (s, b) = app.post(&app.chair, &path, &json!({"rationale": "The police asked us to wait for an interview."}));
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
        let (s, b) = app.post(&senior.token, &path, &json!({"rationale": "wait"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("rationale_required"), Some("rationale")));
        let (s, b) = app.post(&senior.token, &path, &json!({}));
        assert_eq!((s, b["field"].as_str()), (400, Some("rationale")));
        assert!(!history_kinds(app, &id).contains(&"timescale_departure".to_string()));
        assert_eq!(steps(app), vec![reference.clone()], "still overdue after refused departures");

        let (s, b) = app.post(&senior.token, &path, &json!({"rationale": "The police asked us to wait until the child's interview on Monday."}));
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["step"], "report_received");
        assert!(steps(app).is_empty(), "a recorded departure takes the step off the overdue list");
        let (_, view) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let deadline = &view["workflows"][0]["deadline"];
        assert_eq!((deadline["overdue"].as_bool(), deadline["departure_recorded"].as_bool()), (Some(false), Some(true)), "{deadline}");
        let (_, late) = app.get(&app.chair, "/api/cases?overdue=true");
        assert_eq!(late["cases"], json!([]), "the case list agrees");
        assert!(history_kinds(app, &id).contains(&"timescale_departure".to_string()));
        let (s, b) = app.post(&senior.token, &path, &json!({"rationale": "The police asked us to wait until the child's interview on Monday."}));
        assert_eq!((s, b["code"].as_str()), (409, Some("departure_recorded")));

        // The departure was for that step only: the next one is tracked afresh.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        app.clock.set(utc(2026, 12, 1, 9, 0));
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["overdue_steps"][0]["state"], "strategy_discussion", "{d}");
    }
}

on_both_backends! {
    fn plan_reviews_are_scheduled_tracked_and_exported(app) {
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let id = case_at_strategy_meeting(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(), "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}}));
        assert_eq!(s, 200, "{b}");
        let reviews = |app: &TestApp| app.get(&app.chair, &format!("/api/cases/{id}/reviews")).1["reviews"].clone();
        assert_eq!(reviews(app)[0]["kind"], "core_group");
        assert_eq!(reviews(app)[0]["due_at"], "2026-12-09T23:59:59Z");

        // Due within ten working days: on the dashboard; late after 9 December.
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["reviews_due"][0]["review"], "Core group");
        assert_eq!(d["reviews_due"][0]["overdue"], false);
        app.clock.set(utc(2026, 12, 10, 9, 0));
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["reviews_due"][0]["overdue"], true);
        assert_eq!(reviews(app)[0]["overdue"], true);

        // CSV of the list, safe to open in a spreadsheet.
        let response = ureq::get(&format!("{}/api/dashboard/reviews_due.csv", app.base))
            .set("Authorization", &format!("Bearer {}", lead.token))
            .call()
            .expect("csv");
        assert!(response.content_type().starts_with("text/csv"));
        let csv = response.into_string().expect("body");
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("reference,review,number,due_at,overdue"));
        assert!(lines.next().is_some_and(|l| l.contains("Core group,1,2026-12-09T23:59:59+00:00,true")), "{csv}");
        let (s, b) = app.get(&lead.token, "/api/dashboard/everything.csv");
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("unknown_list"), Some("list")));
        let (s, b) = app.get(&lead.token, "/api/dashboard?from=1%20December");
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_date"), Some("from")));
        let (s, _) = app.get(&app.chair, "/api/dashboard");
        assert_eq!(s, 403, "the dashboard is for team leads");

        // Holding the core group schedules the next within a month of the day it met (recorded
        // two days later, on the 10th, the next is still due a month after the 8th).
        let (s, b) = app.event(&app.chair, &id, json!({"event": "hold_core_group", "facts": {"core_group_held_on": "2026-12-08"}}));
        assert_eq!(s, 200, "{b}");
        let list = reviews(app);
        let core: Vec<(i64, String, String)> = list.as_array().expect("list").iter().filter(|r| r["kind"] == "core_group")
            .map(|r| (r["number"].as_i64().unwrap_or(0), r["status"].as_str().unwrap_or("").to_string(), r["due_at"].as_str().unwrap_or("").to_string())).collect();
        assert_eq!(core, vec![(1, "held".into(), "2026-12-09T23:59:59Z".into()), (2, "due".into(), "2027-01-08T23:59:59Z".into())]);

        // Ending the plan ends its reviews.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "end_plan", "rationale": "Deregistered at the review conference: risk reduced.", "facts": {"plan_end_reason": "deregistered_at_review"}}));
        assert_eq!(s, 200, "{b}");
        assert!(reviews(app).as_array().expect("list").iter().all(|r| r["status"] != "due"), "{}", reviews(app));
    }
}

on_both_backends! {
    fn timeliness_per_team_and_authority_and_only_the_own_authority_in_lists(app) {
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let swansea = app.user("chair", "la-swansea");
        let (a, _) = new_case(app, &app.chair);
        let (b, _) = new_case(app, &app.chair);
        // Case c: never decided; its deadline (the next day) passes while it waits.
        let (_c, _) = new_case(app, &app.chair);
        let other = app.create_case(&swansea, json!({"name": "Test Child Delta", "date_of_birth": "2012-05-14", "gender": "male",
            "located_authority": "la-swansea", "residence_authority": "la-swansea"}), report_facts());
        // Case a: decided and discussed the day it came in.
        app.event(&app.chair, &a, json!({"event": "accept_report"}));
        let (s, r) = app.event(&app.chair, &a, json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}));
        assert_eq!(s, 200, "{r}");
        // Case b: decided late, on Friday (two working days), and discussed the same day.
        app.clock.set(utc(2026, 11, 27, 11, 0));
        app.event(&app.chair, &b, json!({"event": "accept_report"}));
        let (s, r) = app.event(&app.chair, &b, json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}));
        assert_eq!(s, 200, "{r}");

        let (s, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(s, 200, "{d}");
        let team = &d["timeliness_by_team"][0];
        assert_eq!(team["group"], "Test team");
        assert_eq!((team["decisions"].as_u64(), team["median_working_days_to_decision"].as_f64()), (Some(2), Some(1.0)));
        assert_eq!((team["discussions"].as_u64(), team["median_working_days_to_strategy_discussion"].as_f64()), (Some(2), Some(1.0)));
        // Four steps finished, one of them late, and c's step still waiting past its deadline,
        // which counts as late without waiting for it to finish.
        assert_eq!((team["steps_with_timescale"].as_u64(), team["steps_within_timescale"].as_u64(), team["share_within_timescale"].as_f64()),
            (Some(5), Some(3), Some(0.6)));
        let cardiff = d["timeliness_by_authority"].as_array().expect("list").iter().find(|t| t["group"] == "la-cardiff").cloned().expect("Cardiff");
        assert_eq!(cardiff["share_within_timescale"].as_f64(), Some(0.6));
        // Swansea's overdue decision is not on Cardiff's lists.
        let other_ref = other["reference"].as_str().expect("reference").to_string();
        assert!(!references(&d["overdue_steps"]).contains(&other_ref));
        // A period before anything happened has no figures; a reversed one is refused.
        let (_, empty) = app.get(&lead.token, "/api/dashboard?from=2026-01-01&to=2026-06-30");
        assert_eq!(empty["timeliness_by_team"], json!([]));
        let (s, e) = app.get(&lead.token, "/api/dashboard?from=2026-12-01&to=2026-11-01");
        assert_eq!((s, e["code"].as_str()), (400, Some("invalid_period")));
        let csv = app.get(&lead.token, "/api/dashboard/timeliness.csv").1;
        assert!(csv.as_str().is_some_and(|c| c.contains("team,Test team,2,1,2,1,5,3,0.600")), "{csv}");
    }
}

on_both_backends! {
    fn the_digest_goes_only_when_there_is_something_to_report(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let (id, reference) = new_case(&app, &app.chair);
        // Thursday morning: the decision is due today, nothing is late.
        assert_eq!(at_run(&app, utc(2026, 11, 26, 8, 0), JobName::Digest), "0 digests queued; 1 team leads had nothing to report");
        // Friday: the decision is a working day late.
        assert_eq!(at_run(&app, utc(2026, 11, 27, 8, 0), JobName::Digest), "1 digests queued; 0 team leads had nothing to report");
        // Run again by hand the same morning: nothing twice.
        assert_eq!(run_job(&app, JobName::Digest), "0 digests queued; 0 team leads had nothing to report; 1 already had today's");
        // Boxing Day substitute: no digest.
        assert!(at_run(&app, utc(2026, 12, 28, 8, 0), JobName::Digest).contains("not a working day"));
        let all = settle(&app, &sink);
        assert_eq!(all.len(), 1);
        let digest = mail_to(&sink, &lead.email);
        assert_eq!(digest.len(), 1);
        assert!(digest[0].1.contains(&reference), "{}", digest[0].1);
        assert_no_child_name(&all);
        // Naming the case to the team lead is logged as a read of it.
        let (_, log) = app.get(&lead.token, &format!("/api/cases/{id}/access-log"));
        assert!(log["access"].as_array().expect("log").iter().any(|e| e["path"] == "digest" && e["action"] == "list"), "{log}");
    }
}

fn run_counts(app: &TestApp) -> Vec<(String, i64)> {
    use safeguard::storage::schema::job_runs;
    let mut conn = app.conn();
    job_runs::table
        .group_by(job_runs::job)
        .select((job_runs::job, diesel::dsl::count_star()))
        .order(job_runs::job)
        .load(&mut conn)
        .expect("job runs")
}

fn latest_digest(app: &TestApp) -> String {
    use safeguard::storage::schema::job_runs;
    let mut conn = app.conn();
    let t: chrono::NaiveDateTime = job_runs::table
        .filter(job_runs::job.eq("digest"))
        .select(diesel::dsl::max(job_runs::scheduled_for))
        .get_result::<Option<chrono::NaiveDateTime>>(&mut conn)
        .expect("query")
        .expect("a digest ran");
    t.and_utc().to_rfc3339()
}

on_both_backends! {
    fn each_scheduled_run_is_claimed_once_and_a_missed_run_happens_once(app) {
        let since = start_time();
        // Monday 30 November, just after 08:00: every job's latest time has come.
        app.clock.set(utc(2026, 11, 30, 8, 0) + chrono::Duration::seconds(30));
        let replica = app.replica();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| tick(&app.service.state, since, "replica-a").expect("tick a"));
            let b = s.spawn(|| tick(&replica.state, since, "replica-b").expect("tick b"));
            (a.join().expect("a"), b.join().expect("b"))
        });
        assert_eq!(a.len() + b.len(), 8, "eight jobs, each run by one replica: {a:?} {b:?}");
        let once: Vec<(String, i64)> = ["age-trigger", "audit-checkpoint", "digest", "escalation", "housekeeping", "overdue-scan", "referral-check", "reminder-scan"].iter().map(|j| (j.to_string(), 1)).collect();
        assert_eq!(run_counts(app), once);
        assert_eq!(latest_digest(app), "2026-11-30T08:00:00+00:00");

        // Down from Monday to Thursday 10:00: one catch-up run of each, for Thursday's time.
        app.clock.set(utc(2026, 12, 3, 10, 0));
        let caught_up = tick(&app.service.state, since, "replica-a").expect("tick");
        assert_eq!(caught_up.len(), 8, "{caught_up:?}");
        assert_eq!(latest_digest(app), "2026-12-03T08:00:00+00:00");
        assert!(tick(&app.service.state, since, "replica-a").expect("tick").is_empty(), "nothing twice");
        assert!(run_counts(app).iter().all(|(_, n)| *n == 2), "{:?}", run_counts(app));

        // 08:00 in Wales is 07:00 UTC after the clocks go forward...
        app.clock.set(utc(2027, 3, 29, 7, 0) + chrono::Duration::seconds(30));
        tick(&app.service.state, since, "replica-a").expect("tick");
        assert_eq!(latest_digest(app), "2027-03-29T07:00:00+00:00");
        // ...and 08:00 UTC again after they go back: not yet at 07:30 UTC on Monday 1 November.
        app.clock.set(utc(2027, 10, 29, 7, 0) + chrono::Duration::seconds(30));
        tick(&app.service.state, since, "replica-a").expect("tick");
        assert_eq!(latest_digest(app), "2027-10-29T07:00:00+00:00");
        app.clock.set(utc(2027, 11, 1, 7, 30));
        tick(&app.service.state, since, "replica-a").expect("tick");
        assert_eq!(latest_digest(app), "2027-10-29T07:00:00+00:00");
        app.clock.set(utc(2027, 11, 1, 8, 0) + chrono::Duration::seconds(30));
        tick(&app.service.state, since, "replica-a").expect("tick");
        assert_eq!(latest_digest(app), "2027-11-01T08:00:00+00:00");
    }
}

fn leap_day_child(name: &str) -> Value {
    json!({"name": name, "date_of_birth": "2012-02-29", "gender": "female",
        "located_authority": "la-cardiff", "residence_authority": "la-cardiff"})
}

fn status_of(app: &TestApp, token: &str, id: &str) -> (String, Vec<(String, String)>) {
    let (_, c) = app.get(token, &format!("/api/cases/{id}"));
    let workflows = c["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .map(|w| {
            (
                w["workflow"].as_str().unwrap_or("").to_string(),
                w["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (c["status"].as_str().unwrap_or("").to_string(), workflows)
}

on_both_backends! {
    fn the_age_18_track_starts_at_17_and_a_half_and_hands_over_on_a_leap_day_birthday(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        // Two children born on 29 February 2012: 17 years 6 months on 29 August 2029, 18 on
        // 1 March 2030 (a common year).
        let bravo = app.create_case(&chair.token, leap_day_child("Test Child Bravo"), report_facts());
        let charlie = app.create_case(&chair.token, leap_day_child("Test Child Charlie"), report_facts());
        let (bravo, charlie) = (bravo["id"].as_str().expect("id").to_string(), charlie["id"].as_str().expect("id").to_string());

        assert_eq!(at_run(&app, utc(2029, 8, 28, 5, 0), JobName::AgeTrigger), "0 age-18 tracks started; 0 cases reached 18");
        assert_eq!(at_run(&app, utc(2029, 8, 29, 5, 0), JobName::AgeTrigger), "2 age-18 tracks started; 0 cases reached 18");
        assert_eq!(run_job(&app, JobName::AgeTrigger), "0 age-18 tracks started; 0 cases reached 18");
        let chair = app.renewed(chair);
        let (_, c) = app.get(&chair.token, &format!("/api/cases/{bravo}"));
        let kinds: Vec<&str> = c["agreed_actions"].as_array().expect("actions").iter().filter_map(|a| a["kind"].as_str()).collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        for kind in ["adult_services_referral", "adult_at_risk_report", "adult_support_services", "tell_about_support"] {
            assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
        }
        assert!(!kinds.contains(&"pathway_planning"), "not a looked-after child");
        // The chair and the team lead are told, once per child.
        let started = settle(&app, &sink);
        assert_eq!(started.len(), 4, "two children, two people told of each");
        assert_eq!((mail_to(&sink, &chair.email).len(), mail_to(&sink, &lead.email).len()), (2, 2));

        // Charlie's referrals are made before the birthday; Bravo's are not, and Bravo has a
        // meeting booked for after it.
        app.clock.set(utc(2030, 2, 25, 10, 0));
        let chair = app.renewed(chair);
        let (s, b) = app.event(&chair.token, &charlie, json!({"event": "record_transition_referrals", "workflow": "age18-transition", "facts": {
            "adult_services_referred_on": "2030-02-20", "s128_report": "made",
            "adult_support_services": {"bawso": false, "new_pathways": true, "welsh_womens_aid": false},
            "adult_support_outcome": "Referred to New Pathways; Bawso and Welsh Women's Aid not needed",
            "young_person_told_about_support": true}}));
        assert_eq!(s, 200, "{b}");
        let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2030-03-04T10:00", "ends_at": "2030-03-04T11:00",
            "location": "Room 2, County Hall", "cases": [bravo],
            "invitees": [{"name": "Invitee English", "email": "one@partner.example", "agency": "police-south-wales", "role": "detective sergeant", "language": "en", "direct_knowledge": true}],
            "confirm_warnings_rationale": "The decision step is long overdue; this meeting is the first chance to bring everyone together."}));
        assert_eq!(s, 201, "{m}");
        let before = settle(&app, &sink).len();
        assert_eq!(before, started.len() + 1, "and the invitation");
        let (chair_before, lead_before) = (mail_to(&sink, &chair.email).len(), mail_to(&sink, &lead.email).len());

        // 28 February 2030: still 17.
        assert_eq!(at_run(&app, utc(2030, 2, 28, 6, 0), JobName::AgeTrigger), "0 age-18 tracks started; 0 cases reached 18");
        // 1 March 2030: 18. Both plans close; Charlie is handed over, Bravo stays open for the
        // adult track only.
        assert_eq!(at_run(&app, utc(2030, 3, 1, 6, 0), JobName::AgeTrigger), "0 age-18 tracks started; 2 cases reached 18");
        assert_eq!(run_job(&app, JobName::AgeTrigger), "0 age-18 tracks started; 0 cases reached 18");
        let chair = app.renewed(chair);
        assert_eq!(status_of(&app, &chair.token, &charlie), ("handed_over".to_string(), vec![
            ("cse-strategy".to_string(), "plan_closed".to_string()), ("age18-transition".to_string(), "handed_over_at_18".to_string())]));
        assert_eq!(status_of(&app, &chair.token, &bravo), ("open".to_string(), vec![
            ("cse-strategy".to_string(), "plan_closed".to_string()), ("age18-transition".to_string(), "transition_planning".to_string())]));
        let (_, h) = app.get(&chair.token, &format!("/api/cases/{bravo}/history"));
        let handover = h["history"].as_array().expect("history").iter().find(|e| e["kind"] == "handover").cloned().expect("handover record");
        assert_eq!(handover["payload"]["birthday"], "2030-03-01");
        assert_eq!(handover["payload"]["meetings_after_birthday"][0]["id"], m["id"]);
        assert_eq!(handover["payload"]["open_actions"].as_array().map(Vec::len), Some(4));
        let closing = h["history"].as_array().expect("history").iter().find(|e| e["event"] == "close_at_18").cloned().expect("closing transition");
        assert_eq!(closing["actor_id"], "system");
        assert_eq!(closing["from_state"], "report_received");

        // Two handover emails each to the chair and the team lead; Bravo's names the meeting.
        let all = settle(&app, &sink);
        assert_eq!(all.len(), before + 4 + 1, "the handovers, and the invitee's reminder two working days before the meeting, which the clock has passed");
        assert_eq!((mail_to(&sink, &chair.email).len(), mail_to(&sink, &lead.email).len()), (chair_before + 2, lead_before + 2));
        let chair_mail = mail_to(&sink, &chair.email);
        let bravo_ref = app.get(&chair.token, &format!("/api/cases/{bravo}")).1["reference"].as_str().expect("reference").to_string();
        let bravo_handover = chair_mail.iter().rev().find(|(_, text)| text.contains(&bravo_ref)).expect("Bravo's handover email");
        assert!(bravo_handover.1.contains("Monday 4 March 2030"), "{}", bravo_handover.1);
        assert_no_child_name(&all);
    }
}

on_both_backends! {
    fn a_child_already_past_17_and_a_half_at_referral_starts_the_track_at_once(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        // Born 1 March 2009: 17 years 8 months at referral, 18 on Monday 1 March 2027.
        let case = app.create_case(&chair.token, json!({"name": "Test Child Echo", "date_of_birth": "2009-03-01", "gender": "male",
            "located_authority": "la-cardiff", "residence_authority": "la-cardiff"}), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let all = settle(&app, &sink);
        assert_eq!(all.len(), 2, "the chair and the team lead, once each");
        for address in [&chair.email, &lead.email] {
            let mail = mail_to(&sink, address);
            assert_eq!(mail.len(), 1, "{address}");
            assert!(mail[0].1.contains(&reference) && mail[0].1.contains("Turns 18: in March 2027"), "{}", mail[0].1);
            // The month, never the day: a date of a birthday gives the date of birth.
            assert!(!mail[0].1.contains("1 March 2027") && !mail[0].1.contains("1 Mawrth 2027"), "{}", mail[0].1);
            assert!(mail[0].1.contains("Refer to adult services"), "the actions are listed: {}", mail[0].1);
        }
        for m in &all {
            assert!(!m.text().contains("Echo") && !m.text().contains("2009-03-01"), "an email names the child");
        }
        // The positive control: the same search finds the name and date where they are kept.
        let (_, kept) = app.get(&chair.token, &format!("/api/cases/{reference}"));
        assert!(kept.to_string().contains("Echo") && kept.to_string().contains("2009-03-01"), "{kept}");
        // The daily trigger does not start it again.
        assert_eq!(at_run(&app, utc(2026, 11, 26, 6, 0), JobName::AgeTrigger), "0 age-18 tracks started; 0 cases reached 18");
    }
}

on_both_backends! {
    fn a_contexts_disruption_action_is_chased_and_its_emails_say_only_its_title_and_reference(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let chair = app.person("chair", "la-cardiff", "Team North", "Chair North");
        let lead = app.person("team_lead", "la-cardiff", "Team North", "Lead North");
        let practitioner = app.person("practitioner", "la-cardiff", "Team North", "Practitioner North");
        let stranger = app.person("chair", "la-swansea", "Team West", "Chair West");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let (s, place) = app.post(&chair.token, "/api/contexts",
            &json!({"kind": "place", "name": "The Harbour View Hotel", "description": "Rooms booked by older men for children from two schools."}));
        assert_eq!(s, 201, "{place}");
        let p = place["reference"].as_str().expect("reference").to_string();
        let (s, _) = app.post(&chair.token, &format!("/api/contexts/{p}/links"),
            &json!({"case": reference, "reason": "Seen leaving the hotel at 2am by a taxi driver.", "information": "Police log, 23 November"}));
        assert_eq!(s, 201);
        let path = format!("/api/contexts/{p}/actions");

        // Bad input is refused at its field, and nothing is stored or sent.
        let (s, e) = app.post(&chair.token, &path, &json!({"title": "Visit The Harbour View Hotel's manager", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("context_named"), Some("title")), "{e}");
        let (s, e) = app.post(&chair.token, &path, &json!({"title": "Ask Alpha about the rooms", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("child_named"), Some("title")), "{e}");
        let (s, e) = app.post(&chair.token, &path, &json!({"title": "Licensing visit", "owner_name": "PC Officer"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("owner_email_required"), Some("owner_email")), "{e}");
        assert_eq!(app.post(&practitioner.token, &path, &json!({"title": "Licensing visit", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"})).0, 403,
            "a practitioner links children but does not agree actions");
        assert_eq!(app.post(&stranger.token, &path, &json!({"title": "Licensing visit", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"})).0, 404,
            "a context out of reach answers as one that does not exist");
        assert_eq!(app.get(&chair.token, &format!("/api/contexts/{p}")).1["actions"], json!([]));

        // A disruption action for the police, due on Christmas Eve.
        let (s, action) = app.post(&chair.token, &path, &json!({"title": "Serve a closure notice on the manager", "disruption": true,
            "owner_name": "PC Officer", "owner_email": "pc.officer@police.example", "agency": "police-south-wales", "due_date": "2026-12-24"}));
        assert_eq!(s, 201, "{action}");
        let (_, view) = app.get(&chair.token, &format!("/api/contexts/{p}"));
        assert_eq!((view["actions"][0]["title"].as_str(), view["actions"][0]["disruption"].as_bool(), view["actions"][0]["status"].as_str()),
            (Some("Serve a closure notice on the manager"), Some(true), Some("open")), "{view}");
        settle(&app, &sink);
        let told = mail_to(&sink, "pc.officer@police.example");
        assert_eq!(told.len(), 1, "the owner is told at once");
        assert!(told[0].0.contains(&p) && told[0].1.contains("Serve a closure notice on the manager") && told[0].1.contains("Chair North"),
            "the title, the context's reference and whom to tell: {told:?}");

        // Chased on the agreed actions' days, counted with them.
        assert_eq!(at_run(&app, utc(2026, 12, 21, 7, 0), JobName::ReminderScan), "0 reminders queued");
        assert_eq!(at_run(&app, utc(2026, 12, 22, 7, 0), JobName::ReminderScan), "1 reminders queued");
        assert_eq!(run_job(&app, JobName::ReminderScan), "0 reminders queued");
        assert_eq!(at_run(&app, utc(2026, 12, 29, 7, 15), JobName::OverdueScan), "1 overdue notices queued");
        assert_eq!(run_job(&app, JobName::OverdueScan), "0 overdue notices queued");
        assert_eq!(at_run(&app, utc(2026, 12, 31, 7, 30), JobName::Escalation), "1 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");
        assert_eq!(run_job(&app, JobName::Escalation), "0 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");
        let all = settle(&app, &sink);
        assert_eq!(all.len(), 4, "agreed, reminder, overdue notice, escalation: no more");
        let owner = mail_to(&sink, "pc.officer@police.example");
        assert!(owner.iter().any(|(subject, _)| subject.starts_with("Reminder: action due")), "{owner:?}");
        assert!(owner.iter().any(|(subject, _)| subject.starts_with("Overdue action")), "{owner:?}");
        let escalated = mail_to(&sink, &lead.email);
        assert_eq!(escalated.len(), 1, "the chair's team lead hears");
        assert!(escalated[0].1.contains(&p) && escalated[0].1.contains("PC Officer") && escalated[0].1.contains(&format!("http://safeguard.test/contexts/{p}")),
            "{}", escalated[0].1);
        // Nothing of the context, and no child, in any of them.
        for m in &all {
            let text = m.text();
            for word in ["Harbour View", "older men", "two schools", "2am", &reference, "Alpha"] {
                assert!(!text.contains(word), "an email tells {word:?}:\n{text}");
            }
            assert!(text.contains(&p), "each names the context by its reference");
        }

        // The team lead's dashboard lists it with the other overdue actions, by the context's
        // reference, escalated; and so does its CSV.
        let (s, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(s, 200, "{d}");
        let listed = &d["overdue_context_actions"][0];
        assert_eq!((listed["reference"].as_str(), listed["title"].as_str(), listed["escalated"].as_bool(), listed["working_days_overdue"].as_i64()),
            (Some(p.as_str()), Some("Serve a closure notice on the manager"), Some(true), Some(3)), "{d}");
        let web = support::web::Web::new(&app);
        web.sign_in(&lead.email, TEST_PASSWORD);
        let page = web.get("/dashboard").body;
        assert!(page.contains(&format!("href=\"/contexts/{p}\"")) && page.contains("Serve a closure notice on the manager"), "{page}");
        let csv = web.get("/dashboard/overdue_context_actions.csv").body;
        assert!(csv.starts_with("context,title,disruption,owner_name") && csv.contains(&format!("{p},Serve a closure notice on the manager,true,PC Officer,police-south-wales,2026-12-24,3,true")), "{csv}");

        // Closed by the chair: done, with what was done; a second close is refused.
        let id = action["id"].as_str().expect("id");
        let close = format!("{path}/{id}/close");
        let (s, e) = app.post(&chair.token, &close, &json!({"status": "cancelled", "note": "not needed"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("rationale_required"), Some("note")), "{e}");
        let (s, done) = app.post(&chair.token, &close, &json!({"status": "done", "note": "Notice served on 30 December."}));
        assert_eq!((s, done["status"].as_str()), (200, Some("done")), "{done}");
        assert_eq!(app.post(&chair.token, &close, &json!({"status": "done", "note": "Again."})).1["code"], "action_closed");
        assert_eq!(at_run(&app, utc(2027, 1, 4, 7, 15), JobName::OverdueScan), "0 overdue notices queued", "a closed action is chased no more");
        let (_, view) = app.get(&lead.token, &format!("/api/contexts/{p}"));
        assert_eq!((view["actions"][0]["status"].as_str(), view["actions"][0]["close_note"].as_str(), view["actions"][0]["agreed_by"].as_str()),
            (Some("done"), Some("Notice served on 30 December."), Some("Chair North")));
    }
}

on_both_backends! {
    fn an_overdue_action_on_a_person_of_concern_goes_only_to_a_team_lead_given_the_role(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let chair = app.person("chair", "la-cardiff", "Team North", "Chair North");
        let lead = app.person("team_lead", "la-cardiff", "Team North", "Lead North");
        let svc = &app.service.state.services;
        let grant = |email: &str| safeguard::domain::context::set_persons_of_concern(&mut app.conn(), &svc.audit_key, email, true, "test administrator", app.clock_now().naive_utc()).expect("role");
        grant(&chair.email);
        let (s, person) = app.post(&chair.token, "/api/contexts",
            &json!({"kind": "person_of_concern", "name": "A man known as Uncle Tee", "description": "Drives a grey van; gives children vapes."}));
        assert_eq!(s, 201, "{person}");
        let x = person["reference"].as_str().expect("reference").to_string();
        let (s, e) = app.post(&chair.token, &format!("/api/contexts/{x}/actions"), &json!({"title": "Speak to Tee's landlord",
            "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("context_named"), Some("title")), "a part of the person's name is refused too: {e}");
        let (s, a) = app.post(&chair.token, &format!("/api/contexts/{x}/actions"), &json!({"title": "Check the van's registration", "disruption": true,
            "owner_name": "PC Officer", "owner_email": "pc.officer@police.example", "due_date": "2026-12-24"}));
        assert_eq!(s, 201, "{a}");
        // The chair's team lead may not know of the person: nobody to tell, so it waits.
        assert_eq!(at_run(&app, utc(2026, 12, 31, 7, 30), JobName::Escalation), "0 actions escalated; 1 had no team lead to tell; 0 held while their chair answers a request for more time");
        grant(&lead.email);
        assert_eq!(run_job(&app, JobName::Escalation), "1 actions escalated; 0 had no team lead to tell; 0 held while their chair answers a request for more time");
        settle(&app, &sink);
        let told = mail_to(&sink, &lead.email);
        assert_eq!(told.len(), 1);
        assert!(told[0].1.contains(&x) && told[0].1.contains("Check the van's registration") && !told[0].1.contains("Uncle Tee") && !told[0].1.contains("grey van"),
            "the title and reference only: {}", told[0].1);
    }
}
