//! Routes for following a case up: its agreed actions, reviews and timescale departures, and
//! the team lead's dashboard with its CSV lists.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::{reading_case, with_conn, writing_case};
use crate::app::AppState;
use crate::domain::access_log::{self, Access};
use crate::domain::agreed_action::{self, ActionChange, ActionSummary, NewAction};
use crate::domain::review::{self, DepartureRequest};
use crate::error::AppError;
use crate::follow_up::dashboard::{self, Period};
use crate::time::wales::london_date;

pub async fn list_actions(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let actions = reading_case(&state, actor, path, key.into_inner(), |s, conn, c| {
        agreed_action::list(conn, c, s.services.today())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "actions": actions })))
}

pub async fn create_action(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<NewAction>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let row = writing_case(
        &state,
        actor,
        path,
        key.into_inner(),
        move |s, conn, actor, c, now| {
            agreed_action::create(conn, &s.services, actor, c, &body, now)
        },
    )
    .await?;
    let today = london_date(state.services.now());
    Ok(HttpResponse::Created().json(ActionSummary::of(&row, today)))
}

pub async fn change_action(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    ids: web::Path<(String, String)>,
    body: crate::http::input::Json<ActionChange>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let (key, action_id) = ids.into_inner();
    let row = writing_case(&state, actor, path, key, move |s, conn, actor, c, now| {
        agreed_action::change(conn, &s.services, actor, c, &action_id, &body, now)
    })
    .await?;
    let today = london_date(state.services.now());
    Ok(HttpResponse::Ok().json(ActionSummary::of(&row, today)))
}

pub async fn reviews(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let lang = actor.language;
    let list = reading_case(&state, actor, path, key.into_inner(), move |s, conn, c| {
        review::reviews_of(
            conn,
            &s.services.engine,
            &c.id,
            s.services.now().naive_utc(),
            lang,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "reviews": list })))
}

pub async fn record_departure(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: crate::http::input::Json<DepartureRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let row = writing_case(
        &state,
        actor,
        path,
        key.into_inner(),
        move |s, conn, actor, c, now| {
            let primary = s.services.engine.registry.primary().name().to_string();
            review::record_departure(conn, &s.services.audit_key, &primary, actor, c, &body, now)
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "id": row.id, "step": row.state, "review_id": row.review_id,
        "due_at": row.due_at.and_utc(), "rationale": row.rationale,
        "recorded_by": row.recorded_by, "recorded_at": row.recorded_at.and_utc(),
    })))
}

/// Builds the dashboard and logs it as a read of every case it names.
pub async fn dashboard_for(
    state: &web::Data<AppState>,
    actor: crate::identity::Actor,
    path: String,
    period: Period,
) -> Result<dashboard::Dashboard, AppError> {
    with_conn(state, move |s, conn| {
        let now = s.services.now();
        let built = dashboard::build(conn, &s.services.engine, &actor, &period, now)?;
        access_log::record(
            conn,
            &s.services.audit_key,
            &actor.id,
            &built.lists.case_ids(),
            Access::List,
            &path,
            now.naive_utc(),
        )?;
        Ok(built)
    })
    .await
}

pub async fn dashboard(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    period: web::Query<Period>,
) -> Result<HttpResponse, AppError> {
    let built = dashboard_for(&state, actor, req.path().to_string(), period.into_inner()).await?;
    Ok(HttpResponse::Ok().json(built))
}

pub async fn dashboard_csv(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    list: web::Path<String>,
    period: web::Query<Period>,
) -> Result<HttpResponse, AppError> {
    csv_download(
        &state,
        actor,
        req.path().to_string(),
        &list,
        period.into_inner(),
    )
    .await
}

/// One dashboard list as a CSV download, for the API and the page alike. The access log
/// records a read of the cases that list names, once the list is known to exist.
pub async fn csv_download(
    state: &web::Data<AppState>,
    actor: crate::identity::Actor,
    path: String,
    list: &str,
    period: Period,
) -> Result<HttpResponse, AppError> {
    let name = list.strip_suffix(".csv").unwrap_or(list).to_string();
    let list_name = name.clone();
    let (built, body) = with_conn(state, move |s, conn| {
        let now = s.services.now();
        let built = dashboard::build(conn, &s.services.engine, &actor, &period, now)?;
        let body = dashboard::csv(&built, &list_name)?;
        let named = dashboard::csv_case_ids(&built, &list_name);
        access_log::record(
            conn,
            &s.services.audit_key,
            &actor.id,
            &named,
            Access::List,
            &path,
            now.naive_utc(),
        )?;
        Ok((built, body))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{name}-{}-{}.csv\"",
                built.authority, built.period_to
            ),
        ))
        .body(body))
}
