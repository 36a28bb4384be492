//! A context's own actions: disruption by the police or a partner (a closure notice on a
//! house, a word with a hotel's manager, a platform asked to take an account down) and any
//! other action about a place, a group or a person of concern rather than one child. Agreed by
//! those who may manage actions and may see the context, owned by a user of the service or
//! someone reached by email, and chased as agreed actions are (`follow_up`). The owner's
//! emails carry the action's title and the context's reference, never a word of the context:
//! its name, kind, description and linked children stay in the service, and a title or owner
//! that names the context or a child linked to it is refused. An owner who is a user of the
//! service must be one who may open the context.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::agreed_action::{due_date_of, known_agency, may_manage, resolve_owner, title_of};
use super::child::{child_named_in, refuse_named, Emailed};
use super::unit_of_work::{self, Intent};
use super::{context, Services};
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::storage::models::{CaseRow, ContextActionRow, ContextRow};
use crate::storage::schema::{context_actions, users};
use crate::storage::DbConn;
use crate::time::wales::{date_in_sentence, london_date, long_date, Before};

pub const OPEN: &str = "open";
pub const DONE: &str = "done";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContextAction {
    /// What is to be done, as the owner's emails will say it: no name of the context or of a
    /// child.
    pub title: String,
    /// A disruption action (police or partners acting on the place, group or person).
    #[serde(default)]
    pub disruption: bool,
    #[serde(default)]
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    /// The owner's agency, from the register.
    pub agency: Option<String>,
    /// YYYY-MM-DD; or `due_working_days` from today (default 5).
    pub due_date: Option<String>,
    pub due_working_days: Option<u32>,
    /// Given when the owner's address is not at their agency's email domains.
    #[serde(default)]
    pub confirm_addresses_rationale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseContextAction {
    /// `done` or `cancelled`.
    pub status: String,
    /// What was done; for a cancellation, why (20+ characters).
    pub note: String,
}

/// An action as a reader of the context is shown it.
#[derive(Debug, Serialize)]
pub struct ContextActionView {
    pub id: String,
    pub title: String,
    pub disruption: bool,
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    pub agency: Option<String>,
    pub due_date: NaiveDate,
    pub status: String,
    pub overdue: bool,
    pub agreed_by: String,
    pub agreed_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: Option<String>,
}

/// The context's actions, open ones first by due date, then the closed.
pub fn of_context(
    conn: &mut DbConn,
    context_id: &str,
    today: NaiveDate,
) -> Result<Vec<ContextActionView>, AppError> {
    let rows: Vec<ContextActionRow> = context_actions::table
        .filter(context_actions::context_id.eq(context_id))
        .order((context_actions::due_date, context_actions::created_at))
        .select(ContextActionRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.created_by.as_str()).collect();
    let names = super::user::names(conn, &ids)?;
    let mut views: Vec<ContextActionView> = rows
        .into_iter()
        .map(|r| ContextActionView {
            overdue: r.status == OPEN && r.due_date < today,
            agreed_by: names.get(&r.created_by).cloned().unwrap_or_default(),
            agreed_at: r.created_at.and_utc(),
            closed_at: r.closed_at.map(|t| t.and_utc()),
            id: r.id,
            title: r.title,
            disruption: r.disruption,
            owner_name: r.owner_name,
            owner_email: r.owner_email,
            owner_user_id: r.owner_user_id,
            agency: r.agency_code,
            due_date: r.due_date,
            status: r.status,
            close_note: r.close_note,
        })
        .collect();
    views.sort_by_key(|v| v.status != OPEN);
    Ok(views)
}

/// Whether the person may agree actions on a context (as on a case).
pub fn may_agree(actor: &Actor) -> bool {
    may_manage(actor).is_ok()
}

/// Whether the person may close the action: one who may manage actions, or the user who owns it.
pub fn may_close(actor: &Actor, action: &ContextActionView) -> bool {
    may_agree(actor) || action.owner_user_id.as_deref() == Some(actor.id.as_str())
}

/// What an action's words may not name, for they go into emails: the contexts and children
/// it is agreed among (the context and the children linked to it the agreeing person may see,
/// or every context and child of the meeting that agreed it), and the meeting, if one did.
pub struct About<'a> {
    pub meeting_id: Option<&'a str>,
    pub contexts: &'a [ContextRow],
    pub children: &'a [CaseRow],
}

