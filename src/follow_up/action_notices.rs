//! Chasing agreed actions: a reminder to the owner before the due date, a notice on the first
//! working day after it, and, some working days later, word to a team lead. Each notice is
//! marked on the action in the same transaction as its email is queued, so it goes once even
//! if two replicas scan at the same moment. A context's own actions are chased in the same
//! runs (`context_action_notices`), and counted with the others.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::Settings;
use crate::domain::action::{language_of, LINK_DAYS};
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::mail::links::Purpose;
use crate::storage::models::{AgreedActionRow, UserRow};
use crate::storage::schema::{agreed_actions, cases, users};
use crate::storage::{write_transaction, DbConn};
use crate::time::wales::end_of_london_day;
use crate::time::wales::london_date;
use crate::time::wales::long_date;

/// Which notice: each has its own column, so each goes once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    Reminder,
    Overdue,
}

type Candidate = (AgreedActionRow, String);

fn open_actions_due(
    conn: &mut DbConn,
    notice: Notice,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<Candidate>, AppError> {
    let mut q = agreed_actions::table
        .inner_join(cases::table)
        .filter(agreed_actions::status.eq("open"))
        .filter(agreed_actions::due_date.le(to))
        .select((AgreedActionRow::as_select(), cases::reference))
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(agreed_actions::due_date.ge(f));
    }
    q = match notice {
        Notice::Reminder => q.filter(agreed_actions::reminder_sent_at.is_null()),
        Notice::Overdue => q.filter(agreed_actions::overdue_notice_at.is_null()),
    };
    Ok(q.order(agreed_actions::due_date).load(conn)?)
}

/// Queues the owner's email and marks the action, unless someone else already did.
fn notify_owner(
    svc: &Services,
    conn: &mut DbConn,
    notice: Notice,
    (action, reference): &Candidate,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(email) = action.owner_email.clone() else {
        return Ok(false);
    };
    let mailer = &svc.mailer;
    write_transaction(conn, |conn| {
        let naive_now = now.naive_utc();
        let marked = match notice {
            Notice::Reminder => diesel::update(
                agreed_actions::table
                    .find(&action.id)
                    .filter(agreed_actions::reminder_sent_at.is_null()),
            )
            .set(agreed_actions::reminder_sent_at.eq(Some(naive_now)))
            .execute(conn)?,
            Notice::Overdue => diesel::update(
                agreed_actions::table
                    .find(&action.id)
                    .filter(agreed_actions::overdue_notice_at.is_null()),
            )
            .set(agreed_actions::overdue_notice_at.eq(Some(naive_now)))
            .execute(conn)?,
        };
        if marked == 0 {
            return Ok(false);
        }
        let token = mailer.links.sign_at(
            Purpose::Actions,
            &format!("{}:{email}", action.case_id),
            now,
            now + Duration::days(LINK_DAYS),
        );
        let url = format!("{}/actions/{token}", mailer.public_url);
        let preferred = language_of(conn, &action.case_id, &email)?;
        let template = match notice {
            Notice::Reminder => "action_reminder",
            Notice::Overdue => "action_overdue",
        };
        mailer.queue(
            conn,
            template,
            Some(&action.case_id),
            &email,
            preferred,
            |lang| {
                json!({
                    "owner_name": action.owner_name, "reference": reference, "title": svc.engine.action_title(action.kind.as_deref(), &action.title, lang),
                    "due": long_date(action.due_date, lang), "actions_url": url,
                    "due_by": crate::time::wales::date_in_sentence(action.due_date, crate::time::wales::Before::By, lang),
                })
            },
            now,
        )?;
        Ok(true)
    })
}

/// One action's outcome in a run: a failure is logged and counted, and the run goes on to the
/// next action rather than leaving everyone after it unchased.
fn tally(result: Result<bool, AppError>, action_id: &str, sent: &mut usize, failed: &mut usize) {
    match result {
        Ok(true) => *sent += 1,
        Ok(false) => {}
        Err(e) => {
            *failed += 1;
            tracing::error!(action = action_id, error = %e, "could not chase this action; the next run tries again");
        }
    }
}

