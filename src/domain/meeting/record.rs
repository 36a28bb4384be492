//! Recording that a meeting was held: attendance, the summary of decisions and the next date,
//! into each child's case, and the record to everyone invited, as one unit of work.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::access::{changeable, invitee_shown_with, invitees_of};
use super::checks::{parse_time, refuse_child_names};
use super::invitations::{chair, joined_references, queue_email, MeetingContext};
use super::RecordRequest;
use crate::domain::audit;
use crate::domain::transition::MIN_RATIONALE;
use crate::domain::unit_of_work::{self, Intent};
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::mail::outbox;
use crate::storage::models::{CaseRow, MeetingRow};
use crate::storage::schema::{meeting_invitees, meeting_record_sections, meetings};
use crate::storage::DbConn;
use crate::time::wales;

/// Records that the meeting was held: who attended, the part of the record for the whole meeting,
/// a section for each child (for a meeting about several), and the next date. Each child's case
/// receives the common part and its own section only; each invitee's email carries the common
/// part and the sections of the children they may know of (WSP: within 5 working days; it is
/// sent as soon as the chair records it).
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
    req: &RecordRequest,
) -> Result<(), AppError> {
    unit_of_work::write(conn, intent, |conn, touched| {
        let held = record_in(svc, conn, touched, actor, id, req, intent.now)?;
        queue_record_emails(svc, conn, &held, intent.now)
    })
}

