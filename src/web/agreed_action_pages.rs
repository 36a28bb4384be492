//! Agreed actions on the case page: agreeing one outside a meeting, and changing one (a note,
//! done, more time, passing it to someone else, cancelling), each with its updates; an owner's
//! request for more time is flagged, and the chair answers it here. The rules are the domain's
//! (`agreed_action`); these pages only read the forms and show what was refused, at its field.
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::case_pages::case_data;
use super::forms::{self, first, Submitted};
use super::{see_other, WebUser};
use crate::app::AppState;
use crate::domain::agreed_action::{self, ActionChange, NewAction};
use crate::domain::{form_token, more_time, unit_of_work};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::identity::RoleName;
use crate::storage::models::{AgreedActionRow, CaseRow};
use crate::storage::DbConn;
use crate::time::wales;

/// Which form was sent: the one that agrees a new action, or one action's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    New,
    Action(String),
}

impl Which {
    fn prefix(&self) -> String {
        match self {
            Which::New => "new-action-".into(),
            Which::Action(id) => format!("act-{id}-"),
        }
    }
}

/// A form refused: which, what was typed, and the refusal.
pub(super) struct Refused<'a> {
    which: &'a Which,
    form: &'a Submitted,
    error: &'a AppError,
}

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

fn manages(role: RoleName) -> bool {
    matches!(
        role,
        RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
    )
}

/// The input an error belongs to, among a form's inputs.
fn input_of(field: &str) -> &str {
    match field {
        "rationale" => "note",
        "status" | "more_time" => "choice",
        "owner_user_id" | "confirm_addresses_rationale" => "owner_email",
        other => other,
    }
}