pub fn failures(failed: usize) -> String {
    if failed == 0 {
        String::new()
    } else {
        format!("; {failed} failed (see the log)")
    }
}

/// Owners of open actions due within the configured working days are reminded once. An action
/// agreed today is not: its owner has just been told.
pub fn reminders(
    svc: &Services,
    settings: &Settings,
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let today = london_date(now);
    let until = svc
        .engine
        .calendar
        .add_working_days(today, settings.reminder_working_days);
    let agreed_before_today = end_of_london_day(today - Duration::days(1)).naive_utc();
    let (mut sent, mut failed) = (0, 0);
    for candidate in open_actions_due(conn, Notice::Reminder, Some(today), until)? {
        if candidate.0.created_at > agreed_before_today {
            continue;
        }
        tally(
            notify_owner(svc, conn, Notice::Reminder, &candidate, now),
            &candidate.0.id,
            &mut sent,
            &mut failed,
        );
    }
    let c = super::context_action_notices::reminders(
        svc,
        conn,
        (today, until),
        agreed_before_today,
        now,
    )?;
    let (sent, failed) = (sent + c.sent, failed + c.failed);
    Ok(format!("{sent} reminders queued{}", failures(failed)))
}

/// On a working day, owners of open actions whose due date has passed are told once: on the
/// first working day after it, or the next one the service runs.
pub fn overdue(svc: &Services, conn: &mut DbConn, now: DateTime<Utc>) -> Result<String, AppError> {
    let today = london_date(now);
    if !svc.engine.calendar.is_working_day(today) {
        return Ok(format!("{today} is not a working day; no notices"));
    }
    let (mut sent, mut failed) = (0, 0);
    for candidate in open_actions_due(conn, Notice::Overdue, None, today - Duration::days(1))? {
        tally(
            notify_owner(svc, conn, Notice::Overdue, &candidate, now),
            &candidate.0.id,
            &mut sent,
            &mut failed,
        );
    }
    let c = super::context_action_notices::overdue(svc, conn, today, now)?;
    let (sent, failed) = (sent + c.sent, failed + c.failed);
    Ok(format!("{sent} overdue notices queued{}", failures(failed)))
}

pub fn team_leads_of(
    conn: &mut DbConn,
    team: &str,
    authority: &str,
) -> Result<Vec<UserRow>, AppError> {
    Ok(users::table
        .filter(users::role.eq("team_lead"))
        .filter(users::active.eq(true))
        .filter(users::team.eq(team))
        .filter(users::authority_code.eq(authority))
        .order(users::name)
        .select(UserRow::as_select())
        .load(conn)?)
}

/// The team lead(s) who hear of a slipping action: the owner's, for a user of the service;
/// for an owner outside it, those of the chair who agreed it; failing both, the team leads (or
/// else the senior managers) of the authority where the child is.
fn escalation_recipients(
    conn: &mut DbConn,
    action: &AgreedActionRow,
    located_authority: &str,
) -> Result<Vec<UserRow>, AppError> {
    let answerable = match action.owner_user_id.clone() {
        Some(owner) => Some(owner),
        None => crate::domain::more_time::answerable_id(conn, action)?,
    };
    if let Some(id) = answerable {
        let user: Option<UserRow> = users::table
            .find(&id)
            .select(UserRow::as_select())
            .get_result(conn)
            .optional()?;
        if let Some(u) = user {
            let leads = team_leads_of(conn, &u.team, &u.authority_code)?;
            if !leads.is_empty() {
                return Ok(leads);
            }
        }
    }
    authority_leads(conn, located_authority)
}

/// An authority's team leads; failing those, its senior managers.
pub fn authority_leads(conn: &mut DbConn, authority: &str) -> Result<Vec<UserRow>, AppError> {
    let mut people: Vec<UserRow> = users::table
        .filter(users::role.eq_any(["team_lead", "senior_manager"]))
        .filter(users::active.eq(true))
        .filter(users::authority_code.eq(authority))
        .order(users::name)
        .select(UserRow::as_select())
        .load(conn)?;
    if people.iter().any(|u| u.role == "team_lead") {
        people.retain(|u| u.role == "team_lead");
    }
    Ok(people)
}

