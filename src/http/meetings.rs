//! Meeting routes for signed-in users, and the public answer page reached from an email.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::auth::SignedIn;
use super::cases::{reading_case, with_conn};
use crate::app::AppState;
use crate::domain::meeting::{
    self, Answer, CancelRequest, MeetingRequest, RecordRequest, RescheduleRequest,
};
use crate::domain::unit_of_work::Intent;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::mail::links::{LinkError, Purpose};

fn intent<'a>(s: &'a AppState, actor: &'a Actor, path: &'a str) -> Intent<'a> {
    s.services.intent(&actor.id, path)
}

pub async fn create(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: crate::http::input::Json<MeetingRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        let id = meeting::schedule(
            &s.services,
            conn,
            &intent(s, &actor, &path),
            &actor,
            &body,
            None,
        )?;
        shown(&s.services.engine, conn, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The meeting as it is after a change the actor has just made (and which was logged).
fn shown(
    engine: &crate::engine::Engine,
    conn: &mut crate::storage::DbConn,
    actor: &Actor,
    id: &str,
) -> Result<serde_json::Value, AppError> {
    let seen = meeting::seen_meeting(conn, actor, id)?;
    meeting::view(engine, conn, &seen, actor)
}

pub async fn read(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        meeting::read(
            &s.services.engine,
            conn,
            &intent(s, &actor, &path),
            &actor,
            &id,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn reschedule(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: crate::http::input::Json<RescheduleRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        meeting::reschedule(
            &s.services,
            conn,
            &intent(s, &actor, &path),
            &actor,
            &id,
            &body,
            None,
        )?;
        shown(&s.services.engine, conn, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn cancel(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: crate::http::input::Json<CancelRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        meeting::cancel(
            &s.services,
            conn,
            &intent(s, &actor, &path),
            &actor,
            &id,
            &body,
            None,
        )?;
        shown(&s.services.engine, conn, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn record(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: crate::http::input::Json<RecordRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        meeting::record(
            &s.services,
            conn,
            &intent(s, &actor, &path),
            &actor,
            &id,
            &body,
        )?;
        shown(&s.services.engine, conn, &actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn suggested_invitees(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let list = reading_case(&state, actor, path, key.into_inner(), |s, conn, c| {
        meeting::suggested_invitees(&s.services.engine, conn, c)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "invitees": list })))
}

/// Mail that could not be delivered, for administrators.
fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) fn invalid_link(state: &AppState, e: LinkError) -> HttpResponse {
    let expired = e == LinkError::Expired;
    let body = state
        .services
        .mailer
        .templates
        .page(
            "link_invalid",
            &json!({ "expired": expired, "error": false, "first": "en", "second": "cy", "welsh_first": false }),
        )
        .unwrap_or_else(|_| "This link is not valid. / Nid yw’r ddolen hon yn ddilys.".into());
    let status = if expired {
        actix_web::http::StatusCode::GONE
    } else {
        actix_web::http::StatusCode::BAD_REQUEST
    };
    html(status, body)
}

/// The page an invitee reaches from their email. Showing it changes nothing (mail scanners
/// follow links); the answer is a POST.
pub async fn answer_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (invitee_id, browser) = match opened(&state, &req, &token, Purpose::Respond).await? {
        Ok(link) => link,
        Err(answer) => return Ok(answer),
    };
    let first = chosen_language(&req);
    let action = form_action("/respond", &token, first);
    let path = req.path().to_string();
    let page = with_conn(&state, move |s, conn| {
        let data =
            meeting::answer_page_data(&s.services, conn, &path, &invitee_id, &action, first)?;
        s.services.mailer.templates.page("respond", &data)
    })
    .await?;
    Ok(super::link_gate::remember(
        &state,
        &browser,
        html(actix_web::http::StatusCode::OK, page),
    ))
}

pub async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (invitee_id, browser) = match opened(&state, &req, &token, Purpose::Respond).await? {
        Ok(link) => link,
        Err(answer) => return Ok(answer),
    };
    let first = chosen_language(&req);
    let path = req.path().to_string();
    let page = with_conn(&state, move |s, conn| {
        let answer: Answer = form.read()?;
        let (invitee, refs) =
            meeting::record_answer(&s.services, conn, &path, &invitee_id, &answer)?;
        let (en, cy) = if invitee.response == "accepted" {
            ("attending", "yn bresennol")
        } else {
            ("not attending", "ddim yn bresennol")
        };
        let first = first
            .or_else(|| Language::parse(&invitee.language))
            .unwrap_or(Language::English);
        let mut data = json!({"answer_en": en, "answer_cy": cy, "references": refs});
        if let (Value::Object(d), Value::Object(o)) = (&mut data, crate::i18n::order(first)) {
            d.extend(o);
        }
        s.services.mailer.templates.page("respond_done", &data)
    })
    .await?;
    Ok(super::link_gate::remember(
        &state,
        &browser,
        html(actix_web::http::StatusCode::OK, page),
    ))
}

/// A partner page's `?lang=`: the reader's choice of which language comes first, kept on the
/// form it posts so the answer page keeps the same order.
fn chosen_language(req: &HttpRequest) -> Option<Language> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("lang").and_then(|l| Language::parse(l)))
}

fn form_action(base: &str, token: &str, first: Option<Language>) -> String {
    match first {
        Some(l) => format!("{base}/{token}?lang={}", l.code()),
        None => format!("{base}/{token}"),
    }
}

/// A signed link opened: whom it names and the browser, or the answer to give instead (the
/// link is not valid, or this browser must first type a code sent to that person).
async fn opened(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    token: &str,
    purpose: Purpose,
) -> Result<Result<(String, super::link_gate::Browser), HttpResponse>, AppError> {
    let subject = match state
        .services
        .mailer
        .links
        .verify(token, purpose, state.services.now())
    {
        Ok(subject) => subject,
        Err(e) => return Ok(Err(invalid_link(state, e))),
    };
    let browser = super::link_gate::browser(req);
    if let Some(code_page) = super::link_gate::gate(state, purpose, token, &browser).await? {
        return Ok(Err(super::link_gate::remember(state, &browser, code_page)));
    }
    Ok(Ok((subject, browser)))
}

/// An action owner's page, reached from their email without an account.
pub async fn actions_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (subject, browser) = match opened(&state, &req, &token, Purpose::Actions).await? {
        Ok(link) => link,
        Err(answer) => return Ok(answer),
    };
    let Some(holder) = crate::domain::action::LinkHolder::from_subject(&subject) else {
        return Ok(invalid_link(&state, LinkError::Invalid));
    };
    let first = chosen_language(&req);
    let action = form_action("/actions", &token, first);
    let path = req.path().to_string();
    let page = with_conn(&state, move |s, conn| {
        let data = crate::domain::action::page_data(
            &s.services,
            conn,
            &path,
            &holder,
            &crate::domain::action::PageView {
                action_url: &action,
                message: None,
                first,
            },
            s.services.now(),
        )?;
        s.services.mailer.templates.page("actions", &data)
    })
    .await?;
    Ok(super::link_gate::remember(
        &state,
        &browser,
        html(actix_web::http::StatusCode::OK, page),
    ))
}

pub async fn actions_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (subject, browser) = match opened(&state, &req, &token, Purpose::Actions).await? {
        Ok(link) => link,
        Err(answer) => return Ok(answer),
    };
    let Some(holder) = crate::domain::action::LinkHolder::from_subject(&subject) else {
        return Ok(invalid_link(&state, LinkError::Invalid));
    };
    let first = chosen_language(&req);
    let action = form_action("/actions", &token, first);
    let path = req.path().to_string();
    let page = with_conn(&state, move |s, conn| {
        let now = s.services.now();
        let update: crate::domain::action::OwnerUpdate = form.read()?;
        crate::domain::action::update_from_link(&s.services, conn, &path, &holder, &update, now)?;
        let data = crate::domain::action::page_data(
            &s.services,
            conn,
            &path,
            &holder,
            &crate::domain::action::PageView {
                action_url: &action,
                message: Some("Saved. / Wedi’i gadw."),
                first,
            },
            now,
        )?;
        s.services.mailer.templates.page("actions", &data)
    })
    .await?;
    Ok(super::link_gate::remember(
        &state,
        &browser,
        html(actix_web::http::StatusCode::OK, page),
    ))
}