/// What a recorded meeting leaves for its emails, which go once everything else is written
/// (so that each recipient's own actions are in theirs).
struct Held {
    meeting: MeetingRow,
    case_rows: Vec<CaseRow>,
    invitees: Vec<crate::storage::models::InviteeRow>,
    sections: Vec<(String, String)>,
    summary: String,
    next: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the meeting decided for one child: the workflow event it applies to their case, with
/// the facts and agreed actions recorded for them. Who attended is the meeting's, not typed again.
#[derive(Debug, Clone)]
pub struct ChildOutcome {
    /// Where the child stands among the meeting's children as the page showed them: a refusal
    /// about this child is numbered so.
    pub page_index: usize,
    pub case_id: String,
    pub workflow: String,
    pub event: String,
    pub facts: serde_json::Map<String, Value>,
    pub agreed_actions: Vec<crate::domain::transition::AgreedActionInput>,
    pub rationale: Option<String>,
}

/// Someone who attended without an invitation, recorded with the meeting.
#[derive(Debug, Clone)]
pub struct OtherAttendee {
    pub name: String,
    pub agency: String,
    pub direct_knowledge: bool,
}

/// A refusal about one child of the meeting: its field (or, where it names none, the whole
/// child) is prefixed `children[i]`, so that the page shows it in that child's part.
fn about_child(e: AppError, i: usize) -> AppError {
    e.within(&format!("children[{i}]"))
}

/// Records the meeting and, in the same unit of work, what it decided for each child: the
/// event applied to each case (with the meeting's attendance as that case's attendance fact),
/// its agreed actions emailed to their owners. All of it is written, or none of it.
#[allow(clippy::too_many_arguments)]
pub fn record_with_outcomes(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
    req: &RecordRequest,
    others: &[OtherAttendee],
    outcomes: &[ChildOutcome],
    form_token: Option<&str>,
) -> Result<(), AppError> {
    let now = intent.now;
    unit_of_work::write(conn, intent, |conn, touched| {
        if let Some(token) = form_token {
            crate::domain::form_token::claim(conn, token, &actor.id, now.naive_utc())?;
        }
        let held = record_in(svc, conn, touched, actor, id, req, now)?;
        let (case_rows, invitees) = (held.case_rows.clone(), held.invitees.clone());
        // Each child's outcome is checked, and every refusal kept, so that the page can show
        // them all at once; nothing is written unless all of them go through.
        let mut refusals = Vec::new();
        for o in outcomes {
            let i = o.page_index;
            let outcome = (|| -> Result<(), AppError> {
                let case = case_rows
                    .iter()
                    .find(|c| c.id == o.case_id && touched.has(&c.id))
                    .ok_or_else(|| {
                        AppError::unprocessable(
                            "unknown_case",
                            format!("children[{i}]"),
                            "not a child of this meeting that you can see",
                        )
                    })?;
                // The actions go into the record email of a meeting about every child in it: no
                // child of the meeting may be named in them, not only this one.
                for (n, a) in o.agreed_actions.iter().enumerate() {
                    refuse_child_names(&a.title, &format!("agreed_actions[{n}].title"), &case_rows)
                        .map_err(|e| about_child(e, i))?;
                    for c in &case_rows {
                        crate::domain::child::refuse_named(
                            &a.owner_name,
                            &c.child_name,
                            &format!("agreed_actions[{n}].owner_name"),
                            crate::domain::child::Emailed::PersonName,
                        )
                        .map_err(|e| about_child(e, i))?;
                    }
                }
                let mut facts = o.facts.clone();
                let wf = svc.engine.registry.latest(&o.workflow);
                if let Some(name) = wf.and_then(|w| {
                    w.def
                        .fact_tagged(crate::engine::contract::FactTag::MeetingAttendance)
                        .map(str::to_string)
                }) {
                    // Named beside this child only where they may be (as in the record itself).
                    let mut rows: Vec<Value> = invitees
                        .iter()
                        .filter(|inv| invitee_shown_with(&svc.engine.agencies.current(), inv, &[case]))
                        .filter_map(|inv| {
                            let a = req.attendees.iter().find(|a| a.invitee_id == inv.id)?;
                            a.attended.then(|| json!({"name": inv.name, "agency": inv.agency_code.clone().unwrap_or_default(),
                                "direct_knowledge": a.direct_knowledge.unwrap_or(inv.direct_knowledge)}))
                        })
                        .collect();
                    rows.extend(
                        others
                            .iter()
                            // Named beside this child only where their service may be, as invitees.
                            .filter(|o| match svc.engine.agencies.current().area_of(&o.agency) {
                                None => true,
                                Some(area) => {
                                    case.located_authority == area || case.residence_authority == area
                                }
                            })
                            .map(|o| {
                                json!({"name": o.name, "agency": o.agency, "direct_knowledge": o.direct_knowledge})
                            }),
                    );
                    if !rows.is_empty() {
                        facts.insert(name, Value::Array(rows));
                    }
                }
                let version: i64 = crate::storage::schema::cases::table
                    .find(&case.id)
                    .select(crate::storage::schema::cases::version)
                    .get_result(conn)?;
                crate::domain::transition::apply_within(
                    svc,
                    conn,
                    actor,
                    &case.id,
                    &crate::domain::transition::EventRequest {
                        event: o.event.clone(),
                        workflow: Some(o.workflow.clone()),
                        expected_version: version,
                        rationale: o.rationale.clone(),
                        facts,
                        agreed_actions: o.agreed_actions.clone(),
                        meeting_id: Some(id.to_string()),
                        confirm_addresses_rationale: None,
                    },
                    now,
                )
                .map_err(|e| about_child(e, i))?;
                Ok(())
            })();
            match outcome {
                Err(e) if e.is_refusal() => refusals.push(e),
                other => other?,
            }
        }
        if let Some(refused) = AppError::all_of(refusals) {
            return Err(refused);
        }
        queue_record_emails(svc, conn, &held, now)?;
        if let Some(token) = form_token {
            crate::domain::form_token::finish(conn, token, id)?;
        }
        Ok(())
    })
}

/// The record itself, inside a unit of work: the meeting's cases and invitees, for what follows.
fn record_in(
    svc: &Services,
    conn: &mut DbConn,
    touched: &mut unit_of_work::Touched,
    actor: &Actor,
    id: &str,
    req: &RecordRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Held, AppError> {
    let naive_now = now.naive_utc();
    let engine = &svc.engine;
    {
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
        let contexts = crate::domain::exploitation_meeting::contexts_of(conn, id)?;
        crate::domain::context_action::refuse_context_names(&summary, "summary", &contexts)?;
        // The sections: one per child at most, for a child of this meeting the recorder may see
        // (anything else is refused alike, so a refusal tells of no child).
        let mut sections: Vec<(&CaseRow, String)> = Vec::new();
        for (i, s) in req.sections.iter().enumerate() {
            let field = format!("sections[{i}].text");
            let case = case_rows
                .iter()
                .find(|c| c.id == s.case || c.reference == s.case)
                .filter(|c| touched.has(&c.id))
                .ok_or_else(|| {
                    AppError::unprocessable(
                        "unknown_case",
                        format!("sections[{i}].case"),
                        "not a child of this meeting that you can see",
                    )
                })?;
            if sections.iter().any(|(c, _)| c.id == case.id) {
                return Err(AppError::bad_request(
                    "duplicate_section",
                    format!("sections[{i}].case"),
                    "one section for each child",
                ));
            }
            let text = s.text.trim().to_string();
            if text.is_empty() || text.chars().count() > 5000 {
                return Err(AppError::bad_request(
                    "invalid_section",
                    field,
                    "a section must be 1 to 5000 characters",
                ));
            }
            refuse_child_names(&text, &field, &case_rows)?;
            crate::domain::context_action::refuse_context_names(&text, &field, &contexts)?;
            sections.push((case, text));
        }
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
        for (case, text) in &sections {
            diesel::insert_into(meeting_record_sections::table)
                .values((
                    meeting_record_sections::meeting_id.eq(id),
                    meeting_record_sections::case_id.eq(&case.id),
                    meeting_record_sections::text.eq(text),
                ))
                .execute(conn)?;
        }
        for a in &req.attendees {
            diesel::update(meeting_invitees::table.find(&a.invitee_id))
                .set(meeting_invitees::attended.eq(Some(a.attended)))
                .execute(conn)?;
            if let Some(direct) = a.direct_knowledge {
                diesel::update(meeting_invitees::table.find(&a.invitee_id))
                    .set(meeting_invitees::direct_knowledge.eq(direct))
                    .execute(conn)?;
            }
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        for c in &case_rows {
            let attendees: Vec<Value> = invitees
                .iter()
                .filter(|inv| invitee_shown_with(&engine.agencies.current(), inv, &[c]))
                .map(|inv| {
                    let attended = req.attendees.iter().find(|a| a.invitee_id == inv.id).map(|a| a.attended);
                    json!({"name": inv.name, "agency": inv.agency_code, "role": inv.role, "direct_knowledge": inv.direct_knowledge, "attended": attended})
                })
                .collect();
            let section = sections.iter().find(|(s, _)| s.id == c.id).map(|(_, t)| t);
            let payload = json!({"meeting_id": id, "kind": meeting.kind, "summary": summary,
                "section": section, "attendees": attendees, "next_meeting_at": next});
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &c.id,
                &actor.id,
                "meeting_recorded",
                payload,
                naive_now,
            )?;
        }
        // A meeting about contexts agrees their actions with its record.
        crate::domain::exploitation_meeting::agree_actions(
            svc,
            conn,
            touched,
            actor,
            (&held, &contexts, &case_rows),
            &req.context_actions,
            now,
        )?;
        Ok(Held {
            meeting: held,
            sections: sections
                .iter()
                .map(|(c, t)| (c.id.clone(), t.clone()))
                .collect(),
            case_rows: case_rows.clone(),
            // As now recorded: who attended, and their direct knowledge.
            invitees: invitees_of(conn, id)?,
            summary,
            next,
        })
    }
}

/// The cases of the meeting whose child the person at `email` may know of: they are a user of
/// the service who may see the case, or are recorded as involved in it.
fn known_to(conn: &mut DbConn, email: &str, cases: &[CaseRow]) -> Result<Vec<String>, AppError> {
    use crate::storage::models::UserRow;
    use crate::storage::schema::{case_involvements, users};
    let user: Option<UserRow> = users::table
        .filter(users::email.eq(email))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?;
    let actor = user.as_ref().map(|u| u.actor()).transpose()?;
    let mut known = Vec::new();
    for c in cases {
        let involved: i64 = case_involvements::table
            .filter(case_involvements::case_id.eq(&c.id))
            .filter(case_involvements::person_email.eq(email))
            .count()
            .get_result(conn)?;
        let sees = match &actor {
            Some(a) => crate::domain::case::may_see(conn, a, c)?,
            None => false,
        };
        if involved > 0 || sees {
            known.push(c.id.clone());
        }
    }
    Ok(known)
}

/// The record to everyone invited, composed for each: who attended (those who may be named
/// beside the children they may know of), their own agreed actions from this meeting, and the
/// sections of the children they may know of.
fn queue_record_emails(
    svc: &Services,
    conn: &mut DbConn,
    held: &Held,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use crate::storage::models::AgreedActionRow;
    use crate::storage::schema::agreed_actions;
    let naive_now = now.naive_utc();
    let engine = &svc.engine;
    let (chair_name, chair_email) = chair(conn, &held.meeting.chair_user_id)?;
    let ctx = MeetingContext {
        meeting: &held.meeting,
        references: joined_references(&held.case_rows),
        chair_name,
        chair_email,
        moved: None,
    };
    let actions: Vec<AgreedActionRow> = agreed_actions::table
        .filter(agreed_actions::meeting_id.eq(&held.meeting.id))
        .order(agreed_actions::due_date)
        .select(AgreedActionRow::as_select())
        .load(conn)?;
    for inv in &held.invitees {
        let known = known_to(conn, &inv.email, &held.case_rows)?;
        let known_rows: Vec<&CaseRow> = held
            .case_rows
            .iter()
            .filter(|c| known.contains(&c.id))
            .collect();
        let theirs: Vec<Value> = held
            .sections
            .iter()
            .filter(|(c, _)| known.contains(c))
            .filter_map(|(c, text)| {
                let case = held.case_rows.iter().find(|r| &r.id == c)?;
                Some(json!({"reference": case.reference, "text": text}))
            })
            .collect();
        let came: Vec<String> = held
            .invitees
            .iter()
            .filter(|other| other.attended == Some(true))
            .filter(|other| invitee_shown_with(&engine.agencies.current(), other, &known_rows))
            .map(|other| other.name.clone())
            .collect();
        let mine: Vec<&AgreedActionRow> = actions
            .iter()
            .filter(|a| a.owner_email.as_deref() == Some(inv.email.as_str()))
            .collect();
        let extra = |lang: Language| {
            json!({"summary": held.summary, "sections": theirs, "attendees": came,
                "actions": mine.iter().map(|a| json!({
                    "title": engine.action_title(a.kind.as_deref(), &a.title, lang),
                    "due_by": wales::date_in_sentence(a.due_date, wales::Before::By, lang),
                })).collect::<Vec<_>>(),
                "next_meeting": held.next.map(|t| wales::date_time(t, lang))})
        };
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
