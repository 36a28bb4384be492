//! Contexts in the pages: the list of those the reader may see with the form to record one
//! (`/contexts`), and a context's page (`/contexts/{context}`) with the children linked to it
//! that the reader may see, the form to link a child and, beside each link, the form to end
//! it; then the context's own actions, the form to agree one and, beside each open one, the
//! form to close it. A refused form comes back as its page with the message at its field and
//! what was typed.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{self, first, Submitted};
use super::{see_other, signed_in, WebUser};
use crate::app::AppState;
use crate::domain::context::{self, EndLink, NewContext, NewLink, KINDS};
use crate::domain::context_action::{self, CloseContextAction, NewContextAction};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::storage::DbConn;
use crate::time::wales;

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

fn text(form: &Submitted, name: &str) -> String {
    first(form, name).unwrap_or("").trim().to_string()
}

/// The input an error belongs to, on the form that was sent: the field's, else the form's
/// first input (a refusal of the whole form, such as a role's).
fn input_of(prefix: &str, field: Option<&str>) -> String {
    let first = match prefix {
        "new-" => "kind",
        "link-" => "case",
        "action-" => "title",
        p if p.starts_with("close-") => "status",
        _ => "reason",
    };
    format!("{prefix}{}", field.unwrap_or(first))
}

struct Refused<'a> {
    /// The prefix of the form's inputs: `new-` for a new context, `link-` for a link,
    /// `end-{link id}-` for ending one, `action-` for a new action and `close-{action id}-`
    /// for closing one.
    prefix: String,
    form: &'a Submitted,
    error: &'a AppError,
}

fn typed(refused: Option<&Refused<'_>>, prefix: &str, name: &str) -> String {
    refused
        .filter(|r| r.prefix == prefix)
        .map(|r| text(r.form, name))
        .unwrap_or_default()
}

/// The reader's words for a refusal: the context form's own for its name (a user's form also
/// has a `name`, worded for a person), else the service's words for the code.
fn message(state: &AppState, lang: &str, e: &AppError) -> String {
    match (e.field(), e.code()) {
        (Some("name"), "required") => state.pages.word(lang, "context_name_required"),
        (Some("name"), "too_long") => state.pages.word(lang, "context_name_too_long"),
        _ => super::error_text(state, lang, e),
    }
}

fn error_at(state: &AppState, lang: &str, refused: Option<&Refused<'_>>, input: &str) -> Value {
    refused
        .filter(|r| input_of(&r.prefix, r.error.field()) == input)
        .map(|r| json!(message(state, lang, r.error)))
        .unwrap_or(Value::Null)
}

fn summary(state: &AppState, lang: &str, refused: Option<&Refused<'_>>) -> Value {
    match refused {
        Some(r) => json!([{
            "id": input_of(&r.prefix, r.error.field()),
            "message": message(state, lang, r.error),
        }]),
        None => json!([]),
    }
}

fn kind_word(state: &AppState, lang: &str, kind: &str) -> String {
    state.pages.word(lang, &format!("context_kind_{kind}"))
}

fn list_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    path: &str,
    lang: &str,
    refused: Option<&Refused<'_>>,
) -> Result<Value, AppError> {
    let svc = &state.services;
    let intent = svc.intent(&user.actor.id, path);
    let rows = context::list(svc, conn, &intent, &user.actor)?;
    let sees_persons = context::sees_persons_of_concern(conn, &user.actor)?;
    let chosen = typed(refused, "new-", "kind");
    Ok(json!({
        "title": state.pages.word(lang, "contexts"),
        "contexts": rows.iter().map(|c| json!({
            "id": c.id, "reference": c.reference, "name": c.name, "kind": kind_word(state, lang, &c.kind),
        })).collect::<Vec<_>>(),
        "kinds": KINDS.iter().filter(|k| sees_persons || **k != "person_of_concern").enumerate().map(|(i, k)| json!({
            "id": if i == 0 { "new-kind".to_string() } else { format!("new-kind-{k}") },
            "value": k, "label": kind_word(state, lang, k), "checked": chosen == *k,
        })).collect::<Vec<_>>(),
        "new": {
            "open": refused.is_some(),
            "name": typed(refused, "new-", "name"), "description": typed(refused, "new-", "description"),
            "errors": {
                "kind": error_at(state, lang, refused, "new-kind"),
                "name": error_at(state, lang, refused, "new-name"),
                "description": error_at(state, lang, refused, "new-description"),
            },
        },
        "errors": summary(state, lang, refused),
    }))
}

