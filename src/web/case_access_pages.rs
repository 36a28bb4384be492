//! The case page's "who can open this case" part and its forms: the team, the restriction,
//! the people named, involvements taken off, and break-glass from the cases page. A refused
//! form comes back as the case page with the message by the field.
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::case_pages::case_data;
use super::forms::{first, Submitted};
use super::{see_other, PageContext, WebUser};
use crate::app::AppState;
use crate::domain::case::{self, RemoveInvolvement};
use crate::domain::case_access::{self, AssignTeam, BreakGlass, NamePerson, Restrict};
use crate::domain::unit_of_work::{self, Intent};
use crate::domain::Services;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::identity::{Actor, RoleName};
use crate::storage::models::CaseRow;
use crate::storage::schema::{case_access_grants, case_involvements, users};
use crate::storage::DbConn;

/// What the case page shows of who may open the case, and which forms this reader may use.
pub fn access_data(
    state: &AppState,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
    lang: &str,
) -> Result<Value, AppError> {
    let named: Vec<(String, String)> = case_access_grants::table
        .inner_join(users::table.on(users::id.eq(case_access_grants::user_id)))
        .filter(case_access_grants::case_id.eq(&case.id))
        .order(users::name)
        .select((users::name, users::email))
        .load(conn)?;
    let involvements: Vec<(String, String, String, Option<String>)> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .order(case_involvements::created_at)
        .select((
            case_involvements::id,
            case_involvements::agency_code,
            case_involvements::role,
            case_involvements::person_name,
        ))
        .load(conn)?;
    let of_childs_authority =
        actor.authority == case.located_authority || actor.authority == case.residence_authority;
    let manages = of_childs_authority && case_access::oversees(actor);
    let removes = of_childs_authority
        && matches!(
            actor.role,
            RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
        );
    let glass = case_access::open_until(actor, conn, &case.id)?;
    let lang_of = if lang == "cy" {
        crate::i18n::Language::Welsh
    } else {
        crate::i18n::Language::English
    };
    Ok(json!({
        "team": case.team, "restricted": case.restricted, "manages": manages, "removes": removes,
        "named": named.iter().map(|(n, e)| json!({"name": n, "email": e})).collect::<Vec<_>>(),
        "involvements": involvements.iter().map(|(id, agency, role, person)| json!({
            "id": id,
            "agency": state.services.engine.agencies.current().get(agency).map_or(agency.clone(), |a| if lang == "cy" { a.name_cy.clone() } else { a.name_en.clone() }),
            // The one role the service writes itself is worded for the reader; others are as typed.
            "role": match role.as_str() {
                crate::domain::report::RECORDER_ROLE => state.pages.word(lang, "involvement_recorded_report"),
                crate::domain::partner_referral::REPORTER_ROLE => state.pages.word(lang, "involvement_made_referral"),
                _ => role.clone(),
            },
            "person": person,
        })).collect::<Vec<_>>(),
        "break_glass_until": glass.map(|g| crate::time::wales::date_time_in_sentence(g, crate::time::wales::Before::On, lang_of)),
    }))
}

/// The reader's words for a refusal, by its code, else the service's own message.
fn message(state: &AppState, page: &PageContext, e: &AppError) -> String {
    let key = match e.code() {
        "rationale_required" => "access_rationale_required",
        "unknown_user" => "access_unknown_user",
        "stale_version" => "access_stale",
        "forbidden" => "access_forbidden",
        "required" | "too_long" => "access_team_required",
        "already_open" => "break_glass_not_needed",
        _ => return super::error_text(state, &page.lang, e),
    };
    state.pages.word(&page.lang, key)
}

