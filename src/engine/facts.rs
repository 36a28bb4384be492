//! Facts recorded with a report or an event, checked against the workflow's declared types.
//! Every error names the field (`facts.<name>`, down to the element) and what is wrong with it.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::definition::{FactSpec, FactType};
use crate::error::AppError;
use crate::reference::agencies::AgencyDirectory;

const MAX_TEXT: usize = 10_000;

pub fn validate_facts(
    specs: &BTreeMap<String, FactSpec>,
    input: &Map<String, Value>,
    agencies: &AgencyDirectory,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, AppError> {
    let mut out = Map::new();
    for (name, value) in input {
        let field = format!("facts.{name}");
        let spec = specs.get(name).ok_or_else(|| {
            AppError::bad_request(
                "unknown_fact",
                &field,
                format!("this workflow does not record a fact called {name:?}"),
            )
        })?;
        out.insert(name.clone(), normalise(spec, value, &field, agencies, now)?);
    }
    Ok(out)
}

fn wrong_type(field: &str, expected: &str) -> AppError {
    AppError::bad_request("invalid_fact", field, format!("{field} must be {expected}"))
}

fn text(value: &Value, field: &str) -> Result<String, AppError> {
    let s = value
        .as_str()
        .ok_or_else(|| wrong_type(field, "text"))?
        .trim();
    if s.is_empty() {
        return Err(AppError::bad_request(
            "empty_fact",
            field,
            format!("{field} must not be empty"),
        ));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(AppError::bad_request(
            "fact_too_long",
            field,
            format!("{field} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(s.to_string())
}

fn normalise(
    spec: &FactSpec,
    value: &Value,
    field: &str,
    agencies: &AgencyDirectory,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    match spec.kind {
        FactType::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong_type(field, "true or false")),
        FactType::Text => Ok(Value::String(text(value, field)?)),
        FactType::Datetime => {
            let s = value.as_str().ok_or_else(|| {
                wrong_type(field, "a date and time such as 2026-03-02T14:05:00+00:00")
            })?;
            let t = DateTime::parse_from_rfc3339(s).map_err(|_| {
                AppError::bad_request(
                    "invalid_datetime",
                    field,
                    format!("{field} must be a date and time with an offset, such as 2026-03-02T14:05:00+00:00; got {s:?}"),
                )
            })?;
            let t = t.with_timezone(&Utc);
            // A few minutes of slack for clocks that disagree; a recorded event cannot be later.
            if t > now + Duration::minutes(5) {
                return Err(AppError::unprocessable(
                    "datetime_in_future",
                    field,
                    format!("{field} is in the future"),
                ));
            }
            Ok(Value::String(
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ))
        }
        FactType::Date => {
            let s = value
                .as_str()
                .ok_or_else(|| wrong_type(field, "a date YYYY-MM-DD"))?;
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                AppError::bad_request(
                    "invalid_date",
                    field,
                    format!("{field} must be a date YYYY-MM-DD; got {s:?}"),
                )
            })?;
            Ok(Value::String(d.format("%Y-%m-%d").to_string()))
        }
        FactType::Choice => {
            let s = value.as_str().ok_or_else(|| wrong_type(field, "text"))?;
            if spec.options.iter().any(|o| o == s) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(AppError::bad_request(
                    "invalid_choice",
                    field,
                    format!("{field} must be one of {}", spec.options.join(", ")),
                ))
            }
        }
        FactType::Checklist => {
            let obj = value
                .as_object()
                .ok_or_else(|| wrong_type(field, "an object answering each item true or false"))?;
            let mut out = Map::new();
            for option in &spec.options {
                let answer = obj.get(option).and_then(Value::as_bool).ok_or_else(|| {
                    AppError::bad_request(
                        "checklist_incomplete",
                        format!("{field}.{option}"),
                        format!("{field}.{option} must be answered true or false"),
                    )
                })?;
                out.insert(option.clone(), Value::Bool(answer));
            }
            if let Some(extra) = obj.keys().find(|k| !spec.options.contains(k)) {
                return Err(AppError::bad_request(
                    "invalid_choice",
                    format!("{field}.{extra}"),
                    format!(
                        "{extra:?} is not an item of {field}; items are {}",
                        spec.options.join(", ")
                    ),
                ));
            }
            Ok(Value::Object(out))
        }
        FactType::AgencyList => {
            let list = value
                .as_array()
                .ok_or_else(|| wrong_type(field, "a list of agency codes"))?;
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let at = format!("{field}[{i}]");
                let code = v
                    .as_str()
                    .ok_or_else(|| wrong_type(&at, "an agency code"))?;
                if agencies.get(code).is_none() {
                    return Err(AppError::unprocessable(
                        "unknown_agency",
                        at,
                        format!("no agency has the code {code:?}"),
                    ));
                }
                out.push(Value::String(code.to_string()));
            }
            Ok(Value::Array(out))
        }
        FactType::Authority => {
            let code = value
                .as_str()
                .ok_or_else(|| wrong_type(field, "the code of a local authority"))?;
            match agencies.get(code) {
                Some(a) if a.kind == "local_authority" => Ok(Value::String(code.to_string())),
                _ => Err(AppError::unprocessable(
                    "unknown_authority",
                    field,
                    format!("no local authority has the code {code:?}"),
                )),
            }
        }
        FactType::InformationSharing => {
            let list = value.as_array().ok_or_else(|| {
                wrong_type(
                    field,
                    "a list of {what, shared_with, lawful_basis, decided_by}",
                )
            })?;
            if list.is_empty() {
                return Err(AppError::bad_request(
                    "empty_fact",
                    field,
                    format!("{field} must list at least one piece of information shared"),
                ));
            }
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let at = format!("{field}[{i}]");
                let obj = v.as_object().ok_or_else(|| {
                    wrong_type(
                        &at,
                        "an object {what, shared_with, lawful_basis, decided_by}",
                    )
                })?;
                let part = |k: &str| text(obj.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}"));
                let what = part("what")?;
                let shared_with = part("shared_with")?;
                let basis = obj
                    .get("lawful_basis")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !spec.options.iter().any(|o| o == basis) {
                    return Err(AppError::bad_request(
                        "invalid_choice",
                        format!("{at}.lawful_basis"),
                        format!(
                            "{at}.lawful_basis must be one of {}",
                            spec.options.join(", ")
                        ),
                    ));
                }
                let decided_by = part("decided_by")?;
                let mut entry = Map::new();
                entry.insert("what".into(), Value::String(what));
                entry.insert("shared_with".into(), Value::String(shared_with));
                entry.insert("lawful_basis".into(), Value::String(basis.to_string()));
                entry.insert("decided_by".into(), Value::String(decided_by));
                out.push(Value::Object(entry));
            }
            Ok(Value::Array(out))
        }
        FactType::Attendance => {
            let list = value
                .as_array()
                .ok_or_else(|| wrong_type(field, "a list of {name, agency, direct_knowledge}"))?;
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let at = format!("{field}[{i}]");
                let obj = v
                    .as_object()
                    .ok_or_else(|| wrong_type(&at, "an object {name, agency, direct_knowledge}"))?;
                let name = text(
                    obj.get("name").unwrap_or(&Value::Null),
                    &format!("{at}.name"),
                )?;
                let agency = obj.get("agency").and_then(Value::as_str).unwrap_or("");
                if agencies.get(agency).is_none() {
                    return Err(AppError::unprocessable(
                        "unknown_agency",
                        format!("{at}.agency"),
                        format!("no agency has the code {agency:?}"),
                    ));
                }
                let knowledge = obj
                    .get("direct_knowledge")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| {
                        AppError::bad_request(
                            "direct_knowledge_missing",
                            format!("{at}.direct_knowledge"),
                            "record for each attendee whether they have direct knowledge of the child (R9)",
                        )
                    })?;
                let mut entry = Map::new();
                entry.insert("name".into(), Value::String(name));
                entry.insert("agency".into(), Value::String(agency.to_string()));
                entry.insert("direct_knowledge".into(), Value::Bool(knowledge));
                out.push(Value::Object(entry));
            }
            Ok(Value::Array(out))
        }
    }
}
