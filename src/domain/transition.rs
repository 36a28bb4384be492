//! Applying an event to a case: the unit of work around the engine's decision. It takes the
//! case's write lock, reads the snapshot the engine decides on, and writes the decision (the new
//! step and its deadline, the step left, reviews, actions, their owners' emails, the workflows
//! it starts, the audit entry and the case's new version) in the same transaction.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::audit::{self, AuditEntry};
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::engine::contract::StateTag;
use crate::engine::decide::EmailIntent;
use crate::engine::Command;
use crate::engine::Transfer;
use crate::engine::{
    CaseSnapshot, Decision, NewAction, Owner, ProposedAction, Start, StepSnapshot,
};
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::crash::crash_point;
use crate::storage::models::{
    AgreedActionRow, CaseRow, CaseWorkflowRow, PlanReviewRow, StepHistoryRow,
};
use crate::storage::schema::{
    agreed_actions, case_workflows, cases, meeting_cases, plan_reviews, step_history,
};
use crate::storage::{lock_cases, DbConn};

pub use crate::engine::decide::MIN_RATIONALE;

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
    /// Given when an action owner's address is not at their agency's email domains.
    #[serde(default)]
    pub confirm_addresses_rationale: Option<String>,
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

/// The lasting facts recorded on a case.
pub fn case_facts(case: &CaseRow) -> Map<String, Value> {
    match serde_json::from_str::<Value>(&case.facts) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Kinds of the agreed actions on a case that are not cancelled.
fn action_kinds(conn: &mut DbConn, case_id: &str) -> Result<BTreeSet<String>, AppError> {
    let kinds: Vec<Option<String>> = agreed_actions::table
        .filter(agreed_actions::case_id.eq(case_id))
        .filter(agreed_actions::status.ne("cancelled"))
        .filter(agreed_actions::kind.is_not_null())
        .select(agreed_actions::kind)
        .load(conn)?;
    Ok(kinds.into_iter().flatten().collect())
}

/// The case as the engine sees it.
pub fn case_snapshot(conn: &mut DbConn, case: &CaseRow) -> Result<CaseSnapshot, AppError> {
    Ok(CaseSnapshot {
        child_date_of_birth: case.child_date_of_birth,
        located_authority: case.located_authority.clone(),
        residence_authority: case.residence_authority.clone(),
        looked_after: case.looked_after,
        existing_plan: case.existing_plan.clone(),
        in_secure_estate: case.in_secure_estate,
        facts: case_facts(case),
        action_kinds: action_kinds(conn, &case.id)?,
    })
}

/// One running workflow as the engine sees it, with the reviews it has scheduled.
pub fn step_snapshot(conn: &mut DbConn, cw: &CaseWorkflowRow) -> Result<StepSnapshot, AppError> {
    let reviews: Vec<(String, String)> = plan_reviews::table
        .filter(plan_reviews::case_workflow_id.eq(&cw.id))
        .select((plan_reviews::kind, plan_reviews::status))
        .load(conn)?;
    let mut scheduled: BTreeMap<String, u32> = BTreeMap::new();
    let mut due = BTreeSet::new();
    for (kind, status) in reviews {
        *scheduled.entry(kind.clone()).or_default() += 1;
        if status == "due" {
            due.insert(kind);
        }
    }
    Ok(StepSnapshot {
        workflow: cw.workflow.clone(),
        version: cw.workflow_version as u32,
        state: cw.state.clone(),
        entered_at: Some(cw.entered_at.and_utc()),
        reviews_scheduled: scheduled,
        reviews_due: due,
    })
}

/// Who owns the actions a workflow creates by itself: the person applying the event, or, when
/// the service applies it, whoever leads the case. With their address, so reminders reach them.
fn default_owner(
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
) -> Result<Option<Owner>, AppError> {
    use crate::storage::schema::users;
    let id = if actor.role == RoleName::System {
        super::case::lead_user(conn, case)?
    } else {
        actor.id.clone()
    };
    let found: Option<(String, String)> = users::table
        .find(&id)
        .select((users::name, users::email))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(name, email)| Owner {
        name,
        email: Some(email),
        user_id: Some(id),
    }))
}

/// Applies an event a person asks for, as one unit of work on a case they may see.
pub fn apply(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &EventRequest,
) -> Result<TransitionOutcome, AppError> {
    unit_of_work::write(conn, intent, |conn, touched| {
        let case = super::case::visible_case(conn, actor, key)?;
        touched.case(&case.id);
        apply_within(svc, conn, actor, &case.id, req, intent.now)
    })
}

