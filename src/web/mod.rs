//! The pages people use (most never touch the JSON API): signed in with a password, rendered
//! on the server from `templates/web/` in Welsh or English, usable without JavaScript. Forms
//! carry a CSRF token; every response carries the security headers (`security_headers`).
pub mod account;
pub mod administration;
pub mod agency_pages;
pub mod agreed_action_pages;
pub mod case_access_pages;
pub mod case_pages;
pub mod case_record_print;
pub mod child_correction_page;
pub mod chronology;
pub mod context_pages;
pub mod disclosure_page;
pub mod forms;
pub mod meeting_pages;
pub mod meeting_record_page;
pub mod meeting_schedule_page;
pub mod oversight;
pub mod partner_referral_page;
pub mod referral_link_pages;
pub mod retention_pages;
pub mod risk_page;
pub mod second_step_page;
pub mod session;
pub mod single_sign_on_page;
pub mod staff_pages;
pub mod svg;
pub mod welcome_page;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::AppError;
use crate::i18n::catalogue::{Arg, Catalogue};
use crate::i18n::Language;
use crate::identity::Actor;
use crate::storage::models::UserRow;

pub const LANGUAGES: &[&str] = &["en", "cy"];
const TEMPLATES: &[&str] = &[
    "sign_in",
    "cases",
    "new_report",
    "case",
    "dashboard",
    "workflow",
    "message",
    "meeting_new",
    "meeting_record",
    "meeting",
    "chronology",
    "risk",
    "contexts",
    "context",
    "account",
    "administration",
    "admin_people",
    "admin_person",
    "admin_agencies",
    "admin_agency",
    "welcome",
    "admin_retention",
    "second_step",
    "recovery_codes",
    "disclosure",
    "refer",
    "refer_done",
    "admin_referral_links",
];

/// The page templates, and the catalogue their words come from.
#[derive(Debug)]
pub struct Pages {
    registry: Handlebars<'static>,
    catalogue: Arc<Catalogue>,
    /// Each language's messages without variables: the templates' `t`.
    words: [Value; 2],
}

