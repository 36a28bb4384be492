//! Preparing a disclosure of a case record (`/cases/{key}/disclosure`), for the child or for a
//! court. The reviewer says whom it is for and adds any names the service cannot know (a sibling
//! named in a note, a person of concern); the preview lists every redaction, numbered, with the
//! words it replaced and where, beside the record as it will leave. Preparing it then gives the
//! PDF, and the case's history records who prepared it, for whom and its SHA-256, in the same
//! unit of work as the read.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::case_pages::case_data;
use super::forms::{first, Submitted};
use super::{PageContext, WebUser};
use crate::app::AppState;
use crate::domain::disclosure::{self, Kind, Purpose, Redactor, Subject};
use crate::domain::{form_token, unit_of_work};
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::catalogue::Arg;
use crate::print::Line;
use crate::storage::models::CaseRow;
use crate::storage::DbConn;

/// The reviewer's inputs, the field each is refused at, and the kind of name each lists.
const TYPED: [(&str, Kind); 3] = [
    ("redact_other_children", Kind::OtherChild),
    ("redact_reporters", Kind::Reporter),
    ("redact_persons_of_concern", Kind::PersonOfConcern),
];

/// What the reviewer asked for, read and checked.
struct Request {
    purpose: Purpose,
    reference: String,
    typed: Vec<Subject>,
}

/// Every problem with the form at once, each at its field.
fn request(form: &Submitted) -> Result<Request, Vec<AppError>> {
    let get = |k: &str| first(form, k).unwrap_or("").to_string();
    let mut problems = Vec::new();
    let purpose = Purpose::parse(&get("purpose"))
        .map_err(|e| problems.push(e))
        .ok();
    let reference = disclosure::request_reference(&get("request_reference"))
        .map_err(|e| problems.push(e))
        .ok();
    let mut typed = Vec::new();
    for (field, kind) in TYPED {
        match disclosure::typed_subjects(&get(field), kind, field) {
            Ok(s) => typed.extend(s),
            Err(e) => problems.push(e),
        }
    }
    match (purpose, reference) {
        (Some(purpose), Some(reference)) if problems.is_empty() => Ok(Request {
            purpose,
            reference,
            typed,
        }),
        _ => Err(problems),
    }
}

