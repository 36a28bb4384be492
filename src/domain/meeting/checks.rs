//! What a chair types when convening or changing a meeting, checked: times (Wales local time,
//! the clock changes), the place, the invitees, reasons, and the warnings a chair may confirm
//! with a rationale (past the step's deadline, not a working day, outside working hours).
use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::transition::MIN_RATIONALE;
use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::{CaseRow, CaseWorkflowRow};
use crate::storage::schema::case_workflows;
use crate::storage::DbConn;
use crate::time::wales::{self, london_date};

use super::InviteeInput;

/// Text that goes into an email, or into every child's record of a meeting about several,
/// must not name any of the meeting's children, nor (when there are several) give any of their
/// case references: a reader of one child's case may not know of the others.
pub(super) fn refuse_child_names(
    text: &str,
    field: &str,
    case_rows: &[CaseRow],
) -> Result<(), AppError> {
    for c in case_rows {
        crate::domain::child::refuse_named(
            text,
            &c.child_name,
            field,
            crate::domain::child::Emailed::Text,
        )?;
    }
    if case_rows.len() > 1 && case_rows.iter().any(|c| text.contains(&c.reference)) {
        return Err(AppError::unprocessable(
            "case_referenced",
            field,
            format!(
                "{field} names one of the children's cases; what is written for the whole meeting goes into every child's case, so write about one child in that child's section"
            ),
        ));
    }
    Ok(())
}

pub(super) fn parse_time(raw: &str, field: &str) -> Result<DateTime<Utc>, AppError> {
    crate::domain::input::time(raw, field)
}

pub(super) fn check_reason(reason: &str, field: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.chars().count() < MIN_RATIONALE {
        return Err(AppError::unprocessable(
            "reason_too_short",
            field,
            format!("{field} must say why, in at least {MIN_RATIONALE} characters"),
        ));
    }
    if r.chars().count() > 2000 {
        return Err(AppError::bad_request(
            "reason_too_long",
            field,
            format!("{field} is longer than 2000 characters"),
        ));
    }
    Ok(r.to_string())
}

pub(super) struct Place {
    pub location: Option<String>,
    pub online_link: Option<String>,
}

pub(super) fn check_place(
    location: &Option<String>,
    online_link: &Option<String>,
) -> Result<Place, AppError> {
    let location = location
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let online_link = online_link
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    for (text, field) in [(&location, "location"), (&online_link, "online_link")] {
        if let Some(t) = text {
            crate::domain::input::single_line(t, field)?;
        }
    }
    if location.is_none() && online_link.is_none() {
        return Err(AppError::bad_request(
            "place_required",
            "location",
            "give a location, an online_link, or both",
        ));
    }
    if location.as_ref().is_some_and(|l| l.chars().count() > 300) {
        return Err(AppError::bad_request(
            "too_long",
            "location",
            "location is longer than 300 characters",
        ));
    }
    if let Some(link) = &online_link {
        if !(link.starts_with("https://") || link.starts_with("http://"))
            || link.len() > 500
            || link.contains(char::is_whitespace)
        {
            return Err(AppError::bad_request(
                "invalid_link",
                "online_link",
                "online_link must be an https:// address",
            ));
        }
    }
    Ok(Place {
        location,
        online_link,
    })
}

pub(super) fn check_times(
    now: DateTime<Utc>,
    starts_raw: &str,
    ends_raw: &str,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let starts = parse_time(starts_raw, "starts_at")?;
    let ends = parse_time(ends_raw, "ends_at")?;
    if ends <= starts {
        return Err(AppError::unprocessable(
            "end_before_start",
            "ends_at",
            "ends_at must be after starts_at",
        ));
    }
    if ends - starts > chrono::Duration::hours(12) {
        return Err(AppError::unprocessable(
            "too_long",
            "ends_at",
            "a meeting cannot last more than 12 hours",
        ));
    }
    if starts < now {
        return Err(AppError::unprocessable(
            "in_the_past",
            "starts_at",
            "starts_at is in the past",
        ));
    }
    Ok((starts, ends))
}

