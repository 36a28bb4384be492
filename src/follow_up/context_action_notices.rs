//! Chasing a context's own actions, on the same days and rules as agreed actions
//! (`action_notices`): a reminder before the due date, a notice after it, and word to a team
//! lead once it has slipped. Each notice is marked on the action in the transaction that queues
//! its email, so it goes once. The emails name the action and the context's reference only, and
//! an action on a person of concern goes only to team leads given the role.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::action_notices::{authority_leads, team_leads_of};
use crate::domain::context_action::{queue_owner_notice, Notice, OPEN};
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{ContextActionRow, UserRow};
use crate::storage::schema::{context_actions, contexts, users};
use crate::storage::{write_transaction, DbConn};
use crate::time::wales::long_date;

/// What a run did to the contexts' actions.
#[derive(Debug, Default)]
pub struct Chased {
    pub sent: usize,
    pub failed: usize,
    /// Overdue, with nobody to escalate to (tried again next run).
    pub unheard: usize,
}

impl Chased {
    fn tally(&mut self, result: Result<bool, AppError>, action_id: &str) {
        match result {
            Ok(true) => self.sent += 1,
            Ok(false) => {}
            Err(e) => {
                self.failed += 1;
                tracing::error!(context_action = action_id, error = %e, "could not chase this context action; the next run tries again");
            }
        }
    }
}

/// An action with its context's reference, authority and kind.
type Candidate = (ContextActionRow, String, String, String);

/// Which mark a scan looks for: each notice has its own column, so each goes once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Reminder,
    Overdue,
    Escalation,
}

fn open_due(
    conn: &mut DbConn,
    scan: Scan,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<Candidate>, AppError> {
    let mut q = context_actions::table
        .inner_join(contexts::table)
        .filter(context_actions::status.eq(OPEN))
        .filter(context_actions::due_date.le(to))
        .select((
            ContextActionRow::as_select(),
            contexts::reference,
            contexts::authority_code,
            contexts::kind,
        ))
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(context_actions::due_date.ge(f));
    }
    q = match scan {
        Scan::Reminder => q.filter(context_actions::reminder_sent_at.is_null()),
        Scan::Overdue => q.filter(context_actions::overdue_notice_at.is_null()),
        Scan::Escalation => q.filter(context_actions::escalated_at.is_null()),
    };
    Ok(q.order(context_actions::due_date).load(conn)?)
}

fn notify(
    svc: &Services,
    conn: &mut DbConn,
    notice: Notice,
    (action, reference, ..): &Candidate,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if action.owner_email.is_none() {
        return Ok(false);
    }
    write_transaction(conn, |conn| {
        let at = Some(now.naive_utc());
        let mine = context_actions::table.find(&action.id);
        let marked = match notice {
            Notice::Reminder => {
                diesel::update(mine.filter(context_actions::reminder_sent_at.is_null()))
                    .set(context_actions::reminder_sent_at.eq(at))
                    .execute(conn)?
            }
            Notice::Overdue => {
                diesel::update(mine.filter(context_actions::overdue_notice_at.is_null()))
                    .set(context_actions::overdue_notice_at.eq(at))
                    .execute(conn)?
            }
            // Told when it was agreed, in that unit of work: no scan sends it.
            Notice::Agreed => 0,
        };
        if marked == 0 {
            return Ok(false);
        }
        queue_owner_notice(svc, conn, action, reference, notice, now)
    })
}

