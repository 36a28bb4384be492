//! Risk over time (issue 14, parts 3 and 4), on both backends: a structured assessment sets the
//! category and the next review; a missing episode brings the review forward and its return
//! interview falls due; the team lead's dashboard lists both and counts the episodes; the
//! digest chases the late review without a word of the episode; the page's forms explain a
//! refusal at its field, in Welsh too, and a form sent twice records once. And each shipped
//! question quotes the practice guide's own words.
mod support;

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::MessageParser;
use safeguard::jobs::scheduler::run_now;
use safeguard::jobs::JobName;
use serde_json::{json, Value};
use support::smtp::SmtpSink;
use support::web::{error_at_field, Web};
use support::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

/// Whitespace and typographic quotes as one, so a quote is found however the text wraps.
fn plain(text: &str) -> String {
    text.replace(['\u{2018}', '\u{2019}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn each_shipped_question_quotes_the_practice_guide_words_it_comes_from() {
    let root = env!("CARGO_MANIFEST_DIR");
    let guide = plain(
        &std::fs::read_to_string(format!("{root}/tests/assets/cse-practice-guide.txt"))
            .expect("the practice guide's text"),
    );
    let file = std::fs::read_to_string(format!(
        "{root}/workflows/assessments/exploitation-risk.toml"
    ))
    .expect("the shipped assessment");
    let assessment =
        safeguard::engine::assessment::Assessment::parse(&file, "shipped").expect("valid");
    assert!(assessment.questions.len() >= 10, "a real set of prompts");
    for q in &assessment.questions {
        assert!(
            guide.contains(&plain(&q.quote)),
            "question {:?} quotes words the guide does not have: {:?}",
            q.id,
            q.quote
        );
    }
    // The check can fail: words the guide does not use are not found in it.
    assert!(!guide.contains(&plain("a validated risk score of seven or more")));
}

fn all_answered(answer: &str, app: &TestApp, token: &str, reference: &str) -> Value {
    let (s, r) = app.get(token, &format!("/api/cases/{reference}/risk"));
    assert_eq!(s, 200, "{r}");
    let mut answers = serde_json::Map::new();
    for q in r["assessment"]["questions"].as_array().expect("questions") {
        answers.insert(q["id"].as_str().expect("id").to_string(), json!(answer));
    }
    Value::Object(answers)
}

fn digest_text(sink: &SmtpSink, address: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .map(|m| {
            let msg = MessageParser::default().parse(&m.raw).expect("MIME parses");
            msg.body_text(0).map(|t| t.to_string()).unwrap_or_default()
        })
        .collect()
}

on_both_backends! {
    fn a_missing_episode_brings_the_review_forward_and_a_late_review_is_chased(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let case = app.create_case(&app.chair, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let risk = |token: &str| app.get(token, &format!("/api/cases/{reference}/risk")).1;

        // Wednesday 25 November: the chair assesses. Every question must be answered.
        let mut answers = all_answered("not_known", &app, &app.chair, &reference);
        answers["going_missing"] = json!("yes");
        let rationale = "Missing twice from placement; phone use worrying the carers.";
        let (s, e) = app.post(&app.chair, &format!("/api/cases/{reference}/risk-assessments"),
            &json!({"answers": {"going_missing": "yes"}, "category": "concern", "rationale": rationale}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (400, Some("question_unanswered"), Some("physical_signs")), "{e}");
        let (s, e) = app.post(&app.chair, &format!("/api/cases/{reference}/risk-assessments"),
            &json!({"answers": answers, "category": "a score of 7", "rationale": rationale}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (400, Some("invalid_choice"), Some("category")), "{e}");
        let practitioner = app.user("practitioner", "la-cardiff");
        let (s, _) = app.post(&practitioner, &format!("/api/cases/{reference}/risk-assessments"),
            &json!({"answers": answers, "category": "concern", "rationale": rationale}));
        assert_eq!(s, 403, "a practitioner does not choose the category");
        assert_eq!(risk(&app.chair)["risk"]["assessments"], json!([]), "nothing refused was kept");
        let (s, a) = app.post(&app.chair, &format!("/api/cases/{reference}/risk-assessments"),
            &json!({"answers": answers, "category": "concern", "rationale": rationale}));
        assert_eq!(s, 201, "{a}");
        // Forty working days, over Christmas and New Year's bank holidays.
        assert_eq!(a["next_review_on"], "2027-01-25");
        let r = risk(&app.chair);
        assert_eq!(r["risk"]["category"], "concern");
        assert_eq!(r["risk"]["review"], json!({"due_on": "2027-01-25", "reason": "scheduled", "overdue": false}));
        let kept = &r["risk"]["assessments"][0];
        assert_eq!(kept["rationale"], rationale);
        assert!(kept["answers"].as_array().expect("answers").iter()
            .any(|x| x["question"] == "going_missing" && x["answer"] == "yes" && x["text"] == "Does the child go missing for periods?"), "{kept}");

        // Thursday: the child goes missing overnight. The review comes forward to five working
        // days from today.
        app.clock.set(utc(2026, 11, 26, 9, 0));
        let (s, e) = app.post(&app.chair, &format!("/api/cases/{reference}/missing-episodes"),
            &json!({"went_missing_at": "2026-11-27T01:00", "reported_by": "Foster carer"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("datetime_in_future"), Some("went_missing_at")), "{e}");
        let (s, ep) = app.post(&practitioner, &format!("/api/cases/{reference}/missing-episodes"),
            &json!({"went_missing_at": "2026-11-26T01:00", "reported_by": "Police control room"}));
        assert_eq!(s, 201, "a practitioner records an episode: {ep}");
        let episode = ep["id"].as_str().expect("id").to_string();
        assert_eq!(ep["return_interview_due_at"], Value::Null, "not back yet");
        assert_eq!(risk(&app.chair)["risk"]["review"], json!({"due_on": "2026-12-03", "reason": "missing_episode", "overdue": false}));

        // Back that evening: the return interview is due 72 hours later.
        let path = format!("/api/cases/{reference}/missing-episodes/{episode}");
        let (s, e) = app.post(&practitioner, &path, &json!({"returned_at": "2026-11-25T20:00"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("time_out_of_order"), Some("returned_at")), "{e}");
        let (s, e) = app.post(&practitioner, &path, &json!({}));
        assert_eq!((s, e["code"].as_str()), (400, Some("nothing_to_record")), "{e}");
        let (s, ep) = app.post(&practitioner, &path, &json!({"returned_at": "2026-11-26T08:30"}));
        assert_eq!(s, 200, "{ep}");
        assert_eq!(ep["return_interview_due_at"], "2026-11-29T08:30:00Z");
        let (s, e) = app.post(&practitioner, &path, &json!({"returned_at": "2026-11-26T09:00"}));
        assert_eq!((s, e["code"].as_str()), (409, Some("already_recorded")), "a recorded time stays: {e}");
        let (s, e) = app.post(&practitioner, &path, &json!({"interview_held_at": "2026-11-26T08:00"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("time_out_of_order"), Some("interview_held_at")), "{e}");
        let (_, other) = app.post(&practitioner, &format!("/api/cases/{reference}/missing-episodes/no-such-episode"), &json!({"returned_at": "2026-11-26T08:30"}));
        assert_eq!(other["code"], "not_found", "{other}");

        // Monday: the interview is late; the review is due this week.
        app.clock.set(utc(2026, 11, 30, 9, 0));
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["missing_episodes_begun"], 1, "{d}");
        let interviews = d["return_interviews_due"].as_array().expect("list");
        assert_eq!(interviews.len(), 1, "{d}");
        assert_eq!((interviews[0]["reference"].as_str(), interviews[0]["overdue"].as_bool(), interviews[0]["offered"].as_bool()),
            (Some(reference.as_str()), Some(true), Some(false)));
        let reviews = d["risk_reviews_due"].as_array().expect("list");
        assert_eq!(reviews.len(), 1, "{d}");
        assert_eq!((reviews[0]["due_on"].as_str(), reviews[0]["reason"].as_str(), reviews[0]["overdue"].as_bool()),
            (Some("2026-12-03"), Some("missing_episode"), Some(false)));
        assert_eq!(risk(&app.chair)["risk"]["missing_episodes"][0]["interview_overdue"], true);
        let csv = app.get(&lead.token, "/api/dashboard/risk_reviews_due.csv").1;
        assert!(csv.as_str().is_some_and(|c| c.contains(&format!("{reference},2026-12-03,missing_episode,false"))), "{csv}");

        // Friday 4 December: the review is late, and the morning digest chases it, saying
        // nothing of why it came forward.
        app.clock.set(utc(2026, 12, 4, 8, 0));
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["risk_reviews_due"][0]["overdue"], true);
        let outcome = run_now(&app.service.state, JobName::Digest).expect("runs").expect("claimed").outcome;
        assert_eq!(outcome, "1 digests queued; 0 team leads had nothing to report");
        app.drain_outbox();
        let digest = digest_text(&sink, &lead.email);
        assert_eq!(digest.len(), 1);
        assert!(digest[0].contains("Risk reviews due (1):"), "{}", digest[0]);
        assert!(digest[0].contains(&format!("- {reference}: overdue, due Thursday 3 December 2026")), "{}", digest[0]);
        for word in ["missing", "Missing", "Police control room", "interview", "Alpha"] {
            assert!(!digest[0].contains(word), "the digest tells of the episode or the child ({word}): {}", digest[0]);
        }

        // The review is done: the next follows the new category, and the list is clear.
        let (s, _) = app.post(&app.chair, &format!("/api/cases/{reference}/risk-assessments"),
            &json!({"answers": all_answered("yes", &app, &app.chair, &reference), "category": "serious_concern",
                    "rationale": "Went missing again and came back with a new phone."}));
        assert_eq!(s, 201);
        let r = risk(&app.chair);
        assert_eq!(r["risk"]["review"]["reason"], "scheduled");
        assert_eq!(r["risk"]["assessments"].as_array().map(Vec::len), Some(2));
        let (_, d) = app.get(&lead.token, "/api/dashboard");
        assert_eq!(d["risk_reviews_due"], json!([]), "{d}");

        // A new disclosure is a significant change too: recorded with a note, it brings the
        // review forward again, to five working days from Friday.
        let (s, e) = app.post(&practitioner, &format!("/api/cases/{reference}/significant-changes"),
            &json!({"reason": "gossip", "note": "Told her teacher about the man in the van."}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (400, Some("invalid_choice"), Some("reason")), "{e}");
        let (s, d) = app.post(&practitioner, &format!("/api/cases/{reference}/significant-changes"),
            &json!({"reason": "disclosure", "note": "Told her teacher about the man in the van."}));
        assert_eq!((s, d["risk_review_due"].as_str()), (200, Some("2026-12-11")), "{d}");
        assert_eq!(risk(&app.chair)["risk"]["review"], json!({"due_on": "2026-12-11", "reason": "disclosure", "overdue": false}));

        // Another authority's chair sees nothing of it: the case, and so its risk, is not there.
        let swansea = app.user("chair", "la-swansea");
        let (s, _) = app.get(&swansea, &format!("/api/cases/{reference}/risk"));
        assert_eq!(s, 404);
        let (s, _) = app.post(&swansea, &format!("/api/cases/{reference}/missing-episodes"),
            &json!({"went_missing_at": "2026-12-01T01:00", "reported_by": "Police control room"}));
        assert_eq!(s, 404);

        // Each change is in the history, and the keyed trail still verifies.
        let (_, history) = app.get(&app.chair, &format!("/api/cases/{reference}/history"));
        let kinds: Vec<&str> = history["history"].as_array().expect("history").iter().filter_map(|e| e["kind"].as_str()).collect();
        for kind in ["risk_assessed", "missing_episode_recorded", "missing_episode_updated", "significant_change"] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
        let svc = &app.service.state.services;
        let mut conn = app.conn();
        let report = safeguard::domain::audit_verify::verify(&mut conn, &svc.audit_key, &svc.engine, &svc.checkpoints)
            .expect("verify");
        assert_eq!(report.problems, Vec::<String>::new());
    }
}

on_both_backends! {
    fn the_risk_page_records_an_episode_once_and_explains_a_refusal_in_welsh(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Six");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let url = format!("/cases/{reference}/risk");
        let case_page = web.get(&format!("/cases/{reference}")).body;
        assert!(case_page.contains(&format!("href=\"{url}\"")), "the case page leads to it");
        let page = web.get(&url).body;
        let csrf = Web::hidden(&page, "csrf");
        let form_at = &page[page.find("/risk/missing-episodes\"").expect("the new episode form")..];
        let token = Web::hidden(form_at, "form_token");
        let send = |day: &str, reported_by: &str| {
            web.post(&format!("{url}/missing-episodes"), &[
                ("csrf", &csrf), ("form_token", &token),
                ("went-day", day), ("went-month", "11"), ("went-year", "2026"), ("went-time", "01:00"),
                ("reported_by", reported_by),
            ])
        };
        let refused = send("25", "");
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Reported by must not be empty.");
        assert!(refused.body.contains("value=\"25\""), "what was typed is kept");
        web.get(&format!("/language/cy?back={url}"));
        let refused = send("31", "Foster carer");
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Rhowch ddyddiad go iawn ar gyfer pryd yr aeth y plentyn ar goll, er enghraifft 27 3 2027.");
        web.get(&format!("/language/en?back={url}"));

        let done = send("25", "Foster carer");
        assert_eq!((done.status, done.location.as_str()), (303, format!("{url}?done=missing_episode_recorded").as_str()), "{}", done.body);
        // Sent again (a double click, or back and send): nothing twice.
        let again = send("25", "Foster carer");
        assert_eq!((again.status, again.location.as_str()), (303, format!("{url}?done=form_already_sent").as_str()));
        let (_, r) = app.get(&chair.token, &format!("/api/cases/{reference}/risk"));
        assert_eq!(r["risk"]["missing_episodes"].as_array().map(Vec::len), Some(1), "{r}");
        assert_eq!(r["risk"]["missing_episodes"][0]["went_missing_at"], "2026-11-25T01:00:00Z");
        let page = web.get(&format!("{url}?done=missing_episode_recorded")).body;
        assert!(page.contains("The missing episode is recorded, and the risk review brought forward."));
        assert!(page.contains("Wednesday 25 November 2026, 01:00") && page.contains("Foster carer"), "{page}");
        assert!(page.contains("brought forward by a missing episode"));
    }
}
