//! The real server under load, on SQLite at the shipped durability settings: cold start with
//! migrations on an empty database, then a bounded number of case reads from 64 concurrent
//! clients (each read access-logged before its answer leaves), then transitions from 8
//! concurrent clients, each over HTTP with its expected version. Prints each figure beside its
//! target (issue 16), the resident memory (anonymous apart from mapped files) and the size of
//! the write-ahead log at the end.
//!
//!     cargo bench --bench http
//!
//! `SAFEGUARD_BENCH_CASES` sets the size (default 400 cases; CI runs 20).
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use serde_json::{json, Value};

use safeguard::app::{prepare, RunningService};
use safeguard::config::Config;
use safeguard::domain::user::{add_user, FirstToken, NewUser};
use safeguard::time::clock::{Clock, ManualClock};

const READERS: usize = 64;
const WRITERS: usize = 8;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `VmRSS`, `RssAnon` and `RssFile` of this process, in MiB.
fn memory() -> (f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("RssAnon:"), field("RssFile:"))
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    let cases: usize = std::env::var("SAFEGUARD_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let reads_each = (cases / 2).max(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let vars = [
        ("SAFEGUARD_DATA_DIR", dir.path().display().to_string()),
        ("SAFEGUARD_DATABASE_URL", db.display().to_string()),
        (
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").to_string(),
        ),
        (
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").to_string(),
        ),
        ("SAFEGUARD_MAIL_TRIAL", "on".to_string()),
        ("SAFEGUARD_SCHEDULER", "off".to_string()),
        ("SAFEGUARD_OUTBOX_WORKER", "off".to_string()),
        ("SAFEGUARD_POOL_SIZE", "8".to_string()),
    ];
    let config = Config::from_sources(None, &|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("config");
    let clock = ManualClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("time"),
    );
    // Cold start: an empty database, every migration, the workflows, templates and catalogue.
    let started = Instant::now();
    let state = prepare(config, clock.clone() as Arc<dyn Clock>).expect("prepare");
    let cold = started.elapsed();
    let token = {
        let mut conn = state.pool.get().expect("connection");
        add_user(
            &mut conn,
            &state.services.engine.agencies.current(),
            NewUser {
                name: "Bench Chair",
                email: "bench.chair@example.invalid",
                role: "chair",
                team: "Bench",
                authority: "la-cardiff",
            },
            FirstToken {
                key: &state.services.audit_key,
                days: 90,
            },
            clock.now().naive_utc(),
        )
        .expect("user")
        .1
    };
    let service = RunningService::start(state, "127.0.0.1:0").expect("service");
    // The log's size is watched through the whole run, not only at its end: bounded means its
    // largest, under load.
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let wal_path = dir.path().join("bench.db-wal");
    let wal_watch = {
        let (watching, wal_path) = (watching.clone(), wal_path.clone());
        std::thread::spawn(move || {
            let mut largest = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                largest = largest.max(std::fs::metadata(&wal_path).map_or(0, |m| m.len()));
                std::thread::sleep(Duration::from_millis(20));
            }
            largest
        })
    };
    let base = service.base_url();
    let agent = ureq::AgentBuilder::new()
        .max_idle_connections_per_host(READERS)
        .build();
    let auth = format!("Bearer {token}");
    let facts = json!({
        "immediate_risk": false, "s130_harm": true, "s130_care_needs": true, "care_needs_parents_cannot_meet": false,
        "section47_grounds": "yes", "trafficking_suspected": false, "signs_physical": "none observed",
        "signs_emotional": "withdrawn", "signs_material": "new phone", "signs_behavioural": "missing overnight",
    });
    let mut ids: Vec<(String, i64)> = Vec::with_capacity(cases);
    for n in 0..cases {
        let body = json!({"child": {"name": format!("Bench Child {n}"), "date_of_birth": "2012-05-14", "gender": "female",
            "located_authority": "la-cardiff", "residence_authority": "la-cardiff"}, "facts": facts});
        let made: Value = agent
            .post(&format!("{base}/api/cases"))
            .set("Authorization", &auth)
            .send_json(body)
            .expect("a case")
            .into_json()
            .expect("json");
        ids.push((
            made["id"].as_str().expect("id").to_string(),
            made["version"].as_i64().expect("version"),
        ));
    }

    // Reads: every client reads cases round the set, as fast as answers come.
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..READERS)
            .map(|c| {
                let (agent, auth, base, ids) = (&agent, &auth, &base, &ids);
                s.spawn(move || {
                    let mut mine = Vec::with_capacity(reads_each);
                    for r in 0..reads_each {
                        let (id, _) = &ids[(c * reads_each + r) % ids.len()];
                        let t = Instant::now();
                        let answer = agent
                            .get(&format!("{base}/api/cases/{id}"))
                            .set("Authorization", auth)
                            .call()
                            .expect("a read");
                        assert_eq!(answer.status(), 200);
                        let _ = answer.into_string();
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("reader"))
            .collect()
    });
    let read_secs = started.elapsed().as_secs_f64();
    let mut reads = latencies;
    reads.sort_unstable();
    let (rss_reads, anon_reads, file_reads) = memory();

    // Writes: each client takes its own cases to the strategy discussion.
    let per_writer = ids.len() / WRITERS;
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (agent, auth, base) = (&agent, &auth, &base);
                let slice = &ids[w * per_writer..(w + 1) * per_writer];
                s.spawn(move || {
                    let mut mine = Vec::with_capacity(slice.len());
                    for (id, version) in slice {
                        let t = Instant::now();
                        let answer = agent
                            .post(&format!("{base}/api/cases/{id}/events"))
                            .set("Authorization", auth)
                            .send_json(
                                json!({"event": "accept_report", "expected_version": version}),
                            )
                            .expect("a transition");
                        assert_eq!(answer.status(), 200);
                        let _ = answer.into_string();
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer"))
            .collect()
    });
    let write_secs = started.elapsed().as_secs_f64();
    let mut writes = latencies;
    writes.sort_unstable();
    let (rss, anon, file) = memory();
    let wal = std::fs::metadata(&wal_path).map_or(0, |m| m.len());
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let wal_largest = wal_watch.join().expect("log watcher");

    let cold_ms = cold.as_secs_f64() * 1000.0;
    let read_rate = reads.len() as f64 / read_secs;
    let write_rate = writes.len() as f64 / write_secs;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("safeguard HTTP benchmark: the real server on SQLite, {cases} cases");
    println!(
        "cold start with migrations (empty database): {cold_ms:.0} ms; target < 300 ms: {}",
        verdict(cold_ms < 300.0)
    );
    println!(
        "reads, {READERS} clients: {} reads in {read_secs:.2} s = {read_rate:.0} reads/s (p50 {:.1} ms, p99 {:.1} ms); target >= 8000 reads/s: {}",
        reads.len(),
        ms(percentile(&reads, 0.5)),
        ms(percentile(&reads, 0.99)),
        verdict(read_rate >= 8000.0)
    );
    println!(
        "transitions, {WRITERS} clients: {} in {write_secs:.2} s = {write_rate:.0} transitions/s (p50 {:.1} ms, p99 {:.1} ms); target >= 2000/s: {}",
        writes.len(),
        ms(percentile(&writes, 0.5)),
        ms(percentile(&writes, 0.99)),
        verdict(write_rate >= 2000.0)
    );
    println!(
        "memory after the reads: VmRSS {rss_reads:.0} MiB (RssAnon {anon_reads:.0} MiB, RssFile {file_reads:.0} MiB); after the writes: VmRSS {rss:.0} MiB (RssAnon {anon:.0} MiB, RssFile {file:.0} MiB); target RssAnon < 64 MiB: {}",
        verdict(anon.max(anon_reads) < 64.0)
    );
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "write-ahead log: largest {:.1} MiB during the run, {:.1} MiB at the end; truncated past 16 MiB, looked at twice a second; target bounded, under 64 MiB: {}",
        mib(wal_largest),
        mib(wal),
        verdict(wal_largest < 64 * 1024 * 1024)
    );
    drop(service);
}