/// On a working day, actions overdue by the configured working days go to a team lead, once.
pub fn escalate(
    svc: &Services,
    settings: &Settings,
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let today = london_date(now);
    let calendar = &svc.engine.calendar;
    if !calendar.is_working_day(today) {
        return Ok(format!("{today} is not a working day; no escalations"));
    }
    let threshold = calendar.working_days_before(today, settings.escalation_working_days);
    let candidates: Vec<(AgreedActionRow, String, String, bool)> = agreed_actions::table
        .inner_join(cases::table)
        .filter(agreed_actions::status.eq("open"))
        .filter(agreed_actions::escalated_at.is_null())
        .filter(agreed_actions::due_date.le(threshold))
        .order(agreed_actions::due_date)
        .select((
            AgreedActionRow::as_select(),
            cases::reference,
            cases::located_authority,
            cases::restricted,
        ))
        .load(conn)?;
    // The chair has been told of a request for more time and has the next move.
    let ids: Vec<&str> = candidates.iter().map(|(a, ..)| a.id.as_str()).collect();
    let waiting = crate::domain::more_time::waiting(conn, &ids)?;
    let (mut sent, mut unheard, mut failed) = (0, 0, 0);
    let mut held = 0;
    for (action, reference, located, restricted) in candidates {
        if waiting.contains(&action.id)
            && !crate::domain::more_time::chair_to_tell(conn, &action)?.is_empty()
        {
            held += 1;
            continue;
        }
        let found = escalation_recipients(conn, &action, &located).and_then(|leads| {
            if restricted {
                crate::domain::case_access::only_named(conn, &action.case_id, leads)
            } else {
                Ok(leads)
            }
        });
        let leads = match found {
            Ok(l) => l,
            Err(e) => {
                failed += 1;
                tracing::error!(action = %action.id, error = %e, "could not find whom to escalate to");
                continue;
            }
        };
        if leads.is_empty() {
            // Not marked: it is tried again each run, and heard once a team lead exists.
            unheard += 1;
            tracing::warn!(action = %action.id, "overdue action has no team lead or senior manager to escalate to");
            continue;
        }
        let agencies = svc.engine.agencies.current();
        let agency = action.agency_code.as_deref().and_then(|c| agencies.get(c));
        let overdue_by = calendar.working_days_between(action.due_date, today);
        let done = write_transaction(conn, |conn| -> Result<bool, AppError> {
            let marked = diesel::update(
                agreed_actions::table
                    .find(&action.id)
                    .filter(agreed_actions::escalated_at.is_null()),
            )
            .set(agreed_actions::escalated_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
            if marked == 0 {
                return Ok(false);
            }
            for lead in &leads {
                svc.mailer.queue(
                    conn,
                    "action_escalation",
                    Some(&action.case_id),
                    &lead.email,
                    Language::parse(&lead.language).unwrap_or(Language::English),
                    |lang| {
                        json!({
                            "team_lead_name": lead.name, "reference": reference, "title": svc.engine.action_title(action.kind.as_deref(), &action.title, lang),
                            "owner_name": action.owner_name, "owner_email": action.owner_email,
                            "agency": agency.map(|a| match lang { Language::English => a.name_en.clone(), Language::Welsh => a.name_cy.clone() }).unwrap_or_default(),
                            "due": long_date(action.due_date, lang), "working_days_overdue": overdue_by,
                            "case_url": format!("{}/cases/{}", svc.mailer.public_url, reference),
                        })
                    },
                    now,
                )?;
            }
            Ok(true)
        });
        tally(done, &action.id, &mut sent, &mut failed);
    }
    let c = super::context_action_notices::escalate(svc, conn, (today, threshold), now)?;
    let (sent, unheard, failed) = (sent + c.sent, unheard + c.unheard, failed + c.failed);
    Ok(format!(
        "{sent} actions escalated; {unheard} had no team lead to tell; {held} held while their chair answers a request for more time{}",
        failures(failed)
    ))
}
