//! What only helps the service work for a while is deleted by rule, every night: sessions that
//! have ended, one-time form tokens, failed sign-ins, one-time codes and the browsers they let
//! in, and the bodies of email sent long ago (the row stays: who was sent what kind of email,
//! when). Case records, the audit trail, the access log and security events are kept; their
//! retention is a matter for the case-record rules (`destruction.rs`).
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::error::AppError;
use crate::storage::schema::{
    form_submissions, link_browsers, link_codes, outbox, sign_in_attempts, web_sessions,
};
use crate::storage::{write_transaction, DbConn};

pub struct Rules {
    /// How long what helps the service work is kept.
    pub keep: Duration,
    /// A session unused for this long has ended.
    pub session_idle: Duration,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub form_tokens: usize,
    pub sign_ins: usize,
    pub codes: usize,
    pub browsers: usize,
    pub email_bodies: usize,
    pub email_files: usize,
}

impl std::fmt::Display for Swept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deleted {} ended sessions, {} form tokens, {} old sign-in attempts, {} one-time codes, \
             {} browser records, {} sent email bodies, {} email files",
            self.sessions,
            self.form_tokens,
            self.sign_ins,
            self.codes,
            self.browsers,
            self.email_bodies,
            self.email_files
        )
    }
}

/// Deletes what the rules say has served its purpose by `now`; `outbox_dir` holds the `.eml`
/// files written when no mail server is set.
pub fn run(
    conn: &mut DbConn,
    rules: &Rules,
    outbox_dir: Option<&std::path::Path>,
    now: DateTime<Utc>,
) -> Result<Swept, AppError> {
    let now_n = now.naive_utc();
    let old = (now - rules.keep).naive_utc();
    let idle = (now - rules.session_idle).naive_utc();
    let mut swept = write_transaction(conn, |conn| -> Result<Swept, AppError> {
        let sessions = diesel::delete(
            web_sessions::table.filter(
                web_sessions::expires_at
                    .le(now_n)
                    .or(web_sessions::last_seen_at.lt(idle))
                    .or(web_sessions::last_seen_at
                        .is_null()
                        .and(web_sessions::created_at.lt(idle))),
            ),
        )
        .execute(conn)?;
        let form_tokens =
            diesel::delete(form_submissions::table.filter(form_submissions::created_at.lt(old)))
                .execute(conn)?;
        let codes = diesel::delete(link_codes::table.filter(link_codes::expires_at.lt(old)))
            .execute(conn)?;
        let browsers =
            diesel::delete(link_browsers::table.filter(link_browsers::open_until.lt(old)))
                .execute(conn)?;
        // A failed sign-in counts against an address for minutes, not weeks. A successful one
        // tells that an address is known for the account: the newest of each is kept.
        let failed = diesel::delete(
            sign_in_attempts::table
                .filter(sign_in_attempts::at.lt(old))
                .filter(sign_in_attempts::succeeded.eq(false)),
        )
        .execute(conn)?;
        let succeeded: Vec<(String, String, String, chrono::NaiveDateTime)> =
            sign_in_attempts::table
                .filter(sign_in_attempts::succeeded.eq(true))
                .select((
                    sign_in_attempts::id,
                    sign_in_attempts::account,
                    sign_in_attempts::address,
                    sign_in_attempts::at,
                ))
                .order((
                    sign_in_attempts::account,
                    sign_in_attempts::address,
                    sign_in_attempts::at.desc(),
                ))
                .load(conn)?;
        let mut superseded = Vec::new();
        for (i, (id, account, address, at)) in succeeded.iter().enumerate() {
            let newer_exists = i > 0 && {
                let (_, a, d, _) = &succeeded[i - 1];
                a == account && d == address
            };
            if newer_exists && *at < old {
                superseded.push(id.clone());
            }
        }
        let mut sign_ins = failed;
        for chunk in superseded.chunks(500) {
            sign_ins +=
                diesel::delete(sign_in_attempts::table.filter(sign_in_attempts::id.eq_any(chunk)))
                    .execute(conn)?;
        }
        let email_bodies = diesel::update(
            outbox::table
                .filter(outbox::status.eq(crate::mail::outbox::SENT))
                .filter(outbox::sent_at.lt(old))
                .filter(outbox::raw.ne("")),
        )
        .set(outbox::raw.eq(""))
        .execute(conn)?;
        Ok(Swept {
            sessions,
            form_tokens,
            sign_ins,
            codes,
            browsers,
            email_bodies,
            email_files: 0,
        })
    })?;
    if let Some(dir) = outbox_dir.filter(|d| d.is_dir()) {
        let cutoff = std::time::SystemTime::from(now - rules.keep);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| AppError::Internal(format!("{}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let written = entry.metadata().and_then(|m| m.modified());
            if path.extension().is_some_and(|e| e == "eml")
                && written.is_ok_and(|t| t < cutoff)
                && std::fs::remove_file(&path).is_ok()
            {
                swept.email_files += 1;
            }
        }
    }
    Ok(swept)
}
