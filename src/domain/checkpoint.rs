//! Audit checkpoints: signed statements, appended to a file outside the database, of the head of
//! every case's chain and a seal (count and digest) of each finished day of the access log and
//! the security events; and the tombstone of each case destroyed under a retention rule. A
//! database-level attacker who deletes the newest entries, a whole case, or the access log can
//! make the database agree with itself, but not with what was signed before. The file is a
//! chain too (each line signs the one before), and an operator keeps copies of it elsewhere:
//! `audit verify --copy` checks that the host's file agrees with a copy.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::audit::AuditKey;
use crate::error::AppError;
use crate::storage::schema::{access_log, cases, security_events};
use crate::storage::DbConn;

/// A case destroyed under a retention rule: what the checkpoints keep of it. No personal data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tombstone {
    pub case_id: String,
    pub reference: String,
    pub created_at: String,
    pub destroyed_at: String,
    pub authorised_by: String,
    pub rule: String,
    /// The trail's length and head when it was destroyed.
    pub entries: i64,
    pub head: String,
}

/// A day of a log, sealed: how many lines, and a digest of their MACs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Seal {
    pub count: i64,
    pub digest: String,
}

/// What all the checkpoints say, taken together.
#[derive(Debug, Default)]
pub struct Folded {
    pub lines: usize,
    /// The newest signed (seq, hash) of each case's chain.
    pub cases: BTreeMap<String, (i64, String)>,
    pub tombstones: BTreeMap<String, Tombstone>,
    /// Sealed days of the access log and of the security events.
    pub access_days: BTreeMap<NaiveDate, Seal>,
    pub security_days: BTreeMap<NaiveDate, Seal>,
    /// Days not yet finished, sealed as far as a checkpoint saw them: each day's lines up to a
    /// time (the latest such seal of each day). A line of those that goes is found before its
    /// day is finished and sealed whole.
    pub access_parts: BTreeMap<NaiveDate, (NaiveDateTime, Seal)>,
    pub security_parts: BTreeMap<NaiveDate, (NaiveDateTime, Seal)>,
}

/// How long before a checkpoint its partial seals stop: a line is written with the time its
/// request began, so one still committing is not left out of a seal it belongs to.
const PART_MARGIN_MINUTES: i64 = 5;

