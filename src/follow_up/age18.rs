//! The age-18 rules (R16-R19) on the calendar: the transition track starts at the configured
//! age, and on the 18th birthday child protection duties end. The plan is closed by the service
//! with a handover record; the case is handed over, or stays open only for the adult track
//! when its referrals are still outstanding.
use chrono::{DateTime, Months, NaiveDate, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::domain::audit;
use crate::engine::EventRequest;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::mail::Mailer;
use crate::storage::models::{AgreedActionRow, CaseRow, CaseWorkflowRow, MeetingRow, UserRow};
use crate::storage::schema::{
    agreed_actions, case_workflows, cases, meeting_cases, meetings, users,
};
use crate::storage::{write_transaction, DbConn};
use crate::time::age::{date_at_age_months, eighteenth_birthday};
use crate::time::wales;
use crate::time::wales::london_date;
use crate::time::wales::long_date;

/// The service, when it applies what the calendar decides.
pub fn system_actor() -> Actor {
    Actor {
        id: "system".into(),
        name: "Safeguarding service".into(),
        role: RoleName::System,
        team: String::new(),
        authority: String::new(),
    }
}

pub fn run(state: &AppState, conn: &mut DbConn, now: DateTime<Utc>) -> Result<String, AppError> {
    let today = london_date(now);
    let (started, failed_start) = start_tracks(state, conn, now, today)?;
    let (handed, failed_handover) = birthdays(state, conn, now, today)?;
    Ok(format!(
        "{started} age-18 tracks started; {handed} cases reached 18{}",
        super::action_notices::failures(failed_start + failed_handover)
    ))
}

/// The lead of the case and the team leads of the lead's team: who hears about the age-18 track.
fn people_to_tell(conn: &mut DbConn, case: &CaseRow) -> Result<Vec<UserRow>, AppError> {
    let lead_id = crate::domain::case::lead_user(conn, case)?;
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
    Ok(people)
}

fn case_url(mailer: &Mailer, case: &CaseRow) -> String {
    format!("{}/cases/{}", mailer.public_url, case.reference)
}

/// Tells the lead of the case and their team leads that the age-18 track has started, with the
/// actions it created (those written at `now`). Called in the transaction that started it,
/// whether the calendar started it or the report of a child already past the age.
pub fn announce_started(
    mailer: &Mailer,
    conn: &mut DbConn,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let actions: Vec<AgreedActionRow> = agreed_actions::table
        .filter(agreed_actions::case_id.eq(&case.id))
        .filter(agreed_actions::created_at.eq(now.naive_utc()))
        .order(agreed_actions::due_date)
        .select(AgreedActionRow::as_select())
        .load(conn)?;
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
                    "birthday": long_date(birthday, lang),
                    "actions": actions.iter().map(|a| json!({"title": a.title, "due": long_date(a.due_date, lang)})).collect::<Vec<_>>(),
                    "case_url": case_url(mailer, case),
                })
            },
            now,
        )?;
    }
    Ok(())
}

