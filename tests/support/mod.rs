//! Test support: a real server on a random port over a real database (a fresh SQLite file, or a
//! fresh PostgreSQL database when SAFEGUARD_TEST_POSTGRES_URL is set), with a clock the test moves.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use safeguard::app::{prepare, RunningService};
use safeguard::config::Config;
use safeguard::domain::user::{add_user, NewUser};
use safeguard::storage::PooledConn;
use safeguard::time::clock::ManualClock;

pub mod binary;
pub mod browser;
pub mod oidc;
pub mod smtp;
pub mod web;

pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL when configured. CI always configures it, so there a missing URL is an error
    /// rather than a quiet skip.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("SAFEGUARD_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var("CI").is_ok() => {
                panic!("CI must set SAFEGUARD_TEST_POSTGRES_URL so that PostgreSQL is tested")
            }
            _ => None,
        }
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($app: &support::TestApp) $body
            #[test]
            fn sqlite() {
                run(&support::TestApp::spawn(support::Backend::Sqlite));
            }
            #[test]
            fn postgres() {
                match support::Backend::postgres() {
                    Some(b) => run(&support::TestApp::spawn(b)),
                    None => eprintln!("PostgreSQL not configured (SAFEGUARD_TEST_POSTGRES_URL): skipped"),
                }
            }
        }
    };
}

