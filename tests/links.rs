//! A signed link works only for the person it names: a second browser, or a link older than a
//! day, must type a one-time code sent to the link's address. On SQLite and PostgreSQL, with a
//! real SMTP server on loopback.
mod support;

use serde_json::json;
use support::smtp::SmtpSink;
use support::web::Web;
use support::*;
/// A meeting with one invitee; returns the path of their answer link.
fn invited(app: &TestApp, sink: &SmtpSink) -> String {
    let case = app.create_case(&app.chair, child(), report_facts());
    let (s, b) = app.post(&app.chair, "/api/meetings", &json!({
        "kind": "strategy_meeting", "starts_at": "2026-12-03T10:00", "ends_at": "2026-12-03T11:00",
        "location": "Room 2", "cases": [case["id"]],
        "invitees": [{"name": "Invitee One", "email": "one@partner.example", "agency": "police-south-wales", "role": "detective sergeant"}]}));
    assert_eq!(s, 201, "{b}");
    app.drain_outbox();
    let text = body(sink.messages().last().expect("the invitation"));
    let start = text.find("http://safeguard.test/respond/").expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect::<String>()
        .replace("http://safeguard.test", "")
}

/// An email's plain text, decoded.
fn body(m: &support::smtp::Received) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("MIME parses");
    msg.body_text(0).map(|t| t.to_string()).unwrap_or_default()
}

/// The code in the newest email to the invitee.
fn code_from(app: &TestApp, sink: &SmtpSink) -> String {
    app.drain_outbox();
    let text = sink
        .messages()
        .iter()
        .rev()
        .map(body)
        .find(|t| t.contains("one-time code"))
        .expect("a code email");
    assert!(
        !text.contains("Alpha") && !text.contains("CSE-"),
        "the code email says nothing of the case: {text}"
    );
    let at = text.find("service is:").expect("the code") + "service is:".len();
    text[at..].trim_start().chars().take(6).collect()
}

on_both_backends! {
    fn a_second_browser_or_an_old_link_needs_a_code_sent_to_the_person_it_names(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let path = invited(&app, &sink);
        let own = Web::new(&app);
        let page = own.get(&path);
        assert!(page.status == 200 && page.body.contains("Invitee One"), "the first browser opens a new link: {}", page.body);

        // A second browser: the code page, and a code to the invitee's own address.
        let other = Web::new(&app);
        let asked = other.get(&path);
        assert_eq!(asked.status, 200);
        assert!(asked.body.contains("Type the code we emailed you") && asked.body.contains("on•••@partner.example"), "{}", asked.body);
        assert!(!asked.body.contains("Invitee One"), "nothing of the meeting before the code");
        let code = code_from(&app, &sink);
        // Answering without the code does nothing.
        let refused = other.post(&path, &[("answer", "declined"), ("reason", "On leave")]);
        assert!(refused.body.contains("Type the code"), "{}", refused.body);
        let token = Web::hidden(&asked.body, "token");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let a = other.post("/link-code/respond", &[("token", &token), ("code", wrong)]);
        assert_eq!(a.status, 400);
        assert!(a.body.contains("That code is not right"));
        let a = other.post("/link-code/respond", &[("token", &token), ("code", &code)]);
        assert_eq!((a.status, a.location.as_str()), (303, path.as_str()));
        assert!(other.get(&path).body.contains("Invitee One"), "open after the code");
        assert_eq!((security_events(&app, "link_code_sent"), security_events(&app, "link_code_failed")), (1, 1));

        // A day and an hour later, the first browser is asked too.
        app.clock.advance(chrono::Duration::hours(25));
        let asked = own.get(&path);
        assert!(asked.body.contains("Type the code we emailed you"), "{}", asked.body);
        let code = code_from(&app, &sink);
        let a = own.post("/link-code/respond", &[("token", &Web::hidden(&asked.body, "token")), ("code", &code)]);
        assert_eq!(a.status, 303);
        assert!(own.get(&path).body.contains("Invitee One"));
        // A code works once.
        let a = Web::new(&app).post("/link-code/respond", &[("token", &Web::hidden(&asked.body, "token")), ("code", &code)]);
        assert_eq!(a.status, 400);
    }
}

on_both_backends! {
    /// The link names its person, so the code page is in their language first.
    fn the_code_page_puts_the_invitees_own_language_first(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let case = app.create_case(&app.chair, child(), report_facts());
        let (s, b) = app.post(&app.chair, "/api/meetings", &json!({
            "kind": "strategy_meeting", "starts_at": "2026-12-03T10:00", "ends_at": "2026-12-03T11:00",
            "location": "Room 2", "cases": [case["id"]],
            "invitees": [{"name": "Invitee Cymraeg", "email": "cy@partner.example", "agency": "police-south-wales",
                          "role": "detective sergeant", "language": "cy"}]}));
        assert_eq!(s, 201, "{b}");
        app.drain_outbox();
        let text = body(sink.messages().last().expect("the invitation"));
        let start = text.find("http://safeguard.test/respond/").expect("a link");
        let path: String = text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<').collect();
        let path = path.replace("http://safeguard.test", "");
        let _first = Web::new(&app).get(&path);
        let asked = Web::new(&app).get(&path).body;
        assert!(asked.contains("<html lang=\"cy\""), "{asked}");
        let (welsh, english) = (asked.find("Teipiwch y cod a anfonwyd atoch"), asked.find("Type the code we emailed you"));
        assert!(matches!((welsh, english), (Some(w), Some(e)) if w < e), "Welsh first, English beside it: {asked}");
    }
}

on_both_backends! {
    fn codes_run_out_after_five_an_hour(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let path = invited(&app, &sink);
        Web::new(&app).get(&path);
        let stranger = Web::new(&app);
        for _ in 0..safeguard::domain::link_gate::CODES_PER_HOUR {
            let asked = stranger.get(&path);
            assert!(asked.body.contains("Type the code"), "{}", asked.body);
            let token = Web::hidden(&asked.body, "token");
            // Five wrong tries spend a code.
            for _ in 0..safeguard::domain::link_gate::CODE_TRIES {
                assert_eq!(stranger.post("/link-code/respond", &[("token", &token), ("code", "999999x")]).status, 400);
            }
        }
        let a = stranger.get(&path);
        assert_eq!(a.status, 429);
        assert!(a.body.contains("Too many codes"));
        assert_eq!(security_events(&app, "link_code_sent"), safeguard::domain::link_gate::CODES_PER_HOUR);
    }
}

on_both_backends! {
    fn a_council_may_turn_the_code_off(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[
            ("SAFEGUARD_SMTP_URL", sink.url()),
            ("SAFEGUARD_LINK_CODE_AFTER_HOURS", "0".into()),
            ("SAFEGUARD_LINK_CODE_SECOND_BROWSER", "off".into()),
        ]);
        let path = invited(&app, &sink);
        assert!(Web::new(&app).get(&path).body.contains("Invitee One"));
        assert!(Web::new(&app).get(&path).body.contains("Invitee One"), "a second browser opens it");
        app.clock.advance(chrono::Duration::days(3) - chrono::Duration::hours(3));
        assert!(Web::new(&app).get(&path).body.contains("Invitee One"), "an old link opens");
        assert_eq!(security_events(&app, "link_code_sent"), 0);
    }
}
