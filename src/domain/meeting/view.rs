//! What a meeting looks like to those who may see it, and whom a chair starts inviting.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::access::{invitee_shown_with, invitees_of, seen_meeting, SeenMeeting};
use super::checks::Warning;
use crate::domain::access_log::Access;
use crate::domain::unit_of_work::{self, Intent};
use crate::engine::contract::FactTag;
use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::storage::models::CaseRow;
use crate::storage::schema::meeting_record_sections;
use crate::storage::DbConn;
use crate::time::wales;

/// Reads a meeting the actor may see, logged against each of its cases they may see.
pub fn read(
    engine: &Engine,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    id: &str,
) -> Result<Value, AppError> {
    unit_of_work::read(conn, intent, Access::Read, |conn, touched| {
        let seen = seen_meeting(conn, actor, id)?;
        touched.cases(seen.visible.iter().map(|c| c.id.as_str()));
        let shown = view(engine, conn, &seen, actor)?;
        // The contexts on its agenda are read too.
        touched.cases(
            shown["agenda"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["id"].as_str()),
        );
        Ok(shown)
    })
}

/// The meeting as the API shows it to this reader: no child's name, and nothing of a child
/// whose case they may not see (no reference, no deadline, no section of the record, no
/// invitee who would tell of them). Someone invited who may see none of its cases sees what
/// their invitation and record give them.
pub fn view(
    engine: &Engine,
    conn: &mut DbConn,
    seen: &SeenMeeting,
    reader: &Actor,
) -> Result<Value, AppError> {
    let meeting = &seen.meeting;
    let invitees = invitees_of(conn, &meeting.id)?;
    let visible: Vec<&CaseRow> = seen.visible.iter().collect();
    let every = seen.sees_every_child();
    let warnings: Vec<String> = Warning::stored(&meeting.warnings)
        .into_iter()
        .filter(|w| match w.case_id.as_deref() {
            None => true,
            Some(c) => every || seen.sees_case(c),
        })
        .map(|w| w.text_in(reader.language).to_string())
        .collect();
    let sections: Vec<(String, String)> = meeting_record_sections::table
        .filter(meeting_record_sections::meeting_id.eq(&meeting.id))
        .select((
            meeting_record_sections::case_id,
            meeting_record_sections::text,
        ))
        .load(conn)?;
    let sections: Vec<Value> = sections
        .into_iter()
        .filter_map(|(case_id, text)| {
            let c = seen.visible.iter().find(|c| c.id == case_id)?;
            Some(json!({"case_id": c.id, "reference": c.reference, "text": text}))
        })
        .collect();
    let base = json!({
        "id": meeting.id, "kind": meeting.kind, "status": meeting.status, "sequence": meeting.sequence,
        "uid": meeting.uid,
        "starts_at": meeting.starts_at.and_utc(), "ends_at": meeting.ends_at.and_utc(),
        "starts_at_local": wales::date_time(meeting.starts_at.and_utc(), Language::English),
        "location": meeting.location, "online_link": meeting.online_link,
        "chair_user_id": meeting.chair_user_id,
        "cancel_reason": meeting.cancel_reason,
        "record_summary": meeting.record_summary, "next_meeting_at": meeting.next_meeting_at.map(|t| t.and_utc()),
    });
    let mut out = base;
    if visible.is_empty() {
        // Invited, and no child's case is theirs to see: the invitation's references and
        // their own answer, as the emails gave them.
        let mine = super::access::reader_email(conn, reader)?;
        out["cases"] = json!(seen
            .all
            .iter()
            .map(|c| json!({"reference": c.reference}))
            .collect::<Vec<_>>());
        out["invitees"] = json!(invitees
            .iter()
            .filter(|i| Some(&i.email) == mine.as_ref())
            .map(invitee_json)
            .collect::<Vec<_>>());
        return Ok(out);
    }
    out["cases"] = json!(visible
        .iter()
        .map(|c| {
            let to_book =
                engine.to_book(&crate::domain::transition::case_facts(c), reader.language);
            json!({"id": c.id, "reference": c.reference, "to_book": to_book})
        })
        .collect::<Vec<_>>());
    out["warnings"] = json!(warnings);
    out["warnings_rationale"] = json!(meeting.warnings_rationale);
    out["record_sections"] = json!(sections);
    out["agenda"] = json!(crate::domain::exploitation_meeting::agenda(
        conn,
        reader,
        &meeting.id,
        &visible
    )?);
    out["invitees"] = json!(invitees
        .iter()
        .filter(|i| every || invitee_shown_with(&engine.agencies.current(), i, &visible))
        .map(invitee_json)
        .collect::<Vec<_>>());
    Ok(out)
}

