//! Periodic jobs: what each one is, when it runs (cron expressions read in Wales time), and
//! running one. `scheduler.rs` decides which run is due and claims it so that of several
//! replicas exactly one runs it.
pub mod scheduler;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;
use cron::Schedule;

use crate::app::AppState;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobName {
    /// Starts the age-18 track at the configured age; hands over on the 18th birthday. Runs
    /// every day, weekends too, because a birthday does not wait for Monday.
    AgeTrigger,
    /// Reminds owners of actions falling due.
    ReminderScan,
    /// Tells owners on the first working day after an action's due date.
    OverdueScan,
    /// Tells team leads of actions long overdue.
    Escalation,
    /// The team leads' morning email.
    Digest,
    /// Flags partners' reports not acknowledged in time (WSP c2 p18).
    ReferralCheck,
    /// Signs the heads of every audit chain and seals the finished days of the logs, in the
    /// checkpoint file outside the database.
    AuditCheckpoint,
    /// Deletes what only helps the service work for a while: ended sessions, old form tokens,
    /// failed sign-ins, used one-time codes, and the bodies of email sent long ago.
    Housekeeping,
}

pub const ALL: &[JobName] = &[
    JobName::AgeTrigger,
    JobName::ReminderScan,
    JobName::OverdueScan,
    JobName::Escalation,
    JobName::Digest,
    JobName::ReferralCheck,
    JobName::AuditCheckpoint,
    JobName::Housekeeping,
];

impl JobName {
    pub fn as_str(self) -> &'static str {
        match self {
            JobName::AgeTrigger => "age-trigger",
            JobName::ReminderScan => "reminder-scan",
            JobName::OverdueScan => "overdue-scan",
            JobName::Escalation => "escalation",
            JobName::Digest => "digest",
            JobName::ReferralCheck => "referral-check",
            JobName::AuditCheckpoint => "audit-checkpoint",
            JobName::Housekeeping => "housekeeping",
        }
    }

    pub fn parse(s: &str) -> Option<JobName> {
        ALL.iter().copied().find(|j| j.as_str() == s)
    }

    /// The environment variable that sets its schedule, such as `SAFEGUARD_JOB_DIGEST`.
    pub fn env_key(self) -> String {
        format!(
            "SAFEGUARD_JOB_{}",
            self.as_str().replace('-', "_").to_uppercase()
        )
    }

    /// Defaults, in Wales time: early morning before the working day, outside the hour the
    /// clocks change (01:00-02:00), so no run is skipped or doubled by summer time.
    pub fn default_cron(self) -> &'static str {
        match self {
            JobName::AgeTrigger => "0 0 6 * * *",
            JobName::ReminderScan => "0 0 7 * * Mon-Fri",
            JobName::OverdueScan => "0 15 7 * * Mon-Fri",
            JobName::Escalation => "0 30 7 * * Mon-Fri",
            JobName::Digest => "0 0 8 * * Mon-Fri",
            JobName::ReferralCheck => "0 45 7 * * Mon-Fri",
            JobName::AuditCheckpoint => "0 30 5 * * *",
            JobName::Housekeeping => "0 0 4 * * *",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            JobName::AgeTrigger => {
                "start the age-18 track at the configured age; close the plan and hand over on the 18th birthday"
            }
            JobName::ReminderScan => "remind owners of agreed actions falling due",
            JobName::OverdueScan => {
                "tell owners of agreed actions on the first working day after the due date"
            }
            JobName::Escalation => "tell team leads of agreed actions overdue for too long",
            JobName::Digest => {
                "email each team lead a digest of what is overdue or due, when there is any"
            }
            JobName::ReferralCheck => {
                "flag partners' reports not acknowledged in time to the team leads, and tell the reporters how to escalate"
            }
            JobName::AuditCheckpoint => {
                "sign every audit chain's head and seal the finished days of the logs, outside the database"
            }
            JobName::Housekeeping => {
                "delete ended sessions, old form tokens, failed sign-ins, used codes and old sent email bodies"
            }
        }
    }
}

/// A job with its parsed schedule.
#[derive(Debug, Clone)]
pub struct JobSchedule {
    pub job: JobName,
    pub expression: String,
    pub schedule: Schedule,
}

