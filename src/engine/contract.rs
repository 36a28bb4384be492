//! The workflow contract: every state, event and fact of a workflow file that the Rust code
//! relies on, named by a tag the file gives it rather than by its id. A safeguarding board may
//! rename any state, event or fact; `workflows check` refuses a workflow that no longer carries
//! a tag the code needs, naming the tag and what should carry it.
//!
//! This is the only place in `src/` where workflow vocabulary appears: a test reads every other
//! file and fails on a string literal that is a state, event or fact name of a shipped workflow.
use serde::{Deserialize, Serialize};

use super::definition::{FactType, WorkflowFile};

/// What a workflow is for, beyond the primary pathway (`primary = true`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowRole {
    /// The transition track as the child approaches 18 (R16-R20): started by the service at the
    /// configured age, and handed over on the 18th birthday.
    Age18Track,
}

/// States the code finds by what they mean.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum StateTag {
    /// The local authority decides on a report (timeliness: report to decision).
    Decision,
    /// The multi-agency strategy discussion (timeliness: report to discussion).
    StrategyDiscussion,
    /// The age-18 track's referrals are made: the track may be handed over on the birthday.
    HandoverReady,
    /// The initial child protection conference (Wales's figures: conferences within timescale).
    InitialConference,
}

/// Events the service applies itself, or counts.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EventTag {
    /// Child protection duties end on the 18th birthday (R16): applied by the service, from any
    /// state it leaves.
    #[serde(rename = "close_at_18")]
    CloseAt18,
    /// The age-18 track is handed over on the birthday.
    HandOver,
    /// The child is placed on the child protection register (Wales's figures: time on the
    /// register, re-registrations). The registration lasts until the pathway finishes.
    Registers,
}

/// Facts the code reads or writes.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FactTag {
    /// Agencies taking part in the strategy discussion (an agency list): the R6 checks read it,
    /// and the strategy meeting's suggested invitees start from it.
    DiscussionParticipants,
    /// Whether a youth offending service is involved (a yes/no): an R6 check reads it.
    YouthJusticeInvolved,
    /// Who attended a meeting (attendance): the R9 check reads it.
    MeetingAttendance,
    /// Why the plan ends (a choice with the option `PLAN_ENDS_AT_18`): the service sets it at 18.
    PlanEndReason,
    /// The authority a family moves to (an authority): a transfer that begins reads it.
    ReceivingAuthority,
}

/// The option of the `PlanEndReason` fact that the service records on the 18th birthday.
pub const PLAN_ENDS_AT_18: &str = "child_turned_18";

impl WorkflowFile {
    pub fn state_tagged(&self, tag: StateTag) -> Option<&str> {
        self.states
            .iter()
            .find(|s| s.tags.contains(&tag))
            .map(|s| s.id.as_str())
    }

    pub fn event_tagged(&self, tag: EventTag) -> Option<&str> {
        self.transitions
            .iter()
            .find(|t| t.tags.contains(&tag))
            .map(|t| t.event.as_str())
    }

    pub fn fact_tagged(&self, tag: FactTag) -> Option<&str> {
        self.facts
            .iter()
            .find(|(_, f)| f.tags.contains(&tag))
            .map(|(name, _)| name.as_str())
    }
}

