//! The person's own account page (sessions, tokens, signing out everywhere) and the
//! administrators' page: API tokens to revoke, mail that failed or is failing to retry, and
//! the latest security events. No case data on either: references and dates only.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{message_page, see_other, signed_in, PageContext};
use crate::app::AppState;
use crate::domain::{api_token, security_event, session};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::catalogue::Arg;
use crate::i18n::Language;
use crate::identity::RoleName;
use crate::time::wales;

pub(super) fn language(page: &PageContext) -> Language {
    if page.lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    }
}

pub async fn account(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let lang = language(&page);
    let id = user.row.id.clone();
    let (open, tokens, second_step) = with_conn(&state, move |s, conn| {
        let now = s.services.now().naive_utc();
        Ok((
            session::open_count(conn, &id, s.services.access.sessions, now)?,
            api_token::of_user(conn, &id)?
                .into_iter()
                .map(|t| {
                    json!({
                        "label": t.label,
                        "expires": wales::date_time(t.expires_at.and_utc(), lang),
                        "last_used": t.last_used_at.map(|u| wales::date_time(u.and_utc(), lang)),
                        "working": t.revoked_at.is_none() && t.expires_at > now,
                    })
                })
                .collect::<Vec<_>>(),
            crate::domain::second_factor::is_set_up(conn, &id)?,
        ))
    })
    .await?;
    Ok(super::page_response(
        &state,
        "account",
        &page,
        StatusCode::OK,
        json!({"title": state.pages.word(&page.lang, "account"), "sessions_open": open,
               "sessions_rule": state.pages.words_with(&page.lang, "account_sessions_rule", &[
                   ("idle", Arg::Number(state.config.access.session_idle_minutes)),
                   ("hours", Arg::Number(state.config.access.session_hours)),
                   ("max", Arg::Number(state.config.access.sessions_per_person)),
               ]),
               "tokens": tokens, "second_step": second_step,
               "passwords": state.config.passwords && user.row.password_hash.is_some()}),
    ))
}

pub async fn administration(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    if user.actor.role != RoleName::Administrator {
        return Ok(message_page(
            &state,
            &page,
            StatusCode::FORBIDDEN,
            "forbidden_heading",
            "forbidden_body",
        ));
    }
    let lang = language(&page);
    let data = with_conn(&state, move |s, conn| {
        let now = s.services.now().naive_utc();
        let when = |t: chrono::NaiveDateTime| wales::date_time(t.and_utc(), lang);
        let tokens = api_token::all_working(conn, now)?;
        let mail = crate::mail::outbox::troubled(conn)?;
        let events = security_event::recent(conn, 50)?;
        Ok(json!({
            "tokens": tokens.iter().map(|(t, email)| json!({
                "id": t.id, "email": email, "label": t.label, "expires": when(t.expires_at),
                "last_used": t.last_used_at.map(when),
            })).collect::<Vec<_>>(),
            "mail": mail.iter().map(|m| json!({
                "id": m.id, "kind": m.kind, "reference": m.reference, "recipient": m.recipient,
                "failed": m.status == "failed", "attempts": m.attempts, "error": m.last_error,
                "created": wales::date_time(m.created_at, lang),
                "next": m.next_attempt.map(|n| wales::date_time(n, lang)),
            })).collect::<Vec<_>>(),
            "any_failed": mail.iter().any(|m| m.status == "failed"),
            "events": events.iter().map(|e| json!({
                "at": when(e.at), "kind": e.kind, "account": e.account, "address": e.address, "detail": e.detail,
            })).collect::<Vec<_>>(),
        }))
    })
    .await?;
    let mut data = data;
    data["title"] = json!(state.pages.word(&page.lang, "administration"));
    Ok(super::page_response(
        &state,
        "administration",
        &page,
        StatusCode::OK,
        data,
    ))
}

/// The signed-in administrator, for a page (`form` None) or a form post (its CSRF checked);
/// anyone else gets the refusal page.
pub(super) async fn as_administrator(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    form: Option<&super::forms::Submitted>,
) -> Result<(super::WebUser, PageContext), HttpResponse> {
    let (user, page) = match form {
        Some(form) => super::signed_in_post(req, state, form, req.path().to_string()).await?,
        None => {
            let user = signed_in(req, state).await?;
            let page = user.page(req);
            (user, page)
        }
    };
    if user.actor.role != RoleName::Administrator {
        return Err(message_page(
            state,
            &page,
            StatusCode::FORBIDDEN,
            "forbidden_heading",
            "forbidden_body",
        ));
    }
    Ok((user, page))
}

/// An administrator's form on the administration page: check, do, and back to the page.
async fn admin_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
    act: impl FnOnce(&AppState, &mut crate::storage::DbConn, &str) -> Result<(), AppError>
        + Send
        + 'static,
) -> Result<HttpResponse, AppError> {
    let (user, page) = match super::signed_in_post(&req, &state, &form.0, "/admin".into()).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if user.actor.role != RoleName::Administrator {
        return Ok(message_page(
            &state,
            &page,
            StatusCode::FORBIDDEN,
            "forbidden_heading",
            "forbidden_body",
        ));
    }
    let by = user.actor.id.clone();
    match with_conn(&state, move |s, conn| act(s, conn, &by)).await {
        Ok(()) => Ok(see_other("/admin")),
        Err(AppError::NotFound(_)) => Ok(super::not_found_page(&state, &page)),
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    admin_post(state, req, form, move |s, conn, by| {
        api_token::revoke(
            conn,
            &s.services.audit_key,
            &id,
            by,
            s.services.now().naive_utc(),
        )
        .map(|_| ())
    })
    .await
}

pub async fn retry_mail(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    admin_post(
        state,
        req,
        form,
        move |s, conn, _| match crate::mail::outbox::retry_failed(
            conn,
            Some(&id),
            s.services.now().naive_utc(),
        )? {
            0 => Err(AppError::NotFound("failed message")),
            _ => Ok(()),
        },
    )
    .await
}

pub async fn retry_all_mail(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    admin_post(state, req, form, |s, conn, _| {
        crate::mail::outbox::retry_failed(conn, None, s.services.now().naive_utc()).map(|_| ())
    })
    .await
}