impl Pages {
    /// Loads `templates/web/*.hbs`; the words are the catalogue's, which refuses to load unless
    /// both languages have every message.
    pub fn load(
        templates: &crate::shipped::Folder,
        catalogue: Arc<Catalogue>,
    ) -> Result<Pages, AppError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_helper(
            "tr",
            Box::new(crate::i18n::catalogue::Translate(catalogue.clone(), true)),
        );
        let read = |name: &str| templates.read(&format!("web/{name}")).map(|f| f.text);
        for partial in [
            "layout",
            "field",
            "date_input",
            "labelled",
            "child_fields",
            "moment_input",
        ] {
            registry
                .register_partial(partial, read(&format!("{partial}.hbs"))?)
                .map_err(|e| AppError::Startup(format!("template {partial}.hbs: {e}")))?;
        }
        for name in TEMPLATES {
            registry
                .register_template_string(name, read(&format!("{name}.hbs"))?)
                .map_err(|e| AppError::Startup(format!("template {name}.hbs: {e}")))?;
        }
        let words = [
            Value::Object(catalogue.words(Language::English)),
            Value::Object(catalogue.words(Language::Welsh)),
        ];
        Ok(Pages {
            registry,
            catalogue,
            words,
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn render(
        &self,
        name: &str,
        page: &PageContext,
        mut data: Value,
    ) -> Result<String, AppError> {
        if let Value::Object(map) = &mut data {
            map.insert(
                "t".into(),
                self.words[usize::from(page.lang == "cy")].clone(),
            );
            map.insert("lang".into(), json!(page.lang));
            map.insert(
                "other_lang".into(),
                json!(if page.lang == "cy" { "en" } else { "cy" }),
            );
            map.insert("path".into(), json!(page.path));
            // Which part of the service navigation the page belongs to.
            let section = match page.path.as_str() {
                "/cases/new" => "new",
                p if p.starts_with("/cases") || p.starts_with("/meetings") => "cases",
                p if p.starts_with("/dashboard") => "dashboard",
                p if p.starts_with("/contexts") => "contexts",
                p if p.starts_with("/workflows") => "procedure",
                p if p.starts_with("/account") => "account",
                p if p.starts_with("/admin") => "admin",
                _ => "",
            };
            map.insert("section".into(), json!(section));
            map.insert("csrf".into(), json!(page.csrf));
            map.insert(
                "user".into(),
                page.user
                    .as_ref()
                    .map(|u| {
                        json!({"name": u.name, "role": u.role,
                               "team_lead": matches!(u.role.as_str(), "team_lead" | "senior_manager"),
                               "administrator": u.role == "administrator"})
                    })
                    .unwrap_or(Value::Null),
            );
            map.entry("title").or_insert(json!(""));
            map.entry("notice").or_insert(Value::Null);
            map.entry("errors").or_insert(json!([]));
            let has_errors = map["errors"].as_array().is_some_and(|e| !e.is_empty());
            map.insert("has_errors".into(), json!(has_errors));
        }
        self.registry
            .render(name, &data)
            .map_err(|e| AppError::Internal(format!("page {name}: {e}")))
    }
}

/// Who is looking and in which language.
#[derive(Clone)]
pub struct PageContext {
    pub lang: String,
    pub user: Option<UserRow>,
    pub csrf: String,
    pub path: String,
}

/// A signed-in person on the pages.
pub struct WebUser {
    pub row: UserRow,
    pub actor: Actor,
    pub csrf: String,
}

impl WebUser {
    pub fn page(&self, req: &HttpRequest) -> PageContext {
        PageContext {
            lang: self.row.language.clone(),
            user: Some(self.row.clone()),
            csrf: self.csrf.clone(),
            path: req.path().to_string(),
        }
    }
}

/// The language of someone not signed in: their choice, else their browser's, else English.
pub fn anonymous_language(req: &HttpRequest) -> String {
    if let Some(c) = req.cookie(session::LANGUAGE_COOKIE) {
        if LANGUAGES.contains(&c.value()) {
            return c.value().to_string();
        }
    }
    let welsh_first = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("cy"));
    if welsh_first { "cy" } else { "en" }.to_string()
}

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// The signed-in user, or a redirect to the sign-in page.
pub async fn signed_in(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Result<WebUser, HttpResponse> {
    // Back here after signing in (a link from an email lands on sign-in first).
    let back = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    // Only plain path characters get through `local_path`; of those, these four would be
    // read as part of the sign-in page's own query.
    let encoded: String = account::local_path(Some(&back))
        .chars()
        .map(|c| match c {
            '%' => "%25".to_string(),
            '&' => "%26".to_string(),
            '=' => "%3D".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    let to_sign_in = see_other(&format!("/sign-in?next={encoded}"));
    let Some(cookie) = req.cookie(session::COOKIE).map(|c| c.value().to_string()) else {
        return Err(to_sign_in);
    };
    let found = crate::http::cases::with_conn(state, move |s, conn| {
        let now = s.services.now();
        match crate::domain::session::current(
            conn,
            &cookie,
            s.services.access.sessions,
            now.naive_utc(),
        )? {
            Some((row, csrf)) => {
                let actor = crate::domain::case_access::with_break_glass(conn, row.actor()?, now)?;
                Ok(Some((row, csrf, actor)))
            }
            None => Ok(None),
        }
    })
    .await;
    match found {
        Ok(Some((row, csrf, actor))) => Ok(WebUser { row, actor, csrf }),
        _ => Err(to_sign_in),
    }
}

/// A rendered page as a response; a template fault answers with the one error type.
pub fn page_response(
    state: &AppState,
    name: &str,
    page: &PageContext,
    status: StatusCode,
    data: Value,
) -> HttpResponse {
    match state.pages.render(name, page, data) {
        Ok(body) => html(status, body),
        Err(e) => HttpResponse::from_error(e),
    }
}

/// The start of every signed-in form post: the person, and the page context whose language
/// link leads back to `back` (the form, not where it was sent). A missing sign-in answers with
/// the redirect; a missing or wrong CSRF token with a plain refusal.
pub async fn signed_in_post(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    form: &forms::Submitted,
    back: String,
) -> Result<(WebUser, PageContext), HttpResponse> {
    let user = signed_in(req, state).await?;
    let mut page = user.page(req);
    page.path = back;
    if !csrf_ok(&user, form) {
        return Err(refused_csrf(state, &page));
    }
    Ok((user, page))
}

/// After a change, its confirmation in the reader's words (`?done=…`): only words the
/// catalogue has, never what was sent.
pub fn done_notice(state: &AppState, req: &HttpRequest, page: &PageContext) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("done").map(|d| format!("done_{d}")))
        .filter(|k| state.pages.has(k))
        .map(|k| state.pages.word(&page.lang, &k))
}

/// A plain page that says what went wrong and offers nothing but a way back.
pub fn message_page(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    heading_key: &str,
    body_key: &str,
) -> HttpResponse {
    page_response(
        state,
        "message",
        page,
        status,
        json!({"heading_key": heading_key, "body_key": body_key,
               "title": state.pages.word(&page.lang, heading_key),
               "heading": state.pages.word(&page.lang, heading_key),
               "body": state.pages.word(&page.lang, body_key)}),
    )
}

impl Pages {
    pub fn word(&self, lang: &str, key: &str) -> String {
        self.catalogue
            .get(Language::parse(lang).unwrap_or(Language::English), key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.catalogue.has(key)
    }

    /// A message with variables, in the page's language.
    pub fn words_with(&self, lang: &str, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.catalogue.format(
            Language::parse(lang).unwrap_or(Language::English),
            key,
            args,
        )
    }
}

/// Each problem of a refusal at its input (`{prefix}-{field}`, or `{prefix}-{fallback}` for
/// one that names no field): the error summary's list, which `forms::message_at` reads back.
pub fn placed(state: &AppState, lang: &str, prefix: &str, fallback: &str, e: &AppError) -> Value {
    json!(e
        .each()
        .iter()
        .map(
            |p| json!({"id": format!("{prefix}-{}", p.field().unwrap_or(fallback)),
                        "message": error_text(state, lang, p)})
        )
        .collect::<Vec<_>>())
}

/// An error in the page's language: the catalogue's words for its code in Welsh, the service's
/// own sentence in English (which can say more, such as which value was wrong).
pub fn error_text(state: &AppState, lang: &str, e: &AppError) -> String {
    // The word that was refused, where the refusal says which (the child-name check).
    let word = match e {
        AppError::Unprocessable {
            details: Some(d), ..
        } => d["word"].as_str().unwrap_or("").to_string(),
        _ => String::new(),
    };
    error_words(state, lang, e.code(), e.field(), &word).unwrap_or_else(|| e.to_string())
}

/// An error's message from the catalogue, by its code and field, in plain words: "Enter the
/// child's name", never `child.name`; none where the catalogue has no message for the code.
/// The pages and the API's Welsh messages both use it.
pub fn error_words(
    state: &AppState,
    lang: &str,
    code: &str,
    field: Option<&str>,
    word: &str,
) -> Option<String> {
    let general = format!("error_{code}");
    // A message written for the field itself ("Enter the child's name") before the general one.
    let code = match field.map(field_key) {
        Some(Some(key)) if state.pages.has(&format!("{general}_{key}")) => {
            format!("{general}_{key}")
        }
        _ => general,
    };
    if !state.pages.has(&code) {
        return None;
    }
    let label = field
        .map(|f| field_label(state, lang, f))
        .unwrap_or_default();
    Some(state.pages.words_with(
        lang,
        &code,
        &[("field", Arg::Text(&label)), ("value", Arg::Text(word))],
    ))
}

/// The catalogue's word for the input an API field names, where it has one of its own.
fn field_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "child.name" => "child_name",
        "child.date_of_birth" => "date_of_birth",
        "child.gender" => "gender",
        "child.located_authority" => "located_authority",
        "child.residence_authority" => "residence_authority",
        "child.language" => "child_language",
        "child.family_language" => "family_language",
        "child.welsh_offer" => "welsh_offer",
        "title" => "action_title",
        "reporter.name" => "reporter_name",
        "reporter.role" => "reporter_role",
        "reporter.email" => "reporter_email",
        "reporter.phone" => "reporter_phone",
        "note" => "action_note",
        "summary" => "meeting_summary",
        "reason" => "field_reason",
        "went_missing_at" => "missing_went_at",
        "description" => "context_description",
        "information" => "context_link_information",
        "returned_at" => "missing_returned_at",
        "reported_by" => "missing_reported_by",
        "interview_offered_at" => "return_interview_offered_at",
        "interview_held_at" => "return_interview_held_at",
        "authority" => "authority",
        "area" => "area",
        f if f.ends_with("].title") => "action_title",
        f if f.ends_with("].name") || f.ends_with("].owner_name") => "person_name",
        _ => return None,
    })
}