fn context_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    key: &str,
    path: &str,
    lang: &str,
    refused: Option<&Refused<'_>>,
) -> Result<Value, AppError> {
    let svc = &state.services;
    let intent = svc.intent(&user.actor.id, path);
    let view = context::read(svc, conn, &intent, &user.actor, key)?;
    let l = language(lang);
    let when = |t: chrono::DateTime<chrono::Utc>| wales::date_time(t, l);
    let authority = svc
        .engine
        .agencies
        .current()
        .get(&view.authority)
        .map(|a| match l {
            Language::Welsh => a.name_cy.clone(),
            Language::English => a.name_en.clone(),
        })
        .unwrap_or_else(|| view.authority.clone());
    Ok(json!({
        "title": format!("{} {}", state.pages.word(lang, "context"), view.reference),
        "context": {
            "id": view.id, "reference": view.reference, "name": view.name, "description": view.description,
            "kind": kind_word(state, lang, &view.kind), "authority": authority, "created": when(view.created_at),
        },
        "children": view.children.iter().map(|c| {
            let prefix = format!("end-{}-", c.link_id);
            json!({
                "link_id": c.link_id, "reference": c.reference, "child_name": c.child_name,
                "reason": c.reason, "information": c.information, "linked_by": c.linked_by,
                "linked_at": when(c.linked_at), "ended_at": c.ended_at.map(when), "end_reason": c.end_reason,
                "end": {
                    "open": refused.is_some_and(|r| r.prefix == prefix),
                    "reason": typed(refused, &prefix, "reason"),
                    "error": error_at(state, lang, refused, &format!("{prefix}reason")),
                },
            })
        }).collect::<Vec<_>>(),
        "link": {
            "open": refused.is_some_and(|r| r.prefix == "link-"),
            "case": typed(refused, "link-", "case"), "reason": typed(refused, "link-", "reason"),
            "information": typed(refused, "link-", "information"),
            "errors": {
                "case": error_at(state, lang, refused, "link-case"),
                "reason": error_at(state, lang, refused, "link-reason"),
                "information": error_at(state, lang, refused, "link-information"),
            },
        },
        "actions": actions_data(state, lang, user, &view.actions, refused),
        "meetings": view.meetings.iter().map(|m| json!({
            "id": m.id, "kind": crate::domain::meeting::kind_name(&svc.engine, &m.kind, l),
            "starts": when(m.starts_at), "status": state.pages.word(lang, &format!("status_{}", m.status)),
            "summary": m.record_summary,
        })).collect::<Vec<_>>(),
        "may_convene": crate::domain::meeting::may_convene(&user.actor).is_ok(),
        "may_agree": context_action::may_agree(&user.actor),
        "new_action": new_action_data(state, lang, refused),
        "errors": summary(state, lang, refused),
    }))
}

fn actions_data(
    state: &AppState,
    lang: &str,
    user: &WebUser,
    actions: &[context_action::ContextActionView],
    refused: Option<&Refused<'_>>,
) -> Vec<Value> {
    let l = language(lang);
    let agencies = state.services.engine.agencies.current();
    actions
        .iter()
        .map(|a| {
            let prefix = format!("close-{}-", a.id);
            let chosen = typed(refused, &prefix, "status");
            json!({
                "id": a.id, "title": a.title, "disruption": a.disruption,
                "owner_name": a.owner_name, "owner_email": a.owner_email,
                "agency": a.agency.as_deref().and_then(|c| agencies.get(c)).map(|ag| match l {
                    Language::Welsh => ag.name_cy.clone(),
                    Language::English => ag.name_en.clone(),
                }),
                "due": wales::long_date(a.due_date, l), "overdue": a.overdue,
                "status": state.pages.word(lang, &format!("status_{}", a.status)),
                "open": a.status == context_action::OPEN,
                "agreed_by": a.agreed_by, "agreed_at": wales::date_time(a.agreed_at, l),
                "closed_at": a.closed_at.map(|t| wales::date_time(t, l)), "close_note": a.close_note,
                "may_close": a.status == context_action::OPEN && context_action::may_close(&user.actor, a),
                "close": {
                    "open": refused.is_some_and(|r| r.prefix == prefix),
                    "done": chosen != context_action::CANCELLED,
                    "cancelled": chosen == context_action::CANCELLED,
                    "note": typed(refused, &prefix, "note"),
                    "errors": {
                        "status": error_at(state, lang, refused, &format!("{prefix}status")),
                        "note": error_at(state, lang, refused, &format!("{prefix}note")),
                    },
                },
            })
        })
        .collect()
}

