//! A meeting's own page over plain HTTP, on both backends: the chair sees who accepted or
//! declined and why, moves the meeting with a reason (a date in three boxes and times beside
//! it; a time the clocks repeat is explained) and everyone invited gets the updated invitation;
//! then cancels it, and a reason too short is refused at its field.
mod support;

use diesel::prelude::*;
use mail_parser::MimeHeaders;
use serde_json::json;
use support::web::{error_at_field, Web};
use support::*;

/// Each email queued to `email`: (kind, plain text, the calendar part if any).
fn mail_to(app: &TestApp, email: &str) -> Vec<(String, String, String)> {
    use safeguard::storage::schema::outbox;
    let rows: Vec<(String, String)> = outbox::table
        .filter(outbox::recipient.eq(email))
        .order((outbox::created_at, outbox::id))
        .select((outbox::kind, outbox::raw))
        .load(&mut *app.conn())
        .expect("outbox");
    rows.into_iter()
        .map(|(kind, raw)| {
            let m = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .expect("mime");
            let calendar = m
                .parts
                .iter()
                .find(|p| {
                    p.content_type()
                        .is_some_and(|c| c.subtype() == Some("calendar"))
                })
                .and_then(|p| p.text_contents())
                .unwrap_or_default()
                .to_string();
            (
                kind,
                m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
                calendar,
            )
        })
        .collect()
}