/// The case page's actions: each with its tags, its updates and its forms.
pub(super) fn actions_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    case: &CaseRow,
    lang: &str,
    refused: Option<&Refused<'_>>,
) -> Result<Value, AppError> {
    let engine = &state.services.engine;
    let today = state.services.today();
    let lang_of = language(lang);
    let views = agreed_action::list(conn, case, today)?;
    let ids: Vec<&str> = views.iter().map(|v| v.action.id.as_str()).collect();
    let waiting = more_time::waiting(conn, &ids)?;
    let rows: Vec<AgreedActionRow> = {
        use crate::storage::schema::agreed_actions;
        use diesel::prelude::*;
        agreed_actions::table
            .filter(agreed_actions::case_id.eq(&case.id))
            .select(AgreedActionRow::as_select())
            .load(conn)?
    };
    let may_manage = manages(user.actor.role);
    // What the refused form showed, and the message at its field.
    let typed = |which: &Which| refused.filter(|r| r.which == which).map(|r| r.form);
    let error_at = |which: &Which, input: &str| -> Value {
        refused
            .filter(|r| r.which == which)
            .filter(|r| r.error.field().map(input_of).unwrap_or("note") == input)
            .map(|r| json!(super::error_text(state, lang, r.error)))
            .unwrap_or(Value::Null)
    };
    let text = |f: Option<&Submitted>, name: &str| {
        f.and_then(|f| first(f, name)).unwrap_or("").to_string()
    };
    let mut errors = Vec::new();
    if let Some(r) = refused {
        errors.push(json!({
            "id": format!("{}{}", r.which.prefix(), r.error.field().map(input_of).unwrap_or("note")),
            "message": super::error_text(state, lang, r.error),
        }));
    }
    let list: Vec<Value> = views
        .iter()
        .map(|v| {
            let a = &v.action;
            let which = Which::Action(a.id.clone());
            let row = rows.iter().find(|r| r.id == a.id);
            let typed = typed(&which);
            let owns = a.owner_user_id.as_deref() == Some(user.actor.id.as_str());
            let choice = text(typed, "choice");
            let choice = if choice.is_empty() { "note".to_string() } else { choice };
            let choices: Vec<Value> = ["note", "done", "more_time", "reassign", "cancel"]
                .iter()
                .filter(|c| may_manage || matches!(**c, "note" | "done"))
                .filter(|c| **c != "cancel" || a.cancellable)
                .map(|c| json!({"value": c, "label": state.pages.word(lang, &format!("action_choice_{c}")), "checked": choice == *c}))
                .collect();
            let answer = text(typed, "answer");
            json!({
                "id": a.id, "prefix": which.prefix(),
                "title": engine.action_title(a.kind.as_deref(), &a.title, lang_of),
                "owner_name": a.owner_name,
                "owner_email": row.and_then(|r| r.owner_email.clone()),
                "due_date": wales::long_date(a.due_date, lang_of),
                "status": state.pages.word(lang, &format!("status_{}", a.status)),
                "status_colour": super::case_pages::status_colour(&a.status),
                "open": a.status == "open",
                "overdue": a.overdue,
                "working_days_overdue": if a.overdue { engine.calendar.working_days_between(a.due_date, today) } else { 0 },
                "escalated": row.is_some_and(|r| r.escalated_at.is_some()),
                "more_time_waiting": waiting.contains(&a.id),
                "may_change": a.status == "open" && (may_manage || owns),
                "may_answer": a.status == "open" && may_manage && waiting.contains(&a.id),
                "updates": v.updates.iter().map(|u| json!({
                    "at": wales::date_time(u.at, lang_of), "by": u.by_name, "note": u.note,
                    "kind": state.pages.word(lang, &format!("update_kind_{}", u.kind)),
                    "status": u.new_status.as_ref().map(|s| state.pages.word(lang, &format!("status_{s}"))),
                })).collect::<Vec<_>>(),
                "form": {
                    "open": typed.is_some(),
                    "choices": choices,
                    "note": text(typed, "note"),
                    "owner_name": text(typed, "owner_name"), "owner_email": text(typed, "owner_email"),
                    "due": date_input(typed, &which, "due_date", &state.pages.word(lang, "action_new_due"), &error_at),
                    "answer_due": date_input(typed, &which, "due_date", &state.pages.word(lang, "due_date"), &error_at),
                    "grant": answer != "refused", "refuse": answer == "refused",
                    "errors": {
                        "choice": error_at(&which, "choice"), "note": error_at(&which, "note"),
                        "owner_name": error_at(&which, "owner_name"), "owner_email": error_at(&which, "owner_email"),
                    },
                    "form_token": forms::one_time_token(typed),
                },
            })
        })
        .collect();
    let new = Which::New;
    let typed_new = typed(&new);
    let chosen = text(typed_new, "agency");
    let agencies = forms::agency_choices(
        &engine.agencies.current(),
        "new-action-agency",
        lang == "cy",
        &|code| code == chosen,
    );
    Ok(json!({
        "list": list,
        "may_agree": may_manage && case.status == "open",
        "errors": errors,
        "new": {
            "open": typed_new.is_some(),
            "title": text(typed_new, "title"),
            "owner_name": text(typed_new, "owner_name"), "owner_email": text(typed_new, "owner_email"),
            "agencies": agencies,
            "due": date_input(typed_new, &new, "due_date",
                &format!("{} {}", state.pages.word(lang, "due_date"), state.pages.word(lang, "optional")), &error_at),
            "errors": {
                "title": error_at(&new, "title"), "owner_name": error_at(&new, "owner_name"),
                "owner_email": error_at(&new, "owner_email"), "agency": error_at(&new, "agency"),
            },
            "form_token": forms::one_time_token(typed_new),
        },
    }))
}

fn date_input(
    typed: Option<&Submitted>,
    which: &Which,
    name: &str,
    legend: &str,
    error_at: &dyn Fn(&Which, &str) -> Value,
) -> Value {
    let mut v = forms::date_parts(typed, name, None);
    v["id"] = json!(format!("{}{name}", which.prefix()));
    v["name"] = json!(name);
    v["legend"] = json!(legend);
    v["error"] = error_at(which, name);
    v
}

fn text(form: &Submitted, name: &str) -> String {
    first(form, name).unwrap_or("").trim().to_string()
}

fn optional(form: &Submitted, name: &str) -> Option<String> {
    Some(text(form, name)).filter(|v| !v.is_empty())
}

fn new_action_from(form: &Submitted) -> Result<NewAction, AppError> {
    let due = forms::date_from(form, "due_date", "due_date")?;
    Ok(NewAction {
        title: text(form, "title"),
        owner_name: text(form, "owner_name"),
        owner_email: optional(form, "owner_email"),
        owner_user_id: None,
        agency: optional(form, "agency"),
        due_date: due.map(|d| d.to_string()),
        due_working_days: None,
        confirm_addresses_rationale: None,
    })
}

