//! Agreed actions as users of the service keep them: agreeing one outside a meeting, updating,
//! completing, cancelling (with a rationale), giving more time. Each change is one transaction
//! of a unit of work on the case (`unit_of_work::on_case`), with its audit entry. Owners without
//! an account use their signed link (`action.rs`).
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Services;
use crate::domain::audit;
use crate::domain::child::{refuse_named, Emailed};
use crate::engine::decide::parse_due_date;
use crate::engine::Owner;
use crate::error::AppError;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::storage::models::{ActionUpdateRow, AgreedActionRow, CaseRow, UserRow};
use crate::storage::schema::{action_updates, agreed_actions, users};
use crate::storage::DbConn;
use crate::time::wales::london_date;

/// An owner is a user of the service (`owner_user_id`) or someone reached by email
/// (`owner_email` with `owner_name`); an owner nobody can reach is refused.
pub fn resolve_owner(
    conn: &mut DbConn,
    owner_name: &str,
    owner_email: Option<&str>,
    owner_user_id: Option<&str>,
    at: &dyn Fn(&str) -> String,
) -> Result<Owner, AppError> {
    let name = owner_name.trim();
    super::input::single_line(name, &at("owner_name"))?;
    if name.chars().count() > 200 {
        return Err(AppError::bad_request(
            "invalid_owner",
            at("owner_name"),
            "owner_name must be at most 200 characters",
        ));
    }
    match (owner_user_id, owner_email.map(str::trim)) {
        (Some(_), Some(_)) => Err(AppError::bad_request(
            "ambiguous_owner",
            at("owner_email"),
            "give owner_user_id for a user of the service or owner_email for someone else, not both",
        )),
        (Some(id), None) => {
            let user: UserRow = users::table
                .find(id)
                .filter(users::active.eq(true))
                .select(UserRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or_else(|| {
                    AppError::unprocessable(
                        "unknown_user",
                        at("owner_user_id"),
                        format!("no active user has the id {id:?}"),
                    )
                })?;
            Ok(Owner {
                name: if name.is_empty() {
                    user.name
                } else {
                    name.to_string()
                },
                email: Some(user.email),
                user_id: Some(user.id),
            })
        }
        (None, Some(email)) => {
            if email.parse::<lettre::Address>().is_err() {
                return Err(AppError::bad_request(
                    "invalid_email",
                    at("owner_email"),
                    format!("{email:?} is not an email address"),
                ));
            }
            if name.is_empty() {
                return Err(AppError::bad_request(
                    "invalid_owner",
                    at("owner_name"),
                    "owner_name is needed for an owner outside the service",
                ));
            }
            Ok(Owner {
                name: name.to_string(),
                email: Some(email.to_lowercase()),
                user_id: None,
            })
        }
        (None, None) => Err(AppError::unprocessable(
            "owner_email_required",
            at("owner_email"),
            "an action needs an owner who can be reminded: owner_email, or owner_user_id of a user of the service",
        )),
    }
}

/// An owner an action may be emailed to: reachable, not named as the child, and at their
/// agency's email domains or confirmed with a rationale.
struct CheckedOwner {
    owner: Owner,
    outside: Vec<super::addresses::Outside>,
    addresses_rationale: Option<String>,
}

fn checked_owner(
    conn: &mut DbConn,
    services: &Services,
    case: &CaseRow,
    name: &str,
    (email, user_id): (Option<&str>, Option<&str>),
    agency: Option<&str>,
    rationale: &Option<String>,
) -> Result<CheckedOwner, AppError> {
    let owner = resolve_owner(conn, name, email, user_id, &|f| f.to_string())?;
    refuse_named(
        &owner.name,
        &case.child_name,
        "owner_name",
        Emailed::PersonName,
    )?;
    let outside = match &owner.email {
        Some(email) => super::addresses::outside(
            &services.engine.agencies.current(),
            &[super::addresses::Addressed {
                field: "owner_email".into(),
                agency,
                email,
            }],
        ),
        None => Vec::new(),
    };
    let addresses_rationale = super::addresses::confirm(&outside, rationale)?;
    Ok(CheckedOwner {
        owner,
        outside,
        addresses_rationale,
    })
}

/// An action's due date: the date given, or so many working days from today (five if neither).
pub fn due_date_of(
    services: &Services,
    due_date: Option<&str>,
    due_working_days: Option<u32>,
    today: NaiveDate,
) -> Result<NaiveDate, AppError> {
    match (due_date, due_working_days) {
        (Some(_), Some(_)) => Err(AppError::bad_request(
            "ambiguous_due",
            "due_date",
            "give due_date or due_working_days, not both",
        )),
        (Some(raw), None) => parse_due_date(raw, "due_date", today),
        (None, Some(n)) if (1..=260).contains(&n) => {
            Ok(services.engine.calendar.add_working_days(today, n))
        }
        (None, Some(_)) => Err(AppError::bad_request(
            "invalid_due",
            "due_working_days",
            "due_working_days must be 1 to 260",
        )),
        (None, None) => Ok(services.engine.calendar.add_working_days(today, 5)),
    }
}

/// An owner's agency, when given, is one of the register's.
pub fn known_agency(services: &Services, agency: Option<&str>) -> Result<(), AppError> {
    match agency {
        Some(code) if services.engine.agencies.current().get(code).is_none() => {
            Err(AppError::unprocessable(
                "unknown_agency",
                "agency",
                format!("no agency has the code {code:?}"),
            ))
        }
        _ => Ok(()),
    }
}

/// An action's title: one line of 1 to 500 characters.
pub fn title_of(raw: &str) -> Result<String, AppError> {
    let title = raw.trim();
    super::input::single_line(title, "title")?;
    if title.is_empty() || title.chars().count() > 500 {
        return Err(AppError::bad_request(
            "invalid_title",
            "title",
            "title must be 1 to 500 characters",
        ));
    }
    Ok(title.to_string())
}

pub fn may_manage(actor: &Actor) -> Result<(), AppError> {
    if matches!(
        actor.role,
        RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a chair, team lead or senior manager may agree or change actions; owners update their own".into(),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    pub title: String,
    #[serde(default)]
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    pub agency: Option<String>,
    /// YYYY-MM-DD; or `due_working_days` from today (default 5).
    pub due_date: Option<String>,
    pub due_working_days: Option<u32>,
    /// Given when the owner's address is not at their agency's email domains.
    #[serde(default)]
    pub confirm_addresses_rationale: Option<String>,
}

/// Agrees an action on a case outside a meeting record, emails its owner, audits it.
pub fn create(
    conn: &mut DbConn,
    services: &Services,
    actor: &Actor,
    case: &CaseRow,
    input: &NewAction,
    now: DateTime<Utc>,
) -> Result<AgreedActionRow, AppError> {
    may_manage(actor)?;
    let title = title_of(&input.title)?;
    refuse_named(&title, &case.child_name, "title", Emailed::Text)?;
    known_agency(services, input.agency.as_deref())?;
    let due = due_date_of(
        services,
        input.due_date.as_deref(),
        input.due_working_days,
        london_date(now),
    )?;
    let naive_now = now.naive_utc();
    {
        let CheckedOwner {
            owner,
            outside,
            addresses_rationale,
        } = checked_owner(
            conn,
            services,
            case,
            &input.owner_name,
            (input.owner_email.as_deref(), input.owner_user_id.as_deref()),
            input.agency.as_deref(),
            &input.confirm_addresses_rationale,
        )?;
        let row = AgreedActionRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            meeting_id: None,
            kind: None,
            title,
            owner_name: owner.name,
            owner_email: owner.email,
            owner_user_id: owner.user_id,
            agency_code: input.agency.clone(),
            due_date: due,
            status: "open".into(),
            cancellable: true,
            rules: String::new(),
            created_at: naive_now,
            updated_at: naive_now,
            created_by: Some(actor.id.clone()),
            reminder_sent_at: None,
            overdue_notice_at: None,
            escalated_at: None,
        };
        diesel::insert_into(agreed_actions::table)
            .values(&row)
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &services.audit_key,
            &case.id,
            &actor.id,
            "action_agreed",
            json!({"action_id": row.id, "title": row.title, "owner_name": row.owner_name,
                   "owner_user_id": row.owner_user_id, "agency": row.agency_code,
                   "due_date": row.due_date.to_string(),
                   "addresses_confirmed": addresses_rationale.as_ref().map(|r| json!({
                       "addresses": outside.iter().map(|o| &o.email).collect::<Vec<_>>(), "rationale": r}))}),
            naive_now,
        )?;
        crate::domain::action::queue_owner_emails(
            services,
            conn,
            case,
            crate::domain::action::Occasion::Agreed,
            std::slice::from_ref(&row),
            now,
        )?;
        Ok(row)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionChange {
    pub note: String,
    /// `done`, `cancelled`, or absent to leave it open.
    pub status: Option<String>,
    /// Why it is cancelled; required for a cancellation.
    pub rationale: Option<String>,
    /// More time: the new due date (YYYY-MM-DD). Reminders and notices start again. Given while
    /// the owner's request for more time waits, it grants the request.
    pub due_date: Option<String>,
    /// The answer to the owner's waiting request: `granted` (with `due_date`) or `refused`
    /// (the note is the reason, and is emailed to the owner).
    #[serde(default)]
    pub more_time: Option<String>,
    /// Passing the action to someone else: their name, and their email address or user id.
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default)]
    pub owner_email: Option<String>,
    #[serde(default)]
    pub owner_user_id: Option<String>,
    /// Given when the new owner's address is not at the action's agency's email domains.
    #[serde(default)]
    pub confirm_addresses_rationale: Option<String>,
}

