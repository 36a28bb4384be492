//! A child's risk over time through the API: the assessment to answer, the assessments made and
//! the review due, missing episodes recorded and updated.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::{reading_case, with_conn};
use crate::app::AppState;
use crate::domain::missing_episode::{self, EpisodeUpdate, NewEpisode};
use crate::domain::risk_assessment::{self, NewAssessment};
use crate::domain::risk_over_time;
use crate::error::AppError;
use crate::http::input::Json;
use crate::i18n::Language;

/// The questions, answers and categories of the risk assessment, in the reader's language.
pub fn assessment_json(state: &AppState, lang: Language) -> serde_json::Value {
    match state.services.engine.registry.assessment() {
        None => serde_json::Value::Null,
        Some(a) => json!({
            "name": a.name, "version": a.version, "title": a.title_in(lang),
            "guidance": a.guidance_in(lang), "source": a.source,
            "answers": a.answers.iter().map(|c| json!({"id": c.id, "label": c.label_in(lang)})).collect::<Vec<_>>(),
            "questions": a.questions.iter().map(|q| json!({"id": q.id, "text": q.text_in(lang), "quote": q.quote})).collect::<Vec<_>>(),
            "categories": a.categories.iter().map(|c| json!({"id": c.id, "title": c.title_in(lang), "review_within_working_days": c.review_within_working_days})).collect::<Vec<_>>(),
            "return_interview_within_hours": a.missing_episodes.return_interview_within_hours,
        }),
    }
}

pub async fn read(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let lang = actor.language;
    let body = reading_case(&state, actor, path, key.into_inner(), move |s, conn, c| {
        let view = risk_over_time::view(&s.services, conn, c, lang)?;
        Ok(json!({"reference": c.reference, "risk": view, "assessment": assessment_json(s, lang)}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

pub async fn assess(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<NewAssessment>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        risk_assessment::record(&s.services, conn, &intent, &actor, &key, &body, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "id": row.id, "category": row.category, "next_review_on": row.next_review_on,
        "assessed_at": row.assessed_at.and_utc(),
    })))
}

fn episode_json(e: &crate::storage::models::MissingEpisodeRow) -> serde_json::Value {
    let t = |v: Option<chrono::NaiveDateTime>| v.map(|t| t.and_utc());
    json!({
        "id": e.id, "went_missing_at": e.went_missing_at.and_utc(), "returned_at": t(e.returned_at),
        "reported_by": e.reported_by, "return_interview_due_at": t(e.return_interview_due_at),
        "interview_offered_at": t(e.interview_offered_at), "interview_held_at": t(e.interview_held_at),
    })
}

pub async fn record_episode(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<NewEpisode>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        missing_episode::record(&s.services, conn, &intent, &actor, &key, &body, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(episode_json(&row)))
}

pub async fn update_episode(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<EpisodeUpdate>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let (key, episode) = path.into_inner();
    let row = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        missing_episode::update(&s.services, conn, &intent, &actor, &key, &episode, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(episode_json(&row)))
}

pub async fn significant_change(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<crate::domain::risk_review::SignificantChange>,
) -> Result<HttpResponse, AppError> {
    let at = req.path().to_string();
    let key = key.into_inner();
    let due = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &at);
        crate::domain::risk_review::record_change(&s.services, conn, &intent, &actor, &key, &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"risk_review_due": due})))
}