/// Several problems with one form as one refusal, each listed as a form's error summary lists a
/// guard still missing: answers that could not be read (at their questions), then whatever else
/// the step refuses, less anything about those same answers.
pub fn all_problems(state: &AppState, unread: Vec<AppError>, others: Option<AppError>) -> AppError {
    let fact_of = |e: &AppError| {
        e.field()
            .and_then(|f| f.strip_prefix("facts."))
            .map(|f| f.split(['.', '[']).next().unwrap_or(f).to_string())
    };
    let unread_facts: Vec<String> = unread.iter().filter_map(fact_of).collect();
    let entry = |e: &AppError, kind: &str, name: String| {
        json!({"kind": kind, "name": name,
               "message": error_text(state, "en", e), "message_cy": error_text(state, "cy", e)})
    };
    let mut missing: Vec<Value> = unread
        .iter()
        .map(|e| entry(e, "fact", fact_of(e).unwrap_or_default()))
        .collect();
    match &others {
        Some(AppError::Unprocessable {
            details: Some(d), ..
        }) if d["missing"].is_array() => {
            for m in d["missing"].as_array().into_iter().flatten() {
                let about_unread =
                    m["kind"] == "fact" && unread_facts.iter().any(|f| m["name"] == f.as_str());
                if !about_unread {
                    missing.push(m.clone());
                }
            }
        }
        Some(e) if fact_of(e).is_some_and(|f| unread_facts.contains(&f)) => {}
        Some(e) => {
            let kind = if e.field() == Some("rationale") {
                "rationale"
            } else {
                "event"
            };
            missing.push(entry(e, kind, e.field().unwrap_or("").to_string()));
        }
        None => {}
    }
    let first = unread.into_iter().next();
    let status_field = first.as_ref().and_then(|e| e.field().map(str::to_string));
    AppError::Unprocessable {
        code: "several_problems",
        field: status_field,
        message: first.map(|e| e.to_string()).unwrap_or_default(),
        details: Some(json!({ "missing": missing })),
    }
}

