//! A child protection plan moving with the family to another Welsh authority (WSP c4 p9): the
//! receiving authority is told at once, by email to its team leads, and holds a transfer
//! conference within the step's timescale. The email names the case by its reference only.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{CaseRow, UserRow};
use crate::storage::schema::users;
use crate::storage::DbConn;
use crate::time::wales::{date_time, date_time_in_sentence, Before};

/// The people of `authority` who hear of a transfer to it: its team leads, else its senior
/// managers. On a restricted case, only those named on it.
pub(super) fn people_to_tell(
    conn: &mut DbConn,
    case: &CaseRow,
    authority: &str,
) -> Result<Vec<UserRow>, AppError> {
    let mut people = Vec::new();
    for role in ["team_lead", "senior_manager"] {
        people = users::table
            .filter(users::role.eq(role))
            .filter(users::active.eq(true))
            .filter(users::authority_code.eq(authority))
            .select(UserRow::as_select())
            .load(conn)?;
        if !people.is_empty() {
            break;
        }
    }
    if case.restricted {
        return super::case_access::only_named(conn, &case.id, people);
    }
    Ok(people)
}

/// Queues the transfer notice to the receiving authority, in the transaction of the event that
/// begins the transfer.
pub fn tell_receiving_authority(
    svc: &Services,
    conn: &mut DbConn,
    case: &CaseRow,
    to: &str,
    conference_due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mailer = &svc.mailer;
    let agencies = svc.engine.agencies.current();
    let from_name = |lang: Language| {
        agencies
            .get(&case.located_authority)
            .map(|a| match lang {
                Language::English => a.name_en.clone(),
                Language::Welsh => a.name_cy.clone(),
            })
            .unwrap_or_else(|| case.located_authority.clone())
    };
    for person in people_to_tell(conn, case, to)? {
        mailer.queue(
            conn,
            "transfer_notice",
            Some(&case.id),
            &person.email,
            Language::parse(&person.language).unwrap_or(Language::English),
            |lang| {
                json!({
                    "recipient_name": person.name, "reference": case.reference,
                    "from_authority": from_name(lang),
                    "due": conference_due.map(|t| date_time(t, lang)),
                    "due_by": conference_due.map(|t| date_time_in_sentence(t, Before::By, lang)),
                    "case_url": format!("{}/cases/{}", mailer.public_url, case.reference),
                })
            },
            now,
        )?;
    }
    Ok(())
}

/// At the transfer conference, the staff of the authority that held the case stop seeing it by
/// their part in it: their involvements stay in the record, by name and role, but no longer
/// open the case to them, and any naming on a restricted case ends. Partner agencies' people
/// keep theirs. Returns whose ended, for the audit entry (its replay takes them off too).
pub fn end_holding_authority_access(
    conn: &mut DbConn,
    case: &CaseRow,
) -> Result<serde_json::Value, AppError> {
    use crate::storage::schema::{case_access_grants, case_involvements};
    let involved: Vec<String> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .filter(case_involvements::agency_code.eq(&case.located_authority))
        .filter(case_involvements::user_id.is_not_null())
        .select(case_involvements::user_id.assume_not_null())
        .load(conn)?;
    diesel::update(
        case_involvements::table
            .filter(case_involvements::case_id.eq(&case.id))
            .filter(case_involvements::agency_code.eq(&case.located_authority)),
    )
    .set(case_involvements::user_id.eq(None::<String>))
    .execute(conn)?;
    let staff: Vec<String> = users::table
        .filter(users::authority_code.eq(&case.located_authority))
        .select(users::id)
        .load(conn)?;
    let named: Vec<String> = case_access_grants::table
        .filter(case_access_grants::case_id.eq(&case.id))
        .filter(case_access_grants::user_id.eq_any(&staff))
        .select(case_access_grants::user_id)
        .load(conn)?;
    diesel::delete(
        case_access_grants::table
            .filter(case_access_grants::case_id.eq(&case.id))
            .filter(case_access_grants::user_id.eq_any(&named)),
    )
    .execute(conn)?;
    Ok(json!({"involvements_ended": involved, "naming_ended": named}))
}
