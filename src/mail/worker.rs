//! Delivers the outbox: claims due rows with a short lease, sends each through SMTP (or writes an
//! `.eml` file when no SMTP server is configured) on a few sender threads, and records each
//! outcome against its own row as soon as it is known. Transient failures are retried with
//! backoff for a period; permanent refusals are marked failed with the server's answer.
//!
//! What a crash can do: each sender has at most one message that the server has accepted and
//! the outbox has not yet marked sent (the sender waits for the mark before it takes the next),
//! so `kill -9` sends at most as many messages twice as there are senders, loses none, and holds
//! back what was claimed but not sent for no longer than a lease.
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::address::Envelope;
use lettre::Address;

use super::outbox;
use super::relay::Relay;
use crate::error::AppError;
use crate::storage::crash::crash_point;
use crate::storage::models::OutboxRow;
use crate::storage::DbPool;
use crate::time::clock::Clock;

pub enum Delivery {
    Smtp(Box<Relay>),
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
                let relay = Relay::from_url(url, Some(StdDuration::from_secs(20)))
                    .map_err(|e| AppError::Startup(format!("SAFEGUARD_SMTP_URL: {e}")))?;
                Ok(Delivery::Smtp(Box::new(relay)))
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

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Rows claimed at a time.
    pub batch: i64,
    /// Messages sent at once.
    pub senders: usize,
    /// How long a claim holds a row; renewed while the worker is still sending.
    pub lease: Duration,
    /// How long a transient failure is retried from when the message was queued.
    pub retry_for: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            batch: 32,
            senders: 4,
            lease: Duration::seconds(60),
            retry_for: Duration::hours(72),
        }
    }
}

/// What happened to one message.
#[derive(Debug)]
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
        Delivery::Smtp(relay) => {
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
            match relay.send(&envelope, &row.raw) {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => {
                    Outcome::Failed(format!("the mail server refused it: {e}"))
                }
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claims what is due now and delivers it. Each outcome is recorded against its own row, by id,
/// as soon as it is known, and only while this worker still holds the row's lease.
pub fn deliver_due(
    pool: &DbPool,
    clock: &dyn Clock,
    delivery: &Delivery,
    worker: &str,
    pacing: Pacing,
) -> Result<Delivered, AppError> {
    let mut conn = pool.get()?;
    let claimed_at = clock.now().naive_utc();
    let holder = format!("{worker}/{}", uuid::Uuid::new_v4().simple());
    let rows = outbox::claim_as(&mut conn, &holder, claimed_at, pacing.lease, pacing.batch)?;
    let mut report = Delivered {
        claimed: rows.len(),
        ..Delivered::default()
    };
    if rows.is_empty() {
        return Ok(report);
    }
    let queue: Mutex<VecDeque<&OutboxRow>> = Mutex::new(rows.iter().collect());
    let mut open: HashMap<&str, &OutboxRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let (outcomes, received) = channel::<(usize, String, Outcome)>();
    let mut renewed_at = claimed_at;
    let mut mark_error = None;
    std::thread::scope(|scope| {
        let mut acks = Vec::new();
        for sender in 0..pacing.senders.max(1).min(rows.len()) {
            let (ack, wait_for_ack) = sync_channel::<()>(0);
            acks.push(ack);
            let outcomes = outcomes.clone();
            let queue = &queue;
            scope.spawn(move || loop {
                let Some(row) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    return;
                };
                // A panic while sending is a transient failure of that one message.
                let outcome = catch_unwind(AssertUnwindSafe(|| send(delivery, row)))
                    .unwrap_or_else(|_| Outcome::Retry("the sender failed unexpectedly".into()));
                if outcomes.send((sender, row.id.clone(), outcome)).is_err() {
                    return;
                }
                // The next message waits until this one is marked.
                if wait_for_ack.recv().is_err() {
                    return;
                }
            });
        }
        drop(outcomes);
        loop {
            match received.recv_timeout(StdDuration::from_millis(500)) {
                Ok((sender, id, outcome)) => {
                    if let Some(row) = open.remove(id.as_str()) {
                        let now = clock.now().naive_utc();
                        let marked = match &outcome {
                            Outcome::Sent => {
                                crash_point("outbox.before_mark_sent");
                                report.sent += 1;
                                outbox::mark_sent(&mut conn, &id, &holder, now)
                            }
                            Outcome::Retry(e) => {
                                tracing::info!(outbox = %id, error = %e, "email delivery will be retried");
                                report.retried += 1;
                                outbox::mark_retry(
                                    &mut conn,
                                    row,
                                    &holder,
                                    e,
                                    now,
                                    pacing.retry_for,
                                )
                            }
                            Outcome::Failed(e) => {
                                report.failed += 1;
                                outbox::mark_failed(&mut conn, row, &holder, e)
                            }
                        };
                        match marked {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!(outbox = %id, "lease lost before the outcome was recorded; another worker has the message")
                            }
                            Err(e) => mark_error = Some(e),
                        }
                    }
                    if let Some(ack) = acks.get(sender) {
                        let _ = ack.send(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Keep the lease on what is still to send while half of it remains.
            let now = clock.now().naive_utc();
            if !open.is_empty() && now >= renewed_at + pacing.lease / 2 {
                let ids: Vec<&str> = open.keys().copied().collect();
                if let Err(e) = outbox::renew(&mut conn, &ids, &holder, now + pacing.lease) {
                    tracing::warn!(error = %e, "could not renew outbox leases");
                }
                renewed_at = now;
            }
        }
    });
    // Rows no sender reported on (a sender that stopped) are tried again later.
    for row in open.values() {
        let now = clock.now().naive_utc();
        outbox::mark_retry(
            &mut conn,
            row,
            &holder,
            "the sender stopped before it sent this message",
            now,
            pacing.retry_for,
        )?;
        report.retried += 1;
    }
    match mark_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Delivers until nothing more is due now: what the tests call instead of waiting for the
/// worker thread, so that they can count exactly what was sent.
pub fn drain(
    pool: &DbPool,
    clock: &dyn Clock,
    delivery: &Delivery,
    worker: &str,
    pacing: Pacing,
) -> Result<Delivered, AppError> {
    let mut total = Delivered::default();
    loop {
        let run = deliver_due(pool, clock, delivery, worker, pacing)?;
        total.claimed += run.claimed;
        total.sent += run.sent;
        total.retried += run.retried;
        total.failed += run.failed;
        if run.claimed == 0 {
            return Ok(total);
        }
    }
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
        pacing: Pacing,
    ) -> OutboxWorker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let name = format!("outbox-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match deliver_due(&pool, clock.as_ref(), &delivery, &name, pacing) {
                    // A full batch: there may be more waiting.
                    Ok(d) if d.claimed as i64 >= pacing.batch => continue,
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
