//! The child's risk over time (`/cases/{key}/risk`): the category and the review due, the
//! structured assessment to answer, past assessments with their answers, and missing episodes
//! with their return interviews, each form on the page. A refused form comes back as the page
//! with the message at its field and what was typed.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{self, first, Submitted};
use super::{see_other, signed_in, PageContext, WebUser};
use crate::app::AppState;
use crate::domain::missing_episode::{self, EpisodeUpdate, NewEpisode};
use crate::domain::risk_assessment::{self, NewAssessment};
use crate::domain::risk_over_time;
use crate::domain::unit_of_work;
use crate::error::AppError;
use crate::http::cases::{reading_case, with_conn};
use crate::i18n::Language;
use crate::identity::RoleName;
use crate::storage::models::CaseRow;
use crate::storage::DbConn;
use crate::time::wales;

/// Which of the page's forms was sent.
#[derive(Debug, Clone)]
enum Which {
    Change,
    Assessment,
    NewEpisode,
    Episode(String),
}

impl Which {
    /// The id of the input an error about `field` belongs to.
    fn input(&self, field: Option<&str>) -> String {
        match self {
            Which::Change => match field {
                Some("reason") => "ch-reason".into(),
                _ => "ch-note".into(),
            },
            Which::Assessment => match field {
                Some("category") => "ra-category".into(),
                Some("rationale") | None => "ra-rationale".into(),
                Some(question) => format!("ra-{question}"),
            },
            Which::NewEpisode => match field {
                Some("reported_by") => "ep-reported_by".into(),
                Some("returned_at") => "ep-returned".into(),
                _ => "ep-went".into(),
            },
            Which::Episode(id) => match field {
                Some("interview_offered_at") => format!("upd-{id}-offered"),
                Some("interview_held_at") => format!("upd-{id}-held"),
                Some("returned_at") => format!("upd-{id}-returned"),
                // Nothing given: the form as a whole.
                _ => format!("upd-{id}-summary"),
            },
        }
    }
}

struct Refused<'a> {
    which: &'a Which,
    form: &'a Submitted,
    error: &'a AppError,
}

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

/// A date and time input: what was typed, else the time given (in Wales).
fn moment(
    typed: Option<&Submitted>,
    name: &str,
    id: &str,
    legend: String,
    at: Option<chrono::DateTime<chrono::Utc>>,
    error: Value,
) -> Value {
    let (date, time) = match at {
        Some(t) => {
            let (d, tm) = wales::local_parts(t);
            (Some(d), tm.format("%H:%M").to_string())
        }
        None => (None, String::new()),
    };
    let mut parts = forms::date_parts(typed, name, date);
    parts["id"] = json!(id);
    parts["name"] = json!(name);
    parts["legend"] = json!(legend);
    parts["error"] = error;
    parts["time_id"] = json!(format!("{id}-time"));
    parts["time"] = json!(typed
        .map(|f| first(f, &format!("{name}-time")).unwrap_or("").to_string())
        .unwrap_or(time));
    parts
}

