//! A copy of a SQLite database taken while the service runs, and putting one back. SQLite's
//! `VACUUM INTO` writes a consistent copy from one read transaction, so writers carry on while
//! it runs and the copy holds every commit before it started and none after. PostgreSQL is
//! copied with its own tools (`pg_dump`, `pg_restore`), as the README says.
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConn;
use crate::error::AppError;

/// What a copy holds, read back from the copy itself.
#[derive(Debug)]
pub struct CopyReport {
    pub bytes: u64,
    pub cases: i64,
    pub audit_entries: i64,
    pub migrations: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

fn startup(message: String) -> AppError {
    AppError::Startup(message)
}

/// Writes a consistent copy of the service's SQLite database to `to`, which must not exist,
/// and checks the copy.
pub fn backup(conn: &mut DbConn, to: &Path) -> Result<CopyReport, AppError> {
    let DbConn::Sqlite(c) = conn else {
        return Err(startup(
            "this database is PostgreSQL: copy it with pg_dump (README, \"Backup and restore\")"
                .into(),
        ));
    };
    if to.exists() {
        return Err(startup(format!(
            "{} exists already: a backup is written to a new file",
            to.display()
        )));
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(startup(format!("{} is not a folder", parent.display())));
        }
    }
    let target = to
        .to_str()
        .ok_or_else(|| startup(format!("{} is not a UTF-8 path", to.display())))?;
    diesel::sql_query(format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .execute(c)
        .map_err(|e| startup(format!("backup to {target} failed: {e}")))?;
    check_copy(to)
}

/// Opens a copy and checks it is whole and is this service's: SQLite's integrity check, the
/// migrations table and the audit trail.
pub fn check_copy(path: &Path) -> Result<CopyReport, AppError> {
    let name = path.display().to_string();
    if !path.is_file() {
        return Err(startup(format!("{name} is not a file")));
    }
    let bytes = std::fs::metadata(path)
        .map_err(|e| startup(format!("{name}: {e}")))?
        .len();
    let mut c = diesel::SqliteConnection::establish(&format!("file:{name}?mode=ro"))
        .map_err(|e| startup(format!("{name} does not open as a SQLite database: {e}")))?;
    let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut c)
        .map_err(|e| startup(format!("{name} is not a SQLite database: {e}")))?;
    if lines.len() != 1 || lines[0].integrity_check != "ok" {
        let said: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
        return Err(startup(format!("{name} is damaged: {}", said.join("; "))));
    }
    let count = |c: &mut diesel::SqliteConnection, table: &str| -> Result<i64, AppError> {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(c)
            .map(|r| r.n)
            .map_err(|_| {
                startup(format!(
                    "{name} is a SQLite database but not this service's (no {table})"
                ))
            })
    };
    Ok(CopyReport {
        bytes,
        migrations: count(&mut c, "__diesel_schema_migrations")?,
        cases: count(&mut c, "cases")?,
        audit_entries: count(&mut c, "audit_events")?,
    })
}

/// The file a running service holds a shared lock on, in its data folder, for as long as it
/// runs: a restore takes it exclusively, so it cannot put a database back under a service.
pub const IN_USE: &str = "safeguard.lock";

/// Marks the data folder in use by this process until the returned file is dropped.
pub fn hold_in_use(data_dir: &Path) -> Result<std::fs::File, AppError> {
    // On a first start the folder is not there yet.
    std::fs::create_dir_all(data_dir)
        .map_err(|e| startup(format!("cannot create {}: {e}", data_dir.display())))?;
    let path = data_dir.join(IN_USE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| startup(format!("{}: {e}", path.display())))?;
    file.lock_shared()
        .map_err(|e| startup(format!("{}: {e}", path.display())))?;
    Ok(file)
}

/// Puts the copy `from` in place of the SQLite database at `database`. No service may be
/// running on `data_dir`; the database there, if any, is kept beside it, not deleted: a restore
/// is something people may need to account for.
pub fn restore(
    from: &Path,
    database: &Path,
    data_dir: &Path,
    replace: bool,
) -> Result<RestoreReport, AppError> {
    let report = check_copy(from)?;
    let lock_path = data_dir.join(IN_USE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| startup(format!("{}: {e}", lock_path.display())))?;
    if lock.try_lock().is_err() {
        return Err(startup(format!(
            "the service is running on {}: stop it before restoring",
            data_dir.display()
        )));
    }
    let kept = if database.exists() {
        if !replace {
            return Err(startup(format!(
                "{} exists: add --replace to put the copy in its place (the old one is kept beside it)",
                database.display()
            )));
        }
        Some(set_aside(database)?)
    } else {
        None
    };
    let staging = database.with_extension("restoring");
    std::fs::copy(from, &staging)
        .map_err(|e| startup(format!("cannot copy to {}: {e}", staging.display())))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| startup(format!("{}: {e}", staging.display())))?;
    std::fs::rename(&staging, database)
        .map_err(|e| startup(format!("cannot put {} in place: {e}", database.display())))?;
    drop(lock);
    Ok(RestoreReport { copy: report, kept })
}

pub struct RestoreReport {
    pub copy: CopyReport,
    /// Where the database that was there before now lies.
    pub kept: Option<PathBuf>,
}

/// Moves the database at `path` aside, its write-ahead log folded into it first.
fn set_aside(path: &Path) -> Result<PathBuf, AppError> {
    let name = path.display().to_string();
    {
        let mut c = diesel::SqliteConnection::establish(&name)
            .map_err(|e| startup(format!("{name}: {e}")))?;
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| startup(format!("{name}: {e}")))?;
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = PathBuf::from(format!("{name}.before-restore-{stamp}"));
    std::fs::rename(path, &aside).map_err(|e| startup(format!("{name}: {e}")))?;
    for suffix in ["-wal", "-shm"] {
        let extra = PathBuf::from(format!("{name}{suffix}"));
        if extra.exists() {
            std::fs::remove_file(&extra)
                .map_err(|e| startup(format!("{}: {e}", extra.display())))?;
        }
    }
    Ok(aside)
}
