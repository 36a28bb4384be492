//! A request for more time on an agreed action, from its owner through their link, and the
//! chair's answer to it. The request is an update of kind `more_time_asked`; it waits until an
//! update of kind `more_time_granted` or `more_time_refused` follows it. While it waits, the
//! case page flags the action and the escalation to a team lead is held: the chair has been
//! told and has the next move (the team lead's dashboard still lists the action as overdue).
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{AgreedActionRow, UserRow};
use crate::storage::schema::{action_updates, cases, meetings, users};
use crate::storage::DbConn;
use crate::time::wales::{self, london_date, long_date};

pub const ASKED: &str = "more_time_asked";
pub const GRANTED: &str = "more_time_granted";
pub const REFUSED: &str = "more_time_refused";

/// Of these actions, those whose owner's latest request for more time awaits an answer.
pub fn waiting(conn: &mut DbConn, action_ids: &[&str]) -> Result<HashSet<String>, AppError> {
    let mut rows: Vec<(String, String, chrono::NaiveDateTime, String)> = action_updates::table
        .filter(action_updates::action_id.eq_any(action_ids))
        .filter(action_updates::kind.eq_any([ASKED, GRANTED, REFUSED]))
        .select((
            action_updates::action_id,
            action_updates::kind,
            action_updates::at,
            action_updates::id,
        ))
        .load(conn)?;
    // An answer is only ever given to a request already made, so at the same instant the
    // answer comes after the request (ids written before they were time-ordered are random).
    rows.sort_by(|a, b| (a.2, a.1 != ASKED, &a.3).cmp(&(b.2, b.1 != ASKED, &b.3)));
    let mut waiting = HashSet::new();
    for (action, kind, _, _) in rows {
        if kind == ASKED {
            waiting.insert(action);
        } else {
            waiting.remove(&action);
        }
    }
    Ok(waiting)
}

/// The id of the user who answers for an action: the chair of the meeting that agreed it, else
/// whoever agreed it.
pub fn answerable_id(
    conn: &mut DbConn,
    action: &AgreedActionRow,
) -> Result<Option<String>, AppError> {
    let chair: Option<String> = match &action.meeting_id {
        Some(m) => meetings::table
            .find(m)
            .select(meetings::chair_user_id)
            .get_result(conn)
            .optional()?,
        None => None,
    };
    Ok(chair.or(action.created_by.clone()))
}

/// The user of the service who answers for an action: the chair of the meeting that agreed
/// it, else whoever agreed it on the case page or through the API.
pub fn answerable(
    conn: &mut DbConn,
    action: &AgreedActionRow,
) -> Result<Option<UserRow>, AppError> {
    let Some(id) = answerable_id(conn, action)? else {
        return Ok(None);
    };
    Ok(users::table
        .find(&id)
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The chair who hears of an owner's news: the one who answers for the action, while active
/// and, on a restricted case, still named on it. Nobody, otherwise: then a request for more
/// time holds nothing back (the escalation goes as usual).
pub fn chair_to_tell(
    conn: &mut DbConn,
    action: &AgreedActionRow,
) -> Result<Vec<UserRow>, AppError> {
    let Some(chair) = answerable(conn, action)? else {
        return Ok(Vec::new());
    };
    let restricted: bool = cases::table
        .find(&action.case_id)
        .select(cases::restricted)
        .get_result(conn)?;
    if restricted {
        super::case_access::only_named(conn, &action.case_id, vec![chair])
    } else {
        Ok(vec![chair])
    }
}

/// What an owner did through their link that the chair must hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerNews {
    AskedForMoreTime,
    MarkedDone,
}

/// One email to the chair who answers for the action, when its owner asks for more time or
/// marks it done. The owner's note stays on the case page: it is free text, and could name the
/// child. A restricted case's chair hears only while they are still named on it.
pub fn tell_chair(
    svc: &Services,
    conn: &mut DbConn,
    action: &AgreedActionRow,
    news: OwnerNews,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let reference: String = cases::table
        .find(&action.case_id)
        .select(cases::reference)
        .get_result(conn)?;
    for chair in chair_to_tell(conn, action)? {
        svc.mailer.queue(
            conn,
            "action_news",
            Some(&action.case_id),
            &chair.email,
            Language::parse(&chair.language).unwrap_or(Language::English),
            |lang| {
                json!({
                    "chair_name": chair.name, "reference": reference,
                    "title": svc.engine.action_title(action.kind.as_deref(), &action.title, lang),
                    "owner_name": action.owner_name,
                    "more_time": news == OwnerNews::AskedForMoreTime,
                    "due": long_date(action.due_date, lang),
                    "case_url": format!("{}/cases/{}#actions", svc.mailer.public_url, reference),
                })
            },
            now,
        )?;
    }
    Ok(())
}

/// The owner hears the chair's answer to their request, with the new date if it was given and
/// the reason if it was not, and their link to the action.
pub fn tell_owner(
    svc: &Services,
    conn: &mut DbConn,
    reference: &str,
    action: &AgreedActionRow,
    granted: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(email) = action.owner_email.as_deref() else {
        return Ok(());
    };
    let (url, expires) = super::action::owner_link(svc, &action.case_id, email, now);
    let preferred = super::action::language_of(conn, &action.case_id, email)?;
    svc.mailer.queue(
        conn,
        "action_more_time",
        Some(&action.case_id),
        email,
        preferred,
        |lang| {
            json!({
                "owner_name": action.owner_name, "reference": reference,
                "title": svc.engine.action_title(action.kind.as_deref(), &action.title, lang),
                "granted": granted, "reason": reason,
                "due": long_date(action.due_date, lang),
                "due_by": wales::date_in_sentence(action.due_date, wales::Before::By, lang),
                "actions_url": url,
                "link_until": wales::date_in_sentence(london_date(expires), wales::Before::Until, lang),
            })
        },
        now,
    )
}
