//! Contexts through the API: list, record, read one (with the children the caller may see),
//! link a child, end a link, agree the context's own actions and close them. A context out of
//! the caller's reach answers 404.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::with_conn;
use crate::domain::context::{self, EndLink, NewContext, NewLink};
use crate::domain::context_action::{self, CloseContextAction, NewContextAction};
use crate::error::AppError;
use crate::http::input::Json;
use crate::storage::models::{ContextActionRow, ContextRow};

fn summary(c: &ContextRow) -> serde_json::Value {
    json!({
        "id": c.id, "reference": c.reference, "kind": c.kind, "name": c.name,
        "authority": c.authority_code, "created_at": c.created_at.and_utc(),
    })
}

pub async fn list(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let rows = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context::list(&s.services, conn, &intent, &actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"contexts": rows.iter().map(summary).collect::<Vec<_>>()})))
}

pub async fn create(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: Json<NewContext>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context::create(&s.services, conn, &intent, &actor, &body)
    })
    .await?;
    Ok(HttpResponse::Created().json(summary(&row)))
}

pub async fn read(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let view = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context::read(&s.services, conn, &intent, &actor, &key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn link(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<NewLink>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context::link(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": row.id, "linked_at": row.linked_at.and_utc()})))
}

pub async fn end_link(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<EndLink>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let (key, link) = path.into_inner();
    with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context::end_link(&s.services, conn, &intent, &actor, &key, &link, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"ended": true})))
}

pub async fn agree_action(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<NewContextAction>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context_action::agree(&s.services, conn, &intent, &actor, &key, &body, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(action_summary(&row)))
}

pub async fn close_action(
    state: web::Data<crate::app::AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<CloseContextAction>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let (key, action) = path.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        context_action::close(conn, &intent, &actor, &key, &action, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(action_summary(&row)))
}

fn action_summary(a: &ContextActionRow) -> serde_json::Value {
    json!({
        "id": a.id, "title": a.title, "disruption": a.disruption, "owner_name": a.owner_name,
        "owner_email": a.owner_email, "agency": a.agency_code, "due_date": a.due_date,
        "status": a.status, "close_note": a.close_note,
    })
}
