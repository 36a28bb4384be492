//! Signing in with the council's accounts. Beginning keeps the state's hash, the nonce and the
//! PKCE verifier, and the browser keeps the state in a cookie; coming back spends them once,
//! within minutes, and only in the browser that began, so a replayed, stale or carried-off
//! answer is refused. The provider's answer must name someone an administrator invited, by the
//! configured claim, whose account is active: nobody is created on the fly. Each outcome is a
//! security event; the provider is called outside any transaction.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::security_event::{self, SecurityEvent, SecurityKind};
use super::Services;
use crate::error::AppError;
use crate::identity::hash_token;
use crate::identity::oidc::{SingleSignOnError, Started};
use crate::storage::models::UserRow;
use crate::storage::schema::{single_sign_ons, users};
use crate::storage::{write_transaction, DbConn};

/// How long the provider may take to send the browser back.
pub const MINUTES: i64 = 10;

/// Why a sign-in with the council's account was refused, as the sign-in page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An answer already used, too old, or never begun here.
    Expired,
    /// An answer brought by a browser other than the one that began the sign-in.
    OtherBrowser,
    WrongTenant,
    NotInvited,
    Deactivated,
    /// The provider could not be reached, or its answer did not verify.
    Failed,
}

impl Refusal {
    /// The catalogue key of the sign-in page's message.
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::Expired => "sso_expired",
            Refusal::OtherBrowser => "sso_other_browser",
            Refusal::WrongTenant => "sso_wrong_tenant",
            Refusal::NotInvited => "sso_not_invited",
            Refusal::Deactivated => "sso_deactivated",
            Refusal::Failed => "sso_failed",
        }
    }
}

pub enum Outcome {
    SignedIn { session: String, next: String },
    Refused(Refusal),
}

fn providers(svc: &Services) -> Result<&crate::identity::oidc::Providers, AppError> {
    svc.single_sign_on
        .as_deref()
        .ok_or(AppError::NotFound("single sign-on"))
}

/// Asks the provider where to send the browser for `tenant` (it may fetch the provider's
/// metadata, so no database connection is held meanwhile).
pub fn start(svc: &Services, tenant: usize) -> Result<Started, AppError> {
    let providers = providers(svc)?;
    if tenant >= providers.tenants().len() {
        return Err(AppError::NotFound("tenant"));
    }
    providers.begin(tenant).map_err(|e| {
        tracing::warn!(error = %e, "single sign-on could not begin");
        AppError::Unavailable("the council's sign-in service cannot be reached".into())
    })
}

