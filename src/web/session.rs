//! Signing in to the pages: password check with attempts limited per account and per address,
//! a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS) of which only a hash is
//! stored, and a CSRF token per session that every form carries.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use crate::error::AppError;
use crate::identity::hash_token;
use crate::identity::password;
use crate::storage::models::UserRow;
use crate::storage::schema::{sign_in_attempts, users, web_sessions};
use crate::storage::DbConn;

pub const COOKIE: &str = "sg_session";
/// The anonymous forms' CSRF token (double-submit: cookie and hidden field must match).
pub const PRE_COOKIE: &str = "sg_form";
pub const LANGUAGE_COOKIE: &str = "sg_lang";
/// A working day; signing in again each morning.
pub const SESSION_HOURS: i64 = 10;
/// Failed attempts allowed in the window before sign-in is refused for a while.
pub const PER_ACCOUNT: i64 = 5;
pub const PER_ADDRESS: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two tokens without stopping at the first difference.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Debug)]
pub enum SignIn {
    Ok { token: String },
    Refused,
    TooManyAttempts,
}

fn failures_since(
    conn: &mut DbConn,
    column_is_account: bool,
    key: &str,
    since: NaiveDateTime,
) -> Result<i64, AppError> {
    let q = sign_in_attempts::table
        .filter(sign_in_attempts::succeeded.eq(false))
        .filter(sign_in_attempts::at.gt(since))
        .into_boxed();
    let q = if column_is_account {
        q.filter(sign_in_attempts::account.eq(key))
    } else {
        q.filter(sign_in_attempts::address.eq(key))
    };
    Ok(q.count().get_result(conn)?)
}

/// The first step of signing in: refuse if there have been too many failures, else record this
/// attempt as failed (until the password proves right) and return the stored hash. The attempt
/// is written before the slow check so that attempts sent at once count against each other,
/// and no database connection is held while the hash is checked.
pub fn begin_sign_in(
    conn: &mut DbConn,
    email: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, Option<UserRow>)>, AppError> {
    let account = email.trim().to_lowercase();
    let since = now - Duration::minutes(WINDOW_MINUTES);
    if failures_since(conn, true, &account, since)? >= PER_ACCOUNT
        || failures_since(conn, false, address, since)? >= PER_ADDRESS
    {
        return Ok(None);
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
    Ok(Some((attempt, user)))
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

/// The last step for a right password: the attempt marked good and a session opened.
pub fn open_session(
    conn: &mut DbConn,
    attempt: &str,
    user: &UserRow,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    diesel::update(sign_in_attempts::table.find(attempt))
        .set(sign_in_attempts::succeeded.eq(true))
        .execute(conn)?;
    let token = random_token();
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(hash_token(&token)),
            web_sessions::user_id.eq(&user.id),
            web_sessions::csrf_token.eq(random_token()),
            web_sessions::created_at.eq(now),
            web_sessions::expires_at.eq(now + Duration::hours(SESSION_HOURS)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The signed-in user of a session cookie, with the session's CSRF token.
pub fn current(
    conn: &mut DbConn,
    cookie: &str,
    now: NaiveDateTime,
) -> Result<Option<(UserRow, String)>, AppError> {
    Ok(web_sessions::table
        .inner_join(users::table)
        .filter(web_sessions::token_hash.eq(hash_token(cookie)))
        .filter(web_sessions::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select((UserRow::as_select(), web_sessions::csrf_token))
        .get_result(conn)
        .optional()?)
}

pub fn sign_out(conn: &mut DbConn, cookie: &str) -> Result<(), AppError> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq(hash_token(cookie))))
        .execute(conn)?;
    Ok(())
}

pub fn set_language(conn: &mut DbConn, user_id: &str, language: &str) -> Result<(), AppError> {
    diesel::update(users::table.find(user_id))
        .set(users::language.eq(language))
        .execute(conn)?;
    Ok(())
}

/// What became of a form's one-time token.
pub enum Submission {
    /// First time: go ahead.
    New,
    /// Already done: where it led.
    Done(String),
    /// Another submission of the same form is being handled now.
    InProgress,
}

/// Claims a form's one-time token for this submission.
pub fn claim_submission(
    conn: &mut DbConn,
    token: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Submission, AppError> {
    use crate::storage::schema::form_submissions;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    let inserted = diesel::insert_into(form_submissions::table)
        .values((
            form_submissions::token.eq(token),
            form_submissions::user_id.eq(user_id),
            form_submissions::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Submission::New),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let outcome: Option<String> = form_submissions::table
                .find(token)
                .filter(form_submissions::user_id.eq(user_id))
                .select(form_submissions::outcome)
                .get_result::<Option<String>>(conn)
                .optional()?
                .flatten();
            Ok(outcome
                .map(Submission::Done)
                .unwrap_or(Submission::InProgress))
        }
        Err(e) => Err(e.into()),
    }
}

/// Records where a submission led, or frees the token when it was refused (so the corrected
/// form can be sent again).
pub fn finish_submission(
    conn: &mut DbConn,
    token: &str,
    outcome: Option<&str>,
) -> Result<(), AppError> {
    use crate::storage::schema::form_submissions;
    match outcome {
        Some(o) => {
            diesel::update(form_submissions::table.find(token))
                .set(form_submissions::outcome.eq(Some(o)))
                .execute(conn)?;
        }
        None => {
            diesel::delete(form_submissions::table.find(token)).execute(conn)?;
        }
    }
    Ok(())
}
