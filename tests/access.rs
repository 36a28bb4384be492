//! Access that an attacker cannot turn against a chair, and that can be withdrawn: sign-in held
//! back per account and address, `X-Forwarded-For` believed only from trusted proxies, sessions
//! that end, tokens that expire and can be revoked, involvements taken off, need to know inside
//! an authority (teams, restricted cases, break-glass). On SQLite and PostgreSQL.
mod support;

use diesel::prelude::*;
use serde_json::{json, Value};
use support::web::Web;
use support::*;

use safeguard::storage::schema::{outbox, security_events};

fn events(app: &TestApp, kind: &str, account: &str) -> i64 {
    security_events::table
        .filter(security_events::kind.eq(kind))
        .filter(security_events::account.eq(account))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

fn verify_clean(app: &TestApp) {
    let svc = &app.service.state.services;
    let report = safeguard::domain::audit_verify::verify(
        &mut app.conn(),
        &svc.audit_key,
        &svc.engine,
        &svc.checkpoints,
    )
    .expect("verify");
    assert_eq!(report.problems, Vec::<String>::new());
    assert!(
        report.security_events > 0,
        "the security events were checked"
    );
}

on_both_backends_with! {
    [("SAFEGUARD_TRUSTED_PROXIES", "127.0.0.1")],
    fn wrong_passwords_hold_back_one_account_from_one_address_with_growing_waits(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let attacker = Web::forwarded_for(app, "203.0.113.66");
        for _ in 0..3 {
            assert_eq!(attacker.sign_in(&chair.email, "a wrong password").status, 401);
        }
        // The fourth try waits 30 seconds, even with the right password.
        let a = attacker.sign_in(&chair.email, TEST_PASSWORD);
        assert_eq!(a.status, 429);
        assert_eq!(a.headers.get("retry-after").map(String::as_str), Some("30"));
        assert!(a.body.contains("You can try again at 10:00"), "{}", a.body);
        // The chair, at their own desk behind the same proxy, signs in at once.
        let own = Web::forwarded_for(app, "198.51.100.10");
        assert_eq!(own.sign_in(&chair.email, TEST_PASSWORD).status, 303);
        // Each further failure doubles the wait: 60 seconds, then 120.
        for wait in [60, 120] {
            app.clock.advance(chrono::Duration::seconds(wait / 2 + 1));
            assert_eq!(attacker.sign_in(&chair.email, "a wrong password").status, 401);
            let a = attacker.sign_in(&chair.email, "a wrong password");
            assert_eq!((a.status, a.headers.get("retry-after").cloned()), (429, Some(wait.to_string())));
        }
        // Welsh readers are told in Welsh.
        let cy = Web::forwarded_for(app, "203.0.113.66");
        cy.get("/language/cy?back=/sign-in");
        assert!(cy.sign_in(&chair.email, "a wrong password").body.contains("Gallwch roi cynnig arall arni am"));

        // Every failure and every hold is a security event, keyed like the access log.
        assert_eq!(events(app, "sign_in_failed", &chair.email), 5);
        assert_eq!(events(app, "sign_in_held_back", &chair.email), 3, "one event per hold, not per refused request");
        assert_eq!(events(app, "signed_in", &chair.email), 1);

        // An address trying account after account is held back for accounts not at home there;
        // someone who signed in from that address before carries on.
        let office = "203.0.113.9";
        let colleague = app.person("practitioner", "la-cardiff", "Test team", "Practitioner One");
        assert_eq!(Web::forwarded_for(app, office).sign_in(&colleague.email, TEST_PASSWORD).status, 303);
        let spray = Web::forwarded_for(app, office);
        for i in 0..safeguard::domain::sign_in::SPRAY_FAILURES {
            assert_eq!(spray.sign_in(&format!("nobody{i}@example.invalid"), "password1").status, 401);
        }
        assert_eq!(spray.sign_in(&chair.email, TEST_PASSWORD).status, 429, "not at home at this address");
        assert_eq!(Web::forwarded_for(app, office).sign_in(&colleague.email, TEST_PASSWORD).status, 303, "at home here");
        verify_clean(app);
    }
}

on_both_backends! {
    fn a_forwarded_for_header_from_an_untrusted_peer_is_not_believed(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let attacker = Web::forwarded_for(app, "203.0.113.66");
        for _ in 0..3 {
            assert_eq!(attacker.sign_in(&chair.email, "a wrong password").status, 401);
        }
        // Claiming another address does not escape the hold: no proxy is trusted here, so the
        // address is the connection's own.
        let pretending = Web::forwarded_for(app, "198.51.100.10");
        assert_eq!(pretending.sign_in(&chair.email, TEST_PASSWORD).status, 429);
        let recorded: Vec<Option<String>> = security_events::table
            .filter(security_events::kind.eq("sign_in_failed"))
            .select(security_events::address)
            .load(&mut app.conn())
            .expect("addresses");
        assert_eq!(recorded, vec![Some("127.0.0.1".to_string()); 3]);
    }
}

on_both_backends! {
    fn sessions_end_when_idle_at_the_end_of_the_day_beyond_five_and_everywhere_at_once(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(app);
        assert_eq!(web.sign_in(&chair.email, TEST_PASSWORD).status, 303);
        // Used every 29 minutes, it stays open; left for 31, it ends.
        for _ in 0..2 {
            app.clock.advance(chrono::Duration::minutes(29));
            assert_eq!(web.get("/cases").status, 200);
        }
        app.clock.advance(chrono::Duration::minutes(31));
        assert!(web.get("/cases").location.starts_with("/sign-in"), "idle for 31 minutes");

        // However busy, a session ends 10 hours after signing in.
        assert_eq!(web.sign_in(&chair.email, TEST_PASSWORD).status, 303);
        for i in 0..23 {
            app.clock.advance(chrono::Duration::minutes(25));
            assert_eq!(web.get("/cases").status, 200, "after {} minutes", (i + 1) * 25);
        }
        app.clock.advance(chrono::Duration::minutes(26));
        assert!(web.get("/cases").location.starts_with("/sign-in"), "10 hours and 1 minute after signing in");

        // A sixth browser ends the oldest session.
        let browsers: Vec<Web> = (0..6).map(|_| Web::new(app)).collect();
        for b in &browsers {
            assert_eq!(b.sign_in(&chair.email, TEST_PASSWORD).status, 303);
            app.clock.advance(chrono::Duration::seconds(1));
        }
        assert!(browsers[0].get("/cases").location.starts_with("/sign-in"), "the oldest ended");
        for b in &browsers[1..] {
            assert_eq!(b.get("/cases").status, 200);
        }
        assert_eq!(events(app, "session_ended", &chair.email), 1);
        let account = browsers[1].get("/account");
        assert!(account.body.contains("Sessions open now: 5"), "{}", account.body);

        // Sign out everywhere, from one of them: all five end.
        let csrf = Web::hidden(&account.body, "csrf");
        let a = browsers[1].post("/sign-out-everywhere", &[("csrf", &csrf)]);
        assert_eq!((a.status, a.location.as_str()), (303, "/sign-in"));
        for b in &browsers[1..] {
            assert!(b.get("/cases").location.starts_with("/sign-in"));
        }
        assert_eq!(events(app, "signed_out_everywhere", &chair.email), 1);
    }
}

on_both_backends! {
    fn tokens_expire_and_an_administrator_revokes_one_at_once(app) {
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        assert_eq!(app.get(&chair.token, "/api/me").0, 200);
        // 90 days on, the first token has expired.
        app.clock.advance(chrono::Duration::days(91));
        assert_eq!(app.get(&chair.token, "/api/me").0, 401);
        let admin = app.renewed(admin);
        let chair = app.renewed(chair);
        assert_eq!(app.get(&chair.token, "/api/me").0, 200);

        // The administrator sees every working token (not the expired ones) and revokes one.
        let (s, list) = app.get(&admin.token, "/api/admin/tokens");
        assert_eq!(s, 200, "{list}");
        let mine: Vec<&Value> = list["tokens"].as_array().expect("tokens").iter().filter(|t| t["email"] == chair.email.as_str()).collect();
        assert_eq!(mine.len(), 1, "the expired first token is not listed: {list}");
        assert_eq!(mine[0]["label"], "renewed in a test");
        assert!(mine[0]["last_used_at"].is_string(), "last use is shown");
        assert_eq!(app.get(&chair.token, "/api/admin/tokens").0, 403, "only administrators");
        let id = mine[0]["id"].as_str().expect("id").to_string();
        let (s, b) = app.post(&admin.token, &format!("/api/admin/tokens/{id}/revoke"), &json!({}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.get(&chair.token, "/api/me").0, 401, "revoked at once");
        assert_eq!(events(app, "token_revoked", &chair.email), 1);

        // And on the administration page.
        let chair = app.renewed(chair);
        let web = Web::new(app);
        web.sign_in(&admin.email, TEST_PASSWORD);
        let page = web.get("/admin");
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&chair.email), "{}", page.body);
        let marker = "/admin/tokens/";
        let from = page.body.find(&chair.email).expect("the chair's row");
        let action_at = page.body[from..].find(marker).expect("a revoke form") + from;
        let token_id: String = page.body[action_at + marker.len()..].chars().take_while(|c| *c != '/').collect();
        let a = web.post(&format!("/admin/tokens/{token_id}/revoke"), &[("csrf", &Web::hidden(&page.body, "csrf"))]);
        assert_eq!((a.status, a.location.as_str()), (303, "/admin"));
        assert_eq!(app.get(&chair.token, "/api/me").0, 401);
        // A chair is not shown the page.
        let chair_web = Web::new(app);
        chair_web.sign_in(&chair.email, TEST_PASSWORD);
        assert_eq!(chair_web.get("/admin").status, 403);
    }
}

