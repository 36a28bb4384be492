//! A meeting's own page: when and where, who was invited and how each answered (with their
//! reason), and for its chair the forms that move it (a date in three boxes, times beside it)
//! or cancel it, each with a reason that goes to everyone invited. What it shows of the
//! meeting's children is what `meeting::read` lets this reader see.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{self, first, Submitted};
use super::{see_other, signed_in, PageContext, WebUser};
use crate::app::AppState;
use crate::domain::meeting::{self, CancelRequest, RescheduleRequest};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::identity::RoleName;
use crate::time::wales;

/// Which form was refused, what was typed in it, and why.
struct Refused<'a> {
    form_name: &'a str,
    typed: &'a Submitted,
    error: &'a AppError,
}

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

/// The input a refusal belongs to, by the field the domain names.
fn input_of(form_name: &str, field: &str) -> String {
    let input = match field {
        "starts_at" | "starts_time" => "starts_time",
        "ends_at" | "ends_time" => "ends_time",
        "meeting_date" => "date",
        "confirm_warnings_rationale" => "rationale",
        "location" | "online_link" => field,
        _ => "reason",
    };
    format!("{form_name}-{input}")
}

fn time_of(view: &Value, key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    view[key]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn page_data(
    state: &AppState,
    user: &WebUser,
    lang: &str,
    view: &Value,
    refused: Option<&Refused<'_>>,
) -> Value {
    let engine = &state.services.engine;
    let lang_of = language(lang);
    let word = |k: &str| state.pages.word(lang, k);
    let starts = time_of(view, "starts_at");
    let ends = time_of(view, "ends_at");
    let typed = |name: &str| refused.filter(|r| r.form_name == name).map(|r| r.typed);
    let text = |form: &str, k: &str, default: &str| {
        typed(form)
            .map(|f| first(f, k).unwrap_or("").to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let error_at = |input: &str| -> Value {
        refused
            .filter(|r| input_of(r.form_name, r.error.field().unwrap_or("reason")) == input)
            .map(|r| json!(super::error_text(state, lang, r.error)))
            .unwrap_or(Value::Null)
    };
    let invitees: Vec<Value> = view["invitees"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let response = i["response"].as_str().unwrap_or("pending");
            let agency = i["agency"]
                .as_str()
                .and_then(|c| engine.agencies.current().get(c).map(|a| if lang == "cy" { a.name_cy.clone() } else { a.name_en.clone() }));
            json!({
                "name": i["name"], "agency": agency,
                "role": super::meeting_pages::role_in(state, lang, i["role"].as_str().unwrap_or("")),
                "answer": word(&format!("status_{response}")),
                "colour": match response { "accepted" => "green", "declined" => "red", _ => "grey" },
                "reason": i["response_reason"],
                "answered": time_of(i, "responded_at").map(|t| wales::date_time(t, lang_of)),
            })
        })
        .collect();
    let count = |r: &str| {
        view["invitees"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["response"].as_str().unwrap_or("pending") == r)
            .count()
    };
    let scheduled = view["status"] == "scheduled";
    let chair = view["chair_user_id"].as_str() == Some(user.actor.id.as_str());
    let covers = matches!(
        user.actor.role,
        RoleName::TeamLead | RoleName::SeniorManager
    );
    let (date, start_time) = starts
        .map(forms::meeting_time_parts)
        .unwrap_or((forms::date_parts(None, "date", None), String::new()));
    let end_time = ends
        .map(|t| forms::meeting_time_parts(t).1)
        .unwrap_or_default();
    let mut date = match typed("move") {
        Some(f) => forms::date_parts(Some(f), "date", None),
        None => date,
    };
    date["id"] = json!("move-date");
    date["name"] = json!("date");
    date["legend"] = json!(word("meeting_date"));
    date["error"] = error_at("move-date");
    let needs_rationale =
        refused.is_some_and(|r| r.form_name == "move" && r.error.code() == "scheduling_warnings");
    let token = |name: &str| {
        typed(name)
            .and_then(|f| first(f, "form_token"))
            .filter(|t| t.len() == 64)
            .map(str::to_string)
            .unwrap_or_else(super::session::random_token)
    };
    let mut errors = Vec::new();
    if let Some(r) = refused {
        errors.push(json!({
            "id": input_of(r.form_name, r.error.field().unwrap_or("reason")),
            "message": super::error_text(state, lang, r.error),
        }));
    }
    let kind = meeting::kind_name(engine, view["kind"].as_str().unwrap_or(""), lang_of);
    let heading = crate::i18n::sentence_start(&kind);
    json!({
        "title": heading,
        "errors": errors,
        "meeting": {
            "id": view["id"], "kind": heading,
            "starts": starts.map(|t| wales::date_time(t, lang_of)),
            "ends": end_time,
            "location": view["location"], "online_link": view["online_link"],
            "status": word(&format!("status_{}", view["status"].as_str().unwrap_or(""))),
            "scheduled": scheduled, "held": view["status"] == "held",
            "cancel_reason": view["cancel_reason"],
            "cases": view["cases"],
            "agenda": view["agenda"].as_array().cloned().unwrap_or_default().iter().map(|c| json!({
                "reference": c["reference"], "name": c["name"],
                "kind": word(&format!("context_kind_{}", c["kind"].as_str().unwrap_or(""))),
                "children": c["children"], "actions": c["actions"],
            })).collect::<Vec<_>>(),
        },
        "invitees": invitees,
        "answers": {"accepted": count("accepted"), "declined": count("declined"), "pending": count("pending")},
        "may_change": scheduled && (chair || covers),
        "may_record": scheduled && (chair || covers),
        "move": {
            "open": typed("move").is_some(),
            "date": date,
            "starts_time": text("move", "starts_time", &start_time),
            "ends_time": text("move", "ends_time", &end_time),
            "location": text("move", "location", view["location"].as_str().unwrap_or("")),
            "online_link": text("move", "online_link", view["online_link"].as_str().unwrap_or("")),
            "reason": text("move", "reason", ""),
            "rationale": text("move", "confirm_warnings_rationale", ""),
            "needs_rationale": needs_rationale,
            "errors": {
                "starts_time": error_at("move-starts_time"), "ends_time": error_at("move-ends_time"),
                "location": error_at("move-location"), "online_link": error_at("move-online_link"),
                "reason": error_at("move-reason"), "rationale": error_at("move-rationale"),
            },
            "form_token": token("move"),
        },
        "cancel": {
            "open": typed("cancel").is_some(),
            "reason": text("cancel", "reason", ""),
            "errors": {"reason": error_at("cancel-reason")},
            "form_token": token("cancel"),
        },
    })
}

/// The meeting as this reader may see it, access-logged; `None` when it is hidden from them.
fn read_view(
    s: &AppState,
    conn: &mut crate::storage::DbConn,
    user: &WebUser,
    path: &str,
    id: &str,
) -> Result<Option<Value>, AppError> {
    let intent = s.services.intent(&user.actor.id, path);
    match meeting::read(&s.services.engine, conn, &intent, &user.actor, id) {
        Ok(v) => Ok(Some(v)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn respond(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    data: Option<Value>,
) -> HttpResponse {
    match data {
        Some(d) => super::page_response(state, "meeting", page, status, d),
        None => super::not_found_page(state, page),
    }
}

pub async fn meeting_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let done =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("done").map(|d| format!("done_{d}")))
            .filter(|k| state.pages.has(k));
    let lang = page.lang.clone();
    let path = req.path().to_string();
    let id = id.into_inner();
    let data = with_conn(&state, move |s, conn| {
        Ok(read_view(s, conn, &user, &path, &id)?.map(|v| {
            let mut d = page_data(s, &user, &lang, &v, None);
            if let Some(k) = &done {
                d["notice"] = json!(s.pages.word(&lang, k));
            }
            d
        }))
    })
    .await?;
    Ok(respond(&state, &page, StatusCode::OK, data))
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    form: Submitted,
    form_name: &'static str,
) -> Result<HttpResponse, AppError> {
    let back = format!("/meetings/{id}");
    let (user, page) = match super::signed_in_post(&req, &state, &form, back).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let token = first(&form, "form_token").unwrap_or("").to_string();
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let meeting_id = id.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let get = |k: &str| first(&form, k).unwrap_or("").trim().to_string();
        let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
        let intent = s.services.intent(&user.actor.id, &path);
        let attempt = match form_name {
            "move" => forms::meeting_times_from(&form).and_then(|(starts_at, ends_at)| {
                meeting::reschedule(
                    &s.services,
                    conn,
                    &intent,
                    &user.actor,
                    &meeting_id,
                    &RescheduleRequest {
                        starts_at,
                        ends_at,
                        location: optional("location"),
                        online_link: optional("online_link"),
                        reason: get("reason"),
                        confirm_warnings_rationale: optional("confirm_warnings_rationale"),
                    },
                    Some(&token),
                )
            }),
            _ => meeting::cancel(
                &s.services,
                conn,
                &intent,
                &user.actor,
                &meeting_id,
                &CancelRequest {
                    reason: get("reason"),
                },
                Some(&token),
            ),
        };
        match attempt {
            Ok(()) => Ok(Ok(())),
            // Sent twice: the first one did it.
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Ok(())),
            Err(e) => {
                let view = read_view(s, conn, &user, &path, &meeting_id)?;
                let refused = Refused {
                    form_name,
                    typed: &form,
                    error: &e,
                };
                Ok(Err((
                    e.status_code(),
                    view.map(|v| page_data(s, &user, &lang, &v, Some(&refused))),
                )))
            }
        }
    })
    .await?;
    Ok(match outcome {
        Ok(()) => {
            let done = if form_name == "move" {
                "meeting_moved"
            } else {
                "meeting_cancelled"
            };
            see_other(&format!("/meetings/{id}?done={done}"))
        }
        Err((status, data)) => respond(&state, &page, status, data),
    })
}

pub async fn reschedule(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(state, req, id.into_inner(), form.into_inner(), "move").await
}

pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(state, req, id.into_inner(), form.into_inner(), "cancel").await
}
