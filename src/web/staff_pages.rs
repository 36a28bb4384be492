//! The administrators' pages for people and teams: everyone with an account, an invitation
//! form, and for each person a form to change their role, team or authority and one to
//! deactivate them, handing what they lead to a colleague. What they lead shows as references
//! and dates only: an administrator sees no child's name and no record.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::administration::as_administrator;
use super::forms::{first, input, select, Submitted};
use super::see_other;
use crate::app::AppState;
use crate::domain::staff::{self, AccountChange};
use crate::domain::user::NewUser;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::storage::models::UserRow;
use crate::time::wales;

const ROLES: &[&str] = &[
    "chair",
    "practitioner",
    "team_lead",
    "senior_manager",
    "administrator",
];

/// The roles to choose from, in the reader's words.
fn role_options(state: &AppState, lang: &str, chosen: &str) -> Vec<(String, String, bool)> {
    ROLES
        .iter()
        .map(|r| {
            (
                r.to_string(),
                state.pages.word(lang, &format!("staff_role_{r}")),
                *r == chosen,
            )
        })
        .collect()
}

fn agency_options(state: &AppState, lang: &str, chosen: &str) -> Vec<(String, String, bool)> {
    let dir = state.services.engine.agencies.current();
    let mut all: Vec<(String, String, bool)> = dir
        .all()
        .map(|a| {
            let name = if lang == "cy" { &a.name_cy } else { &a.name_en };
            (a.code.clone(), name.clone(), a.code == chosen)
        })
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all.insert(
        0,
        (
            String::new(),
            state.pages.word(lang, "choose"),
            chosen.is_empty(),
        ),
    );
    all
}

fn agency_name(state: &AppState, lang: &str, code: &str) -> String {
    state
        .services
        .engine
        .agencies
        .current()
        .get(code)
        .map_or_else(
            || code.to_string(),
            |a| {
                if lang == "cy" {
                    a.name_cy.clone()
                } else {
                    a.name_en.clone()
                }
            },
        )
}

/// The account's fields: as typed when refused, else as stored (or empty for a new one).
struct Typed<'a> {
    form: Option<&'a Submitted>,
    stored: Option<&'a UserRow>,
}

impl Typed<'_> {
    fn get(&self, key: &str) -> String {
        if let Some(f) = self.form {
            return first(f, key).unwrap_or("").trim().to_string();
        }
        self.stored
            .map(|u| match key {
                "name" => u.name.clone(),
                "email" => u.email.clone(),
                "role" => u.role.clone(),
                "team" => u.team.clone(),
                "authority" => u.authority_code.clone(),
                "language" => u.language.clone(),
                _ => String::new(),
            })
            .unwrap_or_default()
    }
}

/// The fields of the invitation or change form.
fn account_fields(
    state: &AppState,
    lang: &str,
    prefix: &str,
    typed: &Typed<'_>,
    errors: &Value,
    with_email: bool,
) -> Vec<Value> {
    let w = |k: &str| state.pages.word(lang, k);
    let mut fields = vec![input(
        prefix,
        "name",
        &w("staff_name"),
        &typed.get("name"),
        "text",
        errors,
    )];
    if with_email {
        fields.push(input(
            prefix,
            "email",
            &w("email"),
            &typed.get("email"),
            "email",
            errors,
        ));
    }
    fields.push(select(
        prefix,
        "role",
        &w("staff_role"),
        role_options(state, lang, &typed.get("role")),
        errors,
    ));
    let mut team = input(
        prefix,
        "team",
        &w("staff_team"),
        &typed.get("team"),
        "text",
        errors,
    );
    team["list"] = json!("teams");
    fields.push(team);
    fields.push(select(
        prefix,
        "authority",
        &w("staff_authority"),
        agency_options(state, lang, &typed.get("authority")),
        errors,
    ));
    if with_email {
        let chosen = typed.get("language");
        fields.push(select(
            prefix,
            "language",
            &w("staff_language"),
            vec![
                ("en".into(), "English".into(), chosen != "cy"),
                ("cy".into(), "Cymraeg".into(), chosen == "cy"),
            ],
            errors,
        ));
    }
    fields
}

fn status_of(state: &AppState, lang: &str, u: &UserRow) -> (String, &'static str) {
    let key = if !u.active {
        "staff_deactivated"
    } else if u.password_hash.is_none() {
        "staff_invited"
    } else {
        "staff_active"
    };
    let colour = match key {
        "staff_deactivated" => "grey",
        "staff_invited" => "yellow",
        _ => "green",
    };
    (state.pages.word(lang, key), colour)
}