/// A reason a chair should think twice about a time: about the meeting as a whole, or about
/// one child's case (which only those who may see that case are shown).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Warning {
    pub case_id: Option<String>,
    pub text: String,
    /// The same in Welsh (none for warnings stored before they had one).
    #[serde(default)]
    pub text_cy: Option<String>,
}

impl Warning {
    fn general(text: String, text_cy: String) -> Warning {
        Warning {
            case_id: None,
            text,
            text_cy: Some(text_cy),
        }
    }

    pub fn text_in(&self, lang: Language) -> &str {
        match (lang, &self.text_cy) {
            (Language::Welsh, Some(cy)) => cy,
            _ => &self.text,
        }
    }

    /// The warnings stored on a meeting. Those written before warnings named their case are
    /// kept as `case_id = "?"`: shown only to someone who sees every child of the meeting.
    pub fn stored(raw: &str) -> Vec<Warning> {
        match serde_json::from_str::<Vec<serde_json::Value>>(raw) {
            Ok(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(text) => Some(Warning {
                        case_id: Some("?".into()),
                        text,
                        text_cy: None,
                    }),
                    other => serde_json::from_value(other).ok(),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// The warnings one child's record may carry: those about the whole meeting, and its own.
pub(super) fn warnings_for(warnings: &[Warning], case_id: &str) -> Vec<String> {
    warnings
        .iter()
        .filter(|w| w.case_id.as_deref().is_none_or(|c| c == case_id))
        .map(|w| w.text.clone())
        .collect()
}

/// Reasons a chair should think twice about a time. Not refusals: the chair may confirm with a
/// rationale, which is recorded.
pub(super) fn scheduling_warnings(
    engine: &Engine,
    conn: &mut DbConn,
    kind: &str,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    case_rows: &[CaseRow],
) -> Result<Vec<Warning>, AppError> {
    let mut warnings = Vec::new();
    let day = london_date(starts);
    if !engine.calendar.is_working_day(day) {
        let (what, what_cy) = match (
            engine.calendar.holiday_name(day),
            engine.calendar.holiday_name_cy(day),
        ) {
            (Some(h), cy) => (
                format!("a bank holiday ({h})"),
                format!("ŵyl y banc ({})", cy.unwrap_or(h)),
            ),
            _ => ("a weekend".to_string(), "benwythnos".to_string()),
        };
        warnings.push(Warning::general(
            format!("{} is {what}", wales::long_date(day, Language::English)),
            format!(
                "Mae {} yn {what_cy}",
                wales::date_in_sentence(day, wales::Before::Nothing, Language::Welsh)
            ),
        ));
    }
    let local_start = starts.with_timezone(&chrono_tz::Europe::London).time();
    let local_end = ends.with_timezone(&chrono_tz::Europe::London).time();
    let open = NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN);
    let close = NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN);
    if local_start < open || local_end > close || london_date(ends) != day {
        let (from, to) = (local_start.format("%H:%M"), local_end.format("%H:%M"));
        warnings.push(Warning::general(
            format!("the meeting runs {from}–{to}, outside working hours (08:00–18:00)"),
            format!(
                "mae’r cyfarfod yn rhedeg {from}–{to}, y tu allan i oriau gwaith (08:00–18:00)"
            ),
        ));
    }
    {
        let ids: Vec<&str> = case_rows.iter().map(|c| c.id.as_str()).collect();
        let rows: Vec<CaseWorkflowRow> = case_workflows::table
            .filter(case_workflows::case_id.eq_any(&ids))
            .filter(case_workflows::finished_at.is_null())
            .select(CaseWorkflowRow::as_select())
            .load(conn)?;
        // A case whose current step is held at a meeting of this kind, due before it starts.
        let held_here = |cw: &&CaseWorkflowRow| {
            super::kinds::step_kind(engine, &cw.workflow, cw.workflow_version as u32, &cw.state)
                .is_some_and(|k| k == kind)
        };
        for cw in rows.iter().filter(held_here) {
            if let Some(due) = cw.due_at.map(|d| d.and_utc()).filter(|d| *d < starts) {
                let reference = case_rows
                    .iter()
                    .find(|c| c.id == cw.case_id)
                    .map(|c| c.reference.as_str())
                    .unwrap_or("");
                warnings.push(Warning {
                    case_id: Some(cw.case_id.clone()),
                    text: format!(
                        "{reference}: this step is due by {}; the meeting is after that deadline",
                        wales::date_time(due, Language::English)
                    ),
                    text_cy: Some(format!(
                        "{reference}: mae’r cam hwn i fod {}; mae’r cyfarfod ar ôl y dyddiad cau hwnnw",
                        wales::date_time_in_sentence(due, wales::Before::By, Language::Welsh)
                    )),
                });
            }
        }
    }
    Ok(warnings)
}

pub(super) fn confirm(
    warnings: &[Warning],
    rationale: &Option<String>,
) -> Result<Option<String>, AppError> {
    let welsh: Vec<&str> = warnings
        .iter()
        .map(|w| w.text_in(Language::Welsh))
        .collect();
    let warnings: Vec<&str> = warnings.iter().map(|w| w.text.as_str()).collect();
    if warnings.is_empty() {
        return Ok(rationale
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string));
    }
    match rationale
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Err(AppError::Unprocessable {
            code: "scheduling_warnings",
            field: Some("starts_at".into()),
            message: format!(
                "please confirm this time with a rationale (confirm_warnings_rationale): {}",
                warnings.join("; ")
            ),
            details: Some(json!({ "warnings": warnings, "warnings_cy": welsh })),
        }),
        Some(r) => check_reason(r, "confirm_warnings_rationale").map(Some),
    }
}

