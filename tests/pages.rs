//! The pages over plain HTTP, on SQLite and PostgreSQL: security headers, sign-in limits and
//! CSRF, the language remembered per person, a report form sent twice, and bad input. (The
//! browser test walks the pages as a person does; these pin the rules down.)
mod support;

use serde_json::json;
use support::web::Web;
use support::*;

on_both_backends! {
    fn every_response_carries_the_security_headers(app) {
        let web = Web::new(app);
        for path in ["/sign-in", "/healthz", "/api/cases", "/static/app.css", "/no-such-page"] {
            let a = web.get(path);
            let h = |k: &str| a.headers.get(k).cloned().unwrap_or_default();
            assert!(h("content-security-policy").contains("default-src 'none'") && h("content-security-policy").contains("frame-ancestors 'none'"), "{path}: {:?}", a.headers);
            assert_eq!(h("x-frame-options"), "DENY", "{path}");
            assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
            let cache = if path.starts_with("/static/") { "public, max-age=3600" } else { "no-store" };
            assert_eq!(h("cache-control"), cache, "{path}");
            // Reached over plain HTTP: no HSTS (the test beside this one sees it over HTTPS).
            assert_eq!(h("strict-transport-security"), "", "{path}");
        }
        // The session cookie cannot be read by script or sent from another site.
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let a = web.sign_in(&person.email, TEST_PASSWORD);
        assert_eq!((a.status, a.location.as_str()), (303, "/"));
        let set = a.headers.get("set-cookie").cloned().unwrap_or_default();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    }
}

on_both_backends_with! {
    [("SAFEGUARD_PUBLIC_URL", "https://safeguard.council.example")],
    fn hsts_is_sent_when_the_service_is_reached_over_https(app) {
        let a = Web::new(app).get("/sign-in");
        assert_eq!(a.headers.get("strict-transport-security").map(String::as_str), Some("max-age=31536000"));
        let api = Web::new(app).get("/api/cases");
        assert_eq!(api.headers.get("cache-control").map(String::as_str), Some("no-store"));
    }
}

on_both_backends! {
    fn sign_in_needs_its_form_token(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        // Without the form's token (another site posting the form): refused, and not counted
        // as an attempt (tests/access.rs has the rules for wrong passwords).
        for _ in 0..5 {
            let a = Web::new(app).post("/sign-in", &[("csrf", "x"), ("email", &person.email), ("password", "a wrong password")]);
            assert_eq!(a.status, 403);
        }
        assert_eq!(Web::new(app).sign_in(&person.email, TEST_PASSWORD).status, 303);
    }
}

on_both_backends! {
    fn the_language_is_remembered_for_the_person(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        assert!(web.get("/cases").body.contains("<html lang=\"en\""));
        let a = web.get("/language/cy?back=/cases");
        assert_eq!((a.status, a.location.as_str()), (303, "/cases"));
        let page = web.get("/cases").body;
        assert!(page.contains("<html lang=\"cy\"") && page.contains("Fy achosion"), "{page}");
        // Another browser, another day: still Welsh.
        let elsewhere = Web::new(app);
        elsewhere.sign_in(&person.email, TEST_PASSWORD);
        assert!(elsewhere.get("/cases").body.contains("Fy achosion"));
        // Never a way off the service.
        assert_eq!(web.get("/language/en?back=//evil.example").location, "/cases");
    }
}

fn report_form(
    csrf: &str,
    token: &str,
    name: &str,
    dob: &str,
    signs: &str,
) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.into()),
        ("form_token".into(), token.into()),
        ("child_name".into(), name.into()),
        (
            "date_of_birth-day".into(),
            dob.get(8..10).unwrap_or(dob).into(),
        ),
        (
            "date_of_birth-month".into(),
            dob.get(5..7).unwrap_or("").into(),
        ),
        (
            "date_of_birth-year".into(),
            dob.get(..4).unwrap_or("").into(),
        ),
        ("gender".into(), "female".into()),
        ("located_authority".into(), "la-cardiff".into()),
        ("residence_authority".into(), "la-cardiff".into()),
        ("fact:immediate_risk".into(), "no".into()),
    ];
    f.push(("fact:signs_material".into(), signs.into()));
    f
}

