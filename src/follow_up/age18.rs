//! The age-18 rules (R16-R19) on the calendar: which cases the daily run touches. The track
//! starts at the configured age, and on the 18th birthday child protection duties end; each
//! case is its own unit of work (`domain::age18`), so one that fails is tried again next run
//! without holding up the others.
use chrono::{DateTime, Months, NaiveDate, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use crate::domain::age18::{self, system_actor};
use crate::domain::unit_of_work::Intent;
use crate::domain::Services;
use crate::engine::contract::WorkflowRole;
use crate::error::AppError;
use crate::storage::schema::{case_workflows, cases};
use crate::storage::DbConn;
use crate::time::wales::london_date;

pub fn run(svc: &Services, conn: &mut DbConn, now: DateTime<Utc>) -> Result<String, AppError> {
    let today = london_date(now);
    let actor = system_actor();
    let intent = svc.intent_at(&actor.id, "job:age-trigger", now);
    let (started, failed_start) = start_tracks(svc, conn, &intent, today)?;
    let (handed, failed_handover) = birthdays(svc, conn, &intent, today)?;
    Ok(format!(
        "{started} age-18 tracks started; {handed} cases reached 18{}",
        super::action_notices::failures(failed_start + failed_handover)
    ))
}

/// Open cases whose child has reached the transition age, is not yet 18, and has no track.
fn start_tracks(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    today: NaiveDate,
) -> Result<(usize, usize), AppError> {
    let Some(track) = svc.engine.registry.with_role(WorkflowRole::Age18Track) else {
        return Ok((0, 0));
    };
    // A day's margin either side of the exact test in `start_track`, which knows about 29
    // February.
    let born_by = today
        .checked_sub_months(Months::new(svc.engine.settings.transition_age_months))
        .map(|d| d.succ_opt().unwrap_or(d))
        .unwrap_or(NaiveDate::MIN);
    let candidates: Vec<(String, String, NaiveDate)> = cases::table
        .filter(cases::status.eq("open"))
        .filter(cases::child_date_of_birth.le(born_by))
        .filter(not(exists(
            case_workflows::table
                .filter(case_workflows::case_id.eq(cases::id))
                .filter(case_workflows::workflow.eq(track.name())),
        )))
        .select((cases::id, cases::reference, cases::child_date_of_birth))
        .load(conn)?;
    let (mut started, mut failed) = (0, 0);
    for (id, reference, dob) in candidates {
        if !age18::track_due(svc, dob, today) {
            continue;
        }
        match age18::start_track(svc, conn, intent, &id) {
            Ok(true) => started += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                tracing::error!(case = %reference, error = %e, "could not start the age-18 track; the next run tries again");
            }
        }
    }
    Ok((started, failed))
}

/// Cases with a workflow still running whose child is 18 today or earlier.
fn birthdays(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    today: NaiveDate,
) -> Result<(usize, usize), AppError> {
    let born_by = today
        .checked_sub_months(Months::new(18 * 12))
        .map(|d| d.succ_opt().unwrap_or(d))
        .unwrap_or(NaiveDate::MIN);
    let candidates: Vec<String> = cases::table
        .filter(cases::child_date_of_birth.le(born_by))
        .filter(exists(
            case_workflows::table
                .filter(case_workflows::case_id.eq(cases::id))
                .filter(case_workflows::finished_at.is_null()),
        ))
        .select(cases::id)
        .load(conn)?;
    let (mut reached, mut failed) = (0, 0);
    for case_id in candidates {
        match age18::hand_over(svc, conn, intent, &case_id) {
            Ok(true) => reached += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                tracing::error!(case = %case_id, error = %e, "could not close the plan at 18; the next run tries again");
            }
        }
    }
    Ok((reached, failed))
}