/// What a change does besides adding its note, as its update records it.
fn update_kind(answer: Option<&str>, reassigned: bool) -> &'static str {
    match answer {
        Some("granted") => super::more_time::GRANTED,
        Some("refused") => super::more_time::REFUSED,
        _ if reassigned => "reassigned",
        _ => "note",
    }
}

/// A change to an open action by a chair, team lead, senior manager, or the user who owns it.
pub fn change(
    conn: &mut DbConn,
    services: &Services,
    actor: &Actor,
    case: &CaseRow,
    action_id: &str,
    input: &ActionChange,
    now: DateTime<Utc>,
) -> Result<AgreedActionRow, AppError> {
    let note = input.note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::bad_request(
            "invalid_note",
            "note",
            "note must be 1 to 2000 characters",
        ));
    }
    let status = input.status.as_deref().map(str::trim);
    if !matches!(status, None | Some("done") | Some("cancelled")) {
        return Err(AppError::bad_request(
            "invalid_choice",
            "status",
            "status must be done or cancelled (or left out to keep the action open)",
        ));
    }
    let rationale = input
        .rationale
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if status == Some("cancelled") && rationale.is_none_or(|r| r.chars().count() < 20) {
        return Err(AppError::unprocessable(
            "rationale_required",
            "rationale",
            "cancelling an agreed action needs a rationale of at least 20 characters",
        ));
    }
    let today = london_date(now);
    let new_due = input
        .due_date
        .as_deref()
        .map(|raw| parse_due_date(raw, "due_date", today))
        .transpose()?;
    let answer = input.more_time.as_deref().map(str::trim);
    match (answer, new_due) {
        (None, _) | (Some("granted"), Some(_)) | (Some("refused"), None) => {}
        (Some("granted"), None) => {
            return Err(AppError::unprocessable(
                "due_date_required",
                "due_date",
                "giving more time needs the new due date",
            ))
        }
        (Some("refused"), Some(_)) => {
            return Err(AppError::bad_request(
                "invalid_choice",
                "due_date",
                "a refusal of more time keeps the due date; leave due_date out",
            ))
        }
        (Some(_), _) => {
            return Err(AppError::bad_request(
                "invalid_choice",
                "more_time",
                "more_time must be granted or refused",
            ))
        }
    }
    if answer == Some("refused") {
        // The reason for a refusal is emailed to the owner.
        refuse_named(note, &case.child_name, "note", Emailed::Text)?;
    }
    let reassigning =
        input.owner_name.is_some() || input.owner_email.is_some() || input.owner_user_id.is_some();
    let naive_now = now.naive_utc();
    {
        let action: AgreedActionRow = agreed_actions::table
            .find(action_id)
            .filter(agreed_actions::case_id.eq(&case.id))
            .select(AgreedActionRow::as_select())
            .get_result(conn)
            .optional()?
            .ok_or(AppError::NotFound("action"))?;
        // An owner may add notes and mark their own action done; cancelling it or moving its
        // date is for a chair, team lead or senior manager.
        let owns = action.owner_user_id.as_deref() == Some(actor.id.as_str());
        if !owns
            || status == Some("cancelled")
            || new_due.is_some()
            || answer.is_some()
            || reassigning
        {
            may_manage(actor)?;
        }
        if action.status != "open" {
            return Err(AppError::Conflict {
                code: "action_closed",
                message: format!("the action is already {}", action.status),
            });
        }
        if status == Some("cancelled") && !action.cancellable {
            return Err(AppError::unprocessable(
                "not_cancellable",
                "status",
                format!(
                    "this action cannot be cancelled (rules {}): the procedure does not allow it",
                    action.rules
                ),
            ));
        }
        let waiting = super::more_time::waiting(conn, &[action.id.as_str()])?.contains(&action.id);
        if answer.is_some() && !waiting {
            return Err(AppError::Conflict {
                code: "no_request_waiting",
                message: "no request for more time on this action waits for an answer".into(),
            });
        }
        // A new date while the owner waits for one answers them.
        let answer = answer.or((waiting && new_due.is_some()).then_some("granted"));
        if answer == Some("granted") && new_due.is_some_and(|d| d <= action.due_date) {
            return Err(AppError::unprocessable(
                "due_date_not_later",
                "due_date",
                format!("more time means a date after {}", action.due_date),
            ));
        }
        let new_owner = if reassigning {
            // Checked as when it was agreed, against the action's own agency.
            let checked = checked_owner(
                conn,
                services,
                case,
                input.owner_name.as_deref().unwrap_or(""),
                (input.owner_email.as_deref(), input.owner_user_id.as_deref()),
                action.agency_code.as_deref(),
                &input.confirm_addresses_rationale,
            )?;
            Some(checked.owner)
        } else {
            None
        };
        diesel::insert_into(action_updates::table)
            .values(ActionUpdateRow {
                // Time-ordered, so that updates in the same instant keep their order.
                id: uuid::Uuid::now_v7().to_string(),
                action_id: action.id.clone(),
                case_id: case.id.clone(),
                at: naive_now,
                by_name: actor.name.clone(),
                by_email: None,
                by_user_id: Some(actor.id.clone()),
                note: note.to_string(),
                new_status: status.map(str::to_string),
                kind: update_kind(answer, new_owner.is_some()).to_string(),
            })
            .execute(conn)?;
        let mut updated = action.clone();
        updated.updated_at = naive_now;
        if let Some(s) = status {
            updated.status = s.to_string();
        }
        if let Some(d) = new_due {
            // More time: the owner is reminded and chased again against the new date.
            updated.due_date = d;
            updated.reminder_sent_at = None;
            updated.overdue_notice_at = None;
            updated.escalated_at = None;
        }
        if let Some(owner) = &new_owner {
            // The new owner is reminded and chased from now on, not the old one.
            updated.owner_name = owner.name.clone();
            updated.owner_email = owner.email.clone();
            updated.owner_user_id = owner.user_id.clone();
            updated.reminder_sent_at = None;
            updated.overdue_notice_at = None;
            updated.escalated_at = None;
        }
        diesel::update(agreed_actions::table.find(&action.id))
            .set((
                agreed_actions::owner_name.eq(&updated.owner_name),
                agreed_actions::owner_email.eq(&updated.owner_email),
                agreed_actions::owner_user_id.eq(&updated.owner_user_id),
                agreed_actions::status.eq(&updated.status),
                agreed_actions::due_date.eq(updated.due_date),
                agreed_actions::reminder_sent_at.eq(updated.reminder_sent_at),
                agreed_actions::overdue_notice_at.eq(updated.overdue_notice_at),
                agreed_actions::escalated_at.eq(updated.escalated_at),
                agreed_actions::updated_at.eq(naive_now),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &services.audit_key,
            &case.id,
            &actor.id,
            "action_updated",
            json!({"action_id": action.id, "title": action.title, "note": note,
                   "new_status": status, "rationale": rationale,
                   "due_date": new_due.map(|d| d.to_string()), "more_time": answer,
                   "owner": new_owner.as_ref().map(|o| json!({
                       "before": {"name": action.owner_name, "email": action.owner_email, "user_id": action.owner_user_id},
                       "after": {"name": o.name, "email": o.email, "user_id": o.user_id}}))}),
            naive_now,
        )?;
        if let Some(granted) = answer.map(|a| a == "granted") {
            super::more_time::tell_owner(
                services,
                conn,
                &case.reference,
                &updated,
                granted,
                if granted { "" } else { note },
                now,
            )?;
        }
        if new_owner.is_some() {
            crate::domain::action::queue_owner_emails(
                services,
                conn,
                case,
                crate::domain::action::Occasion::PassedToYou,
                std::slice::from_ref(&updated),
                now,
            )?;
        }
        Ok(updated)
    }
}

