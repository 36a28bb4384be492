//! Signing in with the council's accounts from the sign-in page: off to the provider, and back
//! to where the person was going, or to the sign-in page saying plainly why not.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::account::{anonymous, cookie, local_path, sign_in_form};
use super::{see_other, session};
use crate::app::AppState;
use crate::domain::single_sign_on::{self, Outcome};
use crate::error::AppError;
use crate::http::cases::with_conn;

/// The cookie that ties a sign-in to the browser that began it. Lax, not Strict: the
/// provider's redirect back is a navigation from another site.
const BROWSER_COOKIE: &str = "sg_sso";

fn browser_cookie(
    state: &AppState,
    value: String,
    minutes: i64,
) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(BROWSER_COOKIE, value)
        .path("/sign-in/oidc")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Lax)
        .secure(state.config.mail.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::minutes(minutes))
        .finish()
}

#[derive(Deserialize)]
pub struct Begin {
    tenant: Option<usize>,
    next: Option<String>,
}

pub async fn begin(
    state: web::Data<AppState>,
    query: web::Query<Begin>,
) -> Result<HttpResponse, AppError> {
    let tenant = query.tenant.unwrap_or(0);
    let next = local_path(
        query
            .next
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(Some("/")),
    );
    let s = state.clone();
    let started = web::block(move || single_sign_on::start(&s.services, tenant))
        .await
        .map_err(|e| AppError::Internal(format!("single sign-on: {e}")))??;
    let url = started.url.clone();
    let browser = started.state.clone();
    with_conn(&state, move |s, conn| {
        single_sign_on::keep(conn, &started, tenant, &next, s.services.now().naive_utc())
    })
    .await?;
    let mut r = see_other(&url);
    let _ = r.add_cookie(&browser_cookie(&state, browser, single_sign_on::MINUTES));
    Ok(r)
}

#[derive(Deserialize)]
pub struct Back {
    state: Option<String>,
    code: Option<String>,
}

pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Back>,
) -> Result<HttpResponse, AppError> {
    let csrf = session::anonymous_csrf(&req);
    let page = anonymous(&req, &csrf);
    let address =
        crate::http::client_address::client_address(&req, &state.config.access.trusted_proxies);
    let refused = |why: single_sign_on::Refusal| {
        let message = state.pages.word(&page.lang, why.message_key());
        let mut r = sign_in_form(
            &state,
            &page,
            StatusCode::UNAUTHORIZED,
            "",
            "/",
            Some(message),
        );
        let _ = r.add_cookie(&cookie(&state, session::PRE_COOKIE, csrf.clone(), 1));
        r
    };
    // A provider that refused (the person cancelled, say) sends an error and no code.
    let (Some(returned), Some(code)) = (query.state.clone(), query.code.clone()) else {
        let message = state.pages.word(&page.lang, "sso_failed");
        return Ok(sign_in_form(
            &state,
            &page,
            StatusCode::BAD_REQUEST,
            "",
            "/",
            Some(message),
        ));
    };
    let browser = req.cookie(BROWSER_COOKIE).map(|c| c.value().to_string());
    let from = address.clone();
    let spent = with_conn(&state, move |s, conn| {
        single_sign_on::spend(
            &s.services,
            conn,
            &returned,
            browser.as_deref(),
            &from,
            s.services.now().naive_utc(),
        )
    })
    .await?;
    let begun = match spent {
        Ok(begun) => begun,
        Err(Outcome::Refused(why)) => return Ok(refused(why)),
        Err(Outcome::SignedIn { .. }) => {
            return Err(AppError::Internal("a sign-in spent twice".into()))
        }
    };
    let s = state.clone();
    let next = begun.next.clone();
    let verified = web::block(move || single_sign_on::verify(&s.services, &begun, &code))
        .await
        .map_err(|e| AppError::Internal(format!("single sign-on: {e}")))?;
    let outcome = with_conn(&state, move |s, conn| {
        single_sign_on::complete(
            &s.services,
            conn,
            verified,
            &next,
            &address,
            s.services.now().naive_utc(),
        )
    })
    .await?;
    Ok(match outcome {
        Outcome::SignedIn {
            session: token,
            next,
        } => {
            let mut r = see_other(&next);
            let _ = r.add_cookie(&cookie(
                &state,
                session::COOKIE,
                token,
                state.config.access.session_hours,
            ));
            let _ = r.add_cookie(&browser_cookie(&state, String::new(), 0));
            r
        }
        Outcome::Refused(why) => refused(why),
    })
}
