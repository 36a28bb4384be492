//! The kinds of meeting chairs convene, as the primary pathway declares them (`meeting_kinds`),
//! and the step at which each is held.
use diesel::prelude::*;

use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{CaseRow, CaseWorkflowRow};
use crate::storage::schema::case_workflows;
use crate::storage::DbConn;

/// A kind's name in `lang`; its code if the pathway no longer declares it.
pub fn kind_name(engine: &Engine, code: &str, lang: Language) -> String {
    engine
        .registry
        .primary()
        .def
        .meeting_kinds
        .get(code)
        .map(|k| match lang {
            Language::English => k.title.clone(),
            Language::Welsh => k.title_cy.clone(),
        })
        .unwrap_or_else(|| code.to_string())
}

/// Every kind a chair may convene, in the order the pathway's steps hold them.
pub fn kind_codes(engine: &Engine) -> Vec<String> {
    let primary = engine.registry.primary();
    let mut codes: Vec<String> = primary
        .def
        .states
        .iter()
        .filter_map(|s| s.meeting_kind.clone())
        .collect();
    for code in primary.def.meeting_kinds.keys() {
        if !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    codes
}

/// The kind of meeting held at a step of the primary pathway, if any.
pub fn step_kind(engine: &Engine, workflow: &str, version: u32, state: &str) -> Option<String> {
    engine
        .registry
        .get(workflow, version)?
        .state(state)?
        .meeting_kind
        .clone()
}

/// The kind of meeting the case's current step of the primary pathway holds.
pub fn kind_for_case(
    engine: &Engine,
    conn: &mut DbConn,
    case: &CaseRow,
) -> Result<Option<String>, AppError> {
    let primary = engine.registry.primary();
    let row: Option<CaseWorkflowRow> = case_workflows::table
        .filter(case_workflows::case_id.eq(&case.id))
        .filter(case_workflows::workflow.eq(primary.name()))
        .filter(case_workflows::finished_at.is_null())
        .select(CaseWorkflowRow::as_select())
        .get_result(conn)
        .optional()?;
    Ok(row.and_then(|cw| step_kind(engine, &cw.workflow, cw.workflow_version as u32, &cw.state)))
}
