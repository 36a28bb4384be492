//! An invitee's answer through the signed link in their invitation: who has no account, so the
//! link names them. Reading the invitation and answering it are accesses to each child's case
//! the meeting concerns, logged as `link:<their address>`.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::access::cases_of;
use super::invitations::joined_references;
use super::kinds::kind_name;
use super::Answer;
use crate::domain::access_log::Access;
use crate::domain::unit_of_work;
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{InviteeRow, MeetingRow};
use crate::storage::schema::{meeting_invitees, meetings};
use crate::storage::DbConn;
use crate::time::wales;

/// How the access log names someone using a signed link.
pub fn link_holder(email: &str) -> String {
    format!("link:{email}")
}

pub fn invitee_and_meeting(
    conn: &mut DbConn,
    invitee_id: &str,
) -> Result<(InviteeRow, MeetingRow), AppError> {
    let invitee: InviteeRow = meeting_invitees::table
        .find(invitee_id)
        .select(InviteeRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("invitation"))?;
    let meeting: MeetingRow = meetings::table
        .find(&invitee.meeting_id)
        .select(MeetingRow::as_select())
        .get_result(conn)?;
    Ok((invitee, meeting))
}

/// Values for the public answer page: the case references, never a child's name. Read and
/// logged as an access to each case of the meeting.
pub fn answer_page_data(
    svc: &Services,
    conn: &mut DbConn,
    path: &str,
    invitee_id: &str,
    action: &str,
    first: Option<Language>,
) -> Result<Value, AppError> {
    let (invitee, meeting) = invitee_and_meeting(conn, invitee_id)?;
    let who = link_holder(&invitee.email);
    let intent = svc.intent(&who, path);
    unit_of_work::read(conn, &intent, Access::Read, |conn, touched| {
        let cases = cases_of(conn, &meeting.id)?;
        touched.cases(cases.iter().map(|c| c.id.as_str()));
        let mut values = page_values(svc, &invitee, &meeting, &joined_references(&cases), action);
        let first = first
            .or_else(|| Language::parse(&invitee.language))
            .unwrap_or(Language::English);
        if let (Value::Object(v), Value::Object(o)) = (&mut values, crate::i18n::order(first)) {
            v.extend(o);
        }
        Ok(values)
    })
}

fn page_values(
    svc: &Services,
    invitee: &InviteeRow,
    meeting: &MeetingRow,
    references: &str,
    action: &str,
) -> Value {
    let starts = meeting.starts_at.and_utc();
    let engine = &svc.engine;
    json!({
        "invitee_name": invitee.name, "kind_en": kind_name(engine, &meeting.kind, Language::English),
        "kind_cy": kind_name(engine, &meeting.kind, Language::Welsh), "references": references,
        "starts_en": wales::date_time(starts, Language::English), "starts_cy": wales::date_time(starts, Language::Welsh),
        "ends_time": wales::time(meeting.ends_at.and_utc()), "location": meeting.location,
        "cancelled": meeting.status == "cancelled",
        "response": if invitee.response == "pending" { Value::Null } else { Value::String(invitee.response.clone()) },
        "response_en": svc.words.get(Language::English, &format!("status_{}", invitee.response)),
        "response_cy": svc.words.get(Language::Welsh, &format!("status_{}", invitee.response)),
        "action": action,
    })
}

/// Records an invitee's answer given through their signed link, as one unit of work. Returns
/// the invitee as answered and the references of the meeting's children.
pub fn record_answer(
    svc: &Services,
    conn: &mut DbConn,
    path: &str,
    invitee_id: &str,
    answer: &Answer,
) -> Result<(InviteeRow, String), AppError> {
    if !matches!(answer.answer.as_str(), "accepted" | "declined") {
        return Err(AppError::bad_request(
            "invalid_choice",
            "answer",
            "answer must be accepted or declined",
        ));
    }
    let reason = answer
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(2000).collect::<String>());
    let (invitee, _) = invitee_and_meeting(conn, invitee_id)?;
    let who = link_holder(&invitee.email);
    let intent = svc.intent(&who, path);
    let now = intent.now.naive_utc();
    unit_of_work::write(conn, &intent, |conn, touched| {
        let (invitee, meeting) = invitee_and_meeting(conn, invitee_id)?;
        let cases = cases_of(conn, &meeting.id)?;
        touched.cases(cases.iter().map(|c| c.id.as_str()));
        if meeting.status != "scheduled" {
            return Err(AppError::Conflict {
                code: "meeting_cancelled",
                message: "the meeting has been cancelled".into(),
            });
        }
        diesel::update(meeting_invitees::table.find(invitee_id))
            .set((
                meeting_invitees::response.eq(&answer.answer),
                meeting_invitees::response_reason.eq(&reason),
                meeting_invitees::responded_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok((
            InviteeRow {
                response: answer.answer.clone(),
                response_reason: reason.clone(),
                responded_at: Some(now),
                ..invitee
            },
            joined_references(&cases),
        ))
    })
}
