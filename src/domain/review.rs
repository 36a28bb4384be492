//! Reviews of a plan (core groups, review conferences) and a senior manager's departures from
//! a timescale. Reviews are scheduled by workflow effects (`review = "core_group"`), in the
//! transition's own transaction; a departure stops a step or review counting as overdue. A
//! departure is written inside a unit of work on the case (`unit_of_work::on_case`).
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::audit::{self, AuditKey};
use crate::error::AppError;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::storage::models::{CaseRow, CaseWorkflowRow, PlanReviewRow, TimescaleDepartureRow};
use crate::storage::schema::{case_workflows, plan_reviews, timescale_departures};
use crate::storage::DbConn;

/// Ends the reviews still due on a workflow that has reached its end.
pub fn cancel_due(conn: &mut DbConn, case_workflow_id: &str) -> Result<usize, AppError> {
    Ok(diesel::update(
        plan_reviews::table
            .filter(plan_reviews::case_workflow_id.eq(case_workflow_id))
            .filter(plan_reviews::status.eq("due")),
    )
    .set(plan_reviews::status.eq("cancelled"))
    .execute(conn)?)
}

#[derive(Debug, Serialize)]
pub struct ReviewView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub number: i32,
    pub due_at: DateTime<Utc>,
    pub due_source: String,
    pub status: String,
    pub held_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub departure: Option<String>,
}

/// A case's reviews, oldest first, with whether each is overdue now.
pub fn reviews_of(
    conn: &mut DbConn,
    engine: &crate::engine::Engine,
    case_id: &str,
    now: NaiveDateTime,
    lang: crate::i18n::Language,
) -> Result<Vec<ReviewView>, AppError> {
    let titles = |kind: &str| engine.review_title(kind, lang);
    let rows: Vec<(PlanReviewRow, Option<String>)> = plan_reviews::table
        .left_join(
            timescale_departures::table
                .on(timescale_departures::review_id.eq(plan_reviews::id.nullable())),
        )
        .filter(plan_reviews::case_id.eq(case_id))
        .order((plan_reviews::due_at, plan_reviews::number))
        .select((
            PlanReviewRow::as_select(),
            timescale_departures::rationale.nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, departure)| ReviewView {
            overdue: r.status == "due" && r.due_at < now && departure.is_none(),
            title: titles(&r.kind),
            id: r.id,
            kind: r.kind,
            number: r.number,
            due_at: r.due_at.and_utc(),
            due_source: r.due_source,
            status: r.status,
            held_at: r.held_at.map(|t| t.and_utc()),
            departure,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartureRequest {
    /// The workflow whose current step's timescale is departed from (default: the primary).
    pub workflow: Option<String>,
    /// Or a review that is due.
    pub review_id: Option<String>,
    pub rationale: String,
}

/// Records a senior manager's departure from the timescale of the current step of a workflow,
/// or of a review: audited on the case, and the step or review stops counting as overdue.
pub fn record_departure(
    conn: &mut DbConn,
    key: &AuditKey,
    primary: &str,
    actor: &Actor,
    case: &CaseRow,
    req: &DepartureRequest,
    now: DateTime<Utc>,
) -> Result<TimescaleDepartureRow, AppError> {
    if actor.role != RoleName::SeniorManager {
        return Err(AppError::Forbidden(
            "only a senior manager may record a departure from a timescale".into(),
        ));
    }
    let rationale = req.rationale.trim();
    if rationale.chars().count() < 20 || rationale.chars().count() > 2000 {
        return Err(AppError::unprocessable(
            "rationale_required",
            "rationale",
            "give the reasons for departing from the timescale (20 to 2000 characters)",
        ));
    }
    let naive_now = now.naive_utc();
    {
        let mut row = TimescaleDepartureRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            case_workflow_id: None,
            step_entered_at: None,
            state: None,
            review_id: None,
            due_at: naive_now,
            rationale: rationale.to_string(),
            recorded_by: actor.id.clone(),
            recorded_at: naive_now,
        };
        let already = if let Some(review_id) = &req.review_id {
            let review: PlanReviewRow = plan_reviews::table
                .filter(plan_reviews::id.eq(review_id))
                .filter(plan_reviews::case_id.eq(&case.id))
                .select(PlanReviewRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or(AppError::NotFound("review"))?;
            if review.status != "due" {
                return Err(AppError::unprocessable(
                    "review_not_due",
                    "review_id",
                    format!("the review is {}, not due", review.status),
                ));
            }
            row.review_id = Some(review.id.clone());
            row.state = Some(review.kind.clone());
            row.due_at = review.due_at;
            timescale_departures::table
                .filter(timescale_departures::review_id.eq(&review.id))
                .count()
                .get_result::<i64>(conn)?
        } else {
            let name = req.workflow.as_deref().unwrap_or(primary);
            let step: CaseWorkflowRow = case_workflows::table
                .filter(case_workflows::case_id.eq(&case.id))
                .filter(case_workflows::workflow.eq(name))
                .filter(case_workflows::finished_at.is_null())
                .select(CaseWorkflowRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or_else(|| {
                    AppError::unprocessable(
                        "workflow_not_running",
                        "workflow",
                        format!("workflow {name:?} is not running on this case"),
                    )
                })?;
            let due = step.due_at.ok_or_else(|| {
                AppError::unprocessable(
                    "no_timescale",
                    "workflow",
                    format!("the step {:?} has no timescale to depart from", step.state),
                )
            })?;
            row.case_workflow_id = Some(step.id.clone());
            row.step_entered_at = Some(step.entered_at);
            row.state = Some(step.state.clone());
            row.due_at = due;
            timescale_departures::table
                .filter(timescale_departures::case_workflow_id.eq(&step.id))
                .filter(timescale_departures::step_entered_at.eq(step.entered_at))
                .count()
                .get_result::<i64>(conn)?
        };
        if already > 0 {
            return Err(AppError::Conflict {
                code: "departure_recorded",
                message: "a departure from this timescale is already recorded".into(),
            });
        }
        diesel::insert_into(timescale_departures::table)
            .values(&row)
            .execute(conn)?;
        audit::record_on_case(
            conn,
            key,
            &case.id,
            &actor.id,
            "timescale_departure",
            json!({
                "departure_id": row.id, "step": row.state, "review_id": row.review_id,
                "due_at": row.due_at.and_utc().to_rfc3339(), "rationale": row.rationale,
            }),
            naive_now,
        )?;
        Ok(row)
    }
}
