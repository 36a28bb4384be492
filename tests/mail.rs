//! Meetings and their email, delivered to a real SMTP server on loopback and read back as MIME:
//! invitations with calendar parts, both languages, signed answer links, reschedules across a
//! clock change, cancellations, reminders on the injected clock, an SMTP outage, permanent
//! refusals, and no child's name in any message. Each runs on SQLite and PostgreSQL.
mod support;

use chrono::TimeZone;
use diesel::prelude::*;
use icalendar::{Calendar, Component};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use support::smtp::{Received, SmtpSink};
use support::*;

const CHILD_NAME: &str = "Test Child Alpha";

fn app_with_sink(backend: Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(backend, &[("SAFEGUARD_SMTP_URL", sink.url())]);
    (app, sink)
}

fn meeting_body(case: &str, starts: &str, ends: &str) -> Value {
    json!({
        "kind": "strategy_meeting", "starts_at": starts, "ends_at": ends,
        "location": "Room 2, County Hall", "online_link": "https://meet.example/strategy",
        "cases": [case],
        "invitees": [
            {"name": "Invitee English", "email": "one@partner.example", "agency": "police-south-wales", "role": "detective sergeant", "language": "en", "direct_knowledge": true},
            {"name": "Invitee Cymraeg", "email": "dau@partner.example", "agency": "health-cardiff-and-vale", "role": "school nurse", "language": "cy", "direct_knowledge": false}
        ]
    })
}

struct Parsed {
    to: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    calendar: Option<(String, Calendar)>,
}

fn parse(m: &Received) -> Parsed {
    let msg = MessageParser::default().parse(&m.raw).expect("MIME parses");
    let calendar = msg.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        if ct.ctype() == "text" && ct.subtype() == Some("calendar") {
            let method = ct.attribute("method").unwrap_or_default().to_string();
            let text = p.text_contents()?.to_string();
            Some((method, text.parse::<Calendar>().expect("calendar parses")))
        } else {
            None
        }
    });
    Parsed {
        to: m.to.join(","),
        subject: msg.subject().unwrap_or_default().to_string(),
        text: msg.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
        html: msg.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
        message_id: msg.message_id().unwrap_or_default().to_string(),
        calendar,
    }
}

fn event_prop(cal: &Calendar, key: &str) -> String {
    cal.components
        .iter()
        .find_map(|c| c.as_event())
        .and_then(|e| e.property_value(key))
        .unwrap_or_default()
        .to_string()
}

fn respond_path(text: &str) -> String {
    let start = text
        .find("http://safeguard.test/respond/")
        .expect("answer link in the email");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.trim_start_matches("http://safeguard.test").to_string()
}

fn assert_no_child_details(messages: &[Received]) {
    for m in messages {
        let raw = m.text();
        assert!(
            !raw.contains(CHILD_NAME),
            "an email names the child:\n{raw}"
        );
        assert!(
            !raw.contains("Alpha"),
            "an email contains part of the child's name"
        );
        assert!(
            !raw.contains("2012-05-14") && !raw.contains("14 May 2012"),
            "an email contains the date of birth"
        );
    }
}

/// Delivers what is due and returns every message the SMTP server has accepted so far.
fn delivered(app: &TestApp, sink: &SmtpSink) -> Vec<Received> {
    app.drain_outbox();
    sink.messages()
}

fn outbox_status(app: &TestApp) -> Vec<(String, String, i32)> {
    use safeguard::storage::schema::outbox;
    let mut conn = app.conn();
    outbox::table
        .select((outbox::kind, outbox::status, outbox::attempts))
        .order(outbox::created_at)
        .load(&mut *conn)
        .expect("outbox rows")
}

