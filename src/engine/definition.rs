//! The shape of a workflow file (`workflows/*.toml`), as written by the people who maintain
//! local practice. Validation lives in `validate.rs`; this module only describes.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::contract::{EventTag, FactTag, StateTag, WorkflowRole};
use crate::i18n::Language;
use crate::identity::RoleName;

/// A text of the file in the reader's language. Every text has its Welsh beside it (`…_cy`);
/// `validate` refuses a file without one. Versions stored before workflows were bilingual have
/// none, and show their English.
pub fn in_language<'a>(en: &'a str, cy: Option<&'a str>, lang: Language) -> &'a str {
    match (lang, cy) {
        (Language::Welsh, Some(cy)) if !cy.trim().is_empty() => cy,
        _ => en,
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowFile {
    pub name: String,
    pub version: u32,
    pub title: String,
    pub title_cy: Option<String>,
    pub description: String,
    pub description_cy: Option<String>,
    /// The main pathway every new case starts on. Exactly one loaded workflow name has it.
    #[serde(default)]
    pub primary: bool,
    /// What else the service uses it for (the age-18 track).
    pub role: Option<WorkflowRole>,
    pub initial: String,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub facts: BTreeMap<String, FactSpec>,
    #[serde(default)]
    pub action_kinds: BTreeMap<String, ActionKind>,
    /// Meetings that review a plan (core groups, review conferences): when the first falls due
    /// and how long each later one may be after the one before.
    #[serde(default)]
    pub review_kinds: BTreeMap<String, ReviewKind>,
    /// The kinds of meeting chairs convene on this pathway, and their names in both languages.
    #[serde(default)]
    pub meeting_kinds: BTreeMap<String, MeetingKind>,
    /// Effects applied when the workflow starts on a case.
    #[serde(default)]
    pub start_effects: Vec<Effect>,
    /// Actions created whenever their condition holds after a transition, at whatever step the
    /// fact became true, once each: the ICTA referral (R12) and the Home Office notification
    /// (R21) for a child found to be potentially trafficked. They are planned before the
    /// transition's guards, so a guard that requires such an action is met by it.
    #[serde(default)]
    pub whenever: Vec<Effect>,
    /// Partners' reports through referral links (the primary pathway's).
    #[serde(default)]
    pub referral: Option<ReferralSpec>,
    pub states: Vec<State>,
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Guidance for some children only (see `engine::notes`).
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// What the practice guide says about some children, shown while its condition holds on the
/// case's facts: beside the guidance of the steps it names (every step when none), and, with
/// `meetings`, on the page of each meeting with the child as something to book.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub when: Option<Condition>,
    #[serde(default)]
    pub when_any: Vec<Condition>,
    #[serde(default)]
    pub states: Vec<String>,
    #[serde(default)]
    pub meetings: bool,
    pub text: String,
    pub text_cy: Option<String>,
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FactType {
    Bool,
    Text,
    /// RFC 3339 with an offset; stored in UTC.
    Datetime,
    Date,
    /// One of `options`.
    Choice,
    /// Every one of `options` answered true or false.
    Checklist,
    /// Codes of agencies known to the service.
    AgencyList,
    /// Who attended: `[{name, agency, direct_knowledge}]`.
    Attendance,
    /// The code of one local authority the service knows (the authority a family moves to).
    Authority,
    /// Each disclosure made (R24): what was shared, with which agency or person, on which
    /// lawful basis (one of `options`) and who decided, `[{what, shared_with, lawful_basis,
    /// decided_by}]`. A sentence of free text cannot be counted or checked; this can.
    InformationSharing,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FactSpec {
    #[serde(rename = "type")]
    pub kind: FactType,
    pub label: String,
    pub label_cy: Option<String>,
    #[serde(default)]
    pub options: Vec<String>,
    /// Each option's words, in English and in Welsh.
    #[serde(default)]
    pub option_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub option_labels_cy: BTreeMap<String, String>,
    /// For a yes-or-no question, its Welsh answers in the question's own form (`Oes`/`Nac
    /// oes`, `Ydy`/`Nac ydy`, `Do`/`Naddo`): yes first.
    #[serde(default)]
    pub answers_cy: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    /// A value that belongs to one event, not to the case: a guard on it is met only by the
    /// value sent with the event itself. Facts required by an event that can happen more than
    /// once on a case (a review, a core group) are per event whatever this says.
    #[serde(default)]
    pub per_event: bool,
    #[serde(default)]
    pub tags: Vec<FactTag>,
    /// Whether a partner reporting through a referral link is asked this, on the referral form
    /// (R3): `asked`, or `required` (the form is refused without it).
    #[serde(default)]
    pub reporter: Option<ReporterAsk>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReporterAsk {
    Asked,
    Required,
}

/// Reports from partner agencies through referral links.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSpec {
    /// How soon a practitioner must acknowledge (triage) a partner's report before it is
    /// flagged to the team leads and the reporter told how to escalate.
    pub acknowledge: DeadlineSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingKind {
    pub title: String,
    pub title_cy: String,
    /// Held about contexts (places, peer groups, persons of concern) chosen when it is convened,
    /// for the children linked to them, rather than at a step of one child's pathway.
    #[serde(default)]
    pub about_contexts: bool,
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionKind {
    pub title: String,
    pub title_cy: Option<String>,
    /// Who is expected to own it, in words (for example "police single point of contact").
    pub owner: String,
    pub owner_cy: Option<String>,
    pub due_working_days: u32,
    #[serde(default)]
    pub rules: Vec<String>,
    /// False for steps the procedure says cannot be declined (R12).
    #[serde(default = "yes")]
    pub cancellable: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewKind {
    pub title: String,
    pub title_cy: Option<String>,
    pub first: DeadlineSpec,
    pub then: DeadlineSpec,
    /// A date fact sent with the event that schedules the first review (the plan agreed on):
    /// the first deadline counts from it rather than from when it was recorded.
    pub first_from_fact: Option<String>,
    /// A date fact sent with the event that records a review held: the next deadline counts
    /// from the day it was held, so a review recorded late does not move the next one later.
    pub held_on_fact: Option<String>,
    #[serde(default)]
    pub rules: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub id: String,
    pub title: String,
    pub title_cy: Option<String>,
    pub guidance: String,
    pub guidance_cy: Option<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    pub deadline: Option<DeadlineSpec>,
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub tags: Vec<StateTag>,
    /// The kind of meeting (of `meeting_kinds`) held at this step: a meeting of that kind
    /// convened after the step's deadline is warned about.
    pub meeting_kind: Option<String>,
}

/// Exactly one of the units is set. `source` names the procedure paragraph or says
/// "assumption".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSpec {
    pub working_days: Option<u32>,
    pub hours: Option<u32>,
    pub months: Option<u32>,
    /// Counted from the date or time a lasting fact records (the strategy meeting for a
    /// conference), not from the step: never from the future, and, when the fact was not
    /// recorded, from when the case entered the step the event leaves.
    #[serde(default)]
    pub from_fact: Option<String>,
    pub source: String,
    pub source_cy: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub event: String,
    pub title: String,
    pub title_cy: Option<String>,
    pub from: Vec<String>,
    pub to: String,
    /// A decline ("no further action", "no strategy meeting", "no plan") always needs a rationale.
    #[serde(default)]
    pub decline: bool,
    #[serde(default)]
    pub rationale_required: bool,
    #[serde(default)]
    pub rules: Vec<String>,
    /// Roles that may apply the event; empty means chair and team lead.
    #[serde(default)]
    pub roles: Vec<RoleName>,
    #[serde(default)]
    pub guards: Vec<Guard>,
    #[serde(default)]
    pub effects: Vec<Effect>,
    /// Facts the event's form asks for although no guard needs them: a fact that may become
    /// true at this step, such as a child found to be potentially trafficked.
    #[serde(default)]
    pub asks: Vec<String>,
    /// Replaces the target state's own deadline (a review cycle after the first review).
    pub deadline: Option<DeadlineSpec>,
    #[serde(default)]
    pub tags: Vec<EventTag>,
}

/// Something that must be true before a transition. Exactly one `requires*`/`check`/
/// `min_agreed_actions` is set; `when`/`when_any` make it conditional.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    pub when: Option<Condition>,
    #[serde(default)]
    pub when_any: Vec<Condition>,
    /// The fact has been recorded (any value).
    pub requires: Option<String>,
    /// The fact has been recorded as `true`.
    pub requires_true: Option<String>,
    /// An agreed action of this kind exists on the case or is recorded with this event.
    pub requires_action: Option<String>,
    /// At least this many agreed actions are recorded with this event.
    pub min_agreed_actions: Option<u32>,
    /// A named check implemented in `engine::checks`.
    pub check: Option<String>,
    pub message: String,
    pub message_cy: Option<String>,
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A test on a recorded fact or on the case itself. Exactly one of `fact`/`case`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub fact: Option<String>,
    /// One of `looked_after`, `in_secure_estate`, `existing_plan`, `authorities_differ`.
    pub case: Option<String>,
    pub equals: Option<Value>,
    pub not_equals: Option<Value>,
    /// A checklist option answered true, or a list or text containing the value.
    pub contains: Option<String>,
    /// Any checklist option answered true (or a list with any element).
    #[serde(default)]
    pub any: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    pub when: Option<Condition>,
    /// Applies when any of these holds.
    #[serde(default)]
    pub when_any: Vec<Condition>,
    /// Creates an agreed action of this kind (declared under `action_kinds`).
    pub create_action: Option<String>,
    /// Starts another workflow on the case, if not already running.
    pub start_workflow: Option<String>,
    /// Marks the due review of this kind (declared under `review_kinds`) held, and schedules
    /// the next: the kind's `first` deadline if none was held before, else its `then`.
    pub review: Option<String>,
    /// A family moving to another Welsh authority (WSP c4 p9): the transfer begins or completes.
    pub transfer: Option<TransferStep>,
}

/// The two moments of a transfer between Welsh authorities.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TransferStep {
    /// The receiving authority (the fact tagged `receiving_authority`) is told, and becomes the
    /// authority of residence: both it and the authority holding the case see the case.
    Begins,
    /// The receiving authority holds the case (it is where the child is located too); the one
    /// that held it no longer sees it.
    Completes,
}

pub const CASE_FIELDS: &[&str] = &[
    "looked_after",
    "in_secure_estate",
    "existing_plan",
    "authorities_differ",
];

impl WorkflowFile {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }

    pub fn description_in(&self, lang: Language) -> &str {
        in_language(&self.description, self.description_cy.as_deref(), lang)
    }
}

impl FactSpec {
    pub fn label_in(&self, lang: Language) -> &str {
        in_language(&self.label, self.label_cy.as_deref(), lang)
    }

    /// An option's words; the code itself for a version without them.
    pub fn option_in<'a>(&'a self, option: &'a str, lang: Language) -> &'a str {
        let en = self
            .option_labels
            .get(option)
            .map(String::as_str)
            .unwrap_or(option);
        in_language(
            en,
            self.option_labels_cy.get(option).map(String::as_str),
            lang,
        )
    }

    /// The answer to a yes-or-no question, in the question's form.
    pub fn answer_in(&self, yes: bool, lang: Language) -> &str {
        let en = if yes { "Yes" } else { "No" };
        let cy = self
            .answers_cy
            .get(if yes { 0 } else { 1 })
            .map(String::as_str);
        in_language(en, cy.or(Some(if yes { "Ie" } else { "Na" })), lang)
    }
}

impl ActionKind {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }

    pub fn owner_in(&self, lang: Language) -> &str {
        in_language(&self.owner, self.owner_cy.as_deref(), lang)
    }
}

impl ReviewKind {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }
}

impl MeetingKind {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, Some(&self.title_cy), lang)
    }
}

impl State {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }

    pub fn guidance_in(&self, lang: Language) -> &str {
        in_language(&self.guidance, self.guidance_cy.as_deref(), lang)
    }
}

impl DeadlineSpec {
    pub fn source_in(&self, lang: Language) -> &str {
        in_language(&self.source, self.source_cy.as_deref(), lang)
    }
}

impl Transition {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }
}

impl Note {
    pub fn text_in(&self, lang: Language) -> &str {
        in_language(&self.text, self.text_cy.as_deref(), lang)
    }
}

impl Guard {
    pub fn message_in(&self, lang: Language) -> &str {
        in_language(&self.message, self.message_cy.as_deref(), lang)
    }
}