fn invitee_json(i: &crate::storage::models::InviteeRow) -> Value {
    json!({
        "id": i.id, "name": i.name, "email": i.email, "agency": i.agency_code, "role": i.role,
        "language": i.language, "direct_knowledge": i.direct_knowledge,
        "response": i.response, "response_reason": i.response_reason, "responded_at": i.responded_at.map(|t| t.and_utc()),
        "attended": i.attended,
    })
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
    // `role_key` names the role for the pages, which word it in the reader's language.
    let mut add_agency = |out: &mut Vec<Value>, code: &str, (role_key, role): (&str, &str)| {
        if !agencies_listed.iter().any(|a| a == code) {
            agencies_listed.push(code.to_string());
            let name = engine
                .agencies
                .current()
                .get(code)
                .map(|a| a.name_en.clone())
                .unwrap_or_default();
            out.push(json!({"name": null, "email": null, "agency": code, "agency_name": name, "role": role, "role_key": role_key, "language": "en",
                "direct_knowledge": false, "needs": "a named person and email address"}));
        }
    };
    let involved: Vec<InvolvementRow> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .select(InvolvementRow::as_select())
        .load(conn)?;
    for i in involved.iter().filter(|i| i.person_email.is_some()) {
        out.push(json!({"name": i.person_name, "email": i.person_email, "agency": i.agency_code, "role": i.role, "language": "en", "direct_knowledge": false}));
    }
    // R6: social services of each relevant authority and the police from the start; the
    // health board too, as the Wales Safeguarding Procedures expect health at a strategy
    // discussion; the youth offending service once the case records it is involved.
    let mut authorities = vec![(
        case.located_authority.as_str(),
        (
            "social_services_located",
            "social services, authority where the child is located",
        ),
    )];
    if case.residence_authority != case.located_authority {
        authorities.push((
            case.residence_authority.as_str(),
            (
                "social_services_residence",
                "social services, authority where the child lives",
            ),
        ));
    }
    for (authority, role) in &authorities {
        add_agency(&mut out, authority, *role);
    }
    let facts = crate::domain::transition::case_facts(case);
    let youth_justice = engine
        .registry
        .primary()
        .def
        .fact_tagged(FactTag::YouthJusticeInvolved)
        .and_then(|name| facts.get(name))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut serving: Vec<(String, (&str, &str))> = Vec::new();
    for (authority, _) in &authorities {
        for a in engine.agencies.current().serving(authority, "police") {
            serving.push((a.code.clone(), ("police", "police")));
        }
    }
    for (authority, _) in &authorities {
        for a in engine.agencies.current().serving(authority, "health_board") {
            serving.push((a.code.clone(), ("health", "health")));
        }
        if youth_justice {
            for a in engine
                .agencies
                .current()
                .serving(authority, "youth_justice")
            {
                serving.push((
                    a.code.clone(),
                    ("youth_offending", "youth offending service"),
                ));
            }
        }
    }
    for (code, role) in &serving {
        add_agency(&mut out, code, *role);
    }
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
        let role = match engine.agencies.current().kind_of(p) {
            Some("police") => ("police", "police"),
            Some("health_board") => ("health", "health"),
            Some("education") => ("education", "education"),
            Some("youth_justice") => ("youth_offending", "youth offending service"),
            Some("local_authority") => ("social_services", "social services"),
            _ => ("partner_agency", "partner agency"),
        };
        add_agency(&mut out, p, role);
    }
    Ok(out)
}