/// Reads and checks a checkpoint file: every line signed with the key, each naming the one
/// before. Problems are listed; the lines that check out are folded.
pub fn read(path: &Path, key: &AuditKey) -> Result<(Folded, Vec<String>), AppError> {
    let mut folded = Folded::default();
    let mut problems = Vec::new();
    if !path.exists() {
        return Ok((folded, problems));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", path.display())))?;
    let mut prev = "genesis".to_string();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(line) else {
            problems.push(format!("checkpoint line {n} is not a signed record"));
            break;
        };
        let mac = obj
            .remove("mac")
            .and_then(|m| m.as_str().map(str::to_string));
        let body = Value::Object(obj.clone()).to_string();
        if mac.as_deref() != Some(key.mac(body.as_bytes()).as_str()) {
            problems.push(format!(
                "checkpoint line {n} is not signed with this service's audit key"
            ));
            break;
        }
        if obj.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            problems.push(format!(
                "checkpoint line {n} does not follow line {}",
                n - 1
            ));
        }
        prev = mac.unwrap_or_default();
        folded.lines = n;
        match obj.get("kind").and_then(Value::as_str) {
            Some("checkpoint") => {
                if let Some(Value::Object(c)) = obj.get("cases") {
                    for (id, v) in c {
                        if let (Some(seq), Some(hash)) =
                            (v[0].as_i64(), v[1].as_str().map(str::to_string))
                        {
                            folded.cases.insert(id.clone(), (seq, hash));
                        }
                    }
                }
                for (field, parts) in [
                    ("access_parts", &mut folded.access_parts),
                    ("security_parts", &mut folded.security_parts),
                ] {
                    let up_to = obj
                        .get(field)
                        .and_then(|p| p["up_to"].as_str())
                        .and_then(|t| {
                            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok()
                        });
                    let (Some(up_to), Some(Value::Object(d))) =
                        (up_to, obj.get(field).and_then(|p| p.get("days")))
                    else {
                        continue;
                    };
                    for (day, seal) in d {
                        if let (Ok(day), Ok(seal)) = (
                            NaiveDate::parse_from_str(day, "%Y-%m-%d"),
                            serde_json::from_value::<Seal>(seal.clone()),
                        ) {
                            if parts.get(&day).is_none_or(|(t, _)| *t <= up_to) {
                                parts.insert(day, (up_to, seal));
                            }
                        }
                    }
                }
                for (field, days) in [
                    ("access_days", &mut folded.access_days),
                    ("security_days", &mut folded.security_days),
                ] {
                    if let Some(Value::Object(d)) = obj.get(field) {
                        for (day, seal) in d {
                            if let (Ok(day), Ok(seal)) = (
                                NaiveDate::parse_from_str(day, "%Y-%m-%d"),
                                serde_json::from_value::<Seal>(seal.clone()),
                            ) {
                                days.insert(day, seal);
                            }
                        }
                    }
                }
            }
            Some("tombstone") => {
                if let Ok(t) = serde_json::from_value::<Tombstone>(
                    obj.get("tombstone").cloned().unwrap_or(Value::Null),
                ) {
                    folded.tombstones.insert(t.case_id.clone(), t);
                }
            }
            _ => problems.push(format!("checkpoint line {n} is of no known kind")),
        }
    }
    Ok((folded, problems))
}

fn append_line(
    path: &Path,
    key: &AuditKey,
    mut body: Map<String, Value>,
) -> Result<usize, AppError> {
    let text = if path.exists() {
        std::fs::read_to_string(path)
            .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", path.display())))?
    } else {
        String::new()
    };
    let prev = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v["mac"].as_str().map(str::to_string))
        .unwrap_or_else(|| "genesis".into());
    body.insert("prev".into(), json!(prev));
    let mac = key.mac(Value::Object(body.clone()).to_string().as_bytes());
    body.insert("mac".into(), json!(mac));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| AppError::Internal(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| AppError::Internal(format!("cannot open {}: {e}", path.display())))?;
    writeln!(file, "{}", Value::Object(body))
        .and_then(|_| file.sync_all())
        .map_err(|e| AppError::Internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(text.lines().count() + 1)
}

/// The MAC of an access-log line.
pub fn access_mac(
    key: &AuditKey,
    id: &str,
    user_id: &str,
    case_id: &str,
    action: &str,
    path: &str,
    at: chrono::NaiveDateTime,
) -> String {
    key.mac(
        format!(
            "access\n{id}\n{user_id}\n{case_id}\n{action}\n{path}\n{}",
            at.format("%Y-%m-%dT%H:%M:%S%.6f")
        )
        .as_bytes(),
    )
}

/// The MAC of a security event.
#[allow(clippy::too_many_arguments)]
pub fn security_mac(
    key: &AuditKey,
    id: &str,
    at: chrono::NaiveDateTime,
    kind: &str,
    account: Option<&str>,
    address: Option<&str>,
    user_id: Option<&str>,
    detail: &str,
) -> String {
    key.mac(
        format!(
            "security\n{id}\n{}\n{kind}\n{}\n{}\n{}\n{detail}",
            at.format("%Y-%m-%dT%H:%M:%S%.6f"),
            account.unwrap_or(""),
            address.unwrap_or(""),
            user_id.unwrap_or("")
        )
        .as_bytes(),
    )
}

/// The seal of the lines whose MACs these are: their count and a digest of the MACs in order.
pub fn seal_of(mut macs: Vec<String>) -> Seal {
    macs.sort_unstable();
    let mut h = Sha256::new();
    for m in &macs {
        h.update(m.as_bytes());
        h.update(b"\n");
    }
    Seal {
        count: macs.len() as i64,
        digest: hex::encode(h.finalize()),
    }
}

