//! Moving running cases to a new version of their workflow, so that a corrected workflow
//! reaches them. Each case's step must exist in the new version, under its own id or one the
//! operator maps it to; the plan is shown first and nothing is written until it is committed.
//! Committed, it is one transaction for every case: each case gets an audit entry
//! (`workflow_migrated`, with both versions and both steps) and keeps its step's deadline, since
//! the timescale it runs against does not start again.
use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::json;

use super::audit::{self, AuditEntry};
use super::Services;
use crate::engine::Engine;
use crate::error::AppError;
use crate::storage::models::CaseWorkflowRow;
use crate::storage::schema::{case_workflows, cases};
use crate::storage::{lock_cases, write_transaction, DbConn};

/// One running case and where it moves.
#[derive(Debug, Clone)]
pub struct Move {
    pub case_id: String,
    pub reference: String,
    pub row_id: String,
    pub from_state: String,
    pub to_state: String,
}

#[derive(Debug)]
pub struct Plan {
    pub workflow: String,
    pub from: u32,
    pub to: u32,
    pub moves: Vec<Move>,
}

/// What would move, or every reason it cannot, naming the cases.
pub fn plan(
    engine: &Engine,
    conn: &mut DbConn,
    workflow: &str,
    from: u32,
    to: u32,
    mapping: &BTreeMap<String, String>,
) -> Result<Plan, AppError> {
    let refuse = |m: String| AppError::Startup(m);
    let old = engine
        .registry
        .get(workflow, from)
        .ok_or_else(|| refuse(format!("{workflow} version {from} is not known")))?;
    let new = engine.registry.get(workflow, to).ok_or_else(|| {
        refuse(format!(
            "{workflow} version {to} is not loaded: put its file in SAFEGUARD_WORKFLOWS_DIR"
        ))
    })?;
    if to <= from {
        return Err(refuse(format!(
            "cases move to a newer version: {to} is not after {from}"
        )));
    }
    let mut problems = Vec::new();
    for (a, b) in mapping {
        if old.state(a).is_none() {
            problems.push(format!("--map {a}={b}: version {from} has no step {a}"));
        }
        if new.state(b).is_none() {
            problems.push(format!("--map {a}={b}: version {to} has no step {b}"));
        }
    }
    let running: Vec<(CaseWorkflowRow, String)> = case_workflows::table
        .inner_join(cases::table.on(cases::id.eq(case_workflows::case_id)))
        .filter(case_workflows::workflow.eq(workflow))
        .filter(case_workflows::workflow_version.eq(from as i32))
        .filter(case_workflows::finished_at.is_null())
        .order(cases::reference.asc())
        .select((CaseWorkflowRow::as_select(), cases::reference))
        .load(conn)?;
    let mut moves = Vec::new();
    for (row, reference) in running {
        let target = mapping.get(&row.state).unwrap_or(&row.state).clone();
        match new.state(&target) {
            None => problems.push(format!(
                "{reference}: at step {}, which version {to} does not have; map it with --map {}=<step of version {to}>",
                row.state, row.state
            )),
            Some(s) if s.terminal => problems.push(format!(
                "{reference}: step {target} of version {to} is an end; a running case cannot be moved to it"
            )),
            Some(_) => moves.push(Move {
                case_id: row.case_id.clone(),
                reference,
                row_id: row.id.clone(),
                from_state: row.state.clone(),
                to_state: target,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(refuse(format!(
            "nothing moved; {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        )));
    }
    Ok(Plan {
        workflow: workflow.to_string(),
        from,
        to,
        moves,
    })
}

/// Moves every case of the plan, all or none, each with its audit entry.
pub fn commit(
    svc: &Services,
    conn: &mut DbConn,
    plan: &Plan,
    actor_id: &str,
    reason: &str,
) -> Result<usize, AppError> {
    if reason.trim().chars().count() < 20 {
        return Err(AppError::Startup(
            "--reason must say why, in at least 20 characters".into(),
        ));
    }
    let now = svc.now().naive_utc();
    write_transaction(conn, |conn| -> Result<usize, AppError> {
        let ids: Vec<&str> = plan.moves.iter().map(|m| m.case_id.as_str()).collect();
        lock_cases(conn, &ids)?;
        for m in &plan.moves {
            // Still where the plan found it: a case that moved on since is not moved blind.
            let updated = diesel::update(
                case_workflows::table
                    .find(&m.row_id)
                    .filter(case_workflows::workflow_version.eq(plan.from as i32))
                    .filter(case_workflows::state.eq(&m.from_state))
                    .filter(case_workflows::finished_at.is_null()),
            )
            .set((
                case_workflows::workflow_version.eq(plan.to as i32),
                case_workflows::state.eq(&m.to_state),
            ))
            .execute(conn)?;
            if updated != 1 {
                return Err(AppError::Conflict {
                    code: "case_moved_on",
                    message: format!(
                        "{} moved on while the plan was made; nothing moved, plan again",
                        m.reference
                    ),
                });
            }
            audit::record_entry_on_case(
                conn,
                &svc.audit_key,
                &m.case_id,
                AuditEntry {
                    actor_id: actor_id.to_string(),
                    kind: "workflow_migrated",
                    workflow: Some(plan.workflow.clone()),
                    from_state: Some(m.from_state.clone()),
                    to_state: Some(m.to_state.clone()),
                    payload: json!({"from_version": plan.from, "workflow_version": plan.to, "reason": reason.trim()}),
                    ..AuditEntry::default()
                },
                now,
            )?;
        }
        Ok(plan.moves.len())
    })
}
