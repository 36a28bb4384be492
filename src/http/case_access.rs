//! Routes that change who may open a case: its team, its restriction, the people named on it,
//! involvements taken off, and break-glass.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::with_conn;
use crate::app::AppState;
use crate::domain::case::{self, RemoveInvolvement};
use crate::domain::case_access::{self, AssignTeam, BreakGlass, NamePerson, Restrict};
use crate::error::AppError;

pub async fn remove_involvement(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: crate::http::input::Json<RemoveInvolvement>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let (key, involvement) = path.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        case::remove_involvement(
            &s.services,
            conn,
            &intent,
            &actor,
            &key,
            &involvement,
            &body,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

pub async fn assign_team(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<AssignTeam>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        case_access::assign_team(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

pub async fn restrict(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<Restrict>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        case_access::restrict(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

pub async fn name_person(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<NamePerson>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        case_access::name_person(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

pub async fn break_glass(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: crate::http::input::Json<BreakGlass>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let opened = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        case_access::break_glass(&s.services, conn, &intent, &actor, &body)
    })
    .await?;
    Ok(HttpResponse::Created().json(opened))
}

/// The child's and family's language and the active offer of Welsh, recorded after the report.
pub async fn correct_child(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<crate::domain::child_correction::ChildCorrection>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let done = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        crate::domain::child_correction::correct(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": done.version, "changed": done.changed })))
}

pub async fn record_languages(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<crate::domain::language_offer::LanguagesAndOffer>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        crate::domain::language_offer::record(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

/// A practitioner records that they have triaged the partner's report the case came from.
pub async fn acknowledge_referral(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        crate::domain::partner_referral::acknowledge(&s.services, conn, &intent, &actor, &key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "acknowledged_at": row.acknowledged_at.map(|t| t.and_utc()),
        "submitted_at": row.submitted_at.and_utc(),
    })))
}
