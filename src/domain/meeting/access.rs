//! Who may see and change a meeting.
use diesel::prelude::*;

use crate::domain::unit_of_work::Touched;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::models::{CaseRow, InviteeRow, MeetingRow};
use crate::storage::schema::{cases, meeting_cases, meeting_invitees, meetings};
use crate::storage::{lock_cases, DbConn};

/// The cases a meeting concerns, in reference order.
pub(super) fn cases_of(conn: &mut DbConn, meeting_id: &str) -> Result<Vec<CaseRow>, AppError> {
    Ok(meeting_cases::table
        .inner_join(cases::table)
        .filter(meeting_cases::meeting_id.eq(meeting_id))
        .order(cases::reference)
        .select(CaseRow::as_select())
        .load(conn)?)
}

pub(super) fn may_convene(actor: &Actor) -> Result<(), AppError> {
    if matches!(actor.role, RoleName::Chair | RoleName::TeamLead) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a chair or team lead may convene or change a meeting".into(),
        ))
    }
}

/// A meeting the actor may see: they can see at least one of its children's cases.
pub fn visible_meeting(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    let meeting: MeetingRow = meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("meeting"))?;
    let rows = cases_of(conn, id)?;
    let mut visible = Vec::new();
    for c in rows {
        if crate::domain::case::may_see(conn, actor, &c)? {
            visible.push(c);
        }
    }
    if visible.is_empty() {
        return Err(AppError::NotFound("meeting"));
    }
    Ok((meeting, visible))
}

/// A meeting the actor may change, with every child's case locked for the change. The cases the
/// actor can see are touched (and so logged) even when the change is then refused.
pub(super) fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    touched: &mut Touched,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    may_convene(actor)?;
    let (_, visible) = visible_meeting(conn, actor, id)?;
    touched.cases(visible.iter().map(|c| c.id.as_str()));
    let ids: Vec<&str> = visible.iter().map(|c| c.id.as_str()).collect();
    lock_cases(conn, &ids)?;
    // Read again under the lock: another change may have been waiting ahead of this one.
    let (meeting, visible) = visible_meeting(conn, actor, id)?;
    let all = cases_of(conn, id)?;
    if visible.len() != all.len() {
        return Err(AppError::Forbidden(
            "this meeting includes children whose cases you cannot see; ask its chair".into(),
        ));
    }
    if meeting.status != "scheduled" {
        return Err(AppError::Conflict {
            code: "meeting_cancelled",
            message: format!("the meeting is {}; it cannot be changed", meeting.status),
        });
    }
    Ok((meeting, all))
}

pub(super) fn invitees_of(
    conn: &mut DbConn,
    meeting_id: &str,
) -> Result<Vec<InviteeRow>, AppError> {
    Ok(meeting_invitees::table
        .filter(meeting_invitees::meeting_id.eq(meeting_id))
        .order(meeting_invitees::name)
        .select(InviteeRow::as_select())
        .load(conn)?)
}

/// Another change to the meeting was saved between our read and our write.
pub(super) fn meeting_moved_on() -> AppError {
    AppError::Conflict {
        code: "stale_version",
        message: "the meeting changed meanwhile; reload it".into(),
    }
}
