//! An administrator manages people and agencies in the pages: invites someone, who sets their
//! password from the emailed link; changes a role; deactivates someone who leaves, which ends
//! their sessions and tokens and hands their case and action to a chosen colleague; adds an
//! agency that every form offers at once, and that a second replica takes up. On SQLite and
//! PostgreSQL, with a real SMTP server on loopback.
mod support;

use diesel::prelude::*;
use serde_json::json;
use support::smtp::SmtpSink;
use support::web::Web;
use support::*;

use safeguard::storage::schema::users;
fn audit_is_clean(app: &TestApp) {
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

/// The plain text of an email, decoded.
fn text_of(m: &support::smtp::Received) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("MIME parses");
    msg.body_text(0).map(|t| t.to_string()).unwrap_or_default()
}

fn signed_in_admin(app: &TestApp) -> (Person, Web) {
    let admin = app.person(
        "administrator",
        "la-cardiff",
        "Digital services",
        "Admin One",
    );
    let web = Web::new(app);
    assert_eq!(web.sign_in(&admin.email, TEST_PASSWORD).status, 303);
    (admin, web)
}

on_both_backends! {
    fn an_invited_person_sets_their_password_from_the_email_and_signs_in(base) {
        let sink = SmtpSink::start();
        let app = TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let (_, admin) = signed_in_admin(&app);
        let page = admin.get("/admin/people");
        assert_eq!(page.status, 200);
        let csrf = Web::hidden(&page.body, "csrf");

        // Everything wrong at once: each problem at its input, in plain words, nothing stored.
        let refused = admin.post("/admin/people", &[("csrf", &csrf), ("name", ""), ("email", "not an address"),
            ("role", "wizard"), ("team", ""), ("authority", ""), ("language", "cy")]);
        assert_eq!(refused.status, 400, "{}", refused.body);
        for (input, message) in [
            ("invite-name", "Enter a name of 1 to 200 characters."),
            ("invite-email", "Enter an email address, such as name@example.org."),
            ("invite-role", "Choose a role the service knows."),
            ("invite-team", "Enter the team’s name."),
            ("invite-authority", "Choose the authority or agency they work for."),
        ] {
            assert!(refused.body.contains(&format!("<a href=\"#{input}\">{message}</a>")), "{input}: {}", refused.body);
        }
        assert!(refused.body.contains("value=\"not an address\""), "what was typed stays");

        let invited = admin.post("/admin/people", &[("csrf", &csrf), ("name", "Newly Invited"),
            ("email", "New.Chair@Example.invalid"), ("role", "chair"), ("team", "Test team"),
            ("authority", "la-cardiff"), ("language", "cy")]);
        assert_eq!((invited.status, invited.location.as_str()), (303, "/admin/people?done=invited"), "{}", invited.body);
        let listed = admin.get("/admin/people?done=invited");
        assert!(listed.body.contains("The invitation is on its way.") && listed.body.contains("new.chair@example.invalid"));
        assert_eq!(security_events(&app, "account_invited"), 1);
        // Taken: a second invitation to the same address is refused at the email.
        let again = admin.post("/admin/people", &[("csrf", &csrf), ("name", "Someone Else"),
            ("email", "new.chair@example.invalid"), ("role", "chair"), ("team", "Test team"),
            ("authority", "la-cardiff"), ("language", "en")]);
        assert_eq!(again.status, 409, "{}", again.body);

        // The email: Welsh first, as chosen, with the link and nothing about any case.
        app.drain_outbox();
        let mail = sink.messages().into_iter().find(|m| m.to.iter().any(|t| t == "new.chair@example.invalid")).expect("the invitation");
        let text = text_of(&mail);
        let welsh = text.find("Annwyl Newly Invited").expect("Welsh greeting");
        let english = text.find("Dear Newly Invited").expect("English greeting");
        assert!(welsh < english, "Welsh first: {text}");
        assert!(!text.contains("CSE-"), "{text}");
        let at = text.find("http://safeguard.test/welcome/").expect("a link");
        let link: String = text[at..].chars().take_while(|c| !c.is_whitespace()).collect::<String>().replace("http://safeguard.test", "");

        // They open it (in Welsh, as invited), type two different passwords, then the same twice.
        let newcomer = Web::new(&app);
        let form = newcomer.get(&link);
        assert_eq!(form.status, 200);
        assert!(form.body.contains("Dewiswch eich cyfrinair"), "{}", form.body);
        let csrf = Web::hidden(&form.body, "csrf");
        let differ = newcomer.post(&link, &[("csrf", &csrf), ("password", "a long passphrase here"), ("password_again", "another passphrase")]);
        assert_eq!(differ.status, 400);
        assert!(differ.body.contains("Nid yw’r ddau gyfrinair yr un fath"), "{}", differ.body);
        let set = newcomer.post(&link, &[("csrf", &csrf), ("password", "a long passphrase here"), ("password_again", "a long passphrase here")]);
        assert_eq!((set.status, set.location.as_str()), (303, "/"), "{}", set.body);
        assert_eq!(newcomer.get("/cases").status, 200, "signed in");
        assert_eq!(security_events(&app, "password_set_from_invitation"), 1);
        // The link works once; the password works from then on.
        let reused = Web::new(&app).get(&link);
        assert_eq!(reused.status, 404);
        assert!(reused.body.contains("does not work") || reused.body.contains("Nid yw’r ddolen"), "{}", reused.body);
        assert_eq!(Web::new(&app).sign_in("new.chair@example.invalid", "a long passphrase here").status, 303);

        // Only an administrator has these pages.
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(&app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        assert_eq!(web.get("/admin/people").status, 403);
        audit_is_clean(&app);
    }
}

on_both_backends! {
    fn deactivating_someone_ends_their_access_and_hands_their_work_to_a_colleague(app) {
        let (_, admin) = signed_in_admin(app);
        let leaving = app.person("chair", "la-cardiff", "Test team", "Chair Leaving");
        let taking_over = app.person("chair", "la-cardiff", "Other team", "Chair Taking Over");
        // The leaving chair leads a case and owns an action on it.
        let case = app.create_case(&leaving.token, child(), report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        let reference = case["reference"].as_str().expect("reference").to_string();
        let (s, b) = app.event(&leaving.token, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.post(&leaving.token, &format!("/api/cases/{id}/actions"), &json!({
            "title": "Visit the school", "owner_user_id": leaving.id, "due_working_days": 5}));
        assert_eq!(s, 201, "{b}");
        let their_browser = Web::new(app);
        assert_eq!(their_browser.sign_in(&leaving.email, TEST_PASSWORD).status, 303);
        // The colleague, of another team, cannot open the case yet.
        assert_eq!(app.get(&taking_over.token, &format!("/api/cases/{id}")).0, 404);

        // The administrator sees what they lead by reference and date, never the child.
        let page = admin.get(&format!("/admin/people/{}", leaving.id));
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&reference), "{}", page.body);
        assert!(!page.body.contains("Test Child Alpha"), "no child's name for an administrator");
        let csrf = Web::hidden(&page.body, "csrf");

        // Deactivating without choosing who takes over is refused at that choice.
        let refused = admin.post(&format!("/admin/people/{}/deactivate", leaving.id), &[("csrf", &csrf), ("successor", "")]);
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<a href=\"#leave-successor\">Choose who takes over the cases, actions and meetings this person leads.</a>"), "{}", refused.body);
        assert_eq!(app.get(&leaving.token, "/api/me").0, 200, "nothing changed");

        let done = admin.post(&format!("/admin/people/{}/deactivate", leaving.id), &[("csrf", &csrf), ("successor", &taking_over.id)]);
        assert_eq!((done.status, done.location.as_str()), (303, format!("/admin/people/{}?done=deactivated", leaving.id).as_str()), "{}", done.body);
        // Their token and their open session end at once.
        assert_eq!(app.get(&leaving.token, "/api/me").0, 401);
        let after = their_browser.get("/cases");
        assert_eq!(after.status, 303);
        assert!(after.location.starts_with("/sign-in"), "{}", after.location);
        assert_eq!(Web::new(app).sign_in(&leaving.email, TEST_PASSWORD).status, 401, "nor can they sign in again");
        let shown = admin.get(&format!("/admin/people/{}", leaving.id));
        assert!(shown.body.contains("Deactivated"), "{}", shown.body);

        // The colleague now opens the case, owns the action, and the history says why.
        let (s, seen) = app.get(&taking_over.token, &format!("/api/cases/{id}"));
        assert_eq!(s, 200, "{seen}");
        let (_, actions) = app.get(&taking_over.token, &format!("/api/cases/{id}/actions"));
        let action = &actions["actions"][0];
        assert_eq!(action["owner_name"], "Chair Taking Over", "{actions}");
        let (_, history) = app.get(&taking_over.token, &format!("/api/cases/{id}/history"));
        let handed = history["history"].as_array().expect("entries").iter()
            .find(|e| e["kind"] == "handed_over").cloned().expect("a handed_over entry");
        assert_eq!(handed["payload"]["to"], taking_over.id.as_str(), "{handed}");
        assert_eq!(security_events(app, "account_deactivated"), 1);
        let still: bool = users::table.find(&leaving.id).select(users::active).get_result(&mut app.conn()).expect("row");
        assert!(!still, "the account is kept, deactivated");

        // A change of role applies from the person's next request.
        let page = admin.get(&format!("/admin/people/{}", taking_over.id));
        let csrf = Web::hidden(&page.body, "csrf");
        let changed = admin.post(&format!("/admin/people/{}", taking_over.id), &[("csrf", &csrf),
            ("name", "Chair Taking Over"), ("role", "team_lead"), ("team", "Other team"), ("authority", "la-cardiff")]);
        assert_eq!(changed.status, 303, "{}", changed.body);
        let (_, me) = app.get(&taking_over.token, "/api/me");
        assert_eq!(me["role"], "team_lead", "{me}");
        assert_eq!(security_events(app, "account_changed"), 1);
        audit_is_clean(app);
    }
}

