//! The administrators' page of agencies: every agency the forms offer, a form to add a school,
//! GP practice, CAMHS team, housing provider or voluntary organisation, and a page to change
//! one added here. Nothing needs a restart.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::administration::as_administrator;
use super::forms::{first, input, select, Submitted};
use super::see_other;
use crate::app::AppState;
use crate::domain::agency_register::{self, AgencyDetails};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::reference::agencies::Agency;

fn details(form: &Submitted, code: Option<&str>) -> AgencyDetails {
    let get = |k: &str| first(form, k).unwrap_or("").trim().to_string();
    AgencyDetails {
        code: code.map_or_else(|| get("code"), str::to_string),
        kind: get("kind"),
        name_en: get("name_en"),
        name_cy: get("name_cy"),
        domains: get("domains"),
        area: get("area"),
    }
}

fn kind_word(state: &AppState, lang: &str, kind: &str) -> String {
    state.pages.word(lang, &format!("agency_kind_{kind}"))
}

/// The add or change form's fields, as typed or as stored.
fn agency_fields(
    state: &AppState,
    lang: &str,
    prefix: &str,
    a: &AgencyDetails,
    with_code: bool,
    errors: &Value,
) -> Vec<Value> {
    let w = |k: &str| state.pages.word(lang, k);
    let dir = state.services.engine.agencies.current();
    let mut fields = Vec::new();
    if with_code {
        let mut code = input(prefix, "code", &w("agency_code"), &a.code, "text", errors);
        code["hint"] = json!(w("agency_code_hint"));
        fields.push(code);
    }
    let mut kinds: Vec<(String, String, bool)> = agency_register::kinds_to_add()
        .map(|k| (k.to_string(), kind_word(state, lang, k), a.kind == k))
        .collect();
    kinds.insert(0, (String::new(), w("choose"), a.kind.is_empty()));
    fields.push(select(prefix, "kind", &w("agency_kind"), kinds, errors));
    fields.push(input(
        prefix,
        "name_en",
        &w("agency_name_en"),
        &a.name_en,
        "text",
        errors,
    ));
    fields.push(input(
        prefix,
        "name_cy",
        &w("agency_name_cy"),
        &a.name_cy,
        "text",
        errors,
    ));
    let mut domains = input(
        prefix,
        "domains",
        &w("agency_domains"),
        &a.domains,
        "text",
        errors,
    );
    domains["hint"] = json!(w("agency_domains_hint"));
    fields.push(domains);
    let mut areas: Vec<(String, String, bool)> = dir
        .all()
        .filter(|x| x.kind == "local_authority")
        .map(|x| {
            let name = if lang == "cy" { &x.name_cy } else { &x.name_en };
            (x.code.clone(), name.clone(), a.area == x.code)
        })
        .collect();
    areas.sort_by(|x, y| x.1.cmp(&y.1));
    areas.insert(0, (String::new(), w("agency_area_none"), a.area.is_empty()));
    fields.push(select(prefix, "area", &w("agency_area"), areas, errors));
    fields
}

fn list_data(state: &AppState, lang: &str, refused: Option<(&Submitted, &AppError)>) -> Value {
    let dir = state.services.engine.agencies.current();
    let added: std::collections::BTreeSet<String> = state
        .services
        .engine
        .agencies
        .from_files()
        .all()
        .map(|a| a.code.clone())
        .collect();
    let mut all: Vec<&Agency> = dir.all().collect();
    all.sort_by(|a, b| (a.kind.as_str(), &a.name_en).cmp(&(b.kind.as_str(), &b.name_en)));
    let errors = refused.map_or(json!([]), |(_, e)| {
        super::placed(state, lang, "add", "name_en", e)
    });
    let typed = refused.map(|(f, _)| details(f, None)).unwrap_or_default();
    json!({
        "title": state.pages.word(lang, "agencies"),
        "agencies": all.iter().map(|a| json!({
            "code": a.code,
            "name": if lang == "cy" { &a.name_cy } else { &a.name_en },
            "kind": kind_word(state, lang, &a.kind),
            "domains": a.domains.join(" "),
            "added_here": !added.contains(&a.code),
        })).collect::<Vec<_>>(),
        "add": agency_fields(state, lang, "add", &typed, true, &errors),
        "errors": errors,
    })
}

fn notice(state: &AppState, lang: &str, req: &HttpRequest) -> Value {
    match req.query_string() {
        "done=added" => json!(state.pages.word(lang, "agency_done_added")),
        "done=changed" => json!(state.pages.word(lang, "agency_done_changed")),
        _ => Value::Null,
    }
}

pub async fn agencies(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let mut data = list_data(&state, &page.lang, None);
    data["notice"] = notice(&state, &page.lang, &req);
    Ok(super::page_response(
        &state,
        "admin_agencies",
        &page,
        StatusCode::OK,
        data,
    ))
}

pub async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let path = req.path().to_string();
    let new = details(&form, None);
    let result = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        agency_register::add(&s.services, conn, &intent, &new)
    })
    .await;
    Ok(match result {
        Ok(()) => see_other("/admin/agencies?done=added"),
        Err(e) if e.is_refusal() => {
            let status = actix_web::ResponseError::status_code(&e);
            let data = list_data(&state, &page.lang, Some((&form, &e)));
            super::page_response(&state, "admin_agencies", &page, status, data)
        }
        Err(e) => return Err(e),
    })
}

/// The page of one agency added here, with its form; a shipped one is not found here.
fn agency_data(
    state: &AppState,
    lang: &str,
    code: &str,
    refused: Option<(&Submitted, &AppError)>,
) -> Option<Value> {
    if state
        .services
        .engine
        .agencies
        .from_files()
        .get(code)
        .is_some()
    {
        return None;
    }
    let dir = state.services.engine.agencies.current();
    let a = dir.get(code)?;
    let errors = refused.map_or(json!([]), |(_, e)| {
        super::placed(state, lang, "change", "name_en", e)
    });
    let stored = AgencyDetails {
        code: a.code.clone(),
        kind: a.kind.clone(),
        name_en: a.name_en.clone(),
        name_cy: a.name_cy.clone(),
        domains: a.domains.join(" "),
        area: a.area.clone().unwrap_or_default(),
    };
    let shown = refused.map_or(stored, |(f, _)| details(f, Some(code)));
    Some(json!({
        "title": if lang == "cy" { &a.name_cy } else { &a.name_en },
        "code": a.code,
        "fields": agency_fields(state, lang, "change", &shown, false, &errors),
        "errors": errors,
    }))
}

pub async fn agency(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (_, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    Ok(match agency_data(&state, &page.lang, &code, None) {
        Some(data) => super::page_response(&state, "admin_agency", &page, StatusCode::OK, data),
        None => super::not_found_page(&state, &page),
    })
}

pub async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let code = code.into_inner();
    let (user, page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let path = req.path().to_string();
    let to = details(&form, Some(&code));
    let result = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        agency_register::change(&s.services, conn, &intent, &to)
    })
    .await;
    Ok(match result {
        Ok(()) => see_other("/admin/agencies?done=changed"),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) if e.is_refusal() => match agency_data(&state, &page.lang, &code, Some((&form, &e)))
        {
            Some(data) => {
                let status = actix_web::ResponseError::status_code(&e);
                super::page_response(&state, "admin_agency", &page, status, data)
            }
            None => super::not_found_page(&state, &page),
        },
        Err(e) => return Err(e),
    })
}
