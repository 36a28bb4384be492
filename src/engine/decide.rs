//! Deciding an event. The workflow, a snapshot of the case, the command, the time and the
//! calendar go in; a decision to write, or a refusal that lists everything still missing, comes
//! out. Nothing here opens a connection, reads a clock or sends mail: the domain loads the
//! snapshot in its transaction and writes the decision in the same one.
use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::checks::CheckContext;
use super::contract::FactTag;
use super::deadline::due_at;
use super::definition::{DeadlineSpec, Effect, TransferStep, Transition};
use super::facts::validate_facts;
use super::guards::{condition_holds, unmet, GuardContext, Missing};
use super::snapshot::{CaseSnapshot, Owner, StepSnapshot};
use super::{Engine, Workflow};
use crate::error::AppError;
use crate::identity::{role_str, RoleName};
use crate::time::wales::{london_date, london_to_utc};

pub const MIN_RATIONALE: usize = 20;
const MAX_RATIONALE: usize = 10_000;
const MAX_TITLE: usize = 500;

/// An agreed action as a person proposes it, its owner already found by the domain.
#[derive(Debug, Clone)]
pub struct ProposedAction {
    pub title: String,
    pub owner: Owner,
    pub agency: Option<String>,
    /// YYYY-MM-DD; defaults to the action kind's working days, or 5 working days.
    pub due_date: Option<String>,
    pub kind: Option<String>,
}

/// What a person asks of a workflow on a case.
#[derive(Debug, Clone, Copy)]
pub struct Command<'a> {
    pub event: &'a str,
    pub role: RoleName,
    pub rationale: Option<&'a str>,
    pub facts: &'a Map<String, Value>,
    pub agreed_actions: &'a [ProposedAction],
    /// Who owns the actions the workflow creates by itself: the person applying the event, or
    /// whoever leads the case when the service applies it.
    pub default_owner: Option<&'a Owner>,
}

/// An agreed action the decision creates.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub kind: Option<String>,
    pub title: String,
    pub owner: Owner,
    pub agency: Option<String>,
    pub due_date: NaiveDate,
    pub cancellable: bool,
    pub rules: Vec<String>,
    /// Agreed by people with this event (emailed to its owner), rather than made by the workflow.
    pub agreed_by_people: bool,
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub due_at: DateTime<Utc>,
    pub source: String,
}

/// A review of the plan held by this event (if one was due) and the next one scheduled.
#[derive(Debug, Clone)]
pub struct ReviewStep {
    pub kind: String,
    pub held_previous: bool,
    pub number: u32,
    pub due_at: DateTime<Utc>,
    pub source: String,
}

/// Email a decision causes, as data: the domain composes and queues it with the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailIntent {
    /// Each owner of an action agreed by people hears of their own actions.
    AgreedActions,
    /// The lead of the case and their team leads hear that the age-18 track has started.
    Age18TrackStarted,
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub workflow: String,
    pub workflow_version: u32,
    pub event: String,
    pub event_title: crate::i18n::Text,
    pub from_state: String,
    pub to_state: String,
    pub decline: bool,
    pub rationale: Option<String>,
    pub rules: Vec<String>,
    /// The workflow reaches its end; its reviews still due are cancelled.
    pub terminal: bool,
    /// The primary pathway ends: the case closes.
    pub closes_case: bool,
    pub deadline: Option<Deadline>,
    /// The facts given with the event, checked against their declared types.
    pub facts: Map<String, Value>,
    /// The case's lasting facts after this event (per-event facts stay with the event).
    pub facts_after: Map<String, Value>,
    pub actions: Vec<NewAction>,
    pub start_workflows: Vec<String>,
    pub reviews: Vec<ReviewStep>,
    pub emails: Vec<EmailIntent>,
    /// The case moving between Welsh authorities.
    pub transfer: Option<Transfer>,
}

