//! Referral links: how a partner agency whose staff have no account reports a child (R3). An
//! administrator issues one to an agency or a named person of it. The link is signed, expires,
//! and can be revoked; issuing and revoking are security events, and each report made through
//! it is audited on the case it makes. A link's holder is a users row that can never sign in
//! (inactive, no password, a role no one can be given), so the case and its audit name who
//! made them.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::input;
use super::security_event::{self, SecurityEvent, SecurityKind};
use super::Services;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::mail::links::{LinkError, Purpose};
use crate::storage::models::ReferralLinkRow;
use crate::storage::schema::{referral_links, users};
use crate::storage::{write_transaction, DbConn};

/// The role of a link's holder row: `parse_role` knows no such role, so it never signs in.
pub const HOLDER_ROLE: &str = "referral_link";
/// How long a link works unless the administrator says otherwise.
pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueLink {
    /// The partner agency's code.
    pub agency: String,
    /// A named person of the agency, when the link is for one person.
    #[serde(default)]
    pub person_name: Option<String>,
    #[serde(default)]
    pub person_email: Option<String>,
    /// Days until it expires; 90 if not given.
    #[serde(default)]
    pub days: Option<i64>,
}

/// A link just issued: its row and the address to give the partner.
pub struct Issued {
    pub link: ReferralLinkRow,
    pub url: String,
}

fn administrator(actor: &Actor) -> Result<(), AppError> {
    if actor.role != RoleName::Administrator {
        return Err(AppError::Forbidden(
            "only an administrator issues and revokes referral links".into(),
        ));
    }
    Ok(())
}

fn token(svc: &Services, link: &ReferralLinkRow) -> String {
    svc.mailer.links.sign_at(
        Purpose::Referral,
        &link.id,
        link.issued_at.and_utc(),
        link.expires_at.and_utc(),
    )
}

/// The address of the link's form.
pub fn url(svc: &Services, link: &ReferralLinkRow) -> String {
    format!("{}/refer/{}", svc.mailer.public_url, token(svc, link))
}

fn empty_is_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn issue(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    req: &IssueLink,
    now: DateTime<Utc>,
) -> Result<Issued, AppError> {
    administrator(actor)?;
    let agencies = svc.engine.agencies.current();
    let Some(agency) = agencies.get(&req.agency) else {
        return Err(AppError::unprocessable(
            "unknown_agency",
            "agency",
            format!("no agency has the code {:?}", req.agency),
        ));
    };
    let person_name = empty_is_none(&req.person_name);
    let person_email = empty_is_none(&req.person_email);
    if let Some(n) = &person_name {
        input::field_len(n, "person_name", 200)?;
    }
    if let Some(e) = &person_email {
        input::email(e, "person_email")?;
    }
    let days = req.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::bad_request(
            "invalid_link_days",
            "days",
            format!("days must be from 1 to {MAX_DAYS}"),
        ));
    }
    let naive_now = now.naive_utc();
    let id = uuid::Uuid::new_v4().to_string();
    let holder_name = match &person_name {
        Some(p) => format!("{p}, {} (referral link)", agency.name_en),
        None => format!("{} (referral link)", agency.name_en),
    };
    let link = ReferralLinkRow {
        id: id.clone(),
        agency_code: agency.code.clone(),
        person_name: person_name.clone(),
        person_email: person_email.clone(),
        issued_by: actor.id.clone(),
        issued_at: naive_now,
        expires_at: naive_now + Duration::days(days),
        revoked_at: None,
        revoked_by: None,
        last_used_at: None,
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&id),
                users::name.eq(&holder_name),
                // Unique and undeliverable: the holder is no one's mailbox.
                users::email.eq(format!("referral-link-{id}@referral.invalid")),
                users::role.eq(HOLDER_ROLE),
                users::team.eq(""),
                users::authority_code.eq(&agency.code),
                users::active.eq(false),
                users::created_at.eq(naive_now),
                users::language.eq("en"),
            ))
            .execute(conn)?;
        diesel::insert_into(referral_links::table)
            .values(&link)
            .execute(conn)?;
        security_event::record(
            conn,
            &svc.audit_key,
            &SecurityEvent {
                kind: SecurityKind::ReferralLinkIssued,
                account: person_email.as_deref(),
                address: None,
                user_id: Some(&actor.id),
                detail: &format!(
                    "referral link {id} for {} until {} by {}",
                    agency.code,
                    link.expires_at.format("%Y-%m-%d"),
                    actor.name
                ),
            },
            naive_now,
        )?;
        if let Some(to) = &person_email {
            let address = url(svc, &link);
            svc.mailer.queue(
                conn,
                "referral_link",
                None,
                to,
                crate::i18n::Language::English,
                |lang| {
                    serde_json::json!({
                        "recipient_name": person_name.clone().unwrap_or_default(),
                        "agency": match lang {
                            crate::i18n::Language::English => agency.name_en.clone(),
                            crate::i18n::Language::Welsh => agency.name_cy.clone(),
                        },
                        "expires": crate::time::wales::date_in_sentence(crate::time::wales::london_date(link.expires_at.and_utc()), crate::time::wales::Before::Until, lang),
                        "url": address,
                    })
                },
                now,
            )?;
        }
        Ok::<(), AppError>(())
    })?;
    let url = url(svc, &link);
    Ok(Issued { link, url })
}

