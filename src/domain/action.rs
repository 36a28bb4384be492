//! Agreed actions after they are agreed: the email each owner gets, and what an owner without
//! an account can do through the signed link in it (see their own actions on that one case, add
//! an update, mark one done). Nothing else.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access_log::Access;
use super::unit_of_work;
use super::Services;
use crate::domain::audit;
use crate::error::AppError;
use crate::i18n::Language;
use crate::mail::links::Purpose;
use crate::mail::{message, outbox};
use crate::storage::models::{ActionUpdateRow, AgreedActionRow, CaseRow};
use crate::storage::schema::{
    action_updates, agreed_actions, cases, meeting_cases, meeting_invitees,
};
use crate::storage::DbConn;
use crate::time::wales;
use crate::time::wales::london_date;
use crate::time::wales::long_date;

/// How long an owner's link works: long enough to see an action through (assumption: 60 days).
pub const LINK_DAYS: i64 = 60;

/// The reader's language: what they chose as a meeting invitee on this case, else English.
pub fn language_of(conn: &mut DbConn, case_id: &str, email: &str) -> Result<Language, AppError> {
    let lang: Option<String> = meeting_invitees::table
        .inner_join(
            meeting_cases::table.on(meeting_cases::meeting_id.eq(meeting_invitees::meeting_id)),
        )
        .filter(meeting_cases::case_id.eq(case_id))
        .filter(meeting_invitees::email.eq(email))
        .select(meeting_invitees::language)
        .first(conn)
        .optional()?;
    Ok(lang
        .as_deref()
        .and_then(Language::parse)
        .unwrap_or(Language::English))
}

/// An owner's signed link to their actions on one case, and when it stops working.
pub fn owner_link(
    svc: &Services,
    case_id: &str,
    email: &str,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>) {
    let expires = now + chrono::Duration::days(LINK_DAYS);
    let token = svc.mailer.links.sign_at(
        Purpose::Actions,
        &format!("{case_id}:{email}"),
        now,
        expires,
    );
    (
        format!("{}/actions/{token}", svc.mailer.public_url),
        expires,
    )
}

/// Why an owner hears of their actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// Agreed at a step or meeting, or on the case page.
    Agreed,
    /// Passed to them from another owner.
    PassedToYou,
}

/// Queues one email per owner (with an address) listing the actions just agreed for them.
pub fn queue_owner_emails(
    svc: &super::Services,
    conn: &mut DbConn,
    case: &CaseRow,
    occasion: Occasion,
    actions: &[AgreedActionRow],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut owners: Vec<&str> = actions
        .iter()
        .filter_map(|a| a.owner_email.as_deref())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    let mailer = &svc.mailer;
    for email in owners {
        let mine: Vec<&AgreedActionRow> = actions
            .iter()
            .filter(|a| a.owner_email.as_deref() == Some(email))
            .collect();
        let owner_name = mine
            .first()
            .map(|a| a.owner_name.clone())
            .unwrap_or_default();
        let (url, expires) = owner_link(svc, &case.id, email, now);
        // Whom to ask about it: the chair who answers for the action, by name and address.
        let contact = match mine.first() {
            Some(a) => super::more_time::answerable(conn, a)?,
            None => None,
        };
        let preferred = language_of(conn, &case.id, email)?;
        let rendered = mailer.templates.render_bilingual("agreed_actions", preferred, |lang| {
            json!({
                "owner_name": owner_name, "passed": occasion == Occasion::PassedToYou, "references": case.reference,
                "contact_name": contact.as_ref().map(|c| c.name.clone()), "contact_email": contact.as_ref().map(|c| c.email.clone()),
                "actions": mine.iter().map(|a| json!({"title": svc.engine.action_title(a.kind.as_deref(), &a.title, lang),     "due": long_date(a.due_date, lang),
                    "due_by": wales::date_in_sentence(a.due_date, wales::Before::By, lang)})).collect::<Vec<_>>(),
                "actions_url": url, "link_expires": long_date(london_date(expires), lang),
                "link_until": wales::date_in_sentence(london_date(expires), wales::Before::Until, lang),
            })
        })?;
        let to: lettre::message::Mailbox = email.parse().map_err(|_| {
            AppError::Internal(format!("stored owner email {email:?} does not parse"))
        })?;
        let id = uuid::Uuid::new_v4().to_string();
        let raw = message::build(&mailer.from, &to, &mailer.message_id(&id), &rendered, None)?;
        outbox::enqueue(
            conn,
            &id,
            outbox::NewEmail {
                kind: "agreed_actions",
                meeting_id: mine.iter().find_map(|a| a.meeting_id.as_deref()),
                case_id: Some(&case.id),
                recipient: email,
                sender: mailer.from.email.as_ref(),
                subject: &rendered.subject,
                raw,
                not_before: now.naive_utc(),
            },
            now.naive_utc(),
        )?;
    }
    Ok(())
}

