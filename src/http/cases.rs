//! Case routes: report, list, read, apply an event, allowed events, history.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use crate::app::AppState;
use crate::domain::access_log::{self, Access};
use crate::domain::case::{self, CaseFilter, NewCaseRequest, NewInvolvement};
use crate::engine::EventRequest;
use crate::error::AppError;

/// Runs blocking database work off the async threads with a pooled connection.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, &mut crate::storage::DbConn) -> Result<T, AppError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        f(&state, &mut conn)
    })
    .await?
}

/// Writes to one case the actor may see, logging the write, or the refused write.
pub async fn writing_case<T, F>(
    state: &web::Data<AppState>,
    actor: crate::identity::Actor,
    path: String,
    key: String,
    f: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(
            &AppState,
            &mut crate::storage::DbConn,
            &crate::identity::Actor,
            &crate::storage::models::CaseRow,
        ) -> Result<T, AppError>
        + Send
        + 'static,
{
    with_conn(state, move |s, conn| {
        let c = case::visible_case(conn, &actor, &key)?;
        let result = f(s, conn, &actor, &c);
        let access = if result.is_ok() {
            Access::Write
        } else {
            Access::WriteRefused
        };
        access_log::record(
            conn,
            &actor.id,
            &[&c.id],
            access,
            &path,
            s.engine.now().naive_utc(),
        )?;
        result
    })
    .await
}

/// Reads one case the actor may see, logging the read first.
pub async fn reading_case<T, F>(
    state: &web::Data<AppState>,
    actor: crate::identity::Actor,
    path: String,
    key: String,
    f: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(
            &AppState,
            &mut crate::storage::DbConn,
            &crate::storage::models::CaseRow,
        ) -> Result<T, AppError>
        + Send
        + 'static,
{
    with_conn(state, move |s, conn| {
        let c = case::visible_case(conn, &actor, &key)?;
        access_log::record(
            conn,
            &actor.id,
            &[&c.id],
            Access::Read,
            &path,
            s.engine.now().naive_utc(),
        )?;
        f(s, conn, &c)
    })
    .await
}

pub async fn create(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: web::Json<NewCaseRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        let created = case::create_case(&s.engine, conn, &actor, &body)?;
        access_log::record(
            conn,
            &actor.id,
            &[&created.id],
            Access::Write,
            &path,
            s.engine.now().naive_utc(),
        )?;
        case::view_case(&s.engine, conn, &created)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/cases/{}", view.id)))
        .json(view))
}

pub async fn list(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    filter: web::Query<CaseFilter>,
) -> Result<HttpResponse, AppError> {
    let path = req.uri().to_string();
    let cases = with_conn(&state, move |s, conn| {
        let cases = case::list_cases(&s.engine, conn, &actor, &filter)?;
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        access_log::record(
            conn,
            &actor.id,
            &ids,
            Access::List,
            &path,
            s.engine.now().naive_utc(),
        )?;
        Ok(cases)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "cases": cases })))
}

pub async fn read(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = reading_case(&state, actor, path, key.into_inner(), |s, conn, c| {
        case::view_case(&s.engine, conn, c)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn apply_event(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: web::Json<EventRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let outcome = writing_case(
        &state,
        actor,
        path,
        key.into_inner(),
        move |s, conn, actor, c| s.engine.apply_event(conn, actor, &c.id, &body),
    )
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

pub async fn allowed_events(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let role = actor.role;
    let allowed = reading_case(&state, actor, path, key.into_inner(), move |s, conn, c| {
        Ok(json!({
            "version": c.version,
            "events": s.engine.allowed_events(conn, c, role)?,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(allowed))
}

pub async fn history(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let entries = reading_case(&state, actor, path, key.into_inner(), |_, conn, c| {
        case::history(conn, c)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "history": entries })))
}

/// Who has read or written the case. Team leads only: it is oversight, not casework.
pub async fn access_log(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let rows = with_conn(&state, move |s, conn| {
        let c = case::visible_case(conn, &actor, &key)?;
        if actor.role != crate::identity::RoleName::TeamLead {
            return Err(AppError::Forbidden(
                "only a team lead may read a case's access log".into(),
            ));
        }
        access_log::record(
            conn,
            &actor.id,
            &[&c.id],
            Access::Read,
            &path,
            s.engine.now().naive_utc(),
        )?;
        access_log::for_case(conn, &c.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "access": rows.into_iter().map(|r| json!({
            "user_id": r.user_id, "action": r.action, "path": r.path, "at": r.at.and_utc(),
        })).collect::<Vec<_>>()
    })))
}

pub async fn add_involvement(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: web::Json<NewInvolvement>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let version = writing_case(
        &state,
        actor,
        path,
        key.into_inner(),
        move |s, conn, actor, c| case::add_involvement(&s.engine, conn, actor, &c.id, &body),
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({ "version": version })))
}
