//! The team lead's dashboard: the lists of what is late or coming up for their authority's
//! cases, and timeliness over a chosen period, per team and per authority; each list also as
//! CSV.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::overdue::{self, OverdueAction, OverdueStep, ReviewDue, Scope, TurningEighteen};
use super::risk_reviews::{self, ReturnInterviewDue, RiskReviewDue};
use super::wales_figures::{self, WalesFigures};
use crate::engine::contract::StateTag;
use crate::engine::Engine;
use crate::error::AppError;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::reference::calendar::WorkingCalendar;
use crate::storage::schema::{case_workflows, cases, step_history, users};
use crate::storage::DbConn;
use crate::time::wales::end_of_london_day;
use crate::time::wales::london_date;

/// Reviews due within this many working days are listed (the default).
pub const REVIEW_WINDOW_WORKING_DAYS: u32 = 10;
/// 18th birthdays within this many months are listed.
pub const BIRTHDAY_WINDOW_MONTHS: u32 = 6;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day, YYYY-MM-DD (default: three months before `to`).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

impl Period {
    pub fn resolve(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
        let parse = |raw: &str, field: &str| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
                AppError::bad_request(
                    "invalid_date",
                    field,
                    format!("{field} must be a date as YYYY-MM-DD; got {raw:?}"),
                )
            })
        };
        // A form sends an empty field for a date left out: that is no date.
        let given = |v: &Option<String>| {
            v.as_deref()
                .filter(|r| !r.trim().is_empty())
                .map(str::to_string)
        };
        let (to, from) = (given(&self.to), given(&self.from));
        let to = to
            .as_deref()
            .map(|r| parse(r, "to"))
            .transpose()?
            .unwrap_or(today);
        let from = match from.as_deref() {
            Some(r) => parse(r, "from")?,
            None => to.checked_sub_months(Months::new(3)).unwrap_or(to),
        };
        if from > to {
            return Err(AppError::bad_request(
                "invalid_period",
                "from",
                "from must not be after to",
            ));
        }
        if (to - from).num_days() > 3 * 366 {
            return Err(AppError::bad_request(
                "invalid_period",
                "from",
                "a period is at most three years",
            ));
        }
        Ok((from, to))
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timeliness {
    /// A team name or an authority code.
    pub group: String,
    pub decisions: usize,
    pub median_working_days_to_decision: Option<f64>,
    pub discussions: usize,
    pub median_working_days_to_strategy_discussion: Option<f64>,
    pub steps_with_timescale: usize,
    pub steps_within_timescale: usize,
    pub share_within_timescale: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub authority: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub lists: Lists,
    pub timeliness_by_team: Vec<Timeliness>,
    pub timeliness_by_authority: Vec<Timeliness>,
    /// The figures Wales reports, for children located in the authority.
    pub wales_figures: WalesFigures,
    /// Missing episodes that began in the period, for children located in the authority.
    pub missing_episodes_begun: i64,
}

pub fn may_view(actor: &Actor) -> Result<(), AppError> {
    if matches!(actor.role, RoleName::TeamLead | RoleName::SeniorManager) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "the dashboard is for team leads and senior managers".into(),
        ))
    }
}

/// The lists for one scope: what the dashboard and the digest show.
#[derive(Debug, Serialize)]
pub struct Lists {
    pub overdue_steps: Vec<OverdueStep>,
    pub overdue_actions: Vec<OverdueAction>,
    /// Contexts' own actions overdue (not the digest's: it is about children's cases).
    pub overdue_context_actions: Vec<overdue::OverdueContextAction>,
    pub reviews_due: Vec<ReviewDue>,
    pub turning_18: Vec<TurningEighteen>,
    pub undelivered: Vec<overdue::Undelivered>,
    /// Partners' reports no practitioner has acknowledged yet (WSP c2 p18).
    pub unacknowledged_referrals: Vec<crate::domain::partner_referral::Waiting>,
    /// Children's risk reviews due within the review window, or late.
    pub risk_reviews_due: Vec<RiskReviewDue>,
    /// Return interviews after a missing episode, not yet held, due within the window or late.
    pub return_interviews_due: Vec<ReturnInterviewDue>,
}

