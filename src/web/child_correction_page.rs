//! Correcting the child's details from the case page: name, date of birth (three boxes) and
//! gender, with a reason; the case page then shows the corrected age-18 dates. A refusal comes
//! back as the case page with the message at its field and what was typed.
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::case_pages::case_data;
use super::forms::{self, first, Submitted};
use super::{see_other, WebUser};
use crate::app::AppState;
use crate::domain::child_correction::{self, ChildCorrection};
use crate::domain::unit_of_work;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::identity::RoleName;
use crate::storage::models::CaseRow;

/// The input an error belongs to.
fn input_of(field: Option<&str>) -> &'static str {
    match field {
        Some("child.name") => "fix-name",
        Some("child.date_of_birth") => "fix-date_of_birth",
        Some("child.gender") => "fix-gender",
        Some("expected_version") => "fix-reason",
        _ => "fix-reason",
    }
}

/// The correction form on the case page: the details as recorded, or as just typed.
pub(super) fn form_data(
    state: &AppState,
    user: &WebUser,
    case: &CaseRow,
    lang: &str,
    refused: Option<(&Submitted, &AppError)>,
) -> Value {
    let typed = refused.map(|(f, _)| f);
    let text = |k: &str, recorded: &str| {
        typed
            .map(|f| first(f, k).unwrap_or("").to_string())
            .unwrap_or_else(|| recorded.to_string())
    };
    let error_at = |input: &str| -> Value {
        refused
            .filter(|(_, e)| input_of(e.field()) == input)
            .map(|(_, e)| json!(super::error_text(state, lang, e)))
            .unwrap_or(Value::Null)
    };
    let mut dob = forms::date_parts(typed, "date_of_birth", Some(case.child_date_of_birth));
    dob["id"] = json!("fix-date_of_birth");
    dob["past"] = json!(true);
    dob["name"] = json!("date_of_birth");
    dob["legend"] = json!(state.pages.word(lang, "date_of_birth"));
    dob["error"] = error_at("fix-date_of_birth");
    json!({
        "may": matches!(user.actor.role, RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager)
            && case.status == "open",
        "open": typed.is_some(),
        "name": text("name", &case.child_name),
        "gender": text("gender", &case.child_gender),
        "reason": text("reason", ""),
        "date_of_birth": dob,
        "errors": {"name": error_at("fix-name"), "gender": error_at("fix-gender"), "reason": error_at("fix-reason")},
    })
}

pub async fn correct(
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
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let get = |k: &str| first(&form, k).unwrap_or("").trim().to_string();
        let intent = s.services.intent(&user.actor.id, &path);
        let attempt = forms::date_from(&form, "date_of_birth", "child.date_of_birth")
            .and_then(|dob| {
                dob.ok_or_else(|| {
                    AppError::bad_request(
                        "required",
                        "child.date_of_birth",
                        "the date of birth is needed",
                    )
                })
            })
            .and_then(|dob| {
                let request = ChildCorrection {
                    expected_version: get("expected_version").parse().map_err(|_| {
                        AppError::bad_request(
                            "invalid_version",
                            "expected_version",
                            "the form is out of date; reload the page",
                        )
                    })?,
                    name: get("name"),
                    date_of_birth: dob.to_string(),
                    gender: get("gender"),
                    reason: get("reason"),
                };
                child_correction::correct(&s.services, conn, &intent, &user.actor, &key, &request)
            });
        match attempt {
            Ok(_) => Ok(Ok(key.clone())),
            Err(AppError::NotFound(what)) => Err(AppError::NotFound(what)),
            Err(e) => unit_of_work::reading_case(conn, &intent, &user.actor, &key, |conn, c| {
                let mut data = case_data(s, conn, &user, c, &lang, None)?;
                data["correction"] = form_data(s, &user, c, &lang, Some((&form, &e)));
                data["errors"] = json!([{"id": input_of(e.field()), "message": super::error_text(s, &lang, &e)}]);
                Ok(Err((e.status_code(), data)))
            }),
        }
    })
    .await;
    Ok(match outcome {
        Ok(Ok(key)) => see_other(&format!("/cases/{key}?done=child_corrected")),
        Ok(Err((status, data))) => super::page_response(&state, "case", &page, status, data),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}
