//! Two-step sign-in for local passwords: a person sets up an authenticator app from their
//! account page and gets ten recovery codes; signing in then asks for a code, which works once;
//! a recovery code works once; five wrong codes end the waiting sign-in; an administrator
//! resets it; and where the council requires it, a person without one sets it up before their
//! first session. Codes are computed as an app would, with `totp-rs`, on the service's clock.
//! On SQLite and PostgreSQL.
mod support;

use support::web::Web;
use support::*;
use totp_rs::{Algorithm, Secret, TOTP};

/// The key the set-up page shows, and the code an app holding it shows now.
fn secret_on(page: &str) -> String {
    let at = page.find("id=\"secret\">").expect("the key") + "id=\"secret\">".len();
    page[at..].chars().take_while(|c| *c != '<').collect()
}

fn code_now(app: &TestApp, secret: &str, email: &str) -> String {
    let t = TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        Secret::Encoded(secret.to_string())
            .to_bytes()
            .expect("base32"),
        Some("Safeguarding".into()),
        email.to_string(),
    )
    .expect("totp");
    t.generate(app.clock_now().timestamp() as u64)
}

fn recovery_codes(page: &str) -> Vec<String> {
    let list = &page[page.find("id=\"recovery-codes\"").expect("the codes")..];
    list.split("<code>")
        .skip(1)
        .map(|c| c.chars().take_while(|ch| *ch != '<').collect())
        .take(10)
        .collect()
}

/// Signs in with the password; the answer is the second step's page.
fn to_second_step(app: &TestApp, email: &str) -> Web {
    let web = Web::new(app);
    let a = web.sign_in(email, TEST_PASSWORD);
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, "/sign-in/second-step"),
        "{}",
        a.body
    );
    web
}

fn answer(web: &Web, code: &str) -> support::web::Answer {
    let page = web.get("/sign-in/second-step");
    assert_eq!(page.status, 200, "{}", page.body);
    web.post(
        "/sign-in/second-step",
        &[("csrf", &Web::hidden(&page.body, "csrf")), ("code", code)],
    )
}

on_both_backends! {
    fn a_second_step_is_set_up_asked_for_and_reset(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = Web::new(app);
        assert_eq!(web.sign_in(&chair.email, TEST_PASSWORD).location, "/", "no second step yet");
        assert!(web.get("/account").body.contains("Set up two-step sign-in"));

        // Set up: a wrong code is refused at the field, the right one gives ten recovery codes.
        let setup = web.get("/account/second-factor");
        let secret = secret_on(&setup.body);
        assert!(setup.body.contains("otpauth://totp/Safeguarding:"), "{}", setup.body);
        let csrf = Web::hidden(&setup.body, "csrf");
        let wrong = web.post("/account/second-factor", &[("csrf", &csrf), ("code", "000000")]);
        assert_eq!(wrong.status, 422, "{}", wrong.body);
        assert!(wrong.body.contains("That code is not right, or was already used."), "{}", wrong.body);
        let code = code_now(app, &secret, &chair.email);
        let done = web.post("/account/second-factor", &[("csrf", &csrf), ("code", &code)]);
        assert_eq!(done.status, 200, "{}", done.body);
        let codes = recovery_codes(&done.body);
        assert_eq!(codes.len(), 10, "{}", done.body);
        assert_eq!(security_events(app, "second_factor_set_up"), 1);

        // Signing in now asks for a code; the one just used does not work again.
        let second = to_second_step(app, &chair.email);
        assert_eq!(second.get("/cases").status, 303, "no session before the second step");
        let replayed = answer(&second, &code);
        assert_eq!(replayed.status, 422, "a code works once");
        app.clock.advance(chrono::Duration::seconds(30));
        let fresh = code_now(app, &secret, &chair.email);
        let ok = answer(&second, &fresh);
        assert_eq!((ok.status, ok.location.as_str()), (303, "/"), "{}", ok.body);
        assert_eq!(second.get("/cases").status, 200, "signed in");

        // A recovery code works once.
        let lost_phone = to_second_step(app, &chair.email);
        assert_eq!(answer(&lost_phone, &codes[0]).status, 303);
        let again = to_second_step(app, &chair.email);
        assert_eq!(answer(&again, &codes[0]).status, 422, "spent");

        // Five wrong codes end the waiting sign-in.
        let guesser = to_second_step(app, &chair.email);
        for _ in 0..5 {
            assert_eq!(answer(&guesser, "123456").status, 422);
        }
        let page = guesser.get("/sign-in/second-step");
        assert!(page.body.contains("That sign-in has run out."), "{}", page.body);

        // An administrator resets it: the password alone signs in again.
        let admin = app.person("administrator", "la-cardiff", "Digital services", "Admin One");
        let admin_web = Web::new(app);
        admin_web.sign_in(&admin.email, TEST_PASSWORD);
        let page = admin_web.get(&format!("/admin/people/{}", chair.id));
        assert!(page.body.contains("Reset their two-step sign-in"), "{}", page.body);
        let reset = admin_web.post(&format!("/admin/people/{}/second-factor", chair.id), &[("csrf", &Web::hidden(&page.body, "csrf"))]);
        assert_eq!(reset.status, 303, "{}", reset.body);
        assert_eq!(security_events(app, "second_factor_reset"), 1);
        assert_eq!(Web::new(app).sign_in(&chair.email, TEST_PASSWORD).location, "/");
    }
}

on_both_backends_with! {
    [("SAFEGUARD_SECOND_FACTOR", "required")],
    fn where_it_is_required_a_person_sets_it_up_before_their_first_session(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
        let web = to_second_step(app, &chair.email);
        let page = web.get("/sign-in/second-step");
        assert!(page.body.contains("Set up two-step sign-in"), "{}", page.body);
        let secret = secret_on(&page.body);
        let code = code_now(app, &secret, &chair.email);
        let done = web.post("/sign-in/second-step", &[("csrf", &Web::hidden(&page.body, "csrf")), ("code", &code)]);
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(recovery_codes(&done.body).len(), 10);
        assert!(done.body.contains("href=\"/\""), "continue to where they were going");
        assert_eq!(web.get("/cases").status, 200, "signed in");
    }
}