/// As `on_both_backends`, with extra settings for the service (`[("SAFEGUARD_…", value)]`).
#[macro_export]
macro_rules! on_both_backends_with {
    ($settings:expr, $(#[$meta:meta])* fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($app: &support::TestApp) $body
            fn settings() -> Vec<(&'static str, String)> {
                $settings.iter().map(|(k, v): &(&'static str, &str)| (*k, v.to_string())).collect()
            }
            #[test]
            fn sqlite() {
                run(&support::TestApp::spawn_with(support::Backend::Sqlite, &settings()));
            }
            #[test]
            fn postgres() {
                match support::Backend::postgres() {
                    Some(b) => run(&support::TestApp::spawn_with(b, &settings())),
                    None => eprintln!("PostgreSQL not configured (SAFEGUARD_TEST_POSTGRES_URL): skipped"),
                }
            }
        }
    };
}

/// How many security events of this kind the service has recorded.
pub fn security_events(app: &TestApp, kind: &str) -> i64 {
    use diesel::prelude::*;
    use safeguard::storage::schema::security_events;
    security_events::table
        .filter(security_events::kind.eq(kind))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

/// The backend a running test app uses, for a second app of the same kind.
pub fn backend_of(app: &TestApp) -> Backend {
    if app.database_url().starts_with("postgres") {
        Backend::postgres().expect("PostgreSQL configured")
    } else {
        Backend::Sqlite
    }
}

/// Wednesday 25 November 2026, 10:00 in Wales (GMT).
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .single()
        .expect("valid start time")
}

/// Every person made by `TestApp::person` signs in to the pages with this.
pub const TEST_PASSWORD: &str = "synthetic test password";

pub struct Person {
    pub id: String,
    pub token: String,
    pub email: String,
}

pub struct TestApp {
    pub service: RunningService,
    pub clock: Arc<ManualClock>,
    pub base: String,
    /// A chair in Cardiff, the authority most tests use.
    pub chair: String,
    dir: tempfile::TempDir,
    /// Declared last: dropped after the service has stopped.
    pg: Option<PgDatabase>,
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

impl TestApp {
    pub fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[])
    }

    /// With extra settings, such as `SAFEGUARD_SMTP_URL`.
    pub fn spawn_with(backend: Backend, extra: &[(&str, String)]) -> TestApp {
        Self::spawn_with_files(backend, extra, &[])
    }

    /// With extra settings and files written into the data folder before the service starts
    /// (an operator's `agencies.toml`).
    pub fn spawn_with_files(
        backend: Backend,
        extra: &[(&str, String)],
        files: &[(&str, &str)],
    ) -> TestApp {
        // Server-side errors show in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write a data file");
        }
        let (database_url, pg) = fresh_database(backend, dir.path());
        let vars = [
            ("SAFEGUARD_DATA_DIR", dir.path().display().to_string()),
            ("SAFEGUARD_DATABASE_URL", database_url),
            ("SAFEGUARD_POOL_SIZE", "4".to_string()),
            ("SAFEGUARD_MAX_BODY_BYTES", "65536".to_string()),
            ("SAFEGUARD_OUTBOX_POLL_MS", "25".to_string()),
            ("SAFEGUARD_PUBLIC_URL", "http://safeguard.test".to_string()),
            // The sink on loopback and an `.invalid` sender are a test's, not a council's.
            ("SAFEGUARD_MAIL_TRIAL", "on".to_string()),
            // Tests run jobs themselves, on the injected clock, and deliver the outbox
            // themselves (`drain_outbox`), so that they can count exactly what was sent.
            ("SAFEGUARD_SCHEDULER", "off".to_string()),
            ("SAFEGUARD_OUTBOX_WORKER", "off".to_string()),
        ];
        let config = Config::from_sources(None, &|k| {
            extra
                .iter()
                .chain(vars.iter())
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
        })
        .expect("test configuration");
        let clock = ManualClock::new(start_time());
        let state = prepare(config, clock.clone()).expect("service prepares");
        let service = RunningService::start(state, "127.0.0.1:0").expect("service starts");
        let base = service.base_url();
        let mut app = TestApp {
            service,
            clock,
            base,
            chair: String::new(),
            dir,
            pg,
        };
        app.chair = app.user("chair", "la-cardiff");
        app
    }

    /// A second instance of the service on the same database and data folder, as a second
    /// replica behind a load balancer would be.
    pub fn replica(&self) -> RunningService {
        let cfg = &self.service.state.config;
        let mut vars = vec![
            ("SAFEGUARD_DATA_DIR", self.data_dir().display().to_string()),
            ("SAFEGUARD_DATABASE_URL", self.database_url()),
            ("SAFEGUARD_POOL_SIZE", "4".to_string()),
            ("SAFEGUARD_OUTBOX_POLL_MS", "25".to_string()),
            ("SAFEGUARD_PUBLIC_URL", "http://safeguard.test".to_string()),
            // The sink on loopback and an `.invalid` sender are a test's, not a council's.
            ("SAFEGUARD_MAIL_TRIAL", "on".to_string()),
            ("SAFEGUARD_SCHEDULER", "off".to_string()),
            ("SAFEGUARD_OUTBOX_WORKER", "off".to_string()),
        ];
        if let Some(url) = &cfg.mail.smtp_url {
            vars.push(("SAFEGUARD_SMTP_URL", url.clone()));
        }
        let config = Config::from_sources(None, &|k| {
            vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        })
        .expect("replica configuration");
        let state = prepare(config, ManualClock::new(self.clock_now())).expect("replica prepares");
        RunningService::start(state, "127.0.0.1:0").expect("replica starts")
    }

    /// Delivers everything the outbox holds that is due on the test's clock, as the worker would,
    /// and returns what happened. Messages the SMTP server accepted are already in its sink.
    pub fn drain_outbox(&self) -> safeguard::mail::worker::Delivered {
        drain_service(&self.service, "test-worker")
    }

    pub fn conn(&self) -> PooledConn {
        self.service.state.pool.get().expect("database connection")
    }

    pub fn database_url(&self) -> String {
        self.service.state.config.database_url.clone()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Adds a named user in a team and returns them with their id.
    pub fn person(&self, role: &str, authority: &str, team: &str, name: &str) -> Person {
        let email = format!("{}.{}@example.invalid", role, uuid::Uuid::new_v4().simple());
        let mut conn = self.conn();
        let (id, token) = add_user(
            &mut conn,
            &self.service.state.services.engine.agencies.current(),
            NewUser {
                name,
                email: &email,
                role,
                team,
                authority,
            },
            safeguard::domain::user::FirstToken {
                key: &self.service.state.services.audit_key,
                days: self.service.state.services.access.api_token_days,
            },
            self.clock_now().naive_utc(),
        )
        .expect("add user");
        safeguard::domain::user::set_password(&mut conn, &email, TEST_PASSWORD)
            .expect("set password");
        Person { id, token, email }
    }

    /// The person with a new API token, made now: tokens expire, so a test that moves the
    /// clock on by months gives its people new ones, as an administrator would.
    pub fn renewed(&self, person: Person) -> Person {
        let svc = &self.service.state.services;
        let mut conn = self.conn();
        let user = safeguard::domain::user::find_by_email(&mut conn, &person.email).expect("user");
        let (_, token) = safeguard::storage::write_transaction(&mut conn, |conn| {
            safeguard::domain::api_token::issue(
                conn,
                &svc.audit_key,
                &user,
                "renewed in a test",
                90,
                "test",
                self.clock_now().naive_utc(),
            )
        })
        .expect("a new token");
        Person { token, ..person }
    }

    /// A new token, made now, for the person whose (perhaps expired) token this is.
    pub fn renewed_token(&self, token: &str) -> String {
        use safeguard::storage::schema::{api_tokens, users};
        let email: String = api_tokens::table
            .inner_join(users::table)
            .filter(api_tokens::token_hash.eq(safeguard::identity::hash_token(token)))
            .select(users::email)
            .get_result(&mut self.conn())
            .expect("the token's person");
        self.renewed(Person {
            id: String::new(),
            token: String::new(),
            email,
        })
        .token
    }

    /// Adds a user and returns their token.
    pub fn user(&self, role: &str, authority: &str) -> String {
        self.user_with_email(role, authority).0
    }

    /// Adds a user and returns (token, email).
    pub fn user_with_email(&self, role: &str, authority: &str) -> (String, String) {
        let email = format!("{}.{}@example.invalid", role, uuid::Uuid::new_v4().simple());
        let mut conn = self.conn();
        let token = add_user(
            &mut conn,
            &self.service.state.services.engine.agencies.current(),
            NewUser {
                name: "Test User",
                email: &email,
                role,
                team: "Test team",
                authority,
            },
            safeguard::domain::user::FirstToken {
                key: &self.service.state.services.audit_key,
                days: self.service.state.services.access.api_token_days,
            },
            self.clock_now().naive_utc(),
        )
        .expect("add user")
        .1;
        (token, email)
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use safeguard::time::clock::Clock;
        self.clock.now()
    }

    fn call(
        &self,
        method: &str,
        token: Option<&str>,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = ureq::request(method, &format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let text = response.into_string().expect("response body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call("GET", Some(token), path, None)
    }

    pub fn get_anonymous(&self, path: &str) -> (u16, Value) {
        self.call("GET", None, path, None)
    }

    pub fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", Some(token), path, Some(body))
    }

    /// Records a report for a synthetic child and returns the case JSON.
    pub fn create_case(&self, token: &str, child: Value, facts: Value) -> Value {
        let (status, body) = self.post(
            token,
            "/api/cases",
            &json!({ "child": child, "facts": facts }),
        );
        assert_eq!(status, 201, "case created: {body}");
        body
    }

    /// Applies an event with the case's current version.
    pub fn event(&self, token: &str, case: &str, body: Value) -> (u16, Value) {
        let (status, current) = self.get(token, &format!("/api/cases/{case}"));
        assert_eq!(status, 200, "reading the case before an event: {current}");
        let mut body = body;
        if body.get("expected_version").is_none() {
            body["expected_version"] = current["version"].clone();
        }
        self.post(token, &format!("/api/cases/{case}/events"), &body)
    }

    pub fn state_of(&self, token: &str, case: &str, workflow: &str) -> String {
        let (_, c) = self.get(token, &format!("/api/cases/{case}"));
        c["workflows"]
            .as_array()
            .and_then(|l| l.iter().find(|w| w["workflow"] == workflow))
            .map(|w| w["state"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The worker must stop before its database goes, or it waits on a pool that cannot connect.
        self.service.stop();
    }
}

/// A fresh database for a test that runs the service itself: a SQLite file in `dir`, or a new
/// PostgreSQL database dropped when the guard goes.
pub fn fresh_database(backend: Backend, dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    match backend {
        Backend::Sqlite => (dir.join("test.db").display().to_string(), None),
        Backend::Postgres(admin) => {
            let name = format!("sg_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn =
                diesel::PgConnection::establish(&admin).expect("connect to PostgreSQL admin URL");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create test database");
            (
                replace_db_name(&admin, &name),
                Some(PgDatabase { admin, name }),
            )
        }
    }
}

/// Delivers a service's due outbox as worker `name` would.
pub fn drain_service(service: &RunningService, name: &str) -> safeguard::mail::worker::Delivered {
    let state = &service.state;
    let delivery = safeguard::app::delivery(state).expect("delivery");
    safeguard::mail::worker::drain(
        &state.pool,
        state.services.clock.as_ref(),
        &delivery,
        name,
        safeguard::app::pacing(state),
    )
    .expect("the outbox drains")
}

/// A test's own PostgreSQL database, dropped when the test ends, even if the service never
/// started (a panic while preparing it).
pub struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// A synthetic child: no real-looking names.
pub fn child() -> Value {
    json!({
        "name": "Test Child Alpha",
        "date_of_birth": "2012-05-14",
        "gender": "female",
        "located_authority": "la-cardiff",
        "residence_authority": "la-cardiff",
    })
}

/// Report facts under which `accept_report` is allowed.
pub fn report_facts() -> Value {
    json!({
        "immediate_risk": false,
        "s130_harm": true,
        "s130_care_needs": true,
        "care_needs_parents_cannot_meet": false,
        "section47_grounds": "yes",
        "trafficking_suspected": false,
        "signs_physical": "none observed",
        "signs_emotional": "anxious, withdrawn",
        "signs_material": "unexplained new clothes",
        "signs_behavioural": "returns home late",
    })
}

pub fn discussion_facts() -> Value {
    json!({
        "discussion_held_at": "2026-11-25T09:30:00Z",
        "participants": ["la-cardiff", "police-south-wales", "health-cardiff-and-vale"],
        "youth_justice_involved": false,
        "information_shared": [{
            "what": "Police intelligence about an adult seen with the child",
            "shared_with": "Cardiff social services",
            "lawful_basis": "prevent_serious_harm",
            "decided_by": "The detective sergeant on duty",
        }],
    })
}

pub fn meeting_facts() -> Value {
    json!({
        "attendance": [
            {"name": "Attendee One", "agency": "la-cardiff", "direct_knowledge": true},
            {"name": "Attendee Two", "agency": "police-south-wales", "direct_knowledge": false}
        ],
        "other_issues": {"going_missing": false, "trafficking": false, "criminal_exploitation": false,
                          "harmful_sexual_behaviour": false, "online_abuse": false},
        "child_views": "Says they feel safer at school than at home",
        "child_seen_alone": true,
        "child_told_about_support": true,
        "icpc_needed": false,
        "plan_kind": "care_and_support",
        "communication_needs": {"other_language": false, "interpreter": false,
                                "british_sign_language": false, "communication_aids": false},
        "disability_or_sensory_impairment": false,
        "unaccompanied_asylum_seeking": false,
        "contexts_considered": "The park near the school where older youths gather after dark",
        "harm_by_peer": false,
    })
}

pub fn one_action() -> Value {
    json!([{ "title": "Arrange a return-home interview", "owner_name": "Attendee Two", "owner_email": "attendee.two@example.invalid", "agency": "police-south-wales" }])
}

/// Moves a new case to the strategy meeting step and returns its id.
pub fn case_at_strategy_meeting(app: &TestApp) -> String {
    let case = app.create_case(&app.chair, child(), report_facts());
    let id = case["id"].as_str().expect("id").to_string();
    let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.event(
        &app.chair,
        &id,
        json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}),
    );
    assert_eq!(s, 200, "{b}");
    id
}

/// Lists the `name` of each guard still missing in a 422 body.
pub fn missing_names(body: &Value) -> Vec<String> {
    body["details"]["missing"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|m| m["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn merge(a: Value, b: Value) -> Value {
    let mut a = a;
    if let (Some(x), Some(y)) = (a.as_object_mut(), b.as_object()) {
        for (k, v) in y {
            x.insert(k.clone(), v.clone());
        }
    }
    a
}