/// Owners of open actions due from `today` to `until` are reminded once; one agreed since
/// `agreed_before` is not (its owner has just been told).
pub fn reminders(
    svc: &Services,
    conn: &mut DbConn,
    (today, until): (NaiveDate, NaiveDate),
    agreed_before: chrono::NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<Chased, AppError> {
    let mut chased = Chased::default();
    for candidate in open_due(conn, Scan::Reminder, Some(today), until)? {
        if candidate.0.created_at > agreed_before {
            continue;
        }
        let result = notify(svc, conn, Notice::Reminder, &candidate, now);
        chased.tally(result, &candidate.0.id);
    }
    Ok(chased)
}

/// Owners of open actions due before `today` are told once.
pub fn overdue(
    svc: &Services,
    conn: &mut DbConn,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Chased, AppError> {
    let mut chased = Chased::default();
    for candidate in open_due(conn, Scan::Overdue, None, today - chrono::Duration::days(1))? {
        let result = notify(svc, conn, Notice::Overdue, &candidate, now);
        chased.tally(result, &candidate.0.id);
    }
    Ok(chased)
}

fn team_leads(conn: &mut DbConn, user_id: &str) -> Result<Vec<UserRow>, AppError> {
    match users::table
        .find(user_id)
        .select(UserRow::as_select())
        .get_result::<UserRow>(conn)
        .optional()?
    {
        Some(user) => team_leads_of(conn, &user.team, &user.authority_code),
        None => Ok(Vec::new()),
    }
}

/// Whom a slipping action goes to: the owner's team leads, for a user of the service; else
/// those of the person who agreed it; failing both, the team leads (or else the senior
/// managers) of the authority that recorded the context. For a person of concern, only those
/// of each who have the role.
fn recipients(
    conn: &mut DbConn,
    action: &ContextActionRow,
    authority: &str,
    person_of_concern: bool,
) -> Result<Vec<UserRow>, AppError> {
    // A person of concern is heard of only by those given the role, at each step.
    let allowed = |conn: &mut DbConn, leads: Vec<UserRow>| {
        if person_of_concern {
            crate::domain::context::with_the_role(conn, leads)
        } else {
            Ok(leads)
        }
    };
    for who in action.owner_user_id.iter().chain([&action.created_by]) {
        let leads = team_leads(conn, who)?;
        let leads = allowed(conn, leads)?;
        if !leads.is_empty() {
            return Ok(leads);
        }
    }
    let leads = authority_leads(conn, authority)?;
    allowed(conn, leads)
}

/// Open actions due on or before `threshold` go to a team lead, once.
pub fn escalate(
    svc: &Services,
    conn: &mut DbConn,
    (today, threshold): (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
) -> Result<Chased, AppError> {
    let mut chased = Chased::default();
    for (action, reference, authority, kind) in open_due(conn, Scan::Escalation, None, threshold)? {
        let person_of_concern = kind == crate::domain::context::PERSON_OF_CONCERN;
        let leads = match recipients(conn, &action, &authority, person_of_concern) {
            Ok(l) => l,
            Err(e) => {
                chased.tally(Err(e), &action.id);
                continue;
            }
        };
        if leads.is_empty() {
            chased.unheard += 1;
            tracing::warn!(context_action = %action.id, "overdue context action has no team lead or senior manager to escalate to");
            continue;
        }
        let agencies = svc.engine.agencies.current();
        let agency = action.agency_code.as_deref().and_then(|c| agencies.get(c));
        let overdue_by = svc
            .engine
            .calendar
            .working_days_between(action.due_date, today);
        let result = write_transaction(conn, |conn| -> Result<bool, AppError> {
            let marked = diesel::update(
                context_actions::table
                    .find(&action.id)
                    .filter(context_actions::escalated_at.is_null()),
            )
            .set(context_actions::escalated_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
            if marked == 0 {
                return Ok(false);
            }
            for lead in &leads {
                svc.mailer.queue(
                    conn,
                    "context_action_escalation",
                    None,
                    &lead.email,
                    Language::parse(&lead.language).unwrap_or(Language::English),
                    |lang| {
                        json!({
                            "team_lead_name": lead.name, "reference": reference, "title": action.title,
                            "disruption": action.disruption,
                            "owner_name": action.owner_name, "owner_email": action.owner_email,
                            "agency": agency.map(|a| match lang { Language::English => a.name_en.clone(), Language::Welsh => a.name_cy.clone() }).unwrap_or_default(),
                            "due": long_date(action.due_date, lang), "working_days_overdue": overdue_by,
                            "context_url": format!("{}/contexts/{reference}", svc.mailer.public_url),
                        })
                    },
                    now,
                )?;
            }
            Ok(true)
        });
        chased.tally(result, &action.id);
    }
    Ok(chased)
}
