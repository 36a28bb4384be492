//! The referral form a partner agency reaches through its link, without an account (R3): the
//! child and where they are, the questions the workflow asks of a reporter, and their own
//! contact details. It shows nothing of any case. A revoked, expired or altered link shows a
//! plain page and nothing else; the form carries an anonymous CSRF token and a one-time token,
//! so that sending it twice makes one report.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use super::account::{anonymous, cookie};
use super::case_pages::{child_form_data, summary, typed_child};
use super::forms::{self, first, Prefill, Submitted};
use super::{message_page, session, PageContext};
use crate::app::AppState;
use crate::domain::form_token;
use crate::domain::partner_referral::{self, PartnerReport, Reporter};
use crate::domain::referral_link;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::mail::links::LinkError;
use crate::storage::models::ReferralLinkRow;

/// The plain page of a link that no longer works (or never did): nothing else is shown.
fn closed(state: &AppState, page: &PageContext, e: LinkError) -> HttpResponse {
    let (status, heading, body) = match e {
        LinkError::Expired => (
            StatusCode::GONE,
            "referral_link_expired",
            "referral_link_closed_body",
        ),
        LinkError::Revoked => (
            StatusCode::GONE,
            "referral_link_revoked",
            "referral_link_closed_body",
        ),
        LinkError::Invalid => (
            StatusCode::NOT_FOUND,
            "referral_link_invalid",
            "referral_link_closed_body",
        ),
    };
    message_page(state, page, status, heading, body)
}

fn language(page: &PageContext) -> Language {
    Language::parse(&page.lang).unwrap_or(Language::English)
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    page: &PageContext,
    status: StatusCode,
    token: &str,
    link: &ReferralLinkRow,
    typed: Option<&Submitted>,
    errors: Value,
) -> HttpResponse {
    let welsh = page.lang == "cy";
    let (child, authorities) = child_form_data(state, page, typed, &errors);
    let wf = state.services.engine.registry.primary();
    let empty = Map::new();
    let prefill = match typed {
        Some(f) => Prefill::Typed(f),
        None => Prefill::Recorded(&empty),
    };
    let fields: Vec<forms::Field> = partner_referral::questions(&state.services)
        .iter()
        .filter_map(|(name, _)| wf.def.facts.get(name).map(|spec| (name, spec)))
        .map(|(name, spec)| {
            let mut f = forms::field(
                "refer",
                name,
                spec,
                &prefill,
                &state.services.engine.agencies.current(),
                welsh,
            );
            f.error = forms::message_at(&errors, &f.id);
            f
        })
        .collect();
    let get = |k: &str| typed.and_then(|f| first(f, k)).unwrap_or("").to_string();
    let reporter = json!({
        "name": get("reporter_name"), "role": get("reporter_role"),
        "email": get("reporter_email"), "phone": get("reporter_phone"),
        "errors": {
            "name": forms::message_at(&errors, "f-refer-reporter-name"),
            "role": forms::message_at(&errors, "f-refer-reporter-role"),
            "email": forms::message_at(&errors, "f-refer-reporter-email"),
            "phone": forms::message_at(&errors, "f-refer-reporter-phone"),
        },
    });
    let agency = state
        .services
        .engine
        .agencies
        .current()
        .get(&link.agency_code)
        .map(|a| {
            if welsh {
                a.name_cy.clone()
            } else {
                a.name_en.clone()
            }
        })
        .unwrap_or_else(|| link.agency_code.clone());
    super::page_response(
        state,
        "refer",
        page,
        status,
        json!({"title": state.pages.word(&page.lang, "refer_title"), "agency": agency,
               "action": format!("/refer/{token}"), "child": child, "authorities": authorities,
               "fields": fields, "reporter": reporter,
               "form_token": typed.and_then(|f| first(f, "form_token")).filter(|t| t.len() == 64)
                   .map(str::to_string).unwrap_or_else(session::random_token),
               "errors": errors}),
    )
}

fn opened(
    state: &AppState,
    conn: &mut crate::storage::DbConn,
    token: &str,
) -> Result<Result<ReferralLinkRow, LinkError>, AppError> {
    referral_link::open(&state.services, conn, token, state.services.now())
}

pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let csrf = session::anonymous_csrf(&req);
    let mut page = anonymous(&req, &csrf);
    page.path = format!("/refer/{token}");
    let secret = token.clone();
    let link = with_conn(&state, move |s, conn| opened(s, conn, &secret)).await?;
    let mut response = match link {
        Ok(link) => form_page(
            &state,
            &page,
            StatusCode::OK,
            &token,
            &link,
            None,
            json!([]),
        ),
        Err(e) => closed(&state, &page, e),
    };
    let _ = response.add_cookie(&cookie(&state, session::PRE_COOKIE, csrf, 12));
    Ok(response)
}

