//! A signed link works only for the person it names. The first browser to open a young link is
//! that person's; a second browser, or any browser once the link is older than the configured
//! time (a day), must type a one-time code sent to the link's address. A code works for 15
//! minutes and five tries; once typed, that browser is open for the rest of a working day. Only
//! hashes of links, browsers and codes are stored, and every code sent or refused is a security
//! event.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand::Rng;
use serde_json::json;

use super::security_event::{self, SecurityEvent, SecurityKind};
use super::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::hash_token;
use crate::storage::schema::{link_browsers, link_codes};
use crate::storage::{lock_key, write_transaction, DbConn};

/// When a link asks for a code.
#[derive(Debug, Clone, Copy)]
pub struct LinkRules {
    /// A link older than this asks every browser for a code; none: age alone never does.
    pub code_after: Option<Duration>,
    /// Whether a second browser must type a code while the link is young.
    pub second_browser: bool,
}

/// How long a code works, and how many wrong tries it takes.
pub const CODE_MINUTES: i64 = 15;
pub const CODE_TRIES: i32 = 5;
/// Codes sent for one link in an hour, at most.
pub const CODES_PER_HOUR: i64 = 5;
/// How long a browser that typed a right code stays open.
pub const OPEN_HOURS: i64 = 10;

#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// A code was sent (now, or a few minutes ago) to this address, shown masked.
    NeedCode {
        sent_to: String,
    },
    /// Too many codes were sent for this link this hour: try again later.
    TooManyCodes,
}

/// `jo•••@police.example`: enough for the person to know it is theirs.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let shown: String = local.chars().take(2).collect();
            format!("{shown}•••@{domain}")
        }
        None => "•••".into(),
    }
}

fn link_hash(token: &str) -> String {
    hash_token(&format!("link\n{token}"))
}

fn code_hash(link: &str, code: &str) -> String {
    hash_token(&format!("code\n{link}\n{code}"))
}

/// The person a link names: their address and language. None for a link whose invitee or
/// action owner is gone.
pub fn person_of(
    conn: &mut DbConn,
    purpose: crate::mail::links::Purpose,
    subject: &str,
) -> Result<Option<(String, Language)>, AppError> {
    use crate::mail::links::Purpose;
    use crate::storage::schema::meeting_invitees;
    match purpose {
        Purpose::Respond => Ok(meeting_invitees::table
            .find(subject)
            .select((meeting_invitees::email, meeting_invitees::language))
            .get_result::<(String, String)>(conn)
            .optional()?
            .map(|(e, l)| (e, Language::parse(&l).unwrap_or(Language::English)))),
        Purpose::Actions => match super::action::LinkHolder::from_subject(subject) {
            Some(h) => {
                let lang = super::action::language_of(conn, &h.case_id, &h.email)?;
                Ok(Some((h.email, lang)))
            }
            None => Ok(None),
        },
        // A referral form shows nothing of any case: it is never gated by a code.
        Purpose::Referral => Ok(None),
    }
}

