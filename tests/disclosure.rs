//! A disclosure of a case record for a court, from the pages on both backends: the other child
//! at the same meeting, the person the report came from and a person of concern the reviewer
//! adds are taken out of the PDF, each numbered where it stood and listed for the reviewer with
//! what it replaced; the child's own record stays whole; the export is recorded in the case's
//! history with the PDF's SHA-256, once however often the form is sent; only a chair, team lead
//! or senior manager of the child's authority may prepare one, and a hidden case answers 404.
mod support;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::web::{error_at_field, Web};
use support::*;

fn at_strategy_meeting(app: &TestApp, chair: &str, body: Value) -> Value {
    let (s, case) = app.post(chair, "/api/cases", &body);
    assert_eq!(s, 201, "{case}");
    let id = case["id"].as_str().expect("id").to_string();
    let (s, b) = app.event(chair, &id, json!({"event": "accept_report"}));
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.event(
        chair,
        &id,
        json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}),
    );
    assert_eq!(s, 200, "{b}");
    case
}

fn disclosures(app: &TestApp, chair: &str, reference: &str) -> Vec<Value> {
    let (_, history) = app.get(chair, &format!("/api/cases/{reference}/history"));
    history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["kind"] == "disclosure_prepared")
        .cloned()
        .collect()
}

