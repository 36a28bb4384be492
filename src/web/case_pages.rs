//! The chair's pages: my cases, a new report, and the case page with its current step, the
//! steps allowed next (each a form drawn from the workflow), agreed actions, reviews and the
//! timeline. A refused step comes back with what is missing and what was typed.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use super::forms::{self, Prefill, Submitted};
use super::{see_other, signed_in, WebUser};
use crate::app::AppState;
use crate::domain::access_log::Access;
use crate::domain::case::{self, CaseFilter};
use crate::domain::form_token;
use crate::domain::report::{self, NewCaseRequest};
use crate::domain::transition::{self, case_facts, EventRequest};
use crate::domain::unit_of_work;
use crate::error::AppError;
use crate::http::cases::{reading_case, with_conn};
use crate::i18n::Language;
use crate::storage::models::CaseRow;
use crate::storage::DbConn;
use crate::time::wales;

fn language(lang: &str) -> Language {
    if lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    }
}

pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match signed_in(&req, &state).await {
        // Administrators run the service and see no case.
        Ok(u) if u.actor.role == crate::identity::RoleName::Administrator => see_other("/admin"),
        Ok(_) => see_other("/cases"),
        Err(redirect) => redirect,
    }
}

pub async fn my_cases(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    let chosen = json!({"q": get("q"), "step": get("step"), "overdue": get("overdue") == "yes"});
    cases_page_with(&state, &user, &page, StatusCode::OK, chosen).await
}

