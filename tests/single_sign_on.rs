//! Signing in with the council's accounts, against a real OpenID Connect provider on loopback
//! (the `oidc-provider` package): an invited person signs in; the same answer used again, an
//! account of another tenant, someone nobody invited and a deactivated account are refused,
//! each with a plain message and a security event; local passwords can be switched off; a
//! multi-tenant issuer is refused at start-up. On SQLite and PostgreSQL.
mod support;

use diesel::prelude::*;
use support::oidc::Provider;
use support::web::{Answer, Web};
use support::*;

use safeguard::storage::schema::{security_events, users};

fn failed_with(app: &TestApp, reason: &str) -> i64 {
    security_events::table
        .filter(security_events::kind.eq("sign_in_failed"))
        .filter(security_events::detail.like(format!("%({reason})%")))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

/// From the sign-in page's button to the service's callback, signing in at the provider as
/// `login` of tenant `tid`; returns the callback's path, not yet followed.
fn through_provider(web: &Web, provider: &Provider, next: &str, login: &str, tid: &str) -> String {
    let off = web.get(&format!("/sign-in/oidc?tenant=0&next={next}"));
    assert_eq!(off.status, 303, "{}", off.body);
    assert!(
        off.location.starts_with(&provider.issuer),
        "to the provider: {}",
        off.location
    );
    assert!(
        off.location.contains("code_challenge_method=S256") && off.location.contains("nonce="),
        "PKCE and a nonce: {}",
        off.location
    );
    provider.sign_in(&off.location, login, tid)
}

fn refused_with(web: &Web, answer: &Answer, message: &str) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(answer.body.contains(message), "{message}: {}", answer.body);
    assert!(!web.has_cookie("sg_session"), "no session");
}

/// The callback as a tool that replays both the address and the browser's cookie would send it.
fn replayed_with_cookie(app: &TestApp, back: &str) -> (u16, String) {
    let state = back
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .expect("a state");
    let r = ureq::get(&format!("{}{back}", app.base))
        .set("Cookie", &format!("sg_sso={state}"))
        .call();
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

fn run(backend: Backend) {
    let Some(provider) = Provider::start() else {
        return;
    };
    let app = TestApp::spawn_with(backend, &provider.settings("tenant-a"));
    let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");

    // The sign-in page offers the council's account beside the password.
    let web = Web::new(&app);
    let page = web.get("/sign-in");
    assert!(
        page.body.contains("Sign in with your council account")
            && page.body.contains("id=\"password\""),
        "{}",
        page.body
    );

    // An invited person signs in and lands where they were going. Someone else who gets hold
    // of the answer on its way is refused, and that spends nothing.
    let back = through_provider(&web, &provider, "/cases", &chair.email, "tenant-a");
    let thief = Web::new(&app);
    refused_with(
        &thief,
        &thief.get(&back),
        "That sign-in was begun in another browser.",
    );
    assert_eq!(failed_with(&app, "sso_other_browser"), 1);
    let answer = web.get(&back);
    assert_eq!(
        (answer.status, answer.location.as_str()),
        (303, "/cases"),
        "{}",
        answer.body
    );
    let cases = web.get("/cases");
    assert_eq!(cases.status, 200);
    assert!(
        cases.body.contains("Chair One"),
        "signed in as the chair: {}",
        cases.body
    );
    let signed: i64 = security_events::table
        .filter(security_events::kind.eq("signed_in"))
        .filter(security_events::account.eq(&chair.email))
        .filter(security_events::detail.like("%single sign-on%"))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(signed, 1);

    // The same answer again, with the browser's cookie too: refused, the state is spent.
    let (status, body) = replayed_with_cookie(&app, &back);
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("That sign-in has run out or was already used."),
        "{body}"
    );
    assert_eq!(failed_with(&app, "sso_expired"), 1);
    // An answer that comes back after more than 10 minutes is stale.
    let slow = Web::new(&app);
    let back = through_provider(&slow, &provider, "/", &chair.email, "tenant-a");
    app.clock.advance(chrono::Duration::minutes(11));
    refused_with(
        &slow,
        &slow.get(&back),
        "That sign-in has run out or was already used.",
    );
    assert_eq!(failed_with(&app, "sso_expired"), 2);

    // An account of another tenant.
    let other = Web::new(&app);
    let back = through_provider(&other, &provider, "/", &chair.email, "tenant-b");
    refused_with(
        &other,
        &other.get(&back),
        "That account belongs to another organisation.",
    );
    assert_eq!(failed_with(&app, "sso_wrong_tenant"), 1);

    // Someone nobody invited: refused, and no account is made for them.
    let stranger = Web::new(&app);
    let back = through_provider(
        &stranger,
        &provider,
        "/",
        "stranger@example.invalid",
        "tenant-a",
    );
    refused_with(
        &stranger,
        &stranger.get(&back),
        "Your account has not been given access to this service.",
    );
    let made: i64 = users::table
        .filter(users::email.eq("stranger@example.invalid"))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(made, 0);
    assert_eq!(failed_with(&app, "sso_not_invited"), 1);

    // Someone who has left.
    let leaver = app.person(
        "practitioner",
        "la-cardiff",
        "Test team",
        "Practitioner Leaving",
    );
    diesel::update(users::table.find(&leaver.id))
        .set(users::active.eq(false))
        .execute(&mut app.conn())
        .expect("deactivate");
    let theirs = Web::new(&app);
    let back = through_provider(&theirs, &provider, "/", &leaver.email, "tenant-a");
    refused_with(
        &theirs,
        &theirs.get(&back),
        "Your account for this service is deactivated.",
    );
    assert_eq!(failed_with(&app, "sso_deactivated"), 1);

    // With local passwords switched off, the page offers only the council's account, and an
    // invitation says to sign in with it: there is no password to set.
    let sink = support::smtp::SmtpSink::start();
    let strict = TestApp::spawn_with(
        backend_of(&app),
        &[
            provider.settings("tenant-a"),
            vec![
                ("SAFEGUARD_PASSWORDS", "off".to_string()),
                ("SAFEGUARD_SMTP_URL", sink.url()),
            ],
        ]
        .concat(),
    );
    let admin = strict.person(
        "administrator",
        "la-cardiff",
        "Digital services",
        "Admin One",
    );
    let admin_id = admin.id.clone();
    let svc = &strict.service.state.services;
    let intent = svc.intent(&admin_id, "/admin/people");
    safeguard::domain::staff::invite(
        svc,
        &mut strict.conn(),
        &intent,
        &safeguard::domain::user::NewUser {
            name: "Invited Later",
            email: "invited.later@example.invalid",
            role: "chair",
            team: "Test team",
            authority: "la-cardiff",
        },
        safeguard::i18n::Language::English,
    )
    .expect("invited");
    strict.drain_outbox();
    let mail = sink
        .messages()
        .into_iter()
        .find(|m| m.to.iter().any(|t| t == "invited.later@example.invalid"))
        .expect("the invitation");
    let text = String::from_utf8_lossy(&mail.raw).to_string();
    assert!(
        text.contains("http://safeguard.test/sign-in") && !text.contains("/welcome/"),
        "{text}"
    );
    let web = Web::new(&strict);
    let page = web.get("/sign-in");
    assert!(
        page.body.contains("Sign in with your council account")
            && !page.body.contains("id=\"password\""),
        "{}",
        page.body
    );
    let person = strict.person("chair", "la-cardiff", "Test team", "Chair Two");
    let tried = web.post(
        "/sign-in",
        &[("email", &person.email), ("password", TEST_PASSWORD)],
    );
    assert_eq!(tried.status, 403, "{}", tried.body);
    assert!(tried
        .body
        .contains("This service signs in with your council account only."));
}