on_both_backends! {
    fn the_chair_sees_the_answers_then_moves_and_cancels_the_meeting_from_its_page(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Three");
        let case = app.create_case(&chair.token, child(), report_facts());
        let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-12-03T10:00", "ends_at": "2026-12-03T11:00",
            "location": "Room 2, County Hall", "cases": [case["id"]],
            "invitees": [
                {"name": "Officer Sample", "email": "officer@police.example", "agency": "police-south-wales", "role": "detective constable"},
                {"name": "Nurse Sample", "email": "nurse@health.example", "agency": "health-cardiff-and-vale", "role": "school nurse"}
            ]}));
        assert_eq!(s, 201, "{m}");
        let id = m["id"].as_str().expect("id").to_string();

        // The nurse declines through her link, with a reason.
        let invitation = &mail_to(app, "nurse@health.example")[0].1;
        let start = invitation.find("http://safeguard.test/respond/").expect("link");
        let respond: String = invitation[start + "http://safeguard.test".len()..].chars().take_while(|c| !c.is_whitespace()).collect();
        let nurse = Web::new(app);
        assert_eq!(nurse.get(&respond).status, 200);
        let answered = nurse.post(&respond, &[("answer", "declined"), ("reason", "Clinic all day; a colleague will send a report")]);
        assert_eq!(answered.status, 200, "{}", answered.body);

        // The chair sees it on the meeting page, with the reason.
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let url = format!("/meetings/{id}");
        let page = web.get(&url);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("0 attending, 1 not attending, 1 with no answer yet"), "{}", page.body);
        assert!(page.body.contains("govuk-tag--red\">not attending") && page.body.contains("Clinic all day; a colleague will send a report"));
        assert!(page.body.contains("value=\"3\"") && page.body.contains("value=\"10:00\""), "the form starts from the meeting's date and time");
        // Another authority's chair finds no such page.
        let swansea = app.person("chair", "la-swansea", "West team", "Chair Person Four");
        let other = Web::new(app);
        other.sign_in(&swansea.email, TEST_PASSWORD);
        assert_eq!(other.get(&url).status, 404);

        let csrf = Web::hidden(&page.body, "csrf");
        let move_url = format!("{url}/reschedule");
        let move_form = |token: &str, day: &str, month: &str, time: &str| vec![
            ("csrf", csrf.clone()), ("form_token", token.to_string()),
            ("date-day", day.to_string()), ("date-month", month.to_string()), ("date-year", "2027".to_string()),
            ("starts_time", time.to_string()), ("ends_time", "11:00".to_string()),
            ("location", "Room 4, County Hall".to_string()),
            ("reason", "The police officer is at court on the 3rd.".to_string()),
        ];
        let send = |path: &str, v: Vec<(&str, String)>| {
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
            web.post(path, &refs)
        };
        let token = {
            let start = page.body.find(&format!("action=\"{move_url}\"")).expect("move form");
            Web::hidden(&page.body[start..], "form_token")
        };
        // 1:30 on Sunday 31 October 2027 happens twice: explained, not guessed.
        let refused = send(&move_url, move_form(&token, "31", "10", "01:30"));
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(
            error_at_field(&refused.body),
            "Start time: that time happens twice on that day, because the clocks go back an hour at 2am. Choose a time before 1am or from 2am."
        );
        assert!(refused.body.contains("value=\"01:30\"") && refused.body.contains("value=\"31\""), "what was typed is kept");

        // Moved to Thursday 7 January 2027: each invitee has the invitation again, SEQUENCE raised.
        let moved = send(&move_url, move_form(&token, "7", "1", "10:00"));
        assert_eq!((moved.status, moved.location.as_str()), (303, format!("{url}?done=meeting_moved").as_str()), "{}", moved.body);
        assert_eq!(send(&move_url, move_form(&token, "7", "1", "10:00")).status, 303, "sent twice");
        let page = web.get(&format!("{url}?done=meeting_moved")).body;
        assert!(page.contains("The meeting is moved, and everyone invited has the updated invitation."));
        assert!(page.contains("Thursday 7 January 2027, 10:00"), "{page}");
        for email in ["officer@police.example", "nurse@health.example"] {
            let mails = mail_to(app, email);
            let invitations: Vec<_> = mails.iter().filter(|m| m.0 == "invitation").collect();
            assert_eq!(invitations.len(), 2, "the first and the moved one, once: {mails:?}");
            // Queued at the same moment on the test's clock: told apart by their SEQUENCE.
            let updated = invitations.iter().find(|m| m.2.contains("SEQUENCE:1")).expect("the updated invitation");
            assert!(updated.2.contains("DTSTART:20270107T100000Z"), "{}", updated.2);
            // It says what changed and why.
            assert!(updated.1.contains("The meeting below has been changed: it was Thursday 3 December 2026, 10:00.")
                && updated.1.contains("The chair's reason: The police officer is at court on the 3rd."), "{}", updated.1);
        }

        // Cancelled, with a reason long enough to say why.
        let cancel_url = format!("{url}/cancel");
        let token = {
            let start = page.find(&format!("action=\"{cancel_url}\"")).expect("cancel form");
            Web::hidden(&page[start..], "form_token")
        };
        let short = send(&cancel_url, vec![("csrf", csrf.clone()), ("form_token", token.clone()), ("reason", "not needed".to_string())]);
        assert_eq!(short.status, 422);
        assert_eq!(error_at_field(&short.body), "The reason must be at least 20 characters, so that it says why.");
        let cancelled = send(&cancel_url, vec![("csrf", csrf.clone()), ("form_token", token), ("reason", "The discussion agreed a single-agency response instead.".to_string())]);
        assert_eq!(cancelled.status, 303, "{}", cancelled.body);
        let page = web.get(&url).body;
        assert!(page.contains("govuk-tag--grey\">cancelled") && page.contains("single-agency response"), "{page}");
        assert!(!page.contains(&format!("action=\"{cancel_url}\"")), "nothing left to change");
        let kinds: Vec<String> = mail_to(app, "officer@police.example").into_iter().map(|m| m.0).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "cancellation").count(), 1, "{kinds:?}");
    }
}

