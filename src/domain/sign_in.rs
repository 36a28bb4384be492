//! Signing in with a password, held back per account and address so that an attacker cannot
//! lock a chair out: wrong passwords from one address slow down only that account from that
//! address, with delays that grow, and the owner signs in from their own address as ever. An
//! address that tries many accounts is held back only for accounts never signed in from there.
//! Every failure and every hold is a security event.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::audit::AuditKey;
use super::security_event::{self, SecurityEvent, SecurityKind};
use crate::error::AppError;
use crate::identity::password;
use crate::storage::models::UserRow;
use crate::storage::schema::{security_events, sign_in_attempts, users};
use crate::storage::{lock_key, write_transaction, DbConn};

/// Wrong passwords allowed for an account from one address before each try must wait.
pub const FREE_FAILURES: i64 = 3;
/// The first wait; each further failure doubles it, up to `LONGEST_WAIT`.
pub const FIRST_WAIT_SECONDS: i64 = 30;
pub const LONGEST_WAIT_SECONDS: i64 = 3600;
/// Failures older than this, or before the pair's last success, are forgotten.
pub const MEMORY_HOURS: i64 = 24;
/// Failures from one address, across accounts, in `SPRAY_MINUTES`, after which that address
/// may try only accounts that have signed in from it before.
pub const SPRAY_FAILURES: i64 = 30;
pub const SPRAY_MINUTES: i64 = 15;
/// An address an account signed in from this recently is the account's own.
pub const KNOWN_ADDRESS_DAYS: i64 = 90;

#[derive(Debug)]
pub enum Begun {
    /// Check the password (with no connection held), then call `failed` or `succeeded`.
    Check {
        attempt: String,
        user: Option<Box<UserRow>>,
    },
    /// Not checked: this account may try again from this address at `until`.
    HeldBack { until: DateTime<Utc> },
}

/// How long the account must wait after `failures` wrong passwords from one address.
pub fn wait_after(failures: i64) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(20) as u32;
    let seconds = FIRST_WAIT_SECONDS
        .saturating_mul(1i64 << doublings)
        .min(LONGEST_WAIT_SECONDS);
    Some(Duration::seconds(seconds))
}

fn last_success(
    conn: &mut DbConn,
    account: &str,
    address: &str,
) -> Result<Option<NaiveDateTime>, AppError> {
    Ok(sign_in_attempts::table
        .filter(sign_in_attempts::account.eq(account))
        .filter(sign_in_attempts::address.eq(address))
        .filter(sign_in_attempts::succeeded.eq(true))
        .select(diesel::dsl::max(sign_in_attempts::at))
        .get_result(conn)?)
}