/// The change a form asks for, and the confirmation it earns.
fn change_from(form: &Submitted) -> Result<(ActionChange, &'static str), AppError> {
    let due = forms::date_from(form, "due_date", "due_date")?.map(|d| d.to_string());
    let note = text(form, "note");
    let mut change = ActionChange {
        note: note.clone(),
        status: None,
        rationale: None,
        due_date: None,
        more_time: None,
        owner_name: None,
        owner_email: None,
        owner_user_id: None,
        confirm_addresses_rationale: optional(form, "confirm_addresses_rationale"),
    };
    if first(form, "answering").is_some() {
        let answer = text(form, "answer");
        change.due_date = if answer == "granted" { due } else { None };
        change.more_time = Some(answer);
        return Ok((change, "more_time_answered"));
    }
    match text(form, "choice").as_str() {
        "" | "note" => {}
        "done" => change.status = Some("done".into()),
        "more_time" => {
            if due.is_none() {
                return Err(AppError::unprocessable(
                    "due_date_required",
                    "due_date",
                    "giving more time needs the new due date",
                ));
            }
            change.due_date = due;
        }
        "reassign" => {
            change.owner_name = Some(text(form, "owner_name"));
            change.owner_email = Some(text(form, "owner_email"));
        }
        "cancel" => {
            change.status = Some("cancelled".into());
            change.rationale = Some(note);
        }
        _ => {
            return Err(AppError::bad_request(
                "invalid_choice",
                "choice",
                "choose what to do with the action",
            ))
        }
    }
    Ok((change, "action_changed"))
}

async fn on_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: String,
    form: Submitted,
    which: Which,
) -> Result<HttpResponse, AppError> {
    let (user, page) =
        match super::signed_in_post(&req, &state, &form, format!("/cases/{key}")).await {
            Ok(signed) => signed,
            Err(refused) => return Ok(refused),
        };
    if first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let token = text(&form, "form_token");
    let path = req.path().to_string();
    let actor = user.actor.clone();
    let lang = page.lang.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        let attempt = unit_of_work::on_case(conn, &intent, &actor, &key, |conn, c| {
            // Sent twice (a double click): the second finds the token claimed, and changes nothing.
            form_token::claim(conn, &token, &actor.id, intent.now.naive_utc())?;
            let done = match &which {
                Which::New => {
                    agreed_action::create(
                        conn,
                        &s.services,
                        &actor,
                        c,
                        &new_action_from(&form)?,
                        intent.now,
                    )?;
                    "action_agreed"
                }
                Which::Action(id) => {
                    let (change, done) = change_from(&form)?;
                    agreed_action::change(conn, &s.services, &actor, c, id, &change, intent.now)?;
                    done
                }
            };
            form_token::finish(conn, &token, &c.reference)?;
            Ok((c.reference.clone(), done))
        });
        match attempt {
            Ok(done) => Ok(Ok(done)),
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Ok((key.clone(), "action_changed"))),
            Err(AppError::NotFound("case")) => Err(AppError::NotFound("case")),
            Err(e) => unit_of_work::reading_case(conn, &intent, &actor, &key, |conn, c| {
                let web_user = WebUser {
                    row: user.row.clone(),
                    actor: actor.clone(),
                    csrf: user.csrf.clone(),
                };
                let mut data = case_data(s, conn, &web_user, c, &lang, None)?;
                let refused = Refused {
                    which: &which,
                    form: &form,
                    error: &e,
                };
                let actions = actions_data(s, conn, &web_user, c, &lang, Some(&refused))?;
                data["errors"] = actions["errors"].clone();
                data["actions"] = actions;
                Ok(Err((e.status_code(), data)))
            }),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok((reference, done))) => see_other(&format!("/cases/{reference}?done={done}#actions")),
        Ok(Err((status, data))) => super::page_response(&state, "case", &page, status, data),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn agree(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    on_action(state, req, key.into_inner(), form.into_inner(), Which::New).await
}

pub async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    ids: web::Path<(String, String)>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (key, id) = ids.into_inner();
    on_action(state, req, key, form.into_inner(), Which::Action(id)).await
}