/// Every person, the teams they make up and the invitation form.
fn people_data(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    lang: &str,
    refused: Option<(&Submitted, &AppError)>,
) -> Result<Value, AppError> {
    let everyone = staff::everyone(conn)?;
    let errors = refused.map_or(json!([]), |(_, e)| {
        super::placed(state, lang, "invite", "name", e)
    });
    let typed = Typed {
        form: refused.map(|(f, _)| f),
        stored: None,
    };
    let people: Vec<Value> = everyone
        .iter()
        .map(|u| {
            let (status, colour) = status_of(state, lang, u);
            json!({"id": u.id, "name": u.name, "email": u.email,
                   "role": state.pages.word(lang, &format!("staff_role_{}", u.role)),
                   "team": u.team, "authority": agency_name(state, lang, &u.authority_code),
                   "status": status, "colour": colour})
        })
        .collect();
    // Teams are the names people are given; each with its size and its team leads.
    let mut teams: std::collections::BTreeMap<(String, String), (usize, Vec<String>)> =
        Default::default();
    for u in everyone.iter().filter(|u| u.active) {
        let t = teams
            .entry((agency_name(state, lang, &u.authority_code), u.team.clone()))
            .or_default();
        t.0 += 1;
        if u.role == "team_lead" {
            t.1.push(u.name.clone());
        }
    }
    let team_names: std::collections::BTreeSet<&str> =
        everyone.iter().map(|u| u.team.as_str()).collect();
    Ok(json!({
        "title": state.pages.word(lang, "staff_people"),
        "people": people,
        "teams": teams.into_iter().map(|((authority, team), (size, leads))| json!({
            "authority": authority, "team": team, "size": size, "leads": leads.join(", "),
        })).collect::<Vec<_>>(),
        "team_names": team_names.into_iter().collect::<Vec<_>>(),
        "invite": account_fields(state, lang, "invite", &typed, &errors, true),
        "errors": errors,
    }))
}

pub async fn people(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let lang = page.lang.clone();
    let done = notice(&state, &lang, &req);
    let mut data = with_conn(&state, move |s, conn| people_data(s, conn, &lang, None)).await?;
    data["notice"] = done;
    Ok(super::page_response(
        &state,
        "admin_people",
        &page,
        StatusCode::OK,
        data,
    ))
}

/// The banner after a change (`?done=invited`), in the page's language.
fn notice(state: &AppState, lang: &str, req: &HttpRequest) -> Value {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("done").map(|d| format!("staff_done_{d}")))
        .filter(|k| state.pages.has(k))
        .map_or(Value::Null, |k| json!(state.pages.word(lang, &k)))
}

