//! Who may open a case: need to know inside an authority. A case belongs to a team; its staff
//! see it, and so do the team leads and senior managers of the child's authorities, and anyone
//! involved in it. A restricted case (a member of staff's relative, say) opens only to the
//! people named on it. Anyone else of the child's authorities may break the glass, with a
//! stated reason: they see the case for a few hours, the reason goes in its history and the
//! team leads are told. Administrators run the service and see no case.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::{Actor, RoleName};
use crate::storage::models::{CaseRow, UserRow};
use crate::storage::schema::{break_glass, case_access_grants, case_involvements, cases, users};
use crate::storage::{lock_cases, DbConn, MultiBackend};

/// Team leads and senior managers oversee their authority's cases.
pub fn oversees(actor: &Actor) -> bool {
    matches!(actor.role, RoleName::TeamLead | RoleName::SeniorManager)
}

fn of_childs_authority(actor: &Actor, case: &CaseRow) -> bool {
    actor.authority == case.located_authority || actor.authority == case.residence_authority
}

/// The person with the cases they opened by break-glass, still open at `now`.
pub fn with_break_glass(
    conn: &mut DbConn,
    mut actor: Actor,
    now: DateTime<Utc>,
) -> Result<Actor, AppError> {
    actor.broken_glass = break_glass::table
        .filter(break_glass::user_id.eq(&actor.id))
        .filter(break_glass::expires_at.gt(now.naive_utc()))
        .select(break_glass::case_id)
        .distinct()
        .load(conn)?;
    Ok(actor)
}

