//! What arrives over HTTP, refused before anything reads it when it carries a control character
//! where none belongs: a NUL, or any other C0 or C1 control but tab, line feed and carriage
//! return. PostgreSQL cannot store a NUL in text at all, and the others have no business in a
//! record; either way the answer is a 400 naming the field, never a 500.
use std::future::Future;
use std::pin::Pin;

use actix_web::body::EitherBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;

fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first string in `value` with a forbidden character, as a field path (`child.name`,
/// `invitees[2].email`).
pub fn control_character(value: &Value, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) if s.chars().any(forbidden) => Some(if at.is_empty() {
            "body".to_string()
        } else {
            at.to_string()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.chars().any(forbidden) {
                Some(join("(a field name)"))
            } else {
                control_character(v, &join(k))
            }
        }),
        _ => None,
    }
}

fn refused(field: String) -> AppError {
    AppError::BadRequest {
        code: "control_character",
        message: format!(
            "{field} contains a control character (such as NUL) that cannot be stored; remove it"
        ),
        field: Some(field),
    }
}

/// A JSON body, checked for control characters before it is read as `T`.
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await?.into_inner();
            if let Some(field) = control_character(&value, "") {
                return Err(refused(field).into());
            }
            serde_json::from_value::<T>(value).map(Json).map_err(|e| {
                let message = e.to_string();
                AppError::BadRequest {
                    code: "invalid_body",
                    field: super::field_from_serde(&message),
                    message: format!("the request body is not valid: {message}"),
                }
                .into()
            })
        })
    }
}

/// A form as submitted (names repeat for multiple choices), checked for control characters. A
/// refusal is a plain page in both languages naming the field: forms are read by people.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn into_inner(self) -> Vec<(String, String)> {
        self.0
    }

    /// The form's fields as one object (the last of a repeated name), read as `T`.
    pub fn read<T: DeserializeOwned>(self) -> Result<T, AppError> {
        let map: serde_json::Map<String, Value> = self
            .0
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        serde_json::from_value(Value::Object(map)).map_err(|e| {
            let message = e.to_string();
            AppError::BadRequest {
                code: "invalid_form",
                field: super::field_from_serde(&message),
                message: format!("the form is not complete: {message}"),
            }
        })
    }
}

struct FormRefused(String);

impl std::fmt::Debug for FormRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "control character in {}", self.0)
    }
}

impl std::fmt::Display for FormRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "control character in {}", self.0)
    }
}

impl ResponseError for FormRefused {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::BAD_REQUEST
    }

    fn error_response(&self) -> HttpResponse {
        let field = html_escape(&self.0);
        HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not saved</title></head><body>\
                 <h1>Not saved / Heb ei gadw</h1>\
                 <p>The field \u{201c}{field}\u{201d} contains a character that cannot be saved. Go back, remove it and send the form again.</p>\
                 <p lang=\"cy\">Mae nod yn y maes \u{201c}{field}\u{201d} na ellir ei gadw. Ewch yn \u{f4}l, tynnwch ef ac anfonwch y ffurflen eto.</p>\
                 </body></html>"
            ))
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl FromRequest for Form {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move {
            let pairs = form.await?.into_inner();
            if let Some((name, _)) = pairs
                .iter()
                .find(|(k, v)| k.chars().any(forbidden) || v.chars().any(forbidden))
            {
                let name: String = name.chars().filter(|c| !forbidden(*c)).collect();
                return Err(FormRefused(name).into());
            }
            Ok(Form(pairs))
        })
    }
}

/// `%00` to `%1F` and `%7F` in a path or query, or the character itself.
fn encoded_control(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().any(|c| *c < 0x20 || *c == 0x7f)
        || b.windows(3).any(|w| {
            w[0] == b'%'
                && u8::from_str_radix(std::str::from_utf8(&w[1..]).unwrap_or("zz"), 16)
                    .is_ok_and(|n| n < 0x20 || n == 0x7f)
        })
}

/// Middleware: a path or query string carrying a control character is refused with 400 before
/// routing, so that no handler looks a case up by it.
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>, actix_web::Error> {
    let uri = req.uri();
    let field = if encoded_control(uri.path()) {
        Some("path")
    } else if uri.query().is_some_and(encoded_control) {
        Some("query")
    } else {
        None
    };
    match field {
        Some(field) => {
            let response = refused(field.to_string()).error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_field_that_carries_a_control_character() {
        let body = json!({"child": {"name": "Test\u{0}Child"}, "facts": {"ok": "line one\nline two\ttab"}});
        assert_eq!(control_character(&body, "").as_deref(), Some("child.name"));
        let body = json!({"invitees": [{"name": "A"}, {"name": "B\u{1b}[31m"}]});
        assert_eq!(
            control_character(&body, "").as_deref(),
            Some("invitees[1].name")
        );
        assert_eq!(
            control_character(&json!({"note": "tabs\tand\r\nnew lines are fine"}), ""),
            None
        );
    }

    #[test]
    fn finds_encoded_control_characters_in_a_path() {
        assert!(encoded_control("/api/cases/CSE-2026-000001%00"));
        assert!(encoded_control("/api/cases/x%1b"));
        assert!(!encoded_control("/api/cases/CSE-2026-000001%20"));
        assert!(!encoded_control("/api/cases/CSE-2026-000001"));
    }
}
