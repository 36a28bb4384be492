//! The figures Wales reports on child protection, for one authority over a period, computed
//! from the steps each case recorded: reports decided within one working day, initial child
//! protection conferences within their timescale, time on the register for the children who came
//! off it, and re-registrations within 12 months of a registration ending. Each figure carries
//! its definition in both languages in the catalogue (`figure_*_definition`).
//!
//! The steps and events are found by their contract tags, in every version cases have run on,
//! so a board may rename them. Restricted cases are left out, as from the timeliness figures: a
//! count is something about a child too.
use std::collections::{BTreeMap, HashSet};

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::engine::contract::{EventTag, StateTag};
use crate::engine::Engine;
use crate::error::AppError;
use crate::storage::schema::{case_workflows, cases, child_cases, step_history};
use crate::storage::DbConn;
use crate::time::wales::{end_of_london_day, london_date};

/// A registration ending this long before a new one makes the new one a re-registration.
pub const RE_REGISTRATION_MONTHS: u32 = 12;

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct WalesFigures {
    /// Reports whose decision was recorded in the period.
    pub reports_decided: usize,
    /// Of those, decided on the day of the report or the next working day.
    pub reports_decided_within_one_working_day: usize,
    /// Initial child protection conferences whose outcome was recorded in the period.
    pub initial_conferences: usize,
    /// Of those, recorded by the step's deadline (15 working days from the strategy meeting).
    pub initial_conferences_within_timescale: usize,
    /// Children placed on the register in the period.
    pub registrations: usize,
    /// Of those, a child whose previous registration ended within the 12 months before.
    pub re_registrations_within_12_months: usize,
    /// Children who came off the register in the period.
    pub deregistrations: usize,
    /// Their time on the register, in days, averaged and at the median.
    pub mean_days_on_register: Option<f64>,
    pub median_days_on_register: Option<f64>,
}

/// The figures for children located in `authority`, for the period `from`..=`to` (days in Wales).
pub fn compute(
    conn: &mut DbConn,
    engine: &Engine,
    authority: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<WalesFigures, AppError> {
    let start = end_of_london_day(from - chrono::Duration::days(1)).naive_utc();
    let end = end_of_london_day(to).naive_utc();
    let primary = engine.registry.primary().name().to_string();
    let versions = engine.registry.all_versions(&primary);
    let states = |tag: StateTag| -> HashSet<String> {
        versions
            .iter()
            .filter_map(|wf| wf.def.state_tagged(tag).map(str::to_string))
            .collect()
    };
    let events = |tag: EventTag| -> HashSet<String> {
        versions
            .iter()
            .filter_map(|wf| wf.def.event_tagged(tag).map(str::to_string))
            .collect()
    };
    let (decision, conference) = (
        states(StateTag::Decision),
        states(StateTag::InitialConference),
    );
    let (registers, at_18) = (events(EventTag::Registers), events(EventTag::CloseAt18));

    // Every step of the pathway this authority's children left, up to the end of the period:
    // registrations before the period are needed to know who came off the register in it, and
    // registrations ending before it to know who is registered again.
    type Step = (
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
        String,
    );
    let steps: Vec<Step> = step_history::table
        .inner_join(cases::table)
        .filter(cases::located_authority.eq(authority))
        .filter(cases::restricted.eq(false))
        .filter(step_history::workflow.eq(&primary))
        .filter(step_history::left_at.le(end))
        // Only the rows a figure reads: decisions and conferences in the period, and every
        // registration up to its end; not the whole history of the authority's cases.
        .filter(
            step_history::state
                .eq_any(
                    decision
                        .iter()
                        .chain(&conference)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
                .and(step_history::left_at.gt(start))
                .or(step_history::left_by_event
                    .eq_any(registers.iter().cloned().collect::<Vec<_>>())),
        )
        .select((
            cases::id,
            step_history::state,
            step_history::entered_at,
            step_history::left_at,
            step_history::due_at,
            step_history::left_by_event,
        ))
        .load(conn)?;
    let calendar = &engine.calendar;
    let in_period = |t: &NaiveDateTime| *t > start && *t <= end;
    let mut f = WalesFigures::default();
    for (_, state, entered, left, due, event) in &steps {
        if !in_period(left) || at_18.contains(event) {
            continue;
        }
        if decision.contains(state) {
            f.reports_decided += 1;
            let days = calendar
                .working_days_between(london_date(entered.and_utc()), london_date(left.and_utc()));
            if days <= 1 {
                f.reports_decided_within_one_working_day += 1;
            }
        }
        if conference.contains(state) {
            f.initial_conferences += 1;
            if due.is_some_and(|d| *left <= d) {
                f.initial_conferences_within_timescale += 1;
            }
        }
    }

    // A registration lasts until the case's pathway finishes: de-registered at a review, at
    // 18, or for another reason the plan's end records.
    let registered: Vec<String> = {
        let mut ids: Vec<String> = steps
            .iter()
            .filter(|s| registers.contains(&s.5))
            .map(|s| s.0.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let finished: BTreeMap<String, NaiveDateTime> = case_workflows::table
        .filter(case_workflows::case_id.eq_any(&registered))
        .filter(case_workflows::workflow.eq(&primary))
        .filter(case_workflows::finished_at.is_not_null())
        .select((case_workflows::case_id, case_workflows::finished_at))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(id, at)| at.map(|t| (id, t)))
        .collect();
    // The same child is the same child record: cases a practitioner confirmed are one child's.
    let child_of: BTreeMap<String, String> = child_cases::table
        .filter(child_cases::case_id.eq_any(&registered))
        .select((child_cases::case_id, child_cases::child_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    struct Registration<'a> {
        child: Option<&'a String>,
        at: NaiveDateTime,
        ended: Option<NaiveDateTime>,
    }
    let registrations: Vec<Registration> = steps
        .iter()
        .filter(|s| registers.contains(&s.5))
        .map(|(case, _, _, left, _, _)| Registration {
            child: child_of.get(case),
            at: *left,
            ended: finished.get(case).copied().filter(|end| end >= left),
        })
        .collect();
    let mut days_on_register = Vec::new();
    for r in &registrations {
        if in_period(&r.at) {
            f.registrations += 1;
            let since = london_date(r.at.and_utc())
                .checked_sub_months(Months::new(RE_REGISTRATION_MONTHS))
                .unwrap_or(NaiveDate::MIN);
            let again = registrations.iter().any(|earlier| {
                earlier.child.is_some()
                    && earlier.child == r.child
                    && earlier.at < r.at
                    && earlier
                        .ended
                        .is_some_and(|e| e <= r.at && london_date(e.and_utc()) >= since)
            });
            if again {
                f.re_registrations_within_12_months += 1;
            }
        }
        if let Some(e) = r.ended.filter(|e| in_period(e)) {
            f.deregistrations += 1;
            days_on_register
                .push((london_date(e.and_utc()) - london_date(r.at.and_utc())).num_days());
        }
    }
    if !days_on_register.is_empty() {
        f.mean_days_on_register =
            Some(days_on_register.iter().sum::<i64>() as f64 / days_on_register.len() as f64);
        f.median_days_on_register = super::dashboard::median(&mut days_on_register);
    }
    Ok(f)
}