fn version_of(app: &TestApp, token: &str, case: &str) -> i64 {
    app.get(token, &format!("/api/cases/{case}")).1["version"]
        .as_i64()
        .expect("version")
}

on_both_backends! {
    fn only_the_childs_authority_involves_others_and_an_involvement_can_be_taken_off(app) {
        let cardiff = app.person("chair", "la-cardiff", "Test team", "Chair Cardiff");
        let swansea = app.person("chair", "la-swansea", "Swansea team", "Chair Swansea");
        let other = app.person("practitioner", "la-swansea", "Swansea team", "Practitioner Swansea");
        let case = app.create_case(&cardiff.token, child(), report_facts())["id"].as_str().expect("id").to_string();
        assert_eq!(app.get(&swansea.token, &format!("/api/cases/{case}")).0, 404);
        let (s, b) = app.post(&cardiff.token, &format!("/api/cases/{case}/involvements"), &json!({
            "expected_version": version_of(app, &cardiff.token, &case), "agency": "la-swansea", "role": "chair", "user_email": swansea.email}));
        assert_eq!(s, 201, "{b}");
        assert_eq!(app.get(&swansea.token, &format!("/api/cases/{case}")).0, 200);
        // Involved from elsewhere, Swansea may not pass the case on, nor take anyone off.
        let (s, b) = app.post(&swansea.token, &format!("/api/cases/{case}/involvements"), &json!({
            "expected_version": version_of(app, &swansea.token, &case), "agency": "la-swansea", "role": "practitioner", "user_email": other.email}));
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
        assert_eq!(app.get(&other.token, &format!("/api/cases/{case}")).0, 404);
        let involvement: String = {
            use safeguard::storage::schema::case_involvements;
            case_involvements::table.filter(case_involvements::user_id.eq(&swansea.id)).select(case_involvements::id).get_result(&mut app.conn()).expect("involvement")
        };
        let remove = format!("/api/cases/{case}/involvements/{involvement}/remove");
        let reason = "The child has moved back to Cardiff; Swansea no longer needs to know.";
        let (s, _) = app.post(&swansea.token, &remove, &json!({"expected_version": version_of(app, &swansea.token, &case), "rationale": reason}));
        assert_eq!(s, 403);
        let (s, b) = app.post(&cardiff.token, &remove, &json!({"expected_version": version_of(app, &cardiff.token, &case), "rationale": "too short"}));
        assert_eq!((s, b["field"].as_str()), (422, Some("rationale")), "{b}");
        let (s, b) = app.post(&cardiff.token, &remove, &json!({"expected_version": version_of(app, &cardiff.token, &case), "rationale": reason}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.get(&swansea.token, &format!("/api/cases/{case}")).0, 404, "access withdrawn");
        let (_, h) = app.get(&cardiff.token, &format!("/api/cases/{case}/history"));
        let removed = h["history"].as_array().expect("history").iter().find(|e| e["kind"] == "involvement_removed").cloned().expect("audited");
        assert_eq!(removed["payload"]["rationale"], reason);
        assert_eq!(removed["payload"]["user_id"], swansea.id.as_str());
        verify_clean_cases(app);
    }
}

fn verify_clean_cases(app: &TestApp) {
    let svc = &app.service.state.services;
    let report = safeguard::domain::audit_verify::verify(
        &mut app.conn(),
        &svc.audit_key,
        &svc.engine,
        &svc.checkpoints,
    )
    .expect("verify");
    assert_eq!(report.problems, Vec::<String>::new());
}

fn listed(app: &TestApp, token: &str, reference: &str) -> bool {
    let (_, list) = app.get(token, "/api/cases");
    list["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .any(|c| c["reference"] == reference)
}

on_both_backends! {
    fn a_case_opens_to_its_team_a_restricted_one_to_the_people_named_and_break_glass_is_reported(app) {
        let north = app.person("chair", "la-cardiff", "Team North", "Chair North");
        let south = app.person("chair", "la-cardiff", "Team South", "Chair South");
        let lead = app.person("team_lead", "la-cardiff", "Team North", "Lead North");
        let other_lead = app.person("team_lead", "la-cardiff", "Team South", "Lead South");
        let manager = app.person("senior_manager", "la-cardiff", "Children's services", "Manager One");
        let swansea = app.person("chair", "la-swansea", "Swansea team", "Chair Swansea");
        let created = app.create_case(&north.token, child(), report_facts());
        let (case, reference) = (created["id"].as_str().expect("id").to_string(), created["reference"].as_str().expect("ref").to_string());
        let get = |p: &Person| app.get(&p.token, &format!("/api/cases/{case}")).0;

        // Its team, and the authority's team leads and senior managers; not another team.
        assert_eq!((get(&north), get(&lead), get(&other_lead), get(&manager)), (200, 200, 200, 200));
        assert_eq!(get(&south), 404);
        assert!(!listed(app, &south.token, &reference) && listed(app, &north.token, &reference));

        // A team lead gives it to Team South.
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{case}/team"), &json!({"expected_version": version_of(app, &lead.token, &case), "team": "Team South"}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(get(&south), 200);
        assert_eq!(app.post(&south.token, &format!("/api/cases/{case}/team"), &json!({"expected_version": version_of(app, &south.token, &case), "team": "Team North"})).0, 403, "a chair may not");

        // Restricted: only the people named. The team lead who restricts it is named first.
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{case}/restriction"), &json!({
            "expected_version": version_of(app, &lead.token, &case), "restricted": true,
            "rationale": "The child is the relative of a member of the Team South staff."}));
        assert_eq!(s, 200, "{b}");
        assert_eq!((get(&lead), get(&south), get(&north), get(&other_lead), get(&manager)), (200, 404, 404, 404, 404));
        assert!(!listed(app, &other_lead.token, &reference));
        let (_, dashboard) = app.get(&other_lead.token, "/api/dashboard");
        assert!(!dashboard.to_string().contains(&reference), "not in another team lead's dashboard: {dashboard}");
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{case}/named"), &json!({"expected_version": version_of(app, &lead.token, &case), "user_email": north.email, "named": true}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(get(&north), 200);

        // Break-glass: Chair South, with a reason, for the configured hours.
        let (s, b) = app.post(&south.token, "/api/break-glass", &json!({"reference": reference, "reason": "short"}));
        assert_eq!((s, b["field"].as_str()), (422, Some("reason")));
        let reason = "Police call at 02:00: the child is missing and the duty worker needs the safety plan.";
        let (s, b) = app.post(&south.token, "/api/break-glass", &json!({"reference": reference, "reason": reason}));
        assert_eq!(s, 201, "{b}");
        assert_eq!(get(&south), 200);
        let (_, h) = app.get(&lead.token, &format!("/api/cases/{case}/history"));
        let glass = h["history"].as_array().expect("history").iter().find(|e| e["kind"] == "break_glass").cloned().expect("in the history");
        assert_eq!((glass["payload"]["reason"].as_str(), glass["actor_id"].as_str()), (Some(reason), Some(south.id.as_str())));
        // The team leads named on the restricted case are told, by reference only.
        let told: Vec<(String, String)> = outbox::table.filter(outbox::kind.eq("break_glass")).select((outbox::recipient, outbox::raw)).load(&mut app.conn()).expect("outbox");
        assert_eq!(told.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(), vec![lead.email.as_str()], "not Lead South, who is not named");
        // Searched in the decoded text, where a phrase cannot hide behind a soft line break.
        let parsed = mail_parser::MessageParser::default().parse(told[0].1.as_bytes()).expect("MIME parses");
        let text = parsed.body_text(0).map(|t| t.to_string()).unwrap_or_default();
        assert!(text.contains(&reference), "{text}");
        assert!(!text.contains("Alpha") && !text.contains("safety plan"), "no name and no reason in the email: {text}");
        // The positive control: the same search finds both where they are kept.
        let (_, kept) = app.get(&lead.token, &format!("/api/cases/{case}"));
        assert!(kept.to_string().contains("Alpha") && glass["payload"]["reason"].as_str().is_some_and(|r| r.contains("safety plan")));
        // Another authority's case, or none, answers the same.
        let swansea_case = app.create_case(&swansea.token, json!({"name": "Test Child Bravo", "date_of_birth": "2012-05-14", "gender": "female", "located_authority": "la-swansea", "residence_authority": "la-swansea"}), report_facts());
        let (s1, b1) = app.post(&south.token, "/api/break-glass", &json!({"reference": swansea_case["reference"], "reason": reason}));
        let (s2, b2) = app.post(&south.token, "/api/break-glass", &json!({"reference": "CSE-2026-999999", "reason": reason}));
        assert_eq!((s1, &b1), (s2, &b2));
        assert_eq!(s1, 404);
        // Eight hours later the glass closes again.
        app.clock.advance(chrono::Duration::hours(8) + chrono::Duration::minutes(1));
        assert_eq!(get(&south), 404);
        verify_clean_cases(app);
    }
}
