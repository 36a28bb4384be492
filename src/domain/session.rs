//! Sessions of the pages: only a hash of the cookie is stored. A session ends when it has not
//! been used for the idle time, at the end of the working day however busy, when the person
//! opens one more than allowed (the oldest goes), and everywhere at once when they ask.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::audit::AuditKey;
use super::security_event::{self, SecurityEvent, SecurityKind};
use crate::error::AppError;
use crate::identity::hash_token;
use crate::storage::models::UserRow;
use crate::storage::schema::{users, web_sessions};
use crate::storage::DbConn;

/// How long sessions last and how many a person may have.
#[derive(Debug, Clone, Copy)]
pub struct SessionRules {
    pub idle: Duration,
    pub longest: Duration,
    pub per_person: i64,
}

/// How stale `last_seen_at` may be before a request writes it again: a page view is not a
/// write unless a minute has passed.
const SEEN_EVERY_SECONDS: i64 = 60;

/// Signs a person in: the `signed_in` security event (saying `how`) and their new session, in
/// the caller's transaction. Every way in (password, second step, single sign-on, an
/// invitation's first password) ends here.
pub fn open_signed_in(
    conn: &mut DbConn,
    key: &AuditKey,
    user: &UserRow,
    address: Option<&str>,
    how: &str,
    rules: SessionRules,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    security_event::record(
        conn,
        key,
        &SecurityEvent {
            kind: SecurityKind::SignedIn,
            account: Some(&user.email),
            address,
            user_id: Some(&user.id),
            detail: how,
        },
        now,
    )?;
    open(conn, key, user, rules, now)
}

/// Opens a session for `user` and returns its cookie value, ending their oldest sessions
/// beyond the limit. In the caller's transaction.
pub fn open(
    conn: &mut DbConn,
    key: &AuditKey,
    user: &UserRow,
    rules: SessionRules,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let token = crate::identity::random_token();
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(hash_token(&token)),
            web_sessions::user_id.eq(&user.id),
            web_sessions::csrf_token.eq(crate::identity::random_token()),
            web_sessions::created_at.eq(now),
            web_sessions::expires_at.eq(now + rules.longest),
            web_sessions::last_seen_at.eq(Some(now)),
        ))
        .execute(conn)?;
    // Sessions already over go quietly; live ones beyond the limit go oldest first, recorded.
    diesel::delete(
        web_sessions::table
            .filter(web_sessions::user_id.eq(&user.id))
            .filter(
                web_sessions::expires_at
                    .le(now)
                    .or(web_sessions::last_seen_at.le(now - rules.idle)),
            ),
    )
    .execute(conn)?;
    let live: Vec<String> = web_sessions::table
        .filter(web_sessions::user_id.eq(&user.id))
        .order((web_sessions::created_at.desc(), web_sessions::token_hash))
        .select(web_sessions::token_hash)
        .load(conn)?;
    let beyond: Vec<String> = live
        .into_iter()
        .skip(rules.per_person.max(1) as usize)
        .collect();
    if !beyond.is_empty() {
        diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq_any(&beyond)))
            .execute(conn)?;
        security_event::record(
            conn,
            key,
            &SecurityEvent {
                kind: SecurityKind::SessionEnded,
                account: Some(&user.email),
                address: None,
                user_id: Some(&user.id),
                detail: &format!(
                    "{} oldest session(s) ended: more than {} open",
                    beyond.len(),
                    rules.per_person
                ),
            },
            now,
        )?;
    }
    Ok(token)
}

/// The signed-in user of a session cookie, with the session's CSRF token, if the session is
/// still open; its last use is brought up to date.
pub fn current(
    conn: &mut DbConn,
    cookie: &str,
    rules: SessionRules,
    now: NaiveDateTime,
) -> Result<Option<(UserRow, String)>, AppError> {
    let hash = hash_token(cookie);
    let found: Option<(UserRow, String, Option<NaiveDateTime>, NaiveDateTime)> =
        web_sessions::table
            .inner_join(users::table)
            .filter(web_sessions::token_hash.eq(&hash))
            .filter(web_sessions::expires_at.gt(now))
            .filter(users::active.eq(true))
            .select((
                UserRow::as_select(),
                web_sessions::csrf_token,
                web_sessions::last_seen_at,
                web_sessions::created_at,
            ))
            .get_result(conn)
            .optional()?;
    let Some((user, csrf, seen, created)) = found else {
        return Ok(None);
    };
    let seen = seen.unwrap_or(created);
    if seen <= now - rules.idle {
        diesel::delete(web_sessions::table.find(&hash)).execute(conn)?;
        return Ok(None);
    }
    if now - seen >= Duration::seconds(SEEN_EVERY_SECONDS) {
        diesel::update(web_sessions::table.find(&hash))
            .set(web_sessions::last_seen_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(Some((user, csrf)))
}

pub fn sign_out(conn: &mut DbConn, cookie: &str) -> Result<(), AppError> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq(hash_token(cookie))))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of the person, in every browser; returns how many.
pub fn sign_out_everywhere(
    conn: &mut DbConn,
    key: &AuditKey,
    user: &UserRow,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    crate::storage::write_transaction(conn, |conn| {
        let ended = diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(&user.id)))
            .execute(conn)?;
        security_event::record(
            conn,
            key,
            &SecurityEvent {
                kind: SecurityKind::SignedOutEverywhere,
                account: Some(&user.email),
                address: None,
                user_id: Some(&user.id),
                detail: &format!("{ended} session(s) ended"),
            },
            now,
        )?;
        Ok(ended)
    })
}

/// Sessions the person has open now.
pub fn open_count(
    conn: &mut DbConn,
    user_id: &str,
    rules: SessionRules,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(web_sessions::table
        .filter(web_sessions::user_id.eq(user_id))
        .filter(web_sessions::expires_at.gt(now))
        .filter(web_sessions::last_seen_at.gt(now - rules.idle))
        .count()
        .get_result(conn)?)
}
