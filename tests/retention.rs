//! Records kept and destroyed by rule: closed cases past their retention period are listed for
//! an administrator by reference and dates; one is approved and then destroyed by the owner's
//! command with its tombstone; a legal hold keeps another; a looked-after child's record is
//! kept to the 75th anniversary of birth. On SQLite and PostgreSQL.
mod support;

use serde_json::{json, Value};
use support::web::Web;
use support::*;

/// A case recorded and closed at once (not a child at risk); returns its reference.
fn closed_case(app: &TestApp, child: Value) -> String {
    let case = app.create_case(&app.chair, child, report_facts());
    let id = case["id"].as_str().expect("id");
    let (s, b) = app.event(&app.chair, id, json!({"event": "decline_report",
        "rationale": "Not a child at risk: the concern was about a different family.",
        "facts": {"preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the family support service"}}));
    assert_eq!(s, 200, "{b}");
    case["reference"].as_str().expect("reference").to_string()
}

fn csrf(page: &str) -> String {
    Web::hidden(page, "csrf")
}

on_both_backends! {
    fn closed_cases_are_destroyed_by_rule_unless_held(app) {
        let plain = closed_case(app, child());
        let held = closed_case(app, child());
        let looked_after = closed_case(app, merge(child(), json!({"looked_after": true})));
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");

        // Nothing is due yet.
        let web = Web::new(app);
        web.sign_in(&admin.email, TEST_PASSWORD);
        let page = web.get("/admin/retention");
        assert_eq!(page.status, 200);
        assert!(page.body.contains("No closed case is past its retention period."), "{}", page.body);

        // 36 years on, the two ordinary cases are past 35 years from closure; the looked-after
        // child's record is kept until the 75th anniversary of birth (2087).
        app.clock.advance(chrono::Duration::days(36 * 366));
        let admin = app.renewed(admin);
        let web = Web::new(app);
        web.sign_in(&admin.email, TEST_PASSWORD);
        let page = web.get("/admin/retention");
        assert!(page.body.contains(&plain) && page.body.contains(&held), "{}", page.body);
        assert!(!page.body.contains(&looked_after), "kept to 75: {}", page.body);
        assert!(page.body.contains("Child protection records: 35 years after the case closed"));
        assert!(!page.body.contains("Test Child Alpha"), "no child's name for an administrator");

        // One is held: it cannot be approved while the hold stands.
        let short = web.post("/admin/retention/hold", &[("csrf", &csrf(&page.body)), ("reference", &held), ("reason", "short")]);
        assert_eq!(short.status, 400, "{}", short.body);
        assert!(short.body.contains("Say why the case must be kept, in 10 to 500 characters."), "{}", short.body);
        let hold = web.post("/admin/retention/hold", &[("csrf", &csrf(&page.body)), ("reference", &held),
            ("reason", "Care proceedings in the family court need the record kept")]);
        assert_eq!((hold.status, hold.location.as_str()), (303, "/admin/retention?done=held"), "{}", hold.body);
        let refused = web.post("/admin/retention/approve", &[("csrf", &csrf(&page.body)), ("reference", &held)]);
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert!(refused.body.contains("This case is under a legal hold."), "{}", refused.body);
        // The looked-after child's record is not due: refused too.
        let early = web.post("/admin/retention/approve", &[("csrf", &csrf(&page.body)), ("reference", &looked_after)]);
        assert_eq!(early.status, 409, "{}", early.body);

        let approved = web.post("/admin/retention/approve", &[("csrf", &csrf(&page.body)), ("reference", &plain)]);
        assert_eq!((approved.status, approved.location.as_str()), (303, "/admin/retention?done=approved"), "{}", approved.body);
        let page = web.get("/admin/retention?done=approved");
        assert!(page.body.contains("Destruction approved") && page.body.contains("Admin One"), "{}", page.body);
        assert_eq!((security_events(app, "destruction_approved"), security_events(app, "legal_hold_set")), (1, 1));

        // The owner's command destroys the approved case only, with its tombstone.
        let svc = &app.service.state.services;
        // By hand, the operator's command refuses the held case and the one still kept, and
        // writes no tombstone for either (verify below would report it).
        let by_hand = |reference: &str| safeguard::domain::destruction::destroy(svc, &mut app.conn(),
            &safeguard::domain::destruction::Destruction { reference, authorised_by: "Test Records Officer" });
        let code = |r: Result<_, safeguard::error::AppError>| r.err().map(|e| e.code().to_string());
        assert_eq!(code(by_hand(&held)).as_deref(), Some("legal_hold"));
        assert_eq!(code(by_hand(&looked_after)).as_deref(), Some("retention_not_over"));
        let done = safeguard::domain::retention::destroy_approved(svc, &mut app.conn(), svc.today()).expect("destroy");
        assert_eq!(done.iter().map(|t| t.reference.as_str()).collect::<Vec<_>>(), vec![plain.as_str()]);
        assert_eq!(done[0].rule, "child_protection");
        assert!(done[0].authorised_by.starts_with("Admin One (administrator), approved on "), "{}", done[0].authorised_by);
        let chair = app.renewed_token(&app.chair);
        assert_eq!(app.get(&chair, &format!("/api/cases/{plain}")).0, 404);
        let (s, kept) = app.get(&chair, &format!("/api/cases/{held}"));
        assert_eq!(s, 200, "the held case is kept: {kept}");
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints).expect("verify");
        assert_eq!(report.problems, Vec::<String>::new(), "the tombstone accounts for the missing case");

        // Lifting the hold makes it approvable again.
        let page = web.get("/admin/retention");
        let lifted = web.post("/admin/retention/release", &[("csrf", &csrf(&page.body)), ("reference", &held)]);
        assert_eq!(lifted.status, 303);
        let approved = web.post("/admin/retention/approve", &[("csrf", &csrf(&page.body)), ("reference", &held)]);
        assert_eq!(approved.status, 303, "{}", approved.body);
    }
}
