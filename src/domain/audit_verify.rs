//! `audit verify`: everything the database says about its own history, checked. Each case's
//! chain is recomputed with the key; each trail is replayed and compared with the case it
//! belongs to (its version, the state of each workflow, its lasting facts, the child's details,
//! its status); the meetings the trail names must exist; every access-log line and security
//! event must carry its keyed MAC; and all of it must agree with the checkpoints signed before,
//! where the only case allowed to be missing is one with a tombstone.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::audit::{check_hash, AuditKey, EntryHash, GENESIS};
use super::checkpoint::{self, Folded};
use crate::engine::Engine;
use crate::error::AppError;
use crate::storage::models::{AccessLogRow, AuditEventRow, CaseRow, SecurityEventRow};
use crate::storage::schema::{
    access_log, audit_events, case_access_grants, case_involvements, case_workflows, cases,
    meeting_cases, meetings, security_events,
};
use crate::storage::DbConn;

#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    pub cases: usize,
    pub entries: usize,
    /// Entries written before the trail was keyed, trusted because a checkpoint covers them.
    pub legacy_entries: usize,
    pub access_lines: usize,
    pub security_events: usize,
    pub checkpoint_lines: usize,
    pub tombstones: usize,
    pub problems: Vec<String>,
}

/// Recomputes, replays and compares everything; each problem names the case by reference and
/// the entry by number.
pub fn verify(
    conn: &mut DbConn,
    key: &AuditKey,
    engine: &Engine,
    checkpoints: &Path,
) -> Result<VerifyReport, AppError> {
    let (folded, file_problems) = checkpoint::read(checkpoints, key)?;
    let mut report = VerifyReport {
        checkpoint_lines: folded.lines,
        problems: file_problems,
        ..VerifyReport::default()
    };
    let all_cases: Vec<CaseRow> = cases::table
        .order(cases::reference)
        .select(CaseRow::as_select())
        .load(conn)?;
    report.cases = all_cases.len();
    let present: BTreeSet<&str> = all_cases.iter().map(|c| c.id.as_str()).collect();
    for case in &all_cases {
        let rows: Vec<AuditEventRow> = audit_events::table
            .filter(audit_events::case_id.eq(&case.id))
            .order(audit_events::seq)
            .select(AuditEventRow::as_select())
            .load(conn)?;
        report.entries += rows.len();
        let problems_before = report.problems.len();
        check_chain(key, case, &rows, &folded, &mut report);
        if report.problems.len() == problems_before {
            replay(conn, engine, case, &rows, &mut report.problems)?;
        }
        if let Some((seq, hash)) = folded.cases.get(&case.id) {
            let signed = rows.iter().find(|r| r.seq == *seq);
            if signed.map(|r| &r.hash) != Some(hash) {
                report.problems.push(format!(
                    "{}: entry {seq}, signed at a checkpoint, is gone or changed",
                    case.reference
                ));
            }
        }
        if folded.tombstones.contains_key(&case.id) {
            report.problems.push(format!(
                "{}: a tombstone says it was destroyed, yet it is here; run its destruction again",
                case.reference
            ));
        }
    }
    // Cases the checkpoints knew that are gone: only a tombstone accounts for one.
    for (id, (seq, _)) in &folded.cases {
        if !present.contains(id.as_str()) {
            match folded.tombstones.get(id) {
                Some(_) => report.tombstones += 1,
                None => report.problems.push(format!(
                    "case {id}, signed at a checkpoint with {seq} entries, is missing and has no tombstone"
                )),
            }
        }
    }
    // A trail with no case: moved off its case, or its case deleted.
    let orphans: Vec<String> = audit_events::table
        .filter(diesel::dsl::not(
            audit_events::case_id.eq_any(cases::table.select(cases::id)),
        ))
        .select(audit_events::case_id)
        .distinct()
        .load(conn)?;
    for id in orphans {
        report
            .problems
            .push(format!("audit entries of case {id}, which does not exist"));
    }
    check_access_log(conn, key, &folded, &present, &mut report)?;
    check_security_events(conn, key, &folded, &mut report)?;
    Ok(report)
}

