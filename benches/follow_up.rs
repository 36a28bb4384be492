//! The overdue scan and the team lead's dashboard over 100,000 cases and 1,000,000 agreed
//! actions, on SQLite and (when a URL is given) PostgreSQL. The data is synthetic and loaded in
//! bulk with SQL; the timed code is the service's own. Prints the median and worst of several
//! runs of each.
//!
//!     cargo bench --bench follow_up
//!     SAFEGUARD_BENCH_CASES=20000 SAFEGUARD_TEST_POSTGRES_URL=postgres://… cargo bench --bench follow_up
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};

use safeguard::app::{prepare, AppState};
use safeguard::config::Config;
use safeguard::domain::user::{add_user, NewUser};
use safeguard::follow_up::{action_notices, dashboard, overdue, wales_figures};
use safeguard::identity::Actor;
use safeguard::identity::RoleName;
use safeguard::storage::DbConn;
use safeguard::time::clock::{Clock, ManualClock};
use safeguard::time::wales::london_date;

#[path = "support/statements.rs"]
mod statements;

const RUNS: usize = 15;

fn state(database_url: &str, data_dir: &std::path::Path) -> AppState {
    let vars = [
        ("SAFEGUARD_DATA_DIR", data_dir.display().to_string()),
        ("SAFEGUARD_DATABASE_URL", database_url.to_string()),
        (
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").to_string(),
        ),
        ("SAFEGUARD_POOL_SIZE", "2".to_string()),
        (
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").to_string(),
        ),
        ("SAFEGUARD_SCHEDULER", "off".to_string()),
    ];
    let config = Config::from_sources(None, &|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("bench configuration");
    // Wednesday 25 November 2026, 10:00: a working day.
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 10, 0, 0)
        .single()
        .expect("time");
    prepare(config, ManualClock::new(start) as Arc<dyn Clock>).expect("prepare")
}

/// SQL that differs between the backends: a run of numbers, and date arithmetic.
struct Dialect {
    postgres: bool,
}

impl Dialect {
    /// `INSERT INTO table (columns) SELECT select FROM numbers 1..=n AS n(i)`.
    fn insert(&self, table: &str, columns: &str, n: usize, select: &str) -> String {
        if self.postgres {
            format!("INSERT INTO {table} ({columns}) SELECT {select} FROM generate_series(1, {n}) AS n(i)")
        } else {
            format!("INSERT INTO {table} ({columns}) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT {select} FROM n")
        }
    }

    /// A timestamp `days` (an SQL expression) after '2026-11-25 10:00:00'.
    fn at(&self, days: &str) -> String {
        if self.postgres {
            format!("(TIMESTAMP '2026-11-25 10:00:00' + ({days}) * INTERVAL '1 day')")
        } else {
            format!("datetime('2026-11-25 10:00:00', ({days}) || ' days')")
        }
    }

    /// A date `days` after `base` (a literal date).
    fn date(&self, base: &str, days: &str) -> String {
        if self.postgres {
            format!("(DATE '{base}' + ({days}))")
        } else {
            format!("date('{base}', ({days}) || ' days')")
        }
    }
}