type Change =
    fn(&Services, &mut DbConn, &Intent<'_>, &Actor, &str, &Submitted) -> Result<i64, AppError>;

/// One access form on the case page: the change as a unit of work, then back to the case; a
/// refusal shows the case page with the message beside `field`.
async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: String,
    form: Submitted,
    field: String,
    apply: Change,
) -> Result<HttpResponse, AppError> {
    let anchor = if field.starts_with("lang-") {
        "languages"
    } else if field.starts_with("referral") {
        "referral"
    } else if field.starts_with("child-record") {
        "child-record"
    } else {
        "access"
    };
    let (user, page) =
        match super::signed_in_post(&req, &state, &form, format!("/cases/{key}")).await {
            Ok(signed) => signed,
            Err(refused) => return Ok(refused),
        };
    let path = req.path().to_string();
    let actor = user.actor.clone();
    let lang = page.lang.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        match apply(&s.services, conn, &intent, &actor, &key, &form) {
            Ok(_) => Ok(Ok(key.clone())),
            Err(AppError::NotFound(what)) => Err(AppError::NotFound(what)),
            Err(e) => {
                let shown = unit_of_work::reading_case(conn, &intent, &actor, &key, |conn, c| {
                    let web_user = WebUser {
                        row: user.row.clone(),
                        actor: actor.clone(),
                        csrf: user.csrf.clone(),
                    };
                    case_data(s, conn, &web_user, c, &lang, None)
                });
                match shown {
                    Ok(data) => Ok(Err((e, data))),
                    // After the change the reader may no longer open the case (they took
                    // their own team off it): the refusal stands alone.
                    Err(_) => Err(e),
                }
            }
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(key)) => {
            let done = match anchor {
                "languages" => "languages_recorded",
                "referral" => "referral_acknowledged",
                "child-record" => "child_record_changed",
                _ => "access_changed",
            };
            see_other(&format!("/cases/{key}?done={done}#{anchor}"))
        }
        Ok(Err((e, mut data))) => {
            data["errors"] = json!([{"id": field, "message": message(&state, &page, &e)}]);
            super::page_response(&state, "case", &page, e.status_code(), data)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

fn version(form: &Submitted) -> Result<i64, AppError> {
    first(form, "expected_version")
        .unwrap_or("")
        .parse()
        .map_err(|_| {
            AppError::bad_request(
                "invalid_version",
                "expected_version",
                "the form is out of date; reload the page",
            )
        })
}

fn text(form: &Submitted, name: &str) -> String {
    first(form, name).unwrap_or("").trim().to_string()
}

pub async fn assign_team(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "access-team".into(),
        |svc, conn, intent, actor, key, form| {
            let req = AssignTeam {
                expected_version: version(form)?,
                team: text(form, "team"),
            };
            case_access::assign_team(svc, conn, intent, actor, key, &req)
        },
    )
    .await
}

pub async fn record_languages(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "lang-language".into(),
        |svc, conn, intent, actor, key, form| {
            let req = crate::domain::language_offer::LanguagesAndOffer {
                expected_version: version(form)?,
                language: text(form, "language"),
                family_language: text(form, "family_language"),
                welsh_offer: text(form, "welsh_offer"),
            };
            crate::domain::language_offer::record(svc, conn, intent, actor, key, &req)
        },
    )
    .await
}

pub async fn restrict(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "access-rationale".into(),
        |svc, conn, intent, actor, key, form| {
            let req = Restrict {
                expected_version: version(form)?,
                restricted: text(form, "restricted") == "yes",
                rationale: text(form, "rationale"),
            };
            case_access::restrict(svc, conn, intent, actor, key, &req)
        },
    )
    .await
}

pub async fn name_person(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "access-email".into(),
        |svc, conn, intent, actor, key, form| {
            let req = NamePerson {
                expected_version: version(form)?,
                user_email: text(form, "user_email"),
                named: text(form, "named") != "no",
            };
            case_access::name_person(svc, conn, intent, actor, key, &req)
        },
    )
    .await
}

pub async fn remove_involvement(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let (key, involvement) = path.into_inner();
    let mut form = form.into_inner();
    form.push(("involvement_id".into(), involvement.clone()));
    change(
        state,
        req,
        key,
        form,
        format!("remove-{involvement}"),
        |svc, conn, intent, actor, key, form| {
            let req = RemoveInvolvement {
                expected_version: version(form)?,
                rationale: text(form, "rationale"),
            };
            case::remove_involvement(
                svc,
                conn,
                intent,
                actor,
                key,
                &text(form, "involvement_id"),
                &req,
            )
        },
    )
    .await
}

