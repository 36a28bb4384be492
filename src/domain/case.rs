//! Cases: who may see one, what a reader is shown, and involving others in one.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::input;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::domain::audit;
use crate::domain::transition::case_facts;
use crate::error::AppError;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::storage::models::{AgreedActionRow, CaseRow, CaseWorkflowRow, InvolvementRow};
use crate::storage::schema::{
    agreed_actions, case_involvements, case_workflows, cases, timescale_departures,
};
use crate::storage::{lock_cases, DbConn};
use crate::time::wales::london_date;

/// Finds a case by id or reference if `actor` may see it (`case_access`). Anything else is
/// "not found", so that the answer does not reveal that the case exists.
pub fn visible_case(conn: &mut DbConn, actor: &Actor, key: &str) -> Result<CaseRow, AppError> {
    let query = cases::table.select(CaseRow::as_select());
    let case = if key.starts_with(crate::reference::CASE_REFERENCE_PREFIX) {
        query
            .filter(cases::reference.eq(key))
            .get_result(conn)
            .optional()?
    } else {
        query.find(key).get_result(conn).optional()?
    };
    let case = case.ok_or(AppError::NotFound("case"))?;
    if may_see(conn, actor, &case)? {
        Ok(case)
    } else {
        Err(AppError::NotFound("case"))
    }
}

/// The person who leads a case: whom it was handed to when its lead left, while they are
/// active; else the chair or team lead who last applied an event to it, else whoever recorded
/// it. Actions the service creates by itself are theirs, and they hear of them.
pub fn lead_user(conn: &mut DbConn, case: &CaseRow) -> Result<String, AppError> {
    use crate::storage::schema::{audit_events, users};
    if let Some(handed) = &case.lead_user_id {
        let active: bool = users::table
            .find(handed)
            .select(users::active)
            .get_result(conn)?;
        if active {
            return Ok(handed.clone());
        }
    }
    let lead: Option<String> = audit_events::table
        .inner_join(users::table.on(users::id.eq(audit_events::actor_id)))
        .filter(audit_events::case_id.eq(&case.id))
        .filter(users::role.eq_any(["chair", "team_lead"]))
        .filter(users::active.eq(true))
        .order(audit_events::seq.desc())
        .select(users::id)
        .first(conn)
        .optional()?;
    Ok(lead.unwrap_or_else(|| case.created_by.clone()))
}

/// A case by its id, as stored now.
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<CaseRow, AppError> {
    Ok(cases::table
        .find(id)
        .select(CaseRow::as_select())
        .get_result(conn)?)
}

/// A change made from a form shown at `expected` applies only if nobody has changed the case
/// since: 409 `stale_version` otherwise.
pub(super) fn at_version(case: &CaseRow, expected: i64) -> Result<(), AppError> {
    if case.version != expected {
        return Err(super::transition::stale(expected, case.version));
    }
    Ok(())
}

