//! Keeping and destroying case records by rule. Closed cases past their retention period
//! (`reference::retention`) are listed for an administrator, by reference and dates only; an
//! administrator approves each destruction or places a legal hold, which keeps the case however
//! old it is. The approved destructions are carried out by `safeguard case destroy-approved`,
//! with the database owner's role, each leaving its tombstone. Every approval and hold is a
//! security event, written with it.
use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use super::checkpoint::Tombstone;
use super::security_event::{self, SecurityKind};
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::reference::retention::Kept;
use crate::storage::schema::{cases, destruction_approvals, step_history, users};
use crate::storage::DbConn;
use crate::time::wales::london_date;

/// A closed case as retention sees it: no name, no record.
#[derive(Debug, Clone)]
pub struct Held {
    pub case_id: String,
    pub reference: String,
    pub reported: NaiveDate,
    pub closed: NaiveDate,
    pub rule: String,
    /// The first day it may be destroyed.
    pub until: NaiveDate,
    pub legal_hold: Option<String>,
    /// Who approved its destruction (their name) and when.
    pub approved: Option<(String, NaiveDateTime)>,
}

/// id, reference, reported, last written, date of birth, looked after, legal hold.
type ClosedRow = (
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    NaiveDate,
    bool,
    Option<String>,
);

/// Every closed case with its rule and date, soonest first.
pub fn closed_cases(svc: &Services, conn: &mut DbConn) -> Result<Vec<Held>, AppError> {
    let rows: Vec<ClosedRow> = cases::table
        .filter(cases::status.eq("closed"))
        .select((
            cases::id,
            cases::reference,
            cases::created_at,
            cases::updated_at,
            cases::child_date_of_birth,
            cases::looked_after,
            cases::legal_hold,
        ))
        .load(conn)?;
    // When each closed: the last step it left, which took it to its closing step.
    let last_steps: std::collections::HashMap<String, Option<NaiveDateTime>> = step_history::table
        .inner_join(cases::table)
        .filter(cases::status.eq("closed"))
        .group_by(step_history::case_id)
        .select((step_history::case_id, max(step_history::left_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .collect();
    let approvals: std::collections::HashMap<String, (String, NaiveDateTime)> =
        destruction_approvals::table
            .inner_join(users::table.on(users::id.eq(destruction_approvals::approved_by)))
            .select((
                destruction_approvals::case_id,
                users::name,
                destruction_approvals::approved_at,
            ))
            .load::<(String, String, NaiveDateTime)>(conn)?
            .into_iter()
            .map(|(case, by, at)| (case, (by, at)))
            .collect();
    let mut out = Vec::new();
    for (id, reference, created, updated, born, looked_after, legal_hold) in rows {
        let last = last_steps.get(&id).copied().flatten();
        let closed = london_date(last.unwrap_or(updated).and_utc());
        let Some((rule, until)) = svc.retention.due(&Kept {
            looked_after,
            born,
            closed: Some(closed),
        }) else {
            continue;
        };
        out.push(Held {
            approved: approvals.get(&id).cloned(),
            case_id: id,
            reference,
            reported: london_date(created.and_utc()),
            closed,
            rule: rule.id.clone(),
            until,
            legal_hold,
        });
    }
    out.sort_by(|a, b| (a.until, &a.reference).cmp(&(b.until, &b.reference)));
    Ok(out)
}

/// The closed cases whose retention period is over on `today`.
pub fn past_retention(
    svc: &Services,
    conn: &mut DbConn,
    today: NaiveDate,
) -> Result<Vec<Held>, AppError> {
    Ok(closed_cases(svc, conn)?
        .into_iter()
        .filter(|h| h.until <= today)
        .collect())
}

fn closed_case(svc: &Services, conn: &mut DbConn, reference: &str) -> Result<Held, AppError> {
    closed_cases(svc, conn)?
        .into_iter()
        .find(|h| h.reference == reference)
        .ok_or(AppError::NotFound("closed case"))
}

fn noted(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    kind: SecurityKind,
    detail: &str,
) -> Result<(), AppError> {
    security_event::record_administration(
        conn,
        intent.key,
        kind,
        detail,
        intent.who,
        intent.now.naive_utc(),
    )
}

/// An administrator approves the destruction of a case past its retention period.
pub fn approve(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    reference: &str,
) -> Result<(), AppError> {
    let today = london_date(intent.now);
    let held = closed_case(svc, conn, reference)?;
    if held.until > today {
        return Err(AppError::Conflict {
            code: "retention_not_over",
            message: format!("{reference} is kept until {}", held.until),
        });
    }
    if held.legal_hold.is_some() {
        return Err(AppError::Conflict {
            code: "legal_hold",
            message: format!("{reference} is under a legal hold"),
        });
    }
    unit_of_work::write(conn, intent, |conn, _| {
        diesel::delete(destruction_approvals::table.find(&held.case_id)).execute(conn)?;
        diesel::insert_into(destruction_approvals::table)
            .values((
                destruction_approvals::case_id.eq(&held.case_id),
                destruction_approvals::rule.eq(&held.rule),
                destruction_approvals::approved_by.eq(intent.who),
                destruction_approvals::approved_at.eq(intent.now.naive_utc()),
            ))
            .execute(conn)?;
        noted(
            conn,
            intent,
            SecurityKind::DestructionApproved,
            &format!(
                "destruction of {reference} under rule {} approved",
                held.rule
            ),
        )
    })
}

/// Places a legal hold on a closed case (a court or an inquiry needs it kept), or lifts it
/// (`reason` none). A hold withdraws any approval waiting.
pub fn set_hold(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    reference: &str,
    reason: Option<&str>,
) -> Result<(), AppError> {
    let reason = reason.map(str::trim);
    if let Some(r) = reason {
        if r.chars().count() < 10 || r.chars().count() > 500 {
            return Err(AppError::bad_request(
                "invalid_hold_reason",
                "reason",
                "say why the case must be kept, in 10 to 500 characters",
            ));
        }
    }
    let held = closed_case(svc, conn, reference)?;
    unit_of_work::write(conn, intent, |conn, _| {
        diesel::update(cases::table.find(&held.case_id))
            .set(cases::legal_hold.eq(reason))
            .execute(conn)?;
        diesel::delete(destruction_approvals::table.find(&held.case_id)).execute(conn)?;
        match reason {
            Some(r) => noted(
                conn,
                intent,
                SecurityKind::LegalHoldSet,
                &format!("legal hold on {reference}: {r:?}"),
            ),
            None => noted(
                conn,
                intent,
                SecurityKind::LegalHoldLifted,
                &format!("legal hold on {reference} lifted"),
            ),
        }
    })
}

/// Carries out every approved destruction still due and not held: the command run with the
/// database owner's role. Each names who approved it and the rule.
pub fn destroy_approved(
    svc: &Services,
    conn: &mut DbConn,
    today: NaiveDate,
) -> Result<Vec<Tombstone>, AppError> {
    let mut done = Vec::new();
    for held in past_retention(svc, conn, today)? {
        let Some((by, at)) = &held.approved else {
            continue;
        };
        if held.legal_hold.is_some() {
            continue;
        }
        let authorised_by = format!(
            "{by} (administrator), approved on {}",
            london_date(at.and_utc())
        );
        done.push(super::destruction::destroy(
            svc,
            conn,
            &super::destruction::Destruction {
                reference: &held.reference,
                authorised_by: &authorised_by,
            },
        )?);
    }
    Ok(done)
}
