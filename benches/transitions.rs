//! Drives synthetic cases through the whole default pathway via the engine, with persistence,
//! on SQLite and (when a URL is given) PostgreSQL, from one connection. Prints transitions per
//! second, p50/p99 latency per transition and the peak memory of the run.
//!
//!     cargo bench --bench transitions
//!     SAFEGUARD_BENCH_CASES=5000 SAFEGUARD_TEST_POSTGRES_URL=postgres://… cargo bench --bench transitions
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Map, Value};

use safeguard::app::{prepare, AppState};
use safeguard::config::Config;
use safeguard::domain::report::{self, NewCaseRequest};
use safeguard::domain::transition::{self, EventRequest};
use safeguard::domain::user::{add_user, NewUser};
use safeguard::identity::Actor;
use safeguard::identity::RoleName;
use safeguard::time::clock::{Clock, ManualClock};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn state(database_url: &str, data_dir: &std::path::Path) -> AppState {
    let vars = [
        ("SAFEGUARD_DATA_DIR", data_dir.display().to_string()),
        ("SAFEGUARD_DATABASE_URL", database_url.to_string()),
        (
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").to_string(),
        ),
        ("SAFEGUARD_POOL_SIZE", "1".to_string()),
        (
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").to_string(),
        ),
    ];
    let config = Config::from_sources(None, &|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("bench configuration");
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 10, 0, 0)
        .single()
        .expect("time");
    prepare(config, ManualClock::new(start) as Arc<dyn Clock>).expect("prepare")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// One event of the pathway: name, facts, rationale, agreed actions.
type Step = (
    &'static str,
    Map<String, Value>,
    Option<&'static str>,
    Value,
);

fn run(label: &str, state: &AppState, cases: usize) {
    let mut conn = state.pool.get().expect("connection");
    let now = state.services.now().naive_utc();
    let (id, _) = add_user(
        &mut conn,
        &state.services.engine.agencies.current(),
        NewUser {
            name: "Bench Chair",
            email: "bench.chair@example.invalid",
            role: "chair",
            team: "Bench",
            authority: "la-cardiff",
        },
        safeguard::domain::user::FirstToken {
            key: &state.services.audit_key,
            days: 90,
        },
        now,
    )
    .expect("user");
    let actor = Actor {
        id,
        name: "Bench Chair".into(),
        role: RoleName::Chair,
        team: "Bench".into(),
        authority: "la-cardiff".into(),
        broken_glass: Vec::new(),
        language: safeguard::i18n::Language::English,
    };
    let report = obj(json!({
        "immediate_risk": false, "s130_harm": true, "s130_care_needs": true, "care_needs_parents_cannot_meet": false,
        "section47_grounds": "yes", "trafficking_suspected": false, "signs_physical": "none observed",
        "signs_emotional": "withdrawn", "signs_material": "new phone", "signs_behavioural": "missing overnight",
    }));
    let child = json!({"name": "Bench Child", "date_of_birth": "2012-05-14", "gender": "female",
        "located_authority": "la-cardiff", "residence_authority": "la-cardiff"});
    let steps: Vec<Step> = vec![
        ("accept_report", Map::new(), None, json!([])),
        (
            "convene_strategy_meeting",
            obj(json!({"discussion_held_at": "2026-11-25T09:30:00Z",
            "participants": ["la-cardiff", "police-south-wales"], "youth_justice_involved": false,
            "information_shared": [{"what": "Police intelligence about an adult seen with the child",
                "shared_with": "Cardiff social services", "lawful_basis": "prevent_serious_harm",
                "decided_by": "The detective sergeant on duty"}]})),
            None,
            json!([]),
        ),
        (
            "complete_strategy_meeting",
            obj(json!({
            "attendance": [{"name": "Attendee One", "agency": "la-cardiff", "direct_knowledge": true}],
            "other_issues": {"going_missing": true, "trafficking": false, "criminal_exploitation": false, "harmful_sexual_behaviour": false, "online_abuse": false},
            "practice_guides_referred": "Missing children practice guide", "child_views": "Wants to stay at school",
            "child_seen_alone": true, "child_told_about_support": true, "icpc_needed": false, "plan_kind": "care_and_support",
            "communication_needs": {"other_language": false, "interpreter": false, "british_sign_language": false, "communication_aids": false},
            "disability_or_sensory_impairment": false, "unaccompanied_asylum_seeking": false,
            "contexts_considered": "The park near the school", "harm_by_peer": false})),
            None,
            json!([{"title": "Return-home interview", "owner_name": "Attendee One", "owner_email": "attendee.one@example.invalid", "agency": "la-cardiff"}]),
        ),
        (
            "agree_plan",
            obj(
                json!({"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the plan's goals with their social worker",
                "family_work": "Weekly sessions with the parents on keeping safe online"}),
            ),
            None,
            json!([]),
        ),
        (
            "review_plan",
            obj(
                json!({"review_held_on": "2026-11-25", "child_views": "Feels safer since the plan began"}),
            ),
            None,
            json!([]),
        ),
        (
            "end_plan",
            obj(json!({"plan_end_reason": "deregistered_at_review"})),
            Some("Deregistered at review: risk reduced and plan met."),
            json!([]),
        ),
    ];
    let mut latencies = Vec::with_capacity(cases * steps.len());
    let mut in_transitions = Duration::ZERO;
    let mut creating = Duration::ZERO;
    let wall = Instant::now();
    for _ in 0..cases {
        let req: NewCaseRequest =
            serde_json::from_value(json!({"child": child, "facts": report})).expect("request");
        let t = Instant::now();
        let intent = state.services.intent(&actor.id, "bench");
        let case = report::record(&state.services, &mut conn, &intent, &actor, &req, None)
            .expect("create case");
        creating += t.elapsed();
        let mut version = case.version;
        for (event, facts, rationale, actions) in &steps {
            let req = EventRequest {
                event: event.to_string(),
                workflow: None,
                expected_version: version,
                rationale: rationale.map(str::to_string),
                facts: facts.clone(),
                agreed_actions: serde_json::from_value(actions.clone()).expect("actions"),
                meeting_id: None,
                confirm_addresses_rationale: None,
            };
            let t = Instant::now();
            let outcome =
                transition::apply(&state.services, &mut conn, &intent, &actor, &case.id, &req)
                    .expect("transition");
            let d = t.elapsed();
            in_transitions += d;
            latencies.push(d);
            version = outcome.version;
        }
    }
    let wall = wall.elapsed();
    latencies.sort();
    let n = latencies.len();
    println!(
        "{label:<10} {cases} cases, {n} transitions: {:>8.0} transitions/s (p50 {:>6.0} µs, p99 {:>6.0} µs); \
         {:>6.0} cases created/s; whole run {:.2} s; peak RSS {} MiB",
        n as f64 / in_transitions.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        cases as f64 / creating.as_secs_f64(),
        wall.as_secs_f64(),
        peak_rss_kib() / 1024,
    );
    let report = safeguard::domain::audit_verify::verify(
        &mut conn,
        &state.services.audit_key,
        &state.services.engine,
        &state.services.checkpoints,
    )
    .expect("verify");
    assert!(
        report.problems.is_empty(),
        "audit chain broken after the run"
    );
    assert_eq!(report.entries, cases * (steps.len() + 2));
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let cases: usize = std::env::var("SAFEGUARD_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("safeguard transition benchmark: full cse-strategy pathway, 6 transitions per case, one connection");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = state(
        &dir.path().join("bench.db").display().to_string(),
        dir.path(),
    );
    run("sqlite", &sqlite, cases);
    drop(sqlite);

    match std::env::var("SAFEGUARD_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("SAFEGUARD_TEST_POSTGRES_URL"))
    {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("sg_bench_{}", uuid::Uuid::new_v4().simple());
            let mut c =
                diesel::PgConnection::establish(&admin).expect("PostgreSQL admin connection");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .expect("create bench database");
            let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
            let pg = state(&format!("{base}/{name}"), dir.path());
            run("postgres", &pg, cases);
            drop(pg);
            let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut c);
        }
        _ => println!(
            "postgres   skipped: set SAFEGUARD_BENCH_POSTGRES_URL or SAFEGUARD_TEST_POSTGRES_URL"
        ),
    }
}
