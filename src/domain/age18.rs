//! The age-18 rules (R16-R19) as units of work the service does itself: starting the transition
//! track at the configured age, and, on the 18th birthday, closing the plan, handing the track
//! over when its referrals are made, and recording the handover. Each is one transaction with
//! its audit entries, emails and access-log line (as the `system` actor).
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{json, Map, Value};

use super::audit;
use super::transition::{self, EventRequest};
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::engine::contract::{EventTag, FactTag, StateTag, WorkflowRole, PLAN_ENDS_AT_18};
use crate::engine::Owner;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::{Actor, RoleName};
use crate::mail::Mailer;
use crate::storage::models::{AgreedActionRow, CaseRow, CaseWorkflowRow, MeetingRow, UserRow};
use crate::storage::schema::{
    agreed_actions, case_workflows, cases, meeting_cases, meetings, users,
};
use crate::storage::{lock_cases, DbConn};
use crate::time::age::{date_at_age_months, eighteenth_birthday};
use crate::time::wales::{self, long_date, month_year};

/// The service, when it applies what the calendar decides.
pub fn system_actor() -> Actor {
    Actor {
        id: "system".into(),
        name: "Safeguarding service".into(),
        role: RoleName::System,
        team: String::new(),
        authority: String::new(),
        broken_glass: Vec::new(),
        language: crate::i18n::Language::English,
    }
}

/// The lead of the case and the team leads of the lead's team: who hears about the age-18 track.
fn people_to_tell(conn: &mut DbConn, case: &CaseRow) -> Result<Vec<UserRow>, AppError> {
    let lead_id = super::case::lead_user(conn, case)?;
    let lead: Option<UserRow> = users::table
        .find(&lead_id)
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?;
    let mut people = Vec::new();
    if let Some(lead) = lead {
        let leads: Vec<UserRow> = users::table
            .filter(users::role.eq("team_lead"))
            .filter(users::active.eq(true))
            .filter(users::team.eq(&lead.team))
            .filter(users::authority_code.eq(&lead.authority_code))
            .filter(users::id.ne(&lead.id))
            .select(UserRow::as_select())
            .load(conn)?;
        people.push(lead);
        people.extend(leads);
    }
    if people.is_empty() {
        // Nobody leads the case any more: the authority's team leads hear instead.
        people = users::table
            .filter(users::role.eq("team_lead"))
            .filter(users::active.eq(true))
            .filter(users::authority_code.eq(&case.located_authority))
            .select(UserRow::as_select())
            .load(conn)?;
    }
    if case.restricted {
        return super::case_access::only_named(conn, &case.id, people);
    }
    Ok(people)
}

fn case_url(mailer: &Mailer, case: &CaseRow) -> String {
    format!("{}/cases/{}", mailer.public_url, case.reference)
}

/// Tells the lead of the case and their team leads that the age-18 track has started, with the
/// actions it created. Queued in the transaction that started it, whether the calendar started
/// it or the report of a child already past the age.
pub fn announce_started(
    svc: &super::Services,
    conn: &mut DbConn,
    case: &CaseRow,
    actions: &[AgreedActionRow],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mailer = &svc.mailer;
    let mut actions: Vec<&AgreedActionRow> = actions.iter().collect();
    actions.sort_by_key(|a| a.due_date);
    let birthday = eighteenth_birthday(case.child_date_of_birth);
    for person in people_to_tell(conn, case)? {
        mailer.queue(
            conn,
            "age18_started",
            Some(&case.id),
            &person.email,
            Language::parse(&person.language).unwrap_or(Language::English),
            |lang| {
                json!({
                    "recipient_name": person.name, "reference": case.reference,
                    "birthday_month": month_year(birthday, lang),
                    "actions": actions.iter().map(|a| json!({"title": svc.engine.action_title(a.kind.as_deref(), &a.title, lang),     "due": long_date(a.due_date, lang), "due_by": crate::time::wales::date_in_sentence(a.due_date, crate::time::wales::Before::By, lang)})).collect::<Vec<_>>(),
                    "case_url": case_url(mailer, case),
                })
            },
            now,
        )?;
    }
    Ok(())
}

/// Whether the child on `dob` is due the age-18 track today: past the transition age, not yet 18.
pub fn track_due(svc: &Services, dob: NaiveDate, today: NaiveDate) -> bool {
    date_at_age_months(dob, svc.engine.settings.transition_age_months) <= today
        && eighteenth_birthday(dob) > today
}

