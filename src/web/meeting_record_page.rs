//! Recording that a meeting was held: who attended, a summary of the decisions (sent to
//! everyone invited, so it must not name the child), and the next date. The case page's own
//! forms record the outcome for each child (attendance and direct knowledge, other issues, the
//! child's views, agreed actions, plan or the rationale for none).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{first, Submitted};
use super::{see_other, signed_in, PageContext};
use crate::app::AppState;
use crate::domain::meeting::{self, AttendanceInput, RecordRequest, SectionInput};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::time::wales;

fn page_data(
    state: &AppState,
    page: &PageContext,
    view: &Value,
    typed: Option<&Submitted>,
    errors: Value,
) -> Value {
    let lang = if page.lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    };
    let starts = view["starts_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| wales::date_time(t.with_timezone(&chrono::Utc), lang))
        .unwrap_or_default();
    json!({
        "title": state.pages.word(&page.lang, "record_meeting"),
        "id": view["id"], "kind": meeting::kind_name(&state.services.engine, view["kind"].as_str().unwrap_or(""), lang), "starts": starts,
        "location": view["location"], "status": view["status"],
        "cases": view["cases"],
        "invitees": view["invitees"].as_array().into_iter().flatten().map(|i| {
            let id = i["id"].as_str().unwrap_or("");
            json!({"id": id, "name": i["name"], "role": i["role"], "response": i["response"],
                   "attended": match typed { Some(f) => first(f, &format!("attended:{id}")).is_some(), None => i["response"] == "accepted" }})
        }).collect::<Vec<_>>(),
        "summary": typed.and_then(|f| first(f, "summary")).unwrap_or(""),
        "several": view["cases"].as_array().is_some_and(|c| c.len() > 1),
        "sections": view["cases"].as_array().into_iter().flatten().enumerate().map(|(index, c)| {
            let id = c["id"].as_str().unwrap_or("");
            json!({"index": index, "case_id": id, "reference": c["reference"],
                   "text": typed.and_then(|f| first(f, &format!("section:{id}"))).unwrap_or("")})
        }).collect::<Vec<_>>(),
        "next_meeting_at": typed.and_then(|f| first(f, "next_meeting_at")).unwrap_or(""),
        "errors": errors,
    })
}

fn render(state: &AppState, page: &PageContext, status: StatusCode, data: Value) -> HttpResponse {
    super::page_response(state, "meeting_record", page, status, data)
}

pub async fn record_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let found = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        meeting::read(&s.services.engine, conn, &intent, &actor, &id)
    })
    .await;
    Ok(match found {
        Ok(view) => {
            let data = page_data(&state, &page, &view, None, json!([]));
            render(&state, &page, StatusCode::OK, data)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = id.into_inner();
    let back = format!("/meetings/{id}/record");
    let (user, page) = match super::signed_in_post(&req, &state, &form, back).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let typed = form.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let seen = meeting::seen_meeting(conn, &actor, &id)?;
        let view = meeting::view(&s.services.engine, conn, &seen, &actor)?;
        let attendees = view["invitees"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str())
            .map(|iid| AttendanceInput {
                invitee_id: iid.to_string(),
                attended: first(&typed, &format!("attended:{iid}")).is_some(),
            })
            .collect();
        let request = RecordRequest {
            summary: first(&typed, "summary").unwrap_or("").to_string(),
            next_meeting_at: first(&typed, "next_meeting_at")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            attendees,
            sections: seen
                .visible
                .iter()
                .filter_map(|c| {
                    let text = first(&typed, &format!("section:{}", c.id))?.trim();
                    (!text.is_empty()).then(|| SectionInput {
                        case: c.id.clone(),
                        text: text.to_string(),
                    })
                })
                .collect(),
        };
        let intent = s.services.intent(&actor.id, &path);
        let result = meeting::record(&s.services, conn, &intent, &actor, &id, &request);
        let first_case = seen
            .visible
            .first()
            .map(|c| c.reference.clone())
            .unwrap_or_default();
        Ok((first_case, view, result))
    })
    .await;
    Ok(match outcome {
        Ok((reference, _, Ok(()))) => see_other(&format!("/cases/{reference}")),
        Ok((_, view, Err(e))) => {
            let errors = json!([{"id": match e.field() { Some("next_meeting_at") => "m-next", _ => "m-summary" }, "message": super::error_text(&state, &page.lang, &e)}]);
            let data = page_data(&state, &page, &view, Some(&form), errors);
            render(&state, &page, e.status_code(), data)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}