/// Refuses `text` if it names one of `contexts`. A person or a group is found as a child's name
/// is (`child_named_in`: the whole name, or a part of it written as a name); a place by its
/// whole name, whose words ("the arcade", "the station") are the partners' ordinary words.
pub fn refuse_context_names(
    text: &str,
    field: &str,
    contexts: &[ContextRow],
) -> Result<(), AppError> {
    refuse_named_context(text, field, contexts, Emailed::Text)
}

fn refuse_named_context(
    text: &str,
    field: &str,
    contexts: &[ContextRow],
    kind: Emailed,
) -> Result<(), AppError> {
    for ctx in contexts {
        let named = if ctx.kind == context::PLACE {
            let name = ctx.name.trim().to_lowercase();
            !name.is_empty() && text.to_lowercase().contains(&name)
        } else {
            child_named_in(text, &ctx.name, kind).is_some()
        };
        if named {
            return Err(AppError::unprocessable(
                "context_named",
                field,
                format!(
                    "{field} names a context, and it goes into emails; use the context's reference"
                ),
            ));
        }
    }
    Ok(())
}

fn refuse_revealing(title: &str, owner_name: &str, about: &About<'_>) -> Result<(), AppError> {
    refuse_named_context(title, "title", about.contexts, Emailed::Text)?;
    refuse_named_context(
        owner_name,
        "owner_name",
        about.contexts,
        Emailed::PersonName,
    )?;
    for child in about.children {
        refuse_named(title, &child.child_name, "title", Emailed::Text)?;
        refuse_named(
            owner_name,
            &child.child_name,
            "owner_name",
            Emailed::PersonName,
        )?;
    }
    Ok(())
}

/// An owner who is a user of the service must be one who may open the context: their emails
/// and the page they lead to are about it.
fn owner_may_see(conn: &mut DbConn, owner_user_id: &str, ctx: &ContextRow) -> Result<(), AppError> {
    let user: crate::storage::models::UserRow = users::table
        .find(owner_user_id)
        .select(crate::storage::models::UserRow::as_select())
        .get_result(conn)?;
    match context::visible(conn, &user.actor()?, &ctx.id) {
        Ok(_) => Ok(()),
        Err(AppError::NotFound(_)) => Err(AppError::unprocessable(
            "owner_cannot_see_context",
            "owner_user_id",
            "the owner may not open this context; choose someone who may, or give an email address",
        )),
        Err(e) => Err(e),
    }
}

/// Agrees an action on a context the person may see, and emails its owner (title and
/// reference only). A page form's one-time token is claimed and finished in the same unit of
/// work.
pub fn agree(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NewContextAction,
    form_token: Option<&str>,
) -> Result<ContextActionRow, AppError> {
    unit_of_work::write(conn, intent, |conn, touched| {
        let ctx = context::visible(conn, actor, key)?;
        touched.case(&ctx.id);
        may_manage(actor)?;
        if let Some(token) = form_token {
            super::form_token::claim(conn, token, &actor.id, intent.now.naive_utc())?;
        }
        let children = context::visible_children(conn, actor, &ctx.id)?;
        let about = About {
            meeting_id: None,
            contexts: std::slice::from_ref(&ctx),
            children: &children,
        };
        let row = agree_on(svc, conn, actor, &ctx, req, &about, intent.now)?;
        if let Some(token) = form_token {
            super::form_token::finish(conn, token, &ctx.reference)?;
        }
        Ok(row)
    })
}

/// Writes an action on `ctx` inside the caller's unit of work (agreed on the context's page,
/// or by the exploitation meeting `meeting_id`) and queues its owner's email.
pub fn agree_on(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &ContextRow,
    req: &NewContextAction,
    about: &About<'_>,
    now: DateTime<Utc>,
) -> Result<ContextActionRow, AppError> {
    let title = title_of(&req.title)?;
    known_agency(svc, req.agency.as_deref())?;
    let due = due_date_of(
        svc,
        req.due_date.as_deref(),
        req.due_working_days,
        london_date(now),
    )?;
    let owner = resolve_owner(
        conn,
        &req.owner_name,
        req.owner_email.as_deref(),
        req.owner_user_id.as_deref(),
        &|f| f.to_string(),
    )?;
    refuse_revealing(&title, &owner.name, about)?;
    if let Some(id) = &owner.user_id {
        owner_may_see(conn, id, ctx)?;
    }
    let outside = match &owner.email {
        Some(email) => super::addresses::outside(
            &svc.engine.agencies.current(),
            &[super::addresses::Addressed {
                field: "owner_email".into(),
                agency: req.agency.as_deref(),
                email,
            }],
        ),
        None => Vec::new(),
    };
    let addresses_rationale =
        super::addresses::confirm(&outside, &req.confirm_addresses_rationale)?;
    let row = ContextActionRow {
        id: uuid::Uuid::now_v7().to_string(),
        context_id: ctx.id.clone(),
        title,
        disruption: req.disruption,
        owner_name: owner.name,
        owner_email: owner.email,
        owner_user_id: owner.user_id,
        agency_code: req.agency.clone(),
        due_date: due,
        status: OPEN.into(),
        created_by: actor.id.clone(),
        created_at: now.naive_utc(),
        closed_by: None,
        closed_at: None,
        close_note: None,
        reminder_sent_at: None,
        overdue_notice_at: None,
        escalated_at: None,
        meeting_id: about.meeting_id.map(str::to_string),
        addresses_rationale,
    };
    diesel::insert_into(context_actions::table)
        .values(&row)
        .execute(conn)?;
    queue_owner_notice(svc, conn, &row, &ctx.reference, Notice::Agreed, now)?;
    Ok(row)
}

