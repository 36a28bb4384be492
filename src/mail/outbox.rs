//! The outbox: emails stored in the same transaction as the change that causes them, then
//! claimed and delivered by a worker. Several replicas can share one database: a row is claimed
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL and a conditional lease update on SQLite, so each
//! row goes to one worker at a time.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::error::AppError;
use crate::storage::models::OutboxRow;
use crate::storage::schema::outbox;
use crate::storage::{write_transaction, DbConn};

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// The message `id` while `holder` holds its lease: every mark a worker makes is conditional on
/// it, so a worker whose lease ran out (and whose message another may have taken) changes nothing.
macro_rules! held {
    ($id:expr, $holder:expr) => {
        outbox::table
            .filter(outbox::id.eq($id))
            .filter(outbox::leased_by.eq($holder))
            .filter(outbox::status.eq(PENDING))
    };
}

pub struct NewEmail<'a> {
    pub kind: &'a str,
    pub meeting_id: Option<&'a str>,
    pub case_id: Option<&'a str>,
    pub recipient: &'a str,
    pub sender: &'a str,
    pub subject: &'a str,
    pub raw: Vec<u8>,
    pub not_before: NaiveDateTime,
}

pub fn enqueue(
    conn: &mut DbConn,
    id: &str,
    email: NewEmail<'_>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let raw = String::from_utf8(email.raw)
        .map_err(|_| AppError::Internal("a built email was not UTF-8".into()))?;
    diesel::insert_into(outbox::table)
        .values(OutboxRow {
            id: id.to_string(),
            kind: email.kind.to_string(),
            meeting_id: email.meeting_id.map(str::to_string),
            case_id: email.case_id.map(str::to_string),
            recipient: email.recipient.to_string(),
            sender: email.sender.to_string(),
            subject: email.subject.to_string(),
            raw,
            status: PENDING.to_string(),
            attempts: 0,
            not_before: email.not_before,
            lease_until: None,
            leased_by: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            retried_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Claims up to `limit` due rows for the holder `claim_id` (unique to this claim), for `lease`.
/// A worker that dies loses its lease when it runs out and another worker picks the row up.
pub fn claim_as(
    conn: &mut DbConn,
    claim_id: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxRow>, AppError> {
    let until = now + lease;
    let due = outbox::status
        .eq(PENDING)
        .and(outbox::not_before.le(now))
        .and(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        );
    match conn {
        DbConn::Postgres(pg) => {
            pg.transaction::<_, diesel::result::Error, _>(|pg| {
                let ids: Vec<String> = outbox::table
                    .filter(due)
                    .order(outbox::not_before)
                    .limit(limit)
                    .select(outbox::id)
                    .for_update()
                    .skip_locked()
                    .load(pg)?;
                diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                    .set((
                        outbox::leased_by.eq(claim_id),
                        outbox::lease_until.eq(until),
                    ))
                    .execute(pg)?;
                Ok(())
            })?;
        }
        DbConn::Sqlite(_) => {
            // Under BEGIN IMMEDIATE the rows are read and leased holding the write lock, so two
            // workers cannot both see a row as free.
            write_transaction(conn, |conn| {
                let ids: Vec<String> = outbox::table
                    .filter(due)
                    .order(outbox::not_before)
                    .limit(limit)
                    .select(outbox::id)
                    .load(conn)?;
                diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                    .set((
                        outbox::leased_by.eq(claim_id),
                        outbox::lease_until.eq(until),
                    ))
                    .execute(conn)
            })?;
        }
    }
    Ok(outbox::table
        .filter(outbox::leased_by.eq(claim_id))
        .filter(outbox::status.eq(PENDING))
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Marks one message sent as soon as the server has accepted it. True when marked.
pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    holder: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    Ok(diesel::update(held!(id, holder))
        .set((
            outbox::status.eq(SENT),
            outbox::sent_at.eq(Some(now)),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?
        == 1)
}

/// Keeps this worker's leases on messages it has not finished, while it is still sending.
pub fn renew(
    conn: &mut DbConn,
    ids: &[&str],
    holder: &str,
    until: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::leased_by.eq(holder))
            .filter(outbox::status.eq(PENDING)),
    )
    .set(outbox::lease_until.eq(Some(until)))
    .execute(conn)?)
}

/// Exponential backoff: 30 s, 1 min, 2 min ... never more than an hour between attempts.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    Duration::seconds((30i64 << exp).min(3600))
}

/// A transient failure (the server could not be reached, or answered "try later"): tried again
/// after the backoff, for as long as `retry_for` from when the message was queued. Only after
/// that, or on a permanent refusal, is a message failed.
pub fn mark_retry(
    conn: &mut DbConn,
    row: &OutboxRow,
    holder: &str,
    error: &str,
    now: NaiveDateTime,
    retry_for: Duration,
) -> Result<bool, AppError> {
    let attempts = row.attempts + 1;
    let next = now + backoff(attempts);
    if next > row.retried_at.unwrap_or(row.created_at) + retry_for {
        return mark_failed(
            conn,
            row,
            holder,
            &format!(
                "gave up after {attempts} attempts over {} hours: {error}",
                retry_for.num_hours()
            ),
        );
    }
    Ok(diesel::update(held!(&row.id, holder))
        .set((
            outbox::attempts.eq(attempts),
            outbox::not_before.eq(next),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error.chars().take(1000).collect::<String>())),
        ))
        .execute(conn)?
        == 1)
}

pub fn mark_failed(
    conn: &mut DbConn,
    row: &OutboxRow,
    holder: &str,
    error: &str,
) -> Result<bool, AppError> {
    tracing::warn!(outbox = %row.id, kind = %row.kind, error, "email failed permanently");
    Ok(diesel::update(held!(&row.id, holder))
        .set((
            outbox::status.eq(FAILED),
            outbox::attempts.eq(row.attempts + 1),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error.chars().take(1000).collect::<String>())),
        ))
        .execute(conn)?
        == 1)
}