/// What a form calls the input an error names, in the page's language.
fn field_label(state: &AppState, lang: &str, field: &str) -> String {
    let key = match field_key(field) {
        Some(key) => key,
        None => {
            let f = field;
            if let Some(name) = f.strip_prefix("facts.").and_then(|n| n.split('.').next()) {
                let language = Language::parse(lang).unwrap_or(Language::English);
                for wf in state.services.engine.registry.latest_all() {
                    if let Some(spec) = wf.def.facts.get(name) {
                        return spec.label_in(language).to_string();
                    }
                }
            }
            let last = f.rsplit('.').next().unwrap_or(f);
            let last = last.split('[').next().unwrap_or(last);
            if state.pages.has(last) {
                last
            } else {
                return state.pages.word(lang, "this_answer");
            }
        }
    };
    state.pages.word(lang, key)
}

/// "Page not found": for a page that does not exist and for a case the person may not see
/// alike, so that the answer does not tell which.
pub fn not_found_page(state: &AppState, page: &PageContext) -> HttpResponse {
    message_page(
        state,
        page,
        StatusCode::NOT_FOUND,
        "not_found_heading",
        "not_found_body",
    )
}

/// Checks a form's CSRF token against the session's.
pub fn csrf_ok(user: &WebUser, form: &forms::Submitted) -> bool {
    forms::first(form, "csrf").is_some_and(|t| session::same_token(t, &user.csrf))
}

pub fn refused_csrf(state: &AppState, page: &PageContext) -> HttpResponse {
    message_page(
        state,
        page,
        StatusCode::FORBIDDEN,
        "csrf_heading",
        "csrf_body",
    )
}

const GOVUK_CSS: &str = include_str!("../../static/govuk-frontend.min.css");
const APP_CSS: &str = include_str!("../../static/app.css");