/// Whether the browser may open the link now; when it may not, a code is on its way.
#[allow(clippy::too_many_arguments)]
pub fn check(
    svc: &Services,
    conn: &mut DbConn,
    rules: LinkRules,
    token: &str,
    email: &str,
    preferred: Language,
    issued: Option<DateTime<Utc>>,
    browser: &str,
    now: DateTime<Utc>,
) -> Result<Gate, AppError> {
    let link = link_hash(token);
    let browser = hash_token(browser);
    let naive_now = now.naive_utc();
    write_transaction(conn, |conn| {
        lock_key(conn, &link)?;
        let open: Option<NaiveDateTime> = link_browsers::table
            .find((&link, &browser))
            .select(link_browsers::open_until)
            .get_result(conn)
            .optional()?;
        if open.is_some_and(|until| until > naive_now) {
            return Ok(Gate::Open);
        }
        let young_until = match (rules.code_after, issued) {
            (None, _) => Some(DateTime::<Utc>::MAX_UTC.naive_utc()),
            (Some(after), Some(i)) if now - i <= after => Some((i + after).naive_utc()),
            _ => None,
        };
        let others: i64 = link_browsers::table
            .filter(link_browsers::link_hash.eq(&link))
            .filter(link_browsers::browser_hash.ne(&browser))
            .count()
            .get_result(conn)?;
        if let Some(until) = young_until {
            if others == 0 || !rules.second_browser {
                open_for(conn, &link, &browser, until, naive_now)?;
                return Ok(Gate::Open);
            }
        }
        let waiting: i64 = link_codes::table
            .filter(link_codes::link_hash.eq(&link))
            .filter(link_codes::used_at.is_null())
            .filter(link_codes::expires_at.gt(naive_now))
            .filter(link_codes::attempts.lt(CODE_TRIES))
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            return Ok(Gate::NeedCode {
                sent_to: masked(email),
            });
        }
        let this_hour: i64 = link_codes::table
            .filter(link_codes::link_hash.eq(&link))
            .filter(link_codes::sent_at.gt(naive_now - Duration::hours(1)))
            .count()
            .get_result(conn)?;
        if this_hour >= CODES_PER_HOUR {
            return Ok(Gate::TooManyCodes);
        }
        let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
        diesel::insert_into(link_codes::table)
            .values((
                link_codes::id.eq(uuid::Uuid::new_v4().to_string()),
                link_codes::link_hash.eq(&link),
                link_codes::code_hash.eq(code_hash(&link, &code)),
                link_codes::email.eq(email),
                link_codes::sent_at.eq(naive_now),
                link_codes::expires_at.eq(naive_now + Duration::minutes(CODE_MINUTES)),
                link_codes::attempts.eq(0),
            ))
            .execute(conn)?;
        // Whoever asked sees no address but a masked one; the code goes to the link's own.
        svc.mailer.queue(
            conn,
            "link_code",
            None,
            email,
            preferred,
            |_| json!({"code": code, "minutes": CODE_MINUTES}),
            now,
        )?;
        security_event::record(
            conn,
            &svc.audit_key,
            &SecurityEvent {
                kind: SecurityKind::LinkCodeSent,
                account: Some(email),
                address: None,
                user_id: None,
                detail: "a one-time code for a signed link",
            },
            naive_now,
        )?;
        Ok(Gate::NeedCode {
            sent_to: masked(email),
        })
    })
}

fn open_for(
    conn: &mut DbConn,
    link: &str,
    browser: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let updated = diesel::update(link_browsers::table.find((link, browser)))
        .set(link_browsers::open_until.eq(until))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(link_browsers::table)
            .values((
                link_browsers::link_hash.eq(link),
                link_browsers::browser_hash.eq(browser),
                link_browsers::first_seen_at.eq(now),
                link_browsers::open_until.eq(until),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Checks a typed code; a right one opens this browser for the link. False for a wrong,
/// spent or expired code.
pub fn enter_code(
    svc: &Services,
    conn: &mut DbConn,
    token: &str,
    email: &str,
    browser: &str,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let link = link_hash(token);
    let browser = hash_token(browser);
    let naive_now = now.naive_utc();
    let typed: String = typed.chars().filter(char::is_ascii_digit).collect();
    write_transaction(conn, |conn| {
        lock_key(conn, &link)?;
        let code: Option<(String, String)> = link_codes::table
            .filter(link_codes::link_hash.eq(&link))
            .filter(link_codes::used_at.is_null())
            .filter(link_codes::expires_at.gt(naive_now))
            .filter(link_codes::attempts.lt(CODE_TRIES))
            .order(link_codes::sent_at.desc())
            .select((link_codes::id, link_codes::code_hash))
            .first(conn)
            .optional()?;
        let Some((id, expected)) = code else {
            return Ok(false);
        };
        diesel::update(link_codes::table.find(&id))
            .set(link_codes::attempts.eq(link_codes::attempts + 1))
            .execute(conn)?;
        if typed.len() == 6 && crate::identity::same_token(&code_hash(&link, &typed), &expected) {
            diesel::update(link_codes::table.find(&id))
                .set(link_codes::used_at.eq(Some(naive_now)))
                .execute(conn)?;
            open_for(
                conn,
                &link,
                &browser,
                naive_now + Duration::hours(OPEN_HOURS),
                naive_now,
            )?;
            return Ok(true);
        }
        security_event::record(
            conn,
            &svc.audit_key,
            &SecurityEvent {
                kind: SecurityKind::LinkCodeFailed,
                account: Some(email),
                address: None,
                user_id: None,
                detail: "a wrong one-time code for a signed link",
            },
            naive_now,
        )?;
        Ok(false)
    })
}