/// The access log's days, sealed, between two days (inclusive).
pub fn access_seals(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, Seal>, AppError> {
    let rows: Vec<(chrono::NaiveDateTime, String)> = access_log::table
        .filter(access_log::at.ge(from.and_hms_opt(0, 0, 0).unwrap_or_default()))
        .filter(
            access_log::at.lt((to + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()),
        )
        .select((access_log::at, access_log::mac))
        .load(conn)?;
    Ok(group_seals(rows))
}

pub fn security_seals(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, Seal>, AppError> {
    let rows: Vec<(chrono::NaiveDateTime, String)> = security_events::table
        .filter(security_events::at.ge(from.and_hms_opt(0, 0, 0).unwrap_or_default()))
        .filter(
            security_events::at.lt((to + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()),
        )
        .select((security_events::at, security_events::mac))
        .load(conn)?;
    Ok(group_seals(rows))
}

/// Which log a seal is of.
#[derive(Debug, Clone, Copy)]
pub enum Log {
    Access,
    Security,
}

/// A log's lines from the start of `from` to `up_to` (inclusive), sealed day by day.
pub fn seals_up_to(
    conn: &mut DbConn,
    log: Log,
    from: NaiveDate,
    up_to: NaiveDateTime,
) -> Result<BTreeMap<NaiveDate, Seal>, AppError> {
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let rows: Vec<(NaiveDateTime, String)> = match log {
        Log::Access => access_log::table
            .filter(access_log::at.ge(start))
            .filter(access_log::at.le(up_to))
            .select((access_log::at, access_log::mac))
            .load(conn)?,
        Log::Security => security_events::table
            .filter(security_events::at.ge(start))
            .filter(security_events::at.le(up_to))
            .select((security_events::at, security_events::mac))
            .load(conn)?,
    };
    Ok(group_seals(rows))
}

fn group_seals(rows: Vec<(chrono::NaiveDateTime, String)>) -> BTreeMap<NaiveDate, Seal> {
    let mut by_day: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for (at, mac) in rows {
        by_day.entry(at.date()).or_default().push(mac);
    }
    by_day.into_iter().map(|(d, m)| (d, seal_of(m))).collect()
}

/// What one checkpoint recorded.
#[derive(Debug, Serialize)]
pub struct Written {
    pub line: usize,
    pub cases_changed: usize,
    pub cases: usize,
    pub days_sealed: usize,
}

/// Writes a checkpoint: every case whose chain moved since the last one, and every finished day
/// of the logs not yet sealed. A day is finished once the next day is over (UTC), so that no line
/// of it is still being written. A day already sealed is never sealed again: a changed day stays
/// a problem for `verify`, not a new truth.
pub fn write(
    conn: &mut DbConn,
    key: &AuditKey,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Written, AppError> {
    let (folded, problems) = read(path, key)?;
    if let Some(p) = problems.first() {
        return Err(AppError::Internal(format!(
            "the checkpoint file {} does not check out ({p}); it is not written to",
            path.display()
        )));
    }
    // A day sealed so far but not yet whole must still hold what was sealed: sealing it again
    // now would make a removed line the new truth.
    for (what, log, parts, whole) in [
        (
            "access log",
            Log::Access,
            &folded.access_parts,
            &folded.access_days,
        ),
        (
            "security events",
            Log::Security,
            &folded.security_parts,
            &folded.security_days,
        ),
    ] {
        for (day, (up_to, seal)) in parts.iter().filter(|(d, _)| !whole.contains_key(d)) {
            if seals_up_to(conn, log, *day, *up_to)?.get(day) != Some(seal) {
                return Err(AppError::Internal(format!(
                    "the {what} of {day} no longer holds what a checkpoint sealed up to {up_to}; no checkpoint is written until `safeguard audit verify` has been looked into"
                )));
            }
        }
    }
    let heads: Vec<(String, i64, String)> = cases::table
        .select((cases::id, cases::audit_seq, cases::audit_head))
        .load(conn)?;
    let mut changed = Map::new();
    for (id, seq, head) in &heads {
        if folded.cases.get(id) != Some(&(*seq, head.clone())) {
            changed.insert(id.clone(), json!([seq, head]));
        }
    }
    let last_finished = now.date_naive() - Duration::days(2);
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let unsealed = |seals: BTreeMap<NaiveDate, Seal>,
                    sealed: &BTreeMap<NaiveDate, Seal>|
     -> Map<String, Value> {
        seals
            .into_iter()
            .filter(|(d, _)| !sealed.contains_key(d))
            .map(|(d, s)| (d.format("%Y-%m-%d").to_string(), json!(s)))
            .collect()
    };
    let access = unsealed(
        access_seals(conn, first, last_finished)?,
        &folded.access_days,
    );
    let security = unsealed(
        security_seals(conn, first, last_finished)?,
        &folded.security_days,
    );
    // The days not finished yet, as far as they go a few minutes ago.
    let up_to = (now - Duration::minutes(PART_MARGIN_MINUTES)).naive_utc();
    let part = |conn: &mut DbConn, log: Log| -> Result<Value, AppError> {
        let days: Map<String, Value> =
            seals_up_to(conn, log, last_finished + Duration::days(1), up_to)?
                .into_iter()
                .map(|(d, s)| (d.format("%Y-%m-%d").to_string(), json!(s)))
                .collect();
        Ok(json!({"up_to": up_to.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(), "days": days}))
    };
    let access_parts = part(conn, Log::Access)?;
    let security_parts = part(conn, Log::Security)?;
    let days_sealed = access.len() + security.len();
    let cases_changed = changed.len();
    let mut body = Map::new();
    body.insert("kind".into(), json!("checkpoint"));
    body.insert("at".into(), json!(now.to_rfc3339()));
    body.insert("case_count".into(), json!(heads.len()));
    body.insert("cases".into(), Value::Object(changed));
    body.insert("access_days".into(), Value::Object(access));
    body.insert("security_days".into(), Value::Object(security));
    body.insert("access_parts".into(), access_parts);
    body.insert("security_parts".into(), security_parts);
    let line = append_line(path, key, body)?;
    Ok(Written {
        line,
        cases_changed,
        cases: heads.len(),
        days_sealed,
    })
}

/// Appends a case's tombstone, before the case is destroyed.
pub fn tombstone(path: &Path, key: &AuditKey, t: &Tombstone) -> Result<usize, AppError> {
    let mut body = Map::new();
    body.insert("kind".into(), json!("tombstone"));
    body.insert("at".into(), json!(t.destroyed_at));
    body.insert("tombstone".into(), json!(t));
    append_line(path, key, body)
}

/// Whether the host's checkpoint file and a copy kept elsewhere agree: one must begin with the
/// other, line for line. A host file shorter than its copy lost lines it had.
pub fn compare_with_copy(host: &Path, copy: &Path) -> Result<Vec<String>, AppError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", p.display())))
    };
    let (h, c) = (read(host)?, read(copy)?);
    let (hl, cl): (Vec<&str>, Vec<&str>) = (h.lines().collect(), c.lines().collect());
    let mut problems = Vec::new();
    if let Some(i) = hl.iter().zip(&cl).position(|(a, b)| a != b) {
        problems.push(format!(
            "checkpoint line {} differs between {} and the copy {}",
            i + 1,
            host.display(),
            copy.display()
        ));
    } else if hl.len() < cl.len() {
        problems.push(format!(
            "{} has {} checkpoint lines, its copy {} has {}: lines were removed",
            host.display(),
            hl.len(),
            copy.display(),
            cl.len()
        ));
    }
    Ok(problems)
}