/// What a workflow must carry for the code to work with it. Each problem names the tag and
/// what must carry it.
pub fn check(file: &WorkflowFile) -> Vec<String> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);
    // A tag names one thing.
    for tag in [
        StateTag::Decision,
        StateTag::StrategyDiscussion,
        StateTag::HandoverReady,
        StateTag::InitialConference,
    ] {
        let n = file.states.iter().filter(|s| s.tags.contains(&tag)).count();
        if n > 1 {
            p(format!("contract: {n} states are tagged {tag:?}; tag one"));
        }
    }
    for tag in [EventTag::CloseAt18, EventTag::HandOver, EventTag::Registers] {
        let n = file
            .transitions
            .iter()
            .filter(|t| t.tags.contains(&tag))
            .count();
        if n > 1 {
            p(format!("contract: {n} events are tagged {tag:?}; tag one"));
        }
    }
    for (tag, kind) in [
        (FactTag::DiscussionParticipants, FactType::AgencyList),
        (FactTag::YouthJusticeInvolved, FactType::Bool),
        (FactTag::MeetingAttendance, FactType::Attendance),
        (FactTag::PlanEndReason, FactType::Choice),
        (FactTag::ReceivingAuthority, FactType::Authority),
    ] {
        let tagged: Vec<_> = file
            .facts
            .iter()
            .filter(|(_, f)| f.tags.contains(&tag))
            .collect();
        if tagged.len() > 1 {
            p(format!(
                "contract: {} facts are tagged {tag:?}; tag one",
                tagged.len()
            ));
        }
        if let Some((name, spec)) = tagged.first() {
            if spec.kind != kind {
                p(format!(
                    "contract: fact '{name}' is tagged {tag:?}, which must be a {kind:?} fact"
                ));
            }
        }
    }

    if file.primary {
        for tag in [StateTag::Decision, StateTag::StrategyDiscussion] {
            if file.state_tagged(tag).is_none() {
                p(format!(
                    "contract: the primary pathway needs a state tagged {tag:?} (tags = [\"{}\"])",
                    tag_name(&tag)
                ));
            }
        }
        match file.event_tagged(EventTag::CloseAt18) {
            None => p(format!(
                "contract: the primary pathway needs the event the service applies on the 18th \
                 birthday (tags = [\"{}\"])",
                tag_name(&EventTag::CloseAt18)
            )),
            Some(event) => {
                let t = file.transitions.iter().find(|t| t.event == event);
                if let Some(t) = t {
                    if !t.roles.contains(&crate::identity::RoleName::System) {
                        p(format!(
                            "contract: event '{event}' (CloseAt18) must list the role system"
                        ));
                    }
                    let open: Vec<&str> = file
                        .states
                        .iter()
                        .filter(|s| !s.terminal && !t.from.contains(&s.id))
                        .map(|s| s.id.as_str())
                        .collect();
                    if !open.is_empty() {
                        p(format!(
                            "contract: event '{event}' (CloseAt18) must leave every state that is not terminal; it does not leave {}",
                            open.join(", ")
                        ));
                    }
                }
            }
        }
        match file
            .fact_tagged(FactTag::PlanEndReason)
            .and_then(|f| file.facts.get(f))
        {
            None => p(
                "contract: the primary pathway needs the choice fact the service records at 18, \
                 tagged PlanEndReason (tags = [\"plan_end_reason\"])"
                    .into(),
            ),
            Some(spec) if !spec.options.iter().any(|o| o == PLAN_ENDS_AT_18) => p(format!(
                "contract: the fact tagged PlanEndReason needs the option '{PLAN_ENDS_AT_18}'"
            )),
            Some(_) => {}
        }
    }
    let transfers = file
        .transitions
        .iter()
        .flat_map(|t| &t.effects)
        .any(|e| e.transfer == Some(super::definition::TransferStep::Begins));
    if transfers && file.fact_tagged(FactTag::ReceivingAuthority).is_none() {
        p("contract: a transfer that begins needs the authority fact it moves the case to, tagged \
           ReceivingAuthority (tags = [\"receiving_authority\"])"
            .into());
    }
    if file.role == Some(WorkflowRole::Age18Track) {
        if file.state_tagged(StateTag::HandoverReady).is_none() {
            p("contract: the age-18 track needs a state tagged HandoverReady (tags = [\"handover_ready\"])".into());
        }
        match file.event_tagged(EventTag::HandOver) {
            None => p(
                "contract: the age-18 track needs the event the service applies on the birthday, \
                 tagged HandOver (tags = [\"hand_over\"])"
                    .into(),
            ),
            Some(event) => {
                let ready = file.state_tagged(StateTag::HandoverReady);
                let ok = file.transitions.iter().any(|t| {
                    t.event == event
                        && ready.is_some_and(|r| t.from.iter().any(|f| f == r))
                        && t.roles.contains(&crate::identity::RoleName::System)
                });
                if !ok {
                    p(format!(
                        "contract: event '{event}' (HandOver) must leave the HandoverReady state and list the role system"
                    ));
                }
            }
        }
    }
    problems
}

fn tag_name<T: Serialize>(tag: &T) -> String {
    serde_json::to_value(tag)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
