//! Moving or cancelling a meeting, with a reason, as one unit of work.
use diesel::prelude::*;
use serde_json::json;

use super::access::{changeable, invitees_of, meeting_moved_on};
use super::checks::{
    check_place, check_reason, check_times, confirm, refuse_child_names, scheduling_warnings,
    warnings_for,
};
use super::invitations::{
    chair, joined_references, queue_email, queue_invitations, MeetingContext,
};
use super::{CancelRequest, RescheduleRequest};
use crate::domain::audit;
use crate::domain::unit_of_work::{self, Intent};
use crate::domain::Services;
use crate::error::AppError;
use crate::identity::Actor;
use crate::mail::ics::Method;
use crate::mail::outbox;
use crate::storage::models::MeetingRow;
use crate::storage::schema::meetings;
use crate::storage::DbConn;

/// Moves a meeting, with a reason: each invitee gets the updated invitation (SEQUENCE raised)
/// and reminders are queued again for the new time.
pub fn reschedule(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
    req: &RescheduleRequest,
    form_token: Option<&str>,
) -> Result<(), AppError> {
    let engine = &svc.engine;
    let now = intent.now;
    let naive_now = now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        // A page's form sent twice moves or cancels the meeting once: the second send finds
        // its token claimed before it finds the meeting already changed.
        if let Some(token) = form_token {
            crate::domain::form_token::claim(conn, token, &actor.id, naive_now)?;
        }
        let (meeting, case_rows) = changeable(conn, actor, id, touched)?;
        let reason = check_reason(&req.reason, "reason")?;
        refuse_child_names(&reason, "reason", &case_rows)?;
        let (starts, ends) = check_times(now, &req.starts_at, &req.ends_at)?;
        let place = check_place(
            &req.location.clone().or(meeting.location.clone()),
            &req.online_link.clone().or(meeting.online_link.clone()),
        )?;
        let warnings = scheduling_warnings(engine, conn, &meeting.kind, starts, ends, &case_rows)?;
        let rationale = confirm(&warnings, &req.confirm_warnings_rationale)?;
        if let Some(r) = &rationale {
            refuse_child_names(r, "confirm_warnings_rationale", &case_rows)?;
        }
        let updated = MeetingRow {
            starts_at: starts.naive_utc(),
            ends_at: ends.naive_utc(),
            location: place.location.clone(),
            online_link: place.online_link.clone(),
            sequence: meeting.sequence + 1,
            warnings: json!(warnings).to_string(),
            warnings_rationale: rationale.clone(),
            updated_at: naive_now,
            ..meeting.clone()
        };
        let changed = diesel::update(
            meetings::table
                .filter(meetings::id.eq(id))
                .filter(meetings::sequence.eq(meeting.sequence)),
        )
        .set((
            meetings::starts_at.eq(updated.starts_at),
            meetings::ends_at.eq(updated.ends_at),
            meetings::location.eq(&updated.location),
            meetings::online_link.eq(&updated.online_link),
            meetings::sequence.eq(updated.sequence),
            meetings::warnings.eq(&updated.warnings),
            meetings::warnings_rationale.eq(&updated.warnings_rationale),
            meetings::updated_at.eq(naive_now),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(meeting_moved_on());
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        for c in &case_rows {
            let payload = json!({"meeting_id": id, "reason": reason, "from": meeting.starts_at.and_utc(), "starts_at": starts, "ends_at": ends,
                "sequence": updated.sequence, "warnings": warnings_for(&warnings, &c.id), "warnings_rationale": rationale});
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &c.id,
                &actor.id,
                "meeting_rescheduled",
                payload,
                naive_now,
            )?;
        }
        let (chair_name, chair_email) = chair(conn, &meeting.chair_user_id)?;
        let ctx = MeetingContext {
            meeting: &updated,
            references: joined_references(&case_rows),
            chair_name,
            chair_email,
            moved: Some((meeting.starts_at.and_utc(), reason.clone())),
        };
        let invitees = invitees_of(conn, id)?;
        queue_invitations(svc, conn, &ctx, &invitees)
    })
}

/// Cancels a meeting, with a reason: each invitee gets the cancellation (iCalendar CANCEL) and
/// the reminders not yet sent are withdrawn.
pub fn cancel(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
    req: &CancelRequest,
    form_token: Option<&str>,
) -> Result<(), AppError> {
    let now = intent.now;
    let naive_now = now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        // A page's form sent twice moves or cancels the meeting once: the second send finds
        // its token claimed before it finds the meeting already changed.
        if let Some(token) = form_token {
            crate::domain::form_token::claim(conn, token, &actor.id, naive_now)?;
        }
        let (meeting, case_rows) = changeable(conn, actor, id, touched)?;
        let reason = check_reason(&req.reason, "reason")?;
        refuse_child_names(&reason, "reason", &case_rows)?;
        let cancelled = MeetingRow {
            status: "cancelled".into(),
            sequence: meeting.sequence + 1,
            cancel_reason: Some(reason.clone()),
            updated_at: naive_now,
            ..meeting.clone()
        };
        let changed = diesel::update(
            meetings::table
                .filter(meetings::id.eq(id))
                .filter(meetings::sequence.eq(meeting.sequence)),
        )
        .set((
            meetings::status.eq("cancelled"),
            meetings::sequence.eq(cancelled.sequence),
            meetings::cancel_reason.eq(Some(&reason)),
            meetings::updated_at.eq(naive_now),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(meeting_moved_on());
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        for c in &case_rows {
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &c.id,
                &actor.id,
                "meeting_cancelled",
                json!({"meeting_id": id, "reason": reason}),
                naive_now,
            )?;
        }
        let (chair_name, chair_email) = chair(conn, &meeting.chair_user_id)?;
        let ctx = MeetingContext {
            meeting: &cancelled,
            references: joined_references(&case_rows),
            chair_name,
            chair_email,
            moved: None,
        };
        for inv in invitees_of(conn, id)? {
            queue_email(
                conn,
                svc,
                &ctx,
                &inv,
                "cancellation",
                Some(Method::Cancel),
                json!({"reason": reason}),
                naive_now,
                now,
            )?;
        }
        Ok(())
    })
}