/// Applies an event inside a transaction the caller holds, so that several transitions and
/// other writes (the handover at 18) commit or fail together.
pub fn apply_within(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case_id: &str,
    req: &EventRequest,
    now: DateTime<Utc>,
) -> Result<TransitionOutcome, AppError> {
    let d = decide(svc, conn, actor, case_id, req, now)?;
    write_decision(
        svc,
        conn,
        actor,
        &d.case,
        &d.running,
        &d.snapshot,
        &d.decision,
        d.owner.as_ref(),
        req.meeting_id.as_deref(),
        d.confirmed,
        now,
    )
}

/// What `decide` found: the event may be applied, and this is what applying it writes.
struct Decided {
    case: CaseRow,
    running: CaseWorkflowRow,
    snapshot: CaseSnapshot,
    decision: Decision,
    owner: Option<Owner>,
    confirmed: Option<Value>,
}

/// Why the event would be refused, if it would, without writing anything: a form that could
/// not read some of its answers still shows what else is missing, all at once.
pub fn refusal(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case_id: &str,
    req: &EventRequest,
    now: DateTime<Utc>,
) -> Option<AppError> {
    decide(svc, conn, actor, case_id, req, now).err()
}

/// The case and its workflow, read in one statement so that both come from one snapshot, with
/// the case's row lock taken first on PostgreSQL. There the statement that reads them also
/// takes the lock, one round trip instead of two; a case without that workflow running is rare
/// and is read again apart, to say which is missing.
fn case_and_workflow(
    conn: &mut DbConn,
    case_id: &str,
    wf_name: &str,
) -> Result<Option<(CaseRow, Option<CaseWorkflowRow>)>, AppError> {
    let joined = case_workflows::case_id
        .eq(cases::id)
        .and(case_workflows::workflow.eq(wf_name));
    if let DbConn::Postgres(pg) = conn {
        let both: Option<(CaseRow, CaseWorkflowRow)> = cases::table
            .inner_join(case_workflows::table.on(joined))
            .filter(cases::id.eq(case_id))
            .select((CaseRow::as_select(), CaseWorkflowRow::as_select()))
            .for_update()
            .get_result(pg)
            .optional()?;
        if let Some((case, running)) = both {
            return Ok(Some((case, Some(running))));
        }
    }
    lock_cases(conn, &[case_id])?;
    // `get_result`, not `first`: on SQLite a bound LIMIT makes every run re-prepare.
    Ok(cases::table
        .left_join(case_workflows::table.on(joined))
        .filter(cases::id.eq(case_id))
        .select((CaseRow::as_select(), Option::<CaseWorkflowRow>::as_select()))
        .get_result(conn)
        .optional()?)
}

/// Everything an event is checked against before anything is written.
fn decide(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case_id: &str,
    req: &EventRequest,
    now: DateTime<Utc>,
) -> Result<Decided, AppError> {
    let primary = svc.engine.registry.primary();
    let wf_name = req
        .workflow
        .clone()
        .unwrap_or_else(|| primary.name().to_string());
    let found = case_and_workflow(conn, case_id, &wf_name)?;
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
    let mut proposed = Vec::with_capacity(req.agreed_actions.len());
    for (i, a) in req.agreed_actions.iter().enumerate() {
        let at = |f: &str| format!("agreed_actions[{i}].{f}");
        let owner = super::agreed_action::resolve_owner(
            conn,
            &a.owner_name,
            a.owner_email.as_deref(),
            a.owner_user_id.as_deref(),
            &at,
        )?;
        proposed.push(ProposedAction {
            title: a.title.clone(),
            owner,
            agency: a.agency.clone(),
            due_date: a.due_date.clone(),
            kind: a.kind.clone(),
        });
    }
    let owner = default_owner(conn, actor, &case)?;
    let snapshot = case_snapshot(conn, &case)?;
    let step = step_snapshot(conn, &running)?;
    let decision = svc.engine.decide(
        &snapshot,
        &step,
        &Command {
            event: &req.event,
            role: actor.role,
            rationale: req.rationale.as_deref(),
            facts: &req.facts,
            agreed_actions: &proposed,
            default_owner: owner.as_ref(),
        },
        now,
    )?;
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
    }
    for (i, a) in decision
        .actions
        .iter()
        .filter(|a| a.agreed_by_people)
        .enumerate()
    {
        use super::child::{refuse_named, Emailed};
        if a.owner.email.is_some() {
            refuse_named(
                &a.title,
                &case.child_name,
                &format!("agreed_actions[{i}].title"),
                Emailed::Text,
            )?;
        }
        refuse_named(
            &a.owner.name,
            &case.child_name,
            &format!("agreed_actions[{i}].owner_name"),
            Emailed::PersonName,
        )?;
    }
    let outside = super::addresses::outside(
        &svc.engine.agencies.current(),
        &decision
            .actions
            .iter()
            .filter(|a| a.agreed_by_people)
            .enumerate()
            .filter_map(|(i, a)| {
                Some(super::addresses::Addressed {
                    field: format!("agreed_actions[{i}].owner_email"),
                    agency: a.agency.as_deref(),
                    email: a.owner.email.as_deref()?,
                })
            })
            .collect::<Vec<_>>(),
    );
    let confirmed = super::addresses::confirm(&outside, &req.confirm_addresses_rationale)?
        .map(|r| json!({"addresses": outside.iter().map(|o| &o.email).collect::<Vec<_>>(), "rationale": r}));
    Ok(Decided {
        case,
        running,
        snapshot,
        decision,
        owner,
        confirmed,
    })
}