pub async fn invite(
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
    let path = req.path().to_string();
    let outcome = with_conn(&state, move |s, conn| {
        let get = |k: &str| first(&form, k).unwrap_or("").trim().to_string();
        let (name, email, role, team, authority) = (
            get("name"),
            get("email"),
            get("role"),
            get("team"),
            get("authority"),
        );
        let language = Language::parse(&get("language")).unwrap_or(Language::English);
        let intent = s.services.intent(&user.actor.id, &path);
        let new = NewUser {
            name: &name,
            email: &email,
            role: &role,
            team: &team,
            authority: &authority,
        };
        match staff::invite(&s.services, conn, &intent, &new, language) {
            Ok(_) => Ok(None),
            Err(e) if e.is_refusal() => {
                let status = actix_web::ResponseError::status_code(&e);
                Ok(Some((
                    status,
                    people_data(s, conn, &lang, Some((&form, &e)))?,
                )))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(match outcome {
        None => see_other("/admin/people?done=invited"),
        Some((status, data)) => super::page_response(&state, "admin_people", &page, status, data),
    })
}

/// One person: what they are, what they lead, and the forms to change or deactivate them.
fn person_data(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    lang: &str,
    id: &str,
    refused: Option<(&str, &Submitted, &AppError)>,
) -> Result<Value, AppError> {
    let person = staff::by_id(conn, id)?;
    let led = staff::led_by(conn, id)?;
    let language = if lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    };
    let errors = refused.map_or(json!([]), |(prefix, _, e)| {
        super::placed(state, lang, prefix, "name", e)
    });
    let typed = Typed {
        form: refused
            .filter(|(p, _, _)| *p == "change")
            .map(|(_, f, _)| f),
        stored: Some(&person),
    };
    let chosen = refused
        .filter(|(p, _, _)| *p == "leave")
        .and_then(|(_, f, _)| first(f, "successor"))
        .unwrap_or("")
        .to_string();
    let everyone = staff::everyone(conn)?;
    let team_names: std::collections::BTreeSet<&str> =
        everyone.iter().map(|u| u.team.as_str()).collect();
    let mut colleagues: Vec<(String, String, bool)> = everyone
        .iter()
        .filter(|u| {
            u.active
                && u.id != person.id
                && u.authority_code == person.authority_code
                && u.role != "administrator"
        })
        .map(|u| {
            let label = format!(
                "{} ({}, {})",
                u.name,
                state.pages.word(lang, &format!("staff_role_{}", u.role)),
                u.team
            );
            (u.id.clone(), label, u.id == chosen)
        })
        .collect();
    colleagues.insert(
        0,
        (
            String::new(),
            state.pages.word(lang, "choose"),
            chosen.is_empty(),
        ),
    );
    let (status, colour) = status_of(state, lang, &person);
    let second_step = crate::domain::second_factor::is_set_up(conn, &person.id)?;
    let persons_of_concern = match typed.form {
        Some(f) => first(f, "persons_of_concern") == Some("yes"),
        None => {
            use crate::storage::schema::users;
            use diesel::prelude::*;
            users::table
                .find(&person.id)
                .select(users::sees_persons_of_concern)
                .get_result::<bool>(conn)?
        }
    };
    Ok(json!({
        "title": person.name,
        "second_step": second_step,
        "persons_of_concern": persons_of_concern,
        "person": {"id": person.id, "name": person.name, "email": person.email,
                   "role": state.pages.word(lang, &format!("staff_role_{}", person.role)),
                   "team": person.team, "authority": agency_name(state, lang, &person.authority_code),
                   "active": person.active, "status": status, "colour": colour,
                   "since": wales::long_date(wales::london_date(person.created_at.and_utc()), language)},
        "change": account_fields(state, lang, "change", &typed, &errors, false),
        "team_names": team_names,
        "led": {
            "any": !led.is_empty(),
            "cases": led.cases.iter().map(|(_, r, d)| json!({"reference": r, "reported": wales::long_date(*d, language)})).collect::<Vec<_>>(),
            "actions": led.actions.iter().map(|(_, _, r, d)| json!({"reference": r, "due": wales::date_in_sentence(*d, wales::Before::By, language)})).collect::<Vec<_>>(),
            "meetings": led.meetings.iter().map(|(_, at)| json!({"starts": wales::date_time_in_sentence(*at, wales::Before::On, language)})).collect::<Vec<_>>(),
        },
        "successor": select("leave", "successor", &state.pages.word(lang, "staff_successor"), colleagues, &errors),
        "errors": errors,
    }))
}

pub async fn person(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (_, page) = match as_administrator(&state, &req, None).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let lang = page.lang.clone();
    let done = notice(&state, &lang, &req);
    let id = id.into_inner();
    match with_conn(&state, move |s, conn| {
        person_data(s, conn, &lang, &id, None)
    })
    .await
    {
        Ok(mut data) => {
            data["notice"] = done;
            Ok(super::page_response(
                &state,
                "admin_person",
                &page,
                StatusCode::OK,
                data,
            ))
        }
        Err(AppError::NotFound(_)) => Ok(super::not_found_page(&state, &page)),
        Err(e) => Err(e),
    }
}

/// A form on one person's page: do it, then back to the page with a banner, or the page again
/// with the problems at their inputs.
async fn person_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: String,
    form: Submitted,
    prefix: &'static str,
    act: impl FnOnce(
            &AppState,
            &mut crate::storage::DbConn,
            &crate::domain::unit_of_work::Intent<'_>,
            &Submitted,
        ) -> Result<&'static str, AppError>
        + Send
        + 'static,
) -> Result<HttpResponse, AppError> {
    let (user, mut page) = match as_administrator(&state, &req, Some(&form)).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    page.path = format!("/admin/people/{id}");
    let lang = page.lang.clone();
    let path = req.path().to_string();
    let back = id.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        match act(s, conn, &intent, &form) {
            Ok(done) => Ok(Ok(done)),
            Err(e) if e.is_refusal() && !matches!(e, AppError::NotFound(_)) => {
                let status = actix_web::ResponseError::status_code(&e);
                Ok(Err((
                    status,
                    person_data(s, conn, &lang, &id, Some((prefix, &form, &e)))?,
                )))
            }
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(done)) => see_other(&format!("/admin/people/{back}?done={done}")),
        Ok(Err((status, data))) => {
            super::page_response(&state, "admin_person", &page, status, data)
        }
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

pub async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let target = id.clone();
    person_post(
        state,
        req,
        id,
        form.into_inner(),
        "change",
        move |s, conn, intent, form| {
            let get = |k: &str| first(form, k).unwrap_or("").trim().to_string();
            let (name, role, team, authority) =
                (get("name"), get("role"), get("team"), get("authority"));
            staff::change(
                &s.services,
                conn,
                intent,
                &target,
                &AccountChange {
                    name: &name,
                    role: &role,
                    team: &team,
                    authority: &authority,
                    persons_of_concern: get("persons_of_concern") == "yes",
                },
            )
            .map(|_| "changed")
        },
    )
    .await
}

pub async fn deactivate(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let target = id.clone();
    person_post(
        state,
        req,
        id,
        form.into_inner(),
        "leave",
        move |s, conn, intent, form| {
            let successor = first(form, "successor").map(str::trim);
            staff::deactivate(&s.services, conn, intent, &target, successor).map(|_| "deactivated")
        },
    )
    .await
}

pub async fn reset_second_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let target = id.clone();
    person_post(
        state,
        req,
        id,
        form.into_inner(),
        "reset",
        move |s, conn, intent, _| {
            crate::domain::second_factor::reset(&s.services, conn, intent, &target)
                .map(|_| "second_step_reset")
        },
    )
    .await
}
