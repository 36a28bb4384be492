//! A transition written to PostgreSQL as a single statement: the case's version check, the step
//! history, the workflow's new state and the audit entry, as data-modifying CTEs that all hang
//! on the version check. One round trip instead of seven; the statement is its own transaction.
use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

use crate::error::AppError;
use crate::storage::models::{AuditEventRow, CaseRow, CaseWorkflowRow};

const SQL: &str = "\
WITH claim AS (
    UPDATE cases SET facts = $1, version = $2, audit_seq = $3, audit_head = $4, updated_at = $5, status = $6
    WHERE id = $7 AND version = $8
    RETURNING id
), history AS (
    INSERT INTO step_history (id, case_id, case_workflow_id, workflow, state, entered_at, due_at, due_source, left_at, left_by_event)
    SELECT $9, id, $10, $11, $12, $13, $14, $15, $5, $16 FROM claim
), workflow AS (
    UPDATE case_workflows SET state = $17, entered_at = $5, due_at = $18, due_source = $19, finished_at = $20
    WHERE id = $10 AND EXISTS (SELECT 1 FROM claim)
), audit AS (
    INSERT INTO audit_events (case_id, seq, at, actor_id, kind, workflow, event, from_state, to_state, decline, rationale, payload, prev_hash, hash)
    SELECT id, $3, $5, $21, $22, $11, $16, $12, $17, $23, $24, $25, $26, $4 FROM claim
)
SELECT id FROM claim";

pub struct TransitionWrite<'a> {
    pub case: &'a CaseRow,
    pub facts: String,
    pub status: &'a str,
    pub running: &'a CaseWorkflowRow,
    pub event: &'a str,
    pub to_state: &'a str,
    pub due: Option<(NaiveDateTime, &'a str)>,
    pub finished: Option<NaiveDateTime>,
    pub audit: &'a AuditEventRow,
    pub now: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    id: String,
}

/// Writes the transition; false when the case's version had moved on (nothing is written).
pub fn write(pg: &mut PgConnection, w: &TransitionWrite<'_>) -> Result<bool, AppError> {
    let claimed: Vec<Claimed> = diesel::sql_query(SQL)
        .bind::<Text, _>(&w.facts)
        .bind::<BigInt, _>(w.case.version + 1)
        .bind::<BigInt, _>(w.audit.seq)
        .bind::<Text, _>(&w.audit.hash)
        .bind::<Timestamp, _>(w.now)
        .bind::<Text, _>(w.status)
        .bind::<Text, _>(&w.case.id)
        .bind::<BigInt, _>(w.case.version)
        .bind::<Text, _>(uuid::Uuid::new_v4().to_string())
        .bind::<Text, _>(&w.running.id)
        .bind::<Text, _>(&w.running.workflow)
        .bind::<Text, _>(&w.running.state)
        .bind::<Timestamp, _>(w.running.entered_at)
        .bind::<Nullable<Timestamp>, _>(w.running.due_at)
        .bind::<Nullable<Text>, _>(w.running.due_source.as_deref())
        .bind::<Text, _>(w.event)
        .bind::<Text, _>(w.to_state)
        .bind::<Nullable<Timestamp>, _>(w.due.map(|(d, _)| d))
        .bind::<Nullable<Text>, _>(w.due.map(|(_, s)| s))
        .bind::<Nullable<Timestamp>, _>(w.finished)
        .bind::<Text, _>(&w.audit.actor_id)
        .bind::<Text, _>(&w.audit.kind)
        .bind::<Bool, _>(w.audit.decline)
        .bind::<Nullable<Text>, _>(w.audit.rationale.as_deref())
        .bind::<Text, _>(&w.audit.payload)
        .bind::<Text, _>(&w.audit.prev_hash)
        .load(pg)?;
    Ok(claimed.len() == 1)
}
