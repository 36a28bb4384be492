//! HTTP: routes, body limits and the mapping of framework errors onto the one error type.
pub mod admin;
pub mod auth;
pub mod case_access;
pub mod cases;
pub mod child_record;
pub mod client_address;
pub mod contexts;
pub mod follow_up;
pub mod health;
pub mod input;
pub mod language;
pub mod link_gate;
pub mod meetings;
pub mod metrics;
pub mod openapi;
pub mod reference;
pub mod request_log;
pub mod risk;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::error::AppError;

/// Every route, for the OpenAPI completeness test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/me"),
    ("GET", "/api/agencies"),
    ("GET", "/api/workflows"),
    ("GET", "/api/workflows/{name}"),
    ("GET", "/api/workflows/{name}/diagram"),
    ("GET", "/api/cases"),
    ("POST", "/api/cases"),
    ("GET", "/api/cases/{key}"),
    ("POST", "/api/cases/{key}/events"),
    ("GET", "/api/cases/{key}/events/allowed"),
    ("GET", "/api/cases/{key}/history"),
    ("GET", "/api/cases/{key}/access-log"),
    ("POST", "/api/cases/{key}/involvements"),
    ("GET", "/api/cases/{key}/suggested-invitees"),
    ("GET", "/api/cases/{key}/actions"),
    ("POST", "/api/cases/{key}/actions"),
    ("POST", "/api/cases/{key}/actions/{action_id}/updates"),
    ("GET", "/api/cases/{key}/reviews"),
    ("POST", "/api/cases/{key}/departures"),
    ("GET", "/api/dashboard"),
    ("GET", "/api/dashboard/{list}"),
    ("POST", "/api/meetings"),
    ("GET", "/api/meetings/{id}"),
    ("POST", "/api/meetings/{id}/reschedule"),
    ("POST", "/api/meetings/{id}/cancel"),
    ("POST", "/api/meetings/{id}/record"),
    (
        "POST",
        "/api/cases/{key}/involvements/{involvement_id}/remove",
    ),
    ("POST", "/api/cases/{key}/team"),
    ("POST", "/api/cases/{key}/languages"),
    ("POST", "/api/cases/{key}/child"),
    ("POST", "/api/cases/{key}/restriction"),
    ("POST", "/api/cases/{key}/named"),
    ("POST", "/api/break-glass"),
    ("GET", "/api/admin/tokens"),
    ("POST", "/api/admin/tokens/{id}/revoke"),
    ("GET", "/api/admin/mail"),
    ("POST", "/api/admin/mail/{id}/retry"),
    ("POST", "/api/admin/mail/retry-failed"),
    ("GET", "/api/admin/security-events"),
    ("GET", "/api/admin/referral-links"),
    ("POST", "/api/admin/referral-links"),
    ("POST", "/api/admin/referral-links/{id}/revoke"),
    ("POST", "/api/cases/{key}/referral/acknowledge"),
    ("GET", "/api/cases/{key}/child-record"),
    ("POST", "/api/cases/{key}/same-child"),
    ("POST", "/api/cases/{key}/siblings"),
    ("POST", "/api/cases/{key}/siblings/end"),
    ("GET", "/api/contexts"),
    ("POST", "/api/contexts"),
    ("GET", "/api/contexts/{context}"),
    ("POST", "/api/contexts/{context}/links"),
    ("POST", "/api/contexts/{context}/links/{link_id}/end"),
    ("POST", "/api/contexts/{context}/actions"),
    (
        "POST",
        "/api/contexts/{context}/actions/{context_action_id}/close",
    ),
    ("GET", "/api/cases/{key}/risk"),
    ("POST", "/api/cases/{key}/risk-assessments"),
    ("POST", "/api/cases/{key}/significant-changes"),
    ("POST", "/api/cases/{key}/missing-episodes"),
    ("POST", "/api/cases/{key}/missing-episodes/{episode_id}"),
    ("GET", "/respond/{token}"),
    ("POST", "/respond/{token}"),
    ("GET", "/actions/{token}"),
    ("POST", "/actions/{token}"),
    ("POST", "/link-code/{purpose}"),
];