fn named(conn: &mut DbConn, actor: &Actor, case_id: &str) -> Result<bool, AppError> {
    Ok(case_access_grants::table
        .find((case_id, &actor.id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

fn involved(conn: &mut DbConn, actor: &Actor, case_id: &str) -> Result<bool, AppError> {
    Ok(case_involvements::table
        .filter(case_involvements::case_id.eq(case_id))
        .filter(case_involvements::user_id.eq(&actor.id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Whether `actor` may open `case`, without break-glass.
fn may_see_in_the_ordinary_way(
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
) -> Result<bool, AppError> {
    if case.restricted {
        return named(conn, actor, &case.id);
    }
    if of_childs_authority(actor, case)
        && (oversees(actor) || case.team.as_deref() == Some(actor.team.as_str()))
    {
        return Ok(true);
    }
    Ok(named(conn, actor, &case.id)? || involved(conn, actor, &case.id)?)
}

pub fn may_see(conn: &mut DbConn, actor: &Actor, case: &CaseRow) -> Result<bool, AppError> {
    if actor.role == RoleName::Administrator {
        return Ok(false);
    }
    if actor.broken_glass.iter().any(|c| c == &case.id) {
        return Ok(true);
    }
    may_see_in_the_ordinary_way(conn, actor, case)
}

type CaseFilter =
    Box<dyn BoxableExpression<cases::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// The same rule as `may_see`, as a filter on `cases` for lists.
pub fn visible_filter(actor: &Actor) -> CaseFilter {
    if actor.role == RoleName::Administrator {
        return Box::new(cases::id.ne(cases::id));
    }
    let named = case_access_grants::table
        .filter(case_access_grants::user_id.eq(actor.id.clone()))
        .select(case_access_grants::case_id);
    let involved = case_involvements::table
        .filter(case_involvements::user_id.eq(actor.id.clone()))
        .filter(case_involvements::case_id.is_not_null())
        .select(case_involvements::case_id);
    let of_authority = cases::located_authority
        .eq(actor.authority.clone())
        .or(cases::residence_authority.eq(actor.authority.clone()));
    let ordinary: CaseFilter = if oversees(actor) {
        Box::new(of_authority)
    } else {
        Box::new(of_authority.and(cases::team.eq(actor.team.clone()).assume_not_null()))
    };
    Box::new(
        cases::id
            .eq_any(actor.broken_glass.clone())
            .or(cases::id.eq_any(named))
            .or(cases::restricted
                .eq(false)
                .and(ordinary.or(cases::id.eq_any(involved)))),
    )
}

fn lead_of_case(actor: &Actor, case: &CaseRow) -> Result<(), AppError> {
    if oversees(actor) && of_childs_authority(actor, case) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a team lead or senior manager of the child's authority may change who sees a case".into(),
        ))
    }
}

fn active_user(conn: &mut DbConn, email: &str, field: &str) -> Result<UserRow, AppError> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::unprocessable(
                "unknown_user",
                field,
                format!("no active user has the email {email:?}"),
            )
        })
}

/// Names a person on a case unless they are already named. The case is locked, so no other
/// writer names them meanwhile.
/// Names the colleague a case was handed to on it, when they could not otherwise open it.
pub(super) fn name_for_handover(
    conn: &mut DbConn,
    case_id: &str,
    user_id: &str,
    by: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    grant(conn, case_id, user_id, by, now)
}

fn grant(
    conn: &mut DbConn,
    case_id: &str,
    user_id: &str,
    by: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    let there: i64 = case_access_grants::table
        .find((case_id, user_id))
        .count()
        .get_result(conn)?;
    if there == 0 {
        diesel::insert_into(case_access_grants::table)
            .values((
                case_access_grants::case_id.eq(case_id),
                case_access_grants::user_id.eq(user_id),
                case_access_grants::granted_by.eq(by),
                case_access_grants::granted_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignTeam {
    pub expected_version: i64,
    pub team: String,
}

/// Gives the case to a team of the authority. Its staff then see it; the team before does not.
pub fn assign_team(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &AssignTeam,
) -> Result<i64, AppError> {
    let team = super::input::field_len(&req.team, "team", 200)?;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        lead_of_case(actor, case)?;
        super::case::at_version(case, req.expected_version)?;
        diesel::update(cases::table.find(&case.id))
            .set(cases::team.eq(Some(&team)))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "team_assigned",
            json!({"team": team, "before": case.team}),
            intent.now.naive_utc(),
        )?;
        Ok(case.version + 1)
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restrict {
    pub expected_version: i64,
    /// true restricts the case to the people named on it; false lifts the restriction.
    pub restricted: bool,
    /// Why, for the history (a member of staff's relative, say); at least 20 characters.
    pub rationale: String,
}

/// Restricts a case to the people named on it (the person restricting it is named first), or
/// lifts the restriction.
pub fn restrict(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &Restrict,
) -> Result<i64, AppError> {
    let rationale = super::input::rationale(&req.rationale, "rationale")?;
    let now = intent.now.naive_utc();
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        lead_of_case(actor, case)?;
        super::case::at_version(case, req.expected_version)?;
        diesel::update(cases::table.find(&case.id))
            .set(cases::restricted.eq(req.restricted))
            .execute(conn)?;
        if req.restricted {
            grant(conn, &case.id, &actor.id, &actor.id, now)?;
        }
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            if req.restricted {
                "case_restricted"
            } else {
                "restriction_lifted"
            },
            json!({"rationale": rationale, "named": actor.id}),
            now,
        )?;
        Ok(case.version + 1)
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamePerson {
    pub expected_version: i64,
    pub user_email: String,
    /// true names the person on the case; false takes their name off.
    pub named: bool,
}

/// Names a person on the case (they may open it, restricted or not), or takes them off.
pub fn name_person(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NamePerson,
) -> Result<i64, AppError> {
    let now = intent.now.naive_utc();
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        lead_of_case(actor, case)?;
        super::case::at_version(case, req.expected_version)?;
        let person = active_user(conn, &req.user_email, "user_email")?;
        if req.named {
            grant(conn, &case.id, &person.id, &actor.id, now)?;
        } else {
            diesel::delete(case_access_grants::table.find((&case.id, &person.id))).execute(conn)?;
        }
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            if req.named {
                "access_named"
            } else {
                "access_withdrawn"
            },
            json!({"user_id": person.id, "user_name": person.name}),
            now,
        )?;
        Ok(case.version + 1)
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlass {
    pub reference: String,
    /// Why the case must be opened now, for the history and the team leads; at least 20
    /// characters.
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct GlassBroken {
    pub case_id: String,
    pub reference: String,
    pub until: DateTime<Utc>,
}

/// Opens a case of the person's own authority that they would not otherwise see, for the
/// configured hours, with the reason in its history and an email to the team leads. A case of
/// another authority, or none, answers exactly as a missing case.
pub fn break_glass(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    req: &BreakGlass,
) -> Result<GlassBroken, AppError> {
    let reason = super::input::rationale(&req.reason, "reason")?;
    if matches!(actor.role, RoleName::Administrator | RoleName::System) {
        return Err(AppError::NotFound("case"));
    }
    let now = intent.now;
    let until = now + svc.access.break_glass;
    unit_of_work::write(conn, intent, |conn, touched| {
        let case: CaseRow = cases::table
            .filter(cases::reference.eq(req.reference.trim()))
            .select(CaseRow::as_select())
            .get_result(conn)
            .optional()?
            .filter(|c| of_childs_authority(actor, c))
            .ok_or(AppError::NotFound("case"))?;
        touched.case(&case.id);
        lock_cases(conn, &[&case.id])?;
        if may_see_in_the_ordinary_way(conn, actor, &case)? {
            return Err(AppError::Conflict {
                code: "already_open",
                message: "you may already open this case; break-glass is not needed".into(),
            });
        }
        diesel::insert_into(break_glass::table)
            .values((
                break_glass::id.eq(uuid::Uuid::new_v4().to_string()),
                break_glass::case_id.eq(&case.id),
                break_glass::user_id.eq(&actor.id),
                break_glass::reason.eq(&reason),
                break_glass::at.eq(now.naive_utc()),
                break_glass::expires_at.eq(until.naive_utc()),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "break_glass",
            json!({"reason": reason, "until": until, "user_name": actor.name}),
            now.naive_utc(),
        )?;
        tell_team_leads(svc, conn, actor, &case, until)?;
        Ok(GlassBroken {
            case_id: case.id.clone(),
            reference: case.reference.clone(),
            until,
        })
    })
}

/// Who hears of a break-glass: the team leads of the child's authority (failing those, its
/// senior managers); for a restricted case, only those of them named on it, since nobody else
/// may hear of it (the person who restricted it is always named). The email gives the
/// reference only, never the child's name or the reason, which stay in the case's history.
fn tell_team_leads(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
    until: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut leads: Vec<UserRow> = users::table
        .filter(users::role.eq_any(["team_lead", "senior_manager"]))
        .filter(users::active.eq(true))
        .filter(users::authority_code.eq(&case.located_authority))
        .filter(users::id.ne(&actor.id))
        .order(users::name)
        .select(UserRow::as_select())
        .load(conn)?;
    if case.restricted {
        leads = only_named(conn, &case.id, leads)?;
    } else if leads.iter().any(|u| u.role == "team_lead") {
        leads.retain(|u| u.role == "team_lead");
    }
    for lead in leads {
        svc.mailer.queue(
            conn,
            "break_glass",
            Some(&case.id),
            &lead.email,
            Language::parse(&lead.language).unwrap_or(Language::English),
            |lang| {
                json!({
                    "team_lead_name": lead.name, "reference": case.reference, "person_name": actor.name,
                    "until": crate::time::wales::date_time(until, lang),
                    "ends_on": crate::time::wales::date_time_in_sentence(until, crate::time::wales::Before::On, lang),
                    "case_url": format!("{}/cases/{}", svc.mailer.public_url, case.reference),
                })
            },
            svc.now(),
        )?;
    }
    Ok(())
}

/// Until when the person's break-glass access to the case lasts, if they have it.
pub fn open_until(
    actor: &Actor,
    conn: &mut DbConn,
    case_id: &str,
) -> Result<Option<DateTime<Utc>>, AppError> {
    if !actor.broken_glass.iter().any(|c| c == case_id) {
        return Ok(None);
    }
    let until: Option<chrono::NaiveDateTime> = break_glass::table
        .filter(break_glass::user_id.eq(&actor.id))
        .filter(break_glass::case_id.eq(case_id))
        .select(diesel::dsl::max(break_glass::expires_at))
        .get_result(conn)?;
    Ok(until.map(|u| u.and_utc()))
}

/// Of `people`, those named on the case: for a restricted case, nobody else may hear of it.
pub fn only_named(
    conn: &mut DbConn,
    case_id: &str,
    people: Vec<UserRow>,
) -> Result<Vec<UserRow>, AppError> {
    let named: Vec<String> = case_access_grants::table
        .filter(case_access_grants::case_id.eq(case_id))
        .select(case_access_grants::user_id)
        .load(conn)?;
    Ok(people
        .into_iter()
        .filter(|p| named.contains(&p.id))
        .collect())
}