/// What a transfer does to the case's authorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// `to` becomes the authority of residence and is told; both authorities see the case.
    Begins { to: String },
    /// The authority of residence becomes where the child is located: it alone holds the case.
    Completes,
}
#[derive(Debug, Clone)]
pub struct Start {
    pub workflow: String,
    pub workflow_version: u32,
    pub initial: String,
    pub deadline: Option<Deadline>,
    pub actions: Vec<NewAction>,
    pub emails: Vec<EmailIntent>,
}

/// The facts a workflow's guards see: the case's lasting facts (less any per-event fact a case
/// stored before facts were kept per event) with the event's own on top.
fn guard_view(
    wf: &Workflow,
    recorded: &Map<String, Value>,
    sent: &Map<String, Value>,
) -> Map<String, Value> {
    let mut view: Map<String, Value> = recorded
        .iter()
        .filter(|(k, _)| !wf.is_per_event(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in sent {
        view.insert(k.clone(), v.clone());
    }
    view
}

pub fn may_apply(t: &Transition, role: RoleName) -> bool {
    if t.roles.is_empty() {
        matches!(role, RoleName::Chair | RoleName::TeamLead)
    } else {
        t.roles.contains(&role)
    }
}

impl Engine {
    /// Decides `cmd` on the workflow `step` of a case. Every refusal is a 4xx error naming the
    /// field at fault; unmet guards are all listed at once.
    pub fn decide(
        &self,
        case: &CaseSnapshot,
        step: &StepSnapshot,
        cmd: &Command<'_>,
        now: DateTime<Utc>,
    ) -> Result<Decision, AppError> {
        let wf = self
            .registry
            .get(&step.workflow, step.version)
            .ok_or_else(|| {
                AppError::Internal(format!(
                    "workflow {} v{} is not loaded",
                    step.workflow, step.version
                ))
            })?;
        let transition = match wf.transition(&step.state, cmd.event) {
            Some(t) => t,
            None => return Err(not_allowed(&wf, &step.state, cmd.event)),
        };
        if !may_apply(transition, cmd.role) {
            return Err(AppError::Forbidden(format!(
                "a {} cannot apply {:?}",
                role_str(cmd.role).replace('_', " "),
                cmd.event
            )));
        }
        let rationale = check_rationale(transition, cmd.rationale)?;
        let facts = validate_facts(&wf.def.facts, cmd.facts, &self.agencies.current(), now)?;
        let mut actions = self.check_actions(&wf, cmd.agreed_actions, now)?;

        let view = guard_view(&wf, &case.facts, &facts);
        let fields = case.fields();
        let mut kinds = case.action_kinds.clone();
        kinds.extend(actions.iter().filter_map(|a| a.kind.clone()));
        // Guards on agreed actions count those people agreed, not those the service creates.
        let agreed = actions.len();
        // What the facts require whenever they hold, at this step or any other.
        let required = self.plan_effects(
            &wf,
            &wf.def.whenever,
            &view,
            &fields,
            &kinds,
            cmd.default_owner,
            now,
        );
        kinds.extend(required.actions.iter().filter_map(|a| a.kind.clone()));
        actions.extend(required.actions);
        let ctx = GuardContext {
            check: CheckContext {
                workflow: &wf.def,
                facts: &view,
                case,
                agencies: &self.agencies.current(),
                today: london_date(now),
            },
            case_fields: &fields,
            action_kinds: &kinds,
            new_actions: agreed,
        };
        let missing = unmet(&transition.guards, &ctx);
        if !missing.is_empty() {
            return Err(guards_unmet(cmd.event, missing));
        }
        let planned = self.plan_effects(
            &wf,
            &transition.effects,
            &view,
            &fields,
            &kinds,
            cmd.default_owner,
            now,
        );
        actions.extend(planned.actions);

        let target = wf
            .state(&transition.to)
            .ok_or_else(|| AppError::Internal("validated target state missing".into()))?;
        let mut facts_after: Map<String, Value> = case
            .facts
            .iter()
            .filter(|(k, _)| !wf.is_per_event(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in facts.iter().filter(|(k, _)| !wf.is_per_event(k)) {
            facts_after.insert(k.clone(), v.clone());
        }
        let deadline = transition
            .deadline
            .as_ref()
            .or(target.deadline.as_ref())
            .filter(|_| !target.terminal)
            .map(|spec| self.deadline_after(spec, &facts_after, step.entered_at, now));
        let reviews = planned
            .reviews
            .iter()
            .filter_map(|kind| self.review_step(&wf, step, kind, &facts, now))
            .collect();
        let transfer = match planned.transfer {
            None => None,
            Some(TransferStep::Completes) => Some(Transfer::Completes),
            Some(TransferStep::Begins) => {
                let fact = wf
                    .def
                    .fact_tagged(FactTag::ReceivingAuthority)
                    .ok_or_else(|| {
                        AppError::Internal("validated receiving authority fact missing".into())
                    })?;
                let field = format!("facts.{fact}");
                // Sent with the event (a transfer can happen again on a case, so the fact is kept
                // with the event that records it), or recorded before.
                let to = facts
                    .get(fact)
                    .or_else(|| facts_after.get(fact))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        AppError::unprocessable(
                            "receiving_authority_missing",
                            &field,
                            "name the authority the family has moved to",
                        )
                    })?
                    .to_string();
                if to == case.located_authority {
                    return Err(AppError::unprocessable(
                        "same_authority",
                        &field,
                        "the family must be moving to another authority than the one holding the case",
                    ));
                }
                Some(Transfer::Begins { to })
            }
        };
        let mut emails = Vec::new();
        if actions
            .iter()
            .any(|a| a.agreed_by_people && a.owner.email.is_some())
        {
            emails.push(EmailIntent::AgreedActions);
        }
        Ok(Decision {
            workflow: wf.name().to_string(),
            workflow_version: wf.version(),
            event: cmd.event.to_string(),
            event_title: crate::i18n::Text::new(
                &transition.title,
                transition.title_in(crate::i18n::Language::Welsh),
            ),
            from_state: step.state.clone(),
            to_state: transition.to.clone(),
            decline: transition.decline,
            rationale,
            rules: transition.rules.clone(),
            terminal: target.terminal,
            closes_case: wf.def.primary && target.terminal,
            deadline,
            facts,
            facts_after,
            actions,
            start_workflows: planned.start,
            reviews,
            emails,
            transfer,
        })
    }

    /// Starts the newest version of `name` on a case: its first step, that step's deadline and
    /// the actions its start effects create. `existing_kinds` are the action kinds the case
    /// already has (or is being given in the same write).
    pub fn start(
        &self,
        name: &str,
        case: &CaseSnapshot,
        existing_kinds: &BTreeSet<String>,
        default_owner: Option<&Owner>,
        now: DateTime<Utc>,
    ) -> Result<Start, AppError> {
        let wf = self
            .registry
            .latest(name)
            .ok_or_else(|| AppError::Internal(format!("workflow {name} is not loaded")))?;
        let initial = wf
            .state(&wf.def.initial)
            .ok_or_else(|| AppError::Internal("validated initial state missing".into()))?;
        let deadline = initial
            .deadline
            .as_ref()
            .map(|spec| self.deadline(spec, now));
        let view = guard_view(&wf, &case.facts, &Map::new());
        let planned = self.plan_effects(
            &wf,
            &wf.def.start_effects,
            &view,
            &case.fields(),
            existing_kinds,
            default_owner,
            now,
        );
        let emails = if wf.def.role == Some(super::contract::WorkflowRole::Age18Track) {
            vec![EmailIntent::Age18TrackStarted]
        } else {
            Vec::new()
        };
        Ok(Start {
            workflow: wf.name().to_string(),
            workflow_version: wf.version(),
            initial: wf.def.initial.clone(),
            deadline,
            actions: planned.actions,
            emails,
        })
    }

    /// The events each running workflow allows now, with what each still needs from the facts
    /// recorded so far (facts sent with the event itself may meet some of them; per-event facts
    /// always must).
    pub fn allowed(
        &self,
        case: &CaseSnapshot,
        steps: &[StepSnapshot],
        role: RoleName,
        today: NaiveDate,
    ) -> Vec<AllowedEvent> {
        let fields = case.fields();
        let mut out = Vec::new();
        for step in steps {
            let Some(wf) = self.registry.get(&step.workflow, step.version) else {
                continue;
            };
            let view = guard_view(&wf, &case.facts, &Map::new());
            for t in wf.transitions_from(&step.state) {
                let ctx = GuardContext {
                    check: CheckContext {
                        workflow: &wf.def,
                        facts: &view,
                        case,
                        agencies: &self.agencies.current(),
                        today,
                    },
                    case_fields: &fields,
                    action_kinds: &case.action_kinds,
                    new_actions: 0,
                };
                out.push(AllowedEvent {
                    workflow: wf.name().to_string(),
                    event: t.event.clone(),
                    title: t.title.clone(),
                    title_cy: t.title_in(crate::i18n::Language::Welsh).to_string(),
                    to: t.to.clone(),
                    decline: t.decline,
                    rationale_required: t.decline || t.rationale_required,
                    rules: t.rules.clone(),
                    permitted_for_you: may_apply(t, role),
                    still_needed: unmet(&t.guards, &ctx),
                });
            }
        }
        out
    }

    fn deadline(&self, spec: &DeadlineSpec, from: DateTime<Utc>) -> Deadline {
        self.deadline_after(spec, &Map::new(), None, from)
    }

    /// A step's deadline. One counted from a fact counts from the date the case recorded (a
    /// date is taken as midday in Wales), else from when the case entered the step it is
    /// leaving (a conference convened after a strategy meeting that gave no date counts from
    /// the meeting's end, not from the day it is convened); never from a time still to come.
    fn deadline_after(
        &self,
        spec: &DeadlineSpec,
        facts: &Map<String, Value>,
        entered_previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Deadline {
        let from = match &spec.from_fact {
            None => now,
            Some(f) => facts
                .get(f)
                .and_then(Value::as_str)
                .and_then(recorded_time)
                .or(entered_previous)
                .filter(|t| *t <= now)
                .unwrap_or(now),
        };
        Deadline {
            due_at: due_at(spec, from, &self.calendar),
            source: spec.source.clone(),
        }
    }

    /// The next review of `kind`: its kind's first deadline if none was scheduled before, else
    /// its `then`. Counted from the date the event gives (midday in Wales that day), else from
    /// now, never from a date in the future, so a review recorded late does not move the next
    /// one later.
    fn review_step(
        &self,
        wf: &Workflow,
        step: &StepSnapshot,
        kind: &str,
        sent: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Option<ReviewStep> {
        let spec = wf.def.review_kinds.get(kind)?;
        let before = step.reviews_scheduled.get(kind).copied().unwrap_or(0);
        let (deadline, from_fact) = if before == 0 {
            (&spec.first, spec.first_from_fact.as_ref())
        } else {
            (&spec.then, spec.held_on_fact.as_ref())
        };
        let from = from_fact
            .and_then(|f| sent.get(f))
            .and_then(Value::as_str)
            .and_then(recorded_time)
            .filter(|t| *t <= now)
            .unwrap_or(now);
        Some(ReviewStep {
            kind: kind.to_string(),
            held_previous: step.reviews_due.contains(kind),
            number: before + 1,
            due_at: due_at(deadline, from, &self.calendar),
            source: deadline.source.clone(),
        })
    }

    fn check_actions(
        &self,
        wf: &Workflow,
        input: &[ProposedAction],
        now: DateTime<Utc>,
    ) -> Result<Vec<NewAction>, AppError> {
        let today = london_date(now);
        let mut out = Vec::new();
        for (i, a) in input.iter().enumerate() {
            let at = |f: &str| format!("agreed_actions[{i}].{f}");
            let title = a.title.trim();
            // A title reaches emails and calendar-free lists; one line only.
            if title.chars().any(char::is_control) {
                return Err(AppError::bad_request(
                    "line_break",
                    at("title"),
                    "title must be on one line, with no line breaks or tabs",
                ));
            }
            if title.is_empty() || title.chars().count() > MAX_TITLE {
                return Err(AppError::bad_request(
                    "invalid_title",
                    at("title"),
                    format!("title must be 1 to {MAX_TITLE} characters"),
                ));
            }
            if let Some(code) = &a.agency {
                if self.agencies.current().get(code).is_none() {
                    return Err(AppError::unprocessable(
                        "unknown_agency",
                        at("agency"),
                        format!("no agency has the code {code:?}"),
                    ));
                }
            }
            let kind = match &a.kind {
                Some(k) => Some(
                    wf.def
                        .action_kinds
                        .get(k)
                        .map(|spec| (k, spec))
                        .ok_or_else(|| {
                            AppError::bad_request(
                                "unknown_action_kind",
                                at("kind"),
                                format!(
                                    "{k:?} is not an action kind of this workflow; kinds are {}",
                                    wf.def
                                        .action_kinds
                                        .keys()
                                        .cloned()
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            )
                        })?,
                ),
                None => None,
            };
            let due_date = match &a.due_date {
                Some(s) => parse_due_date(s, &at("due_date"), today)?,
                None => self
                    .calendar
                    .add_working_days(today, kind.map(|(_, s)| s.due_working_days).unwrap_or(5)),
            };
            out.push(NewAction {
                kind: kind.map(|(k, _)| k.clone()),
                title: title.to_string(),
                owner: a.owner.clone(),
                agency: a.agency.clone(),
                due_date,
                cancellable: kind.map(|(_, s)| s.cancellable).unwrap_or(true),
                rules: kind.map(|(_, s)| s.rules.clone()).unwrap_or_default(),
                agreed_by_people: true,
            });
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_effects(
        &self,
        wf: &Workflow,
        effects: &[Effect],
        facts: &Map<String, Value>,
        fields: &Map<String, Value>,
        existing_kinds: &BTreeSet<String>,
        default_owner: Option<&Owner>,
        now: DateTime<Utc>,
    ) -> Planned {
        let mut planned = Planned::default();
        for e in effects {
            if let Some(c) = &e.when {
                if !condition_holds(c, facts, fields) {
                    continue;
                }
            }
            if !e.when_any.is_empty()
                && !e.when_any.iter().any(|c| condition_holds(c, facts, fields))
            {
                continue;
            }
            if let Some(kind) = &e.create_action {
                // One action of a kind is enough: a second effect or a chair's own action of
                // that kind already covers it.
                let covered = existing_kinds.contains(kind)
                    || planned
                        .actions
                        .iter()
                        .any(|a| a.kind.as_ref() == Some(kind));
                if let (false, Some(spec)) = (covered, wf.def.action_kinds.get(kind)) {
                    planned.actions.push(NewAction {
                        kind: Some(kind.clone()),
                        title: spec.title.clone(),
                        owner: default_owner.cloned().unwrap_or(Owner {
                            name: spec.owner.clone(),
                            email: None,
                            user_id: None,
                        }),
                        agency: None,
                        due_date: self
                            .calendar
                            .add_working_days(london_date(now), spec.due_working_days),
                        cancellable: spec.cancellable,
                        rules: spec.rules.clone(),
                        agreed_by_people: false,
                    });
                }
            }
            if let Some(w) = &e.start_workflow {
                planned.start.push(w.clone());
            }
            if let Some(r) = &e.review {
                planned.reviews.push(r.clone());
            }
            if let Some(t) = e.transfer {
                planned.transfer = Some(t);
            }
        }
        planned
    }
}

#[derive(Default)]
struct Planned {
    actions: Vec<NewAction>,
    start: Vec<String>,
    reviews: Vec<String>,
    transfer: Option<TransferStep>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AllowedEvent {
    pub workflow: String,
    pub event: String,
    pub title: String,
    pub title_cy: String,
    pub to: String,
    pub decline: bool,
    pub rationale_required: bool,
    pub rules: Vec<String>,
    pub permitted_for_you: bool,
    pub still_needed: Vec<Missing>,
}

/// A due date as typed: `YYYY-MM-DD`, not before today in Wales.
pub fn parse_due_date(raw: &str, field: &str, today: NaiveDate) -> Result<NaiveDate, AppError> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(
            "invalid_date",
            field,
            format!("{field} must be a date as YYYY-MM-DD; got {raw:?}"),
        )
    })?;
    if d < today {
        return Err(AppError::unprocessable(
            "due_date_in_past",
            field,
            format!("{field} {d} is in the past"),
        ));
    }
    Ok(d)
}

/// When a recorded date or time fact says something happened: a date at midday in Wales.
fn recorded_time(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .and_then(|t| london_to_utc(t).ok())
}

fn not_allowed(wf: &Workflow, state: &str, event: &str) -> AppError {
    let allowed: Vec<_> = wf
        .transitions_from(state)
        .map(|t| t.event.as_str())
        .collect();
    let state_title = wf.state(state).map(|s| s.title.as_str()).unwrap_or(state);
    if wf.has_event(event) {
        AppError::unprocessable(
            "event_not_allowed",
            "event",
            format!(
                "{event:?} cannot be applied while the case is at \"{state_title}\"; allowed now: {}",
                if allowed.is_empty() {
                    "nothing (the workflow has finished)".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        )
    } else {
        AppError::bad_request(
            "unknown_event",
            "event",
            format!("workflow {:?} has no event {event:?}", wf.name()),
        )
    }
}

fn check_rationale(t: &Transition, given: Option<&str>) -> Result<Option<String>, AppError> {
    let given = given.map(str::trim).filter(|s| !s.is_empty());
    if let Some(r) = given {
        if r.chars().count() > MAX_RATIONALE {
            return Err(AppError::bad_request(
                "rationale_too_long",
                "rationale",
                format!("rationale is longer than {MAX_RATIONALE} characters"),
            ));
        }
    }
    if t.decline || t.rationale_required {
        match given {
            None => {
                return Err(AppError::unprocessable(
                    "rationale_required",
                    "rationale",
                    format!(
                        "\"{}\" needs a rationale of at least {MIN_RATIONALE} characters saying why{}",
                        t.title,
                        if t.decline { " (it is a decline)" } else { "" }
                    ),
                ))
            }
            Some(r) if r.chars().count() < MIN_RATIONALE => {
                return Err(AppError::unprocessable(
                    "rationale_too_short",
                    "rationale",
                    format!("the rationale must be at least {MIN_RATIONALE} characters, so that it says why"),
                ))
            }
            _ => {}
        }
    }
    Ok(given.map(str::to_string))
}

fn guards_unmet(event: &str, missing: Vec<Missing>) -> AppError {
    let field = match missing.first() {
        Some(m) if m.kind == "fact" => format!("facts.{}", m.name),
        Some(m) if m.kind == "action" || m.kind == "agreed_actions" => "agreed_actions".to_string(),
        _ => "facts".to_string(),
    };
    let list = missing
        .iter()
        .map(|m| format!("{} [{}]", m.message, m.rules.join(", ")))
        .collect::<Vec<_>>();
    AppError::Unprocessable {
        code: "guards_unmet",
        field: Some(field),
        message: format!("{event:?} cannot be applied yet: {}", list.join("; ")),
        details: Some(json!({ "missing": missing })),
    }
}
