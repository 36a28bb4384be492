//! The second step for local passwords: a six-digit code from an authenticator app (TOTP,
//! RFC 6238, through `totp-rs`), or one of ten single-use recovery codes. A person sets it up
//! from their account page; where the council requires it, everyone signing in with a password
//! sets it up before their first session. A code works once (the last time step used is kept),
//! a waiting sign-in allows five tries in ten minutes, and an administrator can reset it when a
//! phone is lost. Each change is a security event.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use totp_rs::{Algorithm, Secret, TOTP};

use super::security_event::{self, SecurityEvent, SecurityKind};
use super::Services;
use crate::error::AppError;
use crate::identity::{hash_token, random_token};
use crate::storage::models::UserRow;
use crate::storage::schema::{recovery_codes, second_steps, users};
use crate::storage::{write_transaction, DbConn};

/// The name authenticator apps show beside the code.
pub const ISSUER: &str = "Safeguarding";
/// How long a sign-in waits for its second step, and how many codes it may try.
const WAIT_MINUTES: i64 = 10;
const TRIES: i32 = 5;
const RECOVERY_CODES: usize = 10;

fn totp(secret: &str, account: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|_| AppError::Internal("a stored second-factor secret does not decode".into()))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(ISSUER.into()),
        account.to_string(),
    )
    .map_err(|e| AppError::Internal(format!("second-factor secret: {e}")))
}

/// An account's secret, when it was set up, and the last time step a code was used for.
type Stored = (Option<String>, Option<NaiveDateTime>, Option<i64>);

fn stored(conn: &mut DbConn, user_id: &str) -> Result<Stored, AppError> {
    Ok(users::table
        .find(user_id)
        .select((
            users::totp_secret,
            users::totp_enabled_at,
            users::totp_last_step,
        ))
        .get_result(conn)?)
}

/// Whether the account has a second step set up.
pub fn is_set_up(conn: &mut DbConn, user_id: &str) -> Result<bool, AppError> {
    Ok(stored(conn, user_id)?.1.is_some())
}

/// What an authenticator app needs to be set up: the secret (typed by hand) and the
/// `otpauth://` address (which apps read). A secret not yet confirmed is shown again.
pub struct Setup {
    pub secret: String,
    pub url: String,
}

pub fn setup(conn: &mut DbConn, user: &UserRow) -> Result<Setup, AppError> {
    let (secret, enabled, _) = stored(conn, &user.id)?;
    if enabled.is_some() {
        return Err(AppError::Conflict {
            code: "second_factor_set_up",
            message: "the second step is already set up".into(),
        });
    }
    let secret = match secret {
        Some(s) => s,
        None => {
            let s = match Secret::generate_secret().to_encoded() {
                Secret::Encoded(s) => s,
                Secret::Raw(_) => return Err(AppError::Internal("secret encoding".into())),
            };
            diesel::update(users::table.find(&user.id))
                .set(users::totp_secret.eq(Some(&s)))
                .execute(conn)?;
            s
        }
    };
    let url = totp(&secret, &user.email)?.get_url();
    Ok(Setup { secret, url })
}

fn wrong_code() -> AppError {
    AppError::unprocessable(
        "wrong_code",
        "code",
        "that code is not right, or was already used",
    )
}

/// Checks a code from the app against the account's secret at `now`, once per time step.
fn app_code_matches(
    conn: &mut DbConn,
    user: &UserRow,
    secret: &str,
    last: Option<i64>,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(false);
    }
    let t = totp(secret, &user.email)?;
    let at = now.timestamp().max(0) as u64;
    // The step the code belongs to, among the one before, now and the one after.
    let step = [at.saturating_sub(30), at, at + 30]
        .into_iter()
        .find(|s| t.generate(*s) == code)
        .map(|s| (s / 30) as i64);
    let Some(step) = step else { return Ok(false) };
    if last.is_some_and(|l| step <= l) {
        return Ok(false);
    }
    diesel::update(users::table.find(&user.id))
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)?;
    Ok(true)
}

/// Confirms the set-up with a code from the app; returns the recovery codes, shown once.
pub fn confirm(
    svc: &Services,
    conn: &mut DbConn,
    user: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    write_transaction(conn, |conn| confirm_in(svc, conn, user, code, now))
}