/// serde names the offending field in backticks ("missing field `event`"); pass it on.
pub(crate) fn field_from_serde(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => AppError::PayloadTooLarge(*limit),
        JsonPayloadError::ContentType => AppError::BadRequest {
            code: "unsupported_media_type",
            field: None,
            message: "send the body as application/json".into(),
        },
        JsonPayloadError::Deserialize(e) => {
            let message = e.to_string();
            AppError::BadRequest {
                code: "invalid_body",
                field: field_from_serde(&message),
                message: format!("the request body is not valid: {message}"),
            }
        }
        other => AppError::BadRequest {
            code: "invalid_body",
            field: None,
            message: format!("the request body could not be read: {other}"),
        },
    };
    app.into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    AppError::BadRequest {
        code: "invalid_query",
        field: field_from_serde(&message),
        message: format!("the query string is not valid: {message}"),
    }
    .into()
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("route"))
}

pub fn configure(cfg: &mut web::ServiceConfig, state: AppState) {
    let limit = state.config.max_body_bytes;
    cfg.app_data(web::Data::new(state))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::default().limit(limit))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        // Page forms carry long free text (up to 10,000 characters a fact, several facts).
        .app_data(web::FormConfig::default().limit(limit))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::scrape))
        .service(
            web::scope("/api")
                .route("/openapi.json", web::get().to(openapi::openapi))
                .route("/me", web::get().to(reference::me))
                .route("/agencies", web::get().to(reference::agencies))
                .route("/workflows", web::get().to(reference::workflows))
                .route("/workflows/{name}", web::get().to(reference::workflow))
                .route(
                    "/workflows/{name}/diagram",
                    web::get().to(reference::diagram),
                )
                .route("/cases", web::get().to(cases::list))
                .route("/cases", web::post().to(cases::create))
                .route("/cases/{key}", web::get().to(cases::read))
                .route("/cases/{key}/events", web::post().to(cases::apply_event))
                .route(
                    "/cases/{key}/events/allowed",
                    web::get().to(cases::allowed_events),
                )
                .route("/cases/{key}/history", web::get().to(cases::history))
                .route("/cases/{key}/access-log", web::get().to(cases::access_log))
                .route(
                    "/cases/{key}/involvements",
                    web::post().to(cases::add_involvement),
                )
                .route(
                    "/cases/{key}/suggested-invitees",
                    web::get().to(meetings::suggested_invitees),
                )
                .route(
                    "/cases/{key}/actions",
                    web::get().to(follow_up::list_actions),
                )
                .route(
                    "/cases/{key}/actions",
                    web::post().to(follow_up::create_action),
                )
                .route(
                    "/cases/{key}/actions/{action_id}/updates",
                    web::post().to(follow_up::change_action),
                )
                .route("/cases/{key}/reviews", web::get().to(follow_up::reviews))
                .route(
                    "/cases/{key}/departures",
                    web::post().to(follow_up::record_departure),
                )
                .route("/dashboard", web::get().to(follow_up::dashboard))
                .route("/dashboard/{list}", web::get().to(follow_up::dashboard_csv))
                .route("/meetings", web::post().to(meetings::create))
                .route("/meetings/{id}", web::get().to(meetings::read))
                .route(
                    "/meetings/{id}/reschedule",
                    web::post().to(meetings::reschedule),
                )
                .route("/meetings/{id}/cancel", web::post().to(meetings::cancel))
                .route("/meetings/{id}/record", web::post().to(meetings::record))
                .route(
                    "/cases/{key}/involvements/{involvement_id}/remove",
                    web::post().to(case_access::remove_involvement),
                )
                .route(
                    "/cases/{key}/team",
                    web::post().to(case_access::assign_team),
                )
                .route(
                    "/cases/{key}/languages",
                    web::post().to(case_access::record_languages),
                )
                .route(
                    "/cases/{key}/child",
                    web::post().to(case_access::correct_child),
                )
                .route(
                    "/cases/{key}/restriction",
                    web::post().to(case_access::restrict),
                )
                .route(
                    "/cases/{key}/named",
                    web::post().to(case_access::name_person),
                )
                .route("/contexts", web::get().to(contexts::list))
                .route("/contexts", web::post().to(contexts::create))
                .route("/contexts/{context}", web::get().to(contexts::read))
                .route("/contexts/{context}/links", web::post().to(contexts::link))
                .route(
                    "/contexts/{context}/links/{link_id}/end",
                    web::post().to(contexts::end_link),
                )
                .route(
                    "/contexts/{context}/actions",
                    web::post().to(contexts::agree_action),
                )
                .route(
                    "/contexts/{context}/actions/{context_action_id}/close",
                    web::post().to(contexts::close_action),
                )
                .route("/cases/{key}/risk", web::get().to(risk::read))
                .route(
                    "/cases/{key}/risk-assessments",
                    web::post().to(risk::assess),
                )
                .route(
                    "/cases/{key}/significant-changes",
                    web::post().to(risk::significant_change),
                )
                .route(
                    "/cases/{key}/missing-episodes",
                    web::post().to(risk::record_episode),
                )
                .route(
                    "/cases/{key}/missing-episodes/{episode_id}",
                    web::post().to(risk::update_episode),
                )
                .route("/break-glass", web::post().to(case_access::break_glass))
                .route("/admin/tokens", web::get().to(admin::tokens))
                .route(
                    "/admin/tokens/{id}/revoke",
                    web::post().to(admin::revoke_token),
                )
                .route("/admin/mail", web::get().to(admin::troubled_mail))
                .route("/admin/mail/{id}/retry", web::post().to(admin::retry_mail))
                .route(
                    "/admin/mail/retry-failed",
                    web::post().to(admin::retry_all_mail),
                )
                .route(
                    "/admin/security-events",
                    web::get().to(admin::security_events),
                )
                .route(
                    "/admin/referral-links",
                    web::get().to(admin::referral_links),
                )
                .route(
                    "/admin/referral-links",
                    web::post().to(admin::issue_referral_link),
                )
                .route(
                    "/admin/referral-links/{id}/revoke",
                    web::post().to(admin::revoke_referral_link),
                )
                .route(
                    "/cases/{key}/referral/acknowledge",
                    web::post().to(case_access::acknowledge_referral),
                )
                .route(
                    "/cases/{key}/child-record",
                    web::get().to(child_record::read),
                )
                .route(
                    "/cases/{key}/same-child",
                    web::post().to(child_record::same_child),
                )
                .route(
                    "/cases/{key}/siblings",
                    web::post().to(child_record::sibling),
                )
                .route(
                    "/cases/{key}/siblings/end",
                    web::post().to(child_record::end_sibling),
                ),
        )
        .route("/respond/{token}", web::get().to(meetings::answer_page))
        .route("/respond/{token}", web::post().to(meetings::answer))
        .route("/actions/{token}", web::get().to(meetings::actions_page))
        .route("/actions/{token}", web::post().to(meetings::actions_update))
        .route(
            "/link-code/{purpose}",
            web::post().to(link_gate::enter_code),
        )
        .configure(crate::web::configure)
        .default_service(web::to(not_found));
}

#[cfg(test)]
mod tests {
    #[test]
    fn openapi_lists_every_route() {
        let doc = super::openapi::document(&[]);
        for (method, path) in super::ROUTES {
            let op = &doc["paths"][*path][method.to_lowercase()];
            assert!(
                op.is_object(),
                "{method} {path} is missing from the OpenAPI document"
            );
        }
    }
}
