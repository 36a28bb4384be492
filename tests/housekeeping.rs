//! The nightly housekeeping, on both backends: a month on, ended sessions, old form tokens,
//! failed sign-ins, superseded successful ones and the bodies and `.eml` files of email sent
//! long ago are gone; the person's newest sign-in from their address, the record of each email
//! (who, what kind, when) and every case with its audit trail are kept.
mod support;

use diesel::prelude::*;
use safeguard::jobs::scheduler::run_now;
use safeguard::jobs::JobName;
use support::web::Web;
use support::*;

on_both_backends! {
    fn a_month_on_what_only_helped_the_service_work_is_gone_and_the_record_is_kept(app) {
        use safeguard::storage::schema::{form_submissions, outbox, sign_in_attempts, web_sessions};
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Eleven");
        let web = Web::new(app);
        // A wrong password, then two sign-ins from the same address, and a form sent.
        assert_ne!(web.sign_in(&chair.email, "not the password at all").status, 303);
        assert_eq!(web.sign_in(&chair.email, TEST_PASSWORD).status, 303);
        let again = Web::new(app);
        assert_eq!(again.sign_in(&chair.email, TEST_PASSWORD).status, 303);
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        for body in [serde_json::json!({"event": "accept_report"}), serde_json::json!({"event": "convene_strategy_meeting", "facts": discussion_facts()})] {
            let (s, b) = app.event(&chair.token, &reference, body);
            assert_eq!(s, 200, "{b}");
        }
        let page = web.get(&format!("/cases/{reference}/meetings/new")).body;
        let form = [
            ("csrf", Web::hidden(&page, "csrf")), ("form_token", Web::hidden(&page, "form_token")),
            ("kind", "strategy_meeting".into()),
            ("date-day", "27".into()), ("date-month", "11".into()), ("date-year", "2026".into()),
            ("starts_time", "10:00".into()), ("ends_time", "11:00".into()), ("location", "Room 2".into()),
            ("inv:0:include", "on".into()), ("inv:0:name", "Officer Sample".into()),
            ("inv:0:email", "officer.sample@police.example".into()), ("inv:0:agency", "police-south-wales".into()),
            ("inv:0:role", "detective constable".into()),
        ];
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let sent = web.post(&format!("/cases/{reference}/meetings"), &pairs);
        assert_eq!(sent.status, 303, "{}", sent.body);
        let delivered = app.drain_outbox();
        assert!(delivered.sent >= 1, "{delivered:?}");
        let files = || std::fs::read_dir(app.data_dir().join("outbox")).map(|d| d.count()).unwrap_or(0);
        assert!(files() >= 1, "the invitation was written as a file");
        let (sessions, tokens, attempts): (i64, i64, i64) = {
            let mut c = app.conn();
            (
                web_sessions::table.count().get_result(&mut *c).expect("sessions"),
                form_submissions::table.count().get_result(&mut *c).expect("tokens"),
                sign_in_attempts::table.count().get_result(&mut *c).expect("attempts"),
            )
        };
        assert!(sessions >= 2 && tokens >= 1 && attempts >= 3, "{sessions} {tokens} {attempts}");

        // The next night changes nothing that is still of use.
        let first = run_now(&app.service.state, JobName::Housekeeping).expect("runs").expect("claimed").outcome;
        assert!(first.starts_with("deleted 0 ended sessions, 0 form tokens, 0 old sign-in attempts"), "{first}");
        assert_eq!(web.get("/cases").status, 200, "still signed in");

        // A month and a day on. The `.eml` files are judged by when the machine wrote them:
        // they are made forty days old.
        app.clock.set(app.clock_now() + chrono::Duration::days(31));
        let forty_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
        let written = files();
        for entry in std::fs::read_dir(app.data_dir().join("outbox")).expect("outbox dir").flatten() {
            std::fs::File::options().write(true).open(entry.path()).expect("open")
                .set_modified(forty_days_ago).expect("age the file");
        }
        let outcome = run_now(&app.service.state, JobName::Housekeeping).expect("runs").expect("claimed").outcome;
        assert!(outcome.contains(&format!("deleted {sessions} ended sessions, {tokens} form tokens, 2 old sign-in attempts")), "{outcome}");
        assert!(outcome.ends_with(&format!("{written} email files")), "{outcome}");
        assert_eq!(files(), 0, "the email files are gone");
        assert!(web.get("/cases").location.starts_with("/sign-in"), "the ended session is gone");
        let mut c = app.conn();
        let kept: Vec<bool> = sign_in_attempts::table.select(sign_in_attempts::succeeded).load(&mut *c).expect("attempts");
        assert_eq!(kept, vec![true], "the newest sign-in from the address is kept");
        let mail: Vec<(String, String, String, String)> = outbox::table
            .select((outbox::recipient, outbox::kind, outbox::status, outbox::raw))
            .load(&mut *c)
            .expect("outbox");
        let invitation = mail.iter().find(|(to, kind, _, _)| to == "officer.sample@police.example" && kind == "invitation");
        assert!(invitation.is_some_and(|(_, _, status, raw)| status == "sent" && raw.is_empty()),
            "the record of the email stays, without its body: {invitation:?}");
        assert!(mail.iter().filter(|m| m.2 == "sent").all(|m| m.3.is_empty()), "no sent body is kept");
        assert!(mail.iter().filter(|m| m.2 != "sent").all(|m| !m.3.is_empty()), "what is still to be sent keeps its body");
        drop(c);
        let (_, case) = app.get(&chair.token, &format!("/api/cases/{reference}"));
        assert_eq!(case["reference"], reference.as_str(), "the case is kept");
        let svc = &app.service.state.services;
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints)
            .expect("verify");
        assert_eq!(report.problems, Vec::<String>::new(), "the audit trail is whole");
    }
}