/// Whether `actor` may open `case`: the rules are `case_access`'s.
pub fn may_see(conn: &mut DbConn, actor: &Actor, case: &CaseRow) -> Result<bool, AppError> {
    super::case_access::may_see(conn, actor, case)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFilter {
    pub state: Option<String>,
    pub authority: Option<String>,
    pub overdue: Option<bool>,
    pub limit: Option<i64>,
    /// Part of the child's name, whatever its accents, or of the case reference.
    pub q: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CaseSummary {
    pub id: String,
    pub reference: String,
    /// The people who may open the case see the name; the list holds only such cases.
    pub child_name: String,
    /// The child's age today, in years.
    pub child_age: u32,
    pub status: String,
    pub version: i64,
    pub located_authority: String,
    pub residence_authority: String,
    pub state: Option<String>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub updated_at: DateTime<Utc>,
}

/// Cases the actor may see, newest first, filtered. The child's name is not in a list.
pub fn list_cases(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    filter: &CaseFilter,
) -> Result<Vec<CaseSummary>, AppError> {
    let limit = filter.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::bad_request(
            "invalid_limit",
            "limit",
            "limit must be between 1 and 1000",
        ));
    }
    if actor.role == RoleName::Administrator {
        return Ok(Vec::new());
    }
    let engine = &svc.engine;
    let now = svc.now().naive_utc();
    let today = svc.today();
    let mut query = cases::table
        .filter(super::case_access::visible_filter(actor))
        .select(CaseRow::as_select())
        .order(cases::updated_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = &filter.authority {
        query = query.filter(
            cases::located_authority
                .eq(a.clone())
                .or(cases::residence_authority.eq(a.clone())),
        );
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        super::input::single_line(q, "q")?;
        let pattern = crate::i18n::search::contains_pattern(q);
        // A reference holds letters, digits and hyphens only; anything else cannot be one.
        let reference: String = q.trim().to_uppercase();
        let by_name = cases::child_name_folded.like(pattern).escape('\\');
        query = if !reference.is_empty()
            && reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            query.filter(by_name.or(cases::reference.like(format!("%{reference}%"))))
        } else {
            query.filter(by_name)
        };
    }
    if let Some(state) = &filter.state {
        let in_state = case_workflows::table
            .filter(case_workflows::state.eq(state.clone()))
            .select(case_workflows::case_id);
        query = query.filter(cases::id.eq_any(in_state));
    }
    if let Some(overdue) = filter.overdue {
        let late = case_workflows::table
            .filter(case_workflows::finished_at.is_null())
            .filter(case_workflows::due_at.lt(now))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                timescale_departures::table
                    .filter(
                        timescale_departures::case_workflow_id.eq(case_workflows::id.nullable()),
                    )
                    .filter(
                        timescale_departures::step_entered_at
                            .eq(case_workflows::entered_at.nullable()),
                    ),
            )))
            .select(case_workflows::case_id);
        query = if overdue {
            query.filter(cases::id.eq_any(late))
        } else {
            query.filter(diesel::dsl::not(cases::id.eq_any(late)))
        };
    }
    let rows: Vec<CaseRow> = query.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let primary = engine.registry.primary();
    type Running = (
        String,
        String,
        String,
        Option<chrono::NaiveDateTime>,
        String,
        chrono::NaiveDateTime,
    );
    let running: Vec<Running> = case_workflows::table
        .filter(case_workflows::case_id.eq_any(&ids))
        .filter(
            case_workflows::finished_at
                .is_null()
                .or(case_workflows::workflow.eq(primary.name())),
        )
        .select((
            case_workflows::case_id,
            case_workflows::workflow,
            case_workflows::state,
            case_workflows::due_at,
            case_workflows::id,
            case_workflows::entered_at,
        ))
        .load(conn)?;
    let departed = departed_steps(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let mine = || running.iter().filter(|r| r.0 == c.id);
            let next = mine().filter_map(|r| r.3).min();
            CaseSummary {
                state: mine().find(|r| r.1 == primary.name()).map(|r| r.2.clone()),
                next_deadline: next.map(|d| d.and_utc()),
                overdue: mine().any(|r| {
                    r.3.is_some_and(|d| d < now) && !departed.contains(&(r.4.clone(), r.5))
                }),
                id: c.id,
                reference: c.reference,
                child_age: crate::time::age::age_years(c.child_date_of_birth, today),
                child_name: c.child_name,
                status: c.status,
                version: c.version,
                located_authority: c.located_authority,
                residence_authority: c.residence_authority,
                updated_at: c.updated_at.and_utc(),
            }
        })
        .collect())
}

/// Steps (workflow row, time entered) whose timescale a senior manager departed from.
fn departed_steps(
    conn: &mut DbConn,
    case_ids: &[&str],
) -> Result<std::collections::HashSet<(String, chrono::NaiveDateTime)>, AppError> {
    let rows: Vec<(Option<String>, Option<chrono::NaiveDateTime>)> = timescale_departures::table
        .filter(timescale_departures::case_id.eq_any(case_ids))
        .select((
            timescale_departures::case_workflow_id,
            timescale_departures::step_entered_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id?, at?)))
        .collect())
}