on_both_backends! {
    fn invitation_arrives_bilingual_with_calendar_and_answer_link(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let case = app.create_case(&app.chair, child(), report_facts());
        let reference = case["reference"].as_str().expect("ref").to_string();
        let (s, m) = app.post(&app.chair, "/api/meetings", &meeting_body(&reference, "2026-12-02T10:00", "2026-12-02T11:30"));
        assert_eq!(s, 201, "{m}");
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 2, "one invitation per invitee");
        let mut parsed: Vec<Parsed> = got.iter().map(parse).collect();
        parsed.sort_by(|a, b| b.to.cmp(&a.to));
        let en = &parsed[0];
        let cy = &parsed[1];
        assert_eq!(en.to, "one@partner.example");
        // Subjects travel in clear text: the reference has a neutral prefix there, and the full
        // reference is in the body.
        let neutral = reference.replacen("CSE-", "Ref ", 1);
        assert!(en.subject.starts_with(&format!("Invitation: strategy meeting, Wednesday 2 December 2026, 10:00 ({neutral})")), "{}", en.subject);
        assert!(!en.subject.contains("CSE") && en.text.contains(&reference), "{} / {}", en.subject, en.text);
        assert!(en.subject.contains("Gwahoddiad"), "both languages in the subject: {}", en.subject);
        assert!(cy.subject.starts_with("Gwahoddiad: cyfarfod strategaeth, Dydd Mercher 2 Rhagfyr 2026, 10:00"), "{}", cy.subject);
        assert!(en.text.find("Dear Invitee English") < en.text.find("Annwyl Invitee English"), "English first for an English reader");
        assert!(cy.text.find("Annwyl Invitee Cymraeg") < cy.text.find("Dear Invitee Cymraeg"), "Welsh first for a Welsh reader");
        assert!(en.html.contains("lang=\"cy\""));
        assert_ne!(en.message_id, cy.message_id);
        let (method, cal) = en.calendar.as_ref().expect("calendar part");
        assert_eq!(method, "REQUEST");
        assert_eq!(cal.property_value("METHOD"), Some("REQUEST"));
        assert_eq!(event_prop(cal, "UID"), m["uid"].as_str().expect("uid"));
        assert_eq!(event_prop(cal, "SEQUENCE"), "0");
        assert_eq!(event_prop(cal, "DTSTART"), "20261202T100000Z");
        assert_eq!(event_prop(cal, "DTEND"), "20261202T113000Z");
        assert!(!event_prop(cal, "SUMMARY").contains(CHILD_NAME));
        // Each calendar speaks its invitee's language first, the other below it.
        assert_eq!(event_prop(cal, "SUMMARY"), format!("Strategy meeting ({reference})"));
        let (_, cy_cal) = cy.calendar.as_ref().expect("calendar part");
        assert_eq!(event_prop(cy_cal, "SUMMARY"), format!("Cyfarfod strategaeth ({reference})"));
        let summary_language = |cal: &Calendar| {
            cal.components.iter().find_map(|c| c.as_event()).and_then(|e| e.properties().get("SUMMARY"))
                .and_then(|p| p.params().get("LANGUAGE")).map(|p| p.value().to_string())
        };
        assert_eq!((summary_language(cal).as_deref(), summary_language(cy_cal).as_deref()), (Some("en"), Some("cy")));
        // The description says what the meeting is for, whom to ask and where to answer, in
        // both languages, the reader's first.
        let description = event_prop(cy_cal, "DESCRIPTION");
        assert!(description.starts_with(&format!("Cyfarfod strategaeth ({reference})\nCyfarfod amlasiantaethol i rannu")), "{description}");
        let chair_id = app.get(&app.chair, "/api/me").1["id"].as_str().expect("id").to_string();
        let chair_email: String = {
            use safeguard::storage::schema::users;
            users::table.find(&chair_id).select(users::email).get_result(&mut *app.conn()).expect("the chair")
        };
        assert!(description.contains(&format!("Cadeirydd: Test User ({chair_email})")) && description.contains(&format!("Chair: Test User ({chair_email})")), "{description}");
        assert!(description.contains(&respond_path(&cy.text)) && description.find("Strategy meeting") > description.find("Rhowch wybod"), "{description}");
        // Written by this service, and organised by the chair, whose address is not a dead end.
        assert!(cal.property_value("PRODID").is_some_and(|p| p.starts_with("-//Safeguarding strategy meetings//safeguard ")), "{:?}", cal.property_value("PRODID"));
        assert_eq!(event_prop(cal, "ORGANIZER"), format!("mailto:{chair_email}"));
        // The file is attached as well, named .ics, for calendars that ignore the inline part.
        let raw = MessageParser::default().parse(&got.iter().find(|m| m.to.iter().any(|t| t == "one@partner.example")).expect("sent").raw).expect("MIME").into_owned();
        let attached: Vec<_> = raw.attachments().filter(|a| a.attachment_name() == Some("invitation.ics")).collect();
        assert_eq!(attached.len(), 1);
        let file: Calendar = attached[0].text_contents().expect("text").parse().expect("the attached file parses");
        assert_eq!(event_prop(&file, "UID"), event_prop(cal, "UID"));
        assert_no_child_details(&got);

        // The answer link works, says who it is for, and records the answer.
        let path = respond_path(&cy.text);
        // One browser, as the invitee opens the link from their email (tests/links.rs has the
        // rules for a second browser and for old links).
        let browser = support::web::Web::new(&app);
        let page = browser.get(&path).body;
        assert!(page.contains("Invitee Cymraeg") && page.contains("Gwahoddiad i gyfarfod") && !page.contains(CHILD_NAME), "{page}");
        // The invitee chose Welsh: the page is in both languages, Welsh first, and can be turned.
        assert!(page.contains("<html lang=\"cy\"") && page.find("Gwahoddiad i gyfarfod") < page.find("Meeting invitation"), "{page}");
        let turned = browser.get(&format!("{path}?lang=en")).body;
        assert!(turned.contains("<html lang=\"en\"") && turned.find("Meeting invitation") < turned.find("Gwahoddiad i gyfarfod"), "{turned}");
        let done = browser.post(&path, &[("answer", "declined"), ("reason", "On leave that week")]).body;
        assert!(done.contains("Diolch") && done.find("Diolch") < done.find("Thank you"), "{done}");
        let (_, view) = app.get(&app.chair, &format!("/api/meetings/{}", m["id"].as_str().expect("id")));
        let answered = view["invitees"].as_array().expect("list").iter().find(|i| i["name"] == "Invitee Cymraeg").cloned().expect("invitee");
        assert_eq!((answered["response"].as_str(), answered["response_reason"].as_str()), (Some("declined"), Some("On leave that week")));
        // A changed character makes the link worthless; the page offers nothing.
        let tampered = format!("{}{}", &path[..path.len() - 1], if path.ends_with('0') { '1' } else { '0' });
        let err = ureq::get(&format!("{}{tampered}", app.base)).call().expect_err("refused");
        match err {
            ureq::Error::Status(code, r) => {
                assert_eq!(code, 400);
                let body = r.into_string().expect("body");
                assert!(body.contains("This link is not valid") && !body.contains("<form"));
            }
            other => panic!("{other}"),
        }
        // After the meeting (and a day's grace) the link has expired.
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).single().expect("time"));
        match ureq::get(&format!("{}{path}", app.base)).call() {
            Err(ureq::Error::Status(410, r)) => assert!(r.into_string().expect("body").contains("expired")),
            other => panic!("expected 410, got {other:?}"),
        }
    }
}