pub fn revoke(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ReferralLinkRow, AppError> {
    administrator(actor)?;
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            referral_links::table
                .find(id)
                .filter(referral_links::revoked_at.is_null()),
        )
        .set((
            referral_links::revoked_at.eq(Some(now.naive_utc())),
            referral_links::revoked_by.eq(Some(&actor.id)),
        ))
        .execute(conn)?;
        let link = by_id(conn, id)?;
        if changed == 1 {
            security_event::record(
                conn,
                &svc.audit_key,
                &SecurityEvent {
                    kind: SecurityKind::ReferralLinkRevoked,
                    account: link.person_email.as_deref(),
                    address: None,
                    user_id: Some(&actor.id),
                    detail: &format!(
                        "referral link {id} for {} by {}",
                        link.agency_code, actor.name
                    ),
                },
                now.naive_utc(),
            )?;
        }
        Ok(link)
    })
}

pub fn by_id(conn: &mut DbConn, id: &str) -> Result<ReferralLinkRow, AppError> {
    referral_links::table
        .find(id)
        .select(ReferralLinkRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("referral link"))
}

/// Every link, newest first, for an administrator.
pub fn all(conn: &mut DbConn, actor: &Actor) -> Result<Vec<ReferralLinkRow>, AppError> {
    administrator(actor)?;
    Ok(referral_links::table
        .order(referral_links::issued_at.desc())
        .select(ReferralLinkRow::as_select())
        .load(conn)?)
}

/// The link a token names, if it still works: the signature and expiry the token carries, then
/// the row (revoked since, or expired by a shorter date than the token says).
pub fn open(
    svc: &Services,
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Result<ReferralLinkRow, LinkError>, AppError> {
    let id = match svc.mailer.links.verify(token, Purpose::Referral, now) {
        Ok(id) => id,
        Err(e) => return Ok(Err(e)),
    };
    let Some(link) = referral_links::table
        .find(&id)
        .select(ReferralLinkRow::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(Err(LinkError::Invalid));
    };
    Ok(status(&link, now.naive_utc()).map(|_| link))
}

/// `active`, `revoked` or `expired`, as the pages and the API name a link's state at `now`.
pub fn state_name(link: &ReferralLinkRow, now: NaiveDateTime) -> &'static str {
    match status(link, now) {
        Ok(()) => "active",
        Err(LinkError::Revoked) => "revoked",
        Err(_) => "expired",
    }
}

/// Whether a link works at `now`.
pub fn status(link: &ReferralLinkRow, now: NaiveDateTime) -> Result<(), LinkError> {
    if link.revoked_at.is_some() {
        return Err(LinkError::Revoked);
    }
    if now > link.expires_at {
        return Err(LinkError::Expired);
    }
    Ok(())
}
