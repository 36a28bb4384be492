//! Recording that a meeting was held: attendance, the summary of decisions and the next date,
//! into each child's case, and the record to everyone invited, as one unit of work.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::access::{changeable, invitees_of};
use super::checks::{parse_time, refuse_child_names};
use super::invitations::{chair_name, joined_references, queue_email, MeetingContext};
use super::RecordRequest;
use crate::domain::audit;
use crate::domain::transition::MIN_RATIONALE;
use crate::domain::unit_of_work::{self, Intent};
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::mail::outbox;
use crate::storage::models::MeetingRow;
use crate::storage::schema::{meeting_invitees, meetings};
use crate::storage::DbConn;
use crate::time::wales;

/// Records that the meeting was held: who attended, the summary of decisions and the next
/// date. The record goes into each child's case, and the summary to everyone invited (WSP:
/// within 5 working days; it is sent as soon as the chair records it).
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
    req: &RecordRequest,
) -> Result<(), AppError> {
    let now = intent.now;
    let naive_now = now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        let (meeting, case_rows) = changeable(conn, actor, id, touched)?;
        if meeting.starts_at.and_utc() > now {
            return Err(AppError::unprocessable(
                "not_held_yet",
                "summary",
                "the meeting has not started yet",
            ));
        }
        let summary = req.summary.trim().to_string();
        if summary.chars().count() < MIN_RATIONALE || summary.chars().count() > 5000 {
            return Err(AppError::bad_request(
                "invalid_summary",
                "summary",
                format!("summary must be {MIN_RATIONALE} to 5000 characters"),
            ));
        }
        refuse_child_names(&summary, "summary", &case_rows)?;
        let next = match &req.next_meeting_at {
            Some(raw) => {
                let t = parse_time(raw, "next_meeting_at")?;
                if t <= now {
                    return Err(AppError::unprocessable(
                        "in_the_past",
                        "next_meeting_at",
                        "next_meeting_at is in the past",
                    ));
                }
                Some(t)
            }
            None => None,
        };
        let invitees = invitees_of(conn, id)?;
        for (i, a) in req.attendees.iter().enumerate() {
            if !invitees.iter().any(|inv| inv.id == a.invitee_id) {
                return Err(AppError::unprocessable(
                    "unknown_invitee",
                    format!("attendees[{i}].invitee_id"),
                    "not an invitee of this meeting",
                ));
            }
        }
        {
            let held = MeetingRow {
                status: "held".into(),
                record_summary: Some(summary.clone()),
                next_meeting_at: next.map(|t| t.naive_utc()),
                updated_at: naive_now,
                ..meeting.clone()
            };
            let changed = diesel::update(
                meetings::table
                    .filter(meetings::id.eq(id))
                    .filter(meetings::status.eq("scheduled")),
            )
            .set((
                meetings::status.eq("held"),
                meetings::record_summary.eq(&held.record_summary),
                meetings::next_meeting_at.eq(held.next_meeting_at),
                meetings::updated_at.eq(naive_now),
            ))
            .execute(conn)?;
            if changed != 1 {
                return Err(AppError::Conflict {
                    code: "meeting_cancelled",
                    message: "the meeting was changed meanwhile; reload it".into(),
                });
            }
            for a in &req.attendees {
                diesel::update(meeting_invitees::table.find(&a.invitee_id))
                    .set(meeting_invitees::attended.eq(Some(a.attended)))
                    .execute(conn)?;
            }
            outbox::cancel_pending(conn, id, "reminder")?;
            let attendees: Vec<Value> = invitees
            .iter()
            .map(|inv| {
                let attended = req.attendees.iter().find(|a| a.invitee_id == inv.id).map(|a| a.attended);
                json!({"name": inv.name, "agency": inv.agency_code, "role": inv.role, "direct_knowledge": inv.direct_knowledge, "attended": attended})
            })
            .collect();
            let payload = json!({"meeting_id": id, "kind": meeting.kind, "summary": summary, "attendees": attendees,
            "next_meeting_at": next, "children_in_meeting": case_rows.len()});
            for c in &case_rows {
                audit::record_on_case(
                    conn,
                    &c.id,
                    &actor.id,
                    "meeting_recorded",
                    payload.clone(),
                    naive_now,
                )?;
            }
            let ctx = MeetingContext {
                meeting: &held,
                references: joined_references(&case_rows),
                chair_name: chair_name(conn, &meeting.chair_user_id)?,
            };
            for inv in &invitees {
                let extra = |lang: Language| json!({"summary": summary, "next_meeting": next.map(|t| wales::date_time(t, lang))});
                queue_email(
                    conn,
                    svc,
                    &ctx,
                    inv,
                    "meeting_record",
                    None,
                    json!({"en": extra(Language::English), "cy": extra(Language::Welsh)}),
                    naive_now,
                    now,
                )?;
            }
            Ok(())
        }
    })
}
