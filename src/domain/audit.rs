//! The audit trail: append-only, one chain per case. Each entry's hash is an HMAC, with a key
//! kept apart from the database, over its own content and the previous entry's hash; the case
//! row keeps the newest. Someone who can edit the database but not read the key can neither
//! change an entry, nor add one, nor recompute a chain. `verify` recomputes every chain,
//! replays each trail against the case it belongs to (state, version, facts, child), checks the
//! keyed access log, and compares it all with the checkpoints kept outside the database.
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::storage::models::AuditEventRow;
use crate::storage::schema::{audit_events, cases};
use crate::storage::DbConn;

pub const GENESIS: &str = "genesis";

/// Keyed hashes carry this prefix; an entry without it was written before the trail was keyed.
const KEYED: &str = "k1:";

/// The audit key: what makes the trail's hashes unforgeable by someone who has the database
/// but not the key. Never printed.
#[derive(Clone)]
pub struct AuditKey {
    key: Vec<u8>,
    /// Where it came from, for the start-up warning and `audit verify`'s report.
    pub origin: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(<redacted>, from {})", self.origin)
    }
}

impl AuditKey {
    pub fn from_secret(secret: &[u8], origin: &str) -> Result<AuditKey, AppError> {
        if secret.len() < 32 {
            return Err(AppError::Startup(format!(
                "the audit key from {origin} is shorter than 32 bytes"
            )));
        }
        Ok(AuditKey {
            key: secret.to_vec(),
            origin: origin.to_string(),
        })
    }

    /// The key from `SAFEGUARD_AUDIT_KEY`, else the file `SAFEGUARD_AUDIT_KEY_FILE` names, else a
    /// file generated once in the data folder. Returns a warning to log when the key sits beside
    /// the database, where it does not stop someone who has the whole folder.
    pub fn load(
        secret: Option<&str>,
        file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<(AuditKey, Option<String>), AppError> {
        if let Some(s) = secret {
            return Ok((
                AuditKey::from_secret(s.trim().as_bytes(), "SAFEGUARD_AUDIT_KEY")?,
                None,
            ));
        }
        let (path, generated): (PathBuf, bool) = match file {
            Some(p) => (p.to_path_buf(), false),
            None => (data_dir.join("audit-key"), true),
        };
        if !path.exists() {
            if !generated {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_AUDIT_KEY_FILE names {}, which does not exist",
                    path.display()
                )));
            }
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
            write_private(&path, hex::encode(bytes).as_bytes())?;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::Startup(format!("cannot read {}: {e}", path.display())))?;
        let key = AuditKey::from_secret(text.trim().as_bytes(), &path.display().to_string())?;
        let beside = path
            .canonicalize()
            .ok()
            .zip(data_dir.canonicalize().ok())
            .is_some_and(|(k, d)| k.starts_with(d));
        let warning = beside.then(|| {
            format!(
                "the audit key is kept in the data folder ({}): whoever has that folder can rewrite the audit trail unseen; set SAFEGUARD_AUDIT_KEY or SAFEGUARD_AUDIT_KEY_FILE to a key kept elsewhere",
                path.display()
            )
        });
        Ok((key, warning))
    }

    /// HMAC-SHA256 of `text`, in hex.
    pub fn mac(&self, text: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(text);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Writes a secret only its owner may read.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| AppError::Startup(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(path, bytes)
        .map_err(|e| AppError::Startup(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

/// What one audit entry says, before it is chained.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor_id: String,
    pub kind: &'static str,
    pub workflow: Option<String>,
    pub event: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub decline: bool,
    pub rationale: Option<String>,
    pub payload: serde_json::Value,
    /// The case's version once the unit of work that writes this entry commits.
    pub case_version: i64,
}

#[derive(Serialize)]
struct Hashed<'a> {
    case_id: &'a str,
    seq: i64,
    at: String,
    actor_id: &'a str,
    kind: &'a str,
    workflow: Option<&'a str>,
    event: Option<&'a str>,
    from_state: Option<&'a str>,
    to_state: Option<&'a str>,
    decline: bool,
    rationale: Option<&'a str>,
    payload: &'a str,
    prev_hash: &'a str,
}

#[derive(Serialize)]
struct KeyedContent<'a> {
    #[serde(flatten)]
    entry: Hashed<'a>,
    case_version: i64,
}

fn hashed(row: &AuditEventRow) -> Hashed<'_> {
    Hashed {
        case_id: &row.case_id,
        seq: row.seq,
        at: row.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        actor_id: &row.actor_id,
        kind: &row.kind,
        workflow: row.workflow.as_deref(),
        event: row.event.as_deref(),
        from_state: row.from_state.as_deref(),
        to_state: row.to_state.as_deref(),
        decline: row.decline,
        rationale: row.rationale.as_deref(),
        payload: &row.payload,
        prev_hash: &row.prev_hash,
    }
}

