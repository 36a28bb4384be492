//! Correcting a child's details from the case page, over plain HTTP on both backends: a reason
//! is needed, a date that does not exist is explained at its field, the correction is in the
//! history with what it was, the age-18 dates move, and the age-18 track follows the corrected
//! date of birth.
mod support;

use safeguard::jobs::scheduler::run_now;
use safeguard::jobs::JobName;
use serde_json::json;
use support::web::{error_at_field, Web};
use support::*;

on_both_backends! {
    fn a_wrong_date_of_birth_is_corrected_with_a_reason_and_the_age_18_track_follows(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Five");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let url = format!("/cases/{reference}");
        let page = web.get(&url).body;
        assert!(page.contains("Tuesday 14 May 2030"), "turns 18 as first recorded");
        let csrf = Web::hidden(&page, "csrf");
        let version = Web::hidden(&page[page.find("action=\"/cases/").expect("a form")..], "expected_version");
        let form = |day: &str, reason: &str| vec![
            ("csrf", csrf.clone()), ("expected_version", version.clone()),
            ("name", "Test Child Alpha".to_string()), ("gender", "female".to_string()),
            ("date_of_birth-day", day.to_string()), ("date_of_birth-month", "2".to_string()),
            ("date_of_birth-year", "2009".to_string()), ("reason", reason.to_string()),
        ];
        let send = |v: Vec<(&str, String)>| {
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
            web.post(&format!("{url}/child"), &refs)
        };
        let reason = "The birth certificate seen at school shows 2009.";
        let refused = send(form("31", reason));
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Date of birth must be a real date, for example 27 3 2012.");
        assert!(refused.body.contains("value=\"31\"") && refused.body.contains(reason), "what was typed is kept");
        let refused = send(form("28", "typo"));
        assert_eq!(refused.status, 422);
        assert_eq!(error_at_field(&refused.body), "The reason must be at least 20 characters, so that it says why.");
        // Nothing was changed by either.
        assert!(web.get(&url).body.contains("Tuesday 14 May 2030"));

        let done = send(form("28", reason));
        assert_eq!((done.status, done.location.as_str()), (303, format!("{url}?done=child_corrected").as_str()), "{}", done.body);
        let page = web.get(&format!("{url}?done=child_corrected")).body;
        assert!(page.contains("The child’s details are corrected."), "{page}");
        assert!(page.contains("Saturday 28 February 2009") && page.contains("Sunday 28 February 2027"), "the age-18 date moves: {page}");
        let (_, history) = app.get(&chair.token, &format!("/api/cases/{reference}/history"));
        let entry = history["history"].as_array().expect("history").iter()
            .find(|e| e["kind"] == "child_corrected").cloned().expect("the correction is in the history");
        assert_eq!(entry["payload"]["before"]["date_of_birth"], "2012-05-14");
        assert_eq!(entry["payload"]["after"]["date_of_birth"], "2009-02-28");
        assert_eq!(entry["payload"]["reason"], reason);

        // The trail still agrees with the case: a correction is replayed like any other entry.
        {
            let svc = &app.service.state.services;
            let mut conn = app.conn();
            let report = safeguard::domain::audit_verify::verify(&mut conn, &svc.audit_key, &svc.engine, &svc.checkpoints)
                .expect("verify");
            assert_eq!(report.problems, Vec::<String>::new());
        }
        // Past 17 and a half now: the next run of the daily job starts the age-18 track.
        let outcome = run_now(&app.service.state, JobName::AgeTrigger).expect("runs").expect("claimed").outcome;
        assert_eq!(outcome, "1 age-18 tracks started; 0 cases reached 18");

        // A practitioner may read the case but not correct it.
        let practitioner = app.user("practitioner", "la-cardiff");
        let (s, b) = app.post(&practitioner, &format!("/api/cases/{reference}/child"), &json!({
            "expected_version": 99, "name": "Test Child Alpha", "date_of_birth": "2009-02-28", "gender": "female", "reason": reason}));
        assert!(s == 403 || s == 404, "{s} {b}");
    }
}
