//! The case record as a PDF, in the reader's language: what the case page shows (the child, the
//! steps and their deadlines, meetings, agreed actions and their updates, reviews) and the
//! chronology, step by step with what each step recorded, for a conference or a court bundle. Opening it is a read of the case like any other, logged with it.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::PageContext;
use crate::app::AppState;
use crate::error::AppError;
use crate::i18n::catalogue::Arg;
use crate::print::{Document, Line};

pub async fn record_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (page, data) = match super::case_pages::read_case(&state, &req, key.into_inner()).await? {
        Ok(read) => read,
        Err(answer) => return Ok(answer),
    };
    let document = record(&state, &page, &data);
    let bytes = crate::print::pdf(&document)?;
    let file = format!(
        "{}.pdf",
        data["case"]["reference"].as_str().unwrap_or("case")
    );
    Ok(HttpResponse::build(StatusCode::OK)
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{file}\""),
        ))
        .body(bytes))
}

/// The page's values laid out as lines, with the catalogue's words for the headings.
pub(super) fn record(state: &AppState, page: &PageContext, data: &Value) -> Document {
    let t = |key: &str| state.pages.word(&page.lang, key);
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let case = &data["case"];
    let reference = s(&case["reference"]);
    let mut lines = vec![
        Line::Title(format!("{} {reference}", t("case"))),
        Line::Text(format!("{}: {}", t("child_name"), s(&case["child_name"]))),
        Line::Text(format!(
            "{}: {} ({} {})",
            t("date_of_birth"),
            s(&case["date_of_birth"]),
            t("age"),
            case["age"]
        )),
        Line::Text(format!(
            "{}: {}",
            t("located_authority"),
            s(&case["located"])
        )),
        Line::Text(format!(
            "{}: {}",
            t("residence_authority"),
            s(&case["residence"])
        )),
        Line::Text(format!("{}: {}", t("child_language"), s(&case["language"]))),
        Line::Text(format!(
            "{}: {}",
            t("family_language"),
            s(&case["family_language"])
        )),
        Line::Text(format!("{} {}", t("welsh_offer"), s(&case["welsh_offer"]))),
        Line::Text(format!("{}: {}", t("status"), s(&case["status"]))),
    ];
    for w in data["workflows"].as_array().into_iter().flatten() {
        lines.push(Line::Heading(format!(
            "{}: {}",
            s(&w["title"]),
            s(&w["state_title"])
        )));
        if let Some(d) = w["deadline"].as_object() {
            let due = d.get("when").map(s).unwrap_or_default();
            let overdue = d.get("overdue").and_then(Value::as_bool).unwrap_or(false);
            let said = |key: &str| {
                state
                    .pages
                    .words_with(&page.lang, key, &[("when", Arg::Text(&due))])
            };
            lines.push(Line::Text(if overdue {
                format!("{} {}", t("overdue"), said("was_due"))
            } else {
                said("due")
            }));
            lines.push(Line::Text(format!(
                "{}: {}",
                t("timescale_source"),
                d.get("source").map(s).unwrap_or_default()
            )));
        }
        lines.push(Line::Text(s(&w["guidance"])));
    }
    let section = |lines: &mut Vec<Line>, heading: &str, items: Vec<String>| {
        lines.push(Line::Heading(t(heading)));
        if items.is_empty() {
            lines.push(Line::Text(t("none_yet")));
        }
        lines.extend(items.into_iter().map(Line::Text));
    };
    let list = |key: &str| data[key].as_array().cloned().unwrap_or_default();
    section(
        &mut lines,
        "meetings",
        list("meetings")
            .iter()
            .map(|m| {
                format!(
                    "{}, {}: {}",
                    s(&m["kind"]),
                    s(&m["starts"]),
                    s(&m["status"])
                )
            })
            .collect(),
    );
    section(
        &mut lines,
        "agreed_actions",
        data["actions"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .flat_map(|a| {
                let action = format!(
                    "{} ({}: {}; {}: {}): {}",
                    s(&a["title"]),
                    t("owner_name"),
                    s(&a["owner_name"]),
                    t("due_date"),
                    s(&a["due_date"]),
                    s(&a["status"])
                );
                // Each update beneath its action, as the case page shows them.
                let updates = a["updates"].as_array().cloned().unwrap_or_default();
                std::iter::once(action).chain(updates.into_iter().map(|u| {
                    format!(
                        "    {}, {}: {}. {}",
                        s(&u["at"]),
                        s(&u["by"]),
                        s(&u["kind"]),
                        s(&u["note"])
                    )
                }))
            })
            .collect(),
    );
    section(
        &mut lines,
        "reviews",
        list("reviews")
            .iter()
            .map(|r| {
                format!(
                    "{} {}: {}: {}",
                    s(&r["title"]),
                    r["number"],
                    s(&r["due"]),
                    s(&r["status"])
                )
            })
            .collect(),
    );
    // Step by step, oldest first, with what each step recorded: the chronology of the page.
    lines.push(Line::Heading(t("chronology")));
    for e in list("chronology") {
        let mut head = format!("{}: {}: {}", s(&e["at"]), s(&e["who"]), s(&e["what"]));
        if e["decline"].as_bool() == Some(true) {
            head.push_str(&format!(" ({})", t("declined")));
        }
        lines.push(Line::Text(head));
        for d in e["details"].as_array().into_iter().flatten() {
            lines.push(Line::Text(format!(
                "    {}: {}",
                s(&d["label"]),
                s(&d["value"])
            )));
        }
        if let Some(r) = e["rationale"].as_str().filter(|r| !r.is_empty()) {
            lines.push(Line::Text(format!("    {}: {r}", t("rationale"))));
        }
    }
    lines.push(Line::Gap);
    let now = state.services.now();
    // "Printed on Tuesday…" / "Argraffwyd ar ddydd Mawrth…": the preposition, and in Welsh its
    // soft mutation, come with the date.
    let when = crate::time::wales::date_time_in_sentence(
        now,
        crate::time::wales::Before::On,
        crate::i18n::Language::parse(&page.lang).unwrap_or(crate::i18n::Language::English),
    );
    lines.push(Line::Text(state.pages.words_with(
        &page.lang,
        "print_printed",
        &[
            ("when", Arg::Text(&when)),
            (
                "who",
                Arg::Text(page.user.as_ref().map_or("", |u| u.name.as_str())),
            ),
        ],
    )));
    Document {
        title: format!("{} {reference}", t("case")),
        marking: format!("{} · {reference}", t("print_marking")),
        lines,
    }
}
