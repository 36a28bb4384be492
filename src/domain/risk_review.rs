//! When a child's exploitation risk is next to be reviewed, and why: the interval of the last
//! assessment's category, or sooner after a significant change (a missing episode, for one).
//! One row a case; the dashboard and the team leads' digest chase it once it is due.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::engine::Engine;
use crate::error::AppError;
use crate::storage::models::RiskReviewRow;
use crate::storage::schema::risk_reviews;
use crate::storage::DbConn;
use crate::time::wales::london_date;

/// Why a review is due when it is.
pub const SCHEDULED: &str = "scheduled";
pub const AFTER_MISSING_EPISODE: &str = "missing_episode";
pub const AFTER_CONTEXT_LINK: &str = "context_link";
pub const AFTER_DISCLOSURE: &str = "disclosure";
pub const AFTER_OTHER_CHANGE: &str = "other_change";

/// A significant change someone records by hand: a new disclosure, or another.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignificantChange {
    /// `disclosure` or `other_change`.
    pub reason: String,
    /// What changed, in a few words (kept in the case's history, never emailed).
    pub note: String,
}

/// Records a significant change on a case the person may see, bringing its risk review forward.
pub fn record_change(
    svc: &super::Services,
    conn: &mut DbConn,
    intent: &super::unit_of_work::Intent<'_>,
    actor: &crate::identity::Actor,
    key: &str,
    req: &SignificantChange,
) -> Result<NaiveDate, AppError> {
    let reason = match req.reason.trim() {
        AFTER_DISCLOSURE => AFTER_DISCLOSURE,
        AFTER_OTHER_CHANGE => AFTER_OTHER_CHANGE,
        _ => {
            return Err(AppError::bad_request(
                "invalid_choice",
                "reason",
                "reason is disclosure or other_change",
            ))
        }
    };
    let note = super::input::rationale(&req.note, "note")?;
    super::unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        if actor.role == crate::identity::RoleName::Administrator {
            return Err(AppError::NotFound("case"));
        }
        super::case::still_open(case)?;
        let due = bring_forward(conn, &svc.engine, &case.id, reason, intent.now)?
            .ok_or(AppError::NotFound("risk assessment"))?;
        super::audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "significant_change",
            serde_json::json!({"reason": reason, "note": note, "risk_review_due": due}),
            intent.now.naive_utc(),
        )?;
        Ok(due)
    })
}

pub fn of_case(conn: &mut DbConn, case_id: &str) -> Result<Option<RiskReviewRow>, AppError> {
    Ok(risk_reviews::table
        .find(case_id)
        .select(RiskReviewRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Sets the next review after an assessment, whatever was due before: the assessment is the
/// review.
pub fn schedule(
    conn: &mut DbConn,
    case_id: &str,
    due_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    set(conn, case_id, due_on, SCHEDULED, now)
}

/// A significant change: the review is due within the assessment file's few working days,
/// unless it already falls due sooner. Returns the date it is now due, if the service has a risk
/// assessment to review with.
pub fn bring_forward(
    conn: &mut DbConn,
    engine: &Engine,
    case_id: &str,
    reason: &'static str,
    now: DateTime<Utc>,
) -> Result<Option<NaiveDate>, AppError> {
    let Some(assessment) = engine.registry.assessment() else {
        return Ok(None);
    };
    let by = assessment.review_after_change(london_date(now), &engine.calendar);
    match of_case(conn, case_id)? {
        Some(due) if due.due_on <= by => Ok(Some(due.due_on)),
        _ => {
            set(conn, case_id, by, reason, now)?;
            Ok(Some(by))
        }
    }
}

fn set(
    conn: &mut DbConn,
    case_id: &str,
    due_on: NaiveDate,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // The case is locked by the unit of work, so a read then a write cannot race another writer.
    let changed = diesel::update(risk_reviews::table.find(case_id))
        .set((
            risk_reviews::due_on.eq(due_on),
            risk_reviews::reason.eq(reason),
            risk_reviews::since.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(risk_reviews::table)
            .values(RiskReviewRow {
                case_id: case_id.to_string(),
                due_on,
                reason: reason.to_string(),
                since: now.naive_utc(),
            })
            .execute(conn)?;
    }
    Ok(())
}