#[test]
fn sign_in_with_the_councils_account_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn sign_in_with_the_councils_account_postgres() {
    match Backend::postgres() {
        Some(b) => run(b),
        None => eprintln!("PostgreSQL not configured (SAFEGUARD_TEST_POSTGRES_URL): skipped"),
    }
}

#[test]
fn a_multi_tenant_issuer_is_refused_at_start_up() {
    for issuer in [
        "https://login.microsoftonline.com/common/v2.0",
        "https://login.microsoftonline.com/organizations/v2.0",
    ] {
        let vars = [
            ("SAFEGUARD_OIDC_ISSUER", issuer),
            ("SAFEGUARD_OIDC_CLIENT_ID", "safeguard"),
            ("SAFEGUARD_OIDC_CLIENT_SECRET", "secret"),
        ];
        let err = safeguard::config::Config::from_sources(None, &|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .expect_err("refused");
        assert!(err.to_string().contains("multi-tenant issuer"), "{err}");
    }
    // Several tenants, each checked against its own issuer.
    let vars = [
        (
            "SAFEGUARD_OIDC_ISSUER",
            "https://login.microsoftonline.com/{tenant}/v2.0",
        ),
        ("SAFEGUARD_OIDC_TENANTS", "tenant-one tenant-two"),
        ("SAFEGUARD_OIDC_CLIENT_ID", "safeguard"),
        ("SAFEGUARD_OIDC_CLIENT_SECRET", "secret"),
    ];
    let config = safeguard::config::Config::from_sources(None, &|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .expect("several tenants");
    let issuers: Vec<String> = config
        .single_sign_on
        .expect("on")
        .tenants
        .into_iter()
        .map(|t| t.issuer)
        .collect();
    assert_eq!(
        issuers,
        vec![
            "https://login.microsoftonline.com/tenant-one/v2.0".to_string(),
            "https://login.microsoftonline.com/tenant-two/v2.0".to_string(),
        ]
    );
}