/// Starts the age-18 track on an open case whose child has reached the transition age. False
/// when there was nothing to do (already started, or no track is loaded).
pub fn start_track(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    case_id: &str,
) -> Result<bool, AppError> {
    let Some(track) = svc.engine.registry.with_role(WorkflowRole::Age18Track) else {
        return Ok(false);
    };
    let actor = system_actor();
    let now = intent.now;
    unit_of_work::write(conn, intent, |conn, touched| {
        lock_cases(conn, &[case_id])?;
        let case: CaseRow = cases::table
            .find(case_id)
            .select(CaseRow::as_select())
            .get_result(conn)?;
        let already: i64 = case_workflows::table
            .filter(case_workflows::case_id.eq(&case.id))
            .filter(case_workflows::workflow.eq(track.name()))
            .count()
            .get_result(conn)?;
        if already > 0 || !track_due(svc, case.child_date_of_birth, svc.today()) {
            return Ok(false);
        }
        touched.case(&case.id);
        let snapshot = transition::case_snapshot(conn, &case)?;
        let lead = lead_owner(conn, &case)?;
        let start = svc.engine.start(
            track.name(),
            &snapshot,
            &snapshot.action_kinds,
            lead.as_ref(),
            now,
        )?;
        let (seq, head) = transition::write_start(
            svc,
            conn,
            &actor,
            &case,
            &start,
            (case.audit_seq, &case.audit_head, case.version + 1),
            now,
        )?;
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::audit_seq.eq(seq),
                cases::audit_head.eq(&head),
                cases::version.eq(case.version + 1),
                cases::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// The person who leads the case, as the owner of the actions the service creates for it.
fn lead_owner(conn: &mut DbConn, case: &CaseRow) -> Result<Option<Owner>, AppError> {
    let id = super::case::lead_user(conn, case)?;
    let found: Option<(String, String)> = users::table
        .find(&id)
        .select((users::name, users::email))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(name, email)| Owner {
        name,
        email: Some(email),
        user_id: Some(id),
    }))
}

/// On or after the 18th birthday: closes the child protection pathway, hands the adult track
/// over if its referrals are made, records the handover and tells the lead and team leads. One
/// transaction. False when there was nothing to do.
pub fn hand_over(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    case_id: &str,
) -> Result<bool, AppError> {
    let engine = &svc.engine;
    let actor = system_actor();
    let now = intent.now;
    let today = svc.today();
    let primary = engine.registry.primary();
    let track = engine.registry.with_role(WorkflowRole::Age18Track);
    unit_of_work::write(conn, intent, |conn, touched| {
        lock_cases(conn, &[case_id])?;
        let case: CaseRow = cases::table
            .find(case_id)
            .select(CaseRow::as_select())
            .get_result(conn)?;
        let birthday = eighteenth_birthday(case.child_date_of_birth);
        if birthday > today {
            return Ok(false);
        }
        let mut applied = Vec::new();
        let mut version = case.version;
        let workflows: Vec<CaseWorkflowRow> = case_workflows::table
            .filter(case_workflows::case_id.eq(case_id))
            .select(CaseWorkflowRow::as_select())
            .load(conn)?;
        let plan = workflows
            .iter()
            .find(|w| w.workflow == primary.name() && w.finished_at.is_none());
        if let Some(plan) = plan {
            // The event and fact are the running version's own, found by their contract tags.
            let wf = engine
                .registry
                .get(&plan.workflow, plan.workflow_version as u32);
            let close = wf.as_ref().and_then(|wf| {
                let event = wf.def.event_tagged(EventTag::CloseAt18)?;
                wf.transition(&plan.state, event)?;
                Some((
                    event.to_string(),
                    wf.def
                        .fact_tagged(FactTag::PlanEndReason)
                        .map(str::to_string),
                ))
            });
            match close {
                Some((event, reason)) => {
                    let mut facts = Map::new();
                    if let Some(reason) = reason {
                        facts.insert(reason, json!(PLAN_ENDS_AT_18));
                    }
                    let outcome = transition::apply_within(
                        svc,
                        conn,
                        &actor,
                        case_id,
                        &EventRequest {
                            event,
                            workflow: Some(plan.workflow.clone()),
                            expected_version: version,
                            rationale: Some(
                                "Child protection duties end on the 18th birthday (R16); closed by the service on the day."
                                    .into(),
                            ),
                            facts,
                            agreed_actions: Vec::new(),
                            meeting_id: None,
                            confirm_addresses_rationale: None,
                        },
                        now,
                    )?;
                    version = outcome.version;
                    applied.push(
                        json!({"workflow": plan.workflow, "from": plan.state, "to": outcome.to_state}),
                    );
                }
                None => {
                    tracing::warn!(case = %case.reference, version = plan.workflow_version, "this workflow version cannot close at 18; close it by hand");
                }
            }
        }
        let track_row = track
            .as_ref()
            .and_then(|t| workflows.iter().find(|w| w.workflow == t.name()));
        let mut adult_state = track_row.map(|w| w.state.clone());
        let mut handed_over = track_row.is_some_and(|w| w.finished_at.is_some());
        if let Some(row) = track_row.filter(|w| w.finished_at.is_none()) {
            let wf = engine
                .registry
                .get(&row.workflow, row.workflow_version as u32);
            let hand = wf.as_ref().and_then(|wf| {
                let ready = wf.def.state_tagged(StateTag::HandoverReady)?;
                let event = wf.def.event_tagged(EventTag::HandOver)?;
                (row.state == ready && wf.transition(ready, event).is_some())
                    .then(|| event.to_string())
            });
            if let Some(event) = hand {
                let outcome = transition::apply_within(
                    svc,
                    conn,
                    &actor,
                    case_id,
                    &EventRequest {
                        event,
                        workflow: Some(row.workflow.clone()),
                        expected_version: version,
                        rationale: None,
                        facts: Map::new(),
                        agreed_actions: Vec::new(),
                        meeting_id: None,
                        confirm_addresses_rationale: None,
                    },
                    now,
                )?;
                applied.push(
                    json!({"workflow": row.workflow, "from": row.state, "to": outcome.to_state}),
                );
                handed_over = true;
                adult_state = Some(outcome.to_state);
            }
        }
        if applied.is_empty() {
            return Ok(false);
        }
        touched.case(case_id);
        let status = if handed_over {
            "handed_over"
        } else if adult_state.is_some() {
            // Only the adult track remains open.
            "open"
        } else {
            "closed"
        };
        diesel::update(cases::table.find(case_id))
            .set(cases::status.eq(status))
            .execute(conn)?;
        let open_actions: Vec<AgreedActionRow> = agreed_actions::table
            .filter(agreed_actions::case_id.eq(case_id))
            .filter(agreed_actions::status.eq("open"))
            .order(agreed_actions::due_date)
            .select(AgreedActionRow::as_select())
            .load(conn)?;
        let start_of_birthday = wales::end_of_london_day(birthday - chrono::Duration::days(1));
        let meetings_after: Vec<MeetingRow> = meetings::table
            .inner_join(meeting_cases::table)
            .filter(meeting_cases::case_id.eq(case_id))
            .filter(meetings::status.eq("scheduled"))
            .filter(meetings::starts_at.gt(start_of_birthday.naive_utc()))
            .order(meetings::starts_at)
            .select(MeetingRow::as_select())
            .load(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            case_id,
            &actor.id,
            "handover",
            json!({
                "birthday": birthday.to_string(), "case_status": status, "transitions": applied,
                "adult_track_state": adult_state,
                "open_actions": open_actions.iter().map(|a| json!({"id": a.id, "title": a.title, "owner_name": a.owner_name, "due_date": a.due_date.to_string()})).collect::<Vec<_>>(),
                "meetings_after_birthday": meetings_after.iter().map(|m| json!({"id": m.id, "kind": m.kind, "starts_at": m.starts_at.and_utc().to_rfc3339()})).collect::<Vec<_>>(),
            }),
            now.naive_utc(),
        )?;
        for person in people_to_tell(conn, &case)? {
            svc.mailer.queue(
                conn,
                "age18_handover",
                Some(case_id),
                &person.email,
                Language::parse(&person.language).unwrap_or(Language::English),
                |lang| {
                    json!({
                        "recipient_name": person.name, "reference": case.reference,
                        "birthday_month": month_year(birthday, lang), "handed_over": handed_over,
                        "open_actions": open_actions.len(),
                        "meetings_after": meetings_after.iter().map(|m| json!({
                            "kind": super::meeting::kind_name(engine, &m.kind, lang),
                            "starts": wales::date_time(m.starts_at.and_utc(), lang),
                        })).collect::<Vec<Value>>(),
                        "case_url": case_url(&svc.mailer, &case),
                    })
                },
                now,
            )?;
        }
        Ok(true)
    })
}
