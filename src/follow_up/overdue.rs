//! What is late or coming up, for one authority's cases or for all: steps past their deadline
//! (unless a senior manager recorded a departure), open actions past their due date, reviews due
//! soon or late, children turning 18, and email about the cases that has not been delivered.
//! The dashboard, the digest and the benchmark share it.
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::reference::calendar::WorkingCalendar;
use crate::storage::schema::{
    agreed_actions, case_workflows, cases, meeting_cases, outbox, plan_reviews,
    timescale_departures,
};
use crate::storage::DbConn;
use crate::time::age::eighteenth_birthday;
use crate::time::wales::london_date;

/// Whose cases: those located or resident in one authority, or every case.
#[derive(Debug, Clone)]
pub enum Scope {
    Authority(String),
    All,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverdueStep {
    pub case_id: String,
    pub reference: String,
    pub workflow: String,
    pub state: String,
    pub step: String,
    pub step_cy: String,
    pub due_at: DateTime<Utc>,
    pub working_days_overdue: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverdueAction {
    pub case_id: String,
    pub reference: String,
    pub action_id: String,
    /// A workflow's own action has a kind, whose title is shown in the reader's language.
    pub kind: Option<String>,
    pub title: String,
    pub owner_name: String,
    pub agency: Option<String>,
    pub due_date: NaiveDate,
    pub working_days_overdue: i64,
    pub escalated: bool,
}

/// An open action on a context whose due date has passed. Persons of concern are left out:
/// the lists go to readers who may not have the role.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueContextAction {
    pub context_id: String,
    pub reference: String,
    pub action_id: String,
    pub title: String,
    pub disruption: bool,
    pub owner_name: String,
    pub agency: Option<String>,
    pub due_date: NaiveDate,
    pub working_days_overdue: i64,
    pub escalated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewDue {
    pub case_id: String,
    pub reference: String,
    pub review_id: String,
    pub kind: String,
    pub review: String,
    pub review_cy: String,
    pub number: i32,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TurningEighteen {
    pub case_id: String,
    pub reference: String,
    pub birthday: NaiveDate,
    pub status: String,
}

/// Restricts a query to the scope's cases through `case_column`. The authority's cases are
/// found first (an index on each authority column) and the list joined to them, which on 100,000
/// cases is several times quicker than testing the authority of every late row.
macro_rules! in_scope {
    ($query:expr, $scope:expr, $case_column:expr) => {
        match $scope {
            Scope::Authority(a) => {
                let scoped = diesel::alias!(cases as scoped_cases);
                $query.filter(
                    $case_column.eq_any(
                        scoped
                            .filter(
                                scoped
                                    .field(cases::located_authority)
                                    .eq(a.clone())
                                    .or(scoped.field(cases::residence_authority).eq(a.clone())),
                            )
                            // A restricted case is in no authority-wide list or count: only
                            // the people named on it see it, in their own lists.
                            .filter(scoped.field(cases::restricted).eq(false))
                            .select(scoped.field(cases::id)),
                    ),
                )
            }
            Scope::All => $query,
        }
    };
}
pub(super) use in_scope;

/// Steps past their deadline with no recorded departure, most overdue first.
pub fn overdue_steps(
    conn: &mut DbConn,
    engine: &Engine,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<OverdueStep>, AppError> {
    let query = case_workflows::table
        .inner_join(cases::table)
        .filter(case_workflows::finished_at.is_null())
        .filter(case_workflows::due_at.lt(now.naive_utc()))
        .filter(not(exists(
            timescale_departures::table
                .filter(timescale_departures::case_workflow_id.eq(case_workflows::id.nullable()))
                .filter(
                    timescale_departures::step_entered_at.eq(case_workflows::entered_at.nullable()),
                ),
        )))
        .select((
            case_workflows::case_id,
            cases::reference,
            case_workflows::workflow,
            case_workflows::workflow_version,
            case_workflows::state,
            case_workflows::due_at,
        ))
        .order(case_workflows::due_at)
        .into_boxed();
    let rows: Vec<(String, String, String, i32, String, Option<NaiveDateTime>)> =
        in_scope!(query, scope, case_workflows::case_id).load(conn)?;
    let today = london_date(now);
    Ok(rows
        .into_iter()
        .filter_map(|(case_id, reference, workflow, version, state, due)| {
            let due = due?.and_utc();
            let step = engine.state_title(&workflow, version as u32, &state, Language::English);
            let step_cy = engine.state_title(&workflow, version as u32, &state, Language::Welsh);
            Some(OverdueStep {
                working_days_overdue: engine
                    .calendar
                    .working_days_between(london_date(due), today),
                case_id,
                reference,
                workflow,
                state,
                step,
                step_cy,
                due_at: due,
            })
        })
        .collect())
}

/// Open actions on contexts (of the scope's authority) whose due date has passed, most overdue
/// first; none on a person of concern.
pub fn overdue_context_actions(
    conn: &mut DbConn,
    calendar: &WorkingCalendar,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<OverdueContextAction>, AppError> {
    use crate::storage::models::ContextActionRow;
    use crate::storage::schema::{context_actions, contexts};
    let mut query = context_actions::table
        .inner_join(contexts::table)
        .filter(context_actions::status.eq(crate::domain::context_action::OPEN))
        .filter(context_actions::due_date.lt(today))
        .filter(contexts::kind.ne(crate::domain::context::PERSON_OF_CONCERN))
        .select((ContextActionRow::as_select(), contexts::reference))
        .order(context_actions::due_date)
        .into_boxed();
    if let Scope::Authority(a) = scope {
        query = query.filter(contexts::authority_code.eq(a.clone()));
    }
    let rows: Vec<(ContextActionRow, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, reference)| OverdueContextAction {
            working_days_overdue: calendar.working_days_between(a.due_date, today),
            context_id: a.context_id,
            reference,
            action_id: a.id,
            title: a.title,
            disruption: a.disruption,
            owner_name: a.owner_name,
            agency: a.agency_code,
            due_date: a.due_date,
            escalated: a.escalated_at.is_some(),
        })
        .collect())
}

/// Open actions whose due date has passed, most overdue first.
pub fn overdue_actions(
    conn: &mut DbConn,
    calendar: &WorkingCalendar,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<OverdueAction>, AppError> {
    let query = agreed_actions::table
        .inner_join(cases::table)
        .filter(agreed_actions::status.eq("open"))
        .filter(agreed_actions::due_date.lt(today))
        .select((
            agreed_actions::case_id,
            cases::reference,
            agreed_actions::id,
            agreed_actions::kind,
            agreed_actions::title,
            agreed_actions::owner_name,
            agreed_actions::agency_code,
            agreed_actions::due_date,
            agreed_actions::escalated_at,
        ))
        .order(agreed_actions::due_date)
        .into_boxed();
    type Row = (
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        NaiveDate,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = in_scope!(query, scope, agreed_actions::case_id).load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                case_id,
                reference,
                action_id,
                kind,
                title,
                owner_name,
                agency,
                due_date,
                escalated,
            )| {
                OverdueAction {
                    kind,
                    working_days_overdue: calendar.working_days_between(due_date, today),
                    case_id,
                    reference,
                    action_id,
                    title,
                    owner_name,
                    agency,
                    due_date,
                    escalated: escalated.is_some(),
                }
            },
        )
        .collect())
}

/// Reviews still to be held that fall due by `until` (late ones included), soonest first.
pub fn reviews_due(
    conn: &mut DbConn,
    engine: &Engine,
    scope: &Scope,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<ReviewDue>, AppError> {
    let query = plan_reviews::table
        .inner_join(cases::table)
        .inner_join(case_workflows::table.on(case_workflows::id.eq(plan_reviews::case_workflow_id)))
        .filter(plan_reviews::status.eq("due"))
        .filter(plan_reviews::due_at.le(until.naive_utc()))
        .filter(not(exists(timescale_departures::table.filter(
            timescale_departures::review_id.eq(plan_reviews::id.nullable()),
        ))))
        .select((
            plan_reviews::case_id,
            cases::reference,
            plan_reviews::id,
            plan_reviews::kind,
            plan_reviews::number,
            plan_reviews::due_at,
            case_workflows::workflow,
            case_workflows::workflow_version,
        ))
        .order(plan_reviews::due_at)
        .into_boxed();
    type Row = (
        String,
        String,
        String,
        String,
        i32,
        NaiveDateTime,
        String,
        i32,
    );
    let rows: Vec<Row> = in_scope!(query, scope, plan_reviews::case_id).load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(case_id, reference, review_id, kind, number, due, workflow, version)| {
                // The case's version's words; Welsh from the newest version if it has none.
                let spec = engine
                    .registry
                    .get(&workflow, version as u32)
                    .and_then(|wf| wf.def.review_kinds.get(&kind).cloned());
                ReviewDue {
                    review: spec
                        .as_ref()
                        .map(|k| k.title.clone())
                        .unwrap_or_else(|| engine.review_title(&kind, Language::English)),
                    review_cy: spec
                        .and_then(|k| k.title_cy)
                        .unwrap_or_else(|| engine.review_title(&kind, Language::Welsh)),
                    overdue: due < now.naive_utc(),
                    case_id,
                    reference,
                    review_id,
                    kind,
                    number,
                    due_at: due.and_utc(),
                }
            },
        )
        .collect())
}

/// Children of open cases whose 18th birthday falls from `today` to `until`, soonest first.
pub fn turning_18(
    conn: &mut DbConn,
    scope: &Scope,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<TurningEighteen>, AppError> {
    let eighteen = Months::new(18 * 12);
    // A day's margin each side; the exact test below knows 29 February.
    let born_from = today
        .checked_sub_months(eighteen)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MIN);
    let born_to = until
        .checked_sub_months(eighteen)
        .and_then(|d| d.succ_opt())
        .unwrap_or(NaiveDate::MAX);
    let query = cases::table
        .filter(cases::status.eq("open"))
        .filter(cases::child_date_of_birth.ge(born_from))
        .filter(cases::child_date_of_birth.le(born_to))
        .select((
            cases::id,
            cases::reference,
            cases::child_date_of_birth,
            cases::status,
        ))
        .into_boxed();
    let rows: Vec<(String, String, NaiveDate, String)> =
        in_scope!(query, scope, cases::id).load(conn)?;
    let mut out: Vec<TurningEighteen> = rows
        .into_iter()
        .filter_map(|(case_id, reference, dob, status)| {
            let birthday = eighteenth_birthday(dob);
            (birthday >= today && birthday <= until).then_some(TurningEighteen {
                case_id,
                reference,
                birthday,
                status,
            })
        })
        .collect();
    out.sort_by_key(|t| t.birthday);
    Ok(out)
}

/// Email about a case that failed, or has failed at least once and is still being tried.
#[derive(Debug, Clone, Serialize)]
pub struct Undelivered {
    pub case_id: String,
    pub reference: String,
    pub kind: String,
    pub recipient: String,
    pub failed: bool,
    pub queued_at: DateTime<Utc>,
}

/// Email about the scope's cases that has not got through: its own (a case's email) or its
/// meetings' (an invitation names every child's case), oldest first.
pub fn undelivered(conn: &mut DbConn, scope: &Scope) -> Result<Vec<Undelivered>, AppError> {
    type Row = (String, String, String, String, String, NaiveDateTime);
    let troubled = outbox::status
        .eq("failed")
        .or(outbox::status.eq("pending").and(outbox::attempts.gt(0)));
    let own = outbox::table
        .inner_join(cases::table.on(cases::id.nullable().eq(outbox::case_id)))
        .filter(troubled)
        .select((
            cases::id,
            cases::reference,
            outbox::kind,
            outbox::recipient,
            outbox::status,
            outbox::created_at,
        ))
        .into_boxed();
    let mut rows: Vec<Row> = in_scope!(own, scope, cases::id).load(conn)?;
    let troubled = outbox::status
        .eq("failed")
        .or(outbox::status.eq("pending").and(outbox::attempts.gt(0)));
    let of_meetings = outbox::table
        .inner_join(
            meeting_cases::table.on(meeting_cases::meeting_id.nullable().eq(outbox::meeting_id)),
        )
        .inner_join(cases::table.on(cases::id.eq(meeting_cases::case_id)))
        .filter(outbox::case_id.is_null())
        .filter(troubled)
        .select((
            cases::id,
            cases::reference,
            outbox::kind,
            outbox::recipient,
            outbox::status,
            outbox::created_at,
        ))
        .into_boxed();
    rows.extend(in_scope!(of_meetings, scope, cases::id).load::<Row>(conn)?);
    rows.sort_by(|a, b| a.5.cmp(&b.5).then_with(|| a.1.cmp(&b.1)));
    Ok(rows
        .into_iter()
        .map(
            |(case_id, reference, kind, recipient, status, at)| Undelivered {
                case_id,
                reference,
                kind,
                recipient,
                failed: status == "failed",
                queued_at: at.and_utc(),
            },
        )
        .collect())
}