on_both_backends! {
    fn reschedule_across_the_clock_change_then_cancel(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        // Friday 26 March 2027 is Good Friday: the service warns, the chair confirms.
        let mut body = meeting_body(id, "2027-03-26T10:00", "2027-03-26T11:00");
        let (s, b) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!((s, b["code"].as_str()), (422, Some("scheduling_warnings")), "{b}");
        assert!(b["details"]["warnings"][0].as_str().unwrap_or("").contains("Good Friday"), "{b}");
        body["confirm_warnings_rationale"] = json!("Only date both investigating officers can attend before Easter.");
        let (s, m) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id").to_string();
        assert_eq!(delivered(&app, &sink).len(), 2);
        // Moved to Tuesday 30 March, after the clocks go forward: 10:00 BST is 09:00 UTC.
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{mid}/reschedule"),
            &json!({"starts_at": "2027-03-30T10:00", "ends_at": "2027-03-30T11:00", "reason": "The chair is in court on the original date."}));
        assert_eq!(s, 200, "{b}");
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 4);
        let updated: Vec<Parsed> = got[2..].iter().map(parse).collect();
        for p in &updated {
            let (method, cal) = p.calendar.as_ref().expect("calendar");
            assert_eq!(method, "REQUEST");
            assert_eq!(event_prop(cal, "UID"), m["uid"].as_str().expect("uid"), "same UID: calendars replace, not add");
            assert_eq!(event_prop(cal, "SEQUENCE"), "1");
            assert_eq!(event_prop(cal, "DTSTART"), "20270330T090000Z");
        }
        assert!(updated[0].subject.contains("Updated invitation") || updated[0].subject.contains("wedi’i ddiweddaru"), "{}", updated[0].subject);
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{mid}/cancel"), &json!({"reason": "Short"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("reason_too_short"), Some("reason")));
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{mid}/cancel"), &json!({"reason": "The child has moved to another authority."}));
        assert_eq!(s, 200, "{b}");
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 6);
        for p in got[4..].iter().map(parse) {
            let (method, cal) = p.calendar.as_ref().expect("calendar");
            assert_eq!(method, "CANCEL");
            assert_eq!(cal.property_value("METHOD"), Some("CANCEL"));
            assert_eq!(event_prop(cal, "SEQUENCE"), "2");
            assert_eq!(event_prop(cal, "STATUS"), "CANCELLED");
            assert!(p.text.contains("The child has moved to another authority."));
        }
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{mid}/reschedule"),
            &json!({"starts_at": "2027-04-06T10:00", "ends_at": "2027-04-06T11:00", "reason": "Trying to move a cancelled meeting."}));
        assert_eq!((s, b["code"].as_str()), (409, Some("meeting_cancelled")));
        // Each change is in the child's audit trail.
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let kinds: Vec<&str> = h["history"].as_array().expect("list").iter().filter_map(|e| e["kind"].as_str()).collect();
        assert!(kinds.ends_with(&["meeting_scheduled", "meeting_rescheduled", "meeting_cancelled"]), "{kinds:?}");
        assert_no_child_details(&got);
        assert_eq!(got.len(), 6, "no reminders were due; nothing else was sent");
    }
}

on_both_backends! {
    fn reminders_go_once_at_their_time(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let case = app.create_case(&app.chair, child(), report_facts());
        let (s, _) = app.post(&app.chair, "/api/meetings", &meeting_body(case["id"].as_str().expect("id"), "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 201);
        assert_eq!(delivered(&app, &sink).len(), 2);
        // Two working days before Wednesday 2 December is Monday 30 November, 10:00.
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 59, 0).single().expect("time"));
        assert_eq!(delivered(&app, &sink).len(), 2, "not yet");
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 30).single().expect("time"));
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 4);
        assert!(got[2..].iter().all(|m| parse(m).subject.starts_with("Reminder") || parse(m).subject.starts_with("Nodyn atgoffa")));
        assert!(got[2..].iter().all(|m| parse(m).calendar.is_none()));
        // Two hours before: 08:00 on the day.
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 30).single().expect("time"));
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 6, "each reminder exactly once");
        assert_eq!(delivered(&app, &sink).len(), 6, "and nothing more later");
        assert_no_child_details(&got);
    }
}

