//! Who may see and change a meeting, and what of it. A meeting may concern children of several
//! authorities: nobody learns of a child whose case they may not see, not by a reference, a
//! deadline, an invitee or a count. The people invited take part in what the meeting shares
//! (R24), so an invitee sees it as their invitation and record give it to them.
use diesel::prelude::*;

use crate::domain::unit_of_work::Touched;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::reference::agencies::AgencyDirectory;
use crate::storage::models::{CaseRow, InviteeRow, MeetingRow};
use crate::storage::schema::{cases, meeting_cases, meeting_invitees, meetings, users};
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

pub fn may_convene(actor: &Actor) -> Result<(), AppError> {
    if matches!(actor.role, RoleName::Chair | RoleName::TeamLead) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a chair or team lead may convene or change a meeting".into(),
        ))
    }
}

/// A meeting as one reader may see it.
pub struct SeenMeeting {
    pub meeting: MeetingRow,
    /// Every case it concerns, for what the reader may be shown of the meeting as a whole
    /// (never to be shown whole to a reader who does not see them all).
    pub all: Vec<CaseRow>,
    /// The cases the reader may see.
    pub visible: Vec<CaseRow>,
    /// The reader is one of the people invited, and so sees what their invitation shows.
    pub invited: bool,
}

impl SeenMeeting {
    pub fn sees_every_child(&self) -> bool {
        self.visible.len() == self.all.len()
    }

    pub fn sees_case(&self, case_id: &str) -> bool {
        self.visible.iter().any(|c| c.id == case_id)
    }
}

/// A meeting the actor may see: one of its children's cases is theirs to see, or they are
/// invited to it. Anything else is "not found", exactly as a meeting that does not exist.
pub fn seen_meeting(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<SeenMeeting, AppError> {
    let meeting: MeetingRow = meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("meeting"))?;
    let all = cases_of(conn, id)?;
    let mut visible = Vec::new();
    for c in &all {
        if crate::domain::case::may_see(conn, actor, c)? {
            visible.push(c.clone());
        }
    }
    let invited = match reader_email(conn, actor)? {
        Some(email) => {
            meeting_invitees::table
                .filter(meeting_invitees::meeting_id.eq(id))
                .filter(meeting_invitees::email.eq(email))
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
        None => false,
    };
    if visible.is_empty() && !invited {
        return Err(AppError::NotFound("meeting"));
    }
    Ok(SeenMeeting {
        meeting,
        all,
        visible,
        invited,
    })
}

/// The reader's address, by which an invitation names them.
pub(super) fn reader_email(conn: &mut DbConn, actor: &Actor) -> Result<Option<String>, AppError> {
    Ok(users::table
        .find(&actor.id)
        .select(users::email)
        .get_result(conn)
        .optional()?)
}

/// A meeting the actor may see, with the cases they may see.
pub fn visible_meeting(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    let seen = seen_meeting(conn, actor, id)?;
    Ok((seen.meeting, seen.visible))
}

/// A meeting the actor may change, with every child's case locked for the change: its chair, or
/// a team lead or senior manager of the chair's authority. Who may change it depends only on
/// who convened it, never on the children in it, so a refusal says nothing about them. The
/// cases the actor can see are touched (and so logged) even when the change is then refused.
pub(super) fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    touched: &mut Touched,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    let seen = seen_meeting(conn, actor, id)?;
    touched.cases(seen.visible.iter().map(|c| c.id.as_str()));
    let chair_authority: Option<String> = users::table
        .find(&seen.meeting.chair_user_id)
        .select(users::authority_code)
        .get_result(conn)
        .optional()?;
    let is_chair = seen.meeting.chair_user_id == actor.id;
    let covers = matches!(actor.role, RoleName::TeamLead | RoleName::SeniorManager)
        && chair_authority.as_deref() == Some(actor.authority.as_str());
    if !(is_chair || covers) {
        return Err(AppError::Forbidden(
            "only the chair who convened this meeting, or a team lead of their authority, can change it".into(),
        ));
    }
    let ids: Vec<&str> = seen.all.iter().map(|c| c.id.as_str()).collect();
    lock_cases(conn, &ids)?;
    // Read again under the lock: another change may have been waiting ahead of this one.
    let meeting: MeetingRow = meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .get_result(conn)?;
    if meeting.status != "scheduled" {
        return Err(AppError::Conflict {
            code: "meeting_cancelled",
            message: format!("the meeting is {}; it cannot be changed", meeting.status),
        });
    }
    Ok((meeting, seen.all))
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

/// Whether an invitee may be named beside these children: one from a service of a single area
/// (a local authority, its youth justice service) is named only beside a child of that area,
/// so that a list of invitees does not tell of a child of another area.
pub fn invitee_shown_with(
    agencies: &AgencyDirectory,
    invitee: &InviteeRow,
    cases: &[&CaseRow],
) -> bool {
    match invitee
        .agency_code
        .as_deref()
        .and_then(|a| agencies.area_of(a))
    {
        None => true,
        Some(area) => cases
            .iter()
            .any(|c| c.located_authority == area || c.residence_authority == area),
    }
}

/// Another change to the meeting was saved between our read and our write.
pub(super) fn meeting_moved_on() -> AppError {
    AppError::Conflict {
        code: "stale_version",
        message: "the meeting changed meanwhile; reload it".into(),
    }
}