/// Puts failed messages back in the queue, due now: one by id, or every failed one. Returns how
/// many. Their attempts start again, and so does the period they are retried for.
pub fn retry_failed(
    conn: &mut DbConn,
    id: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut q = diesel::update(outbox::table)
        .filter(outbox::status.eq(FAILED))
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(outbox::id.eq(id));
    }
    Ok(q.set((
        outbox::status.eq(PENDING),
        outbox::attempts.eq(0),
        outbox::not_before.eq(now),
        outbox::retried_at.eq(Some(now)),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::leased_by.eq(None::<String>),
    ))
    .execute(conn)?)
}

/// Withdraws emails of `kind` for a meeting that have not gone yet (reminders of a meeting
/// that moved or was cancelled).
pub fn cancel_pending(conn: &mut DbConn, meeting_id: &str, kind: &str) -> Result<usize, AppError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::meeting_id.eq(meeting_id))
            .filter(outbox::kind.eq(kind))
            .filter(outbox::status.eq(PENDING)),
    )
    .set(outbox::status.eq(CANCELLED))
    .execute(conn)?)
}

/// A message that failed, or is failing and being tried again, as an administrator sees it:
/// the case's reference (never the child's name) and dates, not the message itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Trouble {
    pub id: String,
    pub kind: String,
    pub reference: Option<String>,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it is tried again, for one still being retried.
    pub next_attempt: Option<chrono::DateTime<chrono::Utc>>,
}

/// Failed mail, and mail that has failed at least once and is still being retried, newest
/// first.
pub fn troubled(conn: &mut DbConn) -> Result<Vec<Trouble>, AppError> {
    use crate::storage::schema::cases;
    use crate::storage::schema::meeting_cases;
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        i32,
        Option<String>,
        NaiveDateTime,
        NaiveDateTime,
    );
    let rows: Vec<Row> = outbox::table
        .left_join(cases::table.on(cases::id.nullable().eq(outbox::case_id)))
        .filter(
            outbox::status
                .eq(FAILED)
                .or(outbox::status.eq(PENDING).and(outbox::attempts.gt(0))),
        )
        .order(outbox::created_at.desc())
        .limit(500)
        .select((
            outbox::id,
            outbox::kind,
            cases::reference.nullable(),
            outbox::meeting_id,
            outbox::recipient,
            outbox::status,
            outbox::attempts,
            outbox::last_error,
            outbox::created_at,
            outbox::not_before,
        ))
        .load(conn)?;
    let mut troubles = Vec::with_capacity(rows.len());
    for (id, kind, reference, meeting, recipient, status, attempts, last_error, created, next) in
        rows
    {
        // A meeting's email names the references of every child in it, as its subject does.
        let reference = match (reference, meeting) {
            (Some(r), _) => Some(r),
            (None, Some(m)) => {
                let refs: Vec<String> = meeting_cases::table
                    .inner_join(cases::table)
                    .filter(meeting_cases::meeting_id.eq(&m))
                    .order(cases::reference)
                    .select(cases::reference)
                    .load(conn)?;
                (!refs.is_empty()).then(|| refs.join(", "))
            }
            (None, None) => None,
        };
        troubles.push(Trouble {
            next_attempt: (status == PENDING).then(|| next.and_utc()),
            id,
            kind,
            reference,
            recipient,
            status,
            attempts,
            last_error,
            created_at: created.and_utc(),
        });
    }
    Ok(troubles)
}

/// Failed mail, newest first, for administrators.
pub fn failed(conn: &mut DbConn) -> Result<Vec<OutboxRow>, AppError> {
    Ok(outbox::table
        .filter(outbox::status.eq(FAILED))
        .order(outbox::created_at.desc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}
