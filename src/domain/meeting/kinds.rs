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

/// Whether the kind is held about contexts (a multi-agency exploitation meeting) rather than
/// at a step of a child's pathway.
pub fn about_contexts(engine: &Engine, code: &str) -> bool {
    engine
        .registry
        .primary()
        .def
        .meeting_kinds
        .get(code)
        .is_some_and(|k| k.about_contexts)
}

/// The kinds a chair convenes from a child's case: all but those about contexts.
pub fn case_kind_codes(engine: &Engine) -> Vec<String> {
    kind_codes(engine)
        .into_iter()
        .filter(|k| !about_contexts(engine, k))
        .collect()
}

/// The kinds a chair convenes from a context's page.
pub fn context_kind_codes(engine: &Engine) -> Vec<String> {
    kind_codes(engine)
        .into_iter()
        .filter(|k| about_contexts(engine, k))
        .collect()
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

/// A case the chair may bring into the same meeting.
pub struct CompanionCase {
    pub reference: String,
    pub child_name: String,
}

/// The actor's other open cases whose current step holds a meeting of the same kind as
/// `case`'s, for a meeting about several children (siblings, or children linked by a
/// place or a peer group). Only cases the actor may open are listed.
pub fn companion_cases(
    engine: &Engine,
    conn: &mut DbConn,
    actor: &crate::identity::Actor,
    case: &CaseRow,
) -> Result<Vec<CompanionCase>, AppError> {
    use crate::storage::schema::cases;
    let Some(kind) = kind_for_case(engine, conn, case)? else {
        return Ok(Vec::new());
    };
    let primary = engine.registry.primary();
    let visible: Vec<CaseRow> = cases::table
        .filter(crate::domain::case_access::visible_filter(actor))
        .filter(cases::id.ne(&case.id))
        .filter(
            cases::id.eq_any(
                case_workflows::table
                    .filter(case_workflows::workflow.eq(primary.name()))
                    .filter(case_workflows::finished_at.is_null())
                    .select(case_workflows::case_id),
            ),
        )
        .order(cases::reference.asc())
        .limit(200)
        .select(CaseRow::as_select())
        .load(conn)?;
    let steps: Vec<CaseWorkflowRow> = case_workflows::table
        .filter(case_workflows::case_id.eq_any(visible.iter().map(|c| c.id.clone())))
        .filter(case_workflows::workflow.eq(primary.name()))
        .filter(case_workflows::finished_at.is_null())
        .select(CaseWorkflowRow::as_select())
        .load(conn)?;
    Ok(visible
        .into_iter()
        .filter(|c| {
            steps.iter().any(|cw| {
                cw.case_id == c.id
                    && step_kind(engine, &cw.workflow, cw.workflow_version as u32, &cw.state)
                        .as_deref()
                        == Some(kind.as_str())
            })
        })
        .map(|c| CompanionCase {
            reference: c.reference,
            child_name: c.child_name,
        })
        .collect())
}