on_both_backends! {
    fn an_smtp_outage_delays_but_loses_and_duplicates_nothing(base) {
        // A port with nothing listening yet.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", format!("smtp://127.0.0.1:{port}"))]);
        let case = app.create_case(&app.chair, child(), report_facts());
        let (s, _) = app.post(&app.chair, "/api/meetings", &meeting_body(case["id"].as_str().expect("id"), "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 201);
        // Both invitations fail once and wait for a retry.
        let run = app.drain_outbox();
        assert_eq!((run.sent, run.retried, run.failed), (0, 2, 0), "{run:?}");
        assert!(outbox_status(&app).iter().filter(|r| r.0 == "invitation").all(|r| r.1 == "pending" && r.2 == 1), "{:?}", outbox_status(&app));
        // An outage of most of a day (about 25 attempts) fails nothing: mail is retried for 72 hours.
        for _ in 0..24 {
            app.clock.advance(chrono::Duration::hours(1));
            assert_eq!(app.drain_outbox().failed, 0);
        }
        let attempts = outbox_status(&app).iter().filter(|r| r.0 == "invitation").map(|r| r.2).min();
        assert!(attempts >= Some(10), "{:?}", outbox_status(&app));
        // Administrators see it failing, with when it is tried next.
        let admin = app.user("administrator", "la-cardiff");
        let (_, b) = app.get(&admin, "/api/admin/mail");
        let failing = b["mail"].as_array().expect("mail");
        assert_eq!(failing.len(), 2, "{b}");
        assert!(failing.iter().all(|m| m["status"] == "pending" && m["next_attempt"].is_string() && m["last_error"].is_string()), "{b}");
        let sink = SmtpSink::start_on(std::net::TcpListener::bind(("127.0.0.1", port)).expect("rebind the same port"));
        // The retry is due after the backoff, on the service's clock.
        app.clock.advance(chrono::Duration::hours(1));
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 2, "each invitation exactly once");
        let ids: std::collections::BTreeSet<String> = got.iter().map(|m| parse(m).message_id).collect();
        assert_eq!(ids.len(), 2);
        assert!(outbox_status(&app).iter().filter(|r| r.0 == "invitation").all(|r| r.1 == "sent"));
    }
}

on_both_backends! {
    fn a_refused_address_is_marked_failed_for_administrators_who_send_it_again(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        sink.refuse("dau@partner.example");
        let case = app.create_case(&app.chair, child(), report_facts());
        app.post(&app.chair, "/api/meetings", &meeting_body(case["id"].as_str().expect("id"), "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(delivered(&app, &sink).len(), 1);
        let admin = app.user("administrator", "la-cardiff");
        let (s, b) = app.get(&admin, "/api/admin/mail");
        assert_eq!(s, 200);
        let failed = b["mail"].as_array().expect("list");
        assert_eq!(failed.len(), 1, "{b}");
        assert_eq!((failed[0]["recipient"].as_str(), failed[0]["status"].as_str()), (Some("dau@partner.example"), Some("failed")));
        assert_eq!(failed[0]["reference"], case["reference"], "the case's reference, never the child's name");
        assert!(failed[0]["last_error"].as_str().unwrap_or("").contains("550"), "{b}");
        assert!(!b.to_string().contains("Alpha"), "{b}");
        assert_eq!(app.get(&app.chair, "/api/admin/mail").0, 403);
        // The team lead's morning digest says so too.
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Lead One");
        let svc = &app.service.state.services;
        safeguard::follow_up::digest::run(svc, &mut app.conn(), svc.now()).expect("digest");
        let digest = delivered(&app, &sink).into_iter().find(|m| m.to.iter().any(|t| t == &lead.email)).expect("a digest");
        let text = digest.text();
        assert!(text.contains("Email not delivered (1)") && text.contains("meeting invitation to dau@partner.example (failed"), "{text}");
        assert!(text.contains(case["reference"].as_str().expect("reference")));
        // The mailbox is fixed; the administrator sends it again and it arrives.
        sink.accept("dau@partner.example");
        let id = failed[0]["id"].as_str().expect("id");
        assert_eq!(app.post(&app.chair, &format!("/api/admin/mail/{id}/retry"), &json!({})).0, 403);
        let (s, b) = app.post(&admin, &format!("/api/admin/mail/{id}/retry"), &json!({}));
        assert_eq!((s, b["retried"].as_i64()), (200, Some(1)), "{b}");
        assert_eq!(delivered(&app, &sink).len(), 3, "the invitation, the digest, and the invitation again");
        assert_eq!(app.get(&admin, "/api/admin/mail").1["mail"], json!([]));
        assert_eq!(app.post(&admin, &format!("/api/admin/mail/{id}/retry"), &json!({})).0, 404, "nothing failed to send again");
    }
}

on_both_backends! {
    fn scheduling_warns_about_deadlines_weekends_and_hours(app) {
        let id = case_at_strategy_meeting(app);
        // The strategy meeting step is due by the end of Wednesday 2 December.
        let (s, b) = app.post(&app.chair, "/api/meetings", &meeting_body(&id, "2026-12-03T19:00", "2026-12-03T20:00"));
        assert_eq!((s, b["code"].as_str()), (422, Some("scheduling_warnings")));
        let warnings: Vec<String> = b["details"]["warnings"].as_array().expect("list").iter().filter_map(|w| w.as_str().map(str::to_string)).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("outside working hours"));
        assert!(warnings[1].contains("deadline"));
        let (s, b) = app.post(&app.chair, "/api/meetings", &meeting_body(&id, "2026-12-05T10:00", "2026-12-05T11:00"));
        assert_eq!(s, 422);
        assert!(b["message"].as_str().unwrap_or("").contains("Saturday 5 December 2026 is a weekend"), "{b}");
        let mut body = meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00");
        body["confirm_warnings_rationale"] = json!("x");
        let (s, _) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!(s, 201, "no warnings, so no rationale is needed");
    }
}

on_both_backends! {
    fn bad_meeting_input_is_refused_and_nothing_is_queued(app) {
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        let checks: Vec<(Value, u16, &str, &str)> = vec![
            (json!({"invitees": [{"name": "X", "email": "not an address", "role": "r"}]}), 400, "invalid_email", "invitees[0].email"),
            (json!({"ends_at": "2026-12-02T09:00"}), 422, "end_before_start", "ends_at"),
            (json!({"starts_at": "2026-11-20T10:00", "ends_at": "2026-11-20T11:00"}), 422, "in_the_past", "starts_at"),
            (json!({"starts_at": "2027-03-28T01:30", "ends_at": "2027-03-28T02:30"}), 422, "ambiguous_local_time", "starts_at"),
            (json!({"starts_at": "2/12/2026 10am"}), 400, "invalid_datetime", "starts_at"),
            (json!({"kind": "party"}), 400, "invalid_choice", "kind"),
            (json!({"location": null, "online_link": null}), 400, "place_required", "location"),
            (json!({"online_link": "javascript:alert(1)"}), 400, "invalid_link", "online_link"),
        ];
        for (patch, status, code, field) in checks {
            let body = merge(meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00"), patch.clone());
            let (s, b) = app.post(&app.chair, "/api/meetings", &body);
            assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (status, Some(code), Some(field)), "{patch}: {b}");
        }
        // A case the chair cannot see: 404, as for any case.
        let outsider = app.user("chair", "la-swansea");
        let (s, _) = app.post(&outsider, "/api/meetings", &meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 404);
        let practitioner = app.user("practitioner", "la-cardiff");
        assert_eq!(app.post(&practitioner, "/api/meetings", &meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00")).0, 403);
        assert!(outbox_status(app).is_empty(), "nothing half-saved, nothing queued");
        let (_, c) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(c["version"], 1);
    }
}

on_both_backends! {
    fn without_smtp_each_email_is_an_eml_file(app) {
        let case = app.create_case(&app.chair, child(), report_facts());
        let mut body = meeting_body(case["id"].as_str().expect("id"), "2026-12-02T10:00", "2026-12-02T11:00");
        body["cases"] = json!([case["reference"]]);
        assert_eq!(app.post(&app.chair, "/api/meetings", &body).0, 201);
        assert_eq!(app.drain_outbox().sent, 2);
        let dir = app.data_dir().join("outbox");
        let files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).collect()).unwrap_or_default();
        assert_eq!(files.len(), 2);
        for f in files {
            let raw = std::fs::read(f.path()).expect("read eml");
            let text = String::from_utf8_lossy(&raw);
            assert!(text.contains("text/calendar"), "{text}");
            assert!(!text.contains(CHILD_NAME));
        }
    }
}

on_both_backends! {
    fn suggested_invitees_start_from_both_authorities(app) {
        let mut c = child();
        c["residence_authority"] = json!("la-newport");
        let case = app.create_case(&app.chair, c, report_facts());
        let id = case["id"].as_str().expect("id");
        app.event(&app.chair, id, json!({"event": "accept_report"}));
        let mut facts = discussion_facts();
        facts["participants"] = json!(["la-cardiff", "la-newport", "police-south-wales", "yjs-cardiff"]);
        facts["youth_justice_involved"] = json!(true);
        let (s, b) = app.event(&app.chair, id, json!({"event": "convene_strategy_meeting", "facts": facts}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.get(&app.chair, &format!("/api/cases/{id}/suggested-invitees"));
        assert_eq!(s, 200);
        let agencies: Vec<&str> = b["invitees"].as_array().expect("list").iter().filter_map(|i| i["agency"].as_str()).collect();
        for a in ["la-cardiff", "la-newport", "police-south-wales", "yjs-cardiff"] {
            assert!(agencies.contains(&a), "{a} missing from {agencies:?}");
        }
    }
}

/// Two service instances on one PostgreSQL database, as behind a load balancer: 200 meetings
/// created through both, every invitation delivered exactly once.
#[test]
fn two_replicas_deliver_each_invitation_once() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("PostgreSQL not configured (SAFEGUARD_TEST_POSTGRES_URL): skipped");
        return;
    };
    let (app, sink) = app_with_sink(backend);
    let replica = app.replica();
    let bases = [app.base.clone(), replica.base_url()];
    let case = app.create_case(&app.chair, child(), report_facts());
    let id = case["id"].as_str().expect("id");
    for n in 0..200 {
        let body = json!({
            "kind": "core_group", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00",
            "location": "Room 3", "cases": [id],
            "invitees": [{"name": format!("Invitee {n}"), "email": format!("invitee{n}@partner.example"), "role": "key worker"}]
        });
        let r = ureq::post(&format!("{}/api/meetings", bases[n % 2]))
            .set("Authorization", &format!("Bearer {}", app.chair))
            .send_json(body)
            .expect("meeting created");
        assert_eq!(r.status(), 201);
    }
    // Both replicas' workers deliver at once, each claiming rows the other does not hold.
    let (a, b) = std::thread::scope(|s| {
        let one = s.spawn(|| drain_service(&app.service, "replica-one"));
        let two = s.spawn(|| drain_service(&replica, "replica-two"));
        (one.join().expect("one"), two.join().expect("two"))
    });
    assert_eq!(a.sent + b.sent, 200, "{a:?} {b:?}");
    let all = sink.messages();
    let got = all.clone();
    assert_eq!(all.len(), 200, "{} messages for 200 invitations", all.len());
    let recipients: std::collections::BTreeSet<String> =
        got.iter().map(|m| m.to.join(",")).collect();
    assert_eq!(recipients.len(), 200, "each invitee exactly once");
    let sent: i64 = {
        use safeguard::storage::schema::outbox;
        let mut conn = app.conn();
        outbox::table
            .filter(outbox::kind.eq("invitation"))
            .filter(outbox::status.eq("sent"))
            .count()
            .get_result(&mut *conn)
            .expect("count")
    };
    assert_eq!(sent, 200);
    drop(replica);
}

on_both_backends! {
    fn action_owners_get_one_email_each_and_a_link_for_their_own_actions(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let id = case_at_strategy_meeting(&app);
        let (s, m) = app.post(&app.chair, "/api/meetings", &meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 201, "{m}");
        assert_eq!(delivered(&app, &sink).len(), 2);
        let chair_id = app.get(&app.chair, "/api/me").1["id"].clone();
        let actions = json!([
            {"title": "Return-home interview", "owner_name": "Invitee English", "owner_email": "one@partner.example", "agency": "police-south-wales", "due_date": "2026-12-09"},
            {"title": "Disruption notice for the address", "owner_name": "Invitee English", "owner_email": "one@partner.example", "due_date": "2026-12-11"},
            {"title": "Sexual health appointment", "owner_name": "Invitee Cymraeg", "owner_email": "dau@partner.example", "due_date": "2026-12-10"},
            {"title": "Safety plan at school", "owner_user_id": chair_id}
        ]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(),
            "agreed_actions": actions, "meeting_id": m["id"]}));
        assert_eq!(s, 200, "{b}");
        let got = delivered(&app, &sink);
        assert_eq!(got.len(), 5, "one email per owner (the chair, a user, included), no more");
        let en = got[2..].iter().map(parse).find(|p| p.to == "one@partner.example").expect("English owner's email");
        let cy = got[2..].iter().map(parse).find(|p| p.to == "dau@partner.example").expect("Welsh owner's email");
        assert!(en.subject.starts_with("Agreed actions for you"), "{}", en.subject);
        assert!(cy.subject.starts_with("Camau gweithredu"), "the Welsh invitee reads Welsh first: {}", cy.subject);
        assert!(en.text.contains("Return-home interview (by Wednesday 9 December 2026)"), "{}", en.text);
        assert!(en.text.contains("Disruption notice for the address"));
        assert!(!en.text.contains("Sexual health appointment"), "another owner's action must not appear");
        assert_no_child_details(&got);

        let link = {
            let start = en.text.find("http://safeguard.test/actions/").expect("actions link");
            en.text[start..].chars().take_while(|c| !c.is_whitespace()).collect::<String>().replace("http://safeguard.test", "")
        };
        let browser = support::web::Web::new(&app);
        let page = browser.get(&link).body;
        assert!(page.contains("Return-home interview") && page.contains("Disruption notice"));
        assert!(!page.contains("Sexual health appointment") && !page.contains(CHILD_NAME));
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let action_id = |title: &str| case["agreed_actions"].as_array().expect("list").iter().find(|a| a["title"] == title).map(|a| a["id"].as_str().unwrap_or_default().to_string()).expect("action");
        let mine = action_id("Return-home interview");
        let theirs = action_id("Sexual health appointment");
        let saved = browser.post(&link, &[("action_id", &mine), ("note", "Interview held on Monday"), ("status", "done")]).body;
        assert!(saved.contains("Interview held on Monday"));
        // The link grants nothing else: not another owner's action.
        assert_eq!(browser.post(&link, &[("action_id", &theirs), ("note", "x"), ("status", "done")]).status, 404);
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let status = |aid: &str| case["agreed_actions"].as_array().expect("list").iter().find(|a| a["id"] == aid).map(|a| a["status"].clone());
        assert_eq!(status(&mine), Some(json!("done")));
        assert_eq!(status(&theirs), Some(json!("open")));
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let last = h["history"].as_array().and_then(|l| l.last()).cloned().expect("entry");
        assert_eq!((last["kind"].as_str(), last["actor_id"].as_str()), (Some("action_updated"), Some("link:one@partner.example")));
        // What the link holder read and did is in the case's access log, by their address.
        let lead = app.user("team_lead", "la-cardiff");
        let (_, log) = app.get(&lead, &format!("/api/cases/{id}/access-log"));
        let by_link: Vec<&str> = log["access"].as_array().expect("list").iter()
            .filter(|r| r["user_id"] == "link:one@partner.example").filter_map(|r| r["action"].as_str()).collect();
        assert_eq!(by_link, vec!["read", "write", "read", "write_refused"], "opened, updated (and shown again), refused another's action");
        // A meeting that does not concern the case is refused.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}, "meeting_id": "not-a-meeting"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("unknown_meeting"), Some("meeting_id")));
    }
}