on_both_backends! {
    fn a_report_form_sent_twice_records_one_case_and_bad_input_is_named(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let page = web.get("/cases/new").body;
        let (csrf, token) = (Web::hidden(&page, "csrf"), Web::hidden(&page, "form_token"));
        let send = |f: Vec<(String, String)>| {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            web.post("/cases/new", &pairs)
        };
        // A date in the wrong format: refused, named, nothing recorded.
        let a = send(report_form(&csrf, &token, "Test Child Golf", "14/05/2012", "none observed"));
        assert_eq!(a.status, 400);
        assert!(a.body.contains("govuk-error-summary") && a.body.contains("date"), "{}", a.body);
        assert!(a.body.contains("value=\"Test Child Golf\""), "what was typed is kept");
        // Too long a text: refused and named.
        let long = "x".repeat(10_001);
        let a = send(report_form(&csrf, &token, "Test Child Golf", "2012-05-14", &long));
        assert_eq!(a.status, 400);
        assert!(a.body.contains("#f-report-signs_material"), "the error links to the field");
        // Script typed into a field is shown as text, never run.
        let a = send(report_form(&csrf, &token, "Test Child Golf", "2012-05-14", "<script>alert(1)</script>"));
        assert_eq!(a.status, 303, "{}", a.body);
        let first = a.location.clone();
        let case_page = web.get(&first).body;
        assert!(!case_page.contains("<script>alert(1)</script>"));
        // The same form again (a double click, a resend): no second case.
        let again = send(report_form(&csrf, &token, "Test Child Golf", "2012-05-14", "<script>alert(1)</script>"));
        assert_eq!((again.status, again.location.as_str()), (303, first.as_str()));
        let (_, list) = app.get(&person.token, "/api/cases");
        assert_eq!(list["cases"].as_array().map(Vec::len), Some(1), "{list}");
        // A whole form beyond the body limit.
        let huge = "y".repeat(70_000);
        let a = send(report_form(&csrf, &Web::hidden(&web.get("/cases/new").body, "form_token"), "Test Child Golf", "2012-05-14", &huge));
        assert_eq!(a.status, 413);
    }
}

on_both_backends! {
    fn every_problem_with_a_report_is_shown_at_once_in_the_summary_and_at_its_field(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair Person Nine");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let page = web.get("/cases/new").body;
        let (csrf, token) = (Web::hidden(&page, "csrf"), Web::hidden(&page, "form_token"));
        // No name, no gender, no authorities, a date of birth that does not exist, and an
        // answer no question offers.
        let sent = web.post("/cases/new", &[
            ("csrf", csrf.as_str()), ("form_token", token.as_str()),
            ("child_name", ""), ("gender", ""),
            ("date_of_birth-day", "31"), ("date_of_birth-month", "2"), ("date_of_birth-year", "2013"),
            ("located_authority", ""), ("residence_authority", ""),
            ("fact:immediate_risk", "perhaps"), ("fact:signs_material", "A new phone from an older friend"),
        ]);
        assert!((400..500).contains(&sent.status), "{}", sent.body);
        let summary_start = sent.body.find("govuk-error-summary__list").expect("an error summary");
        let summary = &sent.body[summary_start..sent.body[summary_start..].find("</ul>").map_or(sent.body.len(), |e| summary_start + e)];
        let links: Vec<&str> = summary.match_indices("href=\"#").map(|(i, _)| {
            let rest = &summary[i + 7..];
            &rest[..rest.find('"').unwrap_or(0)]
        }).collect();
        assert_eq!(links, vec!["date_of_birth", "f-report-immediate_risk", "child_name", "gender", "located_authority", "residence_authority"],
            "each problem once, linked to its field: {summary}");
        // Each is shown at its field too, in plain words.
        let at_fields = sent.body.matches("class=\"govuk-error-message\"").count();
        assert_eq!(at_fields, links.len(), "{}", sent.body);
        assert!(sent.body.contains("Date of birth must be a real date, for example 27 3 2012"), "{summary}");
        assert!(!summary.contains("child.") && !summary.contains("GET /api"), "no developer strings: {summary}");
        assert!(sent.body.contains("A new phone from an older friend"), "what was typed is kept");
        let (_, list) = app.get(&person.token, "/api/cases");
        assert_eq!(list["cases"].as_array().map(Vec::len), Some(0), "nothing is recorded");
    }
}

