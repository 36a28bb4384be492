//! Case routes: report, list, read, apply an event, allowed events, history, involvements.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use crate::app::AppState;
use crate::domain::access_log::{self, Access};
use crate::domain::case::{self, CaseFilter, NewInvolvement};
use crate::domain::report::{self, NewCaseRequest};
use crate::domain::transition::{self, EventRequest};
use crate::domain::unit_of_work;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::models::CaseRow;
use crate::storage::DbConn;

/// Runs blocking database work off the async threads with a pooled connection.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, &mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let waiting = std::time::Instant::now();
        let mut conn = state.pool.get()?;
        crate::http::metrics::pool_waited(waiting);
        f(&state, &mut conn)
    })
    .await?
}

/// A change to one case the actor may see, as one unit of work (`unit_of_work::on_case`).
pub async fn writing_case<T, F>(
    state: &web::Data<AppState>,
    actor: Actor,
    path: String,
    key: String,
    mut f: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnMut(
            &AppState,
            &mut DbConn,
            &Actor,
            &CaseRow,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<T, AppError>
        + Send
        + 'static,
{
    with_conn(state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        // One clock reading for the change, its audit entry and its access-log line.
        unit_of_work::on_case(conn, &intent, &actor, &key, |conn, c| {
            f(s, conn, &actor, c, intent.now)
        })
    })
    .await
}

/// Reads one case the actor may see, logged before the answer leaves.
pub async fn reading_case<T, F>(
    state: &web::Data<AppState>,
    actor: Actor,
    path: String,
    key: String,
    f: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, &mut DbConn, &CaseRow) -> Result<T, AppError> + Send + 'static,
{
    with_conn(state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        unit_of_work::reading_case(conn, &intent, &actor, &key, |conn, c| f(s, conn, c))
    })
    .await
}

pub async fn create(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: crate::http::input::Json<NewCaseRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        let created = report::record(&s.services, conn, &intent, &actor, &body, None)?;
        case::view_case(&s.services, conn, &created, actor.language)
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
        let intent = s.services.intent(&actor.id, &path);
        unit_of_work::read(conn, &intent, Access::List, |conn, touched| {
            let cases = case::list_cases(&s.services, conn, &actor, &filter)?;
            touched.cases(cases.iter().map(|c| c.id.as_str()));
            Ok(cases)
        })
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
    let lang = actor.language;
    let view = reading_case(&state, actor, path, key.into_inner(), move |s, conn, c| {
        case::view_case(&s.services, conn, c, lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn apply_event(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<EventRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let key = key.into_inner();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        transition::apply(&s.services, conn, &intent, &actor, &key, &body)
    })
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
            "events": transition::allowed_events(&s.services, conn, c, role)?,
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
    // Refused alike for every case, seen or not, so the refusal tells nothing about one.
    if !crate::domain::case_access::oversees(&actor) {
        return Err(AppError::Forbidden(
            "only a team lead or senior manager may read a case's access log".into(),
        ));
    }
    let path = req.path().to_string();
    let rows = reading_case(&state, actor, path, key.into_inner(), |_, conn, c| {
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
    body: crate::http::input::Json<NewInvolvement>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let key = key.into_inner();
    let version = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        case::add_involvement(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "version": version })))
}