/// When this account may next try from this address, if it must wait.
fn held_until(
    conn: &mut DbConn,
    account: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, AppError> {
    let success = last_success(conn, account, address)?;
    let mut since = now - Duration::hours(MEMORY_HOURS);
    if let Some(s) = success {
        since = since.max(s);
    }
    let failures: Vec<NaiveDateTime> = sign_in_attempts::table
        .filter(sign_in_attempts::account.eq(account))
        .filter(sign_in_attempts::address.eq(address))
        .filter(sign_in_attempts::succeeded.eq(false))
        .filter(sign_in_attempts::at.gt(since))
        .order(sign_in_attempts::at.desc())
        .select(sign_in_attempts::at)
        .load(conn)?;
    if let (Some(wait), Some(last)) = (wait_after(failures.len() as i64), failures.first()) {
        if now < *last + wait {
            return Ok(Some(*last + wait));
        }
    }
    // An address trying account after account: hold back the accounts that are not at home
    // there, until its failures fall out of the window.
    let window = now - Duration::minutes(SPRAY_MINUTES);
    let from_address: Vec<NaiveDateTime> = sign_in_attempts::table
        .filter(sign_in_attempts::address.eq(address))
        .filter(sign_in_attempts::succeeded.eq(false))
        .filter(sign_in_attempts::at.gt(window))
        .order(sign_in_attempts::at.desc())
        .limit(SPRAY_FAILURES)
        .select(sign_in_attempts::at)
        .load(conn)?;
    let at_home = success.is_some_and(|s| s > now - Duration::days(KNOWN_ADDRESS_DAYS));
    if from_address.len() as i64 >= SPRAY_FAILURES && !at_home {
        if let Some(oldest) = from_address.last() {
            return Ok(Some(*oldest + Duration::minutes(SPRAY_MINUTES)));
        }
    }
    Ok(None)
}

/// The first step: hold back, or record the attempt as failed until the password proves right
/// and return the stored hash to check. Attempts for one account and address queue here, so
/// attempts sent at once count against each other.
pub fn begin(
    conn: &mut DbConn,
    key: &AuditKey,
    email: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Begun, AppError> {
    let account = email.trim().to_lowercase();
    write_transaction(conn, |conn| {
        lock_key(conn, &format!("sign-in\n{account}\n{address}"))?;
        if let Some(until) = held_until(conn, &account, address, now)? {
            // One event per hold, not one per refused request.
            let already: i64 = security_events::table
                .filter(security_events::kind.eq(SecurityKind::SignInHeldBack.as_str()))
                .filter(security_events::account.eq(&account))
                .filter(security_events::address.eq(address))
                .filter(security_events::at.gt(now - Duration::seconds(LONGEST_WAIT_SECONDS)))
                .filter(security_events::detail.eq(held_detail(until)))
                .count()
                .get_result(conn)?;
            if already == 0 {
                security_event::record(
                    conn,
                    key,
                    &SecurityEvent {
                        kind: SecurityKind::SignInHeldBack,
                        account: Some(&account),
                        address: Some(address),
                        user_id: None,
                        detail: &held_detail(until),
                    },
                    now,
                )?;
            }
            return Ok(Begun::HeldBack {
                until: until.and_utc(),
            });
        }
        let attempt = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(sign_in_attempts::table)
            .values((
                sign_in_attempts::id.eq(&attempt),
                sign_in_attempts::account.eq(&account),
                sign_in_attempts::address.eq(address),
                sign_in_attempts::at.eq(now),
                sign_in_attempts::succeeded.eq(false),
            ))
            .execute(conn)?;
        let user: Option<UserRow> = users::table
            .filter(users::email.eq(&account))
            .filter(users::active.eq(true))
            .select(UserRow::as_select())
            .get_result(conn)
            .optional()?;
        Ok(Begun::Check {
            attempt,
            user: user.map(Box::new),
        })
    })
}

fn held_detail(until: NaiveDateTime) -> String {
    format!("held back until {}", until.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// The slow part, with no connection held: true when the password is the user's.
pub fn password_matches(user: Option<&UserRow>, typed: &str) -> bool {
    match user.and_then(|u| u.password_hash.as_deref()) {
        Some(stored) => password::verify(stored, typed),
        None => {
            // The same work for an unknown account, so the time taken does not tell.
            let _ = password::hash(typed);
            false
        }
    }
}

/// A wrong password (or no such account): the attempt stays failed; the event is recorded.
pub fn failed(
    conn: &mut DbConn,
    key: &AuditKey,
    email: &str,
    address: &str,
    user: Option<&UserRow>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let account = email.trim().to_lowercase();
    security_event::record(
        conn,
        key,
        &SecurityEvent {
            kind: SecurityKind::SignInFailed,
            account: Some(&account),
            address: Some(address),
            user_id: user.map(|u| u.id.as_str()),
            detail: match user {
                Some(u) if u.password_hash.is_some() => "wrong password",
                Some(_) => "the account has no password for the pages",
                None => "no active account has this address",
            },
        },
        now,
    )
}

/// A right password: the attempt marked good, in the caller's transaction.
/// A sign-in that waited for its second step has completed it: its attempt is marked good.
/// The attempt counts as good: the password was right and, where one is asked, the second
/// step too.
pub fn succeeded(conn: &mut DbConn, attempt: &str) -> Result<(), AppError> {
    diesel::update(sign_in_attempts::table.find(attempt))
        .set(sign_in_attempts::succeeded.eq(true))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_the_fourth_failure_and_stop_at_an_hour() {
        let waits: Vec<i64> = (0..12)
            .map(|n| wait_after(n).map(|d| d.num_seconds()).unwrap_or(0))
            .collect();
        assert_eq!(
            waits,
            vec![0, 0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
        );
    }
}
