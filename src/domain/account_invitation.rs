//! The link an invited person follows to set their first password. Only a hash of its secret is
//! stored; it works once, for a week, and not for an account deactivated meanwhile.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::audit::AuditKey;
use super::security_event::{self, SecurityEvent, SecurityKind};
use crate::error::AppError;
use crate::identity::{hash_token, random_token};
use crate::storage::models::UserRow;
use crate::storage::schema::{account_invitations, users};
use crate::storage::{write_transaction, DbConn};

/// How long an invitation works.
pub const DAYS: i64 = 7;

/// A new invitation for this account; earlier ones stop working. Returns the link's secret.
pub fn issue(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> Result<String, AppError> {
    diesel::update(
        account_invitations::table
            .filter(account_invitations::user_id.eq(user_id))
            .filter(account_invitations::used_at.is_null()),
    )
    .set(account_invitations::expires_at.eq(now))
    .execute(conn)?;
    let secret = random_token();
    diesel::insert_into(account_invitations::table)
        .values((
            account_invitations::token_hash.eq(hash_token(&secret)),
            account_invitations::user_id.eq(user_id),
            account_invitations::created_at.eq(now),
            account_invitations::expires_at.eq(now + Duration::days(DAYS)),
        ))
        .execute(conn)?;
    Ok(secret)
}

/// The account a working invitation is for; an unknown, used or expired link is not found.
pub fn holder(conn: &mut DbConn, secret: &str, now: NaiveDateTime) -> Result<UserRow, AppError> {
    account_invitations::table
        .inner_join(users::table)
        .filter(account_invitations::token_hash.eq(hash_token(secret)))
        .filter(account_invitations::used_at.is_null())
        .filter(account_invitations::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("invitation"))
}

/// Sets the invited person's password, spends the link and signs them in, in one transaction;
/// returns the account and the new session's token.
pub fn accept(
    conn: &mut DbConn,
    key: &AuditKey,
    secret: &str,
    password: &str,
    sessions: super::session::SessionRules,
    now: NaiveDateTime,
) -> Result<(UserRow, String), AppError> {
    crate::identity::password::check_policy(password)?;
    let hashed = crate::identity::password::hash(password)?;
    write_transaction(conn, |conn| {
        let user = holder(conn, secret, now)?;
        let spent = diesel::update(
            account_invitations::table
                .filter(account_invitations::token_hash.eq(hash_token(secret)))
                .filter(account_invitations::used_at.is_null()),
        )
        .set(account_invitations::used_at.eq(Some(now)))
        .execute(conn)?;
        if spent != 1 {
            return Err(AppError::NotFound("invitation"));
        }
        diesel::update(users::table.find(&user.id))
            .set(users::password_hash.eq(Some(&hashed)))
            .execute(conn)?;
        security_event::record(
            conn,
            key,
            &SecurityEvent {
                kind: SecurityKind::PasswordSetFromInvitation,
                account: Some(&user.email),
                address: None,
                user_id: Some(&user.id),
                detail: "first password set from the emailed invitation",
            },
            now,
        )?;
        let session = super::session::open_signed_in(
            conn,
            key,
            &user,
            None,
            "on setting their first password",
            sessions,
            now,
        )?;
        Ok((user, session))
    })
}