fn page_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    case: &CaseRow,
    lang: &str,
    refused: Option<&Refused<'_>>,
) -> Result<Value, AppError> {
    let l = language(lang);
    let word = |k: &str| state.pages.word(lang, k);
    let view = risk_over_time::view(&state.services, conn, case, l)?;
    let error_at = |input: &str| -> Value {
        refused
            .filter(|r| r.which.input(r.error.field()) == input)
            .map(|r| json!(super::error_text(state, lang, r.error)))
            .unwrap_or(Value::Null)
    };
    let typed_for = |w: &dyn Fn(&Which) -> bool| refused.filter(|r| w(r.which)).map(|r| r.form);
    let when = |t: chrono::DateTime<chrono::Utc>| wales::date_time(t, l);
    let open = case.status == "open";
    let may_assess = open
        && matches!(
            user.actor.role,
            RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
        );
    let may_record = open
        && matches!(
            user.actor.role,
            RoleName::Chair | RoleName::Practitioner | RoleName::TeamLead | RoleName::SeniorManager
        );
    let typed_assessment = typed_for(&|w| matches!(w, Which::Assessment));
    let assessment = state.services.engine.registry.assessment().map(|a| {
        let chosen = |name: &str| typed_assessment.and_then(|f| first(f, name)).unwrap_or("");
        json!({
            "title": a.title_in(l), "guidance": a.guidance_in(l), "source": a.source,
            "questions": a.questions.iter().map(|q| {
                let id = format!("ra-{}", q.id);
                json!({
                    "id": id, "name": format!("q-{}", q.id), "text": q.text_in(l), "quote": q.quote,
                    "error": error_at(&id),
                    "answers": a.answers.iter().enumerate().map(|(i, c)| json!({
                        "id": if i == 0 { id.clone() } else { format!("{id}-{}", c.id) },
                        "value": c.id, "label": c.label_in(l), "checked": chosen(&format!("q-{}", q.id)) == c.id,
                    })).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
            "categories": a.categories.iter().enumerate().map(|(i, c)| json!({
                "id": if i == 0 { "ra-category".to_string() } else { format!("ra-category-{}", c.id) },
                "value": c.id, "title": c.title_in(l), "checked": chosen("category") == c.id,
                "review": state.pages.words_with(lang, "risk_review_every", &[("count", crate::i18n::catalogue::Arg::Number(i64::from(c.review_within_working_days)))]),
            })).collect::<Vec<_>>(),
            "category_error": error_at("ra-category"),
            "rationale": chosen("rationale"), "rationale_error": error_at("ra-rationale"),
            "form_token": forms::one_time_token(typed_assessment), "open": typed_assessment.is_some(),
        })
    });
    let typed_new = typed_for(&|w| matches!(w, Which::NewEpisode));
    let episodes: Vec<Value> = view
        .missing_episodes
        .iter()
        .map(|e| {
            let typed = typed_for(&|w| matches!(w, Which::Episode(id) if *id == e.id));
            let prefix = format!("upd-{}", e.id);
            json!({
                "id": e.id, "went": when(e.went_missing_at), "returned": e.returned_at.map(when),
                "reported_by": e.reported_by, "recorded_by": e.recorded_by,
                "interview_due": e.return_interview_due_at.map(when),
                "offered": e.interview_offered_at.map(when), "held": e.interview_held_at.map(when),
                "overdue": e.interview_overdue,
                "complete": e.returned_at.is_some() && e.interview_held_at.is_some(),
                "open": typed.is_some(),
                // Only what is not yet recorded is asked for; a time recorded stays as it is.
                "returned_input": e.returned_at.is_none().then(|| moment(typed, "returned", &format!("{prefix}-returned"), word("missing_returned_at"), None, error_at(&format!("{prefix}-returned")))),
                "offered_input": e.interview_offered_at.is_none().then(|| moment(typed, "offered", &format!("{prefix}-offered"), word("return_interview_offered_at"), None, error_at(&format!("{prefix}-offered")))),
                "held_input": e.interview_held_at.is_none().then(|| moment(typed, "held", &format!("{prefix}-held"), word("return_interview_held_at"), None, error_at(&format!("{prefix}-held")))),
                "summary_error": error_at(&format!("{prefix}-summary")),
            })
        })
        .collect();
    let errors = match refused {
        Some(r) => {
            json!([{"id": r.which.input(r.error.field()), "message": super::error_text(state, lang, r.error)}])
        }
        None => json!([]),
    };
    Ok(json!({
        "title": format!("{} {}", word("risk_over_time"), case.reference),
        "case": {"reference": case.reference, "child_name": case.child_name, "open": open},
        "summary": {
            "category": view.category_title,
            "review": view.review.as_ref().map(|r| json!({
                "due": wales::long_date(r.due_on, l), "overdue": r.overdue,
                "reason": word(&format!("risk_review_reason_{}", r.reason)),
            })),
            "episodes": view.missing_episodes.len(),
        },
        "assessment": assessment, "may_assess": may_assess && assessment_loaded(state),
        "assessments": view.assessments.iter().map(|a| json!({
            "at": when(a.assessed_at), "by": a.assessed_by, "category": a.category_title,
            "rationale": a.rationale, "next_review": wales::long_date(a.next_review_on, l),
            "answers": a.answers.iter().map(|x| json!({"text": x.text, "answer": x.label})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "episodes": episodes, "may_record": may_record,
        "return_interview_source": state.services.engine.registry.assessment().map(|a| match l {
            Language::Welsh => a.missing_episodes.source_cy.clone().unwrap_or_else(|| a.missing_episodes.source.clone()),
            Language::English => a.missing_episodes.source.clone(),
        }),
        "new_episode": {
            "open": typed_new.is_some(), "form_token": forms::one_time_token(typed_new),
            "went": moment(typed_new, "went", "ep-went", word("missing_went_at"), None, error_at("ep-went")),
            "returned": moment(typed_new, "returned", "ep-returned", word("missing_returned_at_optional"), None, error_at("ep-returned")),
            "reported_by": typed_new.and_then(|f| first(f, "reported_by")).unwrap_or(""),
            "reported_by_error": error_at("ep-reported_by"),
        },
        "change": {
            "open": typed_for(&|w| matches!(w, Which::Change)).is_some(),
            "note": typed_for(&|w| matches!(w, Which::Change)).and_then(|f| first(f, "note")).unwrap_or(""),
            "disclosure": typed_for(&|w| matches!(w, Which::Change)).and_then(|f| first(f, "reason")) != Some("other_change"),
            "note_error": error_at("ch-note"), "reason_error": error_at("ch-reason"),
        },
        "errors": errors,
    }))
}

fn assessment_loaded(state: &AppState) -> bool {
    state.services.engine.registry.assessment().is_some()
}

pub async fn risk_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let lang = page.lang.clone();
    let notice = super::done_notice(&state, &req, &page);
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let data = reading_case(&state, actor, path, key.into_inner(), move |s, conn, c| {
        page_data(s, conn, &user, c, &lang, None)
    })
    .await;
    Ok(match data {
        Ok(mut d) => {
            if let Some(n) = notice {
                d["notice"] = json!(n);
            }
            super::page_response(&state, "risk", &page, StatusCode::OK, d)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

fn text(form: &Submitted, name: &str) -> String {
    first(form, name).unwrap_or("").trim().to_string()
}

/// Runs the form's change; a refusal shows the page again with the message by its field.
async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: String,
    form: Submitted,
    which: Which,
) -> Result<HttpResponse, AppError> {
    let back = format!("/cases/{key}/risk");
    let (user, page): (WebUser, PageContext) =
        match super::signed_in_post(&req, &state, &form, back).await {
            Ok(signed) => signed,
            Err(refused) => return Ok(refused),
        };
    let creates = matches!(which, Which::Assessment | Which::NewEpisode);
    if creates && first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let back_to = key.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        let token = text(&form, "form_token");
        let attempt = match &which {
            Which::Change => {
                let req = crate::domain::risk_review::SignificantChange {
                    reason: text(&form, "reason"),
                    note: text(&form, "note"),
                };
                crate::domain::risk_review::record_change(
                    &s.services,
                    conn,
                    &intent,
                    &user.actor,
                    &key,
                    &req,
                )
                .map(|_| "significant_change")
            }
            Which::Assessment => {
                let answers = form
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("q-")?.to_string(), v.clone())))
                    .collect();
                let req = NewAssessment {
                    answers,
                    category: text(&form, "category"),
                    rationale: text(&form, "rationale"),
                };
                risk_assessment::record(
                    &s.services,
                    conn,
                    &intent,
                    &user.actor,
                    &key,
                    &req,
                    Some(&token),
                )
                .map(|_| "risk_assessed")
            }
            Which::NewEpisode => forms::date_time_from(&form, "went", "went_missing_at")
                .and_then(|went| {
                    let req = NewEpisode {
                        went_missing_at: went.ok_or_else(|| {
                            AppError::bad_request(
                                "required",
                                "went_missing_at",
                                "when the child went missing is needed",
                            )
                        })?,
                        reported_by: text(&form, "reported_by"),
                        returned_at: forms::date_time_from(&form, "returned", "returned_at")?,
                        interview_offered_at: None,
                        interview_held_at: None,
                    };
                    missing_episode::record(
                        &s.services,
                        conn,
                        &intent,
                        &user.actor,
                        &key,
                        &req,
                        Some(&token),
                    )
                })
                .map(|_| "missing_episode_recorded"),
            Which::Episode(id) => (|| {
                let req = EpisodeUpdate {
                    returned_at: forms::date_time_from(&form, "returned", "returned_at")?,
                    interview_offered_at: forms::date_time_from(
                        &form,
                        "offered",
                        "interview_offered_at",
                    )?,
                    interview_held_at: forms::date_time_from(&form, "held", "interview_held_at")?,
                };
                missing_episode::update(&s.services, conn, &intent, &user.actor, &key, id, &req)
            })()
            .map(|_| "missing_episode_updated"),
        };
        match attempt {
            Ok(done) => Ok(Ok(done)),
            // Sent twice (a double click): the first made it; show where it led.
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Ok("form_already_sent")),
            Err(AppError::NotFound("case")) => Err(AppError::NotFound("case")),
            Err(e) => unit_of_work::reading_case(conn, &intent, &user.actor, &key, |conn, c| {
                let refused = Refused {
                    which: &which,
                    form: &form,
                    error: &e,
                };
                let data = page_data(s, conn, &user, c, &lang, Some(&refused))?;
                Ok(Err((e.status_code(), data)))
            }),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(done)) => see_other(&format!("/cases/{back_to}/risk?done={done}")),
        Ok(Err((status, data))) => super::page_response(&state, "risk", &page, status, data),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn assess(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    send(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        Which::Assessment,
    )
    .await
}

pub async fn significant_change(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    send(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        Which::Change,
    )
    .await
}

pub async fn record_episode(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    send(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        Which::NewEpisode,
    )
    .await
}

pub async fn update_episode(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (key, episode) = path.into_inner();
    send(state, req, key, form.into_inner(), Which::Episode(episode)).await
}
