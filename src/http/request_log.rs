//! The request log: method, path, status and time, with no secret in it. A signed link's path
//! is its token, valid for weeks, so only a short one-way fingerprint of it is written; query
//! strings are left out (they can carry a form's fields).
use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;

/// Routes whose last segment is a signed link's token.
const LINK_ROUTES: &[&str] = &["/respond/", "/actions/"];

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

pub fn logger() -> Logger {
    Logger::new("%{method}xi %{path}xi %s %Dms")
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
