//! What the council's administrators do through the API: API tokens (list, revoke), mail that
//! failed or is failing (list, retry), and recent security events. No case data: an
//! administrator sees references and dates, never a child.
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::SignedIn;
use super::cases::with_conn;
use crate::app::AppState;
use crate::domain::{api_token, security_event};
use crate::error::AppError;
use crate::identity::{Actor, RoleName};

fn administrator(actor: &Actor) -> Result<(), AppError> {
    if actor.role == RoleName::Administrator {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only an administrator may do this".into(),
        ))
    }
}

pub async fn tokens(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let rows = with_conn(&state, |s, conn| {
        api_token::all_working(conn, s.services.now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "tokens": rows.iter().map(|(t, email)| json!({
            "id": t.id, "email": email, "label": t.label, "created_at": t.created_at.and_utc(),
            "expires_at": t.expires_at.and_utc(), "last_used_at": t.last_used_at.map(|u| u.and_utc()),
        })).collect::<Vec<_>>()
    })))
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let id = id.into_inner();
    let row = with_conn(&state, move |s, conn| {
        api_token::revoke(
            conn,
            &s.services.audit_key,
            &id,
            &actor.id,
            s.services.now().naive_utc(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"id": row.id, "revoked_at": row.revoked_at.map(|r| r.and_utc())})))
}

pub async fn troubled_mail(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let rows = with_conn(&state, |_, conn| crate::mail::outbox::troubled(conn)).await?;
    Ok(HttpResponse::Ok().json(json!({ "mail": rows })))
}

pub async fn retry_mail(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let id = id.into_inner();
    let retried = with_conn(&state, move |s, conn| {
        crate::mail::outbox::retry_failed(conn, Some(&id), s.services.now().naive_utc())
    })
    .await?;
    if retried == 0 {
        return Err(AppError::NotFound("failed message"));
    }
    Ok(HttpResponse::Ok().json(json!({ "retried": retried })))
}

pub async fn retry_all_mail(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let retried = with_conn(&state, move |s, conn| {
        crate::mail::outbox::retry_failed(conn, None, s.services.now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "retried": retried })))
}

pub async fn security_events(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    administrator(&actor)?;
    let rows = with_conn(&state, |_, conn| security_event::recent(conn, 200)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "events": rows.iter().map(|e| json!({
            "at": e.at.and_utc(), "kind": e.kind, "account": e.account, "address": e.address,
            "user_id": e.user_id, "detail": e.detail,
        })).collect::<Vec<_>>()
    })))
}

fn referral_link_json(
    s: &AppState,
    link: &crate::storage::models::ReferralLinkRow,
) -> serde_json::Value {
    let now = s.services.now().naive_utc();
    let status = crate::domain::referral_link::state_name(link, now);
    json!({
        "id": link.id, "agency": link.agency_code, "person_name": link.person_name,
        "person_email": link.person_email, "issued_at": link.issued_at.and_utc(),
        "expires_at": link.expires_at.and_utc(), "revoked_at": link.revoked_at.map(|t| t.and_utc()),
        "last_used_at": link.last_used_at.map(|t| t.and_utc()), "status": status,
    })
}

/// Every referral link, newest first; the addresses themselves are given only when issued.
pub async fn referral_links(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, AppError> {
    let list = with_conn(&state, move |s, conn| {
        let links = crate::domain::referral_link::all(conn, &actor)?;
        Ok(links
            .iter()
            .map(|l| referral_link_json(s, l))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "referral_links": list })))
}

pub async fn issue_referral_link(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    body: crate::http::input::Json<crate::domain::referral_link::IssueLink>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let shown = with_conn(&state, move |s, conn| {
        let issued = crate::domain::referral_link::issue(
            &s.services,
            conn,
            &actor,
            &body,
            s.services.now(),
        )?;
        let mut v = referral_link_json(s, &issued.link);
        v["url"] = json!(issued.url);
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Created().json(shown))
}

pub async fn revoke_referral_link(
    state: web::Data<AppState>,
    SignedIn(actor): SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let shown = with_conn(&state, move |s, conn| {
        let link =
            crate::domain::referral_link::revoke(&s.services, conn, &actor, &id, s.services.now())?;
        Ok(referral_link_json(s, &link))
    })
    .await?;
    Ok(HttpResponse::Ok().json(shown))
}
