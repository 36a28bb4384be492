//! The forms of the case page, drawn from the workflow itself: for each event, an input for each
//! fact its guards need (by the fact's type), rows for agreed actions and attendance where the
//! event records them, and a rationale box for a decline. Typed values come back as the facts of
//! an `EventRequest`, and every error names the input it belongs to.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::domain::transition::AgreedActionInput;
use crate::engine::definition::{FactSpec, FactType, Transition};
use crate::engine::Workflow;
use crate::error::AppError;
use crate::reference::agencies::AgencyDirectory;

/// What the user typed, as submitted (names repeat for multiple choices).
pub type Submitted = Vec<(String, String)>;

pub fn first<'a>(form: &'a Submitted, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn all<'a>(form: &'a Submitted, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    form.iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether people apply the event (not only the service itself, as at 18).
pub fn for_people(t: &Transition) -> bool {
    t.roles.is_empty()
        || t.roles
            .iter()
            .any(|r| *r != crate::identity::RoleName::System)
}

/// The facts an event's form asks for, in the order its guards name them.
pub fn facts_for(wf: &Workflow, t: &Transition) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    };
    for g in &t.guards {
        for c in g.when.iter().chain(g.when_any.iter()) {
            if let Some(f) = &c.fact {
                add(f);
            }
        }
        if let Some(f) = g.requires.as_ref().or(g.requires_true.as_ref()) {
            add(f);
        }
        if let Some(c) = &g.check {
            // A named check's facts, so that its inputs are on the form.
            for f in crate::engine::checks::facts_read(c, &wf.def) {
                add(f);
            }
        }
    }
    for f in &t.asks {
        add(f);
    }
    names
}

/// Whether the event records agreed actions (a minimum, or a required kind).
pub fn takes_actions(t: &Transition) -> bool {
    t.guards
        .iter()
        .any(|g| g.min_agreed_actions.is_some() || g.requires_action.is_some())
}

pub const ACTION_ROWS: usize = 3;
pub const ATTENDANCE_ROWS: usize = 5;

#[derive(Debug, Serialize, Default)]
pub struct Choice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct AttendanceRow {
    pub index: usize,
    /// As people count: the first attendee is 1.
    pub number: usize,
    pub name: String,
    pub agencies: Vec<Choice>,
    pub direct: bool,
}

/// One disclosure's inputs on an information-sharing question (R24).
#[derive(Debug, Serialize, Default)]
pub struct SharingRow {
    pub index: usize,
    /// As people count: the first disclosure is 1.
    pub number: usize,
    pub what: String,
    pub shared_with: String,
    pub decided_by: String,
    pub bases: Vec<Choice>,
}

/// How many disclosures a form offers at once; more are recorded with the next event or the
/// API.
pub const SHARING_ROWS: usize = 3;

#[derive(Debug, Serialize, Default)]
pub struct Field {
    pub id: String,
    /// The fact's name; `name` is the input's (`fact:<name>`).
    pub fact: String,
    pub name: String,
    pub label: String,
    pub is_bool: bool,
    pub is_text: bool,
    pub is_date: bool,
    pub is_datetime: bool,
    pub is_choice: bool,
    pub is_checklist: bool,
    pub is_agencies: bool,
    pub is_attendance: bool,
    pub is_information_sharing: bool,
    pub value: String,
    pub yes: bool,
    pub no: bool,
    /// A yes-or-no question's answers, in its own form (`Oes`/`Nac oes` in Welsh).
    pub yes_label: String,
    pub no_label: String,
    pub options: Vec<Choice>,
    pub rows: Vec<AttendanceRow>,
    pub sharing: Vec<SharingRow>,
    pub error: Option<String>,
    /// A date's three inputs and a time of day, as typed or as recorded (in Wales).
    pub day: String,
    pub month: String,
    pub year: String,
    pub time: String,
}