/// A new agreed action row of a decision.
pub fn action_row(
    a: &NewAction,
    case_id: &str,
    meeting_id: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AgreedActionRow {
    AgreedActionRow {
        id: uuid::Uuid::new_v4().to_string(),
        case_id: case_id.to_string(),
        meeting_id: meeting_id
            .filter(|_| a.agreed_by_people)
            .map(str::to_string),
        kind: a.kind.clone(),
        title: a.title.clone(),
        owner_name: a.owner.name.clone(),
        owner_email: a.owner.email.clone(),
        owner_user_id: a.owner.user_id.clone(),
        agency_code: a.agency.clone(),
        due_date: a.due_date,
        status: "open".into(),
        cancellable: a.cancellable,
        rules: a.rules.join(","),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        created_by: Some(actor.id.clone()),
        reminder_sent_at: None,
        overdue_notice_at: None,
        escalated_at: None,
    }
}

fn deadline_json(d: &Option<crate::engine::decide::Deadline>) -> Value {
    d.as_ref()
        .map(|d| json!({"due_at": d.due_at.to_rfc3339(), "source": d.source}))
        .unwrap_or(Value::Null)
}

#[allow(clippy::too_many_arguments)]
fn write_decision(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
    running: &CaseWorkflowRow,
    snapshot: &CaseSnapshot,
    decision: &Decision,
    owner: Option<&Owner>,
    meeting_id: Option<&str>,
    addresses_confirmed: Option<Value>,
    now: DateTime<Utc>,
) -> Result<TransitionOutcome, AppError> {
    let naive_now = now.naive_utc();
    diesel::insert_into(step_history::table)
        .values(StepHistoryRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            case_workflow_id: running.id.clone(),
            workflow: running.workflow.clone(),
            state: running.state.clone(),
            entered_at: running.entered_at,
            due_at: running.due_at,
            due_source: running.due_source.clone(),
            left_at: naive_now,
            left_by_event: decision.event.clone(),
        })
        .execute(conn)?;
    diesel::update(case_workflows::table.find(&running.id))
        .set((
            case_workflows::state.eq(&decision.to_state),
            case_workflows::entered_at.eq(naive_now),
            case_workflows::due_at.eq(decision.deadline.as_ref().map(|d| d.due_at.naive_utc())),
            case_workflows::due_source.eq(decision.deadline.as_ref().map(|d| d.source.as_str())),
            case_workflows::finished_at.eq(decision.terminal.then_some(naive_now)),
        ))
        .execute(conn)?;
    crash_point("transition.after_step");
    if decision.terminal {
        super::review::cancel_due(conn, &running.id)?;
    }
    let mut reviews = Vec::new();
    for r in &decision.reviews {
        if r.held_previous {
            diesel::update(
                plan_reviews::table
                    .filter(plan_reviews::case_workflow_id.eq(&running.id))
                    .filter(plan_reviews::kind.eq(&r.kind))
                    .filter(plan_reviews::status.eq("due")),
            )
            .set((
                plan_reviews::status.eq("held"),
                plan_reviews::held_at.eq(Some(naive_now)),
            ))
            .execute(conn)?;
        }
        let row = PlanReviewRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            case_workflow_id: running.id.clone(),
            kind: r.kind.clone(),
            number: r.number as i32,
            due_at: r.due_at.naive_utc(),
            due_source: r.source.clone(),
            status: "due".into(),
            held_at: None,
            created_at: naive_now,
        };
        diesel::insert_into(plan_reviews::table)
            .values(&row)
            .execute(conn)?;
        reviews.push(json!({
            "kind": r.kind, "held_previous": r.held_previous, "next_id": row.id,
            "next_number": row.number, "next_due_at": r.due_at.to_rfc3339(), "source": r.source,
        }));
    }
    let rows: Vec<AgreedActionRow> = decision
        .actions
        .iter()
        .map(|a| action_row(a, &case.id, meeting_id, actor, now))
        .collect();
    for a in &rows {
        diesel::insert_into(agreed_actions::table)
            .values(a)
            .execute(conn)?;
    }
    if decision.emails.contains(&EmailIntent::AgreedActions) {
        let people: Vec<AgreedActionRow> = rows
            .iter()
            .zip(&decision.actions)
            .filter(|(_, a)| a.agreed_by_people)
            .map(|(r, _)| r.clone())
            .collect();
        super::action::queue_owner_emails(
            svc,
            conn,
            case,
            super::action::Occasion::Agreed,
            &people,
            now,
        )?;
    }
    // The decision on a partner's report: the reporter hears whether it was accepted.
    let decided = svc
        .engine
        .registry
        .get(&running.workflow, running.workflow_version as u32)
        .is_some_and(|wf| wf.def.state_tagged(StateTag::Decision) == Some(running.state.as_str()))
        && decision.to_state != running.state;
    if decided {
        super::partner_referral::tell_decision(svc, conn, case, actor, decision.decline, now)?;
    }
    // A family moving authority (WSP c4 p9): the receiving authority becomes the authority of
    // residence and is told, so its team leads see the case beside the team holding it; at the
    // transfer conference it becomes where the child is located, and the authority that held
    // the case no longer sees it.
    let authorities = match &decision.transfer {
        None => None,
        Some(Transfer::Begins { to }) => {
            diesel::update(cases::table.find(&case.id))
                .set(cases::residence_authority.eq(to))
                .execute(conn)?;
            super::transfer::tell_receiving_authority(
                svc,
                conn,
                case,
                to,
                decision.deadline.as_ref().map(|d| d.due_at),
                now,
            )?;
            Some(
                json!({"transfer": "begins", "from": case.located_authority, "to": to,
                        "residence_before": case.residence_authority}),
            )
        }
        Some(Transfer::Completes) => {
            // No team of the authority that held it keeps it: the receiving authority's team
            // leads give it to one of their teams.
            diesel::update(cases::table.find(&case.id))
                .set((
                    cases::located_authority.eq(&case.residence_authority),
                    cases::team.eq(None::<String>),
                ))
                .execute(conn)?;
            let ended = super::transfer::end_holding_authority_access(conn, case)?;
            Some(
                json!({"transfer": "completes", "from": case.located_authority, "to": case.residence_authority,
                        "team_before": case.team, "access_ended": ended}),
            )
        }
    };
    let payload = json!({
        "workflow_version": decision.workflow_version,
        "facts": decision.facts,
        "agreed_actions": rows.iter().map(|a| json!({
            "id": a.id, "kind": a.kind, "title": a.title, "owner_name": a.owner_name,
            "agency": a.agency_code, "due_date": a.due_date.to_string(),
        })).collect::<Vec<_>>(),
        "deadline": deadline_json(&decision.deadline),
        "reviews": reviews,
        "rules": decision.rules,
        "addresses_confirmed": addresses_confirmed,
        "authorities": authorities,
    });
    let new_version = case.version + 1;
    let row = audit::append(
        conn,
        &svc.audit_key,
        &case.id,
        case.audit_seq,
        &case.audit_head,
        naive_now,
        AuditEntry {
            actor_id: actor.id.clone(),
            kind: "transition",
            case_version: new_version,
            workflow: Some(decision.workflow.clone()),
            event: Some(decision.event.clone()),
            from_state: Some(decision.from_state.clone()),
            to_state: Some(decision.to_state.clone()),
            decline: decision.decline,
            rationale: decision.rationale.clone(),
            payload,
        },
    )
    .map_err(|e| conflict_if_duplicate(e, case.version))?;
    let (mut seq, mut head) = (row.seq, row.hash);
    let mut started = Vec::new();
    if !decision.start_workflows.is_empty() {
        let on_case: Vec<String> = case_workflows::table
            .filter(case_workflows::case_id.eq(&case.id))
            .select(case_workflows::workflow)
            .load(conn)?;
        let mut kinds = snapshot.action_kinds.clone();
        kinds.extend(decision.actions.iter().filter_map(|a| a.kind.clone()));
        let after = CaseSnapshot {
            facts: decision.facts_after.clone(),
            ..snapshot.clone()
        };
        for name in decision
            .start_workflows
            .iter()
            .filter(|n| !on_case.contains(n))
        {
            let start = svc.engine.start(name, &after, &kinds, owner, now)?;
            (seq, head) = write_start(
                svc,
                conn,
                actor,
                case,
                &start,
                (seq, &head, new_version),
                now,
            )?;
            started.push(name.clone());
        }
    }
    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(&case.id))
            .filter(cases::version.eq(case.version)),
    )
    .set((
        cases::facts.eq(Value::Object(decision.facts_after.clone()).to_string()),
        cases::version.eq(new_version),
        cases::audit_seq.eq(seq),
        cases::audit_head.eq(&head),
        cases::updated_at.eq(naive_now),
        cases::status.eq(if decision.closes_case {
            "closed"
        } else {
            case.status.as_str()
        }),
    ))
    .execute(conn)?;
    if updated != 1 {
        // Another writer committed between our read and this update; everything above is
        // rolled back.
        return Err(stale(case.version, new_version));
    }
    Ok(TransitionOutcome {
        case_id: case.id.clone(),
        reference: case.reference.clone(),
        version: new_version,
        workflow: decision.workflow.clone(),
        event: decision.event.clone(),
        from_state: decision.from_state.clone(),
        to_state: decision.to_state.clone(),
        deadline: decision.deadline.as_ref().map(|d| d.due_at),
        actions_created: rows.into_iter().map(|a| a.id).collect(),
        workflows_started: started,
        audit_seq: seq,
    })
}

