//! The page an invited person reaches from their invitation email: they choose a password and
//! are signed in. A used, expired or unknown link, or one for an account deactivated since,
//! says so and offers nothing else.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::account::{anonymous, cookie};
use super::forms::first;
use super::{message_page, see_other, session, PageContext};
use crate::app::AppState;
use crate::domain::account_invitation;
use crate::error::AppError;
use crate::http::cases::with_conn;

fn form_page(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    token: &str,
    name: &str,
    errors: Value,
) -> HttpResponse {
    let error = errors
        .as_array()
        .and_then(|e| e.first())
        .map_or(Value::Null, |e| e["message"].clone());
    super::page_response(
        state,
        "welcome",
        page,
        status,
        json!({"title": state.pages.word(&page.lang, "welcome_title"), "name": name,
               "action": format!("/welcome/{token}"), "error": error, "errors": errors}),
    )
}

fn invalid(state: &AppState, page: &PageContext) -> HttpResponse {
    message_page(
        state,
        page,
        StatusCode::NOT_FOUND,
        "welcome_invalid_heading",
        "welcome_invalid_body",
    )
}

pub async fn welcome(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let csrf = session::anonymous_csrf(&req);
    let mut page = anonymous(&req, &csrf);
    if !state.config.passwords {
        return Ok(invalid(&state, &page));
    }
    let secret = token.clone();
    let holder = with_conn(&state, move |s, conn| {
        account_invitation::holder(conn, &secret, s.services.now().naive_utc())
    })
    .await;
    let mut response = match holder {
        Ok(user) => {
            // The language they were invited in, until they choose another.
            if req.cookie(session::LANGUAGE_COOKIE).is_none() {
                page.lang = user.language.clone();
            }
            page.path = format!("/welcome/{token}");
            form_page(&state, &page, StatusCode::OK, &token, &user.name, json!([]))
        }
        Err(AppError::NotFound(_)) => invalid(&state, &page),
        Err(e) => return Err(e),
    };
    let _ = response.add_cookie(&cookie(&state, session::PRE_COOKIE, csrf, 1));
    Ok(response)
}

pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let pre = req
        .cookie(session::PRE_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let mut page = anonymous(&req, &pre);
    page.path = format!("/welcome/{token}");
    if !state.config.passwords {
        return Ok(invalid(&state, &page));
    }
    if pre.is_empty() || !session::same_token(first(&form, "csrf").unwrap_or(""), &pre) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let password = first(&form, "password").unwrap_or("").to_string();
    let again = first(&form, "password_again").unwrap_or("").to_string();
    let secret = token.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let now = s.services.now().naive_utc();
        let user = account_invitation::holder(conn, &secret, now)?;
        if password != again {
            return Ok(Err((
                user,
                AppError::bad_request(
                    "passwords_differ",
                    "password",
                    "the two passwords are not the same",
                ),
            )));
        }
        match account_invitation::accept(
            conn,
            &s.services.audit_key,
            &secret,
            &password,
            s.services.access.sessions,
            now,
        ) {
            Ok((_, session)) => Ok(Ok(session)),
            Err(e) if e.is_refusal() && !matches!(e, AppError::NotFound(_)) => Ok(Err((user, e))),
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(session)) => {
            let mut r = see_other("/");
            let _ = r.add_cookie(&cookie(
                &state,
                session::COOKIE,
                session,
                state.config.access.session_hours,
            ));
            r
        }
        Ok(Err((user, e))) => {
            if req.cookie(session::LANGUAGE_COOKIE).is_none() {
                page.lang = user.language.clone();
            }
            let errors =
                json!([{"id": "password", "message": super::error_text(&state, &page.lang, &e)}]);
            let status = actix_web::ResponseError::status_code(&e);
            form_page(&state, &page, status, &token, &user.name, errors)
        }
        Err(AppError::NotFound(_)) => invalid(&state, &page),
        Err(e) => return Err(e),
    })
}
