//! Recording a report of a child at risk: the case, who recorded it and who else is involved,
//! the facts given with it, and the workflows it starts (the main pathway, and the age-18 track
//! for a child already past the transition age), as one unit of work.
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::audit::{self, AuditEntry, GENESIS};
use super::input;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::engine::contract::WorkflowRole;
use crate::engine::facts::validate_facts;
use crate::engine::{Engine, Owner};
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::crash::crash_point;
use crate::storage::models::{CaseRow, InvolvementRow};
use crate::storage::schema::{case_involvements, cases, reference_counters, users};
use crate::storage::DbConn;
use crate::time::age::date_at_age_months;
use crate::time::wales::london_date;

pub const EXISTING_PLANS: &[&str] = &["none", "care_and_support", "child_protection", "both"];
/// The involvement the service records for whoever recorded the report.
pub const RECORDER_ROLE: &str = "recorded the report";
/// A child's or family's language, as the Welsh Language Standards ask it to be recorded.
pub const LANGUAGES: &[&str] = &["cy", "en", "both", "other", "not_known"];
/// Whether the active offer of Welsh was made, and what came of it.
pub const WELSH_OFFERS: &[&str] = &["accepted", "declined", "not_made"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChildInput {
    pub name: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub gender: String,
    /// Agency code of the local authority where the child is located (R6).
    pub located_authority: String,
    /// Agency code of the local authority of ordinary residence.
    pub residence_authority: String,
    #[serde(default)]
    pub looked_after: bool,
    /// none, care_and_support, child_protection or both (R8).
    #[serde(default = "none")]
    pub existing_plan: String,
    #[serde(default)]
    pub in_secure_estate: bool,
    /// One of `LANGUAGES`; `not_known` until someone asks.
    #[serde(default = "not_known")]
    pub language: String,
    #[serde(default = "not_known")]
    pub family_language: String,
    /// One of `WELSH_OFFERS`.
    #[serde(default = "not_made")]
    pub welsh_offer: String,
}

fn none() -> String {
    "none".into()
}

fn not_known() -> String {
    "not_known".into()
}

fn not_made() -> String {
    "not_made".into()
}

pub(super) fn one_of(value: &str, choices: &[&str], field: &str) -> Result<(), AppError> {
    if choices.contains(&value) {
        return Ok(());
    }
    Err(AppError::bad_request(
        "invalid_choice",
        field,
        format!("{field} must be one of {}", choices.join(", ")),
    ))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InvolvementInput {
    pub agency: String,
    pub role: String,
    pub person_name: Option<String>,
    pub person_email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    pub child: ChildInput,
    /// Facts recorded with the report (R1, R2, R3, R23 ...), as the primary workflow declares them.
    #[serde(default)]
    pub facts: Map<String, Value>,
    #[serde(default)]
    pub involvements: Vec<InvolvementInput>,
}

fn local_authority(engine: &Engine, code: &str, field: &str) -> Result<String, AppError> {
    match engine.agencies.current().kind_of(code) {
        Some("local_authority") => Ok(code.to_string()),
        Some(_) => Err(AppError::unprocessable(
            "not_a_local_authority",
            field,
            format!("{code:?} is an agency but not a local authority"),
        )),
        None => Err(AppError::unprocessable(
            "unknown_authority",
            field,
            format!("no local authority has the code {code:?}; GET /api/agencies lists them"),
        )),
    }
}

/// The next reference for the year, such as CSE-2026-000123. Runs inside the case's transaction.
fn next_reference(conn: &mut DbConn, year: i32) -> Result<String, AppError> {
    let bump = |conn: &mut DbConn| {
        diesel::update(reference_counters::table.find(year))
            .set(reference_counters::last_value.eq(reference_counters::last_value + 1))
            .execute(conn)
    };
    if bump(conn)? == 0 {
        // First case of the year. Two replicas may race to start the counter: the insert runs
        // in a savepoint so the loser can fall back to bumping the winner's row.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(reference_counters::table)
                .values((
                    reference_counters::year.eq(year),
                    reference_counters::last_value.eq(1),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                bump(conn)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let n: i32 = reference_counters::table
        .find(year)
        .select(reference_counters::last_value)
        .get_result(conn)?;
    Ok(format!(
        "{}{year}-{n:06}",
        crate::reference::CASE_REFERENCE_PREFIX
    ))
}

/// A report whose every part has been checked.
pub struct Checked {
    pub name: String,
    pub dob: NaiveDate,
    pub gender: String,
    pub located: String,
    pub residence: String,
    pub facts: Map<String, Value>,
}

/// Checks every part of a report and names each problem, so that a form can show them all at
/// once; the API answers with the first.
pub fn checked(
    engine: &Engine,
    req: &NewCaseRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Checked, Vec<AppError>> {
    let today = london_date(now);
    let c = &req.child;
    let mut problems = Vec::new();
    let mut keep = |r: Result<(), AppError>| {
        if let Err(e) = r {
            problems.push(e);
        }
    };
    let name = input::field_len(&c.name, "child.name", 200);
    let dob = NaiveDate::parse_from_str(c.date_of_birth.trim(), "%Y-%m-%d")
        .map_err(|_| {
            AppError::bad_request(
                "invalid_date",
                "child.date_of_birth",
                format!(
                    "child.date_of_birth must be a date YYYY-MM-DD; got {:?}",
                    c.date_of_birth
                ),
            )
        })
        .and_then(|dob| {
            if dob > today {
                return Err(AppError::unprocessable(
                    "date_of_birth_in_future",
                    "child.date_of_birth",
                    "child.date_of_birth is in the future",
                ));
            }
            if crate::time::age::eighteenth_birthday(dob) <= today {
                return Err(AppError::unprocessable(
                    "not_a_child",
                    "child.date_of_birth",
                    "the person is 18 or over: child protection procedures end at 18 (R16); use the adult safeguarding route",
                ));
            }
            Ok(dob)
        });
    let gender = input::field_len(&c.gender, "child.gender", 50);
    let located = local_authority(engine, &c.located_authority, "child.located_authority");
    let residence = local_authority(engine, &c.residence_authority, "child.residence_authority");
    keep(if EXISTING_PLANS.contains(&c.existing_plan.as_str()) {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "invalid_choice",
            "child.existing_plan",
            format!(
                "child.existing_plan must be one of {}",
                EXISTING_PLANS.join(", ")
            ),
        ))
    });
    keep(one_of(&c.language, LANGUAGES, "child.language"));
    keep(one_of(
        &c.family_language,
        LANGUAGES,
        "child.family_language",
    ));
    keep(one_of(&c.welsh_offer, WELSH_OFFERS, "child.welsh_offer"));
    let primary = engine.registry.primary();
    let facts = validate_facts(
        &primary.def.facts,
        &req.facts,
        &engine.agencies.current(),
        now,
    );
    for (i, inv) in req.involvements.iter().enumerate() {
        if engine.agencies.current().get(&inv.agency).is_none() {
            keep(Err(AppError::unprocessable(
                "unknown_agency",
                format!("involvements[{i}].agency"),
                format!("no agency has the code {:?}", inv.agency),
            )));
        }
        keep(input::field_len(&inv.role, &format!("involvements[{i}].role"), 100).map(|_| ()));
        if let Some(n) = &inv.person_name {
            keep(input::single_line(n, &format!("involvements[{i}].person_name")).map(|_| ()));
        }
        if let Some(e) = &inv.person_email {
            keep(input::email(e, &format!("involvements[{i}].person_email")).map(|_| ()));
        }
    }
    // In the order the form asks: the child, then the report's questions, then the rest.
    let mut all: Vec<AppError> = Vec::new();
    let (name, dob, gender, located, residence, facts) = (
        name.map_err(|e| all.push(e)),
        dob.map_err(|e| all.push(e)),
        gender.map_err(|e| all.push(e)),
        located.map_err(|e| all.push(e)),
        residence.map_err(|e| all.push(e)),
        facts.map_err(|e| all.push(e)),
    );
    all.extend(problems);
    match (name, dob, gender, located, residence, facts) {
        (Ok(name), Ok(dob), Ok(gender), Ok(located), Ok(residence), Ok(facts))
            if all.is_empty() =>
        {
            Ok(Checked {
                name,
                dob,
                gender,
                located,
                residence,
                facts,
            })
        }
        _ => Err(all),
    }
}

/// Records a report as one unit of work. With a page form's one-time token, a second send of the
/// same form is refused with `form_already_sent` and makes nothing.
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    req: &NewCaseRequest,
    form_token: Option<&str>,
) -> Result<CaseRow, AppError> {
    if actor.role == RoleName::Administrator {
        return Err(AppError::Forbidden(
            "administrators manage the service and do not record reports".into(),
        ));
    }
    let actor_email: Option<String> = users::table
        .find(&actor.id)
        .select(users::email)
        .get_result(conn)
        .optional()?;
    let owner = Owner {
        name: actor.name.clone(),
        email: actor_email,
        user_id: Some(actor.id.clone()),
    };
    record_with(
        svc,
        conn,
        intent,
        actor,
        req,
        form_token,
        Some(&owner),
        |_, _| Ok(()),
    )
}

/// As `record`, with the owner of the actions the report starts (none: the team leads assign
/// them) and `also`, what else the same unit of work writes once the case exists (a partner's
/// referral and its receipt).
#[allow(clippy::too_many_arguments)]
pub(super) fn record_with(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    req: &NewCaseRequest,
    form_token: Option<&str>,
    owner: Option<&Owner>,
    mut also: impl FnMut(&mut DbConn, &CaseRow) -> Result<(), AppError>,
) -> Result<CaseRow, AppError> {
    let engine = &svc.engine;
    let now = intent.now;
    let today = london_date(now);
    let c = &req.child;
    let Checked {
        name,
        dob,
        gender,
        located,
        residence,
        facts,
    } = checked(engine, req, now).map_err(|mut all| all.remove(0))?;
    let primary = engine.registry.primary();
    // Facts that belong to one event stay with it (in the audit entry), not on the case.
    let lasting: Map<String, Value> = facts
        .iter()
        .filter(|(k, _)| !primary.is_per_event(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    unit_of_work::write(conn, intent, |conn, touched| {
        let naive_now = now.naive_utc();
        if let Some(token) = form_token {
            super::form_token::claim(conn, token, &actor.id, naive_now)?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let reference = next_reference(conn, chrono::Datelike::year(&today))?;
        let mut case = CaseRow {
            id: id.clone(),
            reference,
            child_name: name.clone(),
            child_date_of_birth: dob,
            child_gender: gender.clone(),
            located_authority: located.clone(),
            residence_authority: residence.clone(),
            looked_after: c.looked_after,
            existing_plan: c.existing_plan.clone(),
            in_secure_estate: c.in_secure_estate,
            facts: Value::Object(lasting.clone()).to_string(),
            status: "open".into(),
            version: 1,
            audit_seq: 0,
            audit_head: GENESIS.into(),
            created_by: actor.id.clone(),
            created_at: naive_now,
            updated_at: naive_now,
            // The reporter's team, when they work for one of the child's authorities; else the
            // team leads there assign it.
            team: (actor.authority == located || actor.authority == residence)
                .then(|| actor.team.clone()),
            restricted: false,
            child_language: c.language.clone(),
            family_language: c.family_language.clone(),
            welsh_offer: c.welsh_offer.clone(),
            child_name_folded: crate::i18n::search::fold(&name),
            lead_user_id: None,
            legal_hold: None,
        };
        diesel::insert_into(cases::table)
            .values(&case)
            .execute(conn)?;
        touched.case(&id);
        super::child_record::start(conn, &id, naive_now)?;
        crash_point("report.after_case");
        let mut involvements = vec![InvolvementRow {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: id.clone(),
            agency_code: actor.authority.clone(),
            person_name: Some(actor.name.clone()),
            person_email: None,
            role: RECORDER_ROLE.into(),
            user_id: Some(actor.id.clone()),
            created_at: naive_now,
        }];
        for inv in &req.involvements {
            involvements.push(InvolvementRow {
                id: uuid::Uuid::new_v4().to_string(),
                case_id: id.clone(),
                agency_code: inv.agency.clone(),
                person_name: inv.person_name.clone(),
                person_email: inv.person_email.clone(),
                role: inv.role.trim().to_string(),
                user_id: None,
                created_at: naive_now,
            });
        }
        for inv in &involvements {
            diesel::insert_into(case_involvements::table)
                .values(inv)
                .execute(conn)?;
        }
        let row = audit::append(
            conn,
            &svc.audit_key,
            &id,
            0,
            GENESIS,
            naive_now,
            AuditEntry {
                actor_id: actor.id.clone(),
                kind: "case_created",
                case_version: 1,
                payload: json!({
                    "reference": case.reference,
                    "child": {
                        "name": name,
                        "date_of_birth": dob.to_string(), "gender": gender,
                        "located_authority": located, "residence_authority": residence,
                        "looked_after": c.looked_after, "existing_plan": c.existing_plan,
                        "in_secure_estate": c.in_secure_estate,
                        "language": c.language, "family_language": c.family_language,
                        "welsh_offer": c.welsh_offer,
                    },
                    "facts": facts,
                    "team": case.team,
                    "involvements": req.involvements,
                }),
                ..AuditEntry::default()
            },
        )?;
        let (mut seq, mut head) = (row.seq, row.hash);
        let snapshot = super::transition::case_snapshot(conn, &case)?;
        let mut kinds = snapshot.action_kinds.clone();
        let mut to_start = vec![primary.name().to_string()];
        // R16/R17: a child already past the transition age starts the age-18 track at once.
        if let Some(track) = engine.registry.with_role(WorkflowRole::Age18Track) {
            if date_at_age_months(dob, engine.settings.transition_age_months) <= today {
                to_start.push(track.name().to_string());
            }
        }
        for name in &to_start {
            let start = engine.start(name, &snapshot, &kinds, owner, now)?;
            kinds.extend(start.actions.iter().filter_map(|a| a.kind.clone()));
            (seq, head) = super::transition::write_start(
                svc,
                conn,
                actor,
                &case,
                &start,
                (seq, &head, 1),
                now,
            )?;
        }
        diesel::update(cases::table.find(&id))
            .set((cases::audit_seq.eq(seq), cases::audit_head.eq(&head)))
            .execute(conn)?;
        case.audit_seq = seq;
        case.audit_head = head;
        also(conn, &case)?;
        if let Some(token) = form_token {
            super::form_token::finish(conn, token, &case.reference)?;
        }
        Ok(case)
    })
}
