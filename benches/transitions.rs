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

#[path = "support/statements.rs"]
mod statements;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn state(database_url: &str, data_dir: &std::path::Path, connections: usize) -> AppState {
    let vars = [
        ("SAFEGUARD_DATA_DIR", data_dir.display().to_string()),
        ("SAFEGUARD_DATABASE_URL", database_url.to_string()),
        (
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").to_string(),
        ),
        // One more connection than the writers, for the log keeper.
        ("SAFEGUARD_POOL_SIZE", (connections + 1).to_string()),
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

/// The bench's chair, able to drive the whole pathway.
fn bench_chair(state: &AppState) -> Actor {
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
    Actor {
        id,
        name: "Bench Chair".into(),
        role: RoleName::Chair,
        team: "Bench".into(),
        authority: "la-cardiff".into(),
        broken_glass: Vec::new(),
        language: safeguard::i18n::Language::English,
    }
}

/// A new case's report and the events of the whole main pathway.
fn pathway() -> (NewCaseRequest, Vec<Step>) {
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
    let req: NewCaseRequest =
        serde_json::from_value(json!({"child": child, "facts": report})).expect("request");
    (req, steps)
}

/// Creates `cases` cases, then drives each through the pathway from `connections` connections at
/// once (each its own share of the cases), and prints the figures.
fn run(label: &str, state: &AppState, cases: usize, connections: usize) -> f64 {
    // As the service does: the log is checkpointed off the writers' path.
    let _wal = safeguard::storage::wal::WalKeeper::spawn(state.pool.clone());
    let actor = bench_chair(state);
    let (req, steps) = pathway();
    let created = Instant::now();
    let mut made = Vec::with_capacity(cases);
    {
        let mut conn = state.pool.get().expect("connection");
        for _ in 0..cases {
            let intent = state.services.intent(&actor.id, "bench");
            let case = report::record(&state.services, &mut conn, &intent, &actor, &req, None)
                .expect("create case");
            made.push((case.id, case.version));
        }
    }
    let created = created.elapsed();
    statements::reset();
    let shares: Vec<Vec<(String, i64)>> = (0..connections)
        .map(|c| made.iter().skip(c).step_by(connections).cloned().collect())
        .collect();
    let wall = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .iter()
            .map(|share| {
                let (actor, steps) = (&actor, &steps);
                scope.spawn(move || {
                    let mut conn = state.pool.get().expect("connection");
                    let mut latencies = Vec::with_capacity(share.len() * steps.len());
                    for (case_id, version) in share {
                        let mut version = *version;
                        let intent = state.services.intent(&actor.id, "bench");
                        for (event, facts, rationale, actions) in steps {
                            let req = EventRequest {
                                event: event.to_string(),
                                workflow: None,
                                expected_version: version,
                                rationale: rationale.map(str::to_string),
                                facts: facts.clone(),
                                agreed_actions: serde_json::from_value(actions.clone())
                                    .expect("actions"),
                                meeting_id: None,
                                confirm_addresses_rationale: None,
                            };
                            let t = Instant::now();
                            let outcome = transition::apply(
                                &state.services,
                                &mut conn,
                                &intent,
                                actor,
                                case_id,
                                &req,
                            )
                            .expect("transition");
                            latencies.push(t.elapsed());
                            version = outcome.version;
                        }
                    }
                    latencies
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("bench worker"))
            .collect()
    });
    let wall = wall.elapsed();
    latencies.sort();
    let n = latencies.len();
    let rate = n as f64 / wall.as_secs_f64();
    let plural = if connections == 1 { "" } else { "s" };
    println!(
        "{label:<10} {connections} connection{plural}, {cases} cases, {n} transitions: {rate:>8.0} transitions/s \
         (p50 {:>6.0} µs, p99 {:>6.0} µs); {:>6.0} cases created/s; peak RSS {} MiB",
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        cases as f64 / created.as_secs_f64(),
        peak_rss_kib() / 1024,
    );
    statements::print(n, "a transition");
    let mut conn = state.pool.get().expect("connection");
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
    rate
}

/// The thin peer (`benches/peer/peer_transitions.py`, the Python `transitions` library) run
/// beside us on the same machine in the same run, when Python has the package.
fn peer(cases: usize, dir: &std::path::Path) -> Option<f64> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/peer/peer_transitions.py"
    );
    let db = dir.join("peer.db");
    let out = std::process::Command::new("python3")
        .args([script, &cases.to_string(), "roundtrip", "NORMAL"])
        .arg(&db)
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let line: Value = serde_json::from_slice(&out.stdout).ok()?;
            let rate = line["steps_per_s"].as_f64()?;
            println!(
                "peer       python transitions {}, {cases} cases, {} steps: {rate:>8.0} steps/s (one UPDATE per step, WAL, synchronous=NORMAL)",
                line["engine"].as_str().unwrap_or("?"),
                line["user_steps"],
            );
            Some(rate)
        }
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr);
            println!(
                "peer       skipped: {} (pip install transitions==0.9.3 to run it)",
                why.lines().last().unwrap_or("python3 failed")
            );
            None
        }
        Err(e) => {
            println!("peer       skipped: python3 not runnable ({e})");
            None
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let cases: usize = std::env::var("SAFEGUARD_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    statements::install();
    println!(
        "safeguard transition benchmark: full cse-strategy pathway, 6 transitions per case \
         (target, issue 16: SQLite 20,000/s, p99 < 200 µs, 1.5 x the peer; PostgreSQL 2,000/s from one connection, 4,000/s from four)"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = state(
        &dir.path().join("bench.db").display().to_string(),
        dir.path(),
        1,
    );
    let ours = run("sqlite", &sqlite, cases, 1);
    drop(sqlite);
    if let Some(theirs) = peer(cases, dir.path()) {
        println!(
            "ratio      sqlite / peer: {:.2} (target at least 1.5)",
            ours / theirs
        );
    }

    match std::env::var("SAFEGUARD_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("SAFEGUARD_TEST_POSTGRES_URL"))
    {
        Ok(admin) if !admin.is_empty() => {
            let mut c =
                diesel::PgConnection::establish(&admin).expect("PostgreSQL admin connection");
            let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
            for connections in [1, 4] {
                let name = format!("sg_bench_{}", uuid::Uuid::new_v4().simple());
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .expect("create bench database");
                let pg = state(&format!("{base}/{name}"), dir.path(), connections);
                run("postgres", &pg, cases, connections);
                drop(pg);
                let _ =
                    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut c);
            }
        }
        _ => println!(
            "postgres   skipped: set SAFEGUARD_BENCH_POSTGRES_URL or SAFEGUARD_TEST_POSTGRES_URL"
        ),
    }
}