/// A sign-in that waited for the person to set up their second step (the council requires
/// it): the set-up confirmed and the session opened together. Returns the session, where they
/// were going and the recovery codes.
pub fn set_up_and_sign_in(
    svc: &Services,
    conn: &mut DbConn,
    token: &str,
    code: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(String, String, Vec<String>), AppError> {
    let naive_now = now.naive_utc();
    let (user, next) = waiting(conn, token, naive_now)?;
    write_transaction(conn, |conn| {
        let codes = confirm_in(svc, conn, &user, code, now)?;
        let session = signed_in(svc, conn, &user, token, address, naive_now)?;
        Ok((session, next.clone(), codes))
    })
}

/// The waiting sign-in ends in a session, with its security event.
fn signed_in(
    svc: &Services,
    conn: &mut DbConn,
    user: &UserRow,
    token: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let attempt: String = second_steps::table
        .find(hash_token(token))
        .select(second_steps::attempt_id)
        .get_result(conn)?;
    super::sign_in::succeeded(conn, &attempt)?;
    diesel::delete(second_steps::table.filter(second_steps::token_hash.eq(hash_token(token))))
        .execute(conn)?;
    super::session::open_signed_in(
        conn,
        &svc.audit_key,
        user,
        Some(address),
        "signed in to the pages, with the second step",
        svc.access.sessions,
        now,
    )
}

fn confirm_in(
    svc: &Services,
    conn: &mut DbConn,
    user: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    {
        let (secret, enabled, last) = stored(conn, &user.id)?;
        let Some(secret) = secret.filter(|_| enabled.is_none()) else {
            return Err(AppError::Conflict {
                code: "second_factor_set_up",
                message: "the second step is already set up, or was not begun".into(),
            });
        };
        if !app_code_matches(conn, user, &secret, last, code, now)? {
            return Err(wrong_code());
        }
        let naive_now = now.naive_utc();
        diesel::update(users::table.find(&user.id))
            .set(users::totp_enabled_at.eq(Some(naive_now)))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(&user.id)))
            .execute(conn)?;
        let mut codes = Vec::new();
        for _ in 0..RECOVERY_CODES {
            // Ten lower-case hex characters in two groups: easy to type, 40 bits each.
            let raw: String = random_token().chars().take(10).collect();
            let code = format!("{}-{}", &raw[..5], &raw[5..]);
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::code_hash.eq(hash_token(&code)),
                    recovery_codes::user_id.eq(&user.id),
                    recovery_codes::created_at.eq(naive_now),
                ))
                .execute(conn)?;
            codes.push(code);
        }
        security_event::record(
            conn,
            &svc.audit_key,
            &SecurityEvent {
                kind: SecurityKind::SecondFactorSetUp,
                account: Some(&user.email),
                address: None,
                user_id: Some(&user.id),
                detail: "an authenticator app set up, with recovery codes",
            },
            naive_now,
        )?;
        Ok(codes)
    }
}

/// A code from the app, or an unused recovery code (then spent).
fn code_matches(
    conn: &mut DbConn,
    user: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let (secret, enabled, last) = stored(conn, &user.id)?;
    let (Some(secret), Some(_)) = (secret, enabled) else {
        return Ok(false);
    };
    if app_code_matches(conn, user, &secret, last, code, now)? {
        return Ok(true);
    }
    let spent = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::code_hash.eq(hash_token(code.trim())))
            .filter(recovery_codes::user_id.eq(&user.id))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now.naive_utc())))
    .execute(conn)?;
    Ok(spent == 1)
}

/// A password sign-in that waits for its second step; returns the token its cookie keeps.
/// Its attempt stays failed until the second step is passed, so that wrong codes hold the
/// account back from that address as wrong passwords do.
pub fn wait(
    conn: &mut DbConn,
    user: &UserRow,
    next: &str,
    attempt: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let token = random_token();
    diesel::delete(
        second_steps::table.filter(second_steps::created_at.lt(now - Duration::days(1))),
    )
    .execute(conn)?;
    diesel::insert_into(second_steps::table)
        .values((
            second_steps::token_hash.eq(hash_token(&token)),
            second_steps::user_id.eq(&user.id),
            second_steps::next_path.eq(next),
            second_steps::attempt_id.eq(attempt),
            second_steps::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The sign-in waiting under this token: the person and where they were going.
pub fn waiting(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<(UserRow, String), AppError> {
    second_steps::table
        .inner_join(users::table)
        .filter(second_steps::token_hash.eq(hash_token(token)))
        .filter(second_steps::created_at.gt(now - Duration::minutes(WAIT_MINUTES)))
        .filter(second_steps::attempts.lt(TRIES))
        .filter(users::active.eq(true))
        .select((UserRow::as_select(), second_steps::next_path))
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("waiting sign-in"))
}

/// The second step of a waiting sign-in: with a right code, the session opens (and the
/// waiting sign-in ends); with a wrong one, a try is used.
pub fn complete(
    svc: &Services,
    conn: &mut DbConn,
    token: &str,
    code: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    let naive_now = now.naive_utc();
    let (user, next) = waiting(conn, token, naive_now)?;
    let outcome = write_transaction(conn, |conn| {
        if !code_matches(conn, &user, code, now)? {
            return Ok(None);
        }
        Ok::<_, AppError>(Some(signed_in(
            svc, conn, &user, token, address, naive_now,
        )?))
    })?;
    match outcome {
        Some(session) => Ok((session, next)),
        None => {
            write_transaction(conn, |conn| {
                diesel::update(
                    second_steps::table.filter(second_steps::token_hash.eq(hash_token(token))),
                )
                .set(second_steps::attempts.eq(second_steps::attempts + 1))
                .execute(conn)?;
                security_event::record(
                    conn,
                    &svc.audit_key,
                    &SecurityEvent {
                        kind: SecurityKind::SignInFailed,
                        account: Some(&user.email),
                        address: Some(address),
                        user_id: Some(&user.id),
                        detail: "a wrong second-step code",
                    },
                    naive_now,
                )
            })?;
            Err(wrong_code())
        }
    }
}

/// An administrator resets someone's second step (a lost phone): they set it up again.
pub fn reset(
    svc: &Services,
    conn: &mut DbConn,
    intent: &super::unit_of_work::Intent<'_>,
    user_id: &str,
) -> Result<(), AppError> {
    let user = super::staff::by_id(conn, user_id)?;
    super::unit_of_work::write(conn, intent, |conn, _| {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(None::<String>),
                users::totp_enabled_at.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        security_event::record(
            conn,
            &svc.audit_key,
            &SecurityEvent {
                kind: SecurityKind::SecondFactorReset,
                account: Some(&user.email),
                address: None,
                user_id: Some(user_id),
                detail: &format!("second step reset by {}", intent.who),
            },
            intent.now.naive_utc(),
        )
    })
}