fn check_chain(
    key: &AuditKey,
    case: &CaseRow,
    rows: &[AuditEventRow],
    folded: &Folded,
    report: &mut VerifyReport,
) {
    let reference = &case.reference;
    let mut prev = GENESIS.to_string();
    let covered_to = folded.cases.get(&case.id).map(|(seq, _)| *seq).unwrap_or(0);
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if row.seq != expected_seq {
            report.problems.push(format!(
                "{reference}: entry {expected_seq} is missing (found {})",
                row.seq
            ));
            return;
        }
        if row.prev_hash != prev {
            report.problems.push(format!(
                "{reference}: entry {} does not follow entry {}",
                row.seq,
                row.seq - 1
            ));
        }
        match check_hash(key, row) {
            EntryHash::Keyed => {}
            EntryHash::Legacy if row.seq <= covered_to => report.legacy_entries += 1,
            EntryHash::Legacy => report.problems.push(format!(
                "{reference}: entry {} is not keyed, and no checkpoint covers it",
                row.seq
            )),
            EntryHash::Wrong => report.problems.push(format!(
                "{reference}: entry {} was changed after it was written, or was not written by this service",
                row.seq
            )),
        }
        prev = row.hash.clone();
    }
    if rows.len() as i64 != case.audit_seq || prev != case.audit_head {
        report.problems.push(format!(
            "{reference}: the case expects {} entries ending in {}…, the trail has {}",
            case.audit_seq,
            case.audit_head.get(..12).unwrap_or(&case.audit_head),
            rows.len()
        ));
    }
}

fn payload(row: &AuditEventRow) -> Value {
    serde_json::from_str(&row.payload).unwrap_or(Value::Null)
}

