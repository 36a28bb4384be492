//! Liveness and readiness, without a token, saying nothing about cases.
use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::app::AppState;
use crate::error::AppError;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Ready when the database answers and the workflows are loaded.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.pool.clone();
    web::block(move || -> Result<(), AppError> {
        let mut conn = pool.get()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": "ready",
        "workflows": state.services.engine.registry.latest_all().iter()
            .map(|w| format!("{} v{}", w.name(), w.version())).collect::<Vec<_>>(),
    })))
}
