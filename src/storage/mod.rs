//! One connection type over SQLite and PostgreSQL, chosen by the database URL's scheme.
pub mod backup;
pub mod crash;
pub mod models;
pub mod reference;
pub mod schema;
pub mod wal;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

/// Which backend a URL selects. Anything that is not `postgres://` or `postgresql://` is a
/// SQLite file path (optionally prefixed `sqlite://`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Strips the optional `sqlite://` prefix diesel's SQLite driver does not understand.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// Durable across a crash of the process; the last commits may be lost in a power cut.
    Normal,
    /// Durable across a power cut too, at the cost of a flush of the WAL at every commit.
    Full,
}

/// How long a SQLite statement waits for a lock another connection holds before it fails.
pub(crate) const BUSY_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug)]
struct SessionSettings {
    sync: SqliteSync,
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // WAL lets readers proceed during a write; NORMAL sync is durable across a process
            // crash and loses at most the last commits on power loss, the usual WAL trade
            // (FULL, a setting, survives the power cut too).
            // The busy timeout comes first so that even switching to WAL waits for a lock held by a
            // connection opened alongside; it makes concurrent writers queue instead of failing.
            // The file is not memory-mapped: SQLite drops a connection's whole mapping at the
            // start of any read after another connection has written, so under steady writes
            // (every read writes its access-log line) each read faulted its pages in again and
            // unmapped them, with a TLB shootdown across the cores (64 readers: 2,540 reads/s
            // mapped, 3,015 reads/s not). A log that starts again from its beginning is cut back
            // to 16 MiB (see `wal`).
            let sync = match self.sync {
                SqliteSync::Normal => "NORMAL",
                SqliteSync::Full => "FULL",
            };
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
                 PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -32000; \
                 PRAGMA journal_size_limit = 16777216;"
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub fn connect_pool(url: &str, max_size: u32, sync: SqliteSync) -> Result<DbPool, AppError> {
    let target = match Backend::of_url(url) {
        Backend::Postgres => url.to_string(),
        Backend::Sqlite => sqlite_path(url).to_string(),
    };
    let manager = ConnectionManager::<DbConn>::new(target);
    Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(SessionSettings { sync }))
        .build(manager)
        .map_err(|e| AppError::Startup(format!("cannot open database {}: {e}", redact(url))))
}

/// Hides a password in a database URL before it reaches a log or an error message.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub fn run_migrations(conn: &mut DbConn) -> Result<usize, AppError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Postgres(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    let applied =
        applied.map_err(|e| AppError::Startup(format!("database migration failed: {e}")))?;
    fold_names_recorded_before_search(conn)?;
    Ok(applied)
}

/// Cases recorded before names were kept folded for search get theirs; SQL cannot strip
/// accents the way `i18n::search::fold` does, so this runs in Rust, once per such row.
fn fold_names_recorded_before_search(conn: &mut DbConn) -> Result<(), AppError> {
    use schema::cases;
    let unfolded: Vec<(String, String)> = cases::table
        .filter(cases::child_name_folded.eq(""))
        .filter(cases::child_name.ne(""))
        .select((cases::id, cases::child_name))
        .load(conn)?;
    for (id, name) in unfolded {
        diesel::update(cases::table.find(&id))
            .set(cases::child_name_folded.eq(crate::i18n::search::fold(&name)))
            .execute(conn)?;
    }
    Ok(())
}

/// The role a PostgreSQL URL connects as.
pub fn user_of(url: &str) -> Result<String, AppError> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| AppError::Startup("the database URL has no scheme".into()))?;
    let creds = rest
        .split_once('@')
        .map(|(c, _)| c)
        .ok_or_else(|| AppError::Startup("the service's database URL names no role".into()))?;
    Ok(creds.split(':').next().unwrap_or(creds).to_string())
}