#[derive(Debug, Serialize)]
pub struct ActionView {
    #[serde(flatten)]
    pub action: ActionSummary,
    pub updates: Vec<UpdateView>,
}

#[derive(Debug, Serialize)]
pub struct ActionSummary {
    pub id: String,
    pub kind: Option<String>,
    pub title: String,
    pub owner_name: String,
    pub owner_user_id: Option<String>,
    pub agency: Option<String>,
    pub meeting_id: Option<String>,
    pub due_date: NaiveDate,
    pub status: String,
    pub overdue: bool,
    pub cancellable: bool,
    pub rules: Vec<String>,
}

impl ActionSummary {
    pub fn of(a: &AgreedActionRow, today: NaiveDate) -> ActionSummary {
        ActionSummary {
            id: a.id.clone(),
            kind: a.kind.clone(),
            title: a.title.clone(),
            owner_name: a.owner_name.clone(),
            owner_user_id: a.owner_user_id.clone(),
            agency: a.agency_code.clone(),
            meeting_id: a.meeting_id.clone(),
            due_date: a.due_date,
            status: a.status.clone(),
            overdue: a.status == "open" && a.due_date < today,
            cancellable: a.cancellable,
            rules: a
                .rules
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UpdateView {
    pub at: DateTime<Utc>,
    pub by_name: String,
    pub note: String,
    pub new_status: Option<String>,
    /// `note`, `more_time_asked`, `more_time_granted`, `more_time_refused` or `reassigned`.
    pub kind: String,
}

/// A case's actions, soonest due first, each with its updates.
pub fn list(
    conn: &mut DbConn,
    case: &CaseRow,
    today: NaiveDate,
) -> Result<Vec<ActionView>, AppError> {
    let actions: Vec<AgreedActionRow> = agreed_actions::table
        .filter(agreed_actions::case_id.eq(&case.id))
        .order((agreed_actions::due_date, agreed_actions::created_at))
        .select(AgreedActionRow::as_select())
        .load(conn)?;
    let updates: Vec<ActionUpdateRow> = action_updates::table
        .filter(action_updates::case_id.eq(&case.id))
        .order(action_updates::at)
        .select(ActionUpdateRow::as_select())
        .load(conn)?;
    Ok(actions
        .iter()
        .map(|a| ActionView {
            action: ActionSummary::of(a, today),
            updates: updates
                .iter()
                .filter(|u| u.action_id == a.id)
                .map(|u| UpdateView {
                    at: u.at.and_utc(),
                    by_name: u.by_name.clone(),
                    note: u.note.clone(),
                    new_status: u.new_status.clone(),
                    kind: u.kind.clone(),
                })
                .collect(),
        })
        .collect())
}