on_both_backends! {
    fn a_meeting_about_two_children_is_recorded_on_one_page_and_moves_both_cases(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Six");
        let mut ids = Vec::new();
        let mut refs = Vec::new();
        for name in ["Test Child Alpha", "Test Child Bravo"] {
            let mut c = child();
            c["name"] = json!(name);
            let case = app.create_case(&chair.token, c, report_facts());
            let id = case["id"].as_str().expect("id").to_string();
            for body in [json!({"event": "accept_report"}), json!({"event": "convene_strategy_meeting", "facts": discussion_facts()})] {
                let (s, b) = app.event(&chair.token, &id, body);
                assert_eq!(s, 200, "{b}");
            }
            refs.push(case["reference"].as_str().expect("reference").to_string());
            ids.push(id);
        }
        let invitee = |n: u32, agency: &str| json!({"name": format!("Invitee {n}"), "email": format!("invitee{n}@partner.example"), "agency": agency, "role": "practitioner"});
        let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00",
            "location": "Room 2, County Hall", "cases": ids,
            "invitees": [invitee(1, "police-south-wales"), invitee(2, "health-cardiff-and-vale"), invitee(3, "la-cardiff"),
                         invitee(4, "police-south-wales"), invitee(5, "health-cardiff-and-vale")]}));
        assert_eq!(s, 201, "{m}");
        let id = m["id"].as_str().expect("id").to_string();
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 11, 30, 0).single().expect("time"));

        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let url = format!("/meetings/{id}/record");
        let page = web.get(&url).body;
        assert!(page.contains(&format!("Decisions for {}", refs[0])) && page.contains(&format!("Decisions for {}", refs[1])), "{page}");
        let csrf = Web::hidden(&page, "csrf");
        let token = Web::hidden(&page, "form_token");
        let invitee_ids: Vec<String> = page.match_indices("name=\"attended:").map(|(i, _)| {
            page[i + 15..].chars().take_while(|c| *c != '"').collect()
        }).collect();
        assert_eq!(invitee_ids.len(), 5);
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()), ("form_token".into(), token.clone()),
            ("summary".into(), "Agreed a safety plan and return-home interviews after each missing episode.".into()),
            ("other:0:name".into(), "Advocate Sample".into()), ("other:0:agency".into(), "la-cardiff".into()),
        ];
        for iid in &invitee_ids {
            form.push((format!("attended:{iid}"), "on".into()));
        }
        form.push((format!("direct:{}", invitee_ids[0]), "on".into()));
        let outcome = |i: usize, views: &str| -> Vec<(String, String)> {
            let p = format!("c{i}/");
            let mut v = vec![
                (format!("{p}event"), "complete_strategy_meeting".to_string()),
                (format!("{p}fact:child_views"), views.to_string()),
                (format!("{p}fact:child_seen_alone"), "yes".into()),
                (format!("{p}fact:child_told_about_support"), "yes".into()),
                (format!("{p}fact:icpc_needed"), "no".into()),
                (format!("{p}fact:plan_kind"), "care_and_support".into()),
                (format!("{p}fact:disability_or_sensory_impairment"), "no".into()),
                (format!("{p}fact:unaccompanied_asylum_seeking"), "no".into()),
                (format!("{p}fact:contexts_considered"), "The shop where the child's friends meet".into()),
                (format!("{p}fact:harm_by_peer"), "no".into()),
            ];
            let actions = if i == 0 { 3 } else { 1 };
            for n in 0..actions {
                v.push((format!("{p}act:{n}:title"), format!("Action {n} for child {i}")));
                v.push((format!("{p}act:{n}:owner_name"), "Invitee 1".into()));
                v.push((format!("{p}act:{n}:owner_email"), "invitee1@partner.example".into()));
            }
            v
        };
        let send = |extra: Vec<(String, String)>| {
            let all: Vec<(String, String)> = form.iter().cloned().chain(extra).collect();
            let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            web.post(&url, &refs)
        };
        // A row more for the first child, without saving anything.
        let added = send([outcome(0, "Wants to stay at school"), vec![("add".into(), "c0".into())]].concat());
        assert_eq!(added.status, 200);
        assert!(added.body.contains("id=\"a-c0-3-title\"") && added.body.contains("value=\"Action 2 for child 0\""), "a fourth row, the third as typed");

        // The second child's views are missing: said for that child, and nothing is recorded.
        let refused = send([outcome(0, "Wants to stay at school"), outcome(1, "")].concat());
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains(&format!("{}: Record the child&#x27;s views", refs[1])) || refused.body.contains(&format!("{}: Record the child's views", refs[1])), "{}", refused.body);
        assert!(refused.body.contains("value=\"Action 2 for child 0\""), "what was typed is kept");
        // No outcome chosen for either child: both said at once.
        let neither = send(Vec::new());
        assert!((400..500).contains(&neither.status), "{}", neither.body);
        let start = neither.body.find("govuk-error-summary__list").expect("an error summary");
        let summary = &neither.body[start..start + neither.body[start..].find("</ul>").expect("end")];
        for r in &refs {
            assert!(summary.contains(&format!("{r}: ")), "{r} in: {summary}");
        }
        assert!(summary.contains("href=\"#event-c0\"") && summary.contains("href=\"#event-c1\""), "{summary}");
        // Both children's views missing: both said at once, each for its child.
        let both = send([outcome(0, ""), outcome(1, "")].concat());
        assert_eq!(both.status, 422, "{}", both.body);
        for r in &refs {
            assert!(both.body.contains(&format!("{r}: Record the child&#x27;s views")) || both.body.contains(&format!("{r}: Record the child's views")),
                "{r} in: {}", both.body);
        }
        let (_, read) = app.get(&chair.token, &format!("/api/meetings/{id}"));
        assert_eq!(read["status"], "scheduled", "nothing recorded");
        assert_eq!(app.state_of(&chair.token, &ids[0], "cse-strategy"), "strategy_meeting");

        // An action for one child that names the other: refused, as the record email goes to
        // everyone about both.
        let mut sibling = outcome(0, "Wants to stay at school");
        if let Some(t) = sibling.iter_mut().find(|(k, _)| k == "c0/act:0:title") {
            t.1 = "Speak to Bravo about the party".into();
        }
        let refused = send([sibling, outcome(1, "Worried about a friend")].concat());
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains(&format!("{}: Action contains “Bravo”, which names the child", refs[0])), "{}", refused.body);
        assert_eq!(app.state_of(&chair.token, &ids[1], "cse-strategy"), "strategy_meeting", "nothing recorded");

        let done = send([outcome(0, "Wants to stay at school"), outcome(1, "Worried about a friend")].concat());
        assert_eq!((done.status, done.location.as_str()), (303, format!("/cases/{}?done=meeting_recorded", refs[0]).as_str()), "{}", done.body);
        let (_, read) = app.get(&chair.token, &format!("/api/meetings/{id}"));
        assert_eq!(read["status"], "held");
        for (i, case) in ids.iter().enumerate() {
            assert_eq!(app.state_of(&chair.token, case, "cse-strategy"), "plan_preparation", "child {i}");
            let (_, c) = app.get(&chair.token, &format!("/api/cases/{case}"));
            let attendance = c["facts"]["attendance"].as_array().cloned().unwrap_or_default();
            assert_eq!(attendance.len(), 6, "five invitees and one other, typed once: {attendance:?}");
            assert!(attendance.iter().any(|a| a["name"] == "Invitee 1" && a["direct_knowledge"] == true));
            let (_, actions) = app.get(&chair.token, &format!("/api/cases/{case}/actions"));
            let n = actions["actions"].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(n, if i == 0 { 3 } else { 1 }, "four actions in all, each with its child");
            assert!(actions["actions"].as_array().into_iter().flatten().all(|a| a["meeting_id"] == json!(id)));
        }
        // The record email is composed for each reader: who came, and their own actions.
        let record_to = |email: &str| mail_to(app, email).into_iter().find(|m| m.0 == "meeting_record").map(|m| m.1).expect("the record");
        let owner = record_to("invitee1@partner.example");
        // Invitee 3, of the children's local authority, is named only to those who may know of them.
        assert!(owner.contains("Who attended: Invitee 1; Invitee 2; Invitee 4; Invitee 5"), "{owner}");
        assert!(owner.contains("Your actions from this meeting:") && owner.contains("- Action 0 for child 0") && owner.contains("- Action 0 for child 1"), "{owner}");
        let other = record_to("invitee2@partner.example");
        assert!(!other.contains("Your actions from this meeting") && !other.contains("Action 0 for child 0"), "nobody else's actions: {other}");

        // The record, step by step: what the meeting decided for this child, with who came.
        let chronology = web.get(&format!("/cases/{}/chronology", refs[0]));
        assert_eq!(chronology.status, 200);
        for expected in ["Meeting held: agreed actions inform a plan", "The child&#x27;s views, in their words where possible",
                         "Wants to stay at school", "Invitee 1 (South Wales Police): has direct knowledge of the child",
                         "Advocate Sample (Cardiff Council): no direct knowledge of the child", "Action 2 for child 0"] {
            assert!(chronology.body.contains(expected), "{expected} in the chronology: {}", chronology.body);
        }
        assert!(!chronology.body.contains("Worried about a friend"), "nothing of the other child");
        // The same, printed by the service as a PDF, and read back.
        let pdf = web.get(&format!("/cases/{}/record.pdf", refs[0]));
        assert_eq!(pdf.status, 200);
        let text = pdf_extract::extract_text_from_mem(&pdf.bytes).expect("the PDF reads back");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in ["Case record, step by step", "Meeting held: agreed actions inform a plan", "Wants to stay at school",
                         "Invitee 1 (South Wales Police): has direct knowledge of the child"] {
            assert!(flat.contains(expected), "{expected} in the PDF: {flat}");
        }

        // Sent again (a double click): nothing more.
        let again = send([outcome(0, "Wants to stay at school"), outcome(1, "Worried about a friend")].concat());
        assert_eq!(again.status, 303);
        let (_, actions) = app.get(&chair.token, &format!("/api/cases/{}/actions", ids[0]));
        assert_eq!(actions["actions"].as_array().map(Vec::len), Some(3));
    }
}