/// What the reviewer asked for, as a digest: the export must be of what was previewed.
fn reviewed(form: &Submitted) -> String {
    let mut h = Sha256::new();
    for k in ["purpose", "request_reference"]
        .into_iter()
        .chain(TYPED.iter().map(|(k, _)| *k))
    {
        h.update(first(form, k).unwrap_or("").trim().as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn kind_word(state: &AppState, lang: &str, kind: Kind) -> String {
    state
        .pages
        .word(lang, &format!("disclosure_kind_{}", kind.as_str()))
}

/// The case page's record with every subject taken out, and the redactions made.
fn redacted(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    case: &CaseRow,
    lang: &str,
    typed: &[Subject],
) -> Result<(Value, Redactor), AppError> {
    let mut subjects = disclosure::known_subjects(conn, &user.actor, case)?;
    subjects.extend(typed.iter().cloned());
    let mut data = case_data(state, conn, user, case, lang, None)?;
    let mut r = Redactor::new(subjects, case);
    let marker = |n: usize, k: Kind| {
        state.pages.words_with(
            lang,
            "disclosure_marker",
            &[
                ("number", Arg::Number(n as i64)),
                ("kind", Arg::Text(&kind_word(state, lang, k))),
            ],
        )
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    for e in data["chronology"].as_array_mut().into_iter().flatten() {
        let place = format!("{}, {}", text(&e["at"]), text(&e["what"]));
        for field in ["who", "rationale"] {
            if let Some(s) = e[field].as_str().map(str::to_string) {
                e[field] = json!(r.redact(&s, &place, &marker));
            }
        }
        for d in e["details"].as_array_mut().into_iter().flatten() {
            let at = format!("{place}: {}", text(&d["label"]));
            let value = text(&d["value"]);
            d["value"] = json!(r.redact(&value, &at, &marker));
        }
    }
    let action_word = state.pages.word(lang, "action");
    for a in data["actions"]["list"].as_array_mut().into_iter().flatten() {
        let place = format!("{action_word}: {}", text(&a["title"]));
        for field in ["title", "owner_name"] {
            let value = text(&a[field]);
            a[field] = json!(r.redact(&value, &place, &marker));
        }
        for u in a["updates"].as_array_mut().into_iter().flatten() {
            let at = format!("{place}, {}", text(&u["at"]));
            for field in ["by", "note"] {
                let value = text(&u[field]);
                u[field] = json!(r.redact(&value, &at, &marker));
            }
        }
    }
    Ok((data, r))
}

/// The form, and after a preview the redactions and the record as it will leave.
fn page_data(
    state: &AppState,
    case: &CaseRow,
    lang: &str,
    form: Option<&Submitted>,
    preview: Option<(&Value, &Redactor)>,
    problems: &[AppError],
) -> Value {
    let typed = |k: &str| form.and_then(|f| first(f, k)).unwrap_or("").to_string();
    let purpose = typed("purpose");
    let errors: Vec<Value> = problems
        .iter()
        .map(|e| {
            json!({"id": format!("disclosure-{}", e.field().unwrap_or("purpose")),
                   "message": super::error_text(state, lang, e)})
        })
        .collect();
    let error_at = |field: &str| {
        problems
            .iter()
            .find(|e| e.field() == Some(field))
            .map(|e| json!(super::error_text(state, lang, e)))
            .unwrap_or(Value::Null)
    };
    json!({
        "title": format!("{} {}", state.pages.word(lang, "disclosure"), case.reference),
        "reference": case.reference,
        "purpose_child": purpose == "child", "purpose_court": purpose == "court",
        "request_reference": typed("request_reference"),
        "redact_other_children": typed("redact_other_children"),
        "redact_reporters": typed("redact_reporters"),
        "redact_persons_of_concern": typed("redact_persons_of_concern"),
        "errors": errors,
        "error_at": {
            "purpose": error_at("purpose"), "request_reference": error_at("request_reference"),
            "redact_other_children": error_at("redact_other_children"), "redact_reporters": error_at("redact_reporters"),
            "redact_persons_of_concern": error_at("redact_persons_of_concern"),
        },
        "form_token": form.and_then(|f| first(f, "form_token")).filter(|t| t.len() == 64)
            .map(str::to_string).unwrap_or_else(super::session::random_token),
        "reviewed": form.filter(|_| preview.is_some()).map(reviewed),
        "preview": preview.map(|(data, r)| json!({
            "count": state.pages.words_with(lang, "disclosure_count", &[("count", Arg::Number(r.redactions.len() as i64))]),
            "redactions": r.redactions.iter().map(|x| json!({
                "number": x.number, "kind": kind_word(state, lang, x.kind),
                "place": x.place, "removed": x.removed,
            })).collect::<Vec<_>>(),
            "entries": data["chronology"], "actions": data["actions"]["list"],
        })),
    })
}

fn refused_page(state: &AppState, page: &PageContext) -> HttpResponse {
    super::message_page(
        state,
        page,
        StatusCode::FORBIDDEN,
        "disclosure_not_yours_heading",
        "disclosure_not_yours_body",
    )
}

pub async fn disclosure_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match super::signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let key = key.into_inner();
    let shown = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        unit_of_work::reading_case(conn, &intent, &user.actor, &key, |_, c| {
            Ok(disclosure::may_prepare(&user.actor, c)
                .then(|| page_data(s, c, &lang, None, None, &[])))
        })
    })
    .await;
    Ok(match shown {
        Ok(Some(data)) => super::page_response(&state, "disclosure", &page, StatusCode::OK, data),
        Ok(None) => refused_page(&state, &page),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

/// What a post of the form comes to.
enum Outcome {
    /// The form again: with its problems, or with the preview.
    Page(StatusCode, Value),
    Pdf(String, Vec<u8>),
    NotYours,
    /// Sent twice: the first send prepared it.
    AlreadySent,
}

pub async fn prepare(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let key = key.into_inner();
    let back = format!("/cases/{key}/disclosure");
    let (user, page) = match super::signed_in_post(&req, &state, &form, back).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let export = first(&form, "step") == Some("export");
    let token = first(&form, "form_token").unwrap_or("").to_string();
    if export && token.len() != 64 {
        return Ok(super::refused_csrf(&state, &page));
    }
    let page_for_pdf = page.clone();
    let outcome = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        let asked = request(&form);
        let (asked, export) = match asked {
            Ok(asked) => (asked, export),
            Err(problems) => {
                return unit_of_work::reading_case(conn, &intent, &user.actor, &key, |_, c| {
                    Ok(if disclosure::may_prepare(&user.actor, c) {
                        Outcome::Page(
                            StatusCode::BAD_REQUEST,
                            page_data(s, c, &lang, Some(&form), None, &problems),
                        )
                    } else {
                        Outcome::NotYours
                    })
                })
            }
        };
        // An export of what was not previewed (the names changed since) is previewed again.
        let changed = export && first(&form, "reviewed") != Some(reviewed(&form).as_str());
        if !export || changed {
            return unit_of_work::reading_case(conn, &intent, &user.actor, &key, |conn, c| {
                if !disclosure::may_prepare(&user.actor, c) {
                    return Ok(Outcome::NotYours);
                }
                let (data, r) = redacted(s, conn, &user, c, &lang, &asked.typed)?;
                let problems: Vec<AppError> = if changed {
                    vec![AppError::Conflict {
                        code: "disclosure_changed",
                        message: "the names changed since the preview; check the redactions again"
                            .into(),
                    }]
                } else {
                    Vec::new()
                };
                let mut shown = page_data(s, c, &lang, Some(&form), Some((&data, &r)), &problems);
                // A form already used for an export gets a new token, for a corrected one.
                if form_token::outcome(conn, &token, &user.actor.id)?.is_some() {
                    shown["form_token"] = json!(super::session::random_token());
                }
                let status = if changed {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::OK
                };
                Ok(Outcome::Page(status, shown))
            });
        }
        let made = unit_of_work::on_case(conn, &intent, &user.actor, &key, |conn, c| {
            disclosure::require_may_prepare(&user.actor, c)?;
            form_token::claim(conn, &token, &user.actor.id, intent.now.naive_utc())?;
            let (data, r) = redacted(s, conn, &user, c, &lang, &asked.typed)?;
            let document = export_document(s, &page_for_pdf, &data, &asked, &r);
            let bytes = crate::print::pdf(&document)?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            disclosure::record(
                conn,
                intent.key,
                &user.actor,
                c,
                asked.purpose,
                &asked.reference,
                &r,
                &sha256,
                intent.now.naive_utc(),
            )?;
            form_token::finish(conn, &token, &c.reference)?;
            Ok(Outcome::Pdf(c.reference.clone(), bytes))
        });
        match made {
            Err(AppError::Forbidden(_)) => Ok(Outcome::NotYours),
            Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Outcome::AlreadySent),
            other => other,
        }
    })
    .await;
    Ok(match outcome {
        Ok(Outcome::Page(status, data)) => {
            super::page_response(&state, "disclosure", &page, status, data)
        }
        Ok(Outcome::Pdf(reference, bytes)) => HttpResponse::build(StatusCode::OK)
            .content_type("application/pdf")
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{reference}-disclosure.pdf\""),
            ))
            .body(bytes),
        Ok(Outcome::NotYours) => refused_page(&state, &page),
        Ok(Outcome::AlreadySent) => super::see_other(&format!(
            "/cases/{}?done=disclosure_prepared",
            page_reference(&req)
        )),
        Err(AppError::NotFound(_)) => super::not_found_page(&state, &page),
        Err(e) => return Err(e),
    })
}

