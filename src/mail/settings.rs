//! How the service sends email, as configuration gives it.
use std::path::PathBuf;

use crate::error::AppError;

/// Email settings. With no SMTP URL, messages are written as `.eml` files under the data folder.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: Option<String>,
    pub from: lettre::message::Mailbox,
    /// Base of the links in emails, such as https://safeguard.council.example
    pub public_url: String,
    pub templates_dir: PathBuf,
    /// An operator's folder whose files replace any shipped template of the same path.
    pub template_overrides: Option<PathBuf>,
    /// Secret for signed links; several replicas must share it. Without it a secret is
    /// generated once in the data folder.
    pub link_secret: Option<String>,
    /// Reminder offsets before a meeting, such as `2wd,2h` (working days, hours).
    pub reminders: Vec<ReminderOffset>,
    pub poll_interval_ms: u64,
    /// Off in the tests, which deliver the outbox themselves (`worker::drain`).
    pub worker: bool,
    /// How long a worker's claim on a message lasts before another worker may take it over.
    pub lease_seconds: i64,
    /// How long a transient failure is retried, from when the message was queued.
    pub retry_hours: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderOffset {
    WorkingDays(u32),
    Hours(u32),
}

pub fn parse_reminders(raw: &str) -> Result<Vec<ReminderOffset>, AppError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let bad = || {
                AppError::Startup(format!(
                    "SAFEGUARD_REMINDERS: {s:?} is not a reminder offset such as 2wd or 2h"
                ))
            };
            if let Some(n) = s.strip_suffix("wd") {
                n.parse()
                    .map(ReminderOffset::WorkingDays)
                    .map_err(|_| bad())
            } else if let Some(n) = s.strip_suffix('h') {
                n.parse().map(ReminderOffset::Hours).map_err(|_| bad())
            } else {
                Err(bad())
            }
        })
        .collect()
}
