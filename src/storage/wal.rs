//! Keeps SQLite's write-ahead log bounded while the service runs, off the writers' path.
//!
//! A commit checkpoints only when the log passes `wal_autocheckpoint` pages, and a checkpoint
//! cannot start the log again from its beginning while a reader still uses it: under steady
//! reads and writes the log grew without limit (269 MiB in the HTTP benchmark). This thread
//! copies committed pages into the database twice a second without waiting for anyone, and when
//! the log has grown past its bound it waits for the readers of the moment to finish, folds the
//! log in whole and truncates it. Writers queue for that moment behind their busy timeout.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::{DbConn, DbPool, BUSY_TIMEOUT_MS};
use diesel::connection::SimpleConnection;

/// Pages in the log (of 4 KiB) past which it is folded in and truncated: 16 MiB.
pub const BOUND_PAGES: i32 = 4096;
const EVERY: Duration = Duration::from_millis(500);
/// How long the truncating checkpoint waits for the readers of the moment. Writers queue behind
/// it meanwhile, and a reader can last minutes (a backup is one read transaction), so it gives
/// up soon and tries again at the next look.
const WAIT_FOR_READERS_MS: u32 = 100;

#[derive(QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
}

/// What one look at the log found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Not SQLite: PostgreSQL manages its own log.
    NotSqlite,
    /// Pages in the log after copying what no reader held back.
    Within(i32),
    /// The log had passed its bound and was folded in and truncated.
    Truncated,
}

/// Copies what it can into the database now, and truncates the log if it has passed its bound.
pub fn keep(conn: &mut DbConn) -> QueryResult<Kept> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(Kept::NotSqlite);
    };
    let passive: Checkpointed =
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(c)?;
    if passive.log <= BOUND_PAGES {
        return Ok(Kept::Within(passive.log));
    }
    c.batch_execute(&format!("PRAGMA busy_timeout = {WAIT_FOR_READERS_MS}"))?;
    let truncated =
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<Checkpointed>(c);
    c.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))?;
    let truncated = truncated?;
    Ok(if truncated.busy == 0 {
        Kept::Truncated
    } else {
        Kept::Within(truncated.log)
    })
}

/// The thread; stops when dropped.
pub struct WalKeeper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WalKeeper {
    pub fn spawn(pool: DbPool) -> WalKeeper {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
                let kept = pool
                    .get()
                    .map_err(|e| e.to_string())
                    .and_then(|mut conn| keep(&mut conn).map_err(|e| e.to_string()));
                match kept {
                    Ok(Kept::NotSqlite) => return,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not checkpoint the write-ahead log")
                    }
                }
            }
        });
        WalKeeper {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for WalKeeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{connect_pool, SqliteSync};

    #[test]
    fn a_log_past_its_bound_is_folded_in_and_truncated() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("wal.db");
        let pool = connect_pool(&db.display().to_string(), 2, SqliteSync::Normal).expect("pool");
        let mut conn = pool.get().expect("connection");
        conn.batch_execute("CREATE TABLE filler (n INTEGER, pad TEXT)")
            .expect("table");
        // About 24 MiB of pages in many commits: past the bound, short of the autocheckpoint.
        for n in 0..600 {
            conn.batch_execute(&format!(
                "INSERT INTO filler SELECT {n}, randomblob(4000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10) SELECT i FROM r)"
            ))
            .expect("insert");
        }
        let wal = dir.path().join("wal.db-wal");
        let before = std::fs::metadata(&wal).expect("log").len();
        assert!(before > 16 * 1024 * 1024, "the log reached {before} bytes");
        assert_eq!(keep(&mut conn).expect("keep"), Kept::Truncated);
        assert_eq!(std::fs::metadata(&wal).expect("log").len(), 0);
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT COUNT(*) FROM filler)",
        ))
        .get_result(&mut *conn)
        .expect("count");
        assert_eq!(rows, 6000, "every row is still there");
        assert!(matches!(keep(&mut conn).expect("keep"), Kept::Within(0)));
    }

    #[test]
    fn a_long_reader_holds_writers_back_for_a_moment_not_for_the_busy_timeout() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("wal.db");
        let pool = connect_pool(&db.display().to_string(), 3, SqliteSync::Normal).expect("pool");
        let mut conn = pool.get().expect("connection");
        conn.batch_execute("CREATE TABLE filler (n INTEGER, pad TEXT)")
            .expect("table");
        let fill = |conn: &mut DbConn, from: i32| {
            for n in from..from + 500 {
                conn.batch_execute(&format!(
                    "INSERT INTO filler SELECT {n}, randomblob(4000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10) SELECT i FROM r)"
                ))
                .expect("insert");
            }
        };
        fill(&mut conn, 0);
        // A reader that stays in its transaction, as a backup's VACUUM INTO does.
        let mut reader = pool.get().expect("reader");
        reader
            .batch_execute("BEGIN; SELECT COUNT(*) FROM filler;")
            .expect("read");
        fill(&mut conn, 500);
        let started = std::time::Instant::now();
        let kept = keep(&mut conn).expect("keep");
        assert!(
            matches!(kept, Kept::Within(pages) if pages > BOUND_PAGES),
            "{kept:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "writers waited {:?}",
            started.elapsed()
        );
        // The connection waits its usual time again for the locks of others.
        conn.batch_execute("INSERT INTO filler VALUES (-1, 'after')")
            .expect("a write after the look");
        reader.batch_execute("COMMIT").expect("reader ends");
        assert_eq!(keep(&mut conn).expect("keep"), Kept::Truncated);
    }
}
