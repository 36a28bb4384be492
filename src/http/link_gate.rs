//! The gate in front of the signed-link pages (answering an invitation, an owner's actions):
//! the browser's own random id in a cookie, the one-time code page when the link asks for it,
//! and the form that takes the code.
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::cases::with_conn;
use crate::app::AppState;
use crate::domain::link_gate::{self, Gate};
use crate::error::AppError;
use crate::mail::links::{LinkError, Purpose};

/// A random id per browser, so that a link opened in a second browser can be told apart.
pub const BROWSER_COOKIE: &str = "sg_browser";

pub struct Browser {
    pub id: String,
    new: bool,
}

pub fn browser(req: &HttpRequest) -> Browser {
    match req
        .cookie(BROWSER_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Some(id) => Browser { id, new: false },
        None => Browser {
            id: crate::identity::random_token(),
            new: true,
        },
    }
}

/// The response, with the browser's cookie if it is new. SameSite=Lax: the link is opened from
/// an email, a navigation from another site, and the cookie must come with it.
pub fn remember(state: &AppState, browser: &Browser, mut response: HttpResponse) -> HttpResponse {
    if browser.new {
        let cookie = Cookie::build(BROWSER_COOKIE, browser.id.clone())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.mail.public_url.starts_with("https://"))
            .max_age(CookieDuration::days(90))
            .finish();
        let _ = response.add_cookie(&cookie);
    }
    response
}

fn slug(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Respond => "respond",
        Purpose::Actions => "actions",
        Purpose::Referral => "refer",
    }
}

fn page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    lang: crate::i18n::Language,
    data: serde_json::Value,
) -> Result<HttpResponse, AppError> {
    // Both languages, the link's person's own first: the signed link says who they are.
    let mut data = data;
    if let (serde_json::Value::Object(d), serde_json::Value::Object(o)) =
        (&mut data, crate::i18n::order(lang))
    {
        d.extend(o);
    }
    let body = state.services.mailer.templates.page("link_code", &data)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// None to go on to the page; otherwise the code page (a code has been sent).
pub async fn gate(
    state: &web::Data<AppState>,
    purpose: Purpose,
    token: &str,
    browser: &Browser,
) -> Result<Option<HttpResponse>, AppError> {
    let verified =
        match state
            .services
            .mailer
            .links
            .verify_link(token, purpose, state.services.now())
        {
            Ok(v) => v,
            // The page itself says the link is not valid.
            Err(_) => return Ok(None),
        };
    let (token_owned, browser_id) = (token.to_string(), browser.id.clone());
    let gate = with_conn(state, move |s, conn| {
        let Some((email, lang)) = link_gate::person_of(conn, purpose, &verified.subject)? else {
            return Ok((Gate::Open, crate::i18n::Language::English));
        };
        let now = s.services.now();
        let gate = link_gate::check(
            &s.services,
            conn,
            s.services.access.links,
            &token_owned,
            &email,
            lang,
            verified.issued,
            &browser_id,
            now,
        )?;
        Ok((gate, lang))
    })
    .await?;
    let (gate, lang) = gate;
    let data = |sent_to: &str, too_many: bool| {
        json!({"sent_to": sent_to, "minutes": link_gate::CODE_MINUTES, "token": token,
               "action": format!("/link-code/{}", slug(purpose)), "error": false, "too_many": too_many})
    };
    Ok(match gate {
        Gate::Open => None,
        Gate::NeedCode { sent_to } => Some(page(
            state,
            actix_web::http::StatusCode::OK,
            lang,
            data(&sent_to, false),
        )?),
        Gate::TooManyCodes => Some(page(
            state,
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            lang,
            data("", true),
        )?),
    })
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    token: String,
    code: String,
}

/// `POST /link-code/{respond|actions}`: a right code opens the link in this browser.
pub async fn enter_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    purpose: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let purpose = match purpose.as_str() {
        "respond" => Purpose::Respond,
        "actions" => Purpose::Actions,
        _ => return Err(AppError::NotFound("page")),
    };
    let form: CodeForm = form.read()?;
    let browser = browser(&req);
    let verified =
        match state
            .services
            .mailer
            .links
            .verify_link(&form.token, purpose, state.services.now())
        {
            Ok(v) => v,
            Err(e) => return Ok(super::meetings::invalid_link(&state, e)),
        };
    let (token, code, browser_id) = (form.token.clone(), form.code.clone(), browser.id.clone());
    let accepted = with_conn(&state, move |s, conn| {
        let Some((email, lang)) = link_gate::person_of(conn, purpose, &verified.subject)? else {
            return Err(AppError::NotFound("link"));
        };
        let right = link_gate::enter_code(
            &s.services,
            conn,
            &token,
            &email,
            &browser_id,
            &code,
            s.services.now(),
        )?;
        Ok((right, lang))
    })
    .await;
    let response = match accepted {
        Ok((true, _)) => crate::web::see_other(&format!("/{}/{}", slug(purpose), form.token)),
        Ok((false, lang)) => page(
            &state,
            actix_web::http::StatusCode::BAD_REQUEST,
            lang,
            json!({"sent_to": "", "minutes": link_gate::CODE_MINUTES, "token": form.token,
                   "action": format!("/link-code/{}", slug(purpose)), "error": true, "too_many": false}),
        )?,
        Err(AppError::NotFound(_)) => super::meetings::invalid_link(&state, LinkError::Invalid),
        Err(e) => return Err(e),
    };
    Ok(remember(&state, &browser, response))
}