/// One workflow as it stands on a case, with what the chair sees at that step.
#[derive(Debug, Serialize)]
pub struct WorkflowView {
    pub workflow: String,
    pub workflow_version: i32,
    pub state: String,
    pub state_title: String,
    pub guidance: String,
    /// What the practice guide adds for this child at this step (`engine::notes`).
    pub notes: Vec<crate::engine::notes::NoteView>,
    pub rules: Vec<String>,
    pub entered_at: DateTime<Utc>,
    pub finished: bool,
    pub deadline: Option<DeadlineView>,
}

#[derive(Debug, Serialize)]
pub struct DeadlineView {
    pub due_at: DateTime<Utc>,
    /// The same moment in Wales, for people.
    pub due_at_local: String,
    pub source: String,
    /// False once a senior manager has recorded a departure from this timescale.
    pub overdue: bool,
    pub working_days_left: i64,
    /// A recorded departure from the timescale, if any.
    pub departure_recorded: bool,
}

#[derive(Debug, Serialize)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub version: i64,
    pub child: Value,
    pub facts: Map<String, Value>,
    pub workflows: Vec<WorkflowView>,
    pub agreed_actions: Vec<Value>,
    /// Core groups and review conferences of the plan.
    pub reviews: Vec<crate::domain::review::ReviewView>,
    pub involvements: Vec<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The case as a reader sees it, its workflow texts in `lang`.
pub fn view_case(
    svc: &Services,
    conn: &mut DbConn,
    case: &CaseRow,
    lang: crate::i18n::Language,
) -> Result<CaseView, AppError> {
    let engine = &svc.engine;
    let now = svc.now();
    let today = london_date(now);
    let running: Vec<CaseWorkflowRow> = case_workflows::table
        .filter(case_workflows::case_id.eq(&case.id))
        .order(case_workflows::started_at)
        .select(CaseWorkflowRow::as_select())
        .load(conn)?;
    let primary = engine.registry.primary();
    let mut running = running;
    let departed = departed_steps(conn, &[case.id.as_str()])?;
    let facts = case_facts(case);
    // The main pathway first, then the others in the order they started.
    running.sort_by_key(|cw| cw.workflow != primary.name());
    let mut workflows = Vec::new();
    for cw in running {
        let version = cw.workflow_version as u32;
        let wf = engine.registry.get(&cw.workflow, version);
        let state = wf.as_ref().and_then(|w| w.state(&cw.state).cloned());
        let departure_recorded = departed.contains(&(cw.id.clone(), cw.entered_at));
        let deadline = cw.due_at.filter(|_| cw.finished_at.is_none()).map(|due| {
            let due = due.and_utc();
            let due_day = london_date(due);
            DeadlineView {
                due_at: due,
                // With GMT or BST, so that nobody misreads a time near the clock change.
                due_at_local: format!(
                    "{} {}",
                    crate::time::wales::date_time(due, lang),
                    due.with_timezone(&chrono_tz::Europe::London).format("%Z")
                ),
                source: engine.deadline_source(
                    &cw.workflow,
                    version,
                    cw.due_source.as_deref().unwrap_or_default(),
                    lang,
                ),
                overdue: due < now && !departure_recorded,
                departure_recorded,
                working_days_left: if due_day >= today {
                    engine.calendar.working_days_between(today, due_day)
                } else {
                    -engine.calendar.working_days_between(due_day, today)
                },
            }
        });
        workflows.push(WorkflowView {
            workflow: cw.workflow.clone(),
            workflow_version: cw.workflow_version,
            state_title: engine.state_title(&cw.workflow, version, &cw.state, lang),
            guidance: engine.state_guidance(&cw.workflow, version, &cw.state, lang),
            notes: engine.notes_at(&cw.workflow, version, &cw.state, &facts, lang),
            rules: state.map(|s| s.rules).unwrap_or_default(),
            state: cw.state,
            entered_at: cw.entered_at.and_utc(),
            finished: cw.finished_at.is_some(),
            deadline,
        });
    }
    let actions: Vec<AgreedActionRow> = agreed_actions::table
        .filter(agreed_actions::case_id.eq(&case.id))
        .order(agreed_actions::created_at)
        .select(AgreedActionRow::as_select())
        .load(conn)?;
    let reviews = crate::domain::review::reviews_of(conn, engine, &case.id, now.naive_utc(), lang)?;
    let involvements: Vec<InvolvementRow> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .order(case_involvements::created_at)
        .select(InvolvementRow::as_select())
        .load(conn)?;
    Ok(CaseView {
        id: case.id.clone(),
        reference: case.reference.clone(),
        status: case.status.clone(),
        version: case.version,
        child: json!({
            "name": case.child_name,
            "date_of_birth": case.child_date_of_birth.to_string(),
            "age": crate::time::age::age_years(case.child_date_of_birth, today),
            "eighteenth_birthday": crate::time::age::eighteenth_birthday(case.child_date_of_birth).to_string(),
            "gender": case.child_gender,
            "located_authority": case.located_authority,
            "residence_authority": case.residence_authority,
            "looked_after": case.looked_after,
            "existing_plan": case.existing_plan,
            "in_secure_estate": case.in_secure_estate,
            "language": case.child_language,
            "family_language": case.family_language,
            "welsh_offer": case.welsh_offer,
        }),
        facts,
        workflows,
        agreed_actions: actions
            .into_iter()
            .map(|a| {
                json!({
                    "id": a.id, "kind": a.kind,
                    "title": engine.action_title(a.kind.as_deref(), &a.title, lang),
                    "owner_name": a.owner_name,
                    "owner_email": a.owner_email, "agency": a.agency_code,
                    "due_date": a.due_date.to_string(), "status": a.status,
                    "overdue": a.status == "open" && a.due_date < today,
                    "working_days_overdue": if a.status == "open" && a.due_date < today {
                        engine.calendar.working_days_between(a.due_date, today)
                    } else {
                        0
                    },
                    "escalated": a.escalated_at.is_some(),
                    "cancellable": a.cancellable,
                    "rules": a.rules.split(',').filter(|r| !r.is_empty()).collect::<Vec<_>>(),
                })
            })
            .collect(),
        reviews,
        involvements: involvements
            .into_iter()
            .map(|i| json!({"agency": i.agency_code, "role": i.role, "person_name": i.person_name, "person_email": i.person_email, "user_id": i.user_id}))
            .collect(),
        created_at: case.created_at.and_utc(),
        updated_at: case.updated_at.and_utc(),
    })
}