fn load(state: &AppState, conn: &mut DbConn, cases: usize) -> Actor {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let d = Dialect { postgres };
    let now = state.services.now().naive_utc();
    let (chair, _) = add_user(
        conn,
        &state.services.engine.agencies.current(),
        NewUser {
            name: "Bench Chair",
            email: "bench.chair@example.invalid",
            role: "chair",
            team: "Bench team",
            authority: "la-cardiff",
        },
        safeguard::domain::user::FirstToken {
            key: &state.services.audit_key,
            days: 90,
        },
        now,
    )
    .expect("chair");
    let (lead, _) = add_user(
        conn,
        &state.services.engine.agencies.current(),
        NewUser {
            name: "Bench Lead",
            email: "bench.lead@example.invalid",
            role: "team_lead",
            team: "Bench team",
            authority: "la-cardiff",
        },
        safeguard::domain::user::FirstToken {
            key: &state.services.audit_key,
            days: 90,
        },
        now,
    )
    .expect("team lead");
    let started = Instant::now();
    let sql = |s: String, conn: &mut DbConn| {
        diesel::sql_query(&s)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}\n{s}"))
    };
    sql("CREATE TEMPORARY TABLE bench_la AS SELECT code, ROW_NUMBER() OVER (ORDER BY code) - 1 AS idx FROM agencies WHERE kind = 'local_authority'".into(), conn);
    // Cases: over two years, children aged 9 to 17, spread across the 22 authorities; 60% open.
    sql(d.insert("cases", "id, reference, child_name, child_date_of_birth, child_gender, located_authority, residence_authority, looked_after, existing_plan, in_secure_estate, facts, status, version, audit_seq, audit_head, created_by, created_at, updated_at", cases,
        &format!("'case-' || i, 'CSE-B-' || i, 'Bench Child', {}, 'female', (SELECT code FROM bench_la WHERE idx = i % 22), (SELECT code FROM bench_la WHERE idx = i % 22), false, 'none', false, '{{}}', CASE WHEN i % 10 < 6 THEN 'open' ELSE 'closed' END, 1, 0, 'genesis', '{chair}', {}, {}",
            d.date("2009-01-01", "i % 3000"), d.at("-(i % 730)"), d.at("-(i % 730)"))), conn);
    // The main pathway: open cases at one of four steps, due from 10 days ago to 50 days ahead.
    sql(d.insert("case_workflows", "id, case_id, workflow, workflow_version, state, entered_at, due_at, due_source, started_at, finished_at", cases,
        &format!("'cw-' || i, 'case-' || i, 'cse-strategy', 2, CASE WHEN i % 10 >= 6 THEN 'closed' WHEN i % 4 = 0 THEN 'report_received' WHEN i % 4 = 1 THEN 'strategy_discussion' WHEN i % 4 = 2 THEN 'strategy_meeting' ELSE 'plan_preparation' END, {}, CASE WHEN i % 10 < 6 THEN {} END, 'bench', {}, CASE WHEN i % 10 >= 6 THEN {} END",
            d.at("-(i % 730) + 1"), d.at("(i % 60) - 10"), d.at("-(i % 730)"), d.at("-(i % 730) + 20"))), conn);
    // Three finished steps per case for the timeliness figures; one in four late.
    sql(d.insert("step_history", "id, case_id, case_workflow_id, workflow, state, entered_at, due_at, due_source, left_at, left_by_event", cases * 3,
        &format!("'sh-' || i, 'case-' || ((i - 1) / 3 + 1), 'cw-' || ((i - 1) / 3 + 1), 'cse-strategy', CASE WHEN i % 3 = 1 THEN 'report_received' WHEN i % 3 = 2 THEN 'strategy_discussion' ELSE 'strategy_meeting' END, {}, {}, 'bench', {}, 'bench_event'",
            d.at("-(((i - 1) / 3 + 1) % 730) + (i % 3)"), d.at("-(((i - 1) / 3 + 1) % 730) + (i % 3) + 1"), d.at("-(((i - 1) / 3 + 1) % 730) + (i % 3) + CASE WHEN i % 4 = 0 THEN 3 ELSE 0 END"))), conn);
    // Ten actions per case; 3% open, due from 60 days ago to 60 ahead; those more than a day
    // late have had their notice.
    let actions = cases * 10;
    sql(d.insert("agreed_actions", "id, case_id, meeting_id, kind, title, owner_name, owner_email, owner_user_id, agency_code, due_date, status, cancellable, rules, created_at, updated_at, created_by, reminder_sent_at, overdue_notice_at, escalated_at", actions,
        &format!("'act-' || i, 'case-' || ((i - 1) / 10 + 1), NULL, NULL, 'Bench action', 'Bench Owner', 'owner@example.invalid', NULL, 'police-south-wales', {}, CASE WHEN i % 100 < 3 THEN 'open' ELSE 'done' END, true, '', {}, {}, '{chair}', NULL, CASE WHEN i % 120 < 58 THEN {} END, NULL",
            d.date("2026-11-25", "(i % 120) - 60"), d.at("-(i % 120)"), d.at("-(i % 120)"), d.at("0"))), conn);
    // A core group due for one case in five.
    sql(d.insert("plan_reviews", "id, case_id, case_workflow_id, kind, number, due_at, due_source, status, held_at, created_at", cases / 5,
        &format!("'rev-' || i, 'case-' || (i * 5), 'cw-' || (i * 5), 'core_group', 1, {}, 'bench', 'due', NULL, {}",
            d.at("(i % 30) - 5"), d.at("-30"))), conn);
    // PostgreSQL's autovacuum would soon vacuum tables loaded in bulk; until it has, no index can
    // answer a query alone (the visibility map is empty), which no running service sees for long.
    let settle = if d.postgres {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    };
    sql(settle.into(), conn);
    println!(
        "  loaded {cases} cases, {actions} actions, {} steps, {} reviews in {:.1} s",
        cases * 3,
        cases / 5,
        started.elapsed().as_secs_f64()
    );
    Actor {
        id: lead,
        name: "Bench Lead".into(),
        role: RoleName::TeamLead,
        team: "Bench team".into(),
        authority: "la-cardiff".into(),
        broken_glass: Vec::new(),
        language: safeguard::i18n::Language::English,
    }
}