/// Open cases whose child has reached the transition age, is not yet 18, and has no track.
fn start_tracks(
    state: &AppState,
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<(usize, usize), AppError> {
    let engine = &state.engine;
    let track = engine.settings.transition_workflow.clone();
    if engine.registry.latest(&track).is_none() {
        return Ok((0, 0));
    }
    // A day's margin either side of the exact test below, which knows about 29 February.
    let born_by = today
        .checked_sub_months(Months::new(engine.settings.transition_age_months))
        .map(|d| d.succ_opt().unwrap_or(d))
        .unwrap_or(NaiveDate::MIN);
    let candidates: Vec<CaseRow> = cases::table
        .filter(cases::status.eq("open"))
        .filter(cases::child_date_of_birth.le(born_by))
        .filter(not(exists(
            case_workflows::table
                .filter(case_workflows::case_id.eq(cases::id))
                .filter(case_workflows::workflow.eq(&track)),
        )))
        .select(CaseRow::as_select())
        .load(conn)?;
    let actor = system_actor();
    let (mut started, mut failed) = (0, 0);
    for candidate in candidates {
        let dob = candidate.child_date_of_birth;
        if date_at_age_months(dob, engine.settings.transition_age_months) > today
            || eighteenth_birthday(dob) <= today
        {
            continue;
        }
        let done = write_transaction(conn, |conn| -> Result<bool, AppError> {
            let case: CaseRow = cases::table
                .find(&candidate.id)
                .select(CaseRow::as_select())
                .get_result(conn)?;
            let Some((seq, head)) = engine.start_workflow_in(
                conn,
                &case,
                &track,
                &actor,
                now,
                case.audit_seq,
                &case.audit_head,
            )?
            else {
                return Ok(false);
            };
            diesel::update(cases::table.find(&case.id))
                .set((
                    cases::audit_seq.eq(seq),
                    cases::audit_head.eq(&head),
                    cases::version.eq(case.version + 1),
                    cases::updated_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
            announce_started(&state.mailer, conn, &case, now)?;
            Ok(true)
        });
        match done {
            Ok(true) => started += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                tracing::error!(case = %candidate.reference, error = %e, "could not start the age-18 track; the next run tries again");
            }
        }
    }
    Ok((started, failed))
}

fn running(conn: &mut DbConn, case_id: &str) -> Result<Vec<CaseWorkflowRow>, AppError> {
    Ok(case_workflows::table
        .filter(case_workflows::case_id.eq(case_id))
        .select(CaseWorkflowRow::as_select())
        .load(conn)?)
}

/// Cases with a workflow still running whose child is 18 today or earlier.
fn birthdays(
    state: &AppState,
    conn: &mut DbConn,
    now: DateTime<Utc>,
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
        match hand_over(state, conn, &case_id, now, today) {
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

/// On or after the 18th birthday: closes the child protection pathway, hands the adult track
/// over if its referrals are made, records the handover and tells the lead and team leads. One
/// transaction. False when there was nothing to do.
fn hand_over(
    state: &AppState,
    conn: &mut DbConn,
    case_id: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<bool, AppError> {
    let engine = &state.engine;
    let actor = system_actor();
    let primary = engine.registry.primary().name().to_string();
    let track = engine.settings.transition_workflow.clone();
    write_transaction(conn, |conn| {
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
        let workflows = running(conn, case_id)?;
        let plan = workflows
            .iter()
            .find(|w| w.workflow == primary && w.finished_at.is_none());
        if let Some(plan) = plan {
            let closes = engine
                .registry
                .get(&plan.workflow, plan.workflow_version as u32)
                .and_then(|wf| wf.transition(&plan.state, "close_at_18").map(|_| ()))
                .is_some();
            if closes {
                let mut facts = Map::new();
                facts.insert("plan_end_reason".into(), json!("child_turned_18"));
                let outcome = engine.apply_event_within(
                    conn,
                    &actor,
                    case_id,
                    &EventRequest {
                        event: "close_at_18".into(),
                        workflow: Some(primary.clone()),
                        expected_version: version,
                        rationale: Some(
                            "Child protection duties end on the 18th birthday (R16); closed by the service on the day."
                                .into(),
                        ),
                        facts,
                        agreed_actions: Vec::new(),
                        meeting_id: None,
                    },
                )?;
                version = outcome.version;
                applied
                    .push(json!({"workflow": primary, "from": plan.state, "to": outcome.to_state}));
            } else {
                tracing::warn!(case = %case.reference, version = plan.workflow_version, "this workflow version cannot close at 18; close it by hand");
            }
        }
        let adult = workflows
            .iter()
            .find(|w| w.workflow == track && w.finished_at.is_none());
        let mut adult_state = workflows
            .iter()
            .find(|w| w.workflow == track)
            .map(|w| w.state.clone());
        if let Some(adult) = adult.filter(|w| w.state == "handover_ready") {
            let outcome = engine.apply_event_within(
                conn,
                &actor,
                case_id,
                &EventRequest {
                    event: "hand_over".into(),
                    workflow: Some(track.clone()),
                    expected_version: version,
                    rationale: None,
                    facts: Map::new(),
                    agreed_actions: Vec::new(),
                    meeting_id: None,
                },
            )?;
            applied.push(json!({"workflow": track, "from": adult.state, "to": outcome.to_state}));
            adult_state = Some(outcome.to_state);
        }
        if applied.is_empty() {
            return Ok(false);
        }
        let handed_over = adult_state.as_deref() == Some("handed_over");
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
        let start_of_birthday =
            crate::time::wales::end_of_london_day(birthday - chrono::Duration::days(1));
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
            state.mailer.queue(
                conn,
                "age18_handover",
                Some(case_id),
                &person.email,
                Language::parse(&person.language).unwrap_or(Language::English),
                |lang| {
                    json!({
                        "recipient_name": person.name, "reference": case.reference,
                        "birthday": long_date(birthday, lang), "handed_over": handed_over,
                        "open_actions": open_actions.len(),
                        "meetings_after": meetings_after.iter().map(|m| json!({
                            "kind": crate::domain::meeting::kind_name(&m.kind, lang),
                            "starts": wales::date_time(m.starts_at.and_utc(), lang),
                        })).collect::<Vec<Value>>(),
                        "case_url": case_url(&state.mailer, &case),
                    })
                },
                now,
            )?;
        }
        Ok(true)
    })
}
