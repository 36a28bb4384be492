//! A meeting's own page over plain HTTP, on both backends: the chair sees who accepted or
//! declined and why, moves the meeting with a reason (a date in three boxes and times beside
//! it; a time the clocks repeat is explained) and everyone invited gets the updated invitation;
//! then cancels it, and a reason too short is refused at its field.
mod support;

use diesel::prelude::*;
use mail_parser::MimeHeaders;
use serde_json::json;
use support::web::Web;
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

fn error_at_field(page: &str) -> String {
    let start = page
        .find("govuk-error-message")
        .expect("a message at the field");
    let rest = &page[start..];
    let text = &rest[rest.find("</span>").expect("prefix") + 7..];
    text[..text.find("</p>").expect("end")].trim().to_string()
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