fn new_action_data(state: &AppState, lang: &str, refused: Option<&Refused<'_>>) -> Value {
    let mine = refused.filter(|r| r.prefix == "action-");
    let chosen_agency = typed(refused, "action-", "agency");
    let mut due = forms::date_parts(mine.map(|r| r.form), "due_date", None);
    due["id"] = json!("action-due_date");
    due["name"] = json!("due_date");
    due["legend"] = json!(format!(
        "{} {}",
        state.pages.word(lang, "due_date"),
        state.pages.word(lang, "optional")
    ));
    due["error"] = error_at(state, lang, refused, "action-due_date");
    json!({
        "open": mine.is_some(),
        "title": typed(refused, "action-", "title"),
        "disruption": !typed(refused, "action-", "disruption").is_empty(),
        "owner_name": typed(refused, "action-", "owner_name"),
        "owner_email": typed(refused, "action-", "owner_email"),
        "agencies": forms::agency_choices(
            &state.services.engine.agencies.current(),
            "action-agency",
            lang == "cy",
            &|code| code == chosen_agency,
        ),
        "due": due,
        "form_token": forms::one_time_token(mine.map(|r| r.form)),
        "errors": {
            "title": error_at(state, lang, refused, "action-title"),
            "owner_name": error_at(state, lang, refused, "action-owner_name"),
            "owner_email": error_at(state, lang, refused, "action-owner_email"),
            "agency": error_at(state, lang, refused, "action-agency"),
            "confirm_addresses_rationale": error_at(state, lang, refused, "action-confirm_addresses_rationale"),
        },
        "confirm_addresses_rationale": typed(refused, "action-", "confirm_addresses_rationale"),
    })
}