async fn stylesheet(name: web::Path<String>) -> HttpResponse {
    let body = match name.as_str() {
        "govuk-frontend.min.css" => GOVUK_CSS,
        "app.css" => APP_CSS,
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(case_pages::home))
        .route("/static/{name}", web::get().to(stylesheet))
        .route("/sign-in", web::get().to(account::sign_in_page))
        .route("/sign-in", web::post().to(account::sign_in))
        .route(
            "/sign-in/second-step",
            web::get().to(second_step_page::step),
        )
        .route(
            "/sign-in/second-step",
            web::post().to(second_step_page::answer),
        )
        .route(
            "/account/second-factor",
            web::get().to(second_step_page::setup),
        )
        .route(
            "/account/second-factor",
            web::post().to(second_step_page::confirm),
        )
        .route(
            "/admin/people/{id}/second-factor",
            web::post().to(staff_pages::reset_second_factor),
        )
        .route("/sign-in/oidc", web::get().to(single_sign_on_page::begin))
        .route(
            "/sign-in/oidc/callback",
            web::get().to(single_sign_on_page::callback),
        )
        .route("/sign-out", web::post().to(account::sign_out))
        .route(
            "/sign-out-everywhere",
            web::post().to(account::sign_out_everywhere),
        )
        .route("/language/{code}", web::get().to(account::language))
        .route("/account", web::get().to(administration::account))
        .route("/admin", web::get().to(administration::administration))
        .route(
            "/admin/tokens/{id}/revoke",
            web::post().to(administration::revoke_token),
        )
        .route(
            "/admin/mail/{id}/retry",
            web::post().to(administration::retry_mail),
        )
        .route(
            "/admin/mail/retry-failed",
            web::post().to(administration::retry_all_mail),
        )
        .route("/admin/people", web::get().to(staff_pages::people))
        .route("/admin/people", web::post().to(staff_pages::invite))
        .route("/admin/people/{id}", web::get().to(staff_pages::person))
        .route("/admin/people/{id}", web::post().to(staff_pages::change))
        .route(
            "/admin/people/{id}/deactivate",
            web::post().to(staff_pages::deactivate),
        )
        .route("/admin/agencies", web::get().to(agency_pages::agencies))
        .route("/admin/agencies", web::post().to(agency_pages::add))
        .route(
            "/admin/agencies/{code}",
            web::get().to(agency_pages::agency),
        )
        .route(
            "/admin/agencies/{code}",
            web::post().to(agency_pages::change),
        )
        .route("/admin/retention", web::get().to(retention_pages::page))
        .route(
            "/admin/retention/approve",
            web::post().to(retention_pages::approve),
        )
        .route(
            "/admin/retention/hold",
            web::post().to(retention_pages::hold),
        )
        .route(
            "/admin/retention/release",
            web::post().to(retention_pages::release),
        )
        .route("/refer/{token}", web::get().to(partner_referral_page::form))
        .route(
            "/refer/{token}",
            web::post().to(partner_referral_page::submit),
        )
        .route(
            "/admin/referral-links",
            web::get().to(referral_link_pages::links),
        )
        .route(
            "/admin/referral-links",
            web::post().to(referral_link_pages::issue),
        )
        .route(
            "/admin/referral-links/{id}/revoke",
            web::post().to(referral_link_pages::revoke),
        )
        .route(
            "/cases/{key}/referral/acknowledge",
            web::post().to(case_access_pages::acknowledge_referral),
        )
        .route(
            "/cases/{key}/same-child",
            web::post().to(case_access_pages::same_child),
        )
        .route(
            "/cases/{key}/siblings",
            web::post().to(case_access_pages::link_sibling),
        )
        .route(
            "/cases/{key}/siblings/end",
            web::post().to(case_access_pages::end_sibling),
        )
        .route("/welcome/{token}", web::get().to(welcome_page::welcome))
        .route("/welcome/{token}", web::post().to(welcome_page::accept))
        .route("/cases", web::get().to(case_pages::my_cases))
        .route("/cases/new", web::get().to(case_pages::new_report))
        .route("/cases/new", web::post().to(case_pages::record_report))
        .route("/cases/{key}", web::get().to(case_pages::case_page))
        .route(
            "/cases/{key}/chronology",
            web::get().to(chronology::chronology_page),
        )
        .route("/contexts", web::get().to(context_pages::contexts_page))
        .route("/contexts", web::post().to(context_pages::record_context))
        .route(
            "/contexts/{context}",
            web::get().to(context_pages::context_page),
        )
        .route(
            "/contexts/{context}/links",
            web::post().to(context_pages::link_child),
        )
        .route(
            "/contexts/{context}/links/{link_id}/end",
            web::post().to(context_pages::end_link),
        )
        .route(
            "/contexts/{context}/actions",
            web::post().to(context_pages::agree_action),
        )
        .route(
            "/contexts/{context}/meetings/new",
            web::get().to(meeting_pages::new_context_meeting),
        )
        .route(
            "/contexts/{context}/meetings",
            web::post().to(meeting_pages::convene_on_context),
        )
        .route(
            "/contexts/{context}/actions/{context_action_id}/close",
            web::post().to(context_pages::close_action),
        )
        .route("/cases/{key}/risk", web::get().to(risk_page::risk_page))
        .route(
            "/cases/{key}/risk/assessments",
            web::post().to(risk_page::assess),
        )
        .route(
            "/cases/{key}/risk/changes",
            web::post().to(risk_page::significant_change),
        )
        .route(
            "/cases/{key}/risk/missing-episodes",
            web::post().to(risk_page::record_episode),
        )
        .route(
            "/cases/{key}/risk/missing-episodes/{episode_id}",
            web::post().to(risk_page::update_episode),
        )
        .route(
            "/cases/{key}/record.pdf",
            web::get().to(case_record_print::record_pdf),
        )
        .route(
            "/cases/{key}/disclosure",
            web::get().to(disclosure_page::disclosure_page),
        )
        .route(
            "/cases/{key}/disclosure",
            web::post().to(disclosure_page::prepare),
        )
        .route(
            "/cases/{key}/team",
            web::post().to(case_access_pages::assign_team),
        )
        .route(
            "/cases/{key}/languages",
            web::post().to(case_access_pages::record_languages),
        )
        .route(
            "/cases/{key}/child",
            web::post().to(child_correction_page::correct),
        )
        .route(
            "/cases/{key}/restriction",
            web::post().to(case_access_pages::restrict),
        )
        .route(
            "/cases/{key}/named",
            web::post().to(case_access_pages::name_person),
        )
        .route(
            "/cases/{key}/involvements/{involvement_id}/remove",
            web::post().to(case_access_pages::remove_involvement),
        )
        .route(
            "/break-glass",
            web::post().to(case_access_pages::break_glass),
        )
        .route(
            "/cases/{key}/events",
            web::post().to(case_pages::apply_event),
        )
        .route(
            "/cases/{key}/actions",
            web::post().to(agreed_action_pages::agree),
        )
        .route(
            "/cases/{key}/actions/{action_id}",
            web::post().to(agreed_action_pages::change),
        )
        .route(
            "/cases/{key}/meetings/new",
            web::get().to(meeting_pages::new_meeting),
        )
        .route(
            "/cases/{key}/meetings",
            web::post().to(meeting_pages::convene),
        )
        .route(
            "/meetings/{id}",
            web::get().to(meeting_schedule_page::meeting_page),
        )
        .route(
            "/meetings/{id}/reschedule",
            web::post().to(meeting_schedule_page::reschedule),
        )
        .route(
            "/meetings/{id}/cancel",
            web::post().to(meeting_schedule_page::cancel),
        )
        .route(
            "/meetings/{id}/record",
            web::get().to(meeting_record_page::record_page),
        )
        .route(
            "/meetings/{id}/record",
            web::post().to(meeting_record_page::record),
        )
        .route("/dashboard", web::get().to(oversight::dashboard))
        .route("/dashboard/{list}", web::get().to(oversight::dashboard_csv))
        .route("/workflows/{name}", web::get().to(oversight::workflow));
}

/// Headers on every response: what may load (only this service's own styles; no scripts, no
/// frames), no MIME sniffing, no referrer leaving the service, and nothing kept by a browser
/// or proxy cache (case data on a shared computer); the stylesheets set their own caching.
/// HSTS only when the service is reached over HTTPS: over plain HTTP it means nothing, and a
/// test or internal address must not be pinned to HTTPS by mistake.
pub fn security_headers(https: bool) -> actix_web::middleware::DefaultHeaders {
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((header::CACHE_CONTROL, "no-store"));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        headers
    }
}
