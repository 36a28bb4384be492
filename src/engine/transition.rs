//! Applying an event to a case. Everything happens in one transaction: the version check, the
//! guards, the new state, the deadline, the actions the event creates and the audit entry.
//! Either all of it is stored or none of it.
use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::checks::CheckContext;
use super::deadline::due_at;
use super::definition::{Effect, Transition};
use super::facts::validate_facts;
use super::guards::{condition_holds, unmet, GuardContext, Missing};
use super::{Engine, Workflow};
use crate::domain::audit::{self, AuditEntry};
use crate::error::AppError;
use crate::identity::RoleName;
use crate::identity::{role_str, Actor};
use crate::storage::models::{AgreedActionRow, CaseRow, CaseWorkflowRow, StepHistoryRow};
use crate::storage::schema::{agreed_actions, case_workflows, cases, meeting_cases, step_history};
use crate::storage::{write_transaction, DbConn};
use crate::time::wales::london_date;

pub const MIN_RATIONALE: usize = 20;
const MAX_RATIONALE: usize = 10_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    pub event: String,
    /// Which of the case's workflows; the primary pathway when absent.
    pub workflow: Option<String>,
    /// The case version the client last saw; a newer version on the server means 409.
    pub expected_version: i64,
    pub rationale: Option<String>,
    #[serde(default)]
    pub facts: Map<String, Value>,
    #[serde(default)]
    pub agreed_actions: Vec<AgreedActionInput>,
    /// The meeting at which this was decided; its agreed actions are linked to it.
    #[serde(default)]
    pub meeting_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgreedActionInput {
    pub title: String,
    /// Defaults to the user's name when `owner_user_id` is given.
    #[serde(default)]
    pub owner_name: String,
    /// An owner outside the service is reached by email; one of this or `owner_user_id`.
    pub owner_email: Option<String>,
    /// A user of the service who owns it; their team lead hears if it slips.
    pub owner_user_id: Option<String>,
    pub agency: Option<String>,
    /// YYYY-MM-DD; defaults to the action kind's working days, or 5 working days.
    pub due_date: Option<String>,
    /// An action kind the workflow declares (for example `icta_referral`).
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransitionOutcome {
    pub case_id: String,
    pub reference: String,
    pub version: i64,
    pub workflow: String,
    pub event: String,
    pub from_state: String,
    pub to_state: String,
    pub deadline: Option<DateTime<Utc>>,
    pub actions_created: Vec<String>,
    pub workflows_started: Vec<String>,
    pub audit_seq: i64,
}

/// The case attributes a workflow condition may test.
pub fn case_fields(case: &CaseRow) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("looked_after".into(), Value::Bool(case.looked_after));
    m.insert(
        "in_secure_estate".into(),
        Value::Bool(case.in_secure_estate),
    );
    m.insert(
        "existing_plan".into(),
        Value::String(case.existing_plan.clone()),
    );
    m.insert(
        "authorities_differ".into(),
        Value::Bool(case.located_authority != case.residence_authority),
    );
    m
}

pub fn case_facts(case: &CaseRow) -> Map<String, Value> {
    match serde_json::from_str::<Value>(&case.facts) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub fn may_apply(t: &Transition, role: RoleName) -> bool {
    if t.roles.is_empty() {
        matches!(role, RoleName::Chair | RoleName::TeamLead)
    } else {
        t.roles.contains(&role)
    }
}

/// How a transition's writes reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// Separate statements inside the caller's transaction.
    Statements,
    /// One PostgreSQL statement, when the transition allows it.
    OneStatement,
}

/// What effects' conditions are tested against.
struct Known<'a> {
    facts: &'a Map<String, Value>,
    fields: &'a Map<String, Value>,
    /// Action kinds already on the case (or recorded with this event).
    kinds: &'a BTreeSet<String>,
}

/// Changes to the case that the caller writes: the transition's and its effects'.
struct Planned {
    actions: Vec<AgreedActionRow>,
    start: Vec<String>,
    /// Review kinds to mark held and schedule again.
    reviews: Vec<String>,
}