/// Break-glass from the cases page: on success, the case; a refusal, or a reference that is
/// not a case of the reader's authority, comes back to the form with the same words either way.
pub async fn break_glass(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (user, page) = match super::signed_in_post(&req, &state, &form, "/cases".into()).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let path = req.path().to_string();
    let actor = user.actor.clone();
    let request = BreakGlass {
        reference: text(&form, "reference"),
        reason: text(&form, "reason"),
    };
    let typed = (request.reference.clone(), request.reason.clone());
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&actor.id, &path);
        case_access::break_glass(&s.services, conn, &intent, &actor, &request)
    })
    .await;
    match outcome {
        Ok(opened) => Ok(see_other(&format!(
            "/cases/{}?done=case_opened",
            opened.reference
        ))),
        Err(e) if e.status_code().is_client_error() => {
            let (field, key) = match e.code() {
                "rationale_required" => ("bg-reason", "break_glass_reason_required"),
                "already_open" => ("bg-reference", "break_glass_not_needed"),
                _ => ("bg-reference", "break_glass_not_found"),
            };
            let status = e.status_code();
            super::case_pages::cases_page_with(
                &state,
                &user,
                &page,
                status,
                json!({"errors": [{"id": field, "message": state.pages.word(&page.lang, key)}],
                       "break_glass": {"reference": typed.0, "reason": typed.1}}),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A practitioner records that they have triaged a partner's report.
pub async fn acknowledge_referral(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "referral-acknowledge".into(),
        |svc, conn, intent, actor, key, _| {
            crate::domain::partner_referral::acknowledge(svc, conn, intent, actor, key)?;
            Ok(0)
        },
    )
    .await
}

/// What the case page shows of the partner's report the case came from, if it did.
pub fn referral_data(
    state: &AppState,
    conn: &mut DbConn,
    case: &CaseRow,
    lang: &str,
) -> Result<Value, AppError> {
    let Some(r) = crate::domain::partner_referral::of_case(conn, &case.id)? else {
        return Ok(Value::Null);
    };
    let language = crate::i18n::Language::parse(lang).unwrap_or(crate::i18n::Language::English);
    let when = |t: chrono::NaiveDateTime| crate::time::wales::date_time(t.and_utc(), language);
    let agency: String = crate::storage::schema::referral_links::table
        .find(&r.link_id)
        .select(crate::storage::schema::referral_links::agency_code)
        .get_result(conn)?;
    let by =
        crate::domain::partner_referral::acknowledge_by(&state.services, r.submitted_at.and_utc());
    let acknowledged_by: Option<String> = match &r.acknowledged_by {
        Some(id) => users::table
            .find(id)
            .select(users::name)
            .get_result(conn)
            .optional()?,
        None => None,
    };
    Ok(json!({
        "agency": state.services.engine.agencies.current().get(&agency).map_or(agency.clone(), |a| if lang == "cy" { a.name_cy.clone() } else { a.name_en.clone() }),
        "reporter_name": r.reporter_name, "reporter_role": r.reporter_role,
        "reporter_email": r.reporter_email, "reporter_phone": r.reporter_phone,
        "submitted": when(r.submitted_at),
        "acknowledged": r.acknowledged_at.map(when), "acknowledged_by": acknowledged_by,
        "acknowledge_by": by.map(|t| crate::time::wales::date_time(t, language)),
        "overdue": r.acknowledged_at.is_none() && by.is_some_and(|b| state.services.now() > b),
        "decision_told": r.decision_told_at.map(when),
    }))
}

fn other_case(form: &Submitted) -> crate::domain::child_record::OtherCase {
    crate::domain::child_record::OtherCase {
        other: text(form, "other"),
        reason: text(form, "reason"),
    }
}

/// Confirms, from a suggestion, that another case is the same child's.
pub async fn same_child(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "child-record-same".into(),
        |svc, conn, intent, actor, key, form| {
            crate::domain::child_record::confirm_same_child(
                svc,
                conn,
                intent,
                actor,
                key,
                &other_case(form),
            )
        },
    )
    .await
}

pub async fn link_sibling(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "child-record-sibling".into(),
        |svc, conn, intent, actor, key, form| {
            crate::domain::child_record::link_sibling(
                svc,
                conn,
                intent,
                actor,
                key,
                &other_case(form),
            )
        },
    )
    .await
}

pub async fn end_sibling(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    change(
        state,
        req,
        key.into_inner(),
        form.into_inner(),
        "child-record-end".into(),
        |svc, conn, intent, actor, key, form| {
            let req = crate::domain::child_record::EndLink {
                link: text(form, "link"),
                reason: text(form, "reason"),
            };
            crate::domain::child_record::end_link(svc, conn, intent, actor, key, &req)
        },
    )
    .await
}

/// What the case page shows of the child across cases: only cases the reader may open.
pub fn child_record_data(
    state: &AppState,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
    lang: &str,
) -> Result<Value, AppError> {
    use crate::domain::child_record::{related, suggestions, Likeness};
    let language = crate::i18n::Language::parse(lang).unwrap_or(crate::i18n::Language::English);
    let dir = state.services.engine.agencies.current();
    let authority = |code: &str| {
        dir.get(code).map_or(code.to_string(), |a| {
            if lang == "cy" {
                a.name_cy.clone()
            } else {
                a.name_en.clone()
            }
        })
    };
    Ok(json!({
        "related": related(conn, actor, case)?.iter().map(|r| json!({
            "reference": r.reference, "child_name": r.child_name, "link": r.link,
            "relation": state.pages.word(lang, &format!("child_relation_{}", r.relation)),
        })).collect::<Vec<_>>(),
        "suggestions": suggestions(conn, actor, case)?.iter().map(|s| json!({
            "reference": s.reference, "child_name": s.child_name,
            "born": crate::time::wales::long_date(s.date_of_birth, language),
            "authority": authority(&s.located_authority),
            "why": state.pages.word(lang, match s.likeness {
                Likeness::SameNameAndBirth => "child_likeness_same_name_and_birth",
                Likeness::SameBirthAndAName => "child_likeness_same_birth_and_a_name",
            }),
        })).collect::<Vec<_>>(),
    }))
}