/// The keyed hash of an entry. Struct fields serialise in declaration order, so the text is
/// stable.
pub fn keyed_hash(key: &AuditKey, row: &AuditEventRow) -> String {
    let content = KeyedContent {
        entry: hashed(row),
        case_version: row.case_version,
    };
    let text = serde_json::to_string(&content).unwrap_or_default();
    format!("{KEYED}{}", key.mac(text.as_bytes()))
}

/// The unkeyed hash entries had before the trail was keyed.
fn legacy_hash(row: &AuditEventRow) -> String {
    let text = serde_json::to_string(&hashed(row)).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Builds the next row of a case's chain. The caller inserts it and stores `(seq, hash)` on the
/// case in the same transaction.
pub fn next_row(
    key: &AuditKey,
    case_id: &str,
    prev_seq: i64,
    prev_hash: &str,
    at: NaiveDateTime,
    entry: AuditEntry,
) -> AuditEventRow {
    let mut row = AuditEventRow {
        case_id: case_id.to_string(),
        seq: prev_seq + 1,
        at,
        actor_id: entry.actor_id,
        kind: entry.kind.to_string(),
        workflow: entry.workflow,
        event: entry.event,
        from_state: entry.from_state,
        to_state: entry.to_state,
        decline: entry.decline,
        rationale: entry.rationale,
        payload: entry.payload.to_string(),
        prev_hash: prev_hash.to_string(),
        hash: String::new(),
        case_version: entry.case_version,
    };
    row.hash = keyed_hash(key, &row);
    row
}

/// Appends an entry to a case's chain. The caller moves the case's head.
pub fn append(
    conn: &mut DbConn,
    key: &AuditKey,
    case_id: &str,
    prev_seq: i64,
    prev_hash: &str,
    at: NaiveDateTime,
    entry: AuditEntry,
) -> Result<AuditEventRow, AppError> {
    let row = next_row(key, case_id, prev_seq, prev_hash, at, entry);
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Appends an entry to a case's trail and moves the case's version on, for writes that are not
/// workflow transitions (meetings, action updates). Two writers racing for the same sequence
/// number: the later gets a conflict and its transaction is undone.
pub fn record_on_case(
    conn: &mut DbConn,
    key: &AuditKey,
    case_id: &str,
    actor_id: &str,
    kind: &'static str,
    payload: serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    record_entry_on_case(
        conn,
        key,
        case_id,
        AuditEntry {
            actor_id: actor_id.to_string(),
            kind,
            payload,
            ..AuditEntry::default()
        },
        now,
    )
}

/// As `record_on_case`, with the entry's workflow and states (a change of step outside an
/// event, such as moving a case to a new version of its workflow).
pub fn record_entry_on_case(
    conn: &mut DbConn,
    key: &AuditKey,
    case_id: &str,
    entry: AuditEntry,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (seq, head, version): (i64, String, i64) = cases::table
        .find(case_id)
        .select((cases::audit_seq, cases::audit_head, cases::version))
        .get_result(conn)?;
    let entry = AuditEntry {
        case_version: version + 1,
        ..entry
    };
    let row = append(conn, key, case_id, seq, &head, now, entry).map_err(|e| match e {
        AppError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => AppError::Conflict {
            code: "stale_version",
            message: "the case changed while this was saved; try again".into(),
        },
        other => other,
    })?;
    diesel::update(cases::table.find(case_id))
        .set((
            cases::audit_seq.eq(row.seq),
            cases::audit_head.eq(row.hash),
            cases::version.eq(version + 1),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// How one stored entry's hash stands.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryHash {
    Keyed,
    /// Written before the trail was keyed: trusted only as far as a checkpoint covers it.
    Legacy,
    Wrong,
}

pub fn check_hash(key: &AuditKey, row: &AuditEventRow) -> EntryHash {
    if row.hash.starts_with(KEYED) {
        if keyed_hash(key, row) == row.hash {
            EntryHash::Keyed
        } else {
            EntryHash::Wrong
        }
    } else if legacy_hash(row) == row.hash {
        EntryHash::Legacy
    } else {
        EntryHash::Wrong
    }
}
