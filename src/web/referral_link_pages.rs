//! The administrators' page of referral links: issue one to a partner agency or a named person
//! of it (the address is shown once, and emailed to the person when an address is given),
//! see each link's state and last use, and revoke one.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::administration::as_administrator;
use super::forms::{first, input, select, Submitted};
use super::see_other;
use crate::app::AppState;
use crate::domain::referral_link::{self, IssueLink};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::identity::Actor;

fn typed(form: &Submitted) -> IssueLink {
    let get = |k: &str| first(form, k).unwrap_or("").trim().to_string();
    IssueLink {
        agency: get("agency"),
        person_name: Some(get("person_name")),
        person_email: Some(get("person_email")),
        // Left empty, the usual period; anything else that is not a whole number is refused by
        // the domain's range check (0), naming the field, rather than quietly replaced.
        days: match get("days") {
            d if d.is_empty() => Some(referral_link::DEFAULT_DAYS),
            d => Some(d.parse().unwrap_or(0)),
        },
    }
}

fn page_data(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    actor: &Actor,
    lang: &str,
    refused: Option<(&Submitted, &AppError)>,
    issued_url: Option<String>,
) -> Result<Value, AppError> {
    let w = |k: &str| state.pages.word(lang, k);
    let language = Language::parse(lang).unwrap_or(Language::English);
    let dir = state.services.engine.agencies.current();
    let name_of = |code: &str| {
        dir.get(code).map_or(code.to_string(), |a| {
            if lang == "cy" {
                a.name_cy.clone()
            } else {
                a.name_en.clone()
            }
        })
    };
    let errors = refused.map_or(json!([]), |(_, e)| {
        super::placed(state, lang, "issue", "agency", e)
    });
    let chosen = refused.map(|(f, _)| typed(f)).unwrap_or(IssueLink {
        agency: String::new(),
        person_name: None,
        person_email: None,
        days: Some(referral_link::DEFAULT_DAYS),
    });
    // Partners report; the councils' own staff have accounts.
    let mut agencies: Vec<(String, String, bool)> = dir
        .all()
        .filter(|a| a.kind != "local_authority")
        .map(|a| (a.code.clone(), name_of(&a.code), a.code == chosen.agency))
        .collect();
    agencies.sort_by(|x, y| x.1.cmp(&y.1));
    agencies.insert(0, (String::new(), w("choose"), chosen.agency.is_empty()));
    // What the administrator typed comes back as typed, so a mistake can be seen and mended.
    let days_typed = refused
        .and_then(|(f, _)| first(f, "days"))
        .map(str::to_string)
        .unwrap_or_else(|| referral_link::DEFAULT_DAYS.to_string());
    let mut days = input(
        "issue",
        "days",
        &w("referral_link_days"),
        &days_typed,
        "text",
        &errors,
    );
    days["hint"] = json!(w("referral_link_days_hint"));
    let fields = vec![
        select(
            "issue",
            "agency",
            &w("referral_link_agency"),
            agencies,
            &errors,
        ),
        input(
            "issue",
            "person_name",
            &w("referral_link_person_name"),
            chosen.person_name.as_deref().unwrap_or(""),
            "text",
            &errors,
        ),
        input(
            "issue",
            "person_email",
            &w("referral_link_person_email"),
            chosen.person_email.as_deref().unwrap_or(""),
            "email",
            &errors,
        ),
        days,
    ];
    let now = state.services.now().naive_utc();
    let links = referral_link::all(conn, actor)?;
    Ok(json!({
        "title": w("referral_links"),
        "issue": fields,
        "issued_url": issued_url,
        "links": links.iter().map(|l| {
            let status = crate::domain::referral_link::state_name(l, now);
            json!({
                "id": l.id, "agency": name_of(&l.agency_code), "person": l.person_name,
                "issued": crate::time::wales::date_time(l.issued_at.and_utc(), language),
                "expires": crate::time::wales::date_time(l.expires_at.and_utc(), language),
                "last_used": l.last_used_at.map(|t| crate::time::wales::date_time(t.and_utc(), language)),
                "status": w(&format!("referral_link_status_{status}")),
                "status_colour": if status == "active" { "green" } else { "grey" },
                "active": status == "active",
            })
        }).collect::<Vec<_>>(),
        "errors": errors,
    }))
}

pub async fn links(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let (user, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let lang = page.lang.clone();
    let actor = user.actor.clone();
    let mut data = with_conn(&state, move |s, conn| {
        page_data(s, conn, &actor, &lang, None, None)
    })
    .await?;
    if req.query_string() == "done=revoked" {
        data["notice"] = json!(state.pages.word(&page.lang, "referral_link_done_revoked"));
    }
    Ok(super::page_response(
        &state,
        "admin_referral_links",
        &page,
        StatusCode::OK,
        data,
    ))
}

pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let lang = page.lang.clone();
    let actor = user.actor.clone();
    let wanted = typed(&form);
    let (status, data) = with_conn(&state, move |s, conn| {
        let now = s.services.now();
        match referral_link::issue(&s.services, conn, &actor, &wanted, now) {
            // The address is shown this once, on the answer to the form, never in a redirect.
            Ok(issued) => {
                let mut data = page_data(s, conn, &actor, &lang, None, Some(issued.url))?;
                data["notice"] = json!(s.pages.word(&lang, "referral_link_done_issued"));
                Ok((StatusCode::CREATED, data))
            }
            Err(e) if e.is_refusal() => {
                let status = actix_web::ResponseError::status_code(&e);
                Ok((
                    status,
                    page_data(s, conn, &actor, &lang, Some((&form, &e)), None)?,
                ))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(super::page_response(
        &state,
        "admin_referral_links",
        &page,
        status,
        data,
    ))
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let id = id.into_inner();
    let actor = user.actor.clone();
    let done = with_conn(&state, move |s, conn| {
        referral_link::revoke(&s.services, conn, &actor, &id, s.services.now())
    })
    .await;
    Ok(match done {
        Ok(_) => see_other("/admin/referral-links?done=revoked"),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}