on_both_backends! {
    fn the_convening_page_offers_the_chairs_other_children_at_the_same_step_and_adds_rows(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Seven");
        let other = app.person("chair", "la-swansea", "West team", "Chair Person Eight");
        let mut refs = Vec::new();
        for (name, who) in [("Test Child Charlie", &chair), ("Test Child Delta", &chair), ("Test Child Echo", &other)] {
            let mut c = child();
            c["name"] = json!(name);
            if who.email == other.email {
                c["located_authority"] = json!("la-swansea");
                c["residence_authority"] = json!("la-swansea");
            }
            let case = app.create_case(&who.token, c, report_facts());
            let id = case["id"].as_str().expect("id").to_string();
            let mut facts = discussion_facts();
            if who.email == other.email {
                facts["participants"] = json!(["la-swansea", "police-south-wales"]);
            }
            for body in [json!({"event": "accept_report"}), json!({"event": "convene_strategy_meeting", "facts": facts})] {
                let (s, b) = app.event(&who.token, &id, body);
                assert_eq!(s, 200, "{b}");
            }
            refs.push(case["reference"].as_str().expect("reference").to_string());
        }
        // A case of the chair's still at its report is not at a meeting step.
        let waiting = app.create_case(&chair.token, child(), report_facts());
        let waiting = waiting["reference"].as_str().expect("reference").to_string();

        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let url = format!("/cases/{}/meetings/new", refs[0]);
        let page = web.get(&url).body;
        assert!(page.contains(&format!("value=\"{}\"", refs[1])) && page.contains("Test Child Delta"), "the chair's other child at the same step is offered: {page}");
        assert!(!page.contains(&refs[2]) && !page.contains("Test Child Echo"), "another authority's child is not");
        assert!(!page.contains(&waiting), "nor a case still at its report");

        let csrf = Web::hidden(&page, "csrf");
        let token = Web::hidden(&page, "form_token");
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf), ("form_token".into(), token),
            ("kind".into(), "strategy_meeting".into()),
            ("date-day".into(), "2".into()), ("date-month".into(), "12".into()), ("date-year".into(), "2026".into()),
            ("starts_time".into(), "10:00".into()), ("ends_time".into(), "11:00".into()),
            ("location".into(), "Room 4, County Hall".into()),
            ("also".into(), refs[1].clone()),
            ("inv:0:include".into(), "on".into()), ("inv:0:name".into(), "Officer Sample".into()),
            ("inv:0:email".into(), "officer.sample@police.example".into()), ("inv:0:agency".into(), "police-south-wales".into()),
            ("inv:0:role".into(), "detective constable".into()),
        ];
        let send = |extra: &[(&str, &str)], form: &Vec<(String, String)>| {
            let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(extra.iter().copied()).collect();
            web.post(&format!("/cases/{}/meetings", refs_first(&url)), &refs)
        };
        fn refs_first(url: &str) -> String {
            url.trim_start_matches("/cases/").trim_end_matches("/meetings/new").to_string()
        }
        // "Add another person": a row more, what was typed kept, nothing sent.
        let added = send(&[("add", "invitee")], &form);
        assert_eq!(added.status, 200, "{}", added.body);
        assert!(added.body.contains("value=\"officer.sample@police.example\""), "typed row kept");
        assert!(added.body.contains(&format!("value=\"{}\" checked", refs[1])), "the other child stays ticked");
        let new_row = added.body.matches("-include\" name=\"inv:").count();
        assert_eq!(new_row, 2, "one row more than was sent");
        let meetings = || -> Vec<String> {
            use safeguard::storage::schema::meetings;
            meetings::table.select(meetings::id).load(&mut *app.conn()).expect("meetings")
        };
        assert!(meetings().is_empty(), "nothing convened");

        form.push(("inv:1:include".into(), "on".into()));
        form.push(("inv:1:name".into(), "Nurse Sample".into()));
        form.push(("inv:1:email".into(), "nurse.sample@health.example".into()));
        form.push(("inv:1:agency".into(), "health-cardiff-and-vale".into()));
        form.push(("inv:1:role".into(), "school nurse".into()));
        let sent = send(&[], &form);
        assert_eq!(sent.status, 303, "{}", sent.body);
        let list = meetings();
        assert_eq!(list.len(), 1, "one meeting");
        let (_, m) = app.get(&chair.token, &format!("/api/meetings/{}", list[0]));
        let cases: Vec<&str> = m["cases"].as_array().expect("cases").iter().filter_map(|c| c["reference"].as_str()).collect();
        assert_eq!(cases.len(), 2, "{m}");
        assert!(cases.contains(&refs[0].as_str()) && cases.contains(&refs[1].as_str()), "{m}");
        assert_eq!(m["invitees"].as_array().map(Vec::len), Some(2), "{m}");
    }
}