/// The case and owner a signed actions link names.
pub struct LinkHolder {
    pub case_id: String,
    pub email: String,
}

impl LinkHolder {
    pub fn from_subject(subject: &str) -> Option<LinkHolder> {
        let (case_id, email) = subject.split_once(':')?;
        Some(LinkHolder {
            case_id: case_id.to_string(),
            email: email.to_string(),
        })
    }
}

fn owned(conn: &mut DbConn, holder: &LinkHolder) -> Result<Vec<AgreedActionRow>, AppError> {
    Ok(agreed_actions::table
        .filter(agreed_actions::case_id.eq(&holder.case_id))
        .filter(agreed_actions::owner_email.eq(&holder.email))
        .filter(agreed_actions::status.ne("cancelled"))
        .order(agreed_actions::due_date)
        .select(AgreedActionRow::as_select())
        .load(conn)?)
}

/// How the owner's page is shown: where its form posts, what it says after a save, and which
/// language comes first (the owner's own choice unless they turned the page).
pub struct PageView<'a> {
    pub action_url: &'a str,
    pub message: Option<&'a str>,
    pub first: Option<Language>,
}

/// Values for the owner's page: their actions on that case and the updates to them; the case
/// reference, never the child's name.
pub fn page_data(
    svc: &Services,
    conn: &mut DbConn,
    path: &str,
    holder: &LinkHolder,
    view: &PageView<'_>,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let who = super::meeting::link_holder(&holder.email);
    let intent = svc.intent_at(&who, path, now);
    unit_of_work::read(conn, &intent, Access::Read, |conn, touched| {
        touched.case(&holder.case_id);
        owner_page(svc, conn, holder, view)
    })
}