impl JobSchedule {
    /// Parses a six-field cron expression (second minute hour day-of-month month
    /// day-of-week, Sunday = 1, names such as Mon-Fri allowed); `key` names the setting in
    /// the error.
    pub fn parse(job: JobName, expression: &str, key: &str) -> Result<JobSchedule, AppError> {
        let fields = expression.split_whitespace().count();
        if fields != 6 {
            return Err(AppError::Startup(format!(
                "{key}: {expression:?} has {fields} fields; a schedule has 6: second minute hour day-of-month month day-of-week (Sunday = 1), such as \"0 0 8 * * Mon-Fri\""
            )));
        }
        let schedule = Schedule::from_str(expression).map_err(|e| {
            AppError::Startup(format!(
                "{key}: {expression:?} is not a cron expression ({e}); the form is second minute hour day-of-month month day-of-week, such as \"0 0 8 * * Mon-Fri\""
            ))
        })?;
        Ok(JobSchedule {
            job,
            expression: expression.to_string(),
            schedule,
        })
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&t.with_timezone(&London))
            .next()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The latest run at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let just_after = t + chrono::Duration::seconds(1);
        self.schedule
            .after(&just_after.with_timezone(&London))
            .next_back()
            .map(|d| d.with_timezone(&Utc))
            .filter(|d| *d <= t)
    }
}

/// Runs one job for `now` and says what it did, in a line for the log and `job_runs`.
pub fn run(state: &AppState, job: JobName, now: DateTime<Utc>) -> Result<String, AppError> {
    let mut conn = state.pool.get()?;
    let svc = &state.services;
    let settings = crate::follow_up::Settings {
        reminder_working_days: state.config.jobs.reminder_working_days,
        escalation_working_days: state.config.jobs.escalation_working_days,
    };
    match job {
        JobName::AgeTrigger => crate::follow_up::age18::run(svc, &mut conn, now),
        JobName::ReminderScan => {
            crate::follow_up::action_notices::reminders(svc, &settings, &mut conn, now)
        }
        JobName::OverdueScan => crate::follow_up::action_notices::overdue(svc, &mut conn, now),
        JobName::Escalation => {
            crate::follow_up::action_notices::escalate(svc, &settings, &mut conn, now)
        }
        JobName::Digest => crate::follow_up::digest::run(svc, &mut conn, now),
        JobName::ReferralCheck => {
            crate::domain::partner_referral::flag_unacknowledged(svc, &mut conn, now)
        }
        JobName::Housekeeping => {
            let outbox_dir = match state.config.mail.smtp_url {
                None => Some(state.config.data_dir.join("outbox")),
                Some(_) => None,
            };
            let r = crate::domain::housekeeping::run(
                &mut conn,
                &crate::domain::housekeeping::Rules {
                    keep: chrono::Duration::days(state.config.jobs.keep_days),
                    session_idle: chrono::Duration::minutes(
                        state.config.access.session_idle_minutes,
                    ),
                },
                outbox_dir.as_deref(),
                now,
            )?;
            Ok(r.to_string())
        }
        JobName::AuditCheckpoint => {
            let w =
                crate::domain::checkpoint::write(&mut conn, &svc.audit_key, &svc.checkpoints, now)?;
            Ok(format!(
                "checkpoint line {}: {} of {} cases moved on, {} days sealed",
                w.line, w.cases_changed, w.cases, w.days_sealed
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid time")
    }

    fn digest() -> JobSchedule {
        JobSchedule::parse(JobName::Digest, "0 0 8 * * Mon-Fri", "test").expect("parses")
    }

    #[test]
    fn eight_in_wales_is_seven_utc_in_summer_and_eight_in_winter() {
        // Friday 26 March 2027 (GMT), then the clocks go forward on Sunday 28 March.
        let s = digest();
        assert_eq!(
            s.next_after(at(2027, 3, 26, 9, 0)),
            Some(at(2027, 3, 29, 7, 0))
        );
        // Friday 29 October 2027 (BST), then the clocks go back on Sunday 31 October.
        assert_eq!(
            s.next_after(at(2027, 10, 29, 9, 0)),
            Some(at(2027, 11, 1, 8, 0))
        );
    }

    #[test]
    fn latest_run_includes_the_exact_tick() {
        let s = digest();
        let tick = at(2026, 11, 30, 8, 0);
        assert_eq!(s.latest_at_or_before(tick), Some(tick));
        assert_eq!(
            s.latest_at_or_before(tick - chrono::Duration::seconds(1)),
            Some(at(2026, 11, 27, 8, 0))
        );
    }

    #[test]
    fn bad_expressions_are_named() {
        let e = JobSchedule::parse(JobName::Digest, "0 8 * * 1-5", "SAFEGUARD_JOB_DIGEST")
            .expect_err("five fields");
        assert!(e.to_string().contains("SAFEGUARD_JOB_DIGEST"), "{e}");
        assert!(e.to_string().contains("6"), "{e}");
        let e = JobSchedule::parse(JobName::Digest, "0 0 25 * * *", "SAFEGUARD_JOB_DIGEST")
            .expect_err("hour 25");
        assert!(e.to_string().contains("not a cron expression"), "{e}");
    }
}
