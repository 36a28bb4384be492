//! Staff accounts as an administrator keeps them: inviting someone (who sets their password from
//! a link sent by email), changing their role, team or authority, and deactivating them when
//! they leave. Deactivation ends their sessions and API tokens and keeps their history; the
//! cases they lead, their open actions and the meetings they are to chair go to a colleague the
//! administrator chooses, each handed-over case with an entry in its history. Every change is a
//! security event, written in the same transaction as the change.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::security_event::{self, SecurityEvent, SecurityKind};
use super::unit_of_work::{self, Intent};
use super::user::{self, NewUser};
use super::{account_invitation, audit, Services};
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::RoleName;
use crate::storage::models::{CaseRow, UserRow};
use crate::storage::schema::{
    agreed_actions, api_tokens, audit_events, cases, meeting_cases, meetings, users, web_sessions,
};
use crate::storage::DbConn;

/// Everyone with an account, by authority, team and name.
pub fn everyone(conn: &mut DbConn) -> Result<Vec<UserRow>, AppError> {
    Ok(users::table
        .order((users::authority_code, users::team, users::name))
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> Result<UserRow, AppError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("user"))
}

/// Creates the account, without a password, and emails its person a link to set one. Returns
/// the new user's id.
pub fn invite(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    new: &NewUser<'_>,
    language: Language,
) -> Result<String, AppError> {
    let agencies = svc.engine.agencies.current();
    user::check_new(&agencies, new)?;
    unit_of_work::write(conn, intent, |conn, _| {
        let naive_now = intent.now.naive_utc();
        let row = user::insert(conn, new, language, naive_now)?;
        let base = svc.mailer.public_url.trim_end_matches('/');
        // Where everyone signs in with the council's account, no password is set: the email
        // says where to sign in instead.
        let url = if svc.access.passwords {
            let link = account_invitation::issue(conn, &row.id, naive_now)?;
            serde_json::Value::String(format!("{base}/welcome/{link}"))
        } else {
            serde_json::Value::Null
        };
        let sign_in = format!("{base}/sign-in");
        svc.mailer.queue(
            conn,
            "account_invitation",
            None,
            &row.email,
            language,
            |lang| {
                json!({
                    "name": row.name,
                    "link": url,
                    "sign_in": sign_in,
                    "days": account_invitation::DAYS,
                    "role": svc.words.get(lang, &format!("staff_role_{}", row.role)),
                })
            },
            intent.now,
        )?;
        security_event::record(
            conn,
            intent.key,
            &SecurityEvent {
                kind: SecurityKind::AccountInvited,
                account: Some(&row.email),
                address: None,
                user_id: Some(&row.id),
                detail: &format!(
                    "invited as {} of team {:?}, {} by {}",
                    row.role, row.team, row.authority_code, intent.who
                ),
            },
            naive_now,
        )?;
        Ok(row.id)
    })
}

/// A new role, team, authority or name for an account, and whether it sees persons of concern.
pub struct AccountChange<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub team: &'a str,
    pub authority: &'a str,
    pub persons_of_concern: bool,
}

/// Changes what an account is; the person's next request works with it (their sessions stay).
pub fn change(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    user_id: &str,
    to: &AccountChange<'_>,
) -> Result<(), AppError> {
    let agencies = svc.engine.agencies.current();
    let before = by_id(conn, user_id)?;
    user::check_new(
        &agencies,
        &NewUser {
            name: to.name,
            email: &before.email,
            role: to.role,
            team: to.team,
            authority: to.authority,
        },
    )?;
    if before.id == intent.who && to.role != before.role {
        return Err(AppError::unprocessable(
            "own_role",
            "role",
            "an administrator cannot change their own role; ask another administrator",
        ));
    }
    unit_of_work::write(conn, intent, |conn, _| {
        let saw_persons: bool = users::table
            .find(user_id)
            .select(users::sees_persons_of_concern)
            .get_result(conn)?;
        diesel::update(users::table.find(user_id))
            .set((
                users::name.eq(to.name.trim()),
                users::role.eq(to.role),
                users::team.eq(to.team.trim()),
                users::authority_code.eq(to.authority),
                users::sees_persons_of_concern.eq(to.persons_of_concern),
            ))
            .execute(conn)?;
        let mut what = Vec::new();
        if saw_persons != to.persons_of_concern {
            what.push(format!(
                "sees persons of concern {saw_persons} → {}",
                to.persons_of_concern
            ));
        }
        for (label, was, now) in [
            ("name", before.name.as_str(), to.name.trim()),
            ("role", &before.role, to.role),
            ("team", &before.team, to.team.trim()),
            ("authority", &before.authority_code, to.authority),
        ] {
            if was != now {
                what.push(format!("{label} {was:?} → {now:?}"));
            }
        }
        if what.is_empty() {
            return Ok(());
        }
        security_event::record(
            conn,
            intent.key,
            &SecurityEvent {
                kind: SecurityKind::AccountChanged,
                account: Some(&before.email),
                address: None,
                user_id: Some(user_id),
                detail: &format!("{} by {}", what.join("; "), intent.who),
            },
            intent.now.naive_utc(),
        )
    })
}

