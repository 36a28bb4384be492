//! Signing in and out, and choosing the language of the pages.
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::forms::first;
use super::session;
use super::{anonymous_language, see_other, signed_in, PageContext, LANGUAGES};
use crate::app::AppState;
use crate::domain::sign_in::{self, Begun};
use crate::error::AppError;
use crate::http::cases::with_conn;

pub(super) fn cookie<'a>(state: &AppState, name: &'a str, value: String, hours: i64) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.mail.public_url.starts_with("https://"))
        .max_age(CookieDuration::hours(hours))
        .finish()
}

pub(super) fn anonymous(req: &HttpRequest, csrf: &str) -> PageContext {
    PageContext {
        lang: anonymous_language(req),
        user: None,
        csrf: csrf.to_string(),
        // Every anonymous page's language link leads back to signing in.
        path: "/sign-in".into(),
    }
}

pub(super) fn sign_in_form(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<String>,
) -> HttpResponse {
    let errors = match &error {
        Some(e) => json!([{"id": "email", "message": e}]),
        None => json!([]),
    };
    let sso: Vec<serde_json::Value> = state
        .services
        .single_sign_on
        .as_deref()
        .map(|p| {
            p.tenants()
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"tenant": i, "name": t.id}))
                .collect()
        })
        .unwrap_or_default();
    let several = sso.len() > 1;
    super::page_response(
        state,
        "sign_in",
        page,
        status,
        json!({"title": state.pages.word(&page.lang, "sign_in"), "email": email,
               "next": next, "error": error, "errors": errors,
               "sso": sso, "several_tenants": several, "passwords": state.config.passwords}),
    )
}

#[derive(serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn sign_in_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    next: web::Query<Next>,
) -> HttpResponse {
    // With nowhere asked for, home: it leads each role to its own first page.
    let next = next
        .next
        .as_deref()
        .filter(|n| !n.is_empty())
        .map_or_else(|| "/".to_string(), |n| local_path(Some(n)));
    let token = session::anonymous_csrf(&req);
    let mut response = sign_in_form(
        &state,
        &anonymous(&req, &token),
        StatusCode::OK,
        "",
        &next,
        None,
    );
    let _ = response.add_cookie(&cookie(&state, session::PRE_COOKIE, token, 1));
    response
}

pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let pre = req
        .cookie(session::PRE_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let page = anonymous(&req, &pre);
    if !state.config.passwords {
        return Ok(sign_in_form(
            &state,
            &page,
            StatusCode::FORBIDDEN,
            "",
            "/",
            Some(state.pages.word(&page.lang, "sign_in_passwords_off")),
        ));
    }
    let typed_csrf = first(&form, "csrf").unwrap_or("");
    if pre.is_empty() || !session::same_token(typed_csrf, &pre) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let email = first(&form, "email").unwrap_or("").trim().to_string();
    let next = first(&form, "next")
        .filter(|n| !n.is_empty())
        .map_or_else(|| "/".to_string(), |n| local_path(Some(n)));
    let password = first(&form, "password").unwrap_or("").to_string();
    if email.is_empty() || password.is_empty() || email.len() > 320 || password.len() > 1000 {
        return Ok(sign_in_form(
            &state,
            &page,
            StatusCode::BAD_REQUEST,
            &email,
            &next,
            Some(state.pages.word(&page.lang, "sign_in_missing")),
        ));
    }
    let address =
        crate::http::client_address::client_address(&req, &state.config.access.trusted_proxies);
    let (typed_email, from) = (email.clone(), address.clone());
    let begun = with_conn(&state, move |s, conn| {
        sign_in::begin(
            conn,
            &s.services.audit_key,
            &typed_email,
            &from,
            s.services.now().naive_utc(),
        )
    })
    .await?;
    let (attempt, user) = match begun {
        Begun::HeldBack { until } => {
            let time = crate::time::wales::time(until);
            let message = state.pages.words_with(
                &page.lang,
                "sign_in_held_back",
                &[("time", crate::i18n::catalogue::Arg::Text(&time))],
            );
            let mut r = sign_in_form(
                &state,
                &page,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                &next,
                Some(message),
            );
            let wait = (until - state.services.now()).num_seconds().max(1);
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
        Begun::Check { attempt, user } => (attempt, user.map(|u| *u)),
    };
    let checked = user.clone();
    let matched = web::block(move || sign_in::password_matches(checked.as_ref(), &password))
        .await
        .map_err(|e| AppError::Internal(format!("password check: {e}")))?;
    match (matched, user) {
        (true, Some(user)) => {
            let required = state.config.second_factor_required;
            let going = next.clone();
            let opened = with_conn(&state, move |s, conn| {
                let now = s.services.now().naive_utc();
                let key = &s.services.audit_key;
                crate::storage::write_transaction(conn, |conn| {
                    // With a second step set up (or required), the session waits for it.
                    if required || crate::domain::second_factor::is_set_up(conn, &user.id)? {
                        let waiting =
                            crate::domain::second_factor::wait(conn, &user, &going, &attempt, now)?;
                        return Ok(Err(waiting));
                    }
                    sign_in::succeeded(conn, &attempt)?;
                    crate::domain::session::open_signed_in(
                        conn,
                        key,
                        &user,
                        Some(&address),
                        "signed in to the pages",
                        s.services.access.sessions,
                        now,
                    )
                    .map(Ok)
                })
            })
            .await?;
            let token = match opened {
                Ok(token) => token,
                Err(waiting) => {
                    let mut r = see_other("/sign-in/second-step");
                    let _ = r.add_cookie(&super::second_step_page::waiting_cookie(
                        &state, waiting, 10,
                    ));
                    return Ok(r);
                }
            };
            let mut r = see_other(&next);
            let _ = r.add_cookie(&cookie(
                &state,
                session::COOKIE,
                token,
                state.config.access.session_hours,
            ));
            Ok(r)
        }
        (_, user) => {
            let typed = email.clone();
            with_conn(&state, move |s, conn| {
                sign_in::failed(
                    conn,
                    &s.services.audit_key,
                    &typed,
                    &address,
                    user.as_ref(),
                    s.services.now().naive_utc(),
                )
            })
            .await?;
            Ok(sign_in_form(
                &state,
                &page,
                StatusCode::UNAUTHORIZED,
                &email,
                &next,
                Some(state.pages.word(&page.lang, "sign_in_refused")),
            ))
        }
    }
}

pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    if let Err(refused) = super::signed_in_post(&req, &state, &form.0, "/cases".into()).await {
        return Ok(refused);
    }
    if let Some(c) = req.cookie(session::COOKIE) {
        let value = c.value().to_string();
        with_conn(&state, move |_, conn| {
            crate::domain::session::sign_out(conn, &value)
        })
        .await?;
    }
    let mut r = see_other("/sign-in");
    let _ = r.add_cookie(&cookie(&state, session::COOKIE, String::new(), 0));
    Ok(r)
}