on_both_backends! {
    fn a_convening_form_shows_every_problem_at_once(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Twelve");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        for body in [json!({"event": "accept_report"}), json!({"event": "convene_strategy_meeting", "facts": discussion_facts()})] {
            let (s, b) = app.event(&chair.token, &reference, body);
            assert_eq!(s, 200, "{b}");
        }
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let page = web.get(&format!("/cases/{reference}/meetings/new")).body;
        let (csrf, token) = (Web::hidden(&page, "csrf"), Web::hidden(&page, "form_token"));
        // 31 February, an address that is not one, and a person with no name.
        let sent = web.post(&format!("/cases/{reference}/meetings"), &[
            ("csrf", csrf.as_str()), ("form_token", token.as_str()), ("kind", "strategy_meeting"),
            ("date-day", "31"), ("date-month", "2"), ("date-year", "2027"),
            ("starts_time", "10:00"), ("ends_time", "11:00"), ("location", "Room 4, County Hall"),
            ("inv:0:include", "on"), ("inv:0:name", "Officer Sample"), ("inv:0:email", "officer at police"),
            ("inv:0:agency", "police-south-wales"), ("inv:0:role", "detective constable"),
            ("inv:1:include", "on"), ("inv:1:name", ""), ("inv:1:email", "nurse.sample@health.example"),
            ("inv:1:agency", "health-cardiff-and-vale"), ("inv:1:role", "school nurse"),
        ]);
        assert!((400..500).contains(&sent.status), "{}", sent.body);
        let start = sent.body.find("govuk-error-summary__list").expect("an error summary");
        let summary = &sent.body[start..start + sent.body[start..].find("</ul>").expect("end")];
        let links: Vec<&str> = summary.match_indices("href=\"#").map(|(i, _)| {
            let rest = &summary[i + 7..];
            &rest[..rest.find('"').unwrap_or(0)]
        }).collect();
        assert_eq!(links, vec!["m-date", "inv-0-email", "inv-1-name"], "every problem, each linked to its field: {summary}");
        assert!(sent.body.contains("value=\"officer at police\""), "what was typed is kept");
        let meetings: i64 = {
            use safeguard::storage::schema::meetings;
            meetings::table.count().get_result(&mut *app.conn()).expect("count")
        };
        assert_eq!(meetings, 0, "nothing convened");
    }
}