/// Writes a workflow the engine has started on a case: its row, first deadline, the actions its
/// start effects create, the emails it causes and its audit entry. `audit` is the trail's
/// (seq, head) so far and the case's version once the unit of work commits; returns the new
/// (seq, head), which the caller stores on the case row with that version.
pub fn write_start(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
    start: &Start,
    audit: (i64, &str, i64),
    now: DateTime<Utc>,
) -> Result<(i64, String), AppError> {
    let (audit_seq, audit_head, case_version) = audit;
    let naive_now = now.naive_utc();
    diesel::insert_into(case_workflows::table)
        .values(CaseWorkflowRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            workflow: start.workflow.clone(),
            workflow_version: start.workflow_version as i32,
            state: start.initial.clone(),
            entered_at: naive_now,
            due_at: start.deadline.as_ref().map(|d| d.due_at.naive_utc()),
            due_source: start.deadline.as_ref().map(|d| d.source.clone()),
            started_at: naive_now,
            finished_at: None,
        })
        .execute(conn)?;
    let rows: Vec<AgreedActionRow> = start
        .actions
        .iter()
        .map(|a| action_row(a, &case.id, None, actor, now))
        .collect();
    for a in &rows {
        diesel::insert_into(agreed_actions::table)
            .values(a)
            .execute(conn)?;
    }
    if start.emails.contains(&EmailIntent::Age18TrackStarted) {
        super::age18::announce_started(svc, conn, case, &rows, now)?;
    }
    let row = audit::append(
        conn,
        &svc.audit_key,
        &case.id,
        audit_seq,
        audit_head,
        naive_now,
        AuditEntry {
            actor_id: actor.id.clone(),
            kind: "workflow_started",
            case_version,
            workflow: Some(start.workflow.clone()),
            to_state: Some(start.initial.clone()),
            payload: json!({
                "workflow_version": start.workflow_version,
                "agreed_actions": rows.iter().map(|a| json!({"id": a.id, "kind": a.kind, "title": a.title})).collect::<Vec<_>>(),
                "deadline": deadline_json(&start.deadline),
            }),
            ..AuditEntry::default()
        },
    )?;
    Ok((row.seq, row.hash))
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

pub fn stale(seen: i64, now: i64) -> AppError {
    AppError::Conflict {
        code: "stale_version",
        message: format!(
            "the case has changed since you read it (you saw version {seen}, it is now {now}); reload it and try again"
        ),
    }
}

/// The events each running workflow allows now, for someone in `role`.
pub fn allowed_events(
    svc: &Services,
    conn: &mut DbConn,
    case: &CaseRow,
    role: RoleName,
) -> Result<Vec<crate::engine::decide::AllowedEvent>, AppError> {
    let running: Vec<CaseWorkflowRow> = case_workflows::table
        .filter(case_workflows::case_id.eq(&case.id))
        .filter(case_workflows::finished_at.is_null())
        .select(CaseWorkflowRow::as_select())
        .load(conn)?;
    let snapshot = case_snapshot(conn, case)?;
    let mut steps = Vec::new();
    for cw in &running {
        steps.push(step_snapshot(conn, cw)?);
    }
    Ok(svc.engine.allowed(&snapshot, &steps, role, svc.today()))
}
