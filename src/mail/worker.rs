//! Delivers the outbox: claims due rows, sends each through SMTP (or writes an `.eml` file when
//! no SMTP server is configured), and records the outcome. Transient failures are retried with
//! backoff; permanent ones are marked failed with the server's answer.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::address::Envelope;
use lettre::{Address, SmtpTransport, Transport};

use super::outbox;
use crate::error::AppError;
use crate::storage::models::OutboxRow;
use crate::storage::DbPool;
use crate::time::clock::Clock;

pub enum Delivery {
    Smtp(Box<SmtpTransport>),
    /// No SMTP configured: each message becomes `<dir>/<id>.eml`, exactly as it would be sent.
    Files(PathBuf),
}

impl Delivery {
    pub fn from_config(
        smtp_url: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<Delivery, AppError> {
        match smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .map_err(|e| AppError::Startup(format!("SAFEGUARD_SMTP_URL: {e}")))?
                    .timeout(Some(StdDuration::from_secs(20)))
                    .build();
                Ok(Delivery::Smtp(Box::new(transport)))
            }
            None => {
                let dir = data_dir.join("outbox");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    AppError::Startup(format!("cannot create {}: {e}", dir.display()))
                })?;
                Ok(Delivery::Files(dir))
            }
        }
    }
}

/// Rows claimed at a time, and how many are sent at once.
const BATCH: i64 = 32;
const SENDERS: usize = 4;

/// What happened to one message.
enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

fn send(delivery: &Delivery, row: &OutboxRow) -> Outcome {
    match delivery {
        Delivery::Files(dir) => {
            let path = dir.join(format!("{}.eml", row.id));
            match std::fs::write(&path, row.raw.as_bytes()) {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Retry(format!("cannot write {}: {e}", path.display())),
            }
        }
        Delivery::Smtp(transport) => {
            let (from, to) = match (
                row.sender.parse::<Address>(),
                row.recipient.parse::<Address>(),
            ) {
                (Ok(f), Ok(t)) => (f, t),
                _ => return Outcome::Failed("sender or recipient is not an email address".into()),
            };
            let envelope = match Envelope::new(Some(from), vec![to]) {
                Ok(e) => e,
                Err(e) => return Outcome::Failed(format!("bad envelope: {e}")),
            };
            match transport.send_raw(&envelope, row.raw.as_bytes()) {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => {
                    Outcome::Failed(format!("the mail server refused it: {e}"))
                }
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    }
}

/// Claims and delivers what is due now. Returns how many messages it handled.
pub fn deliver_due(
    pool: &DbPool,
    clock: &dyn Clock,
    delivery: &Delivery,
    worker: &str,
) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    let now = clock.now().naive_utc();
    let rows = outbox::claim(&mut conn, worker, now, Duration::minutes(5), BATCH)?;
    // Sent side by side: lettre writes a message's end marker as a separate small packet, so
    // each message waits out a delayed ACK (about 40 ms) on its connection. Several connections
    // from the transport's pool hide most of that wait.
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(rows.len().div_ceil(SENDERS).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|row| send(delivery, row))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (row, outcome) in rows.iter().zip(outcomes) {
        match outcome {
            Outcome::Sent => outbox::mark_sent(&mut conn, &row.id, clock.now().naive_utc())?,
            Outcome::Retry(e) => {
                tracing::info!(outbox = %row.id, error = %e, "email delivery will be retried");
                outbox::mark_retry(&mut conn, row, &e, clock.now().naive_utc())?
            }
            Outcome::Failed(e) => outbox::mark_failed(&mut conn, row, &e)?,
        }
    }
    Ok(rows.len())
}

/// The worker thread. Stops when the handle is dropped.
pub struct OutboxWorker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OutboxWorker {
    pub fn spawn(
        pool: DbPool,
        clock: Arc<dyn Clock>,
        delivery: Delivery,
        poll: StdDuration,
    ) -> OutboxWorker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let name = format!("outbox-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match deliver_due(&pool, clock.as_ref(), &delivery, &name) {
                    // A full batch: there may be more waiting.
                    Ok(n) if n as i64 >= BATCH => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox worker: will try again"),
                }
                std::thread::sleep(poll);
            }
        });
        OutboxWorker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for OutboxWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