/// Gives the service's own PostgreSQL role what it needs and no more: it reads and writes the
/// case tables, but may only add to the audit trail, the access log and the security events
/// (no update, delete or truncate), and, not owning any table, cannot alter one or disable a
/// trigger. Run by the owner after each migration.
pub fn grant_service_role(conn: &mut DbConn, role: &str) -> Result<(), AppError> {
    if matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    let role = format!("\"{}\"", role.replace('"', "\"\""));
    conn.batch_execute(&format!(
        "GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
         REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, access_log, security_events FROM {role};
         REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON __diesel_schema_migrations FROM {role};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};"
    ))
    .map_err(|e| AppError::Startup(format!("cannot grant the service role its rights: {e}")))
}

/// Whether this connection's role owns the audit table, and so could truncate it, alter it or
/// disable its triggers (PostgreSQL; a SQLite file has no roles, so always false).
pub fn owns_the_audit(conn: &mut DbConn) -> Result<bool, AppError> {
    #[derive(QueryableByName)]
    struct Owner {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        owns: bool,
    }
    match conn {
        DbConn::Sqlite(_) => Ok(false),
        DbConn::Postgres(c) => Ok(diesel::sql_query(
            "SELECT coalesce(bool_or(tableowner = current_user), false) AS owns FROM pg_tables WHERE tablename = 'audit_events'",
        )
        .get_result::<Owner>(c)?
        .owns),
    }
}

/// Errors worth running a transaction again for: PostgreSQL refused it because another
/// transaction got in the way (a serialisation failure or a deadlock), not because of anything
/// in it.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

impl Retryable for diesel::result::Error {
    fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
            Error::DatabaseError(_, info) => info.message().contains("deadlock detected"),
            _ => false,
        }
    }
}

impl Retryable for AppError {
    fn is_retryable(&self) -> bool {
        matches!(self, AppError::Database(e) if e.is_retryable())
    }
}

/// Attempts of a transaction that another one got in the way of, before giving up.
const ATTEMPTS: usize = 4;

/// Runs `f` in one transaction, again (up to four times in all) when PostgreSQL refused it for
/// getting in another transaction's way, so that a conflict between writers is decided by the
/// data (a stale version is a 409) and never answers 500. On SQLite the transaction starts with
/// `BEGIN IMMEDIATE`, so a writer takes the write lock first and waits on the busy timeout
/// instead of failing when it upgrades a read lock mid-way.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error> + Retryable,
{
    let mut attempt = 1;
    loop {
        match conn {
            DbConn::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
            }
            DbConn::Postgres(_) => {
                <DbConn as Connection>::TransactionManager::begin_transaction(conn)?
            }
        }
        let outcome = match f(conn) {
            Ok(value) => {
                match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
                    Ok(()) => return Ok(value),
                    Err(e) => Err(E::from(e)),
                }
            }
            Err(e) => Err(e),
        };
        // The caller's error is the one worth reporting; a failed rollback leaves the
        // connection marked broken and r2d2 discards it.
        let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
        match outcome {
            Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(
                    5 * attempt as u64 + rand::random::<u64>() % 10,
                ));
            }
            other => return other,
        }
    }
}

/// Takes the write lock on each of these cases, in a fixed order, at the start of a write
/// transaction. On PostgreSQL two writers to one case then queue here, and the later one reads
/// the version the first wrote (a 409, never a deadlock); on SQLite `BEGIN IMMEDIATE` already
/// serialises writers.
/// Queues writers that share `key` (an account and address, say) for the rest of the
/// transaction, where there is no row to lock. On SQLite every writer already queues on the
/// database (`BEGIN IMMEDIATE`).
pub fn lock_key(conn: &mut DbConn, key: &str) -> Result<(), diesel::result::Error> {
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

pub fn lock_cases(conn: &mut DbConn, ids: &[&str]) -> Result<(), diesel::result::Error> {
    if let DbConn::Postgres(pg) = conn {
        let mut sorted: Vec<&str> = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        schema::cases::table
            .filter(schema::cases::id.eq_any(&sorted))
            .order(schema::cases::id)
            .select(schema::cases::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}
