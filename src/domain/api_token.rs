//! API tokens: several per person, each with a label and an expiry, listed and revoked. Only a
//! hash is stored, so a copy of the database does not let anyone in; the token itself is shown
//! once, when it is made.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::audit::AuditKey;
use super::security_event::{self, SecurityEvent, SecurityKind};
use crate::error::AppError;
use crate::identity::{hash_token, random_token};
use crate::storage::models::{ApiTokenRow, UserRow};
use crate::storage::schema::{api_tokens, users};
use crate::storage::{write_transaction, DbConn};

/// How stale `last_used_at` may be before a request writes it again.
const USED_EVERY_MINUTES: i64 = 5;

/// Makes a token for the user and returns (its id, the token). In the caller's transaction.
pub fn issue(
    conn: &mut DbConn,
    key: &AuditKey,
    user: &UserRow,
    label: &str,
    days: i64,
    by: &str,
    now: NaiveDateTime,
) -> Result<(String, String), AppError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(AppError::bad_request(
            "invalid_label",
            "label",
            "a token's label must be 1 to 100 characters",
        ));
    }
    if !(1..=366).contains(&days) {
        return Err(AppError::bad_request(
            "invalid_days",
            "days",
            "a token lasts between 1 and 366 days",
        ));
    }
    let token = format!("sg_{}", random_token());
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(api_tokens::table)
        .values(ApiTokenRow {
            id: id.clone(),
            user_id: user.id.clone(),
            token_hash: hash_token(&token),
            label: label.to_string(),
            created_at: now,
            expires_at: now + Duration::days(days),
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        })
        .execute(conn)?;
    security_event::record(
        conn,
        key,
        &SecurityEvent {
            kind: SecurityKind::TokenIssued,
            account: Some(&user.email),
            address: None,
            user_id: Some(&user.id),
            detail: &format!("token {id} ({label}) for {days} days, by {by}"),
        },
        now,
    )?;
    Ok((id, token))
}

/// The active user a token belongs to, if the token is neither expired nor revoked.
pub fn user_of(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<UserRow>, AppError> {
    let found: Option<(UserRow, String, Option<NaiveDateTime>)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select((
            UserRow::as_select(),
            api_tokens::id,
            api_tokens::last_used_at,
        ))
        .get_result(conn)
        .optional()?;
    let Some((user, id, used)) = found else {
        return Ok(None);
    };
    if used.is_none_or(|u| now - u >= Duration::minutes(USED_EVERY_MINUTES)) {
        diesel::update(api_tokens::table.find(&id))
            .set(api_tokens::last_used_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(Some(user))
}

/// A person's tokens, newest first, with the revoked and expired ones.
pub fn of_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<ApiTokenRow>, AppError> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::created_at.desc())
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

/// Every token still working, with its person's email address, for an administrator.
pub fn all_working(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<(ApiTokenRow, String)>, AppError> {
    Ok(api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .order((users::email, api_tokens::created_at.desc()))
        .select((ApiTokenRow::as_select(), users::email))
        .load(conn)?)
}

/// Revokes a token at once. A token already revoked stays as it was.
pub fn revoke(
    conn: &mut DbConn,
    key: &AuditKey,
    token_id: &str,
    by: &str,
    now: NaiveDateTime,
) -> Result<ApiTokenRow, AppError> {
    write_transaction(conn, |conn| {
        let row: ApiTokenRow = api_tokens::table
            .find(token_id)
            .select(ApiTokenRow::as_select())
            .get_result(conn)
            .optional()?
            .ok_or(AppError::NotFound("token"))?;
        if row.revoked_at.is_some() {
            return Ok(row);
        }
        diesel::update(api_tokens::table.find(token_id))
            .set((
                api_tokens::revoked_at.eq(Some(now)),
                api_tokens::revoked_by.eq(Some(by)),
            ))
            .execute(conn)?;
        let email: String = users::table
            .find(&row.user_id)
            .select(users::email)
            .get_result(conn)?;
        security_event::record(
            conn,
            key,
            &SecurityEvent {
                kind: SecurityKind::TokenRevoked,
                account: Some(&email),
                address: None,
                user_id: Some(&row.user_id),
                detail: &format!("token {token_id} ({}) revoked by {by}", row.label),
            },
            now,
        )?;
        Ok(ApiTokenRow {
            revoked_at: Some(now),
            revoked_by: Some(by.to_string()),
            ..row
        })
    })
}
