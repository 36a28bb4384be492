//! The request log: method, path, status and time, with no secret in it. A signed link's path
//! is its token, valid for weeks, so only a short one-way fingerprint of it is written; query
//! strings are left out (they can carry a form's fields).
use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;

/// Routes whose last segment is a signed link's token.
const LINK_ROUTES: &[&str] = &["/respond/", "/actions/", "/welcome/", "/refer/"];

/// `path` as the log may show it.
pub fn loggable_path(path: &str) -> String {
    for prefix in LINK_ROUTES {
        if let Some(token) = path.strip_prefix(prefix) {
            return format!(
                "{prefix}<link {}>",
                crate::identity::token_fingerprint(token)
            );
        }
    }
    path.to_string()
}

/// Gives every request an id, answered in `X-Request-Id` and carried by every log line written
/// while the request is handled, so that a line can be matched with what the person saw.
pub async fn request_id(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.call(req).instrument(span).await?;
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    Ok(res)
}

pub fn logger() -> Logger {
    Logger::new("%{method}xi %{path}xi %s %Dms request=%{x-request-id}o")
        .custom_request_replace("method", |req: &ServiceRequest| req.method().to_string())
        .custom_request_replace("path", |req: &ServiceRequest| loggable_path(req.path()))
        .exclude("/healthz")
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn a_link_token_is_logged_as_a_fingerprint() {
        let token = "v1.Zm9vYmFy.abcdef0123456789abcdef0123456789";
        let logged = loggable_path(&format!("/actions/{token}"));
        assert!(
            logged.starts_with("/actions/<link ") && !logged.contains(token),
            "{logged}"
        );
        // The same token always gives the same fingerprint, so lines can be matched up.
        assert_eq!(logged, loggable_path(&format!("/actions/{token}")));
        assert_eq!(
            loggable_path("/cases/CSE-2026-000001"),
            "/cases/CSE-2026-000001"
        );
    }
}
