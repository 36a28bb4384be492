//! How the service sends email, as configuration gives it.
use std::path::PathBuf;

use crate::error::AppError;

/// Email settings. With no SMTP URL, messages are written as `.eml` files under the data folder.
#[derive(Clone)]
pub struct MailConfig {
    pub smtp_url: Option<String>,
    pub from: lettre::message::Mailbox,
    /// Base of the links in emails, such as https://safeguard.council.example
    pub public_url: String,
    /// A folder standing in for the templates shipped inside the binary (a development copy).
    pub templates_dir: Option<PathBuf>,
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
    /// What stands for a case reference's prefix in subject lines (`Ref ` by default).
    pub subject_reference_prefix: String,
}

/// Written without the SMTP password or the link secret: settings end up in logs and panics.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(crate::storage::redact),
            )
            .field("from", &self.from.to_string())
            .field("public_url", &self.public_url)
            .field("templates_dir", &self.templates_dir)
            .field("template_overrides", &self.template_overrides)
            .field(
                "link_secret",
                &self.link_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("reminders", &self.reminders)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("worker", &self.worker)
            .field("lease_seconds", &self.lease_seconds)
            .field("retry_hours", &self.retry_hours)
            .field("subject_reference_prefix", &self.subject_reference_prefix)
            .finish()
    }
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

impl MailConfig {
    /// The templates as the service reads them: shipped (or the stand-in folder), with the
    /// operator's overrides over them.
    pub fn templates(&self) -> crate::shipped::Folder {
        crate::shipped::Folder::templates(
            self.templates_dir.as_deref(),
            self.template_overrides.as_deref(),
        )
    }
}
