//! Which run of each job is due, and claiming it. A run is identified by its job and the time
//! it was scheduled for; inserting that row is the claim, so several replicas polling the same
//! database run each scheduled time once. After downtime only the latest missed time runs:
//! one catch-up, not one per missed tick.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::JobName;
use crate::app::AppState;
use crate::error::AppError;
use crate::storage::schema::job_runs;
use crate::storage::DbConn;

/// Claims `(job, scheduled_for)` for this replica. False when another replica has it.
pub fn claim(
    conn: &mut DbConn,
    job: JobName,
    scheduled_for: NaiveDateTime,
    replica: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(job_runs::table)
        .values((
            job_runs::job.eq(job.as_str()),
            job_runs::scheduled_for.eq(scheduled_for),
            job_runs::claimed_by.eq(replica),
            job_runs::started_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn finish(
    conn: &mut DbConn,
    job: JobName,
    scheduled_for: NaiveDateTime,
    outcome: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(
        job_runs::table
            .filter(job_runs::job.eq(job.as_str()))
            .filter(job_runs::scheduled_for.eq(scheduled_for)),
    )
    .set((
        job_runs::finished_at.eq(Some(now)),
        job_runs::outcome.eq(Some(outcome)),
    ))
    .execute(conn)?;
    Ok(())
}

fn last_scheduled(conn: &mut DbConn, job: JobName) -> Result<Option<NaiveDateTime>, AppError> {
    Ok(job_runs::table
        .filter(job_runs::job.eq(job.as_str()))
        .select(max(job_runs::scheduled_for))
        .get_result(conn)?)
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub job: &'static str,
    pub scheduled_for: DateTime<Utc>,
    pub outcome: String,
}

/// Claims and runs `job` for `scheduled_for`, recording the outcome. None when another
/// replica claimed it first.
pub fn run_claimed(
    state: &AppState,
    job: JobName,
    scheduled_for: DateTime<Utc>,
    replica: &str,
) -> Result<Option<RunReport>, AppError> {
    let now = state.services.now();
    let mut conn = state.pool.get()?;
    if !claim(
        &mut conn,
        job,
        scheduled_for.naive_utc(),
        replica,
        now.naive_utc(),
    )? {
        return Ok(None);
    }
    // The job works on its own connections; this one only records the outcome.
    let outcome = match super::run(state, job, now) {
        Ok(line) => line,
        Err(e) => {
            tracing::error!(job = job.as_str(), error = %e, "job failed");
            format!("failed: {e}")
        }
    };
    finish(
        &mut conn,
        job,
        scheduled_for.naive_utc(),
        &outcome,
        state.services.now().naive_utc(),
    )?;
    tracing::info!(job = job.as_str(), %scheduled_for, outcome, "job ran");
    Ok(Some(RunReport {
        job: job.as_str(),
        scheduled_for,
        outcome,
    }))
}

/// One pass over every job: runs the latest scheduled time not yet run, if it is after the
/// job's last run (or after `since`, for a job that never ran).
pub fn tick(
    state: &AppState,
    since: DateTime<Utc>,
    replica: &str,
) -> Result<Vec<RunReport>, AppError> {
    let now = state.services.now();
    let mut reports = Vec::new();
    for schedule in state.config.jobs.schedules.iter() {
        let last = {
            let mut conn = state.pool.get()?;
            last_scheduled(&mut conn, schedule.job)?
        };
        let after = last.map(|t| t.and_utc()).unwrap_or(since);
        let Some(due) = schedule.latest_at_or_before(now).filter(|t| *t > after) else {
            continue;
        };
        if let Some(report) = run_claimed(state, schedule.job, due, replica)? {
            reports.push(report);
        }
    }
    Ok(reports)
}

/// Runs a job now, outside its schedule (`safeguard jobs run NAME`).
pub fn run_now(state: &AppState, job: JobName) -> Result<Option<RunReport>, AppError> {
    let now = state.services.now();
    run_claimed(state, job, now, "manual")
}

#[derive(Debug, Serialize)]
pub struct JobStatus {
    pub job: &'static str,
    pub schedule: String,
    pub description: &'static str,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
}

/// Each job with its schedule, next run and last outcome.
pub fn status(state: &AppState) -> Result<Vec<JobStatus>, AppError> {
    let now = state.services.now();
    let mut conn = state.pool.get()?;
    let mut out = Vec::new();
    for s in state.config.jobs.schedules.iter() {
        let last: Option<(NaiveDateTime, Option<String>)> = job_runs::table
            .filter(job_runs::job.eq(s.job.as_str()))
            .order(job_runs::scheduled_for.desc())
            .select((job_runs::scheduled_for, job_runs::outcome))
            .first(&mut conn)
            .optional()?;
        out.push(JobStatus {
            job: s.job.as_str(),
            schedule: s.expression.clone(),
            description: s.job.describe(),
            next_run: s.next_after(now),
            last_run: last.as_ref().map(|(t, _)| t.and_utc()),
            last_outcome: last.and_then(|(_, o)| o),
        });
    }
    Ok(out)
}

/// The background loop of a running service.
pub struct JobScheduler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl JobScheduler {
    pub fn spawn(state: AppState, poll: StdDuration) -> JobScheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let replica = format!(
            "replica-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let started = state.services.now();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Err(e) = tick(&state, started, &replica) {
                    tracing::warn!(error = %e, "job scheduler: will try again");
                }
                // Agencies another replica's administrator added.
                if let Err(e) = state
                    .pool
                    .get()
                    .map_err(AppError::from)
                    .and_then(|mut conn| {
                        crate::domain::agency_register::refresh(&state.services, &mut conn)
                    })
                {
                    tracing::warn!(error = %e, "could not read the agencies added in the pages");
                }
                // Sleep in short steps so that stopping is prompt.
                let mut slept = StdDuration::ZERO;
                while slept < poll && !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(StdDuration::from_millis(100));
                    slept += StdDuration::from_millis(100);
                }
            }
        });
        JobScheduler {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for JobScheduler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