pub(super) fn check_invitees(engine: &Engine, invitees: &[InviteeInput]) -> Result<(), AppError> {
    match invitee_problems(engine, invitees).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every problem with the invitees, the first of each person's, so that a form can show them
/// all at once.
pub(super) fn invitee_problems(engine: &Engine, invitees: &[InviteeInput]) -> Vec<AppError> {
    if invitees.is_empty() || invitees.len() > 100 {
        return vec![AppError::bad_request(
            "invitees_required",
            "invitees",
            "invite between 1 and 100 people",
        )];
    }
    let mut problems: Vec<AppError> = invitees
        .iter()
        .enumerate()
        .filter_map(|(i, inv)| one_invitee(engine, i, inv).err())
        .collect();
    if let Err(e) = distinct_invitees(invitees) {
        problems.push(e);
    }
    problems
}

fn one_invitee(engine: &Engine, i: usize, inv: &InviteeInput) -> Result<(), AppError> {
    {
        let at = |f: &str| format!("invitees[{i}].{f}");
        if inv.name.trim().is_empty() || inv.name.chars().count() > 200 {
            return Err(AppError::bad_request(
                "invalid_name",
                at("name"),
                "name must be 1 to 200 characters",
            ));
        }
        crate::domain::input::single_line(&inv.name, &at("name"))?;
        crate::domain::input::single_line(&inv.role, &at("role"))?;
        if inv.email.trim().parse::<lettre::Address>().is_err() {
            return Err(AppError::bad_request(
                "invalid_email",
                at("email"),
                format!("{:?} is not an email address", inv.email),
            ));
        }
        if Language::parse(&inv.language).is_none() {
            return Err(AppError::bad_request(
                "invalid_language",
                at("language"),
                "language must be en or cy",
            ));
        }
        if inv.role.trim().is_empty() || inv.role.chars().count() > 100 {
            return Err(AppError::bad_request(
                "invalid_role",
                at("role"),
                "role must be 1 to 100 characters",
            ));
        }
        if let Some(a) = &inv.agency {
            if engine.agencies.current().get(a).is_none() {
                return Err(AppError::unprocessable(
                    "unknown_agency",
                    at("agency"),
                    format!("no agency has the code {a:?}"),
                ));
            }
        }
    }
    Ok(())
}

fn distinct_invitees(invitees: &[InviteeInput]) -> Result<(), AppError> {
    let mut emails: Vec<String> = invitees
        .iter()
        .map(|i| i.email.trim().to_lowercase())
        .collect();
    emails.sort();
    if emails.windows(2).any(|w| w[0] == w[1]) {
        return Err(AppError::bad_request(
            "duplicate_invitee",
            "invitees",
            "the same email address is invited twice",
        ));
    }
    Ok(())
}
