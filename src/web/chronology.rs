//! The case record, step by step, for a conference or a court: each entry of the case's history
//! with who and when, and what it recorded in the reader's words (the questions answered with
//! their answers, the decision and its rationale, who attended with their direct knowledge, the
//! child's views, agreed actions and their updates). The page (`/cases/{key}/chronology`) and
//! the printed PDF are both drawn from these entries.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::definition::{FactSpec, FactType};
use crate::error::AppError;
use crate::i18n::catalogue::Arg;
use crate::i18n::Language;
use crate::time::wales;

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

fn time_of(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// One recorded value in the reader's words, as its question declares it.
fn answer(state: &AppState, spec: &FactSpec, value: &Value, lang: Language) -> String {
    let engine = &state.services.engine;
    let agency = |code: &str| {
        engine
            .agencies
            .current()
            .get(code)
            .map(|a| match lang {
                Language::English => a.name_en.clone(),
                Language::Welsh => a.name_cy.clone(),
            })
            .unwrap_or_else(|| code.to_string())
    };
    let none = || state.pages.word(lang.code(), "none");
    match spec.kind {
        FactType::Bool => value
            .as_bool()
            .map(|b| spec.answer_in(b, lang).to_string())
            .unwrap_or_default(),
        FactType::Choice => value
            .as_str()
            .map(|o| spec.option_in(o, lang).to_string())
            .unwrap_or_default(),
        FactType::Checklist => {
            let ticked: Vec<String> = spec
                .options
                .iter()
                .filter(|o| value[o.as_str()].as_bool() == Some(true))
                .map(|o| spec.option_in(o, lang).to_string())
                .collect();
            if ticked.is_empty() {
                none()
            } else {
                ticked.join("; ")
            }
        }
        FactType::Authority => value.as_str().map(agency).unwrap_or_default(),
        FactType::AgencyList => value
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(agency)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        FactType::Attendance => value
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|a| {
                        let direct = state.pages.word(
                            lang.code(),
                            if a["direct_knowledge"] == true {
                                "record_direct_yes"
                            } else {
                                "record_direct_no"
                            },
                        );
                        let from = a["agency"].as_str().filter(|c| !c.is_empty()).map(agency);
                        match from {
                            Some(f) => {
                                format!("{} ({f}): {direct}", a["name"].as_str().unwrap_or(""))
                            }
                            None => format!("{}: {direct}", a["name"].as_str().unwrap_or("")),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        FactType::InformationSharing => value
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|d| {
                        let s = |k: &str| d[k].as_str().unwrap_or("");
                        let basis = spec.option_in(s("lawful_basis"), lang);
                        state.pages.words_with(
                            lang.code(),
                            "record_information_shared",
                            &[
                                ("what", Arg::Text(s("what"))),
                                ("with", Arg::Text(s("shared_with"))),
                                ("basis", Arg::Text(basis)),
                                ("decided_by", Arg::Text(s("decided_by"))),
                            ],
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        FactType::Datetime => time_of(value)
            .map(|t| wales::date_time(t, lang))
            .unwrap_or_default(),
        FactType::Date => value
            .as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| wales::long_date(d, lang))
            .unwrap_or_default(),
        FactType::Text => value.as_str().unwrap_or("").to_string(),
    }
}

/// The history as entries in the reader's language, oldest first.
pub fn entries(state: &AppState, history: &[Value], lang_code: &str) -> Vec<Value> {
    let lang = language(lang_code);
    let engine = &state.services.engine;
    let word = |k: &str| state.pages.word(lang_code, k);
    history
        .iter()
        .map(|e| {
            let payload = &e["payload"];
            let version = payload["workflow_version"].as_u64().unwrap_or(0) as u32;
            // The answers an entry recorded, as its workflow's questions declare them; a report's
            // are the primary workflow's.
            let facts_of = |wf: Option<std::sync::Arc<crate::engine::registry::Workflow>>| -> Vec<Value> {
                payload["facts"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(name, value)| {
                        let spec = wf.as_ref()?.def.facts.get(name)?;
                        Some(json!({"label": spec.label_in(lang), "value": answer(state, spec, value, lang)}))
                    })
                    .collect()
            };
            let (what, mut details) = match (e["event"].as_str(), e["workflow"].as_str()) {
                (Some(event), Some(workflow)) => {
                    let wf = engine.registry.get(workflow, version).or_else(|| engine.registry.latest(workflow));
                    (engine.event_title(workflow, version, event, lang), facts_of(wf))
                }
                _ => (
                    word(&format!("history_{}", e["kind"].as_str().unwrap_or(""))),
                    if e["kind"] == "case_created" { facts_of(Some(engine.registry.primary())) } else { Vec::new() },
                ),
            };
            let mut add = |label: &str, value: String| {
                if !value.is_empty() {
                    details.push(json!({"label": word(label), "value": value}));
                }
            };
            for a in payload["agreed_actions"].as_array().into_iter().flatten() {
                add(
                    "action",
                    format!(
                        "{} ({}: {})",
                        engine.action_title(a["kind"].as_str(), a["title"].as_str().unwrap_or(""), lang),
                        word("owner_name"),
                        a["owner_name"].as_str().unwrap_or("")
                    ),
                );
            }
            match e["kind"].as_str().unwrap_or("") {
                // Who else the report named as involved: the agency, their role and the person.
                "case_created" => {
                    for inv in payload["involvements"].as_array().into_iter().flatten() {
                        let agency = inv["agency"].as_str().unwrap_or("");
                        let from = engine.agencies.current().get(agency).map(|a| match lang {
                            Language::English => a.name_en.clone(),
                            Language::Welsh => a.name_cy.clone(),
                        }).unwrap_or_else(|| agency.to_string());
                        let person = [inv["person_name"].as_str(), inv["person_email"].as_str()]
                            .into_iter().flatten().collect::<Vec<_>>().join(", ");
                        add("access_involved", format!("{from}, {}{}", inv["role"].as_str().unwrap_or(""),
                            if person.is_empty() { String::new() } else { format!(": {person}") }));
                    }
                }
                "meeting_recorded" => {
                    add("meeting_summary", payload["summary"].as_str().unwrap_or("").to_string());
                    add("section_for", payload["section"].as_str().unwrap_or("").to_string());
                    let came: Vec<String> = payload["attendees"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|a| a["attended"] == true)
                        .map(|a| a["name"].as_str().unwrap_or("").to_string())
                        .collect();
                    add("who_attended", came.join("; "));
                }
                "action_updated" | "action_more_time_asked" | "action_agreed" => {
                    add("action", payload["title"].as_str().unwrap_or("").to_string());
                    add("action_note", payload["note"].as_str().unwrap_or("").to_string());
                }
                "child_corrected" => {
                    let both = |k: &str| {
                        format!(
                            "{} {}; {} {}",
                            word("record_was"),
                            payload["before"][k].as_str().unwrap_or(""),
                            word("record_now"),
                            payload["after"][k].as_str().unwrap_or("")
                        )
                    };
                    add("child_name", both("name"));
                    add("date_of_birth", both("date_of_birth"));
                    add("correction_reason", payload["reason"].as_str().unwrap_or("").to_string());
                }
                "disclosure_prepared" => {
                    let purpose = payload["purpose"].as_str().unwrap_or("");
                    add("purpose", word(&format!("disclosure_for_{purpose}")));
                    add("request_reference", payload["request_reference"].as_str().unwrap_or("").to_string());
                    add("disclosure_redactions", payload["redactions"].to_string());
                    add("disclosure_sha256", payload["sha256"].as_str().unwrap_or("").to_string());
                }
                "meeting_rescheduled" | "meeting_cancelled" => {
                    add("meeting_change_reason", payload["reason"].as_str().unwrap_or("").to_string());
                }
                _ => {}
            }
            json!({
                "at": time_of(&e["at"]).map(|t| wales::date_time(t, lang)).unwrap_or_default(),
                "who": e["actor_name"].as_str().or(e["actor_id"].as_str()).unwrap_or(""),
                "what": what, "decline": e["decline"] == true,
                "rationale": e["rationale"].as_str().filter(|r| !r.is_empty()),
                "details": details,
            })
        })
        .collect()
}

pub async fn chronology_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (page, data) = match super::case_pages::read_case(&state, &req, key.into_inner()).await? {
        Ok(read) => read,
        Err(answer) => return Ok(answer),
    };
    let reference = data["case"]["reference"].as_str().unwrap_or("").to_string();
    Ok(super::page_response(
        &state,
        "chronology",
        &page,
        StatusCode::OK,
        json!({
            "title": format!("{} {reference}", state.pages.word(&page.lang, "chronology")),
            "case": data["case"], "entries": data["chronology"],
        }),
    ))
}
