//! Convening a meeting: the meeting, its children's cases and invitees, each child's audit
//! entry, and every invitation (with its calendar file) and reminder, in one unit of work.
use diesel::prelude::*;
use serde_json::json;

use super::access::{invitee_shown_with, may_convene};
use super::checks::{
    check_invitees, check_place, check_times, confirm, invitee_problems, refuse_child_names,
    scheduling_warnings, warnings_for,
};
use super::invitations::{joined_references, queue_invitations, MeetingContext};
use super::kinds::{about_contexts, kind_codes};
use super::MeetingRequest;
use crate::domain::audit;
use crate::domain::case::visible_case;
use crate::domain::form_token;
use crate::domain::unit_of_work::{self, Intent};
use crate::domain::Services;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::crash::crash_point;
use crate::storage::models::{CaseRow, InviteeRow, MeetingRow};
use crate::storage::schema::{meeting_cases, meeting_contexts, meeting_invitees, meetings};
use crate::storage::{lock_cases, DbConn};

/// Every problem a meeting request has before it reaches the cases, so that a form can show
/// them all at once: its kind, its times (unless the form could not read them), its place, each
/// invitee and the number of children. `schedule` answers with the first of them.
pub fn problems(
    engine: &crate::engine::Engine,
    now: chrono::DateTime<chrono::Utc>,
    req: &MeetingRequest,
    times_read: bool,
) -> Vec<AppError> {
    let mut found = Vec::new();
    if !kind_codes(engine).contains(&req.kind) {
        found.push(AppError::bad_request(
            "invalid_choice",
            "kind",
            "choose the kind of meeting",
        ));
    }
    if times_read {
        if let Err(e) = check_times(now, &req.starts_at, &req.ends_at) {
            found.push(e);
        }
    }
    if let Err(e) = check_place(&req.location, &req.online_link) {
        found.push(e);
    }
    found.extend(invitee_problems(engine, &req.invitees));
    if let Err(e) = check_subjects(engine, req) {
        found.push(e);
    }
    found
}

/// What the meeting is about: a meeting about contexts names 1 to 10 of them (its children come
/// from them); any other kind names 1 to 30 children's cases and no context.
fn check_subjects(engine: &crate::engine::Engine, req: &MeetingRequest) -> Result<(), AppError> {
    if about_contexts(engine, &req.kind) {
        if req.contexts.is_empty() || req.contexts.len() > 10 {
            return Err(AppError::bad_request(
                "contexts_required",
                "contexts",
                "a meeting about contexts names between 1 and 10 of them",
            ));
        }
    } else if !req.contexts.is_empty() {
        return Err(AppError::bad_request(
            "contexts_not_for_kind",
            "contexts",
            "only a meeting about contexts names contexts",
        ));
    }
    if (req.cases.is_empty() && req.contexts.is_empty()) || req.cases.len() > 30 {
        return Err(AppError::bad_request(
            "cases_required",
            "cases",
            "a meeting concerns between 1 and 30 children's cases",
        ));
    }
    Ok(())
}

