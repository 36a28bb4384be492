//! The access-log lines of reads, committed together.
//!
//! Every read of a case is logged before its answer leaves. Written one read to a transaction,
//! each read became a write queued behind every other (SQLite has one writer): 64 readers of one
//! case were served 1,800 times a second with a p99 of 85 ms. Here one thread holds the pen:
//! requests hand it their lines and wait; it takes every line waiting at that moment, writes
//! them in one transaction and, once that has committed, lets each request answer. A request
//! therefore never answers before its line is durable, and under load one commit carries the
//! lines of many requests.
use std::sync::mpsc;

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::access_log;
use crate::error::AppError;
use crate::storage::models::AccessLogRow;
use crate::storage::{connect_pool, write_transaction, DbConn, DbPool, SqliteSync};

/// The most lines one transaction carries; a longer queue waits for the next.
const MOST_LINES: usize = 4096;

struct Waiting {
    lines: Vec<AccessLogRow>,
    committed: mpsc::SyncSender<Result<(), String>>,
}

/// A handle on the thread that commits reads' access-log lines; cheap to clone.
#[derive(Debug, Clone)]
pub struct ReadLog {
    to_writer: mpsc::Sender<Waiting>,
}

impl ReadLog {
    /// Starts the writer, with a connection of its own to the database at `url`: requests
    /// hold theirs while they wait for it, so it must never wait for one of them. It stops when
    /// the last handle is dropped.
    pub fn start(url: &str, sync: SqliteSync) -> Result<ReadLog, AppError> {
        let pool = connect_pool(url, 1, sync)?;
        let (to_writer, queue) = mpsc::channel::<Waiting>();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_as_they_come(&pool, &queue))
            .map_err(|e| AppError::Startup(format!("cannot start the access-log writer: {e}")))?;
        Ok(ReadLog { to_writer })
    }

    /// Writes `lines` and returns once they are committed. On a connection already inside a
    /// transaction they are written in it instead: the writer's own transaction could wait on a
    /// lock this one holds, and this one would wait for the writer.
    pub fn commit(&self, conn: &mut DbConn, lines: Vec<AccessLogRow>) -> Result<(), AppError> {
        if lines.is_empty() {
            return Ok(());
        }
        if in_transaction(conn) {
            return Ok(access_log::insert(conn, &lines)?);
        }
        let (committed, answer) = mpsc::sync_channel(1);
        self.to_writer
            .send(Waiting { lines, committed })
            .map_err(|_| AppError::Internal("the access-log writer has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| AppError::Internal("the access-log writer has stopped".into()))?
            .map_err(AppError::Internal)
    }
}

fn in_transaction(conn: &mut DbConn) -> bool {
    let depth = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map(|d| d.is_some()),
        DbConn::Postgres(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map(|d| d.is_some()),
    };
    // A connection whose transaction state is broken is treated as busy: written in place, its
    // error reaches the request that owns it.
    depth.unwrap_or(true)
}

fn write_as_they_come(pool: &DbPool, queue: &mpsc::Receiver<Waiting>) {
    while let Ok(first) = queue.recv() {
        let mut lines = first.lines.len();
        let mut group = vec![first];
        while lines < MOST_LINES {
            match queue.try_recv() {
                Ok(next) => {
                    lines += next.lines.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        match write_group(pool, &group) {
            Ok(()) => {
                for waiting in group {
                    // A request that has gone away no longer needs its answer.
                    let _ = waiting.committed.send(Ok(()));
                }
            }
            // One request's bad line must not cost the others theirs: each is tried alone.
            Err(_) if group.len() > 1 => {
                for waiting in group {
                    let alone = write_group(pool, std::slice::from_ref(&waiting));
                    let _ = waiting.committed.send(alone);
                }
            }
            Err(e) => {
                for waiting in group {
                    let _ = waiting.committed.send(Err(e.clone()));
                }
            }
        }
    }
}

fn write_group(pool: &DbPool, group: &[Waiting]) -> Result<(), String> {
    let mut conn = pool
        .get()
        .map_err(|e| format!("no connection for the access log: {e}"))?;
    write_transaction(&mut conn, |conn| {
        for waiting in group {
            access_log::insert(conn, &waiting.lines)?;
        }
        Ok::<_, AppError>(())
    })
    .map_err(|e| {
        tracing::error!(error = %e, "could not write reads' access-log lines");
        e.to_string()
    })
}