impl Lists {
    /// Every case (and context) the lists name, for the access log.
    pub fn case_ids(&self) -> Vec<&str> {
        let mut ids = self.digest_case_ids();
        ids.extend(
            self.overdue_context_actions
                .iter()
                .map(|a| a.context_id.as_str()),
        );
        ids.extend(
            self.unacknowledged_referrals
                .iter()
                .map(|r| r.case_id.as_str())
                .chain(
                    self.return_interviews_due
                        .iter()
                        .map(|r| r.case_id.as_str()),
                ),
        );
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The cases the digest names: the lists' cases but those whose only line is a return
    /// interview, which the email leaves out (it says nothing of a missing episode).
    pub fn digest_case_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .overdue_steps
            .iter()
            .map(|s| s.case_id.as_str())
            .chain(self.overdue_actions.iter().map(|a| a.case_id.as_str()))
            .chain(self.reviews_due.iter().map(|r| r.case_id.as_str()))
            .chain(self.turning_18.iter().map(|t| t.case_id.as_str()))
            .chain(self.undelivered.iter().map(|u| u.case_id.as_str()))
            .chain(self.risk_reviews_due.iter().map(|r| r.case_id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether the digest has nothing to say. Return interviews are not in it (an email says
    /// nothing of a missing episode), nor partners' reports (their own job chases those).
    pub fn is_empty(&self) -> bool {
        self.overdue_steps.is_empty()
            && self.overdue_actions.is_empty()
            && self.reviews_due.is_empty()
            && self.turning_18.is_empty()
            && self.undelivered.is_empty()
            && self.risk_reviews_due.is_empty()
    }
}

pub fn lists(
    conn: &mut DbConn,
    engine: &Engine,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Lists, AppError> {
    let today = london_date(now);
    let review_until = end_of_london_day(
        engine
            .calendar
            .add_working_days(today, REVIEW_WINDOW_WORKING_DAYS),
    );
    let birthday_until = today
        .checked_add_months(Months::new(BIRTHDAY_WINDOW_MONTHS))
        .unwrap_or(today);
    Ok(Lists {
        overdue_steps: overdue::overdue_steps(conn, engine, scope, now)?,
        overdue_actions: overdue::overdue_actions(conn, &engine.calendar, scope, today)?,
        overdue_context_actions: overdue::overdue_context_actions(
            conn,
            &engine.calendar,
            scope,
            today,
        )?,
        reviews_due: overdue::reviews_due(conn, engine, scope, now, review_until)?,
        turning_18: overdue::turning_18(conn, scope, today, birthday_until)?,
        undelivered: overdue::undelivered(conn, scope)?,
        unacknowledged_referrals: crate::domain::partner_referral::unacknowledged(
            engine,
            conn,
            match scope {
                Scope::Authority(a) => Some(a.as_str()),
                Scope::All => None,
            },
            now,
        )?,
        risk_reviews_due: risk_reviews::risk_reviews_due(
            conn,
            scope,
            today,
            london_date(review_until),
        )?,
        return_interviews_due: risk_reviews::return_interviews_due(
            conn,
            scope,
            now,
            london_date(review_until),
        )?,
    })
}

pub fn build(
    conn: &mut DbConn,
    engine: &Engine,
    actor: &Actor,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    may_view(actor)?;
    let (from, to) = period.resolve(london_date(now))?;
    let scope = Scope::Authority(actor.authority.clone());
    let lists = lists(conn, engine, &scope, now)?;
    let (by_team, by_authority) = timeliness(conn, engine, &actor.authority, from, to, now)?;
    let figures = wales_figures::compute(conn, engine, &actor.authority, from, to)?;
    let missing = risk_reviews::missing_episodes_begun(conn, &actor.authority, from, to)?;
    Ok(Dashboard {
        authority: actor.authority.clone(),
        period_from: from,
        period_to: to,
        generated_at: now,
        lists,
        timeliness_by_team: by_team,
        timeliness_by_authority: by_authority,
        wales_figures: figures,
        missing_episodes_begun: missing,
    })
}

pub(super) fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    })
}

#[derive(Default)]
struct Tally {
    to_decision: Vec<i64>,
    to_discussion: Vec<i64>,
    with_timescale: usize,
    within: usize,
}

impl Tally {
    fn figures(mut self, group: String) -> Timeliness {
        Timeliness {
            group,
            decisions: self.to_decision.len(),
            median_working_days_to_decision: median(&mut self.to_decision),
            discussions: self.to_discussion.len(),
            median_working_days_to_strategy_discussion: median(&mut self.to_discussion),
            steps_with_timescale: self.with_timescale,
            steps_within_timescale: self.within,
            share_within_timescale: (self.with_timescale > 0)
                .then(|| self.within as f64 / self.with_timescale as f64),
        }
    }
}

/// Steps of the primary pathway finished in the period, for children located in `authority`:
/// working days from the report to the decision (leaving "report received") and to the strategy
/// discussion (leaving "strategy discussion"), and the share of steps with a timescale finished
/// within it. A step still running whose deadline passed in the period counts as a step late:
/// otherwise a step left late for weeks would not lower the share until it finished. Per team
/// (of the person who recorded the report) and for the authority as a whole.
/// Other authorities' figures are not shown: they are not the team lead's to manage, and reading
/// all of Wales's steps would cost the dashboard its speed.
fn timeliness(
    conn: &mut DbConn,
    engine: &Engine,
    authority: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Vec<Timeliness>, Vec<Timeliness>), AppError> {
    let start = end_of_london_day(from - chrono::Duration::days(1)).naive_utc();
    let end = end_of_london_day(to).naive_utc();
    let primary = engine.registry.primary().name().to_string();
    // Teams come from a map rather than a join: one lookup per row fewer, on tens of
    // thousands of rows.
    let team_of: HashMap<String, String> = users::table
        .select((users::id, users::team))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    type Row = (
        String,
        String,
        NaiveDateTime,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let located_here = diesel::alias!(cases as located_here);
    let rows: Vec<Row> = step_history::table
        .inner_join(cases::table)
        .filter(
            step_history::case_id.eq_any(
                located_here
                    .filter(located_here.field(cases::located_authority).eq(authority))
                    .filter(located_here.field(cases::restricted).eq(false))
                    .select(located_here.field(cases::id)),
            ),
        )
        .filter(step_history::workflow.eq(&primary))
        .filter(step_history::left_at.gt(start))
        .filter(step_history::left_at.le(end))
        .select((
            cases::located_authority,
            cases::created_by,
            cases::created_at,
            step_history::state,
            step_history::left_at,
            step_history::due_at,
        ))
        .load(conn)?;
    let calendar: &WorkingCalendar = &engine.calendar;
    // The decision and the strategy discussion by their contract tags, in every version cases
    // have run on: a board may rename either.
    let tagged = |tag: StateTag| -> HashSet<String> {
        engine
            .registry
            .all_versions(&primary)
            .iter()
            .filter_map(|wf| wf.def.state_tagged(tag).map(str::to_string))
            .collect()
    };
    let (decision, discussion) = (
        tagged(StateTag::Decision),
        tagged(StateTag::StrategyDiscussion),
    );
    let mut teams: BTreeMap<String, Tally> = BTreeMap::new();
    let mut authorities: HashMap<String, Tally> = HashMap::new();
    for (located, created_by, reported, state, left, due) in rows {
        let (is_decision, is_discussion) = (decision.contains(&state), discussion.contains(&state));
        let days = (is_decision || is_discussion).then(|| {
            calendar
                .working_days_between(london_date(reported.and_utc()), london_date(left.and_utc()))
        });
        let add = |t: &mut Tally| {
            if let Some(d) = days {
                if is_decision {
                    t.to_decision.push(d);
                } else {
                    t.to_discussion.push(d);
                }
            }
            if let Some(due) = due {
                t.with_timescale += 1;
                if left <= due {
                    t.within += 1;
                }
            }
        };
        let team = team_of.get(&created_by).cloned().unwrap_or_default();
        add(teams.entry(team).or_default());
        add(authorities.entry(located).or_default());
    }
    // Still running and already past its deadline, the deadline within the period.
    let late_until = end.min(now.naive_utc());
    let running: Vec<(String, String)> = case_workflows::table
        .inner_join(cases::table)
        .filter(cases::located_authority.eq(authority))
        .filter(cases::restricted.eq(false))
        .filter(case_workflows::workflow.eq(&primary))
        .filter(case_workflows::finished_at.is_null())
        .filter(case_workflows::due_at.gt(start))
        .filter(case_workflows::due_at.lt(late_until))
        .select((cases::located_authority, cases::created_by))
        .load(conn)?;
    for (located, created_by) in running {
        let late = |t: &mut Tally| t.with_timescale += 1;
        let team = team_of.get(&created_by).cloned().unwrap_or_default();
        late(teams.entry(team).or_default());
        late(authorities.entry(located).or_default());
    }
    let mut authorities: Vec<(String, Tally)> = authorities.into_iter().collect();
    authorities.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((
        teams.into_iter().map(|(g, t)| t.figures(g)).collect(),
        authorities.into_iter().map(|(g, t)| t.figures(g)).collect(),
    ))
}

/// A cell as typed, made safe for spreadsheets: text starting with = + - @ is what they run as
/// a formula, so it is prefixed with an apostrophe.
fn cell(value: impl ToString) -> String {
    let s = value.to_string();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The cases one CSV list names (none for the timeliness figures).
pub fn csv_case_ids<'a>(dashboard: &'a Dashboard, list: &str) -> Vec<&'a str> {
    let l = &dashboard.lists;
    let mut ids: Vec<&str> = match list {
        "overdue_steps" => l.overdue_steps.iter().map(|s| s.case_id.as_str()).collect(),
        "overdue_actions" => l
            .overdue_actions
            .iter()
            .map(|a| a.case_id.as_str())
            .collect(),
        "overdue_context_actions" => l
            .overdue_context_actions
            .iter()
            .map(|a| a.context_id.as_str())
            .collect(),
        "reviews_due" => l.reviews_due.iter().map(|r| r.case_id.as_str()).collect(),
        "turning_18" => l.turning_18.iter().map(|t| t.case_id.as_str()).collect(),
        "risk_reviews_due" => l
            .risk_reviews_due
            .iter()
            .map(|r| r.case_id.as_str())
            .collect(),
        "return_interviews_due" => l
            .return_interviews_due
            .iter()
            .map(|r| r.case_id.as_str())
            .collect(),
        _ => Vec::new(),
    };
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One list of the dashboard as CSV, with a header row.
pub fn csv(dashboard: &Dashboard, list: &str) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: Vec<String>| {
        w.write_record(fields.iter().map(cell))
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    };
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match list {
        "overdue_steps" => {
            row(strs(&["reference", "workflow", "step", "due_at", "working_days_overdue"]))?;
            for s in &dashboard.lists.overdue_steps {
                row(vec![s.reference.clone(), s.workflow.clone(), s.step.clone(), s.due_at.to_rfc3339(), s.working_days_overdue.to_string()])?;
            }
        }
        "overdue_actions" => {
            row(strs(&["reference", "title", "owner_name", "agency", "due_date", "working_days_overdue", "escalated"]))?;
            for a in &dashboard.lists.overdue_actions {
                row(vec![a.reference.clone(), a.title.clone(), a.owner_name.clone(), opt(&a.agency), a.due_date.to_string(), a.working_days_overdue.to_string(), a.escalated.to_string()])?;
            }
        }
        "overdue_context_actions" => {
            row(strs(&["context", "title", "disruption", "owner_name", "agency", "due_date", "working_days_overdue", "escalated"]))?;
            for a in &dashboard.lists.overdue_context_actions {
                row(vec![a.reference.clone(), a.title.clone(), a.disruption.to_string(), a.owner_name.clone(), opt(&a.agency), a.due_date.to_string(), a.working_days_overdue.to_string(), a.escalated.to_string()])?;
            }
        }
        "reviews_due" => {
            row(strs(&["reference", "review", "number", "due_at", "overdue"]))?;
            for r in &dashboard.lists.reviews_due {
                row(vec![r.reference.clone(), r.review.clone(), r.number.to_string(), r.due_at.to_rfc3339(), r.overdue.to_string()])?;
            }
        }
        "turning_18" => {
            row(strs(&["reference", "birthday", "status"]))?;
            for t in &dashboard.lists.turning_18 {
                row(vec![t.reference.clone(), t.birthday.to_string(), t.status.clone()])?;
            }
        }
        "risk_reviews_due" => {
            row(strs(&["reference", "due_on", "reason", "overdue"]))?;
            for r in &dashboard.lists.risk_reviews_due {
                row(vec![r.reference.clone(), r.due_on.to_string(), r.reason.clone(), r.overdue.to_string()])?;
            }
        }
        "return_interviews_due" => {
            row(strs(&["reference", "due_at", "offered", "overdue"]))?;
            for r in &dashboard.lists.return_interviews_due {
                row(vec![r.reference.clone(), r.due_at.to_rfc3339(), r.offered.to_string(), r.overdue.to_string()])?;
            }
        }
        "timeliness" => {
            row(strs(&["grouping", "group", "decisions", "median_working_days_to_decision", "discussions", "median_working_days_to_strategy_discussion", "steps_with_timescale", "steps_within_timescale", "share_within_timescale"]))?;
            for (grouping, list) in [("team", &dashboard.timeliness_by_team), ("authority", &dashboard.timeliness_by_authority)] {
                for t in list {
                    row(vec![grouping.to_string(), t.group.clone(), t.decisions.to_string(), opt(&t.median_working_days_to_decision), t.discussions.to_string(), opt(&t.median_working_days_to_strategy_discussion), t.steps_with_timescale.to_string(), t.steps_within_timescale.to_string(), opt(&t.share_within_timescale.map(|s| format!("{s:.3}")))])?;
                }
            }
        }
        "wales_figures" => {
            let f = &dashboard.wales_figures;
            let period = |r: &mut dyn FnMut(Vec<String>) -> Result<(), AppError>, figure: &str, count: usize, out_of: Option<usize>, mean: Option<f64>, median: Option<f64>| {
                let days = |d: Option<f64>| d.map(|d| format!("{d:.1}")).unwrap_or_default();
                r(vec![dashboard.period_from.to_string(), dashboard.period_to.to_string(), figure.to_string(), count.to_string(), opt(&out_of), days(mean), days(median)])
            };
            row(strs(&["period_from", "period_to", "figure", "count", "out_of", "mean_days", "median_days"]))?;
            period(&mut row, "reports_decided_within_one_working_day", f.reports_decided_within_one_working_day, Some(f.reports_decided), None, None)?;
            period(&mut row, "initial_conferences_within_timescale", f.initial_conferences_within_timescale, Some(f.initial_conferences), None, None)?;
            period(&mut row, "re_registrations_within_12_months", f.re_registrations_within_12_months, Some(f.registrations), None, None)?;
            period(&mut row, "time_on_register_of_those_deregistered", f.deregistrations, None, f.mean_days_on_register, f.median_days_on_register)?;
        }
        other => {
            return Err(AppError::bad_request(
                "unknown_list",
                "list",
                format!("{other:?} is not a list; lists are overdue_steps, overdue_actions, overdue_context_actions, reviews_due, turning_18, risk_reviews_due, return_interviews_due, timeliness, wales_figures"),
            ))
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3, 1, 2]), Some(2.0));
        assert_eq!(median(&mut [4, 1, 2, 3]), Some(2.5));
    }

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("Safety plan"), "Safety plan");
    }
}