/// The report as the form typed it, and every problem found in reading it.
fn typed_report(state: &AppState, form: &Submitted) -> (Option<PartnerReport>, Vec<AppError>) {
    let wf = state.services.engine.registry.primary();
    let names: Vec<String> = partner_referral::questions(&state.services)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let (facts, mut errors) = forms::facts_and_errors(&wf, &names, form);
    let (mut child, _) = typed_child(form, &mut errors);
    // A reporter may not know where the child ordinarily lives: where they are stands in, and
    // only the question of where they are is asked.
    let residence_unknown = child["residence_authority"] == "";
    if residence_unknown {
        child["residence_authority"] = child["located_authority"].clone();
    }
    let get = |k: &str| first(form, k).unwrap_or("").trim().to_string();
    let report = serde_json::from_value::<crate::domain::report::ChildInput>(child)
        .map(|child| PartnerReport {
            child,
            facts,
            reporter: Reporter {
                name: get("reporter_name"),
                role: get("reporter_role"),
                email: get("reporter_email"),
                phone: get("reporter_phone"),
            },
        })
        .map_err(|e| AppError::bad_request("invalid_report", "child", e.to_string()));
    match report {
        Ok(r) => {
            let had_dob = errors
                .iter()
                .any(|e| e.field() == Some("child.date_of_birth"));
            for e in partner_referral::problems(&state.services, &r, state.services.now()) {
                // The date of birth's own problem is already listed, and a question that could
                // not be read is not also "required".
                let dup = e.field().is_some_and(|f| {
                    (had_dob && f == "child.date_of_birth")
                        || (residence_unknown && f == "child.residence_authority")
                        || errors.iter().any(|x| x.field() == Some(f))
                });
                if !dup {
                    errors.push(e);
                }
            }
            (Some(r), errors)
        }
        Err(e) => {
            errors.push(e);
            (None, errors)
        }
    }
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let pre = req
        .cookie(session::PRE_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let mut page = anonymous(&req, &pre);
    page.path = format!("/refer/{token}");
    if pre.is_empty() || !session::same_token(first(&form, "csrf").unwrap_or(""), &pre) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let once = first(&form, "form_token").unwrap_or("").to_string();
    if once.len() != 64 {
        return Ok(super::refused_csrf(&state, &page));
    }
    let secret = token.clone();
    let link = match with_conn(&state, move |s, conn| opened(s, conn, &secret)).await? {
        Ok(link) => link,
        Err(e) => return Ok(closed(&state, &page, e)),
    };
    let (report, errors) = typed_report(&state, &form);
    let report = match report {
        Some(r) if errors.is_empty() => r,
        _ => {
            let status = errors
                .first()
                .map(ResponseError::status_code)
                .unwrap_or(StatusCode::BAD_REQUEST);
            let items: Vec<Value> = errors
                .iter()
                .flat_map(|e| {
                    summary(&state, &page.lang, "refer", e)
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            return Ok(form_page(
                &state,
                &page,
                status,
                &token,
                &link,
                Some(&form),
                Value::Array(items),
            ));
        }
    };
    let lang = language(&page);
    let path = crate::http::request_log::loggable_path(req.path());
    let holder = link.clone();
    let outcome = with_conn(&state, move |s, conn| {
        // A second send of the same form shows the first one's receipt.
        if let Some(reference) = form_token::outcome(conn, &once, &holder.id)? {
            return Ok(reference);
        }
        let now = s.services.now();
        match partner_referral::submit(
            &s.services,
            conn,
            &holder,
            &report,
            lang,
            &path,
            Some(&once),
            now,
        ) {
            Ok(case) => Ok(case.reference),
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(form_token::outcome(conn, &once, &holder.id)?.unwrap_or_default()),
            Err(e) => Err(e),
        }
    })
    .await;
    Ok(match outcome {
        Ok(reference) => {
            // A calendar sum: no database needed.
            let by =
                partner_referral::acknowledge_by(&state.services, state.services.now()).map(|t| {
                    crate::time::wales::date_in_sentence(
                        crate::time::wales::london_date(t),
                        crate::time::wales::Before::By,
                        lang,
                    )
                });
            super::page_response(
                &state,
                "refer_done",
                &page,
                StatusCode::OK,
                json!({"title": state.pages.word(&page.lang, "refer_done_title"),
                       "body": state.pages.words_with(&page.lang, "refer_done_body",
                           &[("reference", crate::i18n::catalogue::Arg::Text(&reference)),
                             ("by", crate::i18n::catalogue::Arg::Text(by.as_deref().unwrap_or("")))]),
                       "reference": reference}),
            )
        }
        Err(e) if e.is_refusal() => {
            let items = summary(&state, &page.lang, "refer", &e);
            form_page(
                &state,
                &page,
                e.status_code(),
                &token,
                &link,
                Some(&form),
                items,
            )
        }
        Err(e) => return Err(e),
    })
}
