//! Things that happen to accounts rather than to cases: sign-ins that failed or were held back,
//! tokens issued and revoked, sessions ended. Append-only, each row with a keyed MAC and each
//! finished day sealed in the checkpoints, like the access log.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::AuditKey;
use super::checkpoint::security_mac;
use crate::error::AppError;
use crate::storage::models::SecurityEventRow;
use crate::storage::schema::security_events;
use crate::storage::DbConn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityKind {
    SignedIn,
    SignInFailed,
    /// An attempt refused unchecked because the account had failed too often from there.
    SignInHeldBack,
    SignedOutEverywhere,
    /// The oldest session ended because the person opened one more than allowed.
    SessionEnded,
    TokenIssued,
    TokenRevoked,
    /// A one-time code for a signed link was sent, or a wrong one typed.
    LinkCodeSent,
    LinkCodeFailed,
    /// Administration: an account invited, changed, deactivated or given back; a password set
    /// from an invitation; an agency added or changed.
    AccountInvited,
    AccountChanged,
    AccountDeactivated,
    AccountReactivated,
    PasswordSetFromInvitation,
    AgencyAdded,
    AgencyChanged,
    /// Retention: a destruction approved, a legal hold set or lifted.
    DestructionApproved,
    LegalHoldSet,
    LegalHoldLifted,
    /// The second step for a password: set up, or reset by an administrator.
    SecondFactorSetUp,
    SecondFactorReset,
    /// A partner agency's referral link issued or revoked.
    ReferralLinkIssued,
    ReferralLinkRevoked,
}

impl SecurityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityKind::SignedIn => "signed_in",
            SecurityKind::SignInFailed => "sign_in_failed",
            SecurityKind::SignInHeldBack => "sign_in_held_back",
            SecurityKind::SignedOutEverywhere => "signed_out_everywhere",
            SecurityKind::SessionEnded => "session_ended",
            SecurityKind::TokenIssued => "token_issued",
            SecurityKind::TokenRevoked => "token_revoked",
            SecurityKind::LinkCodeSent => "link_code_sent",
            SecurityKind::LinkCodeFailed => "link_code_failed",
            SecurityKind::AccountInvited => "account_invited",
            SecurityKind::AccountChanged => "account_changed",
            SecurityKind::AccountDeactivated => "account_deactivated",
            SecurityKind::AccountReactivated => "account_reactivated",
            SecurityKind::PasswordSetFromInvitation => "password_set_from_invitation",
            SecurityKind::AgencyAdded => "agency_added",
            SecurityKind::AgencyChanged => "agency_changed",
            SecurityKind::DestructionApproved => "destruction_approved",
            SecurityKind::LegalHoldSet => "legal_hold_set",
            SecurityKind::LegalHoldLifted => "legal_hold_lifted",
            SecurityKind::SecondFactorSetUp => "second_factor_set_up",
            SecurityKind::SecondFactorReset => "second_factor_reset",
            SecurityKind::ReferralLinkIssued => "referral_link_issued",
            SecurityKind::ReferralLinkRevoked => "referral_link_revoked",
        }
    }
}

/// One security event, as recorded.
pub struct SecurityEvent<'a> {
    pub kind: SecurityKind,
    /// The account named (an email address as typed, lower-cased), if any.
    pub account: Option<&'a str>,
    /// The client's address, as the trusted proxies report it.
    pub address: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub detail: &'a str,
}

pub fn record(
    conn: &mut DbConn,
    key: &AuditKey,
    event: &SecurityEvent<'_>,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let detail: String = event.detail.chars().take(500).collect();
    let row = SecurityEventRow {
        mac: security_mac(
            key,
            &id,
            at,
            event.kind.as_str(),
            event.account,
            event.address,
            event.user_id,
            &detail,
        ),
        id,
        at,
        kind: event.kind.as_str().to_string(),
        account: event.account.map(str::to_string),
        address: event.address.map(str::to_string),
        user_id: event.user_id.map(str::to_string),
        detail,
    };
    diesel::insert_into(security_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// An administrator's change to something that is no one account (an agency, a retention
/// decision): no account or address, the administrator named in the detail.
pub fn record_administration(
    conn: &mut DbConn,
    key: &AuditKey,
    kind: SecurityKind,
    detail: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    record(
        conn,
        key,
        &SecurityEvent {
            kind,
            account: None,
            address: None,
            user_id: None,
            detail: &format!("{detail} by {by}"),
        },
        at,
    )
}

/// The newest events first, for an administrator.
pub fn recent(conn: &mut DbConn, limit: i64) -> Result<Vec<SecurityEventRow>, AppError> {
    Ok(security_events::table
        .order(security_events::at.desc())
        .limit(limit)
        .select(SecurityEventRow::as_select())
        .load(conn)?)
}
