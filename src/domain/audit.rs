//! The audit trail: append-only, one chain per case. Each entry's hash covers its own content
//! and the previous entry's hash, and the case row keeps the newest hash, so editing, removing
//! or reordering any entry is detected by `verify`.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::storage::models::AuditEventRow;
use crate::storage::schema::{audit_events, cases};
use crate::storage::DbConn;

pub const GENESIS: &str = "genesis";

/// What one audit entry says, before it is chained.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor_id: String,
    pub kind: &'static str,
    pub workflow: Option<String>,
    pub event: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub decline: bool,
    pub rationale: Option<String>,
    pub payload: serde_json::Value,
}

#[derive(Serialize)]
struct Hashed<'a> {
    case_id: &'a str,
    seq: i64,
    at: String,
    actor_id: &'a str,
    kind: &'a str,
    workflow: Option<&'a str>,
    event: Option<&'a str>,
    from_state: Option<&'a str>,
    to_state: Option<&'a str>,
    decline: bool,
    rationale: Option<&'a str>,
    payload: &'a str,
    prev_hash: &'a str,
}

fn hash_of(row: &AuditEventRow) -> String {
    let content = Hashed {
        case_id: &row.case_id,
        seq: row.seq,
        at: row.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        actor_id: &row.actor_id,
        kind: &row.kind,
        workflow: row.workflow.as_deref(),
        event: row.event.as_deref(),
        from_state: row.from_state.as_deref(),
        to_state: row.to_state.as_deref(),
        decline: row.decline,
        rationale: row.rationale.as_deref(),
        payload: &row.payload,
        prev_hash: &row.prev_hash,
    };
    // Struct fields serialise in declaration order, so this text is stable.
    let text = serde_json::to_string(&content).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Builds the next row of a case's chain. The caller inserts it and stores `(seq, hash)` on the
/// case in the same transaction.
pub fn next_row(
    case_id: &str,
    prev_seq: i64,
    prev_hash: &str,
    at: NaiveDateTime,
    entry: AuditEntry,
) -> AuditEventRow {
    let mut row = AuditEventRow {
        case_id: case_id.to_string(),
        seq: prev_seq + 1,
        at,
        actor_id: entry.actor_id,
        kind: entry.kind.to_string(),
        workflow: entry.workflow,
        event: entry.event,
        from_state: entry.from_state,
        to_state: entry.to_state,
        decline: entry.decline,
        rationale: entry.rationale,
        payload: entry.payload.to_string(),
        prev_hash: prev_hash.to_string(),
        hash: String::new(),
    };
    row.hash = hash_of(&row);
    row
}

/// Appends an entry to a case's chain and moves the case's head. Returns the new sequence number.
pub fn append(
    conn: &mut DbConn,
    case_id: &str,
    prev_seq: i64,
    prev_hash: &str,
    at: NaiveDateTime,
    entry: AuditEntry,
) -> Result<AuditEventRow, AppError> {
    let row = next_row(case_id, prev_seq, prev_hash, at, entry);
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Appends an entry to a case's trail and moves the case's version on, for writes that are not
/// workflow transitions (meetings, action updates). Two writers racing for the same sequence
/// number: the later gets a conflict and its transaction is undone.
pub fn record_on_case(
    conn: &mut DbConn,
    case_id: &str,
    actor_id: &str,
    kind: &'static str,
    payload: serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (seq, head, version): (i64, String, i64) = cases::table
        .find(case_id)
        .select((cases::audit_seq, cases::audit_head, cases::version))
        .get_result(conn)?;
    let entry = AuditEntry {
        actor_id: actor_id.to_string(),
        kind,
        payload,
        ..AuditEntry::default()
    };
    let row = append(conn, case_id, seq, &head, now, entry).map_err(|e| match e {
        AppError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => AppError::Conflict {
            code: "stale_version",
            message: "the case changed while this was saved; try again".into(),
        },
        other => other,
    })?;
    diesel::update(cases::table.find(case_id))
        .set((
            cases::audit_seq.eq(row.seq),
            cases::audit_head.eq(row.hash),
            cases::version.eq(version + 1),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub cases: usize,
    pub entries: usize,
    pub problems: Vec<String>,
}

/// Recomputes every chain. Reports each broken link by case reference and sequence number.
pub fn verify(conn: &mut DbConn) -> Result<VerifyReport, AppError> {
    let heads: Vec<(String, String, i64, String)> = cases::table
        .select((
            cases::id,
            cases::reference,
            cases::audit_seq,
            cases::audit_head,
        ))
        .order(cases::reference)
        .load(conn)?;
    let mut report = VerifyReport {
        cases: heads.len(),
        entries: 0,
        problems: Vec::new(),
    };
    for (case_id, reference, head_seq, head_hash) in heads {
        let rows: Vec<AuditEventRow> = audit_events::table
            .filter(audit_events::case_id.eq(&case_id))
            .order(audit_events::seq)
            .select(AuditEventRow::as_select())
            .load(conn)?;
        report.entries += rows.len();
        let mut prev = GENESIS.to_string();
        for (i, row) in rows.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            if row.seq != expected_seq {
                report.problems.push(format!(
                    "{reference}: entry {expected_seq} is missing (found {})",
                    row.seq
                ));
                break;
            }
            if row.prev_hash != prev {
                report.problems.push(format!(
                    "{reference}: entry {} does not follow entry {}",
                    row.seq,
                    row.seq - 1
                ));
            }
            if hash_of(row) != row.hash {
                report.problems.push(format!(
                    "{reference}: entry {} was changed after it was written",
                    row.seq
                ));
            }
            prev = row.hash.clone();
        }
        if rows.len() as i64 != head_seq || prev != head_hash {
            report.problems.push(format!(
                "{reference}: the case expects {head_seq} entries ending in {}…, the trail has {}",
                head_hash.get(..12).unwrap_or(&head_hash),
                rows.len()
            ));
        }
    }
    Ok(report)
}
