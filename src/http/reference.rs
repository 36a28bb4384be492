//! Read-only reference routes: workflows and their diagrams, agencies, the signed-in user.
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::SignedIn;
use crate::app::AppState;
use crate::engine::graph;
use crate::error::AppError;
use crate::identity::role_str;

pub async fn me(SignedIn(actor): SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": actor.id, "name": actor.name, "role": role_str(actor.role),
        "team": actor.team, "authority": actor.authority,
    }))
}

pub async fn agencies(state: web::Data<AppState>, _user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(
        json!({ "agencies": state.services.engine.agencies.current().all().collect::<Vec<_>>() }),
    )
}

pub async fn workflows(state: web::Data<AppState>, _user: SignedIn) -> HttpResponse {
    let list: Vec<_> = state
        .services
        .engine
        .registry
        .latest_all()
        .iter()
        .map(|w| {
            json!({
                "name": w.name(), "version": w.version(), "title": w.def.title,
                "description": w.def.description, "primary": w.def.primary,
                "versions": state.services.engine.registry.all_versions(w.name()).iter().map(|v| v.version()).collect::<Vec<_>>(),
                "rules": w.def.rules,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "workflows": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    version: Option<u32>,
    format: Option<String>,
}

fn find(
    state: &AppState,
    name: &str,
    version: Option<u32>,
) -> Result<std::sync::Arc<crate::engine::Workflow>, AppError> {
    match version {
        Some(v) => state.services.engine.registry.get(name, v),
        None => state.services.engine.registry.latest(name),
    }
    .ok_or(AppError::NotFound("workflow"))
}

pub async fn workflow(
    state: web::Data<AppState>,
    _user: SignedIn,
    name: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, AppError> {
    let wf = find(&state, &name, q.version)?;
    Ok(HttpResponse::Ok().json(json!({
        "name": wf.name(), "version": wf.version(), "sha256": wf.sha256, "definition": wf.def,
    })))
}

pub async fn diagram(
    state: web::Data<AppState>,
    _user: SignedIn,
    name: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, AppError> {
    let wf = find(&state, &name, q.version)?;
    match q.format.as_deref().unwrap_or("mermaid") {
        "mermaid" => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(graph::mermaid(&wf))),
        "dot" => Ok(HttpResponse::Ok()
            .content_type("text/vnd.graphviz; charset=utf-8")
            .body(graph::dot(&wf))),
        other => Err(AppError::bad_request(
            "invalid_format",
            "format",
            format!("format must be mermaid or dot; got {other:?}"),
        )),
    }
}
