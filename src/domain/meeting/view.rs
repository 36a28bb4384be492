//! What a meeting looks like to those who may see it, and whom a chair starts inviting.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::access::{invitees_of, visible_meeting};
use crate::domain::access_log::Access;
use crate::domain::unit_of_work::{self, Intent};
use crate::engine::contract::FactTag;
use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::storage::models::{CaseRow, MeetingRow};
use crate::storage::DbConn;
use crate::time::wales;

/// Reads a meeting the actor may see, logged against each of its cases they may see.
pub fn read(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Value, AppError> {
    unit_of_work::read(conn, intent, Access::Read, |conn, touched| {
        let (meeting, cases) = visible_meeting(conn, actor, id)?;
        touched.cases(cases.iter().map(|c| c.id.as_str()));
        view(conn, &meeting, &cases)
    })
}

/// The meeting as the API shows it: no child's name, only case references.
pub fn view(
    conn: &mut DbConn,
    meeting: &MeetingRow,
    visible: &[CaseRow],
) -> Result<Value, AppError> {
    let invitees = invitees_of(conn, &meeting.id)?;
    Ok(json!({
        "id": meeting.id, "kind": meeting.kind, "status": meeting.status, "sequence": meeting.sequence,
        "uid": meeting.uid,
        "starts_at": meeting.starts_at.and_utc(), "ends_at": meeting.ends_at.and_utc(),
        "starts_at_local": wales::date_time(meeting.starts_at.and_utc(), Language::English),
        "location": meeting.location, "online_link": meeting.online_link,
        "chair_user_id": meeting.chair_user_id,
        "cases": visible.iter().map(|c| json!({"id": c.id, "reference": c.reference})).collect::<Vec<_>>(),
        "warnings": serde_json::from_str::<Value>(&meeting.warnings).unwrap_or(Value::Null),
        "warnings_rationale": meeting.warnings_rationale, "cancel_reason": meeting.cancel_reason,
        "record_summary": meeting.record_summary, "next_meeting_at": meeting.next_meeting_at.map(|t| t.and_utc()),
        "invitees": invitees.iter().map(|i| json!({
            "id": i.id, "name": i.name, "email": i.email, "agency": i.agency_code, "role": i.role,
            "language": i.language, "direct_knowledge": i.direct_knowledge,
            "response": i.response, "response_reason": i.response_reason, "responded_at": i.responded_at.map(|t| t.and_utc()),
            "attended": i.attended,
        })).collect::<Vec<_>>(),
    }))
}

/// The invitee list a chair starts from (R6): both authorities when they differ, the agencies
/// that took part in the strategy discussion, and the people recorded as involved.
pub fn suggested_invitees(
    engine: &Engine,
    conn: &mut DbConn,
    case: &CaseRow,
) -> Result<Vec<Value>, AppError> {
    use crate::storage::models::InvolvementRow;
    use crate::storage::schema::case_involvements;
    let mut out: Vec<Value> = Vec::new();
    let mut agencies_listed: Vec<String> = Vec::new();
    let mut add_agency = |out: &mut Vec<Value>, code: &str, role: &str| {
        if !agencies_listed.iter().any(|a| a == code) {
            agencies_listed.push(code.to_string());
            let name = engine
                .agencies
                .get(code)
                .map(|a| a.name_en.clone())
                .unwrap_or_default();
            out.push(json!({"name": null, "email": null, "agency": code, "agency_name": name, "role": role, "language": "en", "direct_knowledge": false,
                "needs": "a named person and email address"}));
        }
    };
    let involved: Vec<InvolvementRow> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .select(InvolvementRow::as_select())
        .load(conn)?;
    for i in involved.iter().filter(|i| i.person_email.is_some()) {
        out.push(json!({"name": i.person_name, "email": i.person_email, "agency": i.agency_code, "role": i.role, "language": "en", "direct_knowledge": false}));
    }
    add_agency(
        &mut out,
        &case.located_authority,
        "social services, authority where the child is located",
    );
    if case.residence_authority != case.located_authority {
        add_agency(
            &mut out,
            &case.residence_authority,
            "social services, authority where the child lives",
        );
    }
    let facts = crate::domain::transition::case_facts(case);
    let participants: Vec<String> = engine
        .registry
        .primary()
        .def
        .fact_tagged(FactTag::DiscussionParticipants)
        .and_then(|name| facts.get(name))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for p in participants
        .iter()
        .chain(involved.iter().map(|i| &i.agency_code))
    {
        let role = match engine.agencies.kind_of(p) {
            Some("police") => "police",
            Some("health_board") => "health",
            Some("education") => "education",
            Some("youth_justice") => "youth offending service",
            Some("local_authority") => "social services",
            _ => "partner agency",
        };
        add_agency(&mut out, p, role);
    }
    Ok(out)
}