/// The values an input starts with: what was typed (after a refusal) or what is recorded.
pub enum Prefill<'a> {
    Typed(&'a Submitted),
    Recorded(&'a Map<String, Value>),
}

fn recorded_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The register's agencies as choices in the reader's language and its order, each `id-code`.
pub fn agency_choices(
    agencies: &AgencyDirectory,
    id: &str,
    welsh: bool,
    chosen: &dyn Fn(&str) -> bool,
) -> Vec<Choice> {
    let mut list: Vec<Choice> = agencies
        .all()
        .map(|a| Choice {
            id: format!("{id}-{}", a.code),
            value: a.code.clone(),
            label: if welsh {
                a.name_cy.clone()
            } else {
                a.name_en.clone()
            },
            checked: chosen(&a.code),
        })
        .collect();
    list.sort_by(|a, b| a.label.cmp(&b.label));
    list
}

/// One input for one fact.
pub fn field(
    event: &str,
    name: &str,
    spec: &FactSpec,
    prefill: &Prefill<'_>,
    agencies: &AgencyDirectory,
    welsh: bool,
) -> Field {
    let lang = if welsh {
        crate::i18n::Language::Welsh
    } else {
        crate::i18n::Language::English
    };
    let id = format!("f-{event}-{name}");
    let input = format!("fact:{name}");
    let typed = |key: &str| match prefill {
        Prefill::Typed(form) => first(form, key).map(str::to_string),
        Prefill::Recorded(_) => None,
    };
    let recorded = match prefill {
        Prefill::Recorded(facts) => facts.get(name).cloned(),
        Prefill::Typed(_) => None,
    };
    let value = typed(&input)
        .or_else(|| recorded.as_ref().map(recorded_text))
        .unwrap_or_default();
    let mut f = Field {
        id: id.clone(),
        fact: name.to_string(),
        name: input.clone(),
        label: spec.label_in(lang).to_string(),
        value: value.clone(),
        ..Field::default()
    };
    match spec.kind {
        FactType::Bool => {
            f.is_bool = true;
            f.yes = value == "yes";
            f.no = value == "no";
            f.yes_label = spec.answer_in(true, lang).to_string();
            f.no_label = spec.answer_in(false, lang).to_string();
        }
        FactType::Text => f.is_text = true,
        FactType::Date | FactType::Datetime => {
            f.is_date = spec.kind == FactType::Date;
            f.is_datetime = spec.kind == FactType::Datetime;
            let part = |p: &str| typed(&format!("{input}-{p}"));
            if let Prefill::Typed(_) = prefill {
                f.day = part("day").unwrap_or_default();
                f.month = part("month").unwrap_or_default();
                f.year = part("year").unwrap_or_default();
                f.time = part("time").unwrap_or_default();
            } else if let Some(Value::String(s)) = &recorded {
                // Recorded in UTC; shown in Wales time.
                let local = match spec.kind {
                    FactType::Date => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .map(|d| (d, None)),
                    _ => chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| {
                        let (d, time) =
                            crate::time::wales::local_parts(t.with_timezone(&chrono::Utc));
                        (d, Some(time))
                    }),
                };
                if let Some((d, time)) = local {
                    use chrono::Datelike;
                    f.day = d.day().to_string();
                    f.month = d.month().to_string();
                    f.year = d.year().to_string();
                    f.time = time
                        .map(|t| t.format("%H:%M").to_string())
                        .unwrap_or_default();
                }
            }
        }
        FactType::Choice => {
            f.is_choice = true;
            f.options = spec
                .options
                .iter()
                .map(|o| Choice {
                    id: format!("{id}-{o}"),
                    value: o.clone(),
                    label: spec.option_in(o, lang).to_string(),
                    checked: value == *o,
                })
                .collect();
        }
        FactType::Authority => {
            f.is_choice = true;
            f.options = agency_choices(agencies, &id, welsh, &|c| c == value)
                .into_iter()
                .filter(|c| {
                    agencies
                        .get(&c.value)
                        .is_some_and(|a| a.kind == "local_authority")
                })
                .collect();
        }
        FactType::Checklist => {
            f.is_checklist = true;
            f.options = spec
                .options
                .iter()
                .map(|o| Choice {
                    id: format!("{id}-{o}"),
                    value: o.clone(),
                    label: spec.option_in(o, lang).to_string(),
                    checked: match prefill {
                        Prefill::Typed(form) => first(form, &format!("{input}:{o}")).is_some(),
                        Prefill::Recorded(_) => recorded
                            .as_ref()
                            .and_then(|v| v.get(o))
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    },
                })
                .collect();
        }
        FactType::AgencyList => {
            f.is_agencies = true;
            let chosen: Vec<String> = match prefill {
                Prefill::Typed(form) => all(form, &input).map(str::to_string).collect(),
                Prefill::Recorded(_) => recorded
                    .as_ref()
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            f.options = agency_choices(agencies, &id, welsh, &|c| chosen.iter().any(|x| x == c));
        }
        FactType::Attendance => {
            f.is_attendance = true;
            let recorded_rows: Vec<Value> = recorded
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            f.rows = (0..ATTENDANCE_ROWS)
                .map(|i| {
                    let key = |part: &str| format!("att:{name}:{i}:{part}");
                    let (person, agency, direct) = match prefill {
                        Prefill::Typed(form) => (
                            first(form, &key("name")).unwrap_or("").to_string(),
                            first(form, &key("agency")).unwrap_or("").to_string(),
                            first(form, &key("direct")).is_some(),
                        ),
                        Prefill::Recorded(_) => {
                            let r = recorded_rows.get(i);
                            let s = |k: &str| {
                                r.and_then(|r| r.get(k))
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string()
                            };
                            (
                                s("name"),
                                s("agency"),
                                r.and_then(|r| r.get("direct_knowledge"))
                                    .and_then(Value::as_bool)
                                    .unwrap_or(false),
                            )
                        }
                    };
                    AttendanceRow {
                        index: i,
                        number: i + 1,
                        name: person,
                        agencies: agency_choices(agencies, &format!("{id}-{i}"), welsh, &|c| {
                            c == agency
                        }),
                        direct,
                    }
                })
                .collect();
        }
        FactType::InformationSharing => {
            f.is_information_sharing = true;
            let recorded_rows: Vec<Value> = recorded
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            f.sharing = (0..SHARING_ROWS)
                .map(|i| {
                    let part = |k: &str| match prefill {
                        Prefill::Typed(form) => first(form, &format!("share:{name}:{i}:{k}"))
                            .unwrap_or("")
                            .to_string(),
                        Prefill::Recorded(_) => recorded_rows
                            .get(i)
                            .and_then(|r| r.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    };
                    let basis = part("lawful_basis");
                    SharingRow {
                        index: i,
                        number: i + 1,
                        what: part("what"),
                        shared_with: part("shared_with"),
                        decided_by: part("decided_by"),
                        bases: spec
                            .options
                            .iter()
                            .map(|o| Choice {
                                id: format!("{id}-{i}-basis-{o}"),
                                value: o.clone(),
                                label: spec.option_in(o, lang).to_string(),
                                checked: *o == basis,
                            })
                            .collect(),
                    }
                })
                .collect();
        }
    }
    f
}

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::bad_request("invalid_fact", field, message)
}

/// The facts typed into an event's form, typed as the workflow declares them. Blank inputs are
/// left out (the guards then say what is missing).
pub fn facts_from(
    wf: &Workflow,
    names: &[String],
    form: &Submitted,
) -> Result<Map<String, Value>, AppError> {
    let (facts, mut errors) = facts_and_errors(wf, names, form);
    match errors.is_empty() {
        true => Ok(facts),
        false => Err(errors.remove(0)),
    }
}

/// The facts that could be read, and an error for each that could not, so that a form can
/// show every one at once.
pub fn facts_and_errors(
    wf: &Workflow,
    names: &[String],
    form: &Submitted,
) -> (Map<String, Value>, Vec<AppError>) {
    let mut facts = Map::new();
    let mut errors = Vec::new();
    for name in names {
        let Some(spec) = wf.def.facts.get(name) else {
            continue;
        };
        match fact_from(form, name, spec) {
            Ok(Some(v)) => {
                facts.insert(name.clone(), v);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (facts, errors)
}

/// One fact as typed: none when left blank.
fn fact_from(form: &Submitted, name: &str, spec: &FactSpec) -> Result<Option<Value>, AppError> {
    {
        let input = format!("fact:{name}");
        let field = format!("facts.{name}");
        let raw = first(form, &input).map(str::trim).unwrap_or("");
        let value = match spec.kind {
            FactType::Bool => match raw {
                "yes" => Some(json!(true)),
                "no" => Some(json!(false)),
                "" => None,
                _ => return Err(bad(&field, "answer yes or no")),
            },
            FactType::Text | FactType::Choice | FactType::Authority => {
                (!raw.is_empty()).then(|| json!(raw))
            }
            FactType::Date => date_from(form, &input, &field)?.map(|d| json!(d.to_string())),
            FactType::Datetime => match date_from(form, &input, &field)? {
                None => None,
                Some(day) => {
                    let raw = first(form, &format!("{input}-time"))
                        .unwrap_or("")
                        .trim()
                        .replace('.', ":");
                    let time = chrono::NaiveTime::parse_from_str(&raw, "%H:%M").map_err(|_| {
                        AppError::bad_request(
                            "invalid_time",
                            field.clone(),
                            format!("{field} needs a time such as 14:30; got {raw:?}"),
                        )
                    })?;
                    let utc =
                        crate::time::wales::local_to_utc(day.and_time(time)).map_err(|change| {
                            let code = match change {
                                crate::time::wales::ClockChange::Skipped => "time_skipped",
                                crate::time::wales::ClockChange::Repeated => "time_repeated",
                            };
                            AppError::unprocessable(
                                code,
                                field.clone(),
                                format!("{field}: a time the clocks change over"),
                            )
                        })?;
                    Some(json!(utc.to_rfc3339()))
                }
            },
            FactType::Checklist => {
                let answers: Map<String, Value> = spec
                    .options
                    .iter()
                    .map(|o| {
                        (
                            o.clone(),
                            json!(first(form, &format!("{input}:{o}")).is_some()),
                        )
                    })
                    .collect();
                Some(Value::Object(answers))
            }
            FactType::AgencyList => {
                let chosen: Vec<Value> = all(form, &input).map(|c| json!(c)).collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            FactType::Attendance => {
                let rows: Vec<Value> = (0..ATTENDANCE_ROWS)
                    .filter_map(|i| {
                        let key = |part: &str| format!("att:{name}:{i}:{part}");
                        let person = first(form, &key("name")).map(str::trim).unwrap_or("");
                        (!person.is_empty()).then(|| {
                            json!({
                                "name": person,
                                "agency": first(form, &key("agency")).unwrap_or(""),
                                "direct_knowledge": first(form, &key("direct")).is_some(),
                            })
                        })
                    })
                    .collect();
                (!rows.is_empty()).then_some(Value::Array(rows))
            }
            FactType::InformationSharing => {
                const PARTS: [&str; 4] = ["what", "shared_with", "lawful_basis", "decided_by"];
                let rows: Vec<Value> = (0..SHARING_ROWS)
                    .filter_map(|i| {
                        let entry: Map<String, Value> = PARTS
                            .iter()
                            .map(|k| {
                                let v = first(form, &format!("share:{name}:{i}:{k}"))
                                    .map(str::trim)
                                    .unwrap_or("");
                                (k.to_string(), json!(v))
                            })
                            .collect();
                        // A row left wholly blank is not a disclosure; a row begun is checked
                        // whole, so a missing part is named.
                        entry
                            .values()
                            .any(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                            .then_some(Value::Object(entry))
                    })
                    .collect();
                (!rows.is_empty()).then_some(Value::Array(rows))
            }
        };
        Ok(value)
    }
}

#[derive(Debug, Serialize, Default)]
pub struct ActionRow {
    pub index: usize,
    /// As people count: the first row is 1.
    pub number: usize,
    pub title: String,
    pub owner_name: String,
    pub owner_email: String,
    pub due_day: String,
    pub due_month: String,
    pub due_year: String,
    pub kinds: Vec<Choice>,
}

/// Blank (or as typed) rows for agreed actions.
pub fn action_rows(
    wf: &Workflow,
    event: &str,
    typed: Option<&Submitted>,
    lang: crate::i18n::Language,
) -> Vec<ActionRow> {
    let n = typed.map(action_row_count).unwrap_or(0).max(ACTION_ROWS);
    action_rows_n(wf, event, typed, lang, n)
}

/// How many action rows a form was sent with (the rows are numbered from 0), at most 100.
pub fn action_row_count(form: &Submitted) -> usize {
    form.iter()
        .filter_map(|(k, _)| {
            k.strip_prefix("act:")?
                .split(':')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .filter(|i| *i < 100)
        .max()
        .map_or(0, |m| m + 1)
}

/// `n` rows for agreed actions, blank or as typed.
pub fn action_rows_n(
    wf: &Workflow,
    event: &str,
    typed: Option<&Submitted>,
    lang: crate::i18n::Language,
    n: usize,
) -> Vec<ActionRow> {
    (0..n)
        .map(|i| {
            let get = |part: &str| {
                typed
                    .and_then(|f| first(f, &format!("act:{i}:{part}")))
                    .unwrap_or("")
                    .to_string()
            };
            let kind = get("kind");
            ActionRow {
                index: i,
                number: i + 1,
                title: get("title"),
                owner_name: get("owner_name"),
                owner_email: get("owner_email"),
                due_day: get("due_date-day"),
                due_month: get("due_date-month"),
                due_year: get("due_date-year"),
                kinds: wf
                    .def
                    .action_kinds
                    .iter()
                    .map(|(k, spec)| Choice {
                        id: format!("a-{event}-{i}-{k}"),
                        value: k.clone(),
                        label: spec.title_in(lang).to_string(),
                        checked: kind == *k,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The agreed actions typed into the rows; a row with no title is left out.
pub fn actions_from(form: &Submitted) -> Vec<AgreedActionInput> {
    (0..action_row_count(form))
        .filter_map(|i| {
            let get = |part: &str| {
                first(form, &format!("act:{i}:{part}"))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let title = get("title")?;
            Some(AgreedActionInput {
                title,
                owner_name: get("owner_name").unwrap_or_default(),
                owner_email: get("owner_email"),
                owner_user_id: None,
                agency: None,
                // Three inputs, as one date the engine reads (and refuses, at this row, if
                // it is not a real one).
                due_date: match (
                    get("due_date-day"),
                    get("due_date-month"),
                    get("due_date-year"),
                ) {
                    (None, None, None) => None,
                    (d, m, y) => Some(format!(
                        "{}-{:0>2}-{:0>2}",
                        y.unwrap_or_default(),
                        m.unwrap_or_default(),
                        d.unwrap_or_default()
                    )),
                },
                kind: get("kind"),
            })
        })
        .collect()
}

/// Maps an API field (`facts.participants`, `agreed_actions[0].owner_email`, `rationale`) to
/// the id of the input that shows it.
pub fn input_id(event: &str, api_field: &str) -> String {
    if let Some(name) = api_field.strip_prefix("facts.") {
        let name = name.split(['.', '[']).next().unwrap_or(name);
        return format!("f-{event}-{name}");
    }
    if let Some(rest) = api_field.strip_prefix("agreed_actions[") {
        let (i, part) = rest.split_once("].").unwrap_or((rest, "title"));
        return format!("a-{event}-{}-{part}", i.trim_end_matches(']'));
    }
    format!("f-{event}-{}", api_field.replace('.', "-"))
}

/// Facts named by the form for an event, with their specs, in order.
pub fn specs<'a>(wf: &'a Workflow, names: &[String]) -> BTreeMap<usize, (&'a str, &'a FactSpec)> {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            wf.def
                .facts
                .get_key_value(n)
                .map(|(k, s)| (i, (k.as_str(), s)))
        })
        .collect()
}

/// A date typed into the three inputs of a GOV.UK date input (`{name}-day`, `-month`, `-year`);
/// none when all three are empty. An error names `field`, whose words the page shows.
pub fn date_from(
    form: &Submitted,
    name: &str,
    field: &str,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    let part = |p: &str| {
        first(form, &format!("{name}-{p}"))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (day, month, year) = (part("day"), part("month"), part("year"));
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Ok(None);
    }
    if day.is_empty() || month.is_empty() || year.is_empty() {
        return Err(AppError::bad_request(
            "date_incomplete",
            field,
            format!("{field} must include a day, month and year"),
        ));
    }
    let real = match (day.parse(), month.parse(), year.parse::<i32>()) {
        (Ok(d), Ok(m), Ok(y)) if (1900..=2200).contains(&y) => {
            chrono::NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    };
    real.map(Some).ok_or_else(|| {
        AppError::bad_request(
            "date_not_real",
            field,
            format!("{field} must be a real date; {day} {month} {year} is not one"),
        )
    })
}

/// What a date input shows: what was typed, else the date given.
pub fn date_parts(form: Option<&Submitted>, name: &str, date: Option<chrono::NaiveDate>) -> Value {
    use chrono::Datelike;
    match form {
        Some(f) => {
            let part = |p: &str| first(f, &format!("{name}-{p}")).unwrap_or("").to_string();
            json!({"day": part("day"), "month": part("month"), "year": part("year")})
        }
        None => match date {
            Some(d) => json!({"day": d.day(), "month": d.month(), "year": d.year()}),
            None => json!({"day": "", "month": "", "year": ""}),
        },
    }
}

/// A time of day typed as 14:30 (or 14.30, or 9:00).
fn time_from(form: &Submitted, name: &str) -> Result<chrono::NaiveTime, AppError> {
    let raw = first(form, name).unwrap_or("").trim().replace('.', ":");
    chrono::NaiveTime::parse_from_str(&raw, "%H:%M").map_err(|_| {
        AppError::bad_request(
            "invalid_time",
            name,
            format!("{name} must be a time such as 14:30; got {raw:?}"),
        )
    })
}

/// A Wales local time as UTC with its offset. A time the clocks skip or repeat that day is
/// explained, not guessed.
fn wales_time(local: chrono::NaiveDateTime, field: &str) -> Result<String, AppError> {
    crate::time::wales::local_to_utc(local)
        .map(|t| t.to_rfc3339())
        .map_err(|change| match change {
            crate::time::wales::ClockChange::Skipped => AppError::unprocessable(
                "time_skipped",
                field,
                format!("{local} does not exist in Wales: the clocks go forward an hour"),
            ),
            crate::time::wales::ClockChange::Repeated => AppError::unprocessable(
                "time_repeated",
                field,
                format!("{local} happens twice in Wales: the clocks go back an hour"),
            ),
        })
}

/// A meeting's start and end, typed as a date (three inputs named `date`) and two times
/// (`starts_time`, `ends_time`) in Wales, as UTC times with their offset.
pub fn meeting_times_from(form: &Submitted) -> Result<(String, String), AppError> {
    let date = date_from(form, "date", "meeting_date")?.ok_or_else(|| {
        AppError::bad_request("required", "meeting_date", "the meeting's date is needed")
    })?;
    let at = |name: &str| wales_time(date.and_time(time_from(form, name)?), name);
    Ok((at("starts_time")?, at("ends_time")?))
}

/// A moment typed as a date (the three inputs named `name`) and a time (`{name}-time`) in
/// Wales, as a UTC time with its offset; none when all four are empty. Errors name `field`.
pub fn date_time_from(
    form: &Submitted,
    name: &str,
    field: &str,
) -> Result<Option<String>, AppError> {
    let time_name = format!("{name}-time");
    let date = date_from(form, name, field)?;
    let time_typed = first(form, &time_name).is_some_and(|t| !t.trim().is_empty());
    match date {
        None if !time_typed => Ok(None),
        None => Err(AppError::bad_request(
            "date_incomplete",
            field,
            format!("{field} must include a day, month and year"),
        )),
        Some(d) => {
            let time = time_from(form, &time_name).map_err(|_| {
                AppError::bad_request(
                    "invalid_time",
                    field,
                    format!("{field} needs a time such as 14:30"),
                )
            })?;
            wales_time(d.and_time(time), field).map(Some)
        }
    }
}

/// A meeting time as the date input and time inputs show it, in Wales.
pub fn meeting_time_parts(t: chrono::DateTime<chrono::Utc>) -> (Value, String) {
    let (date, time) = crate::time::wales::local_parts(t);
    (
        date_parts(None, "date", Some(date)),
        time.format("%H:%M").to_string(),
    )
}

/// The part of a form that belongs to one child of a meeting (inputs named `{prefix}...`),
/// named as the case page's forms name them.
pub fn part(form: &Submitted, prefix: &str) -> Submitted {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
        .collect()
}

/// The message an error summary gives for the input `id`, to show at that input too.
pub fn message_at(errors: &Value, id: &str) -> Option<String> {
    errors
        .as_array()?
        .iter()
        .find(|e| e["id"] == id)
        .and_then(|e| e["message"].as_str().map(str::to_string))
}

/// Puts each message of an error summary at its input too: every field of `data` (any object
/// with an `id` and a `label`, as `Field` serialises) whose id the summary links to.
pub fn place_errors(data: &mut Value, errors: &Value) {
    match data {
        Value::Object(map) => {
            let at = map
                .get("id")
                .and_then(Value::as_str)
                .filter(|_| map.contains_key("label"))
                .and_then(|id| message_at(errors, id));
            if let Some(message) = at {
                map.insert("error".into(), Value::String(message));
            }
            for v in map.values_mut() {
                place_errors(v, errors);
            }
        }
        Value::Array(list) => {
            for v in list {
                place_errors(v, errors);
            }
        }
        _ => {}
    }
}

/// The message for input `id` among a form's placed errors, or null.
fn error_for(errors: &Value, id: &str) -> Value {
    message_at(errors, id).map_or(Value::Null, Value::String)
}

/// A labelled text input (`kind` is the input type) for the `labelled` partial, with its
/// message when the form was refused there.
pub fn input(
    prefix: &str,
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    errors: &Value,
) -> Value {
    let id = format!("{prefix}-{name}");
    serde_json::json!({"id": id, "name": name, "label": label, "value": value, "type": kind,
                       "options": Value::Null, "list": Value::Null, "hint": Value::Null,
                       "error": error_for(errors, &id)})
}

/// A labelled select for the `labelled` partial: each option as (value, label, chosen).
pub fn select(
    prefix: &str,
    name: &str,
    label: &str,
    options: Vec<(String, String, bool)>,
    errors: &Value,
) -> Value {
    let id = format!("{prefix}-{name}");
    serde_json::json!({"id": id, "name": name, "label": label, "value": "", "type": "select",
                       "options": options.into_iter().map(|(value, label, selected)| serde_json::json!({
                           "value": value, "label": label, "selected": selected,
                       })).collect::<Vec<_>>(),
                       "list": Value::Null, "hint": Value::Null, "error": error_for(errors, &id)})
}

/// A page form's one-time token: the one just sent with a refused form (so that sending it again
/// still makes its thing once), else a new one.
pub fn one_time_token(typed: Option<&Submitted>) -> String {
    typed
        .and_then(|f| first(f, "form_token"))
        .filter(|t| t.len() == 64)
        .map(str::to_string)
        .unwrap_or_else(super::session::random_token)
}

#[cfg(test)]
mod date_tests {
    use super::{date_from, meeting_times_from, Submitted};

    fn form(day: &str, month: &str, year: &str, starts: &str) -> Submitted {
        [
            ("date-day", day),
            ("date-month", month),
            ("date-year", year),
            ("starts_time", starts),
            ("ends_time", "11:00"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_date_that_does_not_exist_or_is_half_typed_is_named() {
        let code = |f: &Submitted| {
            date_from(f, "date", "meeting_date")
                .err()
                .map(|e| e.code().to_string())
        };
        assert_eq!(
            code(&form("31", "2", "2027", "10:00")),
            Some("date_not_real".to_string())
        );
        assert_eq!(
            code(&form("", "2", "2027", "10:00")),
            Some("date_incomplete".to_string())
        );
        assert_eq!(
            code(&form("29", "2", "2028", "10:00")),
            None,
            "a leap day is a day"
        );
        assert!(date_from(&form("", "", "", ""), "date", "meeting_date")
            .unwrap_or(None)
            .is_none());
    }

    #[test]
    fn a_time_the_clocks_skip_or_repeat_is_explained_not_guessed() {
        // The clocks go forward at 1am on 29 March 2026 and back at 2am on 25 October 2026.
        let code = |f: &Submitted| meeting_times_from(f).err().map(|e| e.code().to_string());
        assert_eq!(
            code(&form("29", "3", "2026", "01:30")),
            Some("time_skipped".to_string())
        );
        assert_eq!(
            code(&form("25", "10", "2026", "01:30")),
            Some("time_repeated".to_string())
        );
        let (starts, _) =
            meeting_times_from(&form("1", "7", "2026", "10:00")).expect("a summer time");
        assert_eq!(starts, "2026-07-01T09:00:00+00:00", "stored in UTC");
    }
}