on_both_backends! {
    fn meeting_record_goes_to_everyone_invited_and_into_each_childs_case(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        // Two children discussed in one meeting (peer exploitation).
        let a = app.create_case(&app.chair, child(), report_facts());
        let mut second = child();
        second["name"] = json!("Test Child Beta");
        let b = app.create_case(&app.chair, second, report_facts());
        let mut body = meeting_body(a["id"].as_str().expect("id"), "2026-12-02T10:00", "2026-12-02T11:00");
        body["cases"] = json!([a["id"], b["id"]]);
        let (s, m) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id").to_string();
        assert!(m["cases"].as_array().map(Vec::len) == Some(2));
        let invitees: Vec<String> = m["invitees"].as_array().expect("list").iter().map(|i| i["id"].as_str().unwrap_or_default().to_string()).collect();
        let record = |summary: &str| json!({"summary": summary, "next_meeting_at": "2027-01-06T10:00",
            "attendees": [{"invitee_id": invitees[0], "attended": true}, {"invitee_id": invitees[1], "attended": false}]});
        let summary = "Agreed: safety plans for both; return-home interviews after each missing episode; disruption at the address.";
        let (s, b2) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &record(summary));
        assert_eq!((s, b2["code"].as_str()), (422, Some("not_held_yet")));
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 2, 11, 5, 0).single().expect("time"));
        let (s, b2) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &record("Beta and the other child to be offered advocacy."));
        assert_eq!((s, b2["code"].as_str(), b2["field"].as_str()), (422, Some("child_named"), Some("summary")));
        let (s, b2) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &record(summary));
        assert_eq!(s, 200, "{b2}");
        assert_eq!(b2["status"], "held");
        let records: Vec<Parsed> = delivered(&app, &sink).iter().map(parse).filter(|p| p.subject.starts_with("Meeting record") || p.subject.starts_with("Cofnod")).collect();
        assert_eq!(records.len(), 2, "everyone invited gets the record");
        for r in &records {
            assert!(r.text.contains(summary), "{}", r.text);
            assert!(r.text.contains("Next meeting: Wednesday 6 January 2027, 10:00") && r.text.contains("Cyfarfod nesaf: Dydd Mercher 6 Ionawr 2027, 10:00"), "{}", r.text);
        }
        let all = sink.messages();
        for m in &all {
            assert!(!m.text().contains("Beta") && !m.text().contains("Alpha"), "an email names a child");
        }
        for case in [&a, &b] {
            let (_, h) = app.get(&app.chair, &format!("/api/cases/{}/history", case["id"].as_str().expect("id")));
            let last = h["history"].as_array().and_then(|l| l.last()).cloned().expect("entry");
            assert_eq!(last["kind"], "meeting_recorded");
            assert_eq!(last["payload"]["summary"], summary);
            assert_eq!(last["payload"]["attendees"].as_array().map(Vec::len), Some(2));
        }
        let (_, view) = app.get(&app.chair, &format!("/api/meetings/{mid}"));
        let attended: Vec<Value> = view["invitees"].as_array().expect("list").iter().map(|i| i["attended"].clone()).collect();
        assert!(attended.contains(&json!(true)) && attended.contains(&json!(false)));
        let (s, _) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &record(summary));
        assert_eq!(s, 409, "a meeting is recorded once");
        let (s, b2) = app.post(&app.chair, &format!("/api/meetings/{mid}/cancel"), &json!({"reason": "Test Child Alpha has moved away from the area."}));
        assert_eq!(s, 409, "{b2}");
    }
}