/// Keeps what the browser's return must match; the browser keeps the state in a cookie.
pub fn keep(
    conn: &mut DbConn,
    started: &Started,
    tenant: usize,
    next: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        diesel::delete(
            single_sign_ons::table.filter(single_sign_ons::created_at.lt(now - Duration::days(1))),
        )
        .execute(conn)?;
        diesel::insert_into(single_sign_ons::table)
            .values((
                single_sign_ons::state_hash.eq(hash_token(&started.state)),
                single_sign_ons::tenant.eq(tenant as i32),
                single_sign_ons::nonce.eq(&started.nonce),
                single_sign_ons::pkce_verifier.eq(&started.pkce_verifier),
                single_sign_ons::next_path.eq(next),
                single_sign_ons::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

fn refused(
    svc: &Services,
    conn: &mut DbConn,
    why: Refusal,
    (account, user): (Option<&str>, Option<&UserRow>),
    address: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    security_event::record(
        conn,
        &svc.audit_key,
        &SecurityEvent {
            kind: SecurityKind::SignInFailed,
            account,
            address: Some(address),
            user_id: user.map(|u| u.id.as_str()),
            detail: &format!("single sign-on refused ({}): {detail}", why.message_key()),
        },
        now,
    )?;
    Ok(Outcome::Refused(why))
}

/// A sign-in begun here, spent by the browser that began it.
pub struct Begun {
    tenant: usize,
    nonce: String,
    verifier: String,
    pub next: String,
}

/// The browser is back with `state`; `browser` is the state its cookie kept. Spends the
/// sign-in, so that the same answer works once; one brought by another browser spends nothing.
pub fn spend(
    svc: &Services,
    conn: &mut DbConn,
    state: &str,
    browser: Option<&str>,
    address: &str,
    now: NaiveDateTime,
) -> Result<Result<Begun, Outcome>, AppError> {
    if !browser.is_some_and(|b| crate::identity::same_token(b, state)) {
        return refused(
            svc,
            conn,
            Refusal::OtherBrowser,
            (None, None),
            address,
            "the browser did not begin this sign-in",
            now,
        )
        .map(Err);
    }
    let begun: Option<(i32, String, String, String)> = write_transaction(conn, |conn| {
        let row: Option<(i32, String, String, String)> = single_sign_ons::table
            .find(hash_token(state))
            .filter(single_sign_ons::used_at.is_null())
            .filter(single_sign_ons::created_at.gt(now - Duration::minutes(MINUTES)))
            .select((
                single_sign_ons::tenant,
                single_sign_ons::nonce,
                single_sign_ons::pkce_verifier,
                single_sign_ons::next_path,
            ))
            .get_result(conn)
            .optional()?;
        if row.is_some() {
            diesel::update(single_sign_ons::table.find(hash_token(state)))
                .set(single_sign_ons::used_at.eq(Some(now)))
                .execute(conn)?;
        }
        Ok::<_, AppError>(row)
    })?;
    match begun {
        Some((tenant, nonce, verifier, next)) => Ok(Ok(Begun {
            tenant: tenant as usize,
            nonce,
            verifier,
            next,
        })),
        None => refused(
            svc,
            conn,
            Refusal::Expired,
            (None, None),
            address,
            "the state was used, too old or unknown",
            now,
        )
        .map(Err),
    }
}

/// What the provider's answer says: the invited person's address, or why not. Calls the
/// provider, so no database connection is held meanwhile.
pub fn verify(svc: &Services, begun: &Begun, code: &str) -> Result<String, (Refusal, String)> {
    let providers = providers(svc).map_err(|e| (Refusal::Failed, e.to_string()))?;
    providers
        .finish(begun.tenant, code, &begun.verifier, &begun.nonce)
        .map_err(|e| match e {
            SingleSignOnError::WrongTenant => (Refusal::WrongTenant, e.to_string()),
            other => {
                tracing::warn!(error = %other, "single sign-on failed");
                (Refusal::Failed, other.to_string())
            }
        })
}

/// Signs in the person the provider named, if an administrator invited them and they are active.
pub fn complete(
    svc: &Services,
    conn: &mut DbConn,
    verified: Result<String, (Refusal, String)>,
    next: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    let login = match verified {
        Ok(login) => login,
        Err((why, detail)) => return refused(svc, conn, why, (None, None), address, &detail, now),
    };
    let user: Option<UserRow> = users::table
        .filter(users::email.eq(&login))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?;
    let user = match user {
        None => {
            return refused(
                svc,
                conn,
                Refusal::NotInvited,
                (Some(&login), None),
                address,
                "nobody was invited with this address",
                now,
            )
        }
        Some(u) if !u.active => {
            return refused(
                svc,
                conn,
                Refusal::Deactivated,
                (Some(&login), Some(&u)),
                address,
                "the account is deactivated",
                now,
            )
        }
        Some(u) => u,
    };
    let session = write_transaction(conn, |conn| {
        super::session::open_signed_in(
            conn,
            &svc.audit_key,
            &user,
            Some(address),
            "with the council's account (single sign-on)",
            svc.access.sessions,
            now,
        )
    })?;
    Ok(Outcome::SignedIn {
        session,
        next: next.to_string(),
    })
}