/// What a person leads and would leave behind: what the administrator sees before choosing a
/// colleague to take it, as references and dates only.
#[derive(Debug, Default)]
pub struct Led {
    /// Each case they lead: its id, reference and when it was reported.
    pub cases: Vec<(String, String, NaiveDate)>,
    /// Each open action they own: its id, its case's id and reference, and when it is due.
    pub actions: Vec<(String, String, String, NaiveDate)>,
    /// Each meeting they are to chair: its id and when it starts.
    pub meetings: Vec<(String, DateTime<Utc>)>,
}

impl Led {
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty() && self.actions.is_empty() && self.meetings.is_empty()
    }
}

pub fn led_by(conn: &mut DbConn, user_id: &str) -> Result<Led, AppError> {
    // Only cases they recorded or acted on can be theirs to lead.
    let acted: Vec<String> = audit_events::table
        .filter(audit_events::actor_id.eq(user_id))
        .select(audit_events::case_id)
        .distinct()
        .load(conn)?;
    let candidates: Vec<CaseRow> = cases::table
        .filter(cases::status.eq("open"))
        .filter(
            cases::created_by
                .eq(user_id)
                .or(cases::id.eq_any(&acted))
                .or(cases::lead_user_id.eq(user_id)),
        )
        .order(cases::created_at)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut led = Led::default();
    for case in candidates {
        if super::case::lead_user(conn, &case)? == user_id {
            led.cases.push((
                case.id,
                case.reference,
                crate::time::wales::london_date(case.created_at.and_utc()),
            ));
        }
    }
    led.actions = agreed_actions::table
        .inner_join(cases::table)
        .filter(agreed_actions::owner_user_id.eq(user_id))
        .filter(agreed_actions::status.eq("open"))
        .order(agreed_actions::due_date)
        .select((
            agreed_actions::id,
            cases::id,
            cases::reference,
            agreed_actions::due_date,
        ))
        .load(conn)?;
    led.meetings = meetings::table
        .filter(meetings::chair_user_id.eq(user_id))
        .filter(meetings::status.eq("scheduled"))
        .order(meetings::starts_at)
        .select((meetings::id, meetings::starts_at))
        .load::<(String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, at)| (id, at.and_utc()))
        .collect();
    Ok(led)
}

/// The colleague who takes what a leaving person led: active, of the same authority, and one
/// who does casework; one who may chair, where there are meetings to chair.
fn successor(
    conn: &mut DbConn,
    leaving: &UserRow,
    id: &str,
    chairs: bool,
) -> Result<UserRow, AppError> {
    let refused = || {
        AppError::unprocessable(
            "invalid_successor",
            "successor",
            "choose an active colleague of the same authority who does casework",
        )
    };
    let to = by_id(conn, id).map_err(|_| refused())?;
    let does_casework = matches!(
        crate::identity::parse_role(&to.role),
        Some(
            RoleName::Chair | RoleName::Practitioner | RoleName::TeamLead | RoleName::SeniorManager
        )
    );
    if !to.active
        || to.id == leaving.id
        || to.authority_code != leaving.authority_code
        || !does_casework
    {
        return Err(refused());
    }
    if chairs && !matches!(to.role.as_str(), "chair" | "team_lead") {
        return Err(AppError::unprocessable(
            "successor_cannot_chair",
            "successor",
            "they chair meetings still to come: choose a chair or a team lead",
        ));
    }
    Ok(to)
}