/// The case history from the audit trail, oldest first.
pub fn history(conn: &mut DbConn, case: &CaseRow) -> Result<Vec<Value>, AppError> {
    use crate::storage::models::AuditEventRow;
    use crate::storage::schema::{audit_events, users};
    let rows: Vec<(AuditEventRow, Option<String>)> = audit_events::table
        .left_join(users::table.on(users::id.eq(audit_events::actor_id)))
        .filter(audit_events::case_id.eq(&case.id))
        .order(audit_events::seq)
        .select((AuditEventRow::as_select(), users::name.nullable()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, actor_name)| {
            json!({
                "seq": r.seq, "at": r.at.and_utc(), "actor_id": r.actor_id, "actor_name": actor_name,
                "kind": r.kind, "workflow": r.workflow, "event": r.event,
                "from_state": r.from_state, "to_state": r.to_state, "decline": r.decline,
                "rationale": r.rationale,
                "payload": serde_json::from_str::<Value>(&r.payload).unwrap_or(Value::Null),
                "hash": r.hash,
            })
        })
        .collect())
}

/// Only a chair, team lead or senior manager of one of the child's own authorities decides who
/// else is involved: someone involved from elsewhere may not pass the case on.
fn may_change_involvements(actor: &Actor, case: &CaseRow) -> Result<(), AppError> {
    let of_childs_authority =
        actor.authority == case.located_authority || actor.authority == case.residence_authority;
    if of_childs_authority
        && matches!(
            actor.role,
            RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
        )
    {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a chair, team lead or senior manager of the child's authority may change who is involved in a case".into(),
        ))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveInvolvement {
    pub expected_version: i64,
    /// Why, for the history; at least 20 characters.
    pub rationale: String,
}

