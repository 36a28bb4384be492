//! The administrators' retention page: closed cases past their retention period, by reference
//! and dates only, each to approve for destruction or to keep under a legal hold; and a form to
//! place a hold on any closed case. The destruction itself is the owner's command.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::administration::as_administrator;
use super::forms::first;
use super::see_other;
use crate::app::AppState;
use crate::domain::retention;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::time::wales;

fn page_data(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    lang: &str,
    errors: Value,
) -> Result<Value, AppError> {
    let language = if lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    };
    let today = state.services.today();
    let all = retention::closed_cases(&state.services, conn)?;
    let row = |h: &retention::Held| {
        let rule = state.services.retention.get(&h.rule);
        json!({
            "reference": h.reference,
            "reported": wales::long_date(h.reported, language),
            "closed": wales::long_date(h.closed, language),
            "until": wales::long_date(h.until, language),
            "kept_until": wales::date_in_sentence(h.until, wales::Before::Until, language),
            "rule": rule.map(|r| if lang == "cy" { r.title_cy.clone() } else { r.title_en.clone() }),
            "hold": h.legal_hold,
            "approved": h.approved.as_ref().map(|(by, at)| format!("{by}, {}", wales::date_time(at.and_utc(), language))),
        })
    };
    Ok(json!({
        "title": state.pages.word(lang, "retention"),
        "due": all.iter().filter(|h| h.until <= today).map(row).collect::<Vec<_>>(),
        "held": all.iter().filter(|h| h.until > today && h.legal_hold.is_some()).map(row).collect::<Vec<_>>(),
        "errors": errors,
        "typed_reference": "",
        "typed_reason": "",
    }))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let (_, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let lang = page.lang.clone();
    let notice = match req.query_string() {
        "done=approved" => json!(state.pages.word(&lang, "retention_done_approved")),
        "done=held" => json!(state.pages.word(&lang, "retention_done_held")),
        "done=released" => json!(state.pages.word(&lang, "retention_done_released")),
        _ => Value::Null,
    };
    let mut data = with_conn(&state, move |s, conn| page_data(s, conn, &lang, json!([]))).await?;
    data["notice"] = notice;
    Ok(super::page_response(
        &state,
        "admin_retention",
        &page,
        StatusCode::OK,
        data,
    ))
}

/// What a form does, given the reference typed and the reason (for a hold).
type Act = fn(
    &AppState,
    &mut crate::storage::DbConn,
    &crate::domain::unit_of_work::Intent<'_>,
    &str,
    Option<&str>,
) -> Result<(), AppError>;

/// One of the page's forms: do it, then back to the page, or the page with the problem.
async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
    done: &'static str,
    what: Act,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, mut page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    page.path = "/admin/retention".into();
    let lang = page.lang.clone();
    let path = req.path().to_string();
    let reference = first(&form, "reference").unwrap_or("").trim().to_string();
    let reason = first(&form, "reason").map(|r| r.trim().to_string());
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        match what(s, conn, &intent, &reference, reason.as_deref()) {
            Ok(()) => Ok(None),
            Err(e) if e.is_refusal() => {
                let status = actix_web::ResponseError::status_code(&e);
                let message = super::error_text(s, &lang, &e);
                let mut data = page_data(
                    s,
                    conn,
                    &lang,
                    json!([{"id": "hold-reference", "message": message}]),
                )?;
                data["typed_reference"] = json!(reference);
                data["typed_reason"] = json!(reason.unwrap_or_default());
                Ok(Some((status, data)))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(match outcome {
        None => see_other(&format!("/admin/retention?done={done}")),
        Some((status, data)) => {
            super::page_response(&state, "admin_retention", &page, status, data)
        }
    })
}

pub async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    act(
        state,
        req,
        form,
        "approved",
        |s, conn, intent, reference, _| retention::approve(&s.services, conn, intent, reference),
    )
    .await
}

pub async fn hold(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    act(
        state,
        req,
        form,
        "held",
        |s, conn, intent, reference, reason| {
            retention::set_hold(
                &s.services,
                conn,
                intent,
                reference,
                Some(reason.unwrap_or("")),
            )
        },
    )
    .await
}

pub async fn release(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    act(
        state,
        req,
        form,
        "released",
        |s, conn, intent, reference, _| {
            retention::set_hold(&s.services, conn, intent, reference, None)
        },
    )
    .await
}