on_both_backends! {
    fn an_agency_added_in_the_pages_is_offered_at_once_and_by_another_replica(app) {
        let (_, admin) = signed_in_admin(app);
        let replica = app.replica();
        let page = admin.get("/admin/agencies");
        assert_eq!(page.status, 200);
        assert!(page.body.contains("South Wales Police"), "the shipped agencies are listed");
        let csrf = Web::hidden(&page.body, "csrf");

        let refused = admin.post("/admin/agencies", &[("csrf", &csrf), ("code", "Bad Code"), ("kind", "police"),
            ("name_en", ""), ("name_cy", ""), ("domains", "not_a_domain"), ("area", "")]);
        assert_eq!(refused.status, 400, "{}", refused.body);
        for input in ["add-code", "add-kind", "add-name_en", "add-name_cy", "add-domains"] {
            assert!(refused.body.contains(&format!("<a href=\"#{input}\">")), "{input}: {}", refused.body);
        }

        let added = admin.post("/admin/agencies", &[("csrf", &csrf), ("code", "school-ysgol-prawf"), ("kind", "education"),
            ("name_en", "Test High School"), ("name_cy", "Ysgol Uwchradd Prawf"), ("domains", "school.example.org"), ("area", "la-cardiff")]);
        assert_eq!((added.status, added.location.as_str()), (303, "/admin/agencies?done=added"), "{}", added.body);
        assert_eq!(security_events(app, "agency_added"), 1);

        // Offered at once, without a restart: the API lists it and an action can be given to it,
        // with its email domain checked.
        let (_, list) = app.get(&app.chair, "/api/agencies");
        let school = list["agencies"].as_array().expect("agencies").iter().find(|a| a["code"] == "school-ysgol-prawf").cloned().expect("listed");
        assert_eq!(school["name_cy"], "Ysgol Uwchradd Prawf");
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/actions"), &json!({
            "title": "Share attendance records", "owner_name": "Head of Year", "owner_email": "head@gmail.example",
            "agency": "school-ysgol-prawf", "due_working_days": 5}));
        assert_eq!((s, b["code"].as_str()), (422, Some("address_outside_agency")), "{b}");
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/actions"), &json!({
            "title": "Share attendance records", "owner_name": "Head of Year", "owner_email": "head@school.example.org",
            "agency": "school-ysgol-prawf", "due_working_days": 5}));
        assert_eq!(s, 201, "{b}");
        // The case page's action form offers it by name.
        let chair_web = Web::new(app);
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Two");
        chair_web.sign_in(&chair.email, TEST_PASSWORD);
        let reference = case["reference"].as_str().expect("reference");
        let case_page = chair_web.get(&format!("/cases/{reference}"));
        assert!(case_page.body.contains("<option value=\"school-ysgol-prawf\">Test High School</option>"), "{}", case_page.body);

        // The other replica takes it up at its next scheduler pass (run here by hand).
        let on_replica = |base: &str| -> bool {
            let (_, l) = http_get(base, &app.chair, "/api/agencies");
            l["agencies"].as_array().expect("agencies").iter().any(|a| a["code"] == "school-ysgol-prawf")
        };
        assert!(!on_replica(&replica.base_url()), "the replica has not looked yet");
        let mut conn = replica.state.pool.get().expect("connection");
        safeguard::domain::agency_register::refresh(&replica.state.services, &mut conn).expect("refresh");
        assert!(on_replica(&replica.base_url()));

        // An agency added here can be changed here; a shipped one cannot.
        let edit = admin.get("/admin/agencies/school-ysgol-prawf");
        assert_eq!(edit.status, 200);
        let csrf = Web::hidden(&edit.body, "csrf");
        let changed = admin.post("/admin/agencies/school-ysgol-prawf", &[("csrf", &csrf), ("kind", "education"),
            ("name_en", "Test Comprehensive School"), ("name_cy", "Ysgol Gyfun Prawf"), ("domains", "school.example.org"), ("area", "la-cardiff")]);
        assert_eq!(changed.status, 303, "{}", changed.body);
        let (_, list) = app.get(&app.chair, "/api/agencies");
        assert!(list["agencies"].as_array().expect("agencies").iter().any(|a| a["name_en"] == "Test Comprehensive School"));
        assert_eq!(admin.get("/admin/agencies/la-cardiff").status, 404);
        assert_eq!(security_events(app, "agency_changed"), 1);
    }
}

/// A GET with a bearer token against any instance of the service.
fn http_get(base: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    match r {
        Ok(r) => (r.status(), r.into_json().unwrap_or(serde_json::Value::Null)),
        Err(ureq::Error::Status(code, r)) => {
            (code, r.into_json().unwrap_or(serde_json::Value::Null))
        }
        Err(e) => panic!("{path}: {e}"),
    }
}
