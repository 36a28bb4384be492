//! The one sanctioned deletion: destroying a case whose records have passed their retention
//! period. It runs from the command line with the database owner's role (on PostgreSQL the
//! service's own role may not delete from the audit at all), writes the case's tombstone to the
//! checkpoints first (reference, dates, who authorised it and under which rule: no personal
//! data), and then deletes everything of the case in one transaction. `audit verify` accepts a
//! missing case only when its tombstone is there. The access-log lines of the case stay: they
//! hold no personal data and say who looked at it while it existed.
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::checkpoint::{self, Tombstone};
use super::Services;
use crate::error::AppError;
use crate::storage::models::CaseRow;
use crate::storage::schema::{
    action_updates, agreed_actions, audit_events, case_involvements, case_workflows, cases,
    child_cases, form_submissions, meeting_cases, meeting_invitees, meeting_record_sections,
    meetings, missing_episodes, outbox, partner_referrals, plan_reviews, risk_assessments,
    risk_reviews, step_history, timescale_departures,
};
use crate::storage::{write_transaction, DbConn};

pub struct Destruction<'a> {
    pub reference: &'a str,
    /// Who authorised it, by name and role, as the council's records say.
    pub authorised_by: &'a str,
}

/// Destroys a case and returns its tombstone. Only a closed case whose retention period is
/// over (by the rules of `reference/retention.toml`) and that is under no legal hold may go;
/// the rule in its tombstone is the one that applies, not one the operator names.
pub fn destroy(
    svc: &Services,
    conn: &mut DbConn,
    what: &Destruction<'_>,
) -> Result<Tombstone, AppError> {
    if what.authorised_by.trim().is_empty() {
        return Err(AppError::bad_request(
            "authority_required",
            "authorised_by",
            "a destruction names who authorised it",
        ));
    }
    let held = super::retention::closed_cases(svc, conn)?
        .into_iter()
        .find(|h| h.reference == what.reference);
    let held = match held {
        Some(h) => h,
        None if cases::table
            .filter(cases::reference.eq(what.reference))
            .count()
            .get_result::<i64>(conn)?
            > 0 =>
        {
            return Err(AppError::Conflict {
                code: "case_not_closed",
                message: format!(
                    "{} is not closed; no retention rule destroys an open case",
                    what.reference
                ),
            })
        }
        None => return Err(AppError::NotFound("case")),
    };
    if let Some(hold) = &held.legal_hold {
        return Err(AppError::Conflict {
            code: "legal_hold",
            message: format!(
                "{} is under a legal hold ({hold}); lift it first",
                held.reference
            ),
        });
    }
    if held.until > svc.today() {
        return Err(AppError::Conflict {
            code: "retention_not_over",
            message: format!(
                "{} is kept under rule {} until {}",
                held.reference, held.rule, held.until
            ),
        });
    }
    let case: CaseRow = cases::table
        .filter(cases::reference.eq(what.reference))
        .select(CaseRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("case"))?;
    let now = svc.now();
    let tombstone = Tombstone {
        case_id: case.id.clone(),
        reference: case.reference.clone(),
        created_at: case.created_at.and_utc().to_rfc3339(),
        destroyed_at: now.to_rfc3339(),
        authorised_by: what.authorised_by.trim().to_string(),
        rule: held.rule.clone(),
        entries: case.audit_seq,
        head: case.audit_head.clone(),
    };
    // The tombstone first: a destruction that stops half-way leaves a tombstone for a case still
    // there, which `verify` reports, rather than a case gone without one.
    checkpoint::tombstone(&svc.checkpoints, &svc.audit_key, &tombstone)?;
    let id = case.id.clone();
    write_transaction(conn, |conn| {
        // As it stands now, under this transaction: a case reopened or held since it was
        // checked above is not destroyed.
        let (status, hold): (String, Option<String>) = cases::table
            .find(&id)
            .select((cases::status, cases::legal_hold))
            .get_result(conn)?;
        if status != "closed" || hold.is_some() {
            return Err(AppError::Conflict {
                code: "case_not_closed",
                message: format!(
                    "{} was reopened or held while it was being destroyed; nothing was deleted",
                    case.reference
                ),
            });
        }
        match conn {
            DbConn::Postgres(_) => {
                conn.batch_execute("SET LOCAL safeguard.destruction = 'on'")?;
            }
            DbConn::Sqlite(_) => {
                conn.batch_execute("DROP TRIGGER audit_events_no_delete")?;
            }
        }
        let only_this: Vec<String> = meeting_cases::table
            .filter(meeting_cases::case_id.eq(&id))
            .select(meeting_cases::meeting_id)
            .load(conn)?;
        diesel::delete(
            meeting_record_sections::table.filter(meeting_record_sections::case_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(meeting_cases::table.filter(meeting_cases::case_id.eq(&id)))
            .execute(conn)?;
        for m in only_this {
            let others: i64 = meeting_cases::table
                .filter(meeting_cases::meeting_id.eq(&m))
                .count()
                .get_result(conn)?;
            if others == 0 {
                diesel::delete(
                    meeting_record_sections::table
                        .filter(meeting_record_sections::meeting_id.eq(&m)),
                )
                .execute(conn)?;
                diesel::delete(outbox::table.filter(outbox::meeting_id.eq(&m))).execute(conn)?;
                diesel::delete(meeting_invitees::table.filter(meeting_invitees::meeting_id.eq(&m)))
                    .execute(conn)?;
                diesel::delete(agreed_actions::table.filter(agreed_actions::meeting_id.eq(&m)))
                    .execute(conn)?;
                diesel::delete(meetings::table.find(&m)).execute(conn)?;
            }
        }
        diesel::delete(action_updates::table.filter(action_updates::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(agreed_actions::table.filter(agreed_actions::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(timescale_departures::table.filter(timescale_departures::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(plan_reviews::table.filter(plan_reviews::case_id.eq(&id))).execute(conn)?;
        diesel::delete(step_history::table.filter(step_history::case_id.eq(&id))).execute(conn)?;
        diesel::delete(case_workflows::table.filter(case_workflows::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(partner_referrals::table.filter(partner_referrals::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(missing_episodes::table.filter(missing_episodes::case_id.eq(&id)))
            .execute(conn)?;
        // The context stays (it is the authority's); this child's links to it go.
        diesel::delete(
            crate::storage::schema::context_links::table
                .filter(crate::storage::schema::context_links::case_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(risk_assessments::table.filter(risk_assessments::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(risk_reviews::table.filter(risk_reviews::case_id.eq(&id))).execute(conn)?;
        // The child record keeps no personal data; the case's place in it goes with the case.
        diesel::delete(child_cases::table.filter(child_cases::case_id.eq(&id))).execute(conn)?;
        diesel::delete(case_involvements::table.filter(case_involvements::case_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(outbox::table.filter(outbox::case_id.eq(&id))).execute(conn)?;
        diesel::delete(
            form_submissions::table.filter(form_submissions::outcome.eq(&tombstone.reference)),
        )
        .execute(conn)?;
        diesel::delete(audit_events::table.filter(audit_events::case_id.eq(&id))).execute(conn)?;
        diesel::delete(
            crate::storage::schema::destruction_approvals::table
                .filter(crate::storage::schema::destruction_approvals::case_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(cases::table.find(&id)).execute(conn)?;
        if let DbConn::Sqlite(_) = conn {
            conn.batch_execute(
                "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
            )?;
        }
        Ok::<(), AppError>(())
    })?;
    Ok(tombstone)
}