/// Deactivates an account: it can no longer sign in or use a token, its sessions and tokens
/// end now, and what it led goes to `successor` (required when it led anything).
pub fn deactivate(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    user_id: &str,
    successor_id: Option<&str>,
) -> Result<usize, AppError> {
    let leaving = by_id(conn, user_id)?;
    if leaving.id == intent.who {
        return Err(AppError::unprocessable(
            "own_account",
            "successor",
            "an administrator cannot deactivate their own account; ask another administrator",
        ));
    }
    if !leaving.active {
        return Err(AppError::Conflict {
            code: "already_deactivated",
            message: "this account is already deactivated".into(),
        });
    }
    unit_of_work::write(conn, intent, |conn, touched| {
        let led = led_by(conn, user_id)?;
        let to = match successor_id.filter(|s| !s.is_empty()) {
            Some(id) => Some(successor(conn, &leaving, id, !led.meetings.is_empty())?),
            None if led.is_empty() => None,
            None => {
                return Err(AppError::unprocessable(
                    "successor_required",
                    "successor",
                    "choose who takes the cases, actions and meetings this person leads",
                ))
            }
        };
        let naive_now = intent.now.naive_utc();
        diesel::update(users::table.find(user_id))
            .set(users::active.eq(false))
            .execute(conn)?;
        let sessions =
            diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id)))
                .execute(conn)?;
        let tokens = diesel::update(
            api_tokens::table
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set((
            api_tokens::revoked_at.eq(Some(naive_now)),
            api_tokens::revoked_by.eq(Some(intent.who)),
        ))
        .execute(conn)?;
        let mut handed = 0;
        if let Some(to) = &to {
            handed = hand_over(svc, conn, intent, touched, &leaving, to, &led)?;
        }
        security_event::record(
            conn,
            intent.key,
            &SecurityEvent {
                kind: SecurityKind::AccountDeactivated,
                account: Some(&leaving.email),
                address: None,
                user_id: Some(user_id),
                detail: &format!(
                    "deactivated by {}: {sessions} sessions ended, {tokens} tokens revoked, {} cases, {} actions and {} meetings handed to {}",
                    intent.who,
                    led.cases.len(),
                    led.actions.len(),
                    led.meetings.len(),
                    to.as_ref().map_or("nobody", |t| t.id.as_str())
                ),
            },
            naive_now,
        )?;
        Ok(handed)
    })
}

/// Moves what `from` led to `to`, with one history entry on each case it touches. A colleague
/// who could not open a case is named on it, so that they can lead it.
fn hand_over(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    touched: &mut unit_of_work::Touched,
    from: &UserRow,
    to: &UserRow,
    led: &Led,
) -> Result<usize, AppError> {
    let naive_now = intent.now.naive_utc();
    let leaver = from.actor()?;
    let mut per_case: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
    for (case_id, _, _) in &led.cases {
        // A case they were since shut out of (restricted, moved to another team) stays where
        // it is: a hand-over gives nobody more than the leaver had.
        let case = super::case::by_id(conn, case_id)?;
        if !super::case::may_see(conn, &leaver, &case)? {
            continue;
        }
        diesel::update(cases::table.find(case_id))
            .set(cases::lead_user_id.eq(Some(&to.id)))
            .execute(conn)?;
        per_case.entry(case_id.clone()).or_insert_with(|| json!({}))["lead"] = json!(true);
    }
    for (action_id, case_id, _, _) in &led.actions {
        diesel::update(agreed_actions::table.find(action_id))
            .set((
                agreed_actions::owner_user_id.eq(Some(&to.id)),
                agreed_actions::owner_name.eq(&to.name),
                agreed_actions::owner_email.eq(Some(&to.email)),
                agreed_actions::updated_at.eq(naive_now),
            ))
            .execute(conn)?;
        push(&mut per_case, case_id, "actions", action_id);
    }
    for (meeting_id, _) in &led.meetings {
        diesel::update(meetings::table.find(meeting_id))
            .set((
                meetings::chair_user_id.eq(&to.id),
                meetings::updated_at.eq(naive_now),
            ))
            .execute(conn)?;
        let of_meeting: Vec<String> = meeting_cases::table
            .filter(meeting_cases::meeting_id.eq(meeting_id))
            .select(meeting_cases::case_id)
            .load(conn)?;
        for case_id in of_meeting {
            push(&mut per_case, &case_id, "meetings", meeting_id);
        }
    }
    let successor = to.actor()?;
    for (case_id, what) in &per_case {
        let case = super::case::by_id(conn, case_id)?;
        let mut payload = what.clone();
        if super::case::may_see(conn, &leaver, &case)?
            && !super::case::may_see(conn, &successor, &case)?
        {
            super::case_access::name_for_handover(conn, case_id, &to.id, intent.who, naive_now)?;
            payload["named"] = json!(to.id);
        }
        payload["from"] = json!(from.id);
        payload["to"] = json!(to.id);
        audit::record_on_case(
            conn,
            &svc.audit_key,
            case_id,
            intent.who,
            "handed_over",
            payload,
            naive_now,
        )?;
        touched.case(case_id);
    }
    Ok(per_case.len())
}

fn push(
    per_case: &mut std::collections::BTreeMap<String, serde_json::Value>,
    case_id: &str,
    list: &str,
    id: &str,
) {
    let entry = per_case
        .entry(case_id.to_string())
        .or_insert_with(|| json!({}));
    match entry[list].as_array_mut() {
        Some(ids) => ids.push(json!(id)),
        None => entry[list] = json!([id]),
    }
}