/// Takes a person or agency off the case; a user of the service involved from elsewhere can
/// no longer open it. Audited and versioned.
pub fn remove_involvement(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    involvement_id: &str,
    req: &RemoveInvolvement,
) -> Result<i64, AppError> {
    let rationale = input::rationale(&req.rationale, "rationale")?;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        may_change_involvements(actor, case)?;
        at_version(case, req.expected_version)?;
        let row: InvolvementRow = case_involvements::table
            .find(involvement_id)
            .filter(case_involvements::case_id.eq(&case.id))
            .select(InvolvementRow::as_select())
            .get_result(conn)
            .optional()?
            .ok_or(AppError::NotFound("involvement"))?;
        diesel::delete(case_involvements::table.find(&row.id)).execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "involvement_removed",
            json!({"involvement_id": row.id, "agency": row.agency_code, "role": row.role,
                   "person_name": row.person_name, "user_id": row.user_id, "rationale": rationale}),
            intent.now.naive_utc(),
        )?;
        Ok(case.version + 1)
    })
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvolvement {
    pub expected_version: i64,
    pub agency: String,
    pub role: String,
    pub person_name: Option<String>,
    pub person_email: Option<String>,
    /// A user of the service to involve: they can then see the case whatever their authority.
    pub user_email: Option<String>,
}

/// Records a person or agency as involved in the case (and so, for a user, able to see it), as
/// one unit of work. Audited and versioned like a transition: giving someone access is a
/// decision.
pub fn add_involvement(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NewInvolvement,
) -> Result<i64, AppError> {
    use crate::storage::schema::users;
    let now = intent.now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        let case = visible_case(conn, actor, key)?;
        touched.case(&case.id);
        may_change_involvements(actor, &case)?;
        if svc.engine.agencies.current().get(&req.agency).is_none() {
            return Err(AppError::unprocessable(
                "unknown_agency",
                "agency",
                format!("no agency has the code {:?}", req.agency),
            ));
        }
        let role = input::field_len(&req.role, "role", 100)?;
        if let Some(n) = &req.person_name {
            input::single_line(n, "person_name")?;
        }
        if let Some(e) = &req.person_email {
            input::email(e, "person_email")?;
        }
        lock_cases(conn, &[&case.id])?;
        let case: CaseRow = cases::table
            .find(&case.id)
            .select(CaseRow::as_select())
            .get_result(conn)?;
        if case.version != req.expected_version {
            return Err(super::transition::stale(req.expected_version, case.version));
        }
        let user: Option<(String, String)> = match &req.user_email {
            Some(email) => Some(
                users::table
                    .filter(users::email.eq(email.trim().to_lowercase()))
                    .filter(users::active.eq(true))
                    .select((users::id, users::name))
                    .get_result(conn)
                    .optional()?
                    .ok_or_else(|| {
                        AppError::unprocessable(
                            "unknown_user",
                            "user_email",
                            format!("no active user has the email {email:?}"),
                        )
                    })?,
            ),
            None => None,
        };
        let row = InvolvementRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: case.id.clone(),
            agency_code: req.agency.clone(),
            person_name: req
                .person_name
                .clone()
                .or_else(|| user.as_ref().map(|u| u.1.clone())),
            person_email: req.person_email.clone().or_else(|| req.user_email.clone()),
            role: role.clone(),
            user_id: user.as_ref().map(|u| u.0.clone()),
            created_at: now,
        };
        diesel::insert_into(case_involvements::table)
            .values(&row)
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "involvement_added",
            json!({"agency": row.agency_code, "role": row.role, "person_name": row.person_name, "user_id": row.user_id}),
            now,
        )?;
        Ok(case.version + 1)
    })
}

/// Refuses a change to a closed case: nothing more is recorded on it (409 `case_closed`).
pub fn still_open(case: &CaseRow) -> Result<(), AppError> {
    if case.status == "open" {
        Ok(())
    } else {
        Err(AppError::Conflict {
            code: "case_closed",
            message: "the case is closed".into(),
        })
    }
}