fn timed<T>(
    label: &str,
    target_ms: u128,
    mut f: impl FnMut() -> T,
    describe: impl Fn(&T) -> String,
) {
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    // One untimed run first: caches warm, and the scan's first notices sent.
    f();
    for _ in 0..RUNS {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2];
    let worst = times[times.len() - 1];
    println!(
        "  {label:<44} median {:>7.1} ms  worst {:>7.1} ms  target (worst) < {target_ms} ms: {}  ({})",
        p50.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0,
        if worst.as_millis() < target_ms {
            "met"
        } else {
            "NOT met"
        },
        last.as_ref().map(&describe).unwrap_or_default()
    );
}

fn run(label: &str, state: &AppState, cases: usize) {
    println!("{label}");
    let mut conn = state.pool.get().expect("connection");
    let lead = load(state, &mut conn, cases);
    let now = state.services.now();
    timed(
        "overdue scan (the overdue-scan job)",
        200,
        || action_notices::overdue(&state.services, &mut conn, now).expect("scan"),
        |s| s.clone(),
    );
    timed(
        "overdue steps and actions, all of Wales",
        200,
        || {
            let steps = overdue::overdue_steps(
                &mut conn,
                &state.services.engine,
                &overdue::Scope::All,
                now,
            )
            .expect("steps");
            let actions = overdue::overdue_actions(
                &mut conn,
                &state.services.engine.calendar,
                &overdue::Scope::All,
                london_date(now),
            )
            .expect("actions");
            (steps.len(), actions.len())
        },
        |(s, a)| format!("{s} steps, {a} actions overdue"),
    );
    let cardiff = overdue::Scope::Authority("la-cardiff".into());
    // The dashboard's parts, so that a slow one shows.
    let today = london_date(now);
    timed(
        "  Cardiff: overdue steps",
        100,
        || {
            overdue::overdue_steps(&mut conn, &state.services.engine, &cardiff, now)
                .expect("steps")
                .len()
        },
        |n| format!("{n}"),
    );
    timed(
        "  Cardiff: overdue actions",
        100,
        || {
            overdue::overdue_actions(&mut conn, &state.services.engine.calendar, &cardiff, today)
                .expect("actions")
                .len()
        },
        |n| format!("{n}"),
    );
    timed(
        "  Cardiff: reviews due in 14 days",
        100,
        || {
            overdue::reviews_due(
                &mut conn,
                &state.services.engine,
                &cardiff,
                now,
                now + chrono::Duration::days(14),
            )
            .expect("reviews")
            .len()
        },
        |n| format!("{n}"),
    );
    timed(
        "  Cardiff: 18th birthdays in 180 days",
        100,
        || {
            overdue::turning_18(
                &mut conn,
                &cardiff,
                today,
                today + chrono::Duration::days(180),
            )
            .expect("birthdays")
            .len()
        },
        |n| format!("{n}"),
    );
    timed(
        "  Cardiff: the four lists together",
        100,
        || {
            dashboard::lists(&mut conn, &state.services.engine, &cardiff, now)
                .expect("lists")
                .overdue_steps
                .len()
        },
        |n| format!("{n} steps"),
    );
    let (from, to) = dashboard::Period::default()
        .resolve(today)
        .expect("the default period");
    timed(
        "  Cardiff: the figures Wales reports (3 months)",
        100,
        || {
            wales_figures::compute(&mut conn, &state.services.engine, "la-cardiff", from, to)
                .expect("figures")
        },
        |_| "of the dashboard's period".to_string(),
    );
    timed(
        "dashboard for a team lead (Cardiff, 3 months)",
        100,
        || {
            dashboard::build(
                &mut conn,
                &state.services.engine,
                &lead,
                &dashboard::Period::default(),
                now,
            )
            .expect("dashboard")
        },
        |d| {
            format!(
                "{} steps, {} actions, {} reviews, {} birthdays; {} teams, {} authorities",
                d.lists.overdue_steps.len(),
                d.lists.overdue_actions.len(),
                d.lists.reviews_due.len(),
                d.lists.turning_18.len(),
                d.timeliness_by_team.len(),
                d.timeliness_by_authority.len()
            )
        },
    );
    statements::reset();
    dashboard::build(
        &mut conn,
        &state.services.engine,
        &lead,
        &dashboard::Period::default(),
        now,
    )
    .expect("dashboard");
    statements::print(1, "a dashboard");
}

fn main() {
    let cases: usize = std::env::var("SAFEGUARD_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!(
        "safeguard follow-up benchmark: {cases} cases, {} actions; {RUNS} timed runs each",
        cases * 10
    );
    statements::install();
    let dir = tempfile::tempdir().expect("temp dir");
    // SAFEGUARD_BENCH_KEEP=FILE keeps the SQLite database there, to look at query plans.
    let sqlite_file = std::env::var("SAFEGUARD_BENCH_KEEP")
        .unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
    let sqlite = state(&sqlite_file, dir.path());
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
