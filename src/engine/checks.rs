//! Guards that a fact comparison cannot express, named from workflow files.
use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::reference::agencies::AgencyDirectory;
use crate::storage::models::CaseRow;

pub const KNOWN_CHECKS: &[&str] = &[
    "participants_include_police_and_social_services",
    "participants_include_each_relevant_authority",
    "participants_include_youth_justice_when_involved",
    "child_has_existing_plan",
    "child_is_18",
    "attendance_recorded",
];

pub struct CheckContext<'a> {
    pub facts: &'a Map<String, Value>,
    pub case: &'a CaseRow,
    pub agencies: &'a AgencyDirectory,
    pub today: NaiveDate,
}

fn participants<'a>(ctx: &'a CheckContext<'_>) -> Vec<&'a str> {
    ctx.facts
        .get("participants")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

pub fn run(name: &str, ctx: &CheckContext<'_>) -> bool {
    match name {
        // WSP: a strategy discussion involves at least police and social services.
        "participants_include_police_and_social_services" => {
            let p = participants(ctx);
            let has = |kind: &str| p.iter().any(|c| ctx.agencies.kind_of(c) == Some(kind));
            has("police") && has("local_authority")
        }
        // R6: the authority where the child is located and the authority of residence both take part.
        "participants_include_each_relevant_authority" => {
            let p = participants(ctx);
            p.contains(&ctx.case.located_authority.as_str())
                && p.contains(&ctx.case.residence_authority.as_str())
        }
        // R6: a relevant youth offending service takes part when one is involved.
        "participants_include_youth_justice_when_involved" => {
            let involved = ctx
                .facts
                .get("youth_justice_involved")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            !involved
                || participants(ctx)
                    .iter()
                    .any(|c| ctx.agencies.kind_of(c) == Some("youth_justice"))
        }
        // R8
        "child_has_existing_plan" => {
            ctx.case.existing_plan != "none" || ctx.case.looked_after || ctx.case.in_secure_estate
        }
        // R16: duties continue until the 18th birthday.
        "child_is_18" => {
            crate::time::age::eighteenth_birthday(ctx.case.child_date_of_birth) <= ctx.today
        }
        // R9
        "attendance_recorded" => ctx
            .facts
            .get("attendance")
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty()),
        _ => false,
    }
}