on_both_backends! {
    fn text_that_is_emailed_may_not_name_the_child(app) {
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        let (s, m) = app.post(&app.chair, "/api/meetings", &meeting_body(id, "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 201, "{m}");
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{}/cancel", m["id"].as_str().expect("id")),
            &json!({"reason": "Alpha has moved to another authority with her family."}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("child_named"), Some("reason")));
        let id = case_at_strategy_meeting(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(),
            "agreed_actions": [{"title": "Visit Alpha at school", "owner_name": "Attendee", "owner_email": "a@partner.example"}]}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("child_named"), Some("agreed_actions[0].title")));
    }
}

on_both_backends! {
    fn no_kind_of_email_names_the_child(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let id = case_at_strategy_meeting(&app);
        // Invitation (then reminders, an agreed-actions email and the record) for one meeting...
        let (s, m) = app.post(&app.chair, "/api/meetings", &meeting_body(&id, "2026-12-02T10:00", "2026-12-02T11:00"));
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id").to_string();
        // ...and an invitation, an update and a cancellation for another.
        let mut second = meeting_body(&id, "2026-12-03T10:00", "2026-12-03T11:00");
        second["kind"] = json!("core_group");
        let (s, other) = app.post(&app.chair, "/api/meetings", &second);
        assert_eq!(s, 201, "{other}");
        let oid = other["id"].as_str().expect("id");
        app.post(&app.chair, &format!("/api/meetings/{oid}/reschedule"), &json!({"starts_at": "2026-12-04T10:00", "ends_at": "2026-12-04T11:00", "reason": "The venue is not available that day."}));
        app.post(&app.chair, &format!("/api/meetings/{oid}/cancel"), &json!({"reason": "Merged into the meeting on 2 December."}));
        // Both reminders of the first meeting fall due before it starts.
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 2, 8, 30, 0).single().expect("time"));
        assert!(delivered(&app, &sink).iter().any(|m| parse(m).subject.starts_with("Reminder")), "a reminder arrives");
        app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 2, 11, 5, 0).single().expect("time"));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(), "meeting_id": mid,
            "agreed_actions": [{"title": "Return-home interview", "owner_name": "Invitee English", "owner_email": "one@partner.example"}]}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.post(&app.chair, &format!("/api/meetings/{mid}/record"), &json!({"summary": "Agreed a safety plan and a return-home interview after each missing episode."}));
        assert_eq!(s, 200, "{b}");
        let kinds = |msgs: &[Received]| -> std::collections::BTreeSet<String> {
            msgs.iter().map(|m| {
                let s = parse(m).subject;
                s.split(':').next().unwrap_or_default().to_string()
            }).collect()
        };
        let expected: std::collections::BTreeSet<String> = ["Invitation", "Updated invitation", "Cancelled", "Reminder", "Agreed actions for you (Ref 2026-000001) / Camau gweithredu a gytunwyd i chi (Ref 2026-000001)", "Meeting record",
            "Gwahoddiad", "Gwahoddiad wedi’i ddiweddaru", "Wedi’i ganslo", "Nodyn atgoffa", "Cofnod y cyfarfod"].iter().map(|s| s.to_string()).collect();
        let got = delivered(&app, &sink);
        assert!(kinds(&got).is_superset(&expected), "missing kinds: {:?}", expected.difference(&kinds(&got)).collect::<Vec<_>>());
        for m in &got {
            let raw = m.text();
            let decoded = { let p = parse(m); format!("{}\n{}\n{}", p.subject, p.text, p.html) };
            assert!(!parse(m).subject.contains("CSE"), "a subject says what the case is about: {}", parse(m).subject);
            for needle in [CHILD_NAME, "Alpha", "2012-05-14", "14 May 2012"] {
                assert!(!raw.contains(needle) && !decoded.contains(needle), "an email contains {needle:?}:\n{decoded}");
            }
        }
    }
}

