//! The one error type. Every failure a user can cause maps to a 4xx with a machine-readable
//! `code`, a sentence a person can act on, and the request field at fault where there is one.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// Well-formed input the procedure does not allow yet (missing guard facts and the like).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        field: Option<String>,
        message: String,
        details: Option<Value>,
    },
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Also returned for things that exist but the caller may not see, so that a response never
    /// reveals that a case exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// Too many requests of one kind in a while (reports through one referral link).
    #[error("{message}")]
    TooMany { code: &'static str, message: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Configuration or start-up failure; reported on the console, never over HTTP.
    #[error("{0}")]
    Startup(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// Several refusals of one request (each child of a meeting), so that a form can show them
    /// all at once. It answers as the first does, with the others in `details.more`.
    #[error("{}", .0.first().map(ToString::to_string).unwrap_or_default())]
    Several(Vec<AppError>),
}

/// What an error response says, left on the response for the layer that words it in the
/// reader's language (`http::language`).
#[derive(Debug, Clone)]
pub struct ErrorWords {
    pub code: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl AppError {
    pub fn bad_request(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::BadRequest {
            code,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn unprocessable(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::Unprocessable {
            code,
            field: Some(field.into()),
            message: message.into(),
            details: None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unprocessable { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::TooMany { code, .. } => code,
            AppError::Unavailable(_) => "unavailable",
            AppError::Startup(_) => "startup",
            AppError::Database(_) => "database_error",
            AppError::Internal(_) => "internal_error",
            AppError::Several(all) => all.first().map_or("several_problems", AppError::code),
        }
    }

    /// The refusal of one part of a request (`children[2]`, `context_actions[0]`): its field is
    /// prefixed with the part, or is the part where it named none.
    pub fn within(self, part: &str) -> AppError {
        let prefixed = |f: Option<String>| {
            Some(match f {
                Some(f) => format!("{part}.{f}"),
                None => part.to_string(),
            })
        };
        match self {
            AppError::BadRequest {
                code,
                field,
                message,
            } => AppError::BadRequest {
                code,
                field: prefixed(field),
                message,
            },
            AppError::Unprocessable {
                code,
                field,
                message,
                details,
            } => AppError::Unprocessable {
                code,
                field: prefixed(field),
                message,
                details,
            },
            other => other,
        }
    }

    /// One refusal for all of `errors`: the one itself when there is only one.
    pub fn all_of(mut errors: Vec<AppError>) -> Option<AppError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(AppError::Several(errors)),
        }
    }

    /// A refusal of what was asked (a 4xx), not a failure of the service.
    pub fn is_refusal(&self) -> bool {
        self.status_code().is_client_error()
    }

    /// Each refusal this error holds.
    pub fn each(&self) -> Vec<&AppError> {
        match self {
            AppError::Several(all) => all.iter().collect(),
            e => vec![e],
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. } | AppError::Unprocessable { field, .. } => {
                field.as_deref()
            }
            AppError::Several(all) => all.first().and_then(AppError::field),
            _ => None,
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("no database connection: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(format!("worker thread failed: {e}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Startup(_) | AppError::Database(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Several(all) => all
                .first()
                .map_or(StatusCode::UNPROCESSABLE_ENTITY, ResponseError::status_code),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // Server-side faults are logged in full but answered with a plain sentence: database
        // messages can quote stored values.
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            match self {
                AppError::Unavailable(_) => "the service is temporarily unavailable".to_string(),
                _ => "an internal error occurred; it has been logged".to_string(),
            }
        } else {
            self.to_string()
        };
        let more;
        let details = match self {
            AppError::Unprocessable { details, .. } => details.as_ref(),
            AppError::Several(all) => {
                more = serde_json::json!({"more": all.iter().skip(1).map(|e| serde_json::json!({
                    "code": e.code(), "field": e.field(), "message": e.to_string(),
                })).collect::<Vec<_>>()});
                Some(&more)
            }
            _ => None,
        };
        let mut builder = HttpResponse::build(status);
        if let AppError::Unauthorized = self {
            builder.insert_header(("WWW-Authenticate", "Bearer"));
        }
        // For the localiser, which rewords the message in the reader's language.
        builder.extensions_mut().insert(ErrorWords {
            code: self.code().to_string(),
            field: self.field().map(str::to_string),
        });
        builder.json(ErrorBody {
            code: self.code(),
            message,
            field: self.field(),
            details,
        })
    }
}
