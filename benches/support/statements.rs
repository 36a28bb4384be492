//! With `SAFEGUARD_BENCH_STATEMENTS=1`, every statement's time, summed by its SQL, so that a
//! profile names the statement rather than only `sqlite3_step` or a round trip. Shared by the
//! benchmarks (`#[path]`); not a benchmark of its own.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

static TOTALS: Mutex<Option<HashMap<String, (u64, Duration)>>> = Mutex::new(None);

struct Timer(Option<Instant>);

impl Instrumentation for Timer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.0 = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { query, .. } => {
                let Some(started) = self.0.take() else { return };
                let spent = started.elapsed();
                let text = query.to_string();
                let sql = text
                    .split(" -- binds")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if let Ok(mut totals) = TOTALS.lock() {
                    let entry = totals
                        .get_or_insert_with(HashMap::new)
                        .entry(sql)
                        .or_default();
                    entry.0 += 1;
                    entry.1 += spent;
                }
            }
            _ => {}
        }
    }
}

pub fn install() {
    if std::env::var("SAFEGUARD_BENCH_STATEMENTS").is_ok_and(|v| v == "1") {
        diesel::connection::set_default_instrumentation(|| Some(Box::new(Timer(None))))
            .expect("instrumentation");
    }
}

pub fn reset() {
    if let Ok(mut totals) = TOTALS.lock() {
        if let Some(t) = totals.as_mut() {
            t.clear();
        }
    }
}

/// The statements that took the most time, per `unit` (of which there were `units`).
pub fn print(units: usize, unit: &str) {
    let Ok(mut totals) = TOTALS.lock() else {
        return;
    };
    let Some(totals) = totals.take() else { return };
    let mut rows: Vec<_> = totals.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1 .1));
    let all: Duration = rows.iter().map(|r| r.1 .1).sum();
    let calls: u64 = rows.iter().map(|r| r.1 .0).sum();
    println!(
        "           statements: {:.1} {unit}, {:.0} µs {unit} in all",
        calls as f64 / units as f64,
        all.as_secs_f64() * 1e6 / units as f64
    );
    for (sql, (count, spent)) in rows.into_iter().take(25) {
        println!(
            "           {:>7.1} µs {:>5.2}x  {}",
            spent.as_secs_f64() * 1e6 / units as f64,
            count as f64 / units as f64,
            sql.chars().take(160).collect::<String>()
        );
    }
}
