//! Nothing about a child reaches anyone who may not see that child's case: a meeting about
//! children of two authorities, read by a chair of one of them, tells them of their own child
//! only, in the API, in the case's history and in the emails. Each check that something is
//! absent has its positive control: the same check, run where the thing is, finds it.
mod support;

use serde_json::{json, Value};
use support::smtp::SmtpSink;
use support::*;

/// Everything the reader was shown, as one text to search.
fn shown(values: &[&Value]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn at_strategy_meeting(app: &TestApp, token: &str, authority: &str, name: &str) -> Value {
    let mut c = child();
    c["name"] = json!(name);
    c["located_authority"] = json!(authority);
    c["residence_authority"] = json!(authority);
    let case = app.create_case(token, c, report_facts());
    let id = case["id"].as_str().expect("id").to_string();
    let (s, b) = app.event(token, &id, json!({"event": "accept_report"}));
    assert_eq!(s, 200, "{b}");
    let mut facts = discussion_facts();
    facts["participants"] = json!([authority, "police-south-wales"]);
    let (s, b) = app.event(
        token,
        &id,
        json!({"event": "convene_strategy_meeting", "facts": facts}),
    );
    assert_eq!(s, 200, "{b}");
    app.get(token, &format!("/api/cases/{id}")).1
}

on_both_backends! {
    fn a_shared_meeting_tells_each_chair_of_their_own_child_only(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let cardiff = app.person("chair", "la-cardiff", "Cardiff hub", "Chair Cardiff");
        let swansea = app.person("chair", "la-swansea", "Swansea hub", "Chair Swansea");
        let x = at_strategy_meeting(&app, &cardiff.token, "la-cardiff", "Test Child Xray");
        let y = at_strategy_meeting(&app, &swansea.token, "la-swansea", "Test Child Yankee");
        let (x_id, x_ref) = (x["id"].as_str().expect("id").to_string(), x["reference"].as_str().expect("ref").to_string());
        let (y_id, y_ref) = (y["id"].as_str().expect("id").to_string(), y["reference"].as_str().expect("ref").to_string());
        // The Swansea chair is involved in the Cardiff case, and so may convene about both; a
        // Cardiff social worker outside the service is involved too.
        let (s, b) = app.post(&cardiff.token, &format!("/api/cases/{x_id}/involvements"),
            &json!({"expected_version": x["version"], "agency": "la-swansea", "role": "chair of the joint meeting", "user_email": swansea.email}));
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post(&cardiff.token, &format!("/api/cases/{x_id}/involvements"),
            &json!({"expected_version": b["version"], "agency": "la-cardiff", "role": "social worker", "person_name": "Social Worker Cardiff", "person_email": "sw@cardiff.example"}));
        assert_eq!(s, 201, "{b}");
        // After both steps' deadlines (Wednesday 2 December): each case gets its own warning.
        let (s, m) = app.post(&swansea.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-12-07T10:00", "ends_at": "2026-12-07T11:00",
            "location": "Civic Centre", "cases": [x_ref, y_ref],
            "confirm_warnings_rationale": "The first date every agency can attend for both children.",
            "invitees": [
                {"name": "Officer Police", "email": "officer@police.example", "agency": "police-south-wales", "role": "detective sergeant"},
                {"name": "Social Worker Cardiff", "email": "sw@cardiff.example", "agency": "la-cardiff", "role": "social worker"},
                {"name": "Social Worker Swansea", "email": "sw@swansea.example", "agency": "la-swansea", "role": "social worker"},
                {"name": "Youth Worker Swansea", "email": "yw@swansea.example", "agency": "yjs-swansea", "role": "youth justice worker"}
            ]}));
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id").to_string();
        // The Swansea chair, who sees both, sees everything: the positive control.
        let (_, full) = app.get(&swansea.token, &format!("/api/meetings/{mid}"));
        let full_text = shown(&[&full]);
        for seen in [&y_ref, "Social Worker Swansea", "Youth Worker Swansea", &x_ref] {
            assert!(full_text.contains(seen), "the convener sees {seen}: {full}");
        }
        assert_eq!(full["warnings"].as_array().map(Vec::len), Some(2), "{full}");

        // The Cardiff chair, not invited, sees the Cardiff child only.
        let (s, partial) = app.get(&cardiff.token, &format!("/api/meetings/{mid}"));
        assert_eq!(s, 200, "{partial}");
        assert_eq!(partial["cases"], json!([{"id": x_id, "reference": x_ref, "to_book": []}]));
        assert_eq!(partial["warnings"].as_array().map(Vec::len), Some(1), "{partial}");
        let (_, history) = app.get(&cardiff.token, &format!("/api/cases/{x_id}/history"));
        let scheduled = history["history"].as_array().expect("history").iter().find(|e| e["kind"] == "meeting_scheduled").cloned().expect("entry");
        assert!(scheduled["payload"].get("other_cases").is_none(), "{scheduled}");
        let seen_by_cardiff = shown(&[&partial, &history]);
        for hidden in [y_ref.as_str(), &y_id, "Social Worker Swansea", "Youth Worker Swansea", "Yankee"] {
            assert!(!seen_by_cardiff.contains(hidden), "the Cardiff chair is shown {hidden}");
        }
        assert!(seen_by_cardiff.contains("Officer Police") && seen_by_cardiff.contains("Social Worker Cardiff"));

        // Refusals tell nothing: changing a meeting is for its chair, whatever children are in it,
        // and the refusal of this meeting reads as the refusal of a one-child meeting does.
        let other = app.person("chair", "la-cardiff", "Cardiff hub", "Chair Cardiff Two");
        let (s, single) = app.post(&other.token, "/api/meetings", &json!({
            "kind": "core_group", "starts_at": "2026-12-08T10:00", "ends_at": "2026-12-08T11:00", "location": "Room 1",
            "cases": [x_ref], "invitees": [{"name": "Officer Police", "email": "officer@police.example", "agency": "police-south-wales", "role": "detective sergeant"}]}));
        assert_eq!(s, 201, "{single}");
        let cancel = json!({"reason": "Testing who may cancel this meeting."});
        let (s1, shared) = app.post(&cardiff.token, &format!("/api/meetings/{mid}/cancel"), &cancel);
        let (s2, one) = app.post(&cardiff.token, &format!("/api/meetings/{}/cancel", single["id"].as_str().expect("id")), &cancel);
        assert_eq!((s1, s2), (403, 403));
        assert_eq!(shared["message"], one["message"], "the same refusal whether or not a hidden child is in it");

        // The record: a part for the whole meeting, and a section for each child.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 7, 11, 5, 0).single().expect("time"));
        let (s, b) = app.post(&swansea.token, &format!("/api/meetings/{mid}/record"), &json!({
            "summary": "Agreed a joint disruption plan for the address both children visit.",
            "sections": [{"case": x_ref, "text": "Return-home interview after each missing episode."},
                         {"case": y_ref, "text": "Sexual health appointment with the school nurse."}]}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.post(&swansea.token, &format!("/api/meetings/{mid}/record"), &json!({"summary": format!("Agreed a plan; see {y_ref} for the rest.")}));
        assert_eq!((s, b["code"].as_str()), (409, Some("meeting_cancelled")), "recorded once");
        let (_, partial) = app.get(&cardiff.token, &format!("/api/meetings/{mid}"));
        let (_, history) = app.get(&cardiff.token, &format!("/api/cases/{x_id}/history"));
        let seen_by_cardiff = shown(&[&partial, &history]);
        assert!(seen_by_cardiff.contains("joint disruption plan") && seen_by_cardiff.contains("Return-home interview"));
        assert!(!seen_by_cardiff.contains("Sexual health appointment"), "another child's section");
        let (_, full) = app.get(&swansea.token, &format!("/api/meetings/{mid}"));
        assert!(shown(&[&full]).contains("Sexual health appointment"), "positive control: the convener sees both sections");

        // The record email is composed for each reader: the Cardiff social worker (involved in
        // the Cardiff case) gets that child's section; the police officer neither.
        app.drain_outbox();
        let record_to = |address: &str| -> String {
            sink.messages().iter().filter(|m| m.to.iter().any(|t| t == address)).map(|m| m.text())
                .filter(|t| t.contains("joint disruption plan")).collect::<Vec<_>>().join("\n")
        };
        let (sw, police) = (record_to("sw@cardiff.example"), record_to("officer@police.example"));
        assert!(sw.contains("Return-home interview") && !sw.contains("Sexual health appointment"), "{sw}");
        assert!(!police.contains("Return-home interview") && !police.contains("Sexual health appointment") && police.contains("joint disruption plan"), "{police}");
    }
}

on_both_backends! {
    /// A common part that names a case, or a section about a child the recorder cannot name,
    /// is refused: what is written for the whole meeting goes into every child's case.
    fn the_common_part_of_a_shared_record_names_no_case(base) {
        let app = TestApp::spawn(backend_of(base));
        let a = at_strategy_meeting(&app, &app.chair, "la-cardiff", "Test Child Alpha");
        let b = at_strategy_meeting(&app, &app.chair, "la-cardiff", "Test Child Bravo");
        let (s, m) = app.post(&app.chair, "/api/meetings", &json!({
            "kind": "core_group", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00", "location": "Room 2",
            "cases": [a["id"], b["id"]], "invitees": [{"name": "Officer Police", "email": "officer@police.example", "role": "detective sergeant"}]}));
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id");
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 11, 5, 0).single().expect("time"));
        let (s, r) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &json!({"summary": format!("Both agreed; {} needs a follow-up visit.", b["reference"].as_str().unwrap_or(""))}));
        assert_eq!((s, r["code"].as_str(), r["field"].as_str()), (422, Some("case_referenced"), Some("summary")), "{r}");
        let (s, r) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &json!({"summary": "A summary for the whole meeting, naming nobody.",
            "sections": [{"case": "CSE-2099-999999", "text": "About a case not in the meeting."}]}));
        assert_eq!((s, r["code"].as_str(), r["field"].as_str()), (422, Some("unknown_case"), Some("sections[0].case")), "{r}");
        let (s, r) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &json!({"summary": "A summary for the whole meeting, naming nobody.",
            "sections": [{"case": a["reference"], "text": "Bravo is not to be named here."}]}));
        assert_eq!((s, r["code"].as_str(), r["field"].as_str()), (422, Some("child_named"), Some("sections[0].text")), "{r}");
        let (_, meeting) = app.get(&app.chair, &format!("/api/meetings/{mid}"));
        assert_eq!(meeting["status"], "scheduled", "nothing was recorded");
    }
}