on_both_backends! {
    fn a_line_break_cannot_reach_a_calendar_file_or_a_header(base) {
        let (app, sink) = app_with_sink(backend_of(base));
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        // A line break in a name or a place is refused, naming the field; nothing is queued.
        for (path, value, field) in [
            ("/invitees/0/name", "Officer\nATTENDEE:mailto:intruder@evil.example", "invitees[0].name"),
            ("/location", "Room 1\rX-INJECTED:yes", "location"),
            ("/invitees/1/role", "nurse\r\nBcc: intruder@evil.example", "invitees[1].role"),
        ] {
            let mut body = meeting_body(id, "2026-12-02T10:00", "2026-12-02T11:00");
            *body.pointer_mut(path).expect("field") = json!(value);
            let (s, b) = app.post(&app.chair, "/api/meetings", &body);
            assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("line_break"), Some(field)), "{b}");
        }
        assert!(outbox_status(&app).is_empty());
        // Quotes, semicolons, commas and colons in a name stay inside one value.
        let mut body = meeting_body(id, "2026-12-02T10:00", "2026-12-02T11:00");
        body["invitees"][0]["name"] = json!("DS \"Dee\" Jones; Police: South Wales, Cardiff");
        let (s, b) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!(s, 201, "{b}");
        let got = delivered(&app, &sink);
        let to_one = got.iter().find(|m| m.to.iter().any(|t| t == "one@partner.example")).expect("the invitation");
        let p = parse(to_one);
        let (_, cal) = p.calendar.expect("a calendar part");
        let event = cal.components.iter().find_map(|c| c.as_event()).expect("an event");
        let attendees = event.multi_properties().get("ATTENDEE").expect("attendees");
        assert_eq!(attendees.len(), 1, "exactly one ATTENDEE");
        assert_eq!(attendees[0].value(), "mailto:one@partner.example");
        assert_eq!(attendees[0].params().get("CN").map(|c| c.value()), Some("DS 'Dee' Jones; Police: South Wales, Cardiff"));
        let msg = MessageParser::default().parse(&to_one.raw).expect("parses");
        let to = msg.to().and_then(|a| a.first()).expect("a To address");
        assert_eq!(to.address(), Some("one@partner.example"));
        assert_eq!(to.name(), Some("DS \"Dee\" Jones; Police: South Wales, Cardiff"), "the header keeps the name as one display name");
    }
}

