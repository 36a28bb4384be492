//! One intent of a person, one transaction. Everything a person does (record a report, apply an
//! event, convene, change or record a meeting, agree or update an action, involve someone,
//! answer an invitation, use a signed link) runs inside `write`: the change, its audit entries,
//! its outbox rows, the completion of its form token and the access-log line of every case it
//! touched commit together or not at all. A refusal is rolled back whole and then recorded in
//! the access log in a small transaction of its own; a read is logged before its answer leaves,
//! its line committed with those of the reads arriving alongside it (`read_log`).
use chrono::{DateTime, Utc};

use super::access_log::{self, Access};
use super::audit::AuditKey;
use super::read_log::ReadLog;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::crash::crash_point;
use crate::storage::models::CaseRow;
use crate::storage::{lock_cases, write_transaction, DbConn};

/// Who is doing what, and when.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    /// A user's id, or `link:<address>` for someone using a signed link from an email.
    pub who: &'a str,
    /// What they asked for (the request path), as the access log records it.
    pub path: &'a str,
    pub now: DateTime<Utc>,
    /// Keys the access-log lines and audit entries it writes.
    pub key: &'a AuditKey,
    /// Commits the access-log lines of reads together with those of concurrent requests.
    pub reads: &'a ReadLog,
}

impl Intent<'_> {
    /// Logs a read of these cases and returns once the lines are committed.
    fn log_read(
        &self,
        conn: &mut DbConn,
        case_ids: &[&str],
        access: Access,
    ) -> Result<(), AppError> {
        let lines = access_log::lines(
            self.key,
            self.who,
            case_ids,
            access,
            self.path,
            self.now.naive_utc(),
        );
        self.reads.commit(conn, lines)
    }
}

/// The cases a unit of work has touched; each gets its access-log line.
#[derive(Debug, Default)]
pub struct Touched(Vec<String>);

impl Touched {
    pub fn case(&mut self, id: &str) {
        if !self.0.iter().any(|c| c == id) {
            self.0.push(id.to_string());
        }
    }

    pub fn cases<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            self.case(id);
        }
    }

    /// Whether the unit has touched this case (found it visible to the person).
    pub fn has(&self, id: &str) -> bool {
        self.0.iter().any(|c| c == id)
    }

    fn ids(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

/// Runs a person's change as one transaction, with the access-log line of each case it touches.
/// `f` may run more than once: PostgreSQL may refuse a transaction that got in another's way,
/// and it is then run again from the start.
pub fn write<T>(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    mut f: impl FnMut(&mut DbConn, &mut Touched) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut touched = Touched::default();
    let result = write_transaction(conn, |conn| {
        touched = Touched::default();
        let value = f(conn, &mut touched)?;
        crash_point("unit_of_work.before_access_log");
        access_log::record(
            conn,
            intent.key,
            intent.who,
            &touched.ids(),
            Access::Write,
            intent.path,
            intent.now.naive_utc(),
        )?;
        crash_point("unit_of_work.before_commit");
        Ok(value)
    });
    if result.is_err() && !touched.0.is_empty() {
        // The refused change left nothing behind; that it was asked for is still an access.
        let logged = write_transaction(conn, |conn| {
            access_log::record(
                conn,
                intent.key,
                intent.who,
                &touched.ids(),
                Access::WriteRefused,
                intent.path,
                intent.now.naive_utc(),
            )
        });
        if let Err(e) = logged {
            tracing::error!(error = %e, path = intent.path, "could not log a refused write");
        }
    }
    result
}

/// A change to one case the actor may see: the case is found (404 if hidden), touched and
/// locked before `f` runs, so that a refusal from `f` is logged against it. `f` is given the
/// case as it stands under the lock: on PostgreSQL another writer may have committed between
/// finding it and locking it, so it is read again (SQLite's write transaction already holds
/// the database).
pub fn on_case<T>(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    mut f: impl FnMut(&mut DbConn, &CaseRow) -> Result<T, AppError>,
) -> Result<T, AppError> {
    write(conn, intent, |conn, touched| {
        let found = super::case::visible_case(conn, actor, key)?;
        touched.case(&found.id);
        lock_cases(conn, &[&found.id])?;
        let case = match conn {
            DbConn::Postgres(_) => super::case::by_id(conn, &found.id)?,
            DbConn::Sqlite(_) => found,
        };
        f(conn, &case)
    })
}

/// Reads one case the actor may see. The read is logged as soon as the case is found, before
/// anything of it is read, so that it appears in what it reads (the access log itself).
pub fn reading_case<T>(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    f: impl FnOnce(&mut DbConn, &CaseRow) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let case = super::case::visible_case(conn, actor, key)?;
    intent.log_read(conn, &[&case.id], Access::Read)?;
    f(conn, &case)
}

/// Runs a read and logs it (`Read`, or `List` for a list) before the answer is returned, so that
/// nothing about a case leaves without its access-log line.
pub fn read<T>(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    access: Access,
    f: impl FnOnce(&mut DbConn, &mut Touched) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut touched = Touched::default();
    let value = f(conn, &mut touched)?;
    intent.log_read(conn, &touched.ids(), access)?;
    Ok(value)
}
