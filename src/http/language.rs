//! The reader's language for the API, and errors in it. A request asks with `Accept-Language`;
//! without one, a signed-in person's saved choice holds. An error's `code` never changes; its
//! `message` is the catalogue's `error_<code>` in Welsh for a Welsh reader (with the Welsh of
//! each unmet guard), and the service's own, more particular sentence in English.
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, HttpMessage, HttpRequest};
use serde_json::Value;

use crate::app::AppState;
use crate::error::ErrorWords;
use crate::i18n::catalogue::Arg;
use crate::i18n::Language;

/// A signed-in person's saved language, left on the request by the sign-in extractor.
#[derive(Debug, Clone, Copy)]
pub struct SavedLanguage(pub Language);

/// The language `Accept-Language` asks for, if it asks for English or Welsh.
pub fn asked_for(req: &HttpRequest) -> Option<Language> {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Language::from_accept_language)
}

/// The reader's language: what the request asks for, else their saved choice, else English.
pub fn reader(req: &HttpRequest) -> Language {
    asked_for(req)
        .or_else(|| req.extensions().get::<SavedLanguage>().map(|s| s.0))
        .unwrap_or(Language::English)
}

/// Middleware: an error answered to a Welsh reader is reworded in Welsh.
pub async fn localise_errors(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let words = res.response().extensions().get::<ErrorWords>().cloned();
    let Some(words) = words else {
        return Ok(res.map_into_boxed_body());
    };
    let lang = reader(res.request());
    if lang == Language::English {
        return Ok(res.map_into_boxed_body());
    }
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, response) = res.into_parts();
    let status = response.status();
    let headers = response.headers().clone();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let mut json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // The field named as the pages name it ("Enw’r plentyn"), not by its path.
    let word = json
        .pointer("/details/word")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut message = crate::web::error_words(
        &state,
        lang.code(),
        &words.code,
        words.field.as_deref(),
        &word,
    )
    .unwrap_or_else(|| {
        let field = words.field.clone().unwrap_or_default();
        state.pages.catalogue().format(
            lang,
            &format!("error_{}", words.code),
            &[("field", Arg::Text(&field))],
        )
    });
    if let Some(missing) = json
        .pointer_mut("/details/missing")
        .and_then(Value::as_array_mut)
    {
        let welsh: Vec<String> = missing
            .iter_mut()
            .filter_map(|m| {
                let cy = m.get("message_cy")?.as_str()?.to_string();
                m["message"] = Value::String(cy.clone());
                Some(cy)
            })
            .collect();
        if !welsh.is_empty() {
            message = format!("{message} {}", welsh.join("; "));
        }
    }
    if let Some(warnings) = json.pointer("/details/warnings_cy").cloned() {
        json["details"]["warnings"] = warnings;
    }
    if json.is_object() {
        json["message"] = Value::String(message);
    }
    let mut rebuilt = actix_web::HttpResponse::build(status);
    for (k, v) in headers.iter() {
        if k != actix_web::http::header::CONTENT_LENGTH {
            rebuilt.insert_header((k.clone(), v.clone()));
        }
    }
    rebuilt.insert_header((actix_web::http::header::CONTENT_LANGUAGE, "cy"));
    let response = rebuilt.body(serde_json::to_vec(&json).unwrap_or(body.to_vec()));
    Ok(ServiceResponse::new(req, response))
}
