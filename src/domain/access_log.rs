//! Who read or wrote which case, and when. Written for every case an API call touches.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::AuditKey;
use super::checkpoint::access_mac;
use crate::error::AppError;
use crate::storage::models::AccessLogRow;
use crate::storage::schema::access_log;
use crate::storage::DbConn;

#[derive(Debug, Clone, Copy)]
pub enum Access {
    Read,
    List,
    Write,
    /// A write the service refused (bad input, a guard, a stale version): still an access.
    WriteRefused,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::List => "list",
            Access::Write => "write",
            Access::WriteRefused => "write_refused",
        }
    }
}

pub fn record(
    conn: &mut DbConn,
    key: &AuditKey,
    user_id: &str,
    case_ids: &[&str],
    access: Access,
    path: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let rows = lines(key, user_id, case_ids, access, path, at);
    if rows.is_empty() {
        return Ok(());
    }
    if let [row] = rows.as_slice() {
        // One statement is whole by itself: no savepoint, which on PostgreSQL would cost two
        // more round trips in every unit of work.
        insert(conn, std::slice::from_ref(row))?;
    } else {
        // diesel's MultiConnection has no multi-row insert on SQLite; one transaction around
        // the rows keeps a long list to a single commit.
        conn.transaction::<_, diesel::result::Error, _>(|conn| insert(conn, &rows))?;
    }
    Ok(())
}

/// The keyed lines of one access to these cases, one a case.
pub fn lines(
    key: &AuditKey,
    user_id: &str,
    case_ids: &[&str],
    access: Access,
    path: &str,
    at: NaiveDateTime,
) -> Vec<AccessLogRow> {
    let path: String = path.chars().take(500).collect();
    case_ids
        .iter()
        .map(|case_id| {
            let id = uuid::Uuid::new_v4().to_string();
            AccessLogRow {
                mac: access_mac(key, &id, user_id, case_id, access.as_str(), &path, at),
                id,
                user_id: user_id.to_string(),
                case_id: case_id.to_string(),
                action: access.as_str().to_string(),
                path: path.clone(),
                at,
            }
        })
        .collect()
}

/// Adds these lines, in the caller's transaction.
pub fn insert(conn: &mut DbConn, rows: &[AccessLogRow]) -> Result<(), diesel::result::Error> {
    for row in rows {
        diesel::insert_into(access_log::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn for_case(conn: &mut DbConn, case_id: &str) -> Result<Vec<AccessLogRow>, AppError> {
    Ok(access_log::table
        .filter(access_log::case_id.eq(case_id))
        .order(access_log::at)
        .select(AccessLogRow::as_select())
        .load(conn)?)
}