on_both_backends! {
    fn a_disclosure_for_a_court_takes_out_others_and_lists_each_redaction(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Eight");
        let mut bravo = child();
        bravo["name"] = json!("Test Child Bravo");
        let bravo_ref = at_strategy_meeting(app, &chair.token, json!({"child": bravo, "facts": report_facts()}))["reference"]
            .as_str().expect("reference").to_string();
        let mut facts = report_facts();
        facts["signs_behavioural"] = json!(format!("Seen at the station with Test Child Bravo (see {bravo_ref}) and Zed Example; PC Ardent followed them"));
        let alpha = at_strategy_meeting(app, &chair.token, json!({"child": child(), "facts": facts,
            "involvements": [{"agency": "police-south-wales", "role": "reported the concern",
                              "person_name": "Pat Ardent", "person_email": "pat.ardent@police.example"}]}));
        let reference = alpha["reference"].as_str().expect("reference").to_string();
        let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00",
            "location": "Room 2", "cases": [reference, bravo_ref],
            "invitees": [{"name": "Officer Police", "email": "officer@police.example", "role": "detective sergeant"}]}));
        assert_eq!(s, 201, "{m}");

        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let case_page = web.get(&format!("/cases/{reference}")).body;
        assert!(case_page.contains(&format!("href=\"/cases/{reference}/disclosure\"")), "the case page offers it");
        let url = format!("/cases/{reference}/disclosure");
        let form_page = web.get(&url);
        assert_eq!(form_page.status, 200, "{}", form_page.body);
        let csrf = Web::hidden(&form_page.body, "csrf");
        let token = Web::hidden(&form_page.body, "form_token");

        // Whom it is for must be said; nothing is recorded meanwhile.
        let refused = web.post(&url, &[("csrf", &csrf), ("form_token", &token), ("step", "preview"),
            ("request_reference", "Court ref X1")]);
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Choose one of the options given.");
        assert!(refused.body.contains("value=\"Court ref X1\""), "what was typed is kept");

        // The unredacted record names both, as the control for what the export leaves out.
        let chronology = web.get(&format!("/cases/{reference}/chronology")).body;
        assert!(chronology.contains(&bravo_ref) && chronology.contains("Zed Example") && chronology.contains("Ardent"), "{chronology}");
        let form = |step: &'static str, reviewed: &str| vec![("csrf", csrf.clone()), ("form_token", token.clone()),
            ("step", step.to_string()), ("purpose", "court".to_string()), ("request_reference", "Court ref X1".to_string()),
            ("redact_persons_of_concern", "Zed Example".to_string()), ("reviewed", reviewed.to_string())];
        let send = |v: Vec<(&str, String)>| {
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
            web.post(&url, &refs)
        };
        let preview = send(form("preview", ""));
        assert_eq!(preview.status, 200, "{}", preview.body);
        let reviewed = Web::hidden(&preview.body, "reviewed");
        let table = &preview.body[preview.body.find("What was taken out, and where").unwrap_or_else(|| panic!("the reviewer's list: {}", preview.body))
            ..preview.body.find("The record as it will be disclosed").expect("the record")];
        let rows: Vec<&str> = table.split("<tr class=\"govuk-table__row\">").skip(2).collect();
        let row_with = |removed: &str| rows.iter().find(|r| r.contains(&format!(">{removed}<"))).copied()
            .unwrap_or_else(|| panic!("a redaction of {removed}: {table}"));
        // The placeholder words of a synthetic name ("Test Child") name nobody; the rest goes.
        assert!(row_with("Bravo").contains("another child"));
        assert!(row_with("Ardent").contains("a person who reported"));
        assert!(row_with("Pat Ardent").contains("Report recorded: Involved"), "as the report gave them: {table}");
        assert!(row_with("pat.ardent@police.example").contains("a person who reported"));
        assert!(row_with(&bravo_ref).contains("another child"), "another case's reference: {table}");
        assert!(row_with("Zed Example").contains("a person of concern"));
        assert!(row_with("Zed Example").contains("Report recorded"), "where it stood: {table}");
        let shown = &preview.body[preview.body.find("The record as it will be disclosed").expect("the record")..];
        assert!(shown.contains("[Redaction 1: another child]") && shown.contains("a person of concern]"), "{shown}");
        assert!(!shown.contains("Bravo") && !shown.contains("Zed Example") && !shown.contains("Ardent"), "{shown}");
        assert!(disclosures(app, &chair.token, &reference).is_empty(), "a preview records nothing");

        // An export of names that changed since the preview is previewed again, and records nothing.
        let mut edited = form("export", &reviewed);
        edited[5].1 = "Someone Else".to_string();
        let changed = send(edited);
        assert_eq!(changed.status, 409, "{}", changed.body);
        assert!(changed.body.contains("The names to take out changed since the preview."), "{}", changed.body);
        assert!(disclosures(app, &chair.token, &reference).is_empty());

        let pdf = send(form("export", &reviewed));
        assert_eq!(pdf.status, 200, "{}", pdf.body);
        assert_eq!(pdf.headers.get("content-type").map(String::as_str), Some("application/pdf"));
        let text = pdf_extract::extract_text_from_mem(&pdf.bytes).expect("the PDF reads back");
        // Lines wrap where the page ends, not where the words do.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains(&format!("Disclosure {reference}")) && text.contains("A court") && text.contains("Court ref X1"), "{text}");
        assert!(text.contains("Test Child Alpha"), "the child's own record stays whole: {text}");
        assert!(text.contains("[Redaction 1: another child]") && text.contains(&format!("{} things were redacted", rows.len())), "{text}");
        for gone in ["Bravo", "Zed Example", "Ardent", "pat.ardent@", &bravo_ref] {
            assert!(!text.contains(gone), "{gone} is taken out: {text}");
        }

        let recorded = disclosures(app, &chair.token, &reference);
        assert_eq!(recorded.len(), 1);
        let p = &recorded[0]["payload"];
        assert_eq!((p["purpose"].as_str(), p["request_reference"].as_str()), (Some("court"), Some("Court ref X1")));
        assert_eq!(p["redactions"], rows.len());
        assert_eq!(p["by_kind"], json!({"other_child": 2, "reporter": 3, "person_of_concern": 1, "other_record": 0}));
        assert_eq!(p["sha256"].as_str(), Some(hex::encode(Sha256::digest(&pdf.bytes)).as_str()), "the recorded digest is the file's");

        // Sent again: the first send prepared it; the second says so and records nothing.
        let again = send(form("export", &reviewed));
        assert_eq!((again.status, again.location.as_str()), (303, format!("/cases/{reference}?done=disclosure_prepared").as_str()));
        assert_eq!(disclosures(app, &chair.token, &reference).len(), 1);
        let chronology = web.get(&format!("/cases/{reference}/chronology")).body;
        assert!(chronology.contains("A disclosure prepared") && chronology.contains(p["sha256"].as_str().unwrap_or("?")), "{chronology}");
        {
            use diesel::prelude::*;
            use safeguard::storage::schema::access_log;
            let logged: i64 = access_log::table.filter(access_log::path.eq(&url)).filter(access_log::action.eq("write"))
                .count().get_result(&mut app.conn()).expect("count");
            assert_eq!(logged, 1, "the export is a write of the case in the access log");
            let svc = &app.service.state.services;
            let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints)
                .expect("verify");
            assert_eq!(report.problems, Vec::<String>::new());
        }

        // A practitioner of the team reads the case but does not disclose it; another
        // authority's chair does not learn that it exists.
        let practitioner = app.person("practitioner", "la-cardiff", "Test team", "Practitioner Person Nine");
        let theirs = Web::new(app);
        theirs.sign_in(&practitioner.email, TEST_PASSWORD);
        assert_eq!(theirs.get(&format!("/cases/{reference}")).status, 200);
        let refused = theirs.get(&url);
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("A disclosure is prepared by a chair, team lead or senior manager"), "{}", refused.body);
        let elsewhere = app.person("chair", "la-swansea", "Test team", "Chair Person Ten");
        let outside = Web::new(app);
        outside.sign_in(&elsewhere.email, TEST_PASSWORD);
        assert_eq!(outside.get(&url).status, 404);
        assert_eq!(outside.get("/cases/CSE-2099-999999/disclosure").status, 404, "as for a case that does not exist");
    }
}