/// The case key of the request's path, as it was asked for.
fn page_reference(req: &HttpRequest) -> String {
    req.match_info().get("key").unwrap_or("").to_string()
}

/// The printed record, headed with whom it is for and how it was redacted.
fn export_document(
    state: &AppState,
    page: &PageContext,
    data: &Value,
    asked: &Request,
    r: &Redactor,
) -> crate::print::Document {
    let lang = page.lang.as_str();
    let mut document = super::case_record_print::record(state, page, data);
    let reference = data["case"]["reference"].as_str().unwrap_or("");
    let purpose = state
        .pages
        .word(lang, &format!("disclosure_for_{}", asked.purpose.as_str()));
    let mut head = vec![
        Line::Title(format!(
            "{} {reference}",
            state.pages.word(lang, "disclosure")
        )),
        Line::Text(purpose.clone()),
    ];
    if !asked.reference.is_empty() {
        head.push(Line::Text(format!(
            "{}: {}",
            state.pages.word(lang, "request_reference"),
            asked.reference
        )));
    }
    head.push(Line::Text(state.pages.words_with(
        lang,
        "disclosure_redacted_note",
        &[("count", Arg::Number(r.redactions.len() as i64))],
    )));
    head.push(Line::Gap);
    head.append(&mut document.lines);
    document.lines = head;
    document.title = format!("{} {reference}", state.pages.word(lang, "disclosure"));
    document.marking = format!("{} · {purpose}", document.marking);
    document
}
