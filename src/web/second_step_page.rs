//! The second step of a password sign-in, and setting it up: the page asks for the code from
//! the person's authenticator app (or a recovery code); where the council requires a second
//! step and the person has none yet, it shows the secret to set up first. After a set-up, the
//! recovery codes are shown once.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::account::{anonymous, cookie};
use super::forms::first;
use super::{see_other, session, signed_in, PageContext};
use crate::app::AppState;
use crate::domain::second_factor;
use crate::error::AppError;
use crate::http::cases::with_conn;

const WAITING_COOKIE: &str = "sg_step";

/// The cookie that carries a sign-in waiting for its second step.
pub(super) fn waiting_cookie(
    state: &AppState,
    value: String,
    minutes: i64,
) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(WAITING_COOKIE, value)
        .path("/sign-in")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Strict)
        .secure(state.config.mail.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::minutes(minutes))
        .finish()
}

fn code_page(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    action: &str,
    setup: Option<&second_factor::Setup>,
    error: Option<String>,
) -> HttpResponse {
    let errors = match &error {
        Some(e) => json!([{"id": "code", "message": e}]),
        None => json!([]),
    };
    super::page_response(
        state,
        "second_step",
        page,
        status,
        json!({"title": state.pages.word(&page.lang, if setup.is_some() { "second_step_setup_title" } else { "second_step_title" }),
               "action": action,
               "setup": setup.map(|s| json!({"secret": s.secret, "url": s.url})),
               "error": error, "errors": errors}),
    )
}

fn codes_page(state: &AppState, page: &PageContext, codes: &[String], next: &str) -> HttpResponse {
    super::page_response(
        state,
        "recovery_codes",
        page,
        StatusCode::OK,
        json!({"title": state.pages.word(&page.lang, "recovery_codes_title"), "codes": codes, "next": next}),
    )
}

fn anonymous_page(req: &HttpRequest) -> (PageContext, String) {
    let csrf = session::anonymous_csrf(req);
    (anonymous(req, &csrf), csrf)
}

fn expired(state: &AppState, page: &PageContext) -> HttpResponse {
    let message = state.pages.word(&page.lang, "second_step_expired");
    super::account::sign_in_form(
        state,
        page,
        StatusCode::UNAUTHORIZED,
        "",
        "/",
        Some(message),
    )
}

/// GET /sign-in/second-step
pub async fn step(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let (page, csrf) = anonymous_page(&req);
    let Some(token) = req.cookie(WAITING_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(expired(&state, &page));
    };
    let found = with_conn(&state, move |s, conn| {
        let (user, _) = second_factor::waiting(conn, &token, s.services.now().naive_utc())?;
        if second_factor::is_set_up(conn, &user.id)? {
            Ok(None)
        } else {
            second_factor::setup(conn, &user).map(Some)
        }
    })
    .await;
    let mut r = match found {
        Ok(setup) => code_page(
            &state,
            &page,
            StatusCode::OK,
            "/sign-in/second-step",
            setup.as_ref(),
            None,
        ),
        Err(AppError::NotFound(_)) => return Ok(expired(&state, &page)),
        Err(e) => return Err(e),
    };
    let _ = r.add_cookie(&cookie(&state, session::PRE_COOKIE, csrf, 1));
    Ok(r)
}

/// POST /sign-in/second-step
pub async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (page, csrf) = anonymous_page(&req);
    if csrf.is_empty()
        || !session::same_token(first(&form, "csrf").unwrap_or(""), &csrf)
        || req.cookie(session::PRE_COOKIE).is_none()
    {
        return Ok(super::refused_csrf(&state, &page));
    }
    let Some(token) = req.cookie(WAITING_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(expired(&state, &page));
    };
    let code = first(&form, "code").unwrap_or("").trim().to_string();
    let address =
        crate::http::client_address::client_address(&req, &state.config.access.trusted_proxies);
    let outcome = with_conn(&state, move |s, conn| {
        let now = s.services.now();
        let (user, _) = second_factor::waiting(conn, &token, now.naive_utc())?;
        let attempt = if second_factor::is_set_up(conn, &user.id)? {
            second_factor::complete(&s.services, conn, &token, &code, &address, now)
                .map(|(session, next)| (session, next, Vec::new()))
        } else {
            second_factor::set_up_and_sign_in(&s.services, conn, &token, &code, &address, now)
        };
        match attempt {
            Ok(done) => Ok(Ok(done)),
            Err(e) if e.code() == "wrong_code" => {
                let setup = if second_factor::is_set_up(conn, &user.id)? {
                    None
                } else {
                    Some(second_factor::setup(conn, &user)?)
                };
                Ok(Err((e, setup)))
            }
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok((session_token, next, codes))) => {
            let mut r = if codes.is_empty() {
                see_other(&next)
            } else {
                codes_page(&state, &page, &codes, &next)
            };
            let _ = r.add_cookie(&cookie(
                &state,
                session::COOKIE,
                session_token,
                state.config.access.session_hours,
            ));
            let _ = r.add_cookie(&waiting_cookie(&state, String::new(), 0));
            r
        }
        Ok(Err((e, setup))) => {
            let message = super::error_text(&state, &page.lang, &e);
            code_page(
                &state,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                "/sign-in/second-step",
                setup.as_ref(),
                Some(message),
            )
        }
        Err(AppError::NotFound(_)) => expired(&state, &page),
        Err(e) => return Err(e),
    })
}

/// GET /account/second-factor: a signed-in person sets up their second step.
pub async fn setup(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let row = user.row.clone();
    let found = with_conn(&state, move |_, conn| second_factor::setup(conn, &row)).await;
    Ok(match found {
        Ok(setup) => code_page(
            &state,
            &page,
            StatusCode::OK,
            "/account/second-factor",
            Some(&setup),
            None,
        ),
        Err(AppError::Conflict { .. }) => see_other("/account"),
        Err(e) => return Err(e),
    })
}

/// POST /account/second-factor
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) =
        match super::signed_in_post(&req, &state, &form, "/account/second-factor".into()).await {
            Ok(signed) => signed,
            Err(refused) => return Ok(refused),
        };
    let code = first(&form, "code").unwrap_or("").trim().to_string();
    let row = user.row.clone();
    let outcome = with_conn(&state, move |s, conn| {
        match second_factor::confirm(&s.services, conn, &row, &code, s.services.now()) {
            Ok(codes) => Ok(Ok(codes)),
            Err(e) if e.code() == "wrong_code" => Ok(Err((e, second_factor::setup(conn, &row)?))),
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(codes)) => codes_page(&state, &page, &codes, "/account"),
        Ok(Err((e, setup))) => {
            let message = super::error_text(&state, &page.lang, &e);
            code_page(
                &state,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                "/account/second-factor",
                Some(&setup),
                Some(message),
            )
        }
        Err(AppError::Conflict { .. }) => see_other("/account"),
        Err(e) => return Err(e),
    })
}
