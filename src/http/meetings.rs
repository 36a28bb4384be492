//! Meeting routes for signed-in users, and the public answer page reached from an email.
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::{reading_case, with_conn};
use crate::app::AppState;
use crate::domain::access_log::{self, Access};
use crate::domain::meeting::{
    self, Answer, CancelRequest, MeetingRequest, RecordRequest, RescheduleRequest,
};
use crate::error::AppError;
use crate::identity::RoleName;
use crate::mail::links::{LinkError, Purpose};

fn log_cases(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    actor: &str,
    ids: &[&str],
    access: Access,
    path: &str,
) -> Result<(), AppError> {
    access_log::record(
        conn,
        actor,
        ids,
        access,
        path,
        state.engine.now().naive_utc(),
    )
}

/// Shows a meeting after `change` (if any) and logs the access to each child's case it shows.
fn shown_after<F>(
    s: &AppState,
    conn: &mut crate::storage::DbConn,
    actor: &crate::identity::Actor,
    id: &str,
    access: Access,
    path: &str,
    change: F,
) -> Result<serde_json::Value, AppError>
where
    F: FnOnce(&AppState, &mut crate::storage::DbConn) -> Result<(), AppError>,
{
    change(s, conn)?;
    let (m, cases) = meeting::visible_meeting(conn, actor, id)?;
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    log_cases(s, conn, &actor.id, &ids, access, path)?;
    meeting::view(conn, &m, &cases)
}

pub async fn create(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    body: web::Json<MeetingRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        let id = meeting::schedule(&s.engine, &s.mailer, conn, &actor, &body)?;
        shown_after(s, conn, &actor, &id, Access::Write, &path, |_, _| Ok(()))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

pub async fn read(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        shown_after(s, conn, &actor, &id, Access::Read, &path, |_, _| Ok(()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn reschedule(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<RescheduleRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        shown_after(s, conn, &actor, &id, Access::Write, &path, |s, conn| {
            meeting::reschedule(&s.engine, &s.mailer, conn, &actor, &id, &body)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn cancel(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        shown_after(s, conn, &actor, &id, Access::Write, &path, |s, conn| {
            meeting::cancel(&s.engine, &s.mailer, conn, &actor, &id, &body)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn record(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<RecordRequest>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let view = with_conn(&state, move |s, conn| {
        shown_after(s, conn, &actor, &id, Access::Write, &path, |s, conn| {
            meeting::record(&s.engine, &s.mailer, conn, &actor, &id, &body)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn suggested_invitees(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().to_string();
    let list = reading_case(&state, actor, path, key.into_inner(), |s, conn, c| {
        meeting::suggested_invitees(&s.engine, conn, c)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "invitees": list })))
}

/// Mail that could not be delivered, for administrators.
pub async fn failed_mail(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    if actor.role != RoleName::Administrator {
        return Err(AppError::Forbidden(
            "only an administrator may see failed mail".into(),
        ));
    }
    let rows = with_conn(&state, |_, conn| crate::mail::outbox::failed(conn)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "failed": rows.iter().map(|r| json!({
            "id": r.id, "kind": r.kind, "recipient": r.recipient, "subject": r.subject,
            "attempts": r.attempts, "error": r.last_error, "created_at": r.created_at.and_utc(),
        })).collect::<Vec<_>>()
    })))
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn invalid_link(state: &AppState, e: LinkError) -> HttpResponse {
    let expired = e == LinkError::Expired;
    let body = state
        .mailer
        .templates
        .page("link_invalid", &json!({ "expired": expired }))
        .unwrap_or_else(|_| "This link is not valid. / Nid yw’r ddolen hon yn ddilys.".into());
    let status = if expired {
        actix_web::http::StatusCode::GONE
    } else {
        actix_web::http::StatusCode::BAD_REQUEST
    };
    html(status, body)
}

/// The page an invitee reaches from their email. Showing it changes nothing (mail scanners
/// follow links); the answer is a POST.
pub async fn answer_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let invitee_id = match state
        .mailer
        .links
        .verify(&token, Purpose::Respond, state.engine.now())
    {
        Ok(id) => id,
        Err(e) => return Ok(invalid_link(&state, e)),
    };
    let action = format!("/respond/{}", token.as_str());
    let page = with_conn(&state, move |s, conn| {
        let (invitee, meeting) = meeting::invitee_and_meeting(conn, &invitee_id)?;
        let data = meeting::answer_page_data(conn, &invitee, &meeting, &action)?;
        s.mailer.templates.page("respond", &data)
    })
    .await?;
    Ok(html(actix_web::http::StatusCode::OK, page))
}

pub async fn answer(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<Answer>,
) -> Result<HttpResponse, AppError> {
    let invitee_id = match state
        .mailer
        .links
        .verify(&token, Purpose::Respond, state.engine.now())
    {
        Ok(id) => id,
        Err(e) => return Ok(invalid_link(&state, e)),
    };
    let page = with_conn(&state, move |s, conn| {
        let (invitee, meeting) = meeting::record_answer(&s.engine, conn, &invitee_id, &form)?;
        let (_, refs) = (
            0,
            meeting::answer_page_data(conn, &invitee, &meeting, "")?["references"].clone(),
        );
        let (en, cy) = if invitee.response == "accepted" {
            ("attending", "yn bresennol")
        } else {
            ("not attending", "ddim yn bresennol")
        };
        s.mailer.templates.page(
            "respond_done",
            &json!({"answer_en": en, "answer_cy": cy, "references": refs}),
        )
    })
    .await?;
    Ok(html(actix_web::http::StatusCode::OK, page))
}

fn actions_holder(
    state: &AppState,
    token: &str,
) -> Result<crate::domain::action::LinkHolder, LinkError> {
    let subject = state
        .mailer
        .links
        .verify(token, Purpose::Actions, state.engine.now())?;
    crate::domain::action::LinkHolder::from_subject(&subject).ok_or(LinkError::Invalid)
}

/// An action owner's page, reached from their email without an account.
pub async fn actions_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let holder = match actions_holder(&state, &token) {
        Ok(h) => h,
        Err(e) => return Ok(invalid_link(&state, e)),
    };
    let action = format!("/actions/{}", token.as_str());
    let page = with_conn(&state, move |s, conn| {
        let data = crate::domain::action::page_data(conn, &holder, &action, None)?;
        s.mailer.templates.page("actions", &data)
    })
    .await?;
    Ok(html(actix_web::http::StatusCode::OK, page))
}

pub async fn actions_update(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<crate::domain::action::OwnerUpdate>,
) -> Result<HttpResponse, AppError> {
    let holder = match actions_holder(&state, &token) {
        Ok(h) => h,
        Err(e) => return Ok(invalid_link(&state, e)),
    };
    let action = format!("/actions/{}", token.as_str());
    let page = with_conn(&state, move |s, conn| {
        crate::domain::action::update_from_link(conn, &holder, &form, s.engine.now())?;
        let data = crate::domain::action::page_data(
            conn,
            &holder,
            &action,
            Some("Saved. / Wedi’i gadw."),
        )?;
        s.mailer.templates.page("actions", &data)
    })
    .await?;
    Ok(html(actix_web::http::StatusCode::OK, page))
}