/// The cases page, with `extra` (a refused break-glass form's errors and what was typed).
pub async fn cases_page_with(
    state: &web::Data<AppState>,
    user: &WebUser,
    page: &super::PageContext,
    status: StatusCode,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = language(&page.lang);
    let actor = user.actor.clone();
    let path = "/cases".to_string();
    let q = extra["q"].as_str().unwrap_or_default().to_string();
    let step = extra["step"].as_str().unwrap_or_default().to_string();
    let overdue = extra["overdue"].as_bool().unwrap_or(false);
    let primary = state.services.engine.registry.primary();
    let steps: Vec<Value> = primary
        .def
        .states
        .iter()
        .map(|st| json!({"id": st.id, "title": st.title_in(lang), "selected": st.id == step}))
        .collect();
    // Only a step the workflow has is a filter; anything else is no filter at all.
    let known_step = primary.state(&step).is_some();
    let filter = CaseFilter {
        q: Some(q.clone()),
        state: known_step.then(|| step.clone()),
        overdue: overdue.then_some(true),
        // Every case the person may open, so that the most urgent are first however many.
        limit: Some(1000),
        ..CaseFilter::default()
    };
    let page_lang = page.lang.clone();
    let rows = with_conn(state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        let list = unit_of_work::read(conn, &intent, Access::List, |conn, touched| {
            let list = case::list_cases(&s.services, conn, &actor, &filter)?;
            touched.cases(list.iter().map(|c| c.id.as_str()));
            Ok(list)
        })?;
        let primary = s.services.engine.registry.primary();
        // Most urgent first: overdue, then the nearest deadline, then those with none.
        let mut list = list;
        list.sort_by_key(|c| (!c.overdue, c.next_deadline.is_none(), c.next_deadline));
        Ok(list
            .iter()
            .map(|c| {
                json!({
                    "reference": c.reference, "child_name": c.child_name, "age": c.child_age,
                    "step": c.state.as_deref().and_then(|st| primary.state(st).map(|x| x.title_in(lang).to_string())).unwrap_or_default(),
                    "status": s.pages.word(&page_lang, &format!("status_{}", c.status)),
                    "next_deadline": c.next_deadline.map(|d| wales::date_time(d, lang)),
                    "overdue": c.overdue,
                })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let title = state.pages.word(&page.lang, "my_cases");
    let mut data = json!({"title": title, "cases": rows, "q": q, "steps": steps,
        "overdue_only": overdue, "filtered": !q.is_empty() || known_step || overdue,
        "may_break_glass": !matches!(user.actor.role, crate::identity::RoleName::Administrator),
        "break_glass": {"reference": "", "reason": ""}});
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    Ok(super::page_response(state, "cases", page, status, data))
}

/// The facts a report records: those the first decision's events need.
fn report_facts(wf: &crate::engine::Workflow) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in wf
        .transitions_from(&wf.def.initial)
        .filter(|t| forms::for_people(t))
    {
        for n in forms::facts_for(wf, t) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

fn report_fields(
    state: &AppState,
    typed: Option<&Submitted>,
    welsh: bool,
    errors: &Value,
) -> Vec<forms::Field> {
    let wf = state.services.engine.registry.primary();
    let names = report_facts(&wf);
    let empty = Map::new();
    let prefill = match typed {
        Some(f) => Prefill::Typed(f),
        None => Prefill::Recorded(&empty),
    };
    forms::specs(&wf, &names)
        .values()
        .map(|(name, spec)| {
            let mut f = forms::field(
                "report",
                name,
                spec,
                &prefill,
                &state.services.engine.agencies.current(),
                welsh,
            );
            f.error = forms::message_at(errors, &f.id);
            f
        })
        .collect()
}

/// The child's part of a report form (`child_fields.hbs`): what was typed, the authorities to
/// choose from, and each input's error.
pub(super) fn child_form_data(
    state: &AppState,
    page: &super::PageContext,
    typed: Option<&Submitted>,
    errors: &Value,
) -> (Value, Vec<Value>) {
    let welsh = page.lang == "cy";
    let get = |k: &str| {
        typed
            .and_then(|f| forms::first(f, k))
            .unwrap_or("")
            .to_string()
    };
    let authorities: Vec<Value> = state
        .services
        .engine
        .agencies
        .current()
        .all()
        .filter(|a| a.kind == "local_authority")
        .map(|a| json!({"code": a.code, "name": if welsh { &a.name_cy } else { &a.name_en }}))
        .collect();
    let mut dob = forms::date_parts(typed, "date_of_birth", None);
    dob["id"] = json!("date_of_birth");
    dob["name"] = json!("date_of_birth");
    dob["past"] = json!(true);
    dob["legend"] = json!(state.pages.word(&page.lang, "date_of_birth"));
    dob["error"] = errors
        .as_array()
        .and_then(|l| l.iter().find(|e| e["id"] == "date_of_birth"))
        .map_or(Value::Null, |e| e["message"].clone());
    let child = json!({
        "name": get("child_name"), "date_of_birth": dob, "gender": get("gender"),
        "located_authority": get("located_authority"), "residence_authority": get("residence_authority"),
        "looked_after": typed.and_then(|f| forms::first(f, "looked_after")).is_some(),
        "errors": {
            "name": forms::message_at(errors, "child_name"),
            "gender": forms::message_at(errors, "gender"),
            "located_authority": forms::message_at(errors, "located_authority"),
            "residence_authority": forms::message_at(errors, "residence_authority"),
        },
    });
    (child, authorities)
}

fn report_page(
    state: &AppState,
    page: &super::PageContext,
    status: StatusCode,
    typed: Option<&Submitted>,
    errors: Value,
) -> HttpResponse {
    let welsh = page.lang == "cy";
    let (child, authorities) = child_form_data(state, page, typed, &errors);
    let languages = language_choices(
        state,
        &page.lang,
        typed,
        ["not_known", "not_known", "not_made"],
    );
    super::page_response(
        state,
        "new_report",
        page,
        status,
        json!({"title": state.pages.word(&page.lang, "new_report"), "child": child, "authorities": authorities,
               "languages": languages,
               "form_token": typed.and_then(|f| forms::first(f, "form_token")).filter(|t| t.len() == 64)
                   .map(str::to_string).unwrap_or_else(super::session::random_token),
               "fields": report_fields(state, typed, welsh, &errors), "errors": errors}),
    )
}

/// The options of the language and active-offer questions, with the one chosen: what was typed,
/// else `current` (the case's, or the defaults of a new report).
fn language_choices(
    state: &AppState,
    lang: &str,
    typed: Option<&Submitted>,
    current: [&str; 3],
) -> Value {
    let choices = |field: &str, values: &[&str], prefix: &str, current: &str| -> Vec<Value> {
        let chosen = typed
            .and_then(|f| forms::first(f, field))
            .unwrap_or(current);
        values
            .iter()
            .map(|v| json!({"value": v, "label": state.pages.word(lang, &format!("{prefix}{v}")), "selected": *v == chosen}))
            .collect()
    };
    json!({
        "child": choices("language", report::LANGUAGES, "language_", current[0]),
        "family": choices("family_language", report::LANGUAGES, "language_", current[1]),
        "offer": choices("welsh_offer", report::WELSH_OFFERS, "welsh_offer_", current[2]),
    })
}

pub async fn new_report(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match signed_in(&req, &state).await {
        Ok(user) => report_page(&state, &user.page(&req), StatusCode::OK, None, json!([])),
        Err(r) => r,
    }
}

/// An error as the error summary shows it, in the page's language: the message and the input
/// it links to.
pub(super) fn summary(state: &AppState, lang: &str, prefix: &str, e: &AppError) -> Value {
    error_items(state, lang, prefix, e.field(), e)
}

/// The error summary's items for a refused event form whose inputs are numbered by `prefix`:
/// each guard still missing at its input, else the error at the input `field` names.
pub(super) fn error_items(
    state: &AppState,
    lang: &str,
    prefix: &str,
    field: Option<&str>,
    e: &AppError,
) -> Value {
    let mut items = Vec::new();
    if let AppError::Unprocessable {
        details: Some(d), ..
    } = e
    {
        for m in d["missing"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().unwrap_or("");
            let id = match m["kind"].as_str() {
                Some("fact") => format!("f-{prefix}-{name}"),
                Some("action") | Some("agreed_actions") => format!("a-{prefix}-0-title"),
                Some("rationale") => format!("rationale-{prefix}"),
                _ => format!("event-{prefix}"),
            };
            let message = if lang == "cy" {
                &m["message_cy"]
            } else {
                &m["message"]
            };
            items.push(json!({"id": id, "message": message}));
        }
    }
    if items.is_empty() {
        let id = field
            .map(|f| match f {
                "rationale" => format!("rationale-{prefix}"),
                "child.name" => "child_name".into(),
                f if f.starts_with("child.") => f.trim_start_matches("child.").to_string(),
                f => forms::input_id(prefix, f),
            })
            .unwrap_or_else(|| format!("event-{prefix}"));
        items.push(json!({"id": id, "message": super::error_text(state, lang, e)}));
    }
    Value::Array(items)
}

/// The child as a report form typed them, for `NewCaseRequest`, and the date of birth if it
/// could be read; its problem, or that it is missing, goes first in `errors`.
pub(super) fn typed_child(form: &Submitted, errors: &mut Vec<AppError>) -> (Value, Option<String>) {
    let get = |k: &str| forms::first(form, k).unwrap_or("").trim().to_string();
    // The date of birth in three boxes; left empty, the report says it is needed.
    let dob = match forms::date_from(form, "date_of_birth", "child.date_of_birth") {
        Ok(Some(d)) => Some(d.to_string()),
        Ok(None) => {
            errors.insert(
                0,
                AppError::bad_request(
                    "required",
                    "child.date_of_birth",
                    "child.date_of_birth must not be empty",
                ),
            );
            None
        }
        Err(e) => {
            errors.insert(0, e);
            None
        }
    };
    // The form always sends a choice; a post without one (not from the form) is unasked.
    let or = |v: String, unasked: &str| if v.is_empty() { unasked.to_string() } else { v };
    let child = json!({"name": get("child_name"), "date_of_birth": dob.clone().unwrap_or_default(), "gender": get("gender"),
              "located_authority": get("located_authority"), "residence_authority": get("residence_authority"),
              "looked_after": forms::first(form, "looked_after").is_some(),
              "language": or(get("language"), "not_known"), "family_language": or(get("family_language"), "not_known"),
              "welsh_offer": or(get("welsh_offer"), "not_made")});
    (child, dob)
}

pub async fn record_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match super::signed_in_post(&req, &state, &form, "/cases/new".into()).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if forms::first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let wf = state.services.engine.registry.primary();
    let names = report_facts(&wf);
    // Every problem with what was typed, shown at once: the questions that could not be read,
    // then whatever the report's own checks find in the rest.
    let (facts, mut errors) = forms::facts_and_errors(&wf, &names, &form);
    let (child, dob) = typed_child(&form, &mut errors);
    let request = serde_json::from_value::<NewCaseRequest>(json!({"child": child, "facts": facts}))
        .map_err(|e| AppError::bad_request("invalid_report", "child", e.to_string()));
    let request = match request {
        Ok(r) => {
            if let Err(found) = report::checked(&state.services.engine, &r, state.services.now()) {
                // The date of birth's own problem is already listed.
                errors.extend(
                    found
                        .into_iter()
                        .filter(|e| dob.is_some() || e.field() != Some("child.date_of_birth")),
                );
            }
            Some(r)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let request = match request {
        Some(r) if errors.is_empty() => r,
        _ => {
            let status = errors
                .first()
                .map(ResponseError::status_code)
                .unwrap_or(StatusCode::BAD_REQUEST);
            let items: Vec<Value> = errors
                .iter()
                .flat_map(|e| {
                    summary(&state, &page.lang, "report", e)
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            return Ok(report_page(
                &state,
                &page,
                status,
                Some(&form),
                Value::Array(items),
            ));
        }
    };
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let token = forms::first(&form, "form_token").unwrap_or("").to_string();
    let created = with_conn(&state, move |s, conn| {
        // A second send of the same form leads to the case the first one recorded.
        if let Some(reference) = form_token::outcome(conn, &token, &actor.id)? {
            return Ok(reference);
        }
        let intent = s.services.intent(&actor.id, &path);
        match report::record(&s.services, conn, &intent, &actor, &request, Some(&token)) {
            Ok(c) => Ok(c.reference),
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(form_token::outcome(conn, &token, &actor.id)?.unwrap_or_default()),
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match created {
        Ok(reference) if reference.is_empty() => see_other("/cases"),
        Ok(reference) => see_other(&format!("/cases/{reference}?done=report_recorded")),
        Err(e) => {
            let status = e.status_code();
            report_page(
                &state,
                &page,
                status,
                Some(&form),
                summary(&state, &page.lang, "report", &e),
            )
        }
    })
}

/// The colour of a status's tag (GOV.UK tag): what is under way blue, what is finished well
/// green, what stopped grey, what failed red.
pub(super) fn status_colour(status: &str) -> &'static str {
    match status {
        "open" | "scheduled" | "due" | "pending" => "blue",
        "done" | "held" | "sent" | "accepted" | "handed_over" => "green",
        "failed" | "declined" => "red",
        _ => "grey",
    }
}

/// What the case page shows. `failed` is the event just refused, with what was typed.
pub(super) fn case_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    case: &CaseRow,
    lang: &str,
    failed: Option<(&str, &Submitted)>,
) -> Result<Value, AppError> {
    let engine = &state.services.engine;
    let welsh = lang == "cy";
    let when = |t: chrono::DateTime<chrono::Utc>| wales::date_time(t, language(lang));
    let view = case::view_case(&state.services, conn, case, language(lang))?;
    let allowed = transition::allowed_events(&state.services, conn, case, user.actor.role)?;
    let recorded = case_facts(case);
    let mut workflows = Vec::new();
    for w in view.workflows.iter().filter(|w| !w.finished) {
        let Some(wf) = engine.registry.get(&w.workflow, w.workflow_version as u32) else {
            continue;
        };
        let mut events = Vec::new();
        for a in allowed
            .iter()
            .filter(|a| a.workflow == w.workflow && a.permitted_for_you)
        {
            let Some(t) = wf.transition(&w.state, &a.event) else {
                continue;
            };
            let typed = failed.filter(|(e, _)| *e == a.event).map(|(_, f)| f);
            let prefill = match typed {
                Some(f) => Prefill::Typed(f),
                None => Prefill::Recorded(&recorded),
            };
            let names = forms::facts_for(&wf, t);
            let fields: Vec<forms::Field> = forms::specs(&wf, &names)
                .values()
                .map(|(name, spec)| {
                    forms::field(
                        &a.event,
                        name,
                        spec,
                        &prefill,
                        &engine.agencies.current(),
                        welsh,
                    )
                })
                .collect();
            events.push(json!({
                "event": a.event, "workflow": a.workflow,
                "title": if welsh { &a.title_cy } else { &a.title }, "decline": a.decline,
                "rationale_required": a.rationale_required, "rules": a.rules.join(", "),
                "still_needed": a.still_needed.iter().map(|m| json!({"message": if welsh { &m.message_cy } else { &m.message }})).collect::<Vec<_>>(),
                "fields": fields,
                "takes_actions": forms::takes_actions(t),
                "action_rows": forms::action_rows(&wf, &a.event, typed, language(lang)),
                "rationale": typed.and_then(|f| forms::first(f, "rationale")).unwrap_or(""),
                "open": typed.is_some(),
            }));
        }
        workflows.push(json!({
            "workflow": w.workflow, "title": wf.def.title_in(language(lang)), "state_title": w.state_title, "guidance": w.guidance, "notes": w.notes,
            "rules": w.rules.join(", "),
            "deadline": w.deadline.as_ref().map(|d| json!({
                "local": when(d.due_at), "source": d.source,
                "when": crate::time::wales::date_time_in_sentence(d.due_at, crate::time::wales::Before::Nothing, language(lang)), "overdue": d.overdue,
                "days_left": d.working_days_left, "days_late": -d.working_days_left,
                "departure": d.departure_recorded,
            })),
            "events": events,
        }));
    }
    let meetings: Vec<crate::storage::models::MeetingRow> = {
        use crate::storage::schema::{meeting_cases, meetings};
        use diesel::prelude::*;
        meetings::table
            .inner_join(meeting_cases::table)
            .filter(meeting_cases::case_id.eq(&case.id))
            .order(meetings::starts_at)
            .select(crate::storage::models::MeetingRow::as_select())
            .load(conn)?
    };
    let history = case::history(conn, case)?;
    let timeline: Vec<Value> = history
        .iter()
        .rev()
        .map(|e| {
            let at = e["at"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| when(t.with_timezone(&chrono::Utc)))
                .unwrap_or_default();
            let what = match (e["event"].as_str(), e["workflow"].as_str()) {
                (Some(event), Some(workflow)) => engine.event_title(
                    workflow,
                    e["payload"]["workflow_version"].as_u64().unwrap_or(0) as u32,
                    event,
                    language(lang),
                ),
                _ => state
                    .pages
                    .word(lang, &format!("history_{}", e["kind"].as_str().unwrap_or(""))),
            };
            json!({
                "at": at, "who": e["actor_name"].as_str().unwrap_or(e["actor_id"].as_str().unwrap_or("")),
                "what": what, "decline": e["decline"], "rationale": e["rationale"],
            })
        })
        .collect();
    Ok(json!({
        "title": case.reference,
        "case": {
            "reference": case.reference, "child_name": case.child_name,
            "date_of_birth": crate::time::wales::long_date(case.child_date_of_birth, language(lang)),
            "age": crate::time::age::age_years(case.child_date_of_birth, state.services.today()),
            "turns_18": crate::time::wales::long_date(crate::time::age::eighteenth_birthday(case.child_date_of_birth), language(lang)),
            "track_starts": crate::time::wales::long_date(
                crate::time::age::date_at_age_months(case.child_date_of_birth, engine.settings.transition_age_months), language(lang)),
            "track_starts_on": crate::time::wales::date_in_sentence(
                crate::time::age::date_at_age_months(case.child_date_of_birth, engine.settings.transition_age_months),
                crate::time::wales::Before::On, language(lang)),
            "located": engine.agencies.current().get(&case.located_authority).map(|a| if welsh { a.name_cy.clone() } else { a.name_en.clone() }),
            "residence": engine.agencies.current().get(&case.residence_authority).map(|a| if welsh { a.name_cy.clone() } else { a.name_en.clone() }),
            "status": state.pages.word(lang, &format!("status_{}", case.status)), "version": case.version,
            "status_colour": status_colour(&case.status),
            "language": state.pages.word(lang, &format!("language_{}", case.child_language)),
            "family_language": state.pages.word(lang, &format!("language_{}", case.family_language)),
            "welsh_offer": state.pages.word(lang, &format!("welsh_offer_{}", case.welsh_offer)),
            "welsh_offer_not_made": case.welsh_offer == "not_made",
            "languages": language_choices(state, lang, None, [&case.child_language, &case.family_language, &case.welsh_offer]),
        },
        "workflows": workflows,
        "actions": super::agreed_action_pages::actions_data(state, conn, user, case, lang, None)?,
        "reviews": view.reviews.iter().map(|r| json!({"title": r.title, "number": r.number, "due": when(r.due_at), "status": state.pages.word(lang, &format!("status_{}", r.status)), "status_colour": status_colour(&r.status), "overdue": r.overdue})).collect::<Vec<_>>(),
        "timeline": timeline,
        "chronology": super::chronology::entries(state, &history, lang),
        "meetings": meetings.iter().map(|m| json!({
            "id": m.id, "kind": crate::domain::meeting::kind_name(engine, &m.kind, language(lang)),
            "starts": when(m.starts_at.and_utc()), "status": state.pages.word(lang, &format!("status_{}", m.status)), "to_record": m.status == "scheduled",
            "status_colour": status_colour(&m.status),
        })).collect::<Vec<_>>(),
        "risk": risk_summary(state, conn, &user.actor, case, lang)?,
        "correction": super::child_correction_page::form_data(state, user, case, lang, None),
        "may_disclose": crate::domain::disclosure::may_prepare(&user.actor, case),
        "can_convene": matches!(user.actor.role, crate::identity::RoleName::Chair | crate::identity::RoleName::TeamLead),
        "access": super::case_access_pages::access_data(state, conn, &user.actor, case, lang)?,
        "referral": super::case_access_pages::referral_data(state, conn, case, lang)?,
        "child_record": super::case_access_pages::child_record_data(state, conn, &user.actor, case, lang)?,
    }))
}

/// The case page's line on the child's risk over time: the category, the review due, episodes,
/// and the contexts the child is linked to that the reader may see.
fn risk_summary(
    state: &AppState,
    conn: &mut DbConn,
    actor: &crate::identity::Actor,
    case: &CaseRow,
    lang: &str,
) -> Result<Value, AppError> {
    let view = crate::domain::risk_over_time::view(&state.services, conn, case, language(lang))?;
    let contexts = crate::domain::context::of_case(&state.services, conn, actor, case)?;
    Ok(json!({
        "category": view.category_title,
        "review": view.review.map(|r| json!({
            "due": wales::long_date(r.due_on, language(lang)), "overdue": r.overdue,
            "reason": state.pages.word(lang, &format!("risk_review_reason_{}", r.reason)),
        })),
        "episodes": view.missing_episodes.len(),
        "interview_overdue": view.missing_episodes.iter().any(|e| e.interview_overdue),
        "contexts": contexts.iter().map(|c| json!({
            "reference": c.reference, "name": c.name,
            "kind": state.pages.word(lang, &format!("context_kind_{}", c.kind)),
        })).collect::<Vec<_>>(),
    }))
}

/// The case page's values for the signed-in reader, or the answer to give instead: sign-in,
/// or "page not found" for a case they may not see (as for one that does not exist).
pub(super) async fn read_case(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    key: String,
) -> Result<Result<(super::PageContext, Value), HttpResponse>, AppError> {
    let user = match signed_in(req, state).await {
        Ok(u) => u,
        Err(r) => return Ok(Err(r)),
    };
    let page = user.page(req);
    let lang = page.lang.clone();
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let data = reading_case(state, actor, path, key, move |s, conn, c| {
        case_data(s, conn, &user, c, &lang, None)
    })
    .await;
    match data {
        Ok(d) => Ok(Ok((page, d))),
        Err(AppError::NotFound(_)) => Ok(Err(super::not_found_page(state, &page))),
        Err(e) => Err(e),
    }
}

pub async fn case_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    // After a change, its confirmation: only words the catalogue has, never what was sent.
    let done =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("done").map(|d| format!("done_{d}")))
            .filter(|k| state.pages.has(k));
    Ok(match read_case(&state, &req, key.into_inner()).await? {
        Ok((page, mut data)) => {
            if let Some(k) = done {
                data["notice"] = json!(state.pages.word(&page.lang, &k));
            }
            super::page_response(&state, "case", &page, StatusCode::OK, data)
        }
        Err(answer) => answer,
    })
}

pub async fn apply_event(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let key = key.into_inner();
    let (user, page) =
        match super::signed_in_post(&req, &state, &form, format!("/cases/{key}")).await {
            Ok(signed) => signed,
            Err(refused) => return Ok(refused),
        };
    let lang = page.lang.clone();
    let actor = user.actor.clone();
    let path = req.path().to_string();
    // Applied, or refused: then the page again with what is missing and what was typed. The
    // form is read inside the unit of work, so a form that does not parse is a refusal too.
    let outcome = with_conn(&state, move |s, conn| {
        let get = |k: &str| forms::first(&form, k).unwrap_or("").trim().to_string();
        let event = get("event");
        let workflow = get("workflow");
        let intent = s.services.intent(&actor.id, &path);
        let attempt = unit_of_work::on_case(conn, &intent, &actor, &key, |conn, c| {
            let wf_row = case::view_case(&s.services, conn, c, crate::i18n::Language::English)?
                .workflows
                .into_iter()
                .find(|w| w.workflow == workflow && !w.finished)
                .ok_or(AppError::NotFound("workflow"))?;
            let wf = s
                .services
                .engine
                .registry
                .get(&wf_row.workflow, wf_row.workflow_version as u32)
                .ok_or(AppError::NotFound("workflow"))?;
            let t = wf.transition(&wf_row.state, &event).ok_or_else(|| {
                AppError::unprocessable(
                    "event_not_allowed",
                    "event",
                    "that step is not open now; the case may have moved on",
                )
            })?;
            let (facts, unread) = forms::facts_and_errors(&wf, &forms::facts_for(&wf, t), &form);
            let expected_version = get("expected_version").parse::<i64>().map_err(|_| {
                AppError::bad_request(
                    "invalid_version",
                    "expected_version",
                    "the form is out of date; reload the page",
                )
            })?;
            let rationale = Some(get("rationale")).filter(|r| !r.is_empty());
            let request = EventRequest {
                event: event.clone(),
                workflow: Some(workflow.clone()),
                expected_version,
                rationale,
                facts,
                agreed_actions: if forms::takes_actions(t) {
                    forms::actions_from(&form)
                } else {
                    Vec::new()
                },
                meeting_id: None,
                confirm_addresses_rationale: None,
            };
            if !unread.is_empty() {
                // Answers that could not be read, and whatever else the step would refuse.
                let others =
                    transition::refusal(&s.services, conn, &actor, &c.id, &request, intent.now);
                return Err(super::all_problems(s, unread, others));
            }
            transition::apply_within(&s.services, conn, &actor, &c.id, &request, intent.now)
                .map(|_| c.reference.clone())
        });
        match attempt {
            Ok(reference) => Ok(Ok(reference)),
            Err(AppError::NotFound(what)) => Err(AppError::NotFound(what)),
            Err(e) => {
                // The refused form comes back with the whole case page: a read as well.
                unit_of_work::reading_case(conn, &intent, &actor, &key, |conn, c| {
                    let web_user = WebUser {
                        row: user.row.clone(),
                        actor: actor.clone(),
                        csrf: user.csrf.clone(),
                    };
                    let mut data = case_data(s, conn, &web_user, c, &lang, Some((&event, &form)))?;
                    data["errors"] = summary(s, &lang, &event, &e);
                    let errors = data["errors"].clone();
                    forms::place_errors(&mut data, &errors);
                    Ok(Err((e.status_code(), data)))
                })
            }
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(reference)) => see_other(&format!("/cases/{reference}?done=step_recorded")),
        Ok(Err((status, data))) => super::page_response(&state, "case", &page, status, data),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}
