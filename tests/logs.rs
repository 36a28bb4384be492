//! A full day's journey through the real binary at the production log level, after which the
//! captured log holds no token and no secret: no API token, session cookie, CSRF token, signed
//! link, one-time code, password, link secret or audit key. The positive controls: the same
//! search finds the API token in the output of `user add`, where it is meant to be shown once,
//! and the log did record the requests that carried the secrets (so their absence means
//! something).
mod support;

use std::process::{Child, Command, Stdio};

use serde_json::json;
use support::smtp::SmtpSink;
use support::web::Web;
use support::*;

const PASSWORD: &str = "a long synthetic password for the log test";
const LINK_SECRET: &str = "link-secret-for-the-log-test-0123456789";
const AUDIT_KEY: &str = "audit-key-for-the-log-test-0123456789ab";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Site {
    dir: tempfile::TempDir,
    port: u16,
    smtp: String,
    database_url: String,
    _pg: Option<PgDatabase>,
}

impl Site {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
        cmd.args(args)
            .env("SAFEGUARD_DATA_DIR", self.dir.path())
            .env("SAFEGUARD_DATABASE_URL", &self.database_url)
            .env(
                "SAFEGUARD_WORKFLOWS_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/workflows"),
            )
            .env(
                "SAFEGUARD_TEMPLATES_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            )
            .env("SAFEGUARD_BIND", format!("127.0.0.1:{}", self.port))
            .env("SAFEGUARD_PUBLIC_URL", "http://safeguard.test")
            .env("SAFEGUARD_SMTP_URL", &self.smtp)
            .env("SAFEGUARD_MAIL_TRIAL", "on")
            .env("SAFEGUARD_LINK_SECRET", LINK_SECRET)
            .env("SAFEGUARD_AUDIT_KEY", AUDIT_KEY)
            .env("SAFEGUARD_OUTBOX_POLL_MS", "50")
            .env("SAFEGUARD_SCHEDULER", "off")
            // What a council runs with.
            .env_remove("SAFEGUARD_LOG");
        cmd
    }

    /// `user add` with a password; returns (token, everything it printed).
    fn user(&self, role: &str, email: &str) -> (String, String) {
        support::binary::add_user(
            self.command(&[
                "user",
                "add",
                "--name",
                "Log Test Person",
                "--email",
                email,
                "--role",
                role,
                "--team",
                "Log team",
                "--authority",
                "la-cardiff",
                "--password-stdin",
            ]),
            PASSWORD,
        )
    }

    fn serve(&self, log: &std::path::Path) -> Child {
        let file = std::fs::File::create(log).expect("log file");
        let mut child = self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .expect("serve");
        let base = format!("http://127.0.0.1:{}", self.port);
        support::binary::wait_until_answering(&mut child, &base, || {
            std::fs::read_to_string(log).unwrap_or_default()
        });
        child
    }
}

fn body_text(m: &support::smtp::Received) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("MIME parses");
    msg.body_text(0).map(|t| t.to_string()).unwrap_or_default()
}

fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect::<String>()
        .replace("http://safeguard.test", "")
}

/// Every secret from `candidates` that appears in `text`.
fn found(text: &str, candidates: &[(String, String)]) -> Vec<String> {
    candidates
        .iter()
        .filter(|(_, s)| !s.is_empty() && text.contains(s.as_str()))
        .map(|(what, _)| what.clone())
        .collect()
}

#[test]
fn after_a_full_journey_the_log_holds_no_token_and_no_secret_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn after_a_full_journey_the_log_holds_no_token_and_no_secret_postgres() {
    match Backend::postgres() {
        Some(b) => journey(b),
        None => eprintln!("PostgreSQL not configured (SAFEGUARD_TEST_POSTGRES_URL): skipped"),
    }
}