/// An operator's agencies file: South Wales Police lists the domain its staff use.
const POLICE_DOMAINS: &str = r#"
[[agency]]
code = "police-south-wales"
kind = "police"
name_en = "South Wales Police"
name_cy = "Heddlu De Cymru"
domains = ["south-wales.police.uk"]
"#;

fn app_with_police_domains(base: &TestApp) -> TestApp {
    TestApp::spawn_with_files(backend_of(base), &[], &[("agencies.toml", POLICE_DOMAINS)])
}

on_both_backends! {
    fn an_address_outside_its_agencys_domains_needs_a_reason_before_anything_is_sent(base) {
        let app = app_with_police_domains(base);
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        // one@partner.example is not a South Wales Police address: nothing is sent until the chair
        // says why it is right.
        let body = meeting_body(id, "2026-12-02T10:00", "2026-12-02T11:00");
        let (s, b) = app.post(&app.chair, "/api/meetings", &body);
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("address_outside_agency"), Some("invitees[0].email")), "{b}");
        assert_eq!(b["details"]["addresses"][0]["email"], "one@partner.example");
        assert!(outbox_status(&app).is_empty(), "nothing queued");
        // At the force's own domain (or a subdomain of it), nothing is asked.
        let mut ok = body.clone();
        ok["invitees"][0]["email"] = json!("ds.one@cardiff.south-wales.police.uk");
        assert_eq!(app.post(&app.chair, "/api/meetings", &ok).0, 201);
        // Confirmed with a reason, it is sent, and the reason is in the case's history.
        let mut confirmed = body.clone();
        confirmed["confirm_addresses_rationale"] = json!("The officer is seconded and uses the partnership mailbox.");
        confirmed["starts_at"] = json!("2026-12-02T12:00");
        confirmed["ends_at"] = json!("2026-12-02T13:00");
        let (s, b) = app.post(&app.chair, "/api/meetings", &confirmed);
        assert_eq!(s, 201, "{b}");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let entry = h["history"].as_array().expect("history").iter().rev().find(|e| e["kind"] == "meeting_scheduled").cloned().expect("the meeting in the history");
        assert_eq!(entry["payload"]["addresses_rationale"], "The officer is seconded and uses the partnership mailbox.");
        assert_eq!(entry["payload"]["addresses_confirmed"], json!(["one@partner.example"]));
        // The same for an action's owner.
        let action = json!({"title": "Share the intelligence report", "owner_name": "DS One", "owner_email": "ds.one@gmail.example", "agency": "police-south-wales", "due_working_days": 5});
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/actions"), &action);
        assert_eq!((s, b["field"].as_str()), (422, Some("owner_email")), "{b}");
        let mut action = action;
        action["confirm_addresses_rationale"] = json!("DS One asked for it to go to this address while the force mail is down.");
        assert_eq!(app.post(&app.chair, &format!("/api/cases/{id}/actions"), &action).0, 201);
    }
}

#[test]
fn the_relay_carries_each_message_exactly_as_written() {
    use lettre::address::Envelope;
    use safeguard::mail::relay::Relay;
    let sink = SmtpSink::start();
    let relay =
        Relay::from_url(&sink.url(), Some(std::time::Duration::from_secs(5))).expect("relay");
    let envelope = Envelope::new(
        Some("service@council.example".parse().expect("from")),
        vec!["key.worker@partner.example".parse().expect("to")],
    )
    .expect("envelope");
    // Lines that begin with a dot are where a careless client ends a message early or drops a
    // character; Welsh letters are where a careless one mangles bytes.
    let written = [
        "Subject: one\r\n\r\n.a line that begins with a dot\r\n..and two\r\n.\r\nafter a lone dot\r\n",
        "Subject: dau\r\n\r\nCyfarfod strategaeth: ŵyl, ŷd, â\r\n",
    ];
    for _ in 0..10 {
        for body in written {
            relay.send(&envelope, body).expect("sent");
        }
    }
    let got = sink.wait_for(20);
    assert_eq!(got.len(), 20);
    for (n, m) in got.iter().enumerate() {
        let text = m.text();
        assert_eq!(
            text.trim_end_matches("\r\n"),
            written[n % 2].trim_end_matches("\r\n"),
            "message {n}"
        );
        assert_eq!(m.to, vec!["key.worker@partner.example".to_string()]);
    }
}