fn owner_page(
    svc: &Services,
    conn: &mut DbConn,
    holder: &LinkHolder,
    view: &PageView<'_>,
) -> Result<Value, AppError> {
    let reference: String = cases::table
        .find(&holder.case_id)
        .select(cases::reference)
        .get_result(conn)?;
    let actions = owned(conn, holder)?;
    let ids: Vec<&str> = actions.iter().map(|a| a.id.as_str()).collect();
    let updates: Vec<ActionUpdateRow> = action_updates::table
        .filter(action_updates::action_id.eq_any(&ids))
        .order(action_updates::at)
        .select(ActionUpdateRow::as_select())
        .load(conn)?;
    let first = match view.first {
        Some(l) => l,
        None => language_of(conn, &holder.case_id, &holder.email)?,
    };
    let (en, cy) = (Language::English, Language::Welsh);
    let status = |s: &str, lang| svc.words.get(lang, &format!("status_{s}"));
    let mut page = json!({
        "reference": reference,
        "owner_name": actions.first().map(|a| a.owner_name.clone()).unwrap_or_default(),
        "message": view.message, "action": view.action_url,
        "actions": actions.iter().map(|a| json!({
            "id": a.id,
            "title_en": svc.engine.action_title(a.kind.as_deref(), &a.title, en),
            "title_cy": svc.engine.action_title(a.kind.as_deref(), &a.title, cy),
            "due_en": long_date(a.due_date, en), "due_cy": long_date(a.due_date, cy),
            "status_en": status(&a.status, en), "status_cy": status(&a.status, cy),
            "open": a.status == "open",
            "updates": updates.iter().filter(|u| u.action_id == a.id).map(|u| json!({
                "at_en": wales::date_time(u.at.and_utc(), en), "at_cy": wales::date_time(u.at.and_utc(), cy),
                "more_time": u.kind == "more_time_asked",
                "note": u.note,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    if let (Value::Object(p), Value::Object(o)) = (&mut page, crate::i18n::order(first)) {
        p.extend(o);
    }
    Ok(page)
}

#[derive(Debug, Deserialize)]
pub struct OwnerUpdate {
    pub action_id: String,
    pub note: String,
    /// `done` to close the action, `open` to add an update only, `more_time` to ask the chair
    /// for more time (the note is the reason).
    pub status: String,
}

/// An owner's update through their link: one of their own open actions on that case, audited
/// on the case like any other write.
pub fn update_from_link(
    svc: &Services,
    conn: &mut DbConn,
    path: &str,
    holder: &LinkHolder,
    update: &OwnerUpdate,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let who = super::meeting::link_holder(&holder.email);
    let intent = svc.intent_at(&who, path, now);
    unit_of_work::write(conn, &intent, |conn, touched| {
        touched.case(&holder.case_id);
        let note = update.note.trim();
        if note.is_empty() || note.chars().count() > 2000 {
            return Err(AppError::bad_request(
                "invalid_note",
                "note",
                "the update must be 1 to 2000 characters",
            ));
        }
        if !matches!(update.status.as_str(), "done" | "open" | "more_time") {
            return Err(AppError::bad_request(
                "invalid_choice",
                "status",
                "status must be done, open or more_time",
            ));
        }
        let asks_more_time = update.status == "more_time";
        let naive_now = now.naive_utc();
        {
            let action = owned(conn, holder)?
                .into_iter()
                .find(|a| a.id == update.action_id)
                .ok_or(AppError::NotFound("action"))?;
            if action.status != "open" {
                return Err(AppError::Conflict {
                    code: "action_closed",
                    message: format!("the action is already {}", action.status),
                });
            }
            let new_status = (update.status == "done").then(|| "done".to_string());
            diesel::insert_into(action_updates::table)
                .values(ActionUpdateRow {
                    // Time-ordered, so that updates in the same instant keep their order.
                    id: uuid::Uuid::now_v7().to_string(),
                    action_id: action.id.clone(),
                    case_id: action.case_id.clone(),
                    at: naive_now,
                    by_name: action.owner_name.clone(),
                    by_email: Some(holder.email.clone()),
                    by_user_id: None,
                    note: note.to_string(),
                    new_status: new_status.clone(),
                    kind: if asks_more_time {
                        super::more_time::ASKED
                    } else {
                        "note"
                    }
                    .to_string(),
                })
                .execute(conn)?;
            if asks_more_time {
                super::more_time::tell_chair(
                    svc,
                    conn,
                    &action,
                    super::more_time::OwnerNews::AskedForMoreTime,
                    now,
                )?;
            } else if new_status.is_some() {
                super::more_time::tell_chair(
                    svc,
                    conn,
                    &action,
                    super::more_time::OwnerNews::MarkedDone,
                    now,
                )?;
            }
            if let Some(s) = &new_status {
                diesel::update(agreed_actions::table.find(&action.id))
                    .set((
                        agreed_actions::status.eq(s),
                        agreed_actions::updated_at.eq(naive_now),
                    ))
                    .execute(conn)?;
            }
            // No account: the audit names the link holder by address.
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &action.case_id,
                &format!("link:{}", holder.email),
                if asks_more_time {
                    "action_more_time_asked"
                } else {
                    "action_updated"
                },
                json!({"action_id": action.id, "title": action.title, "note": note, "new_status": new_status}),
                naive_now,
            )?;
            Ok(())
        }
    })
}
