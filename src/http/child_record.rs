//! The child across cases, through the API: the cases of the same child and of linked siblings
//! that the caller may open, the cases that may be the same child's, and confirming, linking and
//! ending links (`domain/child_record.rs`).
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::{reading_case, with_conn};
use crate::app::AppState;
use crate::domain::child_record::{self, EndLink, OtherCase};
use crate::domain::unit_of_work::Intent;
use crate::domain::Services;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::DbConn;

pub async fn read(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let reader = actor.clone();
    let shown = reading_case(&state, actor, path, key.into_inner(), move |_, conn, c| {
        Ok(json!({
            "related": child_record::related(conn, &reader, c)?,
            "suggestions": child_record::suggestions(conn, &reader, c)?,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(shown))
}

type Change<B> = fn(&Services, &mut DbConn, &Intent<'_>, &Actor, &str, &B) -> Result<i64, AppError>;

async fn change<B: serde::de::DeserializeOwned + Send + 'static>(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    key: String,
    body: B,
    apply: Change<B>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        apply(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version })))
}

pub async fn same_child(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<OtherCase>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    change(
        state,
        actor,
        req,
        key.into_inner(),
        body,
        child_record::confirm_same_child,
    )
    .await
}

pub async fn sibling(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<OtherCase>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    change(
        state,
        actor,
        req,
        key.into_inner(),
        body,
        child_record::link_sibling,
    )
    .await
}

pub async fn end_sibling(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<EndLink>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    change(
        state,
        actor,
        req,
        key.into_inner(),
        body,
        child_record::end_link,
    )
    .await
}
