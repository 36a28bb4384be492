//! Convening a meeting from the case page: the invitee list starts from the case (both
//! authorities, the strategy discussion's participants, people involved), and a time the service
//! warns about (past the deadline, a weekend or bank holiday, outside working hours) comes back
//! for the chair to confirm with a rationale.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{first, Submitted};
use super::{see_other, signed_in, PageContext};
use crate::app::AppState;
use crate::domain::case;
use crate::domain::form_token;
use crate::domain::meeting::{self, InviteeInput, MeetingRequest};
use crate::error::AppError;
use crate::http::cases::{reading_case, with_conn};

/// Rows for invitees beyond those suggested.
const EXTRA_ROWS: usize = 2;

fn invitee_rows(
    state: &AppState,
    lang: &str,
    suggested: &[Value],
    typed: Option<&Submitted>,
    rows: usize,
) -> Vec<Value> {
    (0..rows)
        .map(|i| {
            let key = |part: &str| format!("inv:{i}:{part}");
            match typed {
                Some(f) => json!({
                    "index": i, "number": i + 1,
                    "include": first(f, &key("include")).is_some(),
                    "name": first(f, &key("name")).unwrap_or(""),
                    "email": first(f, &key("email")).unwrap_or(""),
                    "agency": first(f, &key("agency")).unwrap_or(""),
                    "role": first(f, &key("role")).unwrap_or(""),
                    "welsh": first(f, &key("language")) == Some("cy"),
                    "direct": first(f, &key("direct")).is_some(),
                }),
                None => {
                    let s = suggested.get(i);
                    let text = |k: &str| {
                        s.and_then(|s| s.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    // A suggested role is worded in the chair's language; what is stored is
                    // what the form sends.
                    let role = match text("role_key") {
                        k if k.is_empty() => text("role"),
                        k => state.pages.word(lang, &format!("invitee_role_{k}")),
                    };
                    json!({
                        "index": i, "number": i + 1, "include": !text("email").is_empty(),
                        "name": text("name"), "email": text("email"), "agency": text("agency"),
                        "role": role, "welsh": text("language") == "cy", "direct": false,
                    })
                }
            }
        })
        .collect()
}

/// The roles the service suggests for invitees, by their catalogue keys.
const SUGGESTED_ROLES: &[&str] = &[
    "social_services_located",
    "social_services_residence",
    "police",
    "health",
    "education",
    "youth_offending",
    "social_services",
    "partner_agency",
];

/// An invitee's role in the reader's language where it is one the service suggested (kept as
/// the chair's form sent it, in the chair's language); any other role as it was typed.
pub(super) fn role_in(state: &AppState, lang: &str, role: &str) -> String {
    SUGGESTED_ROLES
        .iter()
        .map(|k| format!("invitee_role_{k}"))
        .find(|key| {
            ["en", "cy"]
                .iter()
                .any(|l| state.pages.word(l, key) == role)
        })
        .map(|key| state.pages.word(lang, &key))
        .unwrap_or_else(|| role.to_string())
}

/// What a convening form is about: a child's case (`/cases/{key}/meetings/new`), or a context
/// for a meeting about contexts (`/contexts/{key}/meetings/new`).
#[derive(Clone)]
enum Subject {
    Case(String),
    Context(String),
}

impl Subject {
    fn key(&self) -> &str {
        match self {
            Subject::Case(k) | Subject::Context(k) => k,
        }
    }

    fn base(&self, reference: &str) -> String {
        match self {
            Subject::Case(_) => format!("/cases/{reference}"),
            Subject::Context(_) => format!("/contexts/{reference}"),
        }
    }
}

/// Something else the meeting may also be about, offered with a checkbox: another child's
/// case, or another context.
struct Also {
    reference: String,
    label: String,
}

/// The other children's cases (or contexts) ticked on the form.
fn chosen_companions(typed: Option<&Submitted>) -> Vec<&str> {
    typed
        .into_iter()
        .flatten()
        .filter(|(k, _)| k == "also")
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The meeting form. `step_kind` is the kind of meeting the case's current step holds, chosen
/// until the chair chooses another.
#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    (subject, reference): (&Subject, &str),
    step_kind: Option<&str>,
    invitees: Vec<Value>,
    companions: &[Also],
    typed: Option<&Submitted>,
    errors: Value,
) -> HttpResponse {
    let welsh = page.lang == "cy";
    let chosen = chosen_companions(typed);
    let engine = &state.services.engine;
    let (kinds, caption, also, also_hint) = match subject {
        Subject::Case(_) => (
            meeting::case_kind_codes(engine),
            "case",
            "other_children",
            "other_children_hint",
        ),
        Subject::Context(_) => (
            meeting::context_kind_codes(engine),
            "context",
            "other_contexts",
            "other_contexts_hint",
        ),
    };
    let get = |k: &str| typed.and_then(|f| first(f, k)).unwrap_or("").to_string();
    let chosen_kind = typed
        .and_then(|f| first(f, "kind"))
        .or(step_kind)
        .or(kinds.first().map(String::as_str))
        .unwrap_or("")
        .to_string();
    let mut agencies: Vec<Value> = state
        .services
        .engine
        .agencies
        .current()
        .all()
        .map(|a| json!({"code": a.code, "name": if welsh { &a.name_cy } else { &a.name_en }}))
        .collect();
    agencies.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let data = json!({
        "title": state.pages.word(&page.lang, "convene_meeting"),
        "reference": reference,
        "caption": state.pages.word(&page.lang, caption),
        "action": format!("{}/meetings", subject.base(reference)),
        "also_legend": state.pages.word(&page.lang, also),
        "also_hint": state.pages.word(&page.lang, also_hint),
        "kinds": kinds.iter().enumerate().map(|(i, k)| json!({
            "value": k,
            "label": meeting::kind_name(engine, k, if welsh { crate::i18n::Language::Welsh } else { crate::i18n::Language::English }),
            "checked": &chosen_kind == k, "first": i == 0,
        })).collect::<Vec<_>>(),
        "date": {
            "id": "m-date", "name": "date", "legend": state.pages.word(&page.lang, "meeting_date"),
            "error": errors.as_array().and_then(|l| l.iter().find(|e| e["id"] == "m-date")).map(|e| e["message"].clone()),
            "day": get("date-day"), "month": get("date-month"), "year": get("date-year"),
        },
        "starts_time": get("starts_time"), "ends_time": get("ends_time"), "location": get("location"),
        "online_link": get("online_link"), "rationale": get("confirm_warnings_rationale"),
        "addresses_rationale": get("confirm_addresses_rationale"),
        "invitees": invitees, "agencies": agencies, "errors": errors,
        "companions": companions.iter().enumerate().map(|(i, c)| json!({
            "index": i, "reference": c.reference, "label": c.label,
            "checked": chosen.contains(&c.reference.as_str()),
        })).collect::<Vec<_>>(),
        "form_token": typed.and_then(|f| first(f, "form_token")).filter(|t| t.len() == 64)
            .map(str::to_string).unwrap_or_else(super::session::random_token),
    });
    super::page_response(state, "meeting_new", page, status, data)
}

pub async fn new_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let user_actor = user.actor.clone();
    let found = reading_case(
        &state,
        user.actor.clone(),
        req.path().to_string(),
        key.into_inner(),
        move |s, conn, c| {
            Ok((
                c.reference.clone(),
                meeting::suggested_invitees(&s.services.engine, conn, c)?,
                meeting::kind_for_case(&s.services.engine, conn, c)?,
                also_cases(meeting::companion_cases(
                    &s.services.engine,
                    conn,
                    &user_actor,
                    c,
                )?),
            ))
        },
    )
    .await;
    Ok(match found {
        Ok((reference, suggested, step_kind, companions)) => {
            let rows = invitee_rows(
                &state,
                &page.lang,
                &suggested,
                None,
                suggested.len() + EXTRA_ROWS,
            );
            form_page(
                &state,
                &page,
                StatusCode::OK,
                (&Subject::Case(reference.clone()), &reference),
                step_kind.as_deref(),
                rows,
                &companions,
                None,
                json!([]),
            )
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

fn also_cases(companions: Vec<meeting::CompanionCase>) -> Vec<Also> {
    companions
        .into_iter()
        .map(|c| Also {
            reference: c.reference,
            label: c.child_name,
        })
        .collect()
}

/// The other contexts the reader may see, to tick beside this one.
fn also_contexts(
    s: &AppState,
    conn: &mut crate::storage::DbConn,
    actor: &crate::identity::Actor,
    path: &str,
    this: &str,
) -> Result<Vec<Also>, AppError> {
    let intent = s.services.intent(&actor.id, path);
    Ok(
        crate::domain::context::list(&s.services, conn, &intent, actor)?
            .into_iter()
            .filter(|c| c.id != this)
            .map(|c| Also {
                reference: c.reference,
                label: c.name,
            })
            .collect(),
    )
}

/// Convening a meeting about contexts from a context's page: about this context and any other
/// ticked; its children are those linked to them whom the chair may see.
pub async fn new_context_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let (actor, path, key) = (user.actor.clone(), req.path().to_string(), key.into_inner());
    let may_convene = meeting::may_convene(&actor).is_ok();
    let found = with_conn(&state, move |s, conn| {
        let ctx = crate::domain::context::visible(conn, &actor, &key)?;
        if !may_convene {
            return Err(AppError::Forbidden(
                "only a chair or team lead may convene a meeting".into(),
            ));
        }
        let also = also_contexts(s, conn, &actor, &path, &ctx.id)?;
        Ok((ctx.reference, also))
    })
    .await;
    Ok(match found {
        Ok((reference, also)) => form_page(
            &state,
            &page,
            StatusCode::OK,
            (&Subject::Context(reference.clone()), &reference),
            None,
            invitee_rows(&state, &page.lang, &[], None, EXTRA_ROWS + 2),
            &also,
            None,
            json!([]),
        ),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        // One who may see the context but not convene: told so, after the 404 of one who may not.
        Err(AppError::Forbidden(_)) => super::message_page(
            &state,
            &page,
            StatusCode::FORBIDDEN,
            "forbidden_heading",
            "forbidden_body",
        ),
        Err(e) => return Err(e),
    })
}

/// Where an API field's error shows on this form.
fn input_id(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("invitees[") {
        let (i, part) = rest
            .split_once("].")
            .unwrap_or((rest.trim_end_matches(']'), "name"));
        return format!("inv-{i}-{part}");
    }
    match field {
        "confirm_warnings_rationale" => "m-rationale".into(),
        "confirm_addresses_rationale" => "m-addresses-rationale".into(),
        "kind" => "m-kind".into(),
        "starts_at" | "starts_time" => "m-starts_time".into(),
        "ends_at" | "ends_time" => "m-ends_time".into(),
        "meeting_date" => "m-date".into(),
        f => format!("m-{f}"),
    }
}

fn summary(state: &AppState, lang: &str, e: &AppError) -> Value {
    let mut items = Vec::new();
    if let AppError::Unprocessable {
        details: Some(d), ..
    } = e
    {
        let list = if lang == "cy" {
            &d["warnings_cy"]
        } else {
            &d["warnings"]
        };
        for w in list.as_array().into_iter().flatten() {
            items.push(json!({"id": "m-rationale", "message": w}));
        }
    }
    items.push(json!({"id": e.field().map(input_id).unwrap_or_else(|| "m-kind".into()), "message": super::error_text(state, lang, e)}));
    Value::Array(items)
}

/// The children a convening form is about: this case, then the others ticked, each once.
fn meeting_cases(key: &str, form: &Submitted) -> Vec<String> {
    let mut cases = vec![key.to_string()];
    for other in chosen_companions(Some(form)) {
        if !cases.iter().any(|c| c.eq_ignore_ascii_case(other)) && cases.len() < 20 {
            cases.push(other.to_string());
        }
    }
    cases
}

/// The contexts a convening form is about: this one, then the others ticked, each once.
fn meeting_contexts(key: &str, form: &Submitted) -> Vec<String> {
    let mut contexts = vec![key.to_string()];
    for other in chosen_companions(Some(form)) {
        if !contexts.iter().any(|c| c.eq_ignore_ascii_case(other)) && contexts.len() < 10 {
            contexts.push(other.to_string());
        }
    }
    contexts
}

pub async fn convene(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    convene_about(
        state,
        req,
        form.into_inner(),
        Subject::Case(key.into_inner()),
    )
    .await
}

pub async fn convene_on_context(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    convene_about(
        state,
        req,
        form.into_inner(),
        Subject::Context(key.into_inner()),
    )
    .await
}

async fn convene_about(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Submitted,
    subject: Subject,
) -> Result<HttpResponse, AppError> {
    let key = subject.key().to_string();
    let back = format!("{}/meetings/new", subject.base(&key));
    let (user, page) = match super::signed_in_post(&req, &state, &form, back).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let token = first(&form, "form_token").unwrap_or("").to_string();
    let typed_rows = form
        .iter()
        .filter_map(|(k, _)| {
            k.strip_prefix("inv:")?
                .split(':')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map(|m| m + 1)
        .unwrap_or(0)
        .min(60);
    // "Add another person": the same form with a row more, nothing sent.
    let adding = first(&form, "add") == Some("invitee");
    let rows = if adding {
        (typed_rows + 1).min(60)
    } else {
        typed_rows
    };
    let get = |k: &str| first(&form, k).unwrap_or("").trim().to_string();
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let invitees: Vec<InviteeInput> = (0..typed_rows)
        .filter(|i| first(&form, &format!("inv:{i}:include")).is_some())
        .map(|i| {
            let part = |p: &str| get(&format!("inv:{i}:{p}"));
            InviteeInput {
                name: part("name"),
                email: part("email"),
                agency: Some(part("agency")).filter(|a| !a.is_empty()),
                role: part("role"),
                language: if part("language") == "cy" {
                    "cy".into()
                } else {
                    "en".into()
                },
                direct_knowledge: first(&form, &format!("inv:{i}:direct")).is_some(),
            }
        })
        .collect();
    let (times, time_error) = match super::forms::meeting_times_from(&form) {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(e)),
    };
    let times_read = times.is_some();
    let (starts_at, ends_at) = times.unwrap_or_default();
    let request = MeetingRequest {
        kind: get("kind"),
        starts_at,
        ends_at,
        location: optional("location"),
        online_link: optional("online_link"),
        cases: match &subject {
            Subject::Case(_) => meeting_cases(&key, &form),
            Subject::Context(_) => Vec::new(),
        },
        contexts: match &subject {
            Subject::Case(_) => Vec::new(),
            Subject::Context(_) => meeting_contexts(&key, &form),
        },
        invitees,
        confirm_warnings_rationale: optional("confirm_warnings_rationale"),
        confirm_addresses_rationale: optional("confirm_addresses_rationale"),
    };
    // Everything wrong with what was typed, at once: the date and times the form could not
    // read, then whatever else the request fails before it reaches the cases.
    let mut upfront: Vec<AppError> = time_error.into_iter().collect();
    upfront.extend(meeting::problems(
        &state.services.engine,
        state.services.now(),
        &request,
        times_read,
    ));
    let upfront_empty = upfront.is_empty();
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let about = subject.clone();
    let outcome = with_conn(&state, move |s, conn| {
        // A case or context out of reach answers "not found", whatever the form said.
        let (reference, companions) = match &about {
            Subject::Case(key) => {
                let c = case::visible_case(conn, &actor, key)?;
                let companions = meeting::companion_cases(&s.services.engine, conn, &actor, &c)?;
                (c.reference, also_cases(companions))
            }
            Subject::Context(key) => {
                let ctx = crate::domain::context::visible(conn, &actor, key)?;
                let also = also_contexts(s, conn, &actor, &path, &ctx.id)?;
                (ctx.reference, also)
            }
        };
        let result = match &request {
            _ if adding || !upfront_empty => Err(None),
            // The same form sent again (a double click) convenes no second meeting.
            _ if form_token::outcome(conn, &token, &actor.id)?.is_some() => Ok(()),
            request => {
                let intent = s.services.intent(&actor.id, &path);
                match meeting::schedule(&s.services, conn, &intent, &actor, request, Some(&token)) {
                    Ok(_)
                    | Err(AppError::Conflict {
                        code: "form_already_sent",
                        ..
                    }) => Ok(()),
                    Err(e) => Err(Some(e)),
                }
            }
        };
        Ok((reference, companions, result))
    })
    .await;
    let (reference, companions, result) = match outcome {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => return Ok(super::not_found_page(&state, &page)),
        Err(e) => return Err(e),
    };
    let errors: Vec<AppError> = match result {
        Ok(()) => {
            return Ok(see_other(&format!(
                "{}?done=meeting_convened",
                subject.base(&reference)
            )))
        }
        Err(_) if adding => Vec::new(),
        Err(Some(e)) => vec![e],
        Err(None) => upfront,
    };
    let status = errors
        .first()
        .map(ResponseError::status_code)
        .unwrap_or(StatusCode::OK);
    let summary_items: Vec<Value> = errors
        .iter()
        .flat_map(|e| {
            summary(&state, &page.lang, e)
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    Ok(form_page(
        &state,
        &page,
        status,
        (&subject, &reference),
        None,
        invitee_rows(&state, &page.lang, &[], Some(&form), rows),
        &companions,
        Some(&form),
        Value::Array(summary_items),
    ))
}
