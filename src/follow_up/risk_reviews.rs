//! What is due of the children's risk over time, for one authority's open cases or all: risk
//! reviews due soon or late, return interviews after a missing episode not yet held, and how
//! many missing episodes began in a period. The dashboard and the digest chase them.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::overdue::{in_scope, Scope};
use crate::error::AppError;
use crate::storage::schema::{cases, missing_episodes, risk_reviews};
use crate::storage::DbConn;
use crate::time::wales::end_of_london_day;

#[derive(Debug, Clone, Serialize)]
pub struct RiskReviewDue {
    pub case_id: String,
    pub reference: String,
    pub due_on: NaiveDate,
    /// `scheduled`, or what brought it forward (`missing_episode`).
    pub reason: String,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnInterviewDue {
    pub case_id: String,
    pub reference: String,
    pub episode_id: String,
    pub due_at: DateTime<Utc>,
    pub offered: bool,
    pub overdue: bool,
}

/// Open cases whose risk review falls due by `until`, soonest (most overdue) first.
pub fn risk_reviews_due(
    conn: &mut DbConn,
    scope: &Scope,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<RiskReviewDue>, AppError> {
    let query = risk_reviews::table
        .inner_join(cases::table)
        .filter(cases::status.eq("open"))
        .filter(risk_reviews::due_on.le(until))
        .select((
            risk_reviews::case_id,
            cases::reference,
            risk_reviews::due_on,
            risk_reviews::reason,
        ))
        .order((risk_reviews::due_on, cases::reference))
        .into_boxed();
    let rows: Vec<(String, String, NaiveDate, String)> =
        in_scope!(query, scope, risk_reviews::case_id).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(case_id, reference, due_on, reason)| RiskReviewDue {
            overdue: due_on < today,
            case_id,
            reference,
            due_on,
            reason,
        })
        .collect())
}

/// Return interviews not yet held whose deadline falls by `until`, on open cases, soonest
/// first.
pub fn return_interviews_due(
    conn: &mut DbConn,
    scope: &Scope,
    now: DateTime<Utc>,
    until: NaiveDate,
) -> Result<Vec<ReturnInterviewDue>, AppError> {
    let query = missing_episodes::table
        .inner_join(cases::table)
        .filter(cases::status.eq("open"))
        .filter(missing_episodes::interview_held_at.is_null())
        .filter(missing_episodes::return_interview_due_at.le(end_of_london_day(until).naive_utc()))
        .select((
            missing_episodes::case_id,
            cases::reference,
            missing_episodes::id,
            missing_episodes::return_interview_due_at.assume_not_null(),
            missing_episodes::interview_offered_at.is_not_null(),
        ))
        .order(missing_episodes::return_interview_due_at)
        .into_boxed();
    let rows: Vec<(String, String, String, chrono::NaiveDateTime, bool)> =
        in_scope!(query, scope, missing_episodes::case_id).load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(case_id, reference, episode_id, due, offered)| ReturnInterviewDue {
                overdue: due.and_utc() < now,
                case_id,
                reference,
                episode_id,
                due_at: due.and_utc(),
                offered,
            },
        )
        .collect())
}

/// How many missing episodes began between `from` and `to` (Wales dates, both included) for
/// children located in `authority` whose cases are not restricted.
pub fn missing_episodes_begun(
    conn: &mut DbConn,
    authority: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64, AppError> {
    let start = end_of_london_day(from - chrono::Duration::days(1)).naive_utc();
    let end = end_of_london_day(to).naive_utc();
    Ok(missing_episodes::table
        .inner_join(cases::table)
        .filter(cases::located_authority.eq(authority))
        .filter(cases::restricted.eq(false))
        .filter(missing_episodes::went_missing_at.gt(start))
        .filter(missing_episodes::went_missing_at.le(end))
        .count()
        .get_result(conn)?)
}
