//! Meetings: strategy discussions, strategy meetings, conferences and core groups, for one or
//! more children. Each change (convene, reschedule, cancel, record, an invitee's answer) is one
//! unit of work: the meeting, each child's audit entry, the emails and calendar files it sends
//! and the access-log line of every case it touches commit together.
mod access;
mod answers;
mod change;
pub mod checks;
mod convene;
mod invitations;
mod kinds;
mod record;
mod view;

use serde::{Deserialize, Serialize};

pub use access::{may_convene, seen_meeting, visible_meeting, SeenMeeting};
pub use answers::{answer_page_data, invitee_and_meeting, link_holder, record_answer};
pub use change::{cancel, reschedule};
pub use convene::{problems, schedule};
pub use kinds::{
    about_contexts, case_kind_codes, companion_cases, context_kind_codes, kind_codes,
    kind_for_case, kind_name, step_kind, CompanionCase,
};
pub use record::{record, record_with_outcomes, ChildOutcome, OtherAttendee};

pub use view::{read, suggested_invitees, view};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InviteeInput {
    pub name: String,
    pub email: String,
    pub agency: Option<String>,
    pub role: String,
    /// en or cy; emails carry both languages, this one first.
    #[serde(default = "english")]
    pub language: String,
    /// R9: whether they have direct knowledge of the child.
    #[serde(default)]
    pub direct_knowledge: bool,
}

fn english() -> String {
    "en".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingRequest {
    pub kind: String,
    /// Wales local time (2026-12-02T10:00) or a time with an offset.
    pub starts_at: String,
    pub ends_at: String,
    pub location: Option<String>,
    pub online_link: Option<String>,
    /// Case ids or references: one meeting may concern several children. For a meeting about
    /// contexts, the children linked to them that the chair may see are added.
    #[serde(default)]
    pub cases: Vec<String>,
    /// For a meeting about contexts (an exploitation meeting): the contexts' references.
    #[serde(default)]
    pub contexts: Vec<String>,
    pub invitees: Vec<InviteeInput>,
    /// Given when the chair confirms a time the service warned about.
    pub confirm_warnings_rationale: Option<String>,
    /// Given when the chair confirms an invitee's address that is not at their agency's domains.
    #[serde(default)]
    pub confirm_addresses_rationale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    pub starts_at: String,
    pub ends_at: String,
    pub location: Option<String>,
    pub online_link: Option<String>,
    pub reason: String,
    pub confirm_warnings_rationale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    pub invitee_id: String,
    pub attended: bool,
    /// Whether they have direct knowledge of the child, when the chair records it again.
    #[serde(default)]
    pub direct_knowledge: Option<bool>,
}

/// The part of a meeting's record about one child.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    /// The child's case: id or reference.
    pub case: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// The decisions and their basis for the whole meeting, as sent to everyone invited and kept
    /// in every child's case. No child's name, and for several children, no case reference.
    pub summary: String,
    /// For a meeting about several children, what was decided about each: kept in that child's
    /// case only, and sent only to people who may know of that child.
    #[serde(default)]
    pub sections: Vec<SectionInput>,
    pub next_meeting_at: Option<String>,
    #[serde(default)]
    pub attendees: Vec<AttendanceInput>,
    /// For a meeting about contexts: the actions it agreed on each (disruption and others).
    #[serde(default)]
    pub context_actions: Vec<crate::domain::exploitation_meeting::MeetingContextAction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub answer: String,
    #[serde(default)]
    pub reason: Option<String>,
}
