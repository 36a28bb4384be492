//! A partner's report through a referral link (R3, WSP c2 p18): it arrives as a new case at the
//! primary pathway's first step, for the authority where the child is located, with the
//! reporter's contact details and a receipt emailed to them at once, all in one unit of work.
//! A practitioner acknowledges it (triages it); the reporter is told the decision, accepted or
//! not, without detail; a report not acknowledged in the workflow's time is flagged to the team
//! leads and the reporter is told how to escalate. No email names the child.
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::report::{ChildInput, InvolvementInput, NewCaseRequest};
use super::unit_of_work::{self, Intent};
use super::{audit, input, Services};
use crate::engine::definition::ReporterAsk;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::{Actor, RoleName};
use crate::storage::models::{CaseRow, PartnerReferralRow, ReferralLinkRow};
use crate::storage::schema::{partner_referrals, referral_links, users};
use crate::storage::DbConn;
use crate::time::wales::{date_in_sentence, london_date, Before};

/// The involvement recorded for the person who made the report.
pub const REPORTER_ROLE: &str = "made the referral";
/// Reports one link takes in an hour: a partner's busiest day is far below it, and a link that
/// leaked cannot flood a team's queue.
pub const PER_HOUR: i64 = 20;

/// Who made the report, as they gave it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    pub name: String,
    /// Their job or role (a school's designated safeguarding person, a police officer).
    pub role: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerReport {
    pub child: ChildInput,
    /// The answers to the questions the primary workflow marks as asked of a reporter.
    #[serde(default)]
    pub facts: Map<String, Value>,
    pub reporter: Reporter,
}

/// The facts the referral form asks, in the workflow's order, and whether each is required.
pub fn questions(svc: &Services) -> Vec<(String, bool)> {
    let wf = svc.engine.registry.primary();
    wf.def
        .facts
        .iter()
        .filter_map(|(name, spec)| {
            spec.reporter
                .map(|ask| (name.clone(), ask == ReporterAsk::Required))
        })
        .collect()
}

