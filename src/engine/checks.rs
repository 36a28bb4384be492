//! Guards that a fact comparison cannot express, named from workflow files. Each check says
//! which facts it reads by their contract tag, so that a workflow using it must tag them and
//! the forms can ask for them.
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::contract::FactTag;
use super::definition::WorkflowFile;
use super::snapshot::CaseSnapshot;
use crate::reference::agencies::AgencyDirectory;

pub struct CheckContext<'a> {
    pub workflow: &'a WorkflowFile,
    /// The facts the guards see: those recorded so far, with this event's own.
    pub facts: &'a Map<String, Value>,
    pub case: &'a CaseSnapshot,
    pub agencies: &'a AgencyDirectory,
    pub today: NaiveDate,
}

impl CheckContext<'_> {
    fn fact(&self, tag: FactTag) -> Option<&Value> {
        self.workflow
            .fact_tagged(tag)
            .and_then(|name| self.facts.get(name))
    }

    fn participants(&self) -> Vec<&str> {
        self.fact(FactTag::DiscussionParticipants)
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

pub struct Check {
    pub name: &'static str,
    /// The facts it reads, by tag.
    pub reads: &'static [FactTag],
    pub holds: fn(&CheckContext<'_>) -> bool,
}

pub const CHECKS: &[Check] = &[
    // WSP: a strategy discussion involves at least police and social services.
    Check {
        name: "participants_include_police_and_social_services",
        reads: &[FactTag::DiscussionParticipants],
        holds: |ctx| {
            let p = ctx.participants();
            let has = |kind: &str| p.iter().any(|c| ctx.agencies.kind_of(c) == Some(kind));
            has("police") && has("local_authority")
        },
    },
    // R6: the authority where the child is located and the authority of residence both take part.
    Check {
        name: "participants_include_each_relevant_authority",
        reads: &[FactTag::DiscussionParticipants],
        holds: |ctx| {
            let p = ctx.participants();
            p.contains(&ctx.case.located_authority.as_str())
                && p.contains(&ctx.case.residence_authority.as_str())
        },
    },
    // R6: a relevant youth offending service takes part when one is involved.
    Check {
        name: "participants_include_youth_justice_when_involved",
        reads: &[
            FactTag::DiscussionParticipants,
            FactTag::YouthJusticeInvolved,
        ],
        holds: |ctx| {
            let involved = ctx
                .fact(FactTag::YouthJusticeInvolved)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            !involved
                || ctx
                    .participants()
                    .iter()
                    .any(|c| ctx.agencies.kind_of(c) == Some("youth_justice"))
        },
    },
    // R8
    Check {
        name: "child_has_existing_plan",
        reads: &[],
        holds: |ctx| {
            ctx.case.existing_plan != "none" || ctx.case.looked_after || ctx.case.in_secure_estate
        },
    },
    // R16: duties continue until the 18th birthday.
    Check {
        name: "child_is_18",
        reads: &[],
        holds: |ctx| {
            crate::time::age::eighteenth_birthday(ctx.case.child_date_of_birth) <= ctx.today
        },
    },
    // R9
    Check {
        name: "attendance_recorded",
        reads: &[FactTag::MeetingAttendance],
        holds: |ctx| {
            ctx.fact(FactTag::MeetingAttendance)
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty())
        },
    },
];

pub fn named(name: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.name == name)
}

pub fn run(name: &str, ctx: &CheckContext<'_>) -> bool {
    named(name).is_some_and(|c| (c.holds)(ctx))
}

/// The names of the facts a check reads, in this workflow.
pub fn facts_read<'a>(name: &str, workflow: &'a WorkflowFile) -> Vec<&'a str> {
    named(name)
        .map(|c| {
            c.reads
                .iter()
                .filter_map(|t| workflow.fact_tagged(*t))
                .collect()
        })
        .unwrap_or_default()
}