on_both_backends! {
    fn a_step_shows_an_answer_it_cannot_read_and_everything_else_it_needs_at_once(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair Person Ten");
        let case = app.create_case(&person.token, child(), report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        let reference = case["reference"].as_str().expect("reference").to_string();
        let (s, b) = app.event(&person.token, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let page = web.get(&format!("/cases/{reference}")).body;
        let csrf = Web::hidden(&page, "csrf");
        let version = Web::hidden(&page[page.find("name=\"expected_version\"").map_or(0, |i| i.saturating_sub(200))..], "expected_version");
        // The strategy discussion with a date that does not exist, and nothing else answered.
        let sent = web.post(&format!("/cases/{reference}/events"), &[
            ("csrf", csrf.as_str()), ("event", "convene_strategy_meeting"), ("workflow", "cse-strategy"),
            ("expected_version", version.as_str()),
            ("fact:discussion_held_at-day", "31"), ("fact:discussion_held_at-month", "2"),
            ("fact:discussion_held_at-year", "2026"), ("fact:discussion_held_at-time", "09:30"),
        ]);
        assert_eq!(sent.status, 422, "{}", sent.body);
        let start = sent.body.find("govuk-error-summary__list").expect("an error summary");
        let summary = &sent.body[start..start + sent.body[start..].find("</ul>").expect("end")];
        let links: Vec<&str> = summary.match_indices("href=\"#").map(|(i, _)| {
            let rest = &summary[i + 7..];
            &rest[..rest.find('"').unwrap_or(0)]
        }).collect();
        // The date first, then every other answer the step needs, each once; not "record when
        // the discussion took place" as well, since it was typed.
        assert_eq!(links.first().copied(), Some("f-convene_strategy_meeting-discussion_held_at"), "{summary}");
        assert!(summary.contains("must be a real date"), "{summary}");
        for needed in ["youth_justice_involved", "information_shared"] {
            assert!(links.contains(&format!("f-convene_strategy_meeting-{needed}").as_str()), "{needed}: {summary}");
        }
        assert!(!summary.contains("Record when the strategy discussion took place"), "{summary}");
        // And each at its question.
        let at_fields = sent.body.matches("class=\"govuk-error-message\"").count();
        assert!(at_fields >= 3, "{at_fields} messages at fields: {}", sent.body);
        assert!(support::web::error_at_field(&sent.body).contains("must be a real date"), "the date's message at the date");
        assert_eq!(app.state_of(&person.token, &id, "cse-strategy"), "strategy_discussion", "nothing recorded");
    }
}

on_both_backends! {
    fn a_meeting_form_sent_twice_convenes_one_meeting(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let case = app.create_case(&person.token, child(), report_facts());
        let reference = case["reference"].as_str().expect("reference").to_string();
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let page = web.get(&format!("/cases/{reference}/meetings/new")).body;
        let (csrf, token) = (Web::hidden(&page, "csrf"), Web::hidden(&page, "form_token"));
        let form = [
            ("csrf", csrf.as_str()), ("form_token", token.as_str()), ("kind", "strategy_meeting"),
            ("date-day", "26"), ("date-month", "11"), ("date-year", "2026"),
            ("starts_time", "10:00"), ("ends_time", "11:00"), ("location", "Room 2"),
            ("inv:0:include", "on"), ("inv:0:name", "Partner Worker"), ("inv:0:email", "partner@partner.example"),
            ("inv:0:agency", "police-south-wales"), ("inv:0:role", "detective constable"),
        ];
        let path = format!("/cases/{reference}/meetings");
        let first = web.post(&path, &form);
        assert_eq!((first.status, first.location.clone()), (303, format!("/cases/{reference}?done=meeting_convened")), "{}", first.body);
        let again = web.post(&path, &form);
        assert_eq!(again.status, 303);
        let mut conn = app.conn();
        use diesel::prelude::*;
        let meetings: i64 = safeguard::storage::schema::meetings::table.count().get_result(&mut conn).expect("count");
        assert_eq!(meetings, 1, "one meeting, one set of invitations");
    }
}

on_both_backends! {
    fn a_password_reset_ends_the_sessions_and_links_come_back_after_sign_in(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        assert_eq!(web.get("/cases").status, 200);
        {
            let mut conn = app.conn();
            safeguard::domain::user::set_password(&mut conn, &person.email, "a brand new passphrase").expect("reset");
        }
        let a = web.get("/dashboard?from=2026-11-01");
        assert_eq!((a.status, a.location.as_str()), (303, "/sign-in?next=/dashboard%3Ffrom%3D2026-11-01"), "the old session is over");
        // Signing in from that page goes back where the link pointed.
        let page = web.get(&a.location).body;
        let csrf = Web::hidden(&page, "csrf");
        let next = Web::hidden(&page, "next");
        let signed = web.post("/sign-in", &[("csrf", &csrf), ("email", &person.email), ("password", "a brand new passphrase"), ("next", &next)]);
        assert_eq!((signed.status, signed.location.as_str()), (303, "/dashboard?from=2026-11-01"));
    }
}

on_both_backends! {
    fn my_cases_puts_the_most_urgent_first_and_filters_and_the_dashboard_period_is_chosen(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let mut first = child();
        first["name"] = json!("Test Child Early");
        let early = app.create_case(&person.token, first, report_facts());
        // Two days on, the first case's decision is overdue; two more cases come in.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 10, 0, 0).single().expect("time"));
        let mut second = child();
        second["name"] = json!("Test Child Waiting");
        let waiting = app.create_case(&person.token, second, report_facts());
        let mut third = child();
        third["name"] = json!("Test Child Moved");
        let moved = app.create_case(&person.token, third, report_facts());
        let (s, b) = app.event(&person.token, moved["id"].as_str().expect("id"), json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let order = |path: &str| -> Vec<String> {
            let page = web.get(path).body;
            ["Test Child Early", "Test Child Waiting", "Test Child Moved"].iter()
                .filter_map(|n| page.find(n).map(|i| (i, n.to_string())))
                .collect::<std::collections::BTreeMap<_, _>>().into_values().collect()
        };
        // Overdue first, then the nearest deadline (Monday's decision before the discussion's).
        let all = order("/cases");
        assert_eq!(all[0], "Test Child Early", "{all:?}");
        assert_eq!(all.len(), 3);
        let page = web.get("/cases").body;
        assert!(page.contains("<td class=\"govuk-table__cell\">14</td>"), "the child's age is shown");
        assert_eq!(order("/cases?step=report_received"), vec!["Test Child Early", "Test Child Waiting"]);
        assert_eq!(order("/cases?overdue=yes"), vec!["Test Child Early"]);
        assert_eq!(order("/cases?step=no_such_step"), all, "an unknown step filters nothing");
        let none = web.get("/cases?overdue=yes&step=strategy_discussion").body;
        assert!(none.contains("No case you may open matches that search."), "{none}");
        let _ = (early, waiting);

        // The dashboard's period is chosen on the page; a mistyped date is named at its field.
        let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
        let lead_web = Web::new(app);
        lead_web.sign_in(&lead.email, TEST_PASSWORD);
        let chosen = lead_web.get("/dashboard?from=2026-11-01&to=2026-11-30").body;
        assert!(chosen.contains("2026-11-01 – 2026-11-30") && chosen.contains("value=\"2026-11-01\""), "{chosen}");
        let wrong = lead_web.get("/dashboard?from=1+November&to=");
        assert_eq!(wrong.status, 400);
        assert!(wrong.body.contains("govuk-error-summary") && wrong.body.contains("href=\"#period-from\"") && wrong.body.contains("value=\"1 November\""), "{}", wrong.body);
    }
}