/// Every problem with a report, so that the form can show them all at once.
pub fn problems(svc: &Services, report: &PartnerReport, now: DateTime<Utc>) -> Vec<AppError> {
    let mut all = Vec::new();
    let asked = questions(svc);
    for key in report.facts.keys() {
        if !asked.iter().any(|(n, _)| n == key) {
            all.push(AppError::bad_request(
                "unknown_fact",
                format!("facts.{key}"),
                format!("facts.{key} is not asked of a reporter"),
            ));
        }
    }
    if let Err(found) = super::report::checked(&svc.engine, &request_of(report, ""), now) {
        all.extend(found);
    }
    for (name, required) in &asked {
        let given = report
            .facts
            .get(name)
            .is_some_and(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
        if *required && !given {
            all.push(AppError::bad_request(
                "answer_required",
                format!("facts.{name}"),
                format!("facts.{name} must be answered"),
            ));
        }
    }
    let r = &report.reporter;
    for (value, field, max) in [
        (&r.name, "reporter.name", 200),
        (&r.role, "reporter.role", 200),
        (&r.phone, "reporter.phone", 50),
    ] {
        if let Err(e) = input::field_len(value, field, max) {
            all.push(e);
        }
    }
    if let Err(e) = input::email(&r.email, "reporter.email") {
        all.push(e);
    }
    all
}

fn request_of(report: &PartnerReport, agency: &str) -> NewCaseRequest {
    NewCaseRequest {
        child: report.child.clone(),
        facts: report.facts.clone(),
        involvements: if agency.is_empty() {
            Vec::new()
        } else {
            vec![InvolvementInput {
                agency: agency.to_string(),
                role: REPORTER_ROLE.into(),
                person_name: Some(report.reporter.name.trim().to_string()),
                person_email: Some(report.reporter.email.trim().to_string()),
            }]
        },
    }
}

/// The link's holder as the case and its audit name them.
fn holder(conn: &mut DbConn, link: &ReferralLinkRow, lang: Language) -> Result<Actor, AppError> {
    let name: String = users::table
        .find(&link.id)
        .select(users::name)
        .get_result(conn)?;
    Ok(Actor {
        id: link.id.clone(),
        name,
        // Records the report and nothing else: it never signs in, and its agency is not one of
        // the child's authorities, so the case goes to no team until a team lead assigns it.
        role: RoleName::Practitioner,
        team: String::new(),
        authority: link.agency_code.clone(),
        broken_glass: Vec::new(),
        language: lang,
    })
}

fn authority_name(svc: &Services, code: &str, lang: Language) -> String {
    svc.engine
        .agencies
        .current()
        .get(code)
        .map(|a| match lang {
            Language::English => a.name_en.clone(),
            Language::Welsh => a.name_cy.clone(),
        })
        .unwrap_or_else(|| code.to_string())
}

/// When a report must be acknowledged by, if the workflow sets a time.
pub fn acknowledge_by(svc: &Services, submitted: DateTime<Utc>) -> Option<DateTime<Utc>> {
    due(&svc.engine, submitted)
}

fn due(engine: &crate::engine::Engine, submitted: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let wf = engine.registry.primary();
    let spec = &wf.def.referral.as_ref()?.acknowledge;
    Some(crate::engine::deadline::due_at(
        spec,
        submitted,
        &engine.calendar,
    ))
}

/// Records the report as one unit of work: the case, its first step, the reporter's details,
/// the receipt, the link's use, the audit entries and the access-log line, or none of them.
/// With the form's one-time token a second send makes nothing and answers with the first's
/// reference.
#[allow(clippy::too_many_arguments)]
pub fn submit(
    svc: &Services,
    conn: &mut DbConn,
    link: &ReferralLinkRow,
    report: &PartnerReport,
    lang: Language,
    path: &str,
    form_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseRow, AppError> {
    if let Some(e) = problems(svc, report, now).into_iter().next() {
        return Err(e);
    }
    let recent: i64 = partner_referrals::table
        .filter(partner_referrals::link_id.eq(&link.id))
        .filter(partner_referrals::submitted_at.gt((now - Duration::hours(1)).naive_utc()))
        .count()
        .get_result(conn)?;
    if recent >= PER_HOUR {
        return Err(AppError::TooMany {
            code: "too_many_referrals",
            message: format!(
                "this link has taken {PER_HOUR} reports in the last hour; telephone the local authority"
            ),
        });
    }
    let actor = holder(conn, link, lang)?;
    let intent: Intent<'_> = svc.intent_at(&link.id, path, now);
    let request = request_of(report, &link.agency_code);
    let r = &report.reporter;
    let acknowledge = acknowledge_by(svc, now);
    super::report::record_with(
        svc,
        conn,
        &intent,
        &actor,
        &request,
        form_token,
        None,
        |conn, case| {
            diesel::insert_into(partner_referrals::table)
                .values(PartnerReferralRow {
                    case_id: case.id.clone(),
                    link_id: link.id.clone(),
                    reporter_name: r.name.trim().to_string(),
                    reporter_role: r.role.trim().to_string(),
                    reporter_email: r.email.trim().to_string(),
                    reporter_phone: r.phone.trim().to_string(),
                    language: lang.code().to_string(),
                    submitted_at: now.naive_utc(),
                    acknowledged_at: None,
                    acknowledged_by: None,
                    decision_told_at: None,
                    flagged_at: None,
                })
                .execute(conn)?;
            diesel::update(referral_links::table.find(&link.id))
                .set(referral_links::last_used_at.eq(Some(now.naive_utc())))
                .execute(conn)?;
            svc.mailer.queue(
                conn,
                "referral_receipt",
                Some(&case.id),
                r.email.trim(),
                lang,
                |l| {
                    json!({
                        "recipient_name": r.name.trim(), "reference": case.reference,
                        "authority": authority_name(svc, &case.located_authority, l),
                        "acknowledge_by": acknowledge.map(|t| date_in_sentence(london_date(t), Before::By, l)),
                    })
                },
                now,
            )
        },
    )
}

/// The report a case came from, if a partner made it.
pub fn of_case(conn: &mut DbConn, case_id: &str) -> Result<Option<PartnerReferralRow>, AppError> {
    Ok(partner_referrals::table
        .find(case_id)
        .select(PartnerReferralRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// A practitioner records that they have triaged the report. Once is enough: a second time
/// changes nothing and says when it was.
pub fn acknowledge(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
) -> Result<PartnerReferralRow, AppError> {
    // Whoever may open the case may acknowledge it (administrators see no case).
    let now = intent.now.naive_utc();
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        let Some(referral) = of_case(conn, &case.id)? else {
            return Err(AppError::Conflict {
                code: "not_a_partner_referral",
                message: "this case did not come from a partner's referral link".into(),
            });
        };
        if referral.acknowledged_at.is_some() {
            return Ok(referral);
        }
        diesel::update(partner_referrals::table.find(&case.id))
            .set((
                partner_referrals::acknowledged_at.eq(Some(now)),
                partner_referrals::acknowledged_by.eq(Some(&actor.id)),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "referral_acknowledged",
            json!({"link": referral.link_id, "submitted_at": referral.submitted_at.and_utc().to_rfc3339()}),
            now,
        )?;
        Ok(PartnerReferralRow {
            acknowledged_at: Some(now),
            acknowledged_by: Some(actor.id.clone()),
            ..referral
        })
    })
}

/// Within the decision's transaction: the reporter is told whether the report was accepted,
/// without detail, once; a decision acknowledges the report if no one had.
pub fn tell_decision(
    svc: &Services,
    conn: &mut DbConn,
    case: &CaseRow,
    actor: &Actor,
    declined: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(referral) = of_case(conn, &case.id)? else {
        return Ok(());
    };
    // Told once; and the service's own step (the case closing on the 18th birthday) is no
    // decision on the report: no one triaged it, and the reporter is told nothing of it.
    if referral.decision_told_at.is_some() || actor.role == RoleName::System {
        return Ok(());
    }
    let naive_now = now.naive_utc();
    let acknowledged = match &referral.acknowledged_by {
        Some(by) => (referral.acknowledged_at, Some(by.clone())),
        None => (Some(naive_now), Some(actor.id.clone())),
    };
    diesel::update(partner_referrals::table.find(&case.id))
        .set((
            partner_referrals::decision_told_at.eq(Some(naive_now)),
            partner_referrals::acknowledged_at.eq(acknowledged.0),
            partner_referrals::acknowledged_by.eq(acknowledged.1),
        ))
        .execute(conn)?;
    let lang = Language::parse(&referral.language).unwrap_or(Language::English);
    svc.mailer.queue(
        conn,
        "referral_decision",
        Some(&case.id),
        &referral.reporter_email,
        lang,
        |l| {
            json!({
                "recipient_name": referral.reporter_name, "reference": case.reference,
                "authority": authority_name(svc, &case.located_authority, l),
                "accepted": !declined,
            })
        },
        now,
    )
}

/// A partner's report waiting too long for acknowledgement, for the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Waiting {
    pub case_id: String,
    pub reference: String,
    pub located_authority: String,
    pub agency: String,
    pub submitted_at: DateTime<Utc>,
    pub acknowledge_by: Option<DateTime<Utc>>,
    pub overdue: bool,
}

/// Reports not yet acknowledged, oldest first: of one authority, or of all (`None`). Restricted
/// cases are left out, as from every authority-wide list.
pub fn unacknowledged(
    engine: &crate::engine::Engine,
    conn: &mut DbConn,
    authority: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Waiting>, AppError> {
    use crate::storage::schema::cases;
    let mut query = partner_referrals::table
        .inner_join(cases::table)
        .inner_join(referral_links::table)
        .filter(partner_referrals::acknowledged_at.is_null())
        .filter(cases::status.eq("open"))
        .filter(cases::restricted.eq(false))
        .order(partner_referrals::submitted_at.asc())
        .select((
            cases::id,
            cases::reference,
            cases::located_authority,
            referral_links::agency_code,
            partner_referrals::submitted_at,
        ))
        .into_boxed();
    if let Some(a) = authority {
        query = query.filter(cases::located_authority.eq(a.to_string()));
    }
    let rows: Vec<(String, String, String, String, chrono::NaiveDateTime)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(case_id, reference, located_authority, agency, at)| {
            let submitted_at = at.and_utc();
            let by = due(engine, submitted_at);
            Waiting {
                case_id,
                reference,
                located_authority,
                agency,
                submitted_at,
                acknowledge_by: by,
                overdue: by.is_some_and(|b| now > b),
            }
        })
        .collect())
}

/// The follow-up job: each report past its time without acknowledgement is flagged once, by
/// email to the team leads of the authority where the child is located (by reference only),
/// and the reporter is told how to escalate (WSP c2 p18).
pub fn flag_unacknowledged(
    svc: &Services,
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    use crate::storage::schema::cases;
    let waiting: Vec<(PartnerReferralRow, CaseRow)> = partner_referrals::table
        .inner_join(cases::table)
        .filter(partner_referrals::acknowledged_at.is_null())
        .filter(partner_referrals::flagged_at.is_null())
        .filter(cases::status.eq("open"))
        .select((
            PartnerReferralRow::as_select(),
            crate::storage::models::CaseRow::as_select(),
        ))
        .load(conn)?;
    let mut flagged = 0;
    for (referral, case) in waiting {
        let submitted = referral.submitted_at.and_utc();
        let Some(due) = acknowledge_by(svc, submitted) else {
            continue;
        };
        if now <= due {
            continue;
        }
        crate::storage::write_transaction(conn, |conn| {
            // Another replica's run may have flagged it since it was read.
            let claimed = diesel::update(
                partner_referrals::table
                    .find(&case.id)
                    .filter(partner_referrals::flagged_at.is_null())
                    .filter(partner_referrals::acknowledged_at.is_null()),
            )
            .set(partner_referrals::flagged_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
            if claimed == 0 {
                return Ok(());
            }
            let submitted_on = london_date(submitted);
            for person in super::transfer::people_to_tell(conn, &case, &case.located_authority)? {
                svc.mailer.queue(
                    conn,
                    "referral_unacknowledged",
                    Some(&case.id),
                    &person.email,
                    Language::parse(&person.language).unwrap_or(Language::English),
                    |l| {
                        json!({
                            "recipient_name": person.name, "reference": case.reference,
                            "submitted_on": date_in_sentence(submitted_on, Before::On, l),
                            "case_url": format!("{}/cases/{}", svc.mailer.public_url, case.reference),
                        })
                    },
                    now,
                )?;
            }
            let lang = Language::parse(&referral.language).unwrap_or(Language::English);
            svc.mailer.queue(
                conn,
                "referral_escalation",
                Some(&case.id),
                &referral.reporter_email,
                lang,
                |l| {
                    json!({
                        "recipient_name": referral.reporter_name, "reference": case.reference,
                        "authority": authority_name(svc, &case.located_authority, l),
                        "submitted_on": date_in_sentence(submitted_on, Before::On, l),
                    })
                },
                now,
            )?;
            flagged += 1;
            Ok::<(), AppError>(())
        })?;
    }
    Ok(format!(
        "{flagged} partner report(s) flagged as not acknowledged in time"
    ))
}