/// Marks an open action done or cancelled, by one who may manage actions or the user who owns
/// it; the row keeps who, when and why.
pub fn close(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    action_id: &str,
    req: &CloseContextAction,
) -> Result<ContextActionRow, AppError> {
    let status = match req.status.trim() {
        DONE => DONE,
        CANCELLED => CANCELLED,
        _ => {
            return Err(AppError::bad_request(
                "invalid_choice",
                "status",
                "status is done or cancelled",
            ))
        }
    };
    let note = if status == CANCELLED {
        super::input::rationale(&req.note, "note")?
    } else {
        super::input::text(&req.note, "note", 2000)?
    };
    unit_of_work::write(conn, intent, |conn, touched| {
        let ctx = context::visible(conn, actor, key)?;
        touched.case(&ctx.id);
        let Some(action) = context_actions::table
            .find(action_id)
            .filter(context_actions::context_id.eq(&ctx.id))
            .select(ContextActionRow::as_select())
            .get_result(conn)
            .optional()?
        else {
            return Err(AppError::NotFound("action"));
        };
        if action.owner_user_id.as_deref() != Some(actor.id.as_str()) {
            may_manage(actor)?;
        }
        let closed = diesel::update(
            context_actions::table
                .find(&action.id)
                .filter(context_actions::status.eq(OPEN)),
        )
        .set((
            context_actions::status.eq(status),
            context_actions::closed_by.eq(Some(&actor.id)),
            context_actions::closed_at.eq(Some(intent.now.naive_utc())),
            context_actions::close_note.eq(Some(&note)),
        ))
        .execute(conn)?;
        if closed == 0 {
            return Err(AppError::Conflict {
                code: "action_closed",
                message: "the action is already done or cancelled".into(),
            });
        }
        Ok(ContextActionRow {
            status: status.to_string(),
            closed_by: Some(actor.id.clone()),
            closed_at: Some(intent.now.naive_utc()),
            close_note: Some(note.clone()),
            ..action
        })
    })
}

/// Which email an owner is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Agreed,
    Reminder,
    Overdue,
}

/// Queues the owner's email about the action: its title, due date and the context's reference,
/// with whom to tell when it is done, and (for a user of the service) the context's page.
pub fn queue_owner_notice(
    svc: &Services,
    conn: &mut DbConn,
    action: &ContextActionRow,
    reference: &str,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(email) = action.owner_email.clone() else {
        return Ok(false);
    };
    let (contact_name, contact_email): (String, String) = users::table
        .find(&action.created_by)
        .select((users::name, users::email))
        .get_result(conn)?;
    let preferred = match &action.owner_user_id {
        Some(id) => users::table
            .find(id)
            .select(users::language)
            .get_result::<String>(conn)
            .optional()?
            .as_deref()
            .and_then(Language::parse)
            .unwrap_or(Language::English),
        None => Language::English,
    };
    let context_url = action
        .owner_user_id
        .as_ref()
        .map(|_| format!("{}/contexts/{reference}", svc.mailer.public_url));
    svc.mailer.queue(
        conn,
        "context_action",
        None,
        &email,
        preferred,
        |lang| {
            json!({
                "owner_name": action.owner_name, "reference": reference, "title": action.title,
                "disruption": action.disruption, "due": long_date(action.due_date, lang),
                "due_by": date_in_sentence(action.due_date, Before::By, lang),
                "agreed": notice == Notice::Agreed, "reminder": notice == Notice::Reminder,
                "overdue": notice == Notice::Overdue,
                "contact_name": contact_name, "contact_email": contact_email, "context_url": context_url,
            })
        },
        now,
    )?;
    Ok(true)
}