/// Replays a trail and compares what it says with the case row and its workflow rows.
fn replay(
    conn: &mut DbConn,
    engine: &Engine,
    case: &CaseRow,
    rows: &[AuditEventRow],
    problems: &mut Vec<String>,
) -> Result<(), AppError> {
    let reference = &case.reference;
    let primary = engine.registry.primary();
    let mut states: BTreeMap<String, String> = BTreeMap::new();
    let mut facts: Map<String, Value> = Map::new();
    let mut status = "open".to_string();
    let mut child: Option<Value> = None;
    let mut meetings_named: BTreeSet<String> = BTreeSet::new();
    let mut created_facts: Option<Map<String, Value>> = None;
    // Who may open the case: its team, its restriction, the people named on it and the users
    // involved in it, as the trail gave them. A row added outside the trail is access taken.
    let mut team: Option<Option<String>> = None;
    let mut restricted = false;
    let mut named: BTreeSet<String> = BTreeSet::new();
    let mut involved: Vec<String> = Vec::new();
    let lasting = |facts: &mut Map<String, Value>, workflow: &str, version: u32| {
        if let Some(wf) = engine.registry.get(workflow, version) {
            facts.retain(|k, _| !wf.is_per_event(k));
        }
    };
    for row in rows {
        let p = payload(row);
        if let Some(m) = p.get("meeting_id").and_then(Value::as_str) {
            meetings_named.insert(m.to_string());
        }
        match row.kind.as_str() {
            "case_created" => {
                child = p.get("child").cloned();
                created_facts = p.get("facts").and_then(Value::as_object).cloned();
                team = p.get("team").map(|t| t.as_str().map(str::to_string));
                // Whoever recorded the report is involved in it.
                involved.push(row.actor_id.clone());
            }
            "team_assigned" => team = Some(p["team"].as_str().map(str::to_string)),
            "languages_recorded" => {
                if let Some(Value::Object(c)) = child.as_mut() {
                    for k in ["language", "family_language", "welsh_offer"] {
                        c.insert(k.to_string(), p[k].clone());
                    }
                }
            }
            "child_corrected" => {
                if let Some(Value::Object(c)) = child.as_mut() {
                    for k in ["name", "date_of_birth", "gender"] {
                        c.insert(k.to_string(), p["after"][k].clone());
                    }
                }
            }
            "case_restricted" => {
                restricted = true;
                named.extend(p["named"].as_str().map(str::to_string));
            }
            "restriction_lifted" => restricted = false,
            "access_named" => named.extend(p["user_id"].as_str().map(str::to_string)),
            // The colleague a case was handed to is named on it when they could not open it.
            "handed_over" => named.extend(p["named"].as_str().map(str::to_string)),
            "access_withdrawn" => {
                if let Some(u) = p["user_id"].as_str() {
                    named.remove(u);
                }
            }
            "involvement_added" => involved.extend(p["user_id"].as_str().map(str::to_string)),
            "involvement_removed" => {
                if let Some(i) = p["user_id"]
                    .as_str()
                    .and_then(|u| involved.iter().position(|x| x == u))
                {
                    involved.remove(i);
                }
            }
            "workflow_started" => {
                let (Some(wf), Some(state)) = (&row.workflow, &row.to_state) else {
                    continue;
                };
                states.insert(wf.clone(), state.clone());
                if let (Some(f), true) = (created_facts.take(), *wf == primary.name()) {
                    let version = p["workflow_version"].as_u64().unwrap_or(0) as u32;
                    facts = f;
                    lasting(&mut facts, wf, version);
                }
            }
            "transition" => {
                let (Some(wf), Some(state)) = (&row.workflow, &row.to_state) else {
                    continue;
                };
                states.insert(wf.clone(), state.clone());
                let version = p["workflow_version"].as_u64().unwrap_or(0) as u32;
                if let Some(sent) = p.get("facts").and_then(Value::as_object) {
                    for (k, v) in sent {
                        facts.insert(k.clone(), v.clone());
                    }
                }
                lasting(&mut facts, wf, version);
                // A transfer between authorities moves the child's authorities, and at its end
                // the case's team and the holding authority's access by involvement or naming.
                let moved = &p["authorities"];
                if let (Some(Value::Object(c)), Some(to)) = (child.as_mut(), moved["to"].as_str()) {
                    match moved["transfer"].as_str() {
                        Some("begins") => {
                            c.insert("residence_authority".into(), Value::String(to.to_string()));
                        }
                        Some("completes") => {
                            c.insert("located_authority".into(), Value::String(to.to_string()));
                            team = Some(None);
                            let ended = &moved["access_ended"];
                            for u in ended["involvements_ended"].as_array().into_iter().flatten() {
                                if let Some(i) = u
                                    .as_str()
                                    .and_then(|u| involved.iter().position(|x| x == u))
                                {
                                    involved.remove(i);
                                }
                            }
                            for u in ended["naming_ended"].as_array().into_iter().flatten() {
                                if let Some(u) = u.as_str() {
                                    named.remove(u);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                let terminal = engine
                    .registry
                    .get(wf, version)
                    .and_then(|w| w.state(state).map(|s| s.terminal))
                    .unwrap_or(false);
                if terminal && *wf == primary.name() {
                    status = "closed".into();
                }
            }
            // A case moved to a new version of its workflow: its step, by the mapping.
            "workflow_migrated" => {
                let (Some(wf), Some(state)) = (&row.workflow, &row.to_state) else {
                    continue;
                };
                states.insert(wf.clone(), state.clone());
                let version = p["workflow_version"].as_u64().unwrap_or(0) as u32;
                lasting(&mut facts, wf, version);
            }
            "handover" => {
                if let Some(s) = p.get("case_status").and_then(Value::as_str) {
                    status = s.to_string();
                }
            }
            _ => {}
        }
    }
    if let Some(last) = rows.last().filter(|r| r.case_version > 0) {
        if last.case_version != case.version {
            problems.push(format!(
                "{reference}: the trail leaves the case at version {}, the case says {}",
                last.case_version, case.version
            ));
        }
    }
    let stored: Vec<(String, String)> = case_workflows::table
        .filter(case_workflows::case_id.eq(&case.id))
        .select((case_workflows::workflow, case_workflows::state))
        .load(conn)?;
    let stored: BTreeMap<String, String> = stored.into_iter().collect();
    if stored != states {
        problems.push(format!(
            "{reference}: its workflows stand at {stored:?}, the trail leaves them at {states:?}"
        ));
    }
    let recorded = super::transition::case_facts(case);
    if recorded != facts {
        let differing: Vec<&String> = recorded
            .keys()
            .chain(facts.keys())
            .filter(|k| recorded.get(*k) != facts.get(*k))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        problems.push(format!(
            "{reference}: its recorded facts differ from the trail's in {differing:?}"
        ));
    }
    if case.status != status {
        problems.push(format!(
            "{reference}: its status is {}, the trail leaves it {status}",
            case.status
        ));
    }
    if let Some(c) = child {
        let same = |field: &str, value: String| {
            c.get(field)
                .and_then(Value::as_str)
                .is_none_or(|v| v == value)
        };
        let mismatched: Vec<&str> = [
            ("name", case.child_name.clone()),
            ("date_of_birth", case.child_date_of_birth.to_string()),
            ("gender", case.child_gender.clone()),
            ("located_authority", case.located_authority.clone()),
            ("residence_authority", case.residence_authority.clone()),
            ("existing_plan", case.existing_plan.clone()),
            ("language", case.child_language.clone()),
            ("family_language", case.family_language.clone()),
            ("welsh_offer", case.welsh_offer.clone()),
        ]
        .into_iter()
        .filter(|(f, v)| !same(f, v.clone()))
        .map(|(f, _)| f)
        .collect();
        let flags_differ = c
            .get("looked_after")
            .and_then(Value::as_bool)
            .is_some_and(|v| v != case.looked_after)
            || c.get("in_secure_estate")
                .and_then(Value::as_bool)
                .is_some_and(|v| v != case.in_secure_estate);
        if !mismatched.is_empty() || flags_differ {
            problems.push(format!(
                "{reference}: the child's details differ from what the trail recorded ({})",
                if mismatched.is_empty() {
                    "flags".to_string()
                } else {
                    mismatched.join(", ")
                }
            ));
        }
    }
    if let Some(team) = team {
        if team != case.team {
            problems.push(format!(
                "{reference}: its team is {:?}, the trail gave it {team:?}",
                case.team
            ));
        }
    }
    if restricted != case.restricted {
        problems.push(format!(
            "{reference}: it is {}restricted, the trail leaves it {}restricted",
            if case.restricted { "" } else { "not " },
            if restricted { "" } else { "not " }
        ));
    }
    let granted: BTreeSet<String> = case_access_grants::table
        .filter(case_access_grants::case_id.eq(&case.id))
        .select(case_access_grants::user_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    if granted != named {
        problems.push(format!(
            "{reference}: {} people are named on it, the trail named {}",
            granted.len(),
            named.len()
        ));
    }
    let mut users_involved: Vec<String> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .filter(case_involvements::user_id.is_not_null())
        .select(case_involvements::user_id.assume_not_null())
        .load(conn)?;
    users_involved.sort_unstable();
    involved.sort_unstable();
    if users_involved != involved {
        problems.push(format!(
            "{reference}: {} users are involved in it, the trail involved {}",
            users_involved.len(),
            involved.len()
        ));
    }
    for m in meetings_named {
        let linked: i64 = meeting_cases::table
            .inner_join(meetings::table)
            .filter(meeting_cases::meeting_id.eq(&m))
            .filter(meeting_cases::case_id.eq(&case.id))
            .count()
            .get_result(conn)?;
        if linked == 0 {
            problems.push(format!(
                "{reference}: the trail names meeting {m}, which is gone"
            ));
        }
    }
    Ok(())
}

fn check_access_log(
    conn: &mut DbConn,
    key: &AuditKey,
    folded: &Folded,
    present: &BTreeSet<&str>,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let rows: Vec<AccessLogRow> = access_log::table
        .select(AccessLogRow::as_select())
        .load(conn)?;
    report.access_lines = rows.len();
    // A view of a context is logged under the context's id.
    let contexts: BTreeSet<String> = crate::storage::schema::contexts::table
        .select(crate::storage::schema::contexts::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut bad = 0;
    for r in &rows {
        let expected =
            checkpoint::access_mac(key, &r.id, &r.user_id, &r.case_id, &r.action, &r.path, r.at);
        if r.mac != expected {
            bad += 1;
        }
        if !present.contains(r.case_id.as_str())
            && !folded.tombstones.contains_key(&r.case_id)
            && !contexts.contains(&r.case_id)
        {
            report.problems.push(format!(
                "access-log line {} names case {}, which does not exist",
                r.id, r.case_id
            ));
        }
    }
    if bad > 0 {
        report.problems.push(format!(
            "{bad} access-log lines were changed, forged, or written before the log was keyed"
        ));
    }
    compare_seals(
        "access log",
        &folded.access_days,
        |from, to| checkpoint::access_seals(conn, from, to),
        report,
    )?;
    compare_parts(
        conn,
        "access log",
        checkpoint::Log::Access,
        &folded.access_parts,
        report,
    )
}

fn check_security_events(
    conn: &mut DbConn,
    key: &AuditKey,
    folded: &Folded,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let rows: Vec<SecurityEventRow> = security_events::table
        .select(SecurityEventRow::as_select())
        .load(conn)?;
    report.security_events = rows.len();
    let bad = rows
        .iter()
        .filter(|r| {
            r.mac
                != checkpoint::security_mac(
                    key,
                    &r.id,
                    r.at,
                    &r.kind,
                    r.account.as_deref(),
                    r.address.as_deref(),
                    r.user_id.as_deref(),
                    &r.detail,
                )
        })
        .count();
    if bad > 0 {
        report
            .problems
            .push(format!("{bad} security events were changed or forged"));
    }
    compare_seals(
        "security events",
        &folded.security_days,
        |from, to| checkpoint::security_seals(conn, from, to),
        report,
    )?;
    compare_parts(
        conn,
        "security events",
        checkpoint::Log::Security,
        &folded.security_parts,
        report,
    )
}

/// Each day a checkpoint sealed before it was finished still holds, up to the time sealed, the
/// lines it held then.
fn compare_parts(
    conn: &mut DbConn,
    what: &str,
    log: checkpoint::Log,
    parts: &BTreeMap<chrono::NaiveDate, (chrono::NaiveDateTime, checkpoint::Seal)>,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    for (day, (up_to, seal)) in parts {
        let now = checkpoint::seals_up_to(conn, log, *day, *up_to)?;
        let count = now.get(day).map_or(0, |s| s.count);
        if now.get(day) != Some(seal) {
            report.problems.push(format!(
                "the {what} of {day} had {} lines up to {} when a checkpoint sealed it and has {count} now, or they changed",
                seal.count,
                up_to.format("%H:%M")
            ));
        }
    }
    Ok(())
}

fn compare_seals(
    what: &str,
    sealed: &BTreeMap<chrono::NaiveDate, checkpoint::Seal>,
    mut now: impl FnMut(
        chrono::NaiveDate,
        chrono::NaiveDate,
    ) -> Result<BTreeMap<chrono::NaiveDate, checkpoint::Seal>, AppError>,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let (Some(first), Some(last)) = (sealed.keys().next(), sealed.keys().next_back()) else {
        return Ok(());
    };
    let current = now(*first, *last)?;
    for (day, seal) in sealed {
        match current.get(day) {
            Some(s) if s == seal => {}
            Some(s) => report.problems.push(format!(
                "the {what} of {day} had {} lines when it was sealed and has {} now, or they changed",
                seal.count, s.count
            )),
            None => report.problems.push(format!(
                "the {what} of {day} had {} lines when it was sealed and has none now",
                seal.count
            )),
        }
    }
    Ok(())
}