fn journey(backend: Backend) {
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().expect("dir");
    let (database_url, pg) = fresh_database(backend, dir.path());
    let password_in_url = database_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(user, pass)| format!("{user}:{pass}@"))
        .unwrap_or_default();
    let site = Site {
        dir,
        port: free_port(),
        smtp: sink.url(),
        database_url,
        _pg: pg,
    };
    let (chair_token, printed) = site.user("chair", "chair@council.example");
    let (lead_token, _) = site.user("team_lead", "lead@council.example");
    let log = site.dir.path().join("service.log");
    let mut service = site.serve(&log);
    let base = format!("http://127.0.0.1:{}", site.port);
    let api =
        |token: &str, method: &str, path: &str, body: serde_json::Value| -> serde_json::Value {
            let req = ureq::request(method, &format!("{base}{path}"))
                .set("Authorization", &format!("Bearer {token}"));
            let r = match if method == "GET" {
                req.call()
            } else {
                req.send_json(body)
            } {
                Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                Err(e) => panic!("{path}: {e}"),
            };
            r.into_json().unwrap_or(serde_json::Value::Null)
        };

    // The pages: sign in (a password and a session cookie), a wrong password too.
    let web = Web::at(&base);
    assert_eq!(
        web.sign_in("chair@council.example", "not the password")
            .status,
        401
    );
    assert_eq!(web.sign_in("chair@council.example", PASSWORD).status, 303);
    let cases_page = web.get("/cases");
    let csrf = Web::hidden(&cases_page.body, "csrf");
    let session = web
        .cookie(safeguard::web::session::COOKIE)
        .filter(|c| c.len() > 16)
        .expect("a session cookie");

    // A report, a meeting with an invitee, and an action for someone outside the service.
    let case = api(
        &chair_token,
        "POST",
        "/api/cases",
        json!({"child": child(), "facts": report_facts()}),
    );
    let id = case["id"].as_str().expect("case id").to_string();
    let meeting = api(
        &chair_token,
        "POST",
        "/api/meetings",
        json!({
        "kind": "strategy_meeting", "starts_at": "2099-12-02T10:00", "ends_at": "2099-12-02T11:00", "location": "Room 1",
        "cases": [id], "invitees": [{"name": "Invitee One", "email": "one@partner.example", "role": "detective sergeant"}]}),
    );
    assert!(meeting["id"].is_string(), "{meeting}");
    let action = api(
        &chair_token,
        "POST",
        &format!("/api/cases/{id}/actions"),
        json!({"title": "Return-home interview", "owner_name": "Owner One", "owner_email": "owner@partner.example", "due_working_days": 5}),
    );
    assert!(action["id"].is_string(), "{action}");
    api(&lead_token, "GET", "/api/dashboard", json!({}));

    // The emails, delivered by the service's own worker; their links opened, one in a second
    // browser, which types the one-time code.
    let mail = sink.wait_for(2);
    let invitation = mail
        .iter()
        .map(body_text)
        .find(|t| t.contains("/respond/"))
        .expect("an invitation");
    let actions = mail
        .iter()
        .map(body_text)
        .find(|t| t.contains("/actions/"))
        .expect("an actions email");
    let respond = link_in(&invitation, "http://safeguard.test/respond/");
    let owner = link_in(&actions, "http://safeguard.test/actions/");
    let invitee = Web::at(&base);
    assert!(invitee.get(&respond).body.contains("Invitee One"));
    assert_eq!(
        invitee.post(&respond, &[("answer", "accepted")]).status,
        200
    );
    assert!(Web::at(&base)
        .get(&owner)
        .body
        .contains("Return-home interview"));
    let second = Web::at(&base);
    let asked = second.get(&owner);
    assert!(asked.body.contains("Type the code"), "{}", asked.body);
    let code_mail = sink
        .wait_for(3)
        .iter()
        .map(body_text)
        .find(|t| t.contains("one-time code"))
        .expect("a code");
    let code: String = code_mail[code_mail.find("service is:").expect("code") + 11..]
        .trim_start()
        .chars()
        .take(6)
        .collect();
    assert_eq!(
        second
            .post(
                "/link-code/actions",
                &[
                    ("token", &Web::hidden(&asked.body, "token")),
                    ("code", &code)
                ]
            )
            .status,
        303
    );
    // A signed-in form, and signing out everywhere.
    assert_eq!(
        web.post("/sign-out-everywhere", &[("csrf", &csrf)]).status,
        303
    );

    let _ = service.kill();
    let _ = service.wait();
    let text = std::fs::read_to_string(&log).expect("the log");
    let token_of = |path: &str| path.rsplit('/').next().unwrap_or_default().to_string();
    let secrets: Vec<(String, String)> = vec![
        ("the chair's API token".into(), chair_token.clone()),
        ("the team lead's API token".into(), lead_token),
        ("the password".into(), PASSWORD.into()),
        ("the link secret".into(), LINK_SECRET.into()),
        ("the audit key".into(), AUDIT_KEY.into()),
        ("the CSRF token".into(), csrf),
        ("the session cookie".into(), session),
        ("the invitee's link".into(), token_of(&respond)),
        ("the owner's link".into(), token_of(&owner)),
        ("the one-time code".into(), format!("code {code}")),
        ("the database password".into(), password_in_url),
    ];
    assert_eq!(
        found(&text, &secrets),
        Vec::<String>::new(),
        "in the log:\n{text}"
    );
    // The positive controls: the search finds the token where it is meant to be, and the log
    // recorded the very requests that carried the secrets.
    assert_eq!(
        found(&printed, &secrets),
        vec!["the chair's API token".to_string()]
    );
    assert!(
        text.contains("GET /respond/<link ") && text.contains("POST /link-code/actions"),
        "the requests are logged:\n{text}"
    );
    assert!(
        text.contains("POST /sign-in 401") || text.contains("POST /sign-in"),
        "{text}"
    );
    println!(
        "log of {} lines searched for {} secrets: none found",
        text.lines().count(),
        secrets.len()
    );
}