impl Engine {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        london_date(self.now())
    }

    fn validate_actions(
        &self,
        conn: &mut DbConn,
        wf: &Workflow,
        case_id: &str,
        input: &[AgreedActionInput],
        now: DateTime<Utc>,
    ) -> Result<Vec<AgreedActionRow>, AppError> {
        let today = london_date(now);
        let mut rows = Vec::new();
        for (i, a) in input.iter().enumerate() {
            let at = |f: &str| format!("agreed_actions[{i}].{f}");
            let title = a.title.trim();
            if title.is_empty() || title.chars().count() > 500 {
                return Err(AppError::bad_request(
                    "invalid_title",
                    at("title"),
                    "title must be 1 to 500 characters",
                ));
            }
            let owner = crate::domain::agreed_action::resolve_owner(
                conn,
                &a.owner_name,
                a.owner_email.as_deref(),
                a.owner_user_id.as_deref(),
                &at,
            )?;
            if let Some(code) = &a.agency {
                if self.agencies.get(code).is_none() {
                    return Err(AppError::unprocessable(
                        "unknown_agency",
                        at("agency"),
                        format!("no agency has the code {code:?}"),
                    ));
                }
            }
            let kind =
                match &a.kind {
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
                            wf.def.action_kinds.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                                )
                            })?,
                    ),
                    None => None,
                };
            let due = match &a.due_date {
                Some(s) => crate::domain::agreed_action::parse_due_date(s, &at("due_date"), today)?,
                None => self
                    .calendar
                    .add_working_days(today, kind.map(|(_, s)| s.due_working_days).unwrap_or(5)),
            };
            rows.push(AgreedActionRow {
                id: uuid::Uuid::new_v4().to_string(),
                case_id: case_id.to_string(),
                meeting_id: None,
                kind: kind.map(|(k, _)| k.clone()),
                title: title.to_string(),
                owner_name: owner.name,
                owner_email: Some(owner.email),
                owner_user_id: owner.user_id,
                agency_code: a.agency.clone(),
                due_date: due,
                status: "open".into(),
                cancellable: kind.map(|(_, s)| s.cancellable).unwrap_or(true),
                rules: kind.map(|(_, s)| s.rules.join(",")).unwrap_or_default(),
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
                created_by: None,
                reminder_sent_at: None,
                overdue_notice_at: None,
                escalated_at: None,
            });
        }
        Ok(rows)
    }

    fn plan_effects(
        &self,
        wf: &Workflow,
        effects: &[Effect],
        case_id: &str,
        known: Known<'_>,
        now: DateTime<Utc>,
    ) -> Planned {
        let Known {
            facts,
            fields,
            kinds: existing_kinds,
        } = known;
        let mut planned = Planned {
            actions: Vec::new(),
            start: Vec::new(),
            reviews: Vec::new(),
        };
        for e in effects {
            if let Some(c) = &e.when {
                if !condition_holds(c, facts, fields) {
                    continue;
                }
            }
            if let Some(kind) = &e.create_action {
                // One open action of a kind is enough: a second effect or a chair's own
                // action of that kind already covers it.
                if existing_kinds.contains(kind)
                    || planned
                        .actions
                        .iter()
                        .any(|a| a.kind.as_ref() == Some(kind))
                {
                    continue;
                }
                if let Some(spec) = wf.def.action_kinds.get(kind) {
                    planned.actions.push(AgreedActionRow {
                        id: uuid::Uuid::new_v4().to_string(),
                        case_id: case_id.to_string(),
                        meeting_id: None,
                        kind: Some(kind.clone()),
                        title: spec.title.clone(),
                        owner_name: spec.owner.clone(),
                        owner_email: None,
                        owner_user_id: None,
                        agency_code: None,
                        due_date: self
                            .calendar
                            .add_working_days(london_date(now), spec.due_working_days),
                        status: "open".into(),
                        cancellable: spec.cancellable,
                        rules: spec.rules.join(","),
                        created_at: now.naive_utc(),
                        updated_at: now.naive_utc(),
                        created_by: None,
                        reminder_sent_at: None,
                        overdue_notice_at: None,
                        escalated_at: None,
                    });
                }
            }
            if let Some(w) = &e.start_workflow {
                planned.start.push(w.clone());
            }
            if let Some(r) = &e.review {
                planned.reviews.push(r.clone());
            }
        }
        planned
    }

    fn action_kinds_on_case(
        &self,
        conn: &mut DbConn,
        case_id: &str,
    ) -> Result<BTreeSet<String>, AppError> {
        let kinds: Vec<Option<String>> = agreed_actions::table
            .filter(agreed_actions::case_id.eq(case_id))
            .filter(agreed_actions::status.ne("cancelled"))
            .filter(agreed_actions::kind.is_not_null())
            .select(agreed_actions::kind)
            .load(conn)?;
        Ok(kinds.into_iter().flatten().collect())
    }

    /// Applies `req` to the case in one transaction.
    pub fn apply_event(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        case_id: &str,
        req: &EventRequest,
    ) -> Result<TransitionOutcome, AppError> {
        if matches!(conn, DbConn::Postgres(_)) {
            // Each statement is a network round trip on PostgreSQL. A transition that only
            // moves the case (no actions, emails or other workflows) is written as one
            // statement, which is its own transaction; the version check inside it refuses the
            // write if the case changed after it was read.
            if let Some(outcome) =
                self.apply_event_in(conn, actor, case_id, req, Writes::OneStatement)?
            {
                return Ok(outcome);
            }
        }
        write_transaction(conn, |conn| {
            self.apply_event_in(conn, actor, case_id, req, Writes::Statements)?
                .ok_or_else(|| AppError::Internal("transition was not written".into()))
        })
    }

    /// Applies `req` inside a transaction the caller holds, so that several transitions and
    /// other writes (the handover at 18) commit or fail together.
    pub fn apply_event_within(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        case_id: &str,
        req: &EventRequest,
    ) -> Result<TransitionOutcome, AppError> {
        self.apply_event_in(conn, actor, case_id, req, Writes::Statements)?
            .ok_or_else(|| AppError::Internal("transition was not written".into()))
    }

    /// Who owns the actions a workflow creates by itself: the person applying the event, or,
    /// when the service applies it, whoever leads the case.
    fn default_owner(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        case: &CaseRow,
    ) -> Result<Option<(String, String)>, AppError> {
        use crate::storage::schema::users;
        let id = if actor.role == RoleName::System {
            crate::domain::case::lead_user(conn, case)?
        } else {
            actor.id.clone()
        };
        // The owner's address too, so that reminders reach them like any other owner.
        let email: Option<String> = users::table
            .find(&id)
            .select(users::email)
            .get_result(conn)
            .optional()?;
        Ok(email.map(|e| (id, e)))
    }

    /// Validates and writes one transition. With `Writes::OneStatement`, answers `Ok(None)`
    /// without writing anything when the transition needs more than the single statement.
    fn apply_event_in(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        case_id: &str,
        req: &EventRequest,
        writes: Writes,
    ) -> Result<Option<TransitionOutcome>, AppError> {
        let now = self.now();
        let wf_name = req
            .workflow
            .clone()
            .unwrap_or_else(|| self.registry.primary().name().to_string());
        // The case and the workflow row in one statement, so both come from one snapshot.
        // `get_result`, not `first`: on SQLite a bound LIMIT makes every run re-prepare.
        let found: Option<(CaseRow, Option<CaseWorkflowRow>)> = cases::table
            .left_join(
                case_workflows::table.on(case_workflows::case_id
                    .eq(cases::id)
                    .and(case_workflows::workflow.eq(&wf_name))),
            )
            .filter(cases::id.eq(case_id))
            .select((CaseRow::as_select(), Option::<CaseWorkflowRow>::as_select()))
            .get_result(conn)
            .optional()?;
        let (case, running) = found.ok_or(AppError::NotFound("case"))?;
        if case.version != req.expected_version {
            return Err(stale(req.expected_version, case.version));
        }
        let running = running.ok_or_else(|| {
            AppError::unprocessable(
                "workflow_not_running",
                "workflow",
                format!("workflow {wf_name:?} is not running on this case"),
            )
        })?;
        let wf = self
            .registry
            .get(&running.workflow, running.workflow_version as u32)
            .ok_or_else(|| {
                AppError::Internal(format!(
                    "workflow {} v{} is not loaded",
                    running.workflow, running.workflow_version
                ))
            })?;
        let transition = match wf.transition(&running.state, &req.event) {
            Some(t) => t,
            None => return Err(not_allowed(&wf, &running.state, &req.event)),
        };
        if !may_apply(transition, actor.role) {
            return Err(AppError::Forbidden(format!(
                "a {} cannot apply {:?}",
                role_str(actor.role).replace('_', " "),
                req.event
            )));
        }
        let rationale = check_rationale(transition, req.rationale.as_deref())?;
        let new_facts = validate_facts(&wf.def.facts, &req.facts, &self.agencies, now)?;
        let mut recorded_actions =
            self.validate_actions(conn, &wf, case_id, &req.agreed_actions, now)?;
        if let Some(meeting_id) = &req.meeting_id {
            let linked: i64 = meeting_cases::table
                .filter(meeting_cases::meeting_id.eq(meeting_id))
                .filter(meeting_cases::case_id.eq(case_id))
                .count()
                .get_result(conn)?;
            if linked == 0 {
                return Err(AppError::unprocessable(
                    "unknown_meeting",
                    "meeting_id",
                    "no meeting with that id concerns this case",
                ));
            }
            for a in &mut recorded_actions {
                a.meeting_id = Some(meeting_id.clone());
            }
        }
        let from_people = recorded_actions.len();
        for (i, a) in recorded_actions.iter().enumerate() {
            if a.owner_email.is_some()
                && crate::domain::child::names_child(&a.title, &case.child_name)
            {
                return Err(AppError::unprocessable(
                    "child_named",
                    format!("agreed_actions[{i}].title"),
                    "this action is emailed to its owner, and its title contains the child's name; use the case reference",
                ));
            }
            if crate::domain::child::names_child(&a.owner_name, &case.child_name) {
                return Err(AppError::unprocessable(
                    "child_named",
                    format!("agreed_actions[{i}].owner_name"),
                    "the owner's name goes into emails, and it contains the child's name",
                ));
            }
        }

        let mut merged = case_facts(&case);
        for (k, v) in &new_facts {
            merged.insert(k.clone(), v.clone());
        }
        let fields = case_fields(&case);
        let needs_kinds = transition
            .guards
            .iter()
            .any(|g| g.requires_action.is_some())
            || transition.effects.iter().any(|e| e.create_action.is_some());
        let mut kinds = if needs_kinds {
            self.action_kinds_on_case(conn, case_id)?
        } else {
            BTreeSet::new()
        };
        kinds.extend(recorded_actions.iter().filter_map(|a| a.kind.clone()));
        let ctx = GuardContext {
            check: CheckContext {
                facts: &merged,
                case: &case,
                agencies: &self.agencies,
                today: london_date(now),
            },
            case_fields: &fields,
            action_kinds: &kinds,
            new_actions: recorded_actions.len(),
        };
        let missing = unmet(&transition.guards, &ctx);
        if !missing.is_empty() {
            return Err(guards_unmet(&req.event, missing));
        }
        let mut planned = self.plan_effects(
            &wf,
            &transition.effects,
            case_id,
            Known {
                facts: &merged,
                fields: &fields,
                kinds: &kinds,
            },
            now,
        );

        // Writes. Every one of them is undone if a later one fails, and the last one, the
        // case's version check, fails if anyone else changed the case since it was read.
        let naive_now = now.naive_utc();
        let target = wf
            .state(&transition.to)
            .ok_or_else(|| AppError::Internal("validated target state missing".into()))?;
        let deadline = transition
            .deadline
            .as_ref()
            .or(target.deadline.as_ref())
            .filter(|_| !target.terminal)
            .map(|spec| (due_at(spec, now, &self.calendar), spec.source.clone()));
        // The audit entry of this transition, whichever way it is written.
        let entry_for = |payload: Value| AuditEntry {
            actor_id: actor.id.clone(),
            kind: "transition",
            workflow: Some(wf.name().to_string()),
            event: Some(req.event.clone()),
            from_state: Some(running.state.clone()),
            to_state: Some(transition.to.clone()),
            decline: transition.decline,
            rationale: rationale.clone(),
            payload,
        };
        if writes == Writes::OneStatement {
            if !(recorded_actions.is_empty()
                && planned.actions.is_empty()
                && planned.start.is_empty()
                && planned.reviews.is_empty()
                && !target.terminal)
            {
                return Ok(None);
            }
            let DbConn::Postgres(pg) = conn else {
                return Ok(None);
            };
            let payload = json!({
                "workflow_version": running.workflow_version,
                "facts": new_facts,
                "agreed_actions": Vec::<Value>::new(),
                "deadline": deadline.as_ref().map(|(d, s)| json!({"due_at": d.to_rfc3339(), "source": s})),
                "rules": transition.rules,
            });
            let audit_row = audit::next_row(
                case_id,
                case.audit_seq,
                &case.audit_head,
                naive_now,
                entry_for(payload),
            );
            let primary_finished = wf.def.primary && target.terminal;
            let written = super::one_statement::write(
                pg,
                &super::one_statement::TransitionWrite {
                    case: &case,
                    facts: Value::Object(merged).to_string(),
                    status: if primary_finished {
                        "closed"
                    } else {
                        case.status.as_str()
                    },
                    running: &running,
                    event: &req.event,
                    to_state: &transition.to,
                    due: deadline.as_ref().map(|(d, s)| (d.naive_utc(), s.as_str())),
                    finished: target.terminal.then_some(naive_now),
                    audit: &audit_row,
                    now: naive_now,
                },
            )?;
            if !written {
                return Err(stale(req.expected_version, req.expected_version + 1));
            }
            return Ok(Some(TransitionOutcome {
                case_id: case_id.to_string(),
                reference: case.reference.clone(),
                version: case.version + 1,
                workflow: wf.name().to_string(),
                event: req.event.clone(),
                from_state: running.state.clone(),
                to_state: transition.to.clone(),
                deadline: deadline.map(|(d, _)| d),
                actions_created: Vec::new(),
                workflows_started: Vec::new(),
                audit_seq: audit_row.seq,
            }));
        }
        diesel::insert_into(step_history::table)
            .values(StepHistoryRow {
                id: uuid::Uuid::new_v4().to_string(),
                case_id: case_id.to_string(),
                case_workflow_id: running.id.clone(),
                workflow: running.workflow.clone(),
                state: running.state.clone(),
                entered_at: running.entered_at,
                due_at: running.due_at,
                due_source: running.due_source.clone(),
                left_at: naive_now,
                left_by_event: req.event.clone(),
            })
            .execute(conn)?;
        diesel::update(case_workflows::table.find(&running.id))
            .set((
                case_workflows::state.eq(&transition.to),
                case_workflows::entered_at.eq(naive_now),
                case_workflows::due_at.eq(deadline.as_ref().map(|(d, _)| d.naive_utc())),
                case_workflows::due_source.eq(deadline.as_ref().map(|(_, s)| s.as_str())),
                case_workflows::finished_at.eq(target.terminal.then_some(naive_now)),
            ))
            .execute(conn)?;
        if target.terminal {
            crate::domain::review::cancel_due(conn, &running.id)?;
        }
        let mut reviews = Vec::new();
        for kind in &planned.reviews {
            reviews.push(crate::domain::review::hold_and_schedule(
                conn,
                &wf,
                &running,
                kind,
                &new_facts,
                now,
                &self.calendar,
            )?);
        }
        let owner = self.default_owner(conn, actor, &case)?;
        for a in recorded_actions.iter_mut() {
            a.created_by = Some(actor.id.clone());
        }
        for a in planned.actions.iter_mut() {
            a.created_by = Some(actor.id.clone());
            a.owner_user_id = owner.as_ref().map(|(id, _)| id.clone());
            a.owner_email = owner.as_ref().map(|(_, email)| email.clone());
        }
        if let Some(mailer) = &self.mailer {
            // The owners' emails go in the same transaction as the actions themselves.
            crate::domain::action::queue_owner_emails(
                mailer,
                conn,
                &case,
                &transition.title,
                &recorded_actions[..from_people],
                now,
            )?;
        }
        recorded_actions.extend(planned.actions);
        for a in &recorded_actions {
            diesel::insert_into(agreed_actions::table)
                .values(a)
                .execute(conn)?;
        }
        let payload = json!({
            "workflow_version": running.workflow_version,
            "facts": new_facts,
            "agreed_actions": recorded_actions.iter().map(|a| json!({
                "id": a.id, "kind": a.kind, "title": a.title, "owner_name": a.owner_name,
                "agency": a.agency_code, "due_date": a.due_date.to_string(),
            })).collect::<Vec<_>>(),
            "deadline": deadline.as_ref().map(|(d, s)| json!({"due_at": d.to_rfc3339(), "source": s})),
            "reviews": reviews,
            "rules": transition.rules,
        });
        let row = audit::append(
            conn,
            case_id,
            case.audit_seq,
            &case.audit_head,
            naive_now,
            entry_for(payload),
        )
        .map_err(|e| conflict_if_duplicate(e, req.expected_version))?;
        let (mut seq, mut head) = (row.seq, row.hash);
        let mut started = Vec::new();
        for name in &planned.start {
            if let Some((s, h)) =
                self.start_workflow_in(conn, &case, name, actor, now, seq, &head)?
            {
                seq = s;
                head = h;
                started.push(name.clone());
            }
        }
        let primary_finished = wf.def.primary && target.terminal;
        let new_version = case.version + 1;
        let updated = diesel::update(
            cases::table
                .filter(cases::id.eq(case_id))
                .filter(cases::version.eq(case.version)),
        )
        .set((
            cases::facts.eq(Value::Object(merged).to_string()),
            cases::version.eq(new_version),
            cases::audit_seq.eq(seq),
            cases::audit_head.eq(&head),
            cases::updated_at.eq(naive_now),
            cases::status.eq(if primary_finished {
                "closed"
            } else {
                case.status.as_str()
            }),
        ))
        .execute(conn)?;
        if updated != 1 {
            // Another writer committed between our read and this update (PostgreSQL read
            // committed); everything above is rolled back.
            return Err(stale(req.expected_version, new_version));
        }
        Ok(Some(TransitionOutcome {
            case_id: case_id.to_string(),
            reference: case.reference.clone(),
            version: new_version,
            workflow: wf.name().to_string(),
            event: req.event.clone(),
            from_state: running.state.clone(),
            to_state: transition.to.clone(),
            deadline: deadline.map(|(d, _)| d),
            actions_created: recorded_actions.into_iter().map(|a| a.id).collect(),
            workflows_started: started,
            audit_seq: seq,
        }))
    }

    /// Starts `name` on the case unless it is already running or has run. Writes its initial
    /// state, deadline, start effects and an audit entry; returns the new audit (seq, head),
    /// which the caller stores on the case row.
    #[allow(clippy::too_many_arguments)]
    pub fn start_workflow_in(
        &self,
        conn: &mut DbConn,
        case: &CaseRow,
        name: &str,
        actor: &Actor,
        now: DateTime<Utc>,
        audit_seq: i64,
        audit_head: &str,
    ) -> Result<Option<(i64, String)>, AppError> {
        let already: i64 = case_workflows::table
            .filter(case_workflows::case_id.eq(&case.id))
            .filter(case_workflows::workflow.eq(name))
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Ok(None);
        }
        let wf = self
            .registry
            .latest(name)
            .ok_or_else(|| AppError::Internal(format!("workflow {name} is not loaded")))?;
        let naive_now = now.naive_utc();
        let initial = wf
            .state(&wf.def.initial)
            .ok_or_else(|| AppError::Internal("validated initial state missing".into()))?;
        let deadline = initial
            .deadline
            .as_ref()
            .map(|spec| (due_at(spec, now, &self.calendar), spec.source.clone()));
        diesel::insert_into(case_workflows::table)
            .values(CaseWorkflowRow {
                id: uuid::Uuid::new_v4().to_string(),
                case_id: case.id.clone(),
                workflow: name.to_string(),
                workflow_version: wf.version() as i32,
                state: wf.def.initial.clone(),
                entered_at: naive_now,
                due_at: deadline.as_ref().map(|(d, _)| d.naive_utc()),
                due_source: deadline.as_ref().map(|(_, s)| s.clone()),
                started_at: naive_now,
                finished_at: None,
            })
            .execute(conn)?;
        let facts = case_facts(case);
        let existing = if wf
            .def
            .start_effects
            .iter()
            .any(|e| e.create_action.is_some())
        {
            self.action_kinds_on_case(conn, &case.id)?
        } else {
            BTreeSet::new()
        };
        let mut planned = self.plan_effects(
            &wf,
            &wf.def.start_effects,
            &case.id,
            Known {
                facts: &facts,
                fields: &case_fields(case),
                kinds: &existing,
            },
            now,
        );
        let owner = self.default_owner(conn, actor, case)?;
        for a in planned.actions.iter_mut() {
            a.created_by = Some(actor.id.clone());
            a.owner_user_id = owner.as_ref().map(|(id, _)| id.clone());
            a.owner_email = owner.as_ref().map(|(_, email)| email.clone());
        }
        for a in &planned.actions {
            diesel::insert_into(agreed_actions::table)
                .values(a)
                .execute(conn)?;
        }
        let row = audit::append(
            conn,
            &case.id,
            audit_seq,
            audit_head,
            naive_now,
            AuditEntry {
                actor_id: actor.id.clone(),
                kind: "workflow_started",
                workflow: Some(name.to_string()),
                to_state: Some(wf.def.initial.clone()),
                payload: json!({
                    "workflow_version": wf.version(),
                    "agreed_actions": planned.actions.iter().map(|a| json!({"id": a.id, "kind": a.kind, "title": a.title})).collect::<Vec<_>>(),
                    "deadline": deadline.as_ref().map(|(d, s)| json!({"due_at": d.to_rfc3339(), "source": s})),
                }),
                ..AuditEntry::default()
            },
        )?;
        Ok(Some((row.seq, row.hash)))
    }

    /// The events each running workflow allows now, with what each still needs from the facts
    /// recorded so far (facts sent with the event itself may satisfy some of them).
    pub fn allowed_events(
        &self,
        conn: &mut DbConn,
        case: &CaseRow,
        role: RoleName,
    ) -> Result<Vec<AllowedEvent>, AppError> {
        let running: Vec<CaseWorkflowRow> = case_workflows::table
            .filter(case_workflows::case_id.eq(&case.id))
            .filter(case_workflows::finished_at.is_null())
            .select(CaseWorkflowRow::as_select())
            .load(conn)?;
        let facts = case_facts(case);
        let fields = case_fields(case);
        let kinds = self.action_kinds_on_case(conn, &case.id)?;
        let mut out = Vec::new();
        for cw in running {
            let Some(wf) = self.registry.get(&cw.workflow, cw.workflow_version as u32) else {
                continue;
            };
            for t in wf.transitions_from(&cw.state) {
                let ctx = GuardContext {
                    check: CheckContext {
                        facts: &facts,
                        case,
                        agencies: &self.agencies,
                        today: self.today(),
                    },
                    case_fields: &fields,
                    action_kinds: &kinds,
                    new_actions: 0,
                };
                out.push(AllowedEvent {
                    workflow: wf.name().to_string(),
                    event: t.event.clone(),
                    title: t.title.clone(),
                    to: t.to.clone(),
                    decline: t.decline,
                    rationale_required: t.decline || t.rationale_required,
                    rules: t.rules.clone(),
                    permitted_for_you: may_apply(t, role),
                    still_needed: unmet(&t.guards, &ctx),
                });
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Serialize)]
pub struct AllowedEvent {
    pub workflow: String,
    pub event: String,
    pub title: String,
    pub to: String,
    pub decline: bool,
    pub rationale_required: bool,
    pub rules: Vec<String>,
    pub permitted_for_you: bool,
    pub still_needed: Vec<Missing>,
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

/// Two writers appending the same audit sequence number: the later one lost the race.
fn conflict_if_duplicate(e: AppError, seen: i64) -> AppError {
    match e {
        AppError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => stale(seen, seen + 1),
        other => other,
    }
}

fn stale(seen: i64, now: i64) -> AppError {
    AppError::Conflict {
        code: "stale_version",
        message: format!(
            "the case has changed since you read it (you saw version {seen}, it is now {now}); reload it and try again"
        ),
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
