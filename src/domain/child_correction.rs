//! Correcting the child's details recorded at the report (name, date of birth, gender), with a
//! reason, in the case's history with what they were before. What hangs on them follows the
//! case as it now stands: the age-18 track starts, and duties end, by the corrected date of
//! birth (the daily job reads it), and the child-name check of every email uses the corrected
//! name. Deadlines run from when each step began, so steps already finished keep the deadlines
//! they had, and the timeliness figures do not change after the fact.
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::audit;
use super::input;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::schema::cases;
use crate::storage::DbConn;
use crate::time::age::eighteenth_birthday;
use crate::time::wales::london_date;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildCorrection {
    pub expected_version: i64,
    pub name: String,
    /// YYYY-MM-DD.
    pub date_of_birth: String,
    pub gender: String,
    /// Why the record was wrong, in at least 20 characters.
    pub reason: String,
}

/// What a correction changed: the version it left the case at, and whether anything changed.
pub struct Corrected {
    pub version: i64,
    pub changed: bool,
}

pub fn correct(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &ChildCorrection,
) -> Result<Corrected, AppError> {
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        // Asked once the case is found: someone who may not open it hears only "not found".
        if !matches!(
            actor.role,
            RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
        ) {
            return Err(AppError::Forbidden(
                "only a chair, team lead or senior manager may correct the child's details".into(),
            ));
        }
        // Checked once the case is found, so that a case out of reach answers "not found"
        // whatever was sent.
        let today = london_date(intent.now);
        let name = input::field_len(&req.name, "child.name", 200)?;
        let dob =
            NaiveDate::parse_from_str(req.date_of_birth.trim(), "%Y-%m-%d").map_err(|_| {
                AppError::bad_request(
                    "invalid_date",
                    "child.date_of_birth",
                    format!(
                        "child.date_of_birth must be a date YYYY-MM-DD; got {:?}",
                        req.date_of_birth
                    ),
                )
            })?;
        if dob > today {
            return Err(AppError::unprocessable(
                "date_of_birth_in_future",
                "child.date_of_birth",
                "child.date_of_birth is in the future",
            ));
        }
        if eighteenth_birthday(dob) <= today {
            return Err(AppError::unprocessable(
                "not_a_child",
                "child.date_of_birth",
                "with that date of birth the person is 18 or over: child protection procedures end at 18 (R16)",
            ));
        }
        let gender = input::field_len(&req.gender, "child.gender", 50)?;
        let reason = req.reason.trim();
        if reason.chars().count() < 20 {
            return Err(AppError::unprocessable(
                "reason_too_short",
                "reason",
                "a correction needs its reason, in at least 20 characters",
            ));
        }
        if reason.chars().count() > 2000 {
            return Err(AppError::bad_request(
                "reason_too_long",
                "reason",
                "the reason must be at most 2000 characters",
            ));
        }
        super::case::at_version(case, req.expected_version)?;
        let changed = case.child_name != name
            || case.child_date_of_birth != dob
            || case.child_gender != gender;
        if !changed {
            return Ok(Corrected {
                version: case.version,
                changed: false,
            });
        }
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::child_name.eq(&name),
                cases::child_name_folded.eq(crate::i18n::search::fold(&name)),
                cases::child_date_of_birth.eq(dob),
                cases::child_gender.eq(&gender),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "child_corrected",
            json!({
                "reason": reason,
                "before": {"name": case.child_name, "date_of_birth": case.child_date_of_birth.to_string(), "gender": case.child_gender},
                "after": {"name": name, "date_of_birth": dob.to_string(), "gender": gender},
                "eighteenth_birthday": {"before": eighteenth_birthday(case.child_date_of_birth).to_string(),
                                        "after": eighteenth_birthday(dob).to_string()},
            }),
            intent.now.naive_utc(),
        )?;
        Ok(Corrected {
            version: case.version + 1,
            changed: true,
        })
    })
}