pub async fn contexts_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let (lang, path) = (page.lang.clone(), req.path().to_string());
    let notice = super::done_notice(&state, &req, &page);
    let data = with_conn(&state, move |s, conn| {
        list_data(s, conn, &user, &path, &lang, None)
    })
    .await;
    Ok(match data {
        Ok(mut d) => {
            d["notice"] = json!(notice);
            super::page_response(&state, "contexts", &page, StatusCode::OK, d)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn context_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let (lang, path, key) = (page.lang.clone(), req.path().to_string(), key.into_inner());
    let notice = super::done_notice(&state, &req, &page);
    let data = with_conn(&state, move |s, conn| {
        context_data(s, conn, &user, &key, &path, &lang, None)
    })
    .await;
    Ok(match data {
        Ok(mut d) => {
            d["notice"] = json!(notice);
            super::page_response(&state, "context", &page, StatusCode::OK, d)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn record_context(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match super::signed_in_post(&req, &state, &form, "/contexts".into()).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let (lang, path) = (page.lang.clone(), req.path().to_string());
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        let asked = NewContext {
            kind: text(&form, "kind"),
            name: text(&form, "name"),
            description: text(&form, "description"),
        };
        match context::create(&s.services, conn, &intent, &user.actor, &asked) {
            Ok(row) => Ok(Ok(row.reference)),
            Err(e) => {
                let refused = Refused {
                    prefix: "new-".into(),
                    form: &form,
                    error: &e,
                };
                let data = list_data(s, conn, &user, "/contexts", &lang, Some(&refused))?;
                Ok(Err((e.status_code(), data)))
            }
        }
    })
    .await?;
    Ok(match outcome {
        Ok(reference) => see_other(&format!("/contexts/{reference}?done=context_recorded")),
        Err((status, data)) => super::page_response(&state, "contexts", &page, status, data),
    })
}

/// Which form of a context's page was sent.
enum OnContext {
    Link,
    EndLink(String),
    Action,
    CloseAction(String),
}

fn optional(form: &Submitted, name: &str) -> Option<String> {
    Some(text(form, name)).filter(|v| !v.is_empty())
}

/// A form on a context's page: link a child, end a link, agree an action or close one.
async fn on_context(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: String,
    form: Submitted,
    which: OnContext,
) -> Result<HttpResponse, AppError> {
    let back = format!("/contexts/{key}");
    let (user, page) = match super::signed_in_post(&req, &state, &form, back.clone()).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if matches!(which, OnContext::Action)
        && first(&form, "form_token").is_none_or(|t| t.len() != 64)
    {
        return Ok(super::refused_csrf(&state, &page));
    }
    let (lang, path) = (page.lang.clone(), req.path().to_string());
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        let (attempt, prefix) = match &which {
            OnContext::Link => {
                let asked = NewLink {
                    case: text(&form, "case"),
                    reason: text(&form, "reason"),
                    information: text(&form, "information"),
                };
                (
                    context::link(&s.services, conn, &intent, &user.actor, &key, &asked)
                        .map(|_| "context_linked"),
                    "link-".to_string(),
                )
            }
            OnContext::EndLink(link) => {
                let asked = EndLink {
                    reason: text(&form, "reason"),
                };
                (
                    context::end_link(&s.services, conn, &intent, &user.actor, &key, link, &asked)
                        .map(|_| "context_link_ended"),
                    format!("end-{link}-"),
                )
            }
            OnContext::Action => (
                forms::date_from(&form, "due_date", "due_date").and_then(|due| {
                    let asked = NewContextAction {
                        title: text(&form, "title"),
                        disruption: first(&form, "disruption").is_some(),
                        owner_name: text(&form, "owner_name"),
                        owner_email: optional(&form, "owner_email"),
                        owner_user_id: None,
                        agency: optional(&form, "agency"),
                        due_date: due.map(|d| d.to_string()),
                        due_working_days: None,
                        confirm_addresses_rationale: optional(&form, "confirm_addresses_rationale"),
                    };
                    let token = text(&form, "form_token");
                    context_action::agree(
                        &s.services,
                        conn,
                        &intent,
                        &user.actor,
                        &key,
                        &asked,
                        Some(&token),
                    )
                    .map(|_| "context_action_agreed")
                }),
                "action-".to_string(),
            ),
            OnContext::CloseAction(id) => {
                let asked = CloseContextAction {
                    status: text(&form, "status"),
                    note: text(&form, "note"),
                };
                (
                    context_action::close(conn, &intent, &user.actor, &key, id, &asked)
                        .map(|_| "context_action_closed"),
                    format!("close-{id}-"),
                )
            }
        };
        match attempt {
            Ok(done) => Ok(Ok(done)),
            // Sent twice (a double click): the first made it; show where it led.
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Ok("form_already_sent")),
            Err(AppError::NotFound(what)) => Err(AppError::NotFound(what)),
            Err(e) => {
                let refused = Refused {
                    prefix,
                    form: &form,
                    error: &e,
                };
                let at = format!("/contexts/{key}");
                let data = context_data(s, conn, &user, &key, &at, &lang, Some(&refused))?;
                Ok(Err((e.status_code(), data)))
            }
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(done)) => see_other(&format!("{back}?done={done}")),
        Ok(Err((status, data))) => super::page_response(&state, "context", &page, status, data),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn link_child(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    on_context(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        OnContext::Link,
    )
    .await
}

pub async fn end_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (key, link) = path.into_inner();
    on_context(state, req, key, form.into_inner(), OnContext::EndLink(link)).await
}

pub async fn agree_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    on_context(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        OnContext::Action,
    )
    .await
}

pub async fn close_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (key, action) = path.into_inner();
    on_context(
        state,
        req,
        key,
        form.into_inner(),
        OnContext::CloseAction(action),
    )
    .await
}