/// Convenes a meeting about one or more children's cases, as one unit of work. With a page
/// form's one-time token, a second send of the same form makes no second meeting.
pub fn schedule(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    req: &MeetingRequest,
    form_token: Option<&str>,
) -> Result<String, AppError> {
    let engine = &svc.engine;
    may_convene(actor)?;
    let kinds = kind_codes(engine);
    if !kinds.contains(&req.kind) {
        return Err(AppError::bad_request(
            "invalid_choice",
            "kind",
            format!("kind must be one of {}", kinds.join(", ")),
        ));
    }
    let now = intent.now;
    let (starts, ends) = check_times(now, &req.starts_at, &req.ends_at)?;
    let place = check_place(&req.location, &req.online_link)?;
    check_invitees(engine, &req.invitees)?;
    let outside = crate::domain::addresses::outside(
        &engine.agencies.current(),
        &req.invitees
            .iter()
            .enumerate()
            .map(|(i, inv)| crate::domain::addresses::Addressed {
                field: format!("invitees[{i}].email"),
                agency: inv.agency.as_deref(),
                email: &inv.email,
            })
            .collect::<Vec<_>>(),
    );
    let addresses_rationale =
        crate::domain::addresses::confirm(&outside, &req.confirm_addresses_rationale)?;
    check_subjects(engine, req)?;
    let naive_now = now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        let mut case_rows: Vec<CaseRow> = Vec::new();
        for key in &req.cases {
            let c = visible_case(conn, actor, key)?;
            touched.case(&c.id);
            if !case_rows.iter().any(|r| r.id == c.id) {
                case_rows.push(c);
            }
        }
        // A meeting about contexts: each one the chair may see, and the children linked to it
        // whom the chair may see (the others are not the chair's to bring, nor to know of).
        let mut context_ids: Vec<String> = Vec::new();
        for key in &req.contexts {
            let ctx = crate::domain::context::visible(conn, actor, key.trim())?;
            touched.case(&ctx.id);
            for c in crate::domain::context::visible_children(conn, actor, &ctx.id)? {
                if !case_rows.iter().any(|r| r.id == c.id) {
                    touched.case(&c.id);
                    case_rows.push(c);
                }
            }
            if !context_ids.contains(&ctx.id) {
                context_ids.push(ctx.id);
            }
        }
        if case_rows.is_empty() {
            return Err(AppError::unprocessable(
                "no_children",
                "contexts",
                "no child you may see is linked to these contexts",
            ));
        }
        if case_rows.len() > 30 {
            return Err(AppError::unprocessable(
                "cases_required",
                "contexts",
                "a meeting concerns between 1 and 30 children's cases",
            ));
        }
        let ids: Vec<&str> = case_rows.iter().map(|c| c.id.as_str()).collect();
        lock_cases(conn, &ids)?;
        if let Some(l) = &place.location {
            refuse_child_names(l, "location", &case_rows)?;
        }
        // Each invitee's name opens their invitation ("Dear ..."): checked as a person's name.
        for (i, inv) in req.invitees.iter().enumerate() {
            for c in &case_rows {
                crate::domain::child::refuse_named(
                    &inv.name,
                    &c.child_name,
                    &format!("invitees[{i}].name"),
                    crate::domain::child::Emailed::PersonName,
                )?;
            }
        }
        let warnings = scheduling_warnings(engine, conn, &req.kind, starts, ends, &case_rows)?;
        let rationale = confirm(&warnings, &req.confirm_warnings_rationale)?;
        if let Some(r) = &rationale {
            refuse_child_names(r, "confirm_warnings_rationale", &case_rows)?;
        }
        if let Some(token) = form_token {
            form_token::claim(conn, token, &actor.id, naive_now)?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let meeting = MeetingRow {
            id: id.clone(),
            kind: req.kind.clone(),
            starts_at: starts.naive_utc(),
            ends_at: ends.naive_utc(),
            location: place.location.clone(),
            online_link: place.online_link.clone(),
            chair_user_id: actor.id.clone(),
            status: "scheduled".into(),
            sequence: 0,
            uid: format!("{id}@safeguard"),
            warnings: json!(warnings).to_string(),
            warnings_rationale: rationale.clone(),
            cancel_reason: None,
            record_summary: None,
            next_meeting_at: None,
            created_at: naive_now,
            updated_at: naive_now,
        };
        diesel::insert_into(meetings::table)
            .values(&meeting)
            .execute(conn)?;
        for context_id in &context_ids {
            diesel::insert_into(meeting_contexts::table)
                .values((
                    meeting_contexts::meeting_id.eq(&id),
                    meeting_contexts::context_id.eq(context_id),
                ))
                .execute(conn)?;
        }
        for c in &case_rows {
            diesel::insert_into(meeting_cases::table)
                .values((
                    meeting_cases::meeting_id.eq(&id),
                    meeting_cases::case_id.eq(&c.id),
                ))
                .execute(conn)?;
        }
        let invitees: Vec<InviteeRow> = req
            .invitees
            .iter()
            .map(|i| InviteeRow {
                id: uuid::Uuid::new_v4().to_string(),
                meeting_id: id.clone(),
                name: i.name.trim().to_string(),
                email: i.email.trim().to_lowercase(),
                agency_code: i.agency.clone(),
                role: i.role.trim().to_string(),
                language: i.language.clone(),
                direct_knowledge: i.direct_knowledge,
                response: "pending".into(),
                response_reason: None,
                responded_at: None,
                attended: None,
            })
            .collect();
        for inv in &invitees {
            diesel::insert_into(meeting_invitees::table)
                .values(inv)
                .execute(conn)?;
        }
        // Each child's record tells only of that child: no count of the others, no deadline
        // of theirs, and no invitee whose presence would tell of a child of another area.
        for c in &case_rows {
            let payload = json!({
                "meeting_id": id, "kind": req.kind, "starts_at": starts, "ends_at": ends,
                "location": place.location, "online_link": place.online_link,
                "invitees": invitees.iter()
                    .filter(|i| invitee_shown_with(&engine.agencies.current(), i, &[c]))
                    .map(|i| json!({"name": i.name, "agency": i.agency_code, "role": i.role, "direct_knowledge": i.direct_knowledge}))
                    .collect::<Vec<_>>(),
                "warnings": warnings_for(&warnings, &c.id), "warnings_rationale": rationale,
                "addresses_confirmed": outside.iter()
                    .filter(|o| invitees.iter().any(|i| i.email == o.email && invitee_shown_with(&engine.agencies.current(), i, &[c])))
                    .map(|o| &o.email).collect::<Vec<_>>(),
                "addresses_rationale": addresses_rationale,
            });
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &c.id,
                &actor.id,
                "meeting_scheduled",
                payload,
                naive_now,
            )?;
        }
        let (chair_name, chair_email) = super::invitations::chair(conn, &actor.id)?;
        let ctx = MeetingContext {
            meeting: &meeting,
            references: joined_references(&case_rows),
            chair_name,
            chair_email,
            moved: None,
        };
        queue_invitations(svc, conn, &ctx, &invitees)?;
        crash_point("meeting.after_invitations");
        if let Some(token) = form_token {
            form_token::finish(conn, token, &id)?;
        }
        Ok(id)
    })
}