/// Ends every session the person has, in every browser (a lost laptop, a shared computer).
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let user = match super::signed_in_post(&req, &state, &form.0, "/account".into()).await {
        Ok((user, _)) => user,
        Err(refused) => return Ok(refused),
    };
    let row = user.row.clone();
    with_conn(&state, move |s, conn| {
        crate::domain::session::sign_out_everywhere(
            conn,
            &s.services.audit_key,
            &row,
            s.services.now().naive_utc(),
        )
    })
    .await?;
    let mut r = see_other("/sign-in");
    let _ = r.add_cookie(&cookie(&state, session::COOKIE, String::new(), 0));
    Ok(r)
}

/// Only a path on this service: never somewhere else (`//host`, `https://…`).
pub fn local_path(back: Option<&str>) -> String {
    // Only plain path characters: browsers drop tabs and newlines from a URL, so `/<tab>/host`
    // would otherwise become `//host`, another site.
    let plain = |p: &str| {
        p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~%?=&".contains(c))
    };
    match back {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && plain(p) => p.to_string(),
        _ => "/cases".to_string(),
    }
}

#[derive(serde::Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Switches the language and remembers it: on the user for someone signed in, in a cookie
/// otherwise.
pub async fn language(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    back: web::Query<Back>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    if !LANGUAGES.contains(&code.as_str()) {
        let page = anonymous(&req, "");
        return Ok(super::not_found_page(&state, &page));
    }
    if let Ok(user) = signed_in(&req, &state).await {
        let (id, lang) = (user.row.id.clone(), code.clone());
        with_conn(&state, move |_, conn| {
            session::set_language(conn, &id, &lang)
        })
        .await?;
    }
    let mut r = see_other(&local_path(back.back.as_deref()));
    let _ = r.add_cookie(&cookie(&state, session::LANGUAGE_COOKIE, code, 24 * 365));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn the_way_back_stays_on_this_service() {
        assert_eq!(
            local_path(Some("/cases/CSE-2026-000001")),
            "/cases/CSE-2026-000001"
        );
        assert_eq!(local_path(Some("//evil.example/x")), "/cases");
        assert_eq!(local_path(Some("https://evil.example")), "/cases");
        assert_eq!(local_path(Some("/\t/evil.example")), "/cases");
        assert_eq!(local_path(Some("/\\evil.example")), "/cases");
        assert_eq!(local_path(None), "/cases");
    }
}
