//! Contexts: a place, a peer group or a person of concern, linked to many children's cases.
//! Who sees one: the staff of the authority that recorded it, and anyone who may see a child
//! linked to it; a person of concern only those an administrator has given the role
//! (`users.sees_persons_of_concern`). Anyone else is answered as if it did not exist. A
//! context's page names only the linked children its reader may see, and says nothing of the
//! others, not even how many. Nothing of a context goes into any email. A view of a context
//! is access-logged under the context's id, beside the lines of the cases it names.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::access_log::{self, Access};
use super::unit_of_work::{self, Intent};
use super::{audit, case, case_access, input, risk_review, Services};
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::models::{CaseRow, ContextLinkRow, ContextRow};
use crate::storage::schema::{cases, context_links, contexts, users};
use crate::storage::DbConn;

pub const KINDS: &[&str] = &["place", "peer_group", "person_of_concern"];
pub const PERSON_OF_CONCERN: &str = "person_of_concern";
pub const PLACE: &str = "place";
pub const REFERENCE_PREFIX: &str = "CTX-";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContext {
    /// `place`, `peer_group` or `person_of_concern`.
    pub kind: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// The child's case: its reference or id.
    pub case: String,
    /// Why the child is linked to the context (20+ characters).
    pub reason: String,
    /// On what information (who said or saw what, and when).
    pub information: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndLink {
    pub reason: String,
}

/// What a reader is shown of a context.
#[derive(Debug, Serialize)]
pub struct ContextView {
    pub id: String,
    pub reference: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub authority: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Only the children the reader may see.
    pub children: Vec<LinkedChild>,
    /// The context's own actions (disruption and others).
    pub actions: Vec<super::context_action::ContextActionView>,
    /// The exploitation meetings about it, newest first, with their records' common part.
    pub meetings: Vec<super::exploitation_meeting::MeetingAbout>,
}

#[derive(Debug, Serialize)]
pub struct LinkedChild {
    pub link_id: String,
    pub case_id: String,
    pub reference: String,
    pub child_name: String,
    pub reason: String,
    pub information: String,
    pub linked_by: String,
    pub linked_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub end_reason: Option<String>,
}

/// Whether the person has been given the role that shows persons of concern.
pub fn sees_persons_of_concern(conn: &mut DbConn, actor: &Actor) -> Result<bool, AppError> {
    Ok(users::table
        .find(&actor.id)
        .select(users::sees_persons_of_concern)
        .get_result::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

/// Those of `people` who have the role: the only ones who may hear of a person of concern.
pub fn with_the_role(
    conn: &mut DbConn,
    mut people: Vec<crate::storage::models::UserRow>,
) -> Result<Vec<crate::storage::models::UserRow>, AppError> {
    let ids: Vec<&str> = people.iter().map(|u| u.id.as_str()).collect();
    let allowed: Vec<String> = users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::sees_persons_of_concern.eq(true))
        .select(users::id)
        .load(conn)?;
    people.retain(|u| allowed.contains(&u.id));
    Ok(people)
}

/// Gives or withdraws the role (an administrator's command), with a security event in the
/// same transaction.
pub fn set_persons_of_concern(
    conn: &mut DbConn,
    key: &crate::domain::audit::AuditKey,
    email: &str,
    allowed: bool,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    crate::storage::write_transaction(conn, |conn| {
        let changed = diesel::update(users::table.filter(users::email.eq(email.trim())))
            .set(users::sees_persons_of_concern.eq(allowed))
            .execute(conn)?;
        if changed == 0 {
            return Err(AppError::NotFound("user"));
        }
        super::security_event::record_administration(
            conn,
            key,
            super::security_event::SecurityKind::AccountChanged,
            &format!(
                "{} {} the role that shows persons of concern",
                email.trim(),
                if allowed { "given" } else { "no longer has" }
            ),
            by,
            at,
        )
    })
}

fn works_on_cases(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        RoleName::Chair | RoleName::Practitioner | RoleName::TeamLead | RoleName::SeniorManager => {
            Ok(())
        }
        _ => Err(AppError::NotFound("context")),
    }
}

fn find(conn: &mut DbConn, key: &str) -> Result<Option<ContextRow>, AppError> {
    let query = contexts::table.select(ContextRow::as_select());
    Ok(if key.starts_with(REFERENCE_PREFIX) {
        query
            .filter(contexts::reference.eq(key))
            .get_result(conn)
            .optional()?
    } else {
        query.find(key).get_result(conn).optional()?
    })
}

/// The active links of a context with their cases, each case the reader may see.
fn visible_links(
    conn: &mut DbConn,
    actor: &Actor,
    context_id: &str,
    with_ended: bool,
) -> Result<Vec<(ContextLinkRow, CaseRow)>, AppError> {
    let mut query = context_links::table
        .inner_join(cases::table)
        .filter(context_links::context_id.eq(context_id))
        .order(context_links::linked_at)
        .select((ContextLinkRow::as_select(), CaseRow::as_select()))
        .into_boxed();
    if !with_ended {
        query = query.filter(context_links::ended_at.is_null());
    }
    let rows: Vec<(ContextLinkRow, CaseRow)> = query.load(conn)?;
    let mut out = Vec::new();
    for (link, c) in rows {
        if case_access::may_see(conn, actor, &c)? {
            out.push((link, c));
        }
    }
    Ok(out)
}

/// The cases linked to a context now that the reader may see.
pub fn visible_children(
    conn: &mut DbConn,
    actor: &Actor,
    context_id: &str,
) -> Result<Vec<CaseRow>, AppError> {
    Ok(visible_links(conn, actor, context_id, false)?
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}

/// A context the person may see; any other answers as one that does not exist.
pub fn visible(conn: &mut DbConn, actor: &Actor, key: &str) -> Result<ContextRow, AppError> {
    works_on_cases(actor)?;
    let Some(ctx) = find(conn, key)? else {
        return Err(AppError::NotFound("context"));
    };
    if ctx.kind == PERSON_OF_CONCERN && !sees_persons_of_concern(conn, actor)? {
        return Err(AppError::NotFound("context"));
    }
    if ctx.authority_code == actor.authority
        || !visible_links(conn, actor, &ctx.id, false)?.is_empty()
    {
        Ok(ctx)
    } else {
        Err(AppError::NotFound("context"))
    }
}

fn description(value: &str) -> Result<String, AppError> {
    input::text(value, "description", 2000)
}

/// Records a new context of the person's authority.
pub fn create(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    req: &NewContext,
) -> Result<ContextRow, AppError> {
    if works_on_cases(actor).is_err() {
        return Err(AppError::Forbidden(
            "contexts are recorded by those who work on children's cases".into(),
        ));
    }
    let kind = req.kind.trim();
    if !KINDS.contains(&kind) {
        return Err(AppError::bad_request(
            "invalid_choice",
            "kind",
            "kind is one of place, peer_group, person_of_concern",
        ));
    }
    let name = input::field_len(&req.name, "name", 200)?;
    let description = description(&req.description)?;
    unit_of_work::write(conn, intent, |conn, _| {
        if kind == PERSON_OF_CONCERN && !sees_persons_of_concern(conn, actor)? {
            return Err(AppError::Forbidden(
                "only those given the role by an administrator record persons of concern".into(),
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let year = crate::time::wales::london_date(intent.now).format("%Y");
        let row = ContextRow {
            reference: format!(
                "{REFERENCE_PREFIX}{year}-{}",
                id.replace('-', "")[20..].to_uppercase()
            ),
            id,
            kind: kind.to_string(),
            name: name.clone(),
            description: description.clone(),
            authority_code: actor.authority.clone(),
            created_by: actor.id.clone(),
            created_at: intent.now.naive_utc(),
        };
        diesel::insert_into(contexts::table)
            .values(&row)
            .execute(conn)?;
        log_context(svc, conn, intent, &row.id, Access::Write)?;
        Ok(row)
    })
}

fn log_context(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    context_id: &str,
    access: Access,
) -> Result<(), AppError> {
    access_log::record(
        conn,
        &svc.audit_key,
        intent.who,
        &[context_id],
        access,
        intent.path,
        intent.now.naive_utc(),
    )
}

/// What the case's history keeps of a link or its end: the same shape for every kind of
/// context, so that nobody reading the case can tell a person of concern from a place, and for
/// a person of concern only a keyed digest of the words (the case's other readers may lack the
/// role; the words stay on the link, for those who have it). A place or group is named.
fn link_payload(
    key: &crate::domain::audit::AuditKey,
    ctx: &ContextRow,
    link: &ContextLinkRow,
    note: &str,
) -> serde_json::Value {
    let digest = key.mac(format!("{}\n{}\n{}", link.reason, link.information, note).as_bytes());
    if ctx.kind == PERSON_OF_CONCERN {
        json!({"link": link.id, "context": Value::Null, "digest": digest,
               "reason": Value::Null, "information": Value::Null, "note": Value::Null})
    } else {
        json!({"link": link.id, "context": format!("{} ({})", ctx.name, ctx.reference), "digest": digest,
               "reason": link.reason, "information": link.information,
               "note": (!note.is_empty()).then_some(note)})
    }
}

/// Links a child the person may see to a context they may see. The child's risk review comes
/// forward: a new context is a significant change.
pub fn link(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NewLink,
) -> Result<ContextLinkRow, AppError> {
    let reason = input::rationale(&req.reason, "reason")?;
    let information = description(&req.information).map_err(|e| match e {
        AppError::BadRequest { code, .. } => {
            AppError::bad_request(code, "information", "say on what information")
        }
        other => other,
    })?;
    unit_of_work::write(conn, intent, |conn, touched| {
        let ctx = visible(conn, actor, key)?;
        let child = case::visible_case(conn, actor, req.case.trim()).map_err(|e| match e {
            AppError::NotFound(_) => AppError::unprocessable(
                "unknown_case",
                "case",
                "no case you may open has that reference",
            ),
            other => other,
        })?;
        touched.case(&child.id);
        crate::storage::lock_cases(conn, &[&child.id])?;
        let already: i64 = context_links::table
            .filter(context_links::context_id.eq(&ctx.id))
            .filter(context_links::case_id.eq(&child.id))
            .filter(context_links::ended_at.is_null())
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Err(AppError::Conflict {
                code: "already_linked_to_context",
                message: "the child is already linked to this context".into(),
            });
        }
        let row = ContextLinkRow {
            id: uuid::Uuid::now_v7().to_string(),
            context_id: ctx.id.clone(),
            case_id: child.id.clone(),
            reason: reason.clone(),
            information: information.clone(),
            linked_by: actor.id.clone(),
            linked_at: intent.now.naive_utc(),
            ended_at: None,
            ended_by: None,
            end_reason: None,
        };
        diesel::insert_into(context_links::table)
            .values(&row)
            .execute(conn)?;
        let due = risk_review::bring_forward(
            conn,
            &svc.engine,
            &child.id,
            risk_review::AFTER_CONTEXT_LINK,
            intent.now,
        )?;
        let mut payload = link_payload(&svc.audit_key, &ctx, &row, "");
        payload["risk_review_due"] = json!(due);
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &child.id,
            &actor.id,
            "context_linked",
            payload,
            intent.now.naive_utc(),
        )?;
        log_context(svc, conn, intent, &ctx.id, Access::Write)?;
        Ok(row.clone())
    })
}

/// Ends a link, with the reason; the link stays in the record.
pub fn end_link(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    link_id: &str,
    req: &EndLink,
) -> Result<(), AppError> {
    let reason = input::rationale(&req.reason, "reason")?;
    unit_of_work::write(conn, intent, |conn, touched| {
        let ctx = visible(conn, actor, key)?;
        let Some((link, child)) = visible_links(conn, actor, &ctx.id, false)?
            .into_iter()
            .find(|(l, _)| l.id == link_id)
        else {
            return Err(AppError::NotFound("link"));
        };
        touched.case(&child.id);
        crate::storage::lock_cases(conn, &[&child.id])?;
        let ended = diesel::update(
            context_links::table
                .find(&link.id)
                .filter(context_links::ended_at.is_null()),
        )
        .set((
            context_links::ended_at.eq(Some(intent.now.naive_utc())),
            context_links::ended_by.eq(Some(&actor.id)),
            context_links::end_reason.eq(Some(&reason)),
        ))
        .execute(conn)?;
        if ended == 0 {
            return Err(AppError::NotFound("link"));
        }
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &child.id,
            &actor.id,
            "context_link_ended",
            link_payload(&svc.audit_key, &ctx, &link, &reason),
            intent.now.naive_utc(),
        )?;
        log_context(svc, conn, intent, &ctx.id, Access::Write)?;
        Ok(())
    })
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// A context and the children of it the reader may see, logged before it is returned: a line
/// for the context and a line for each case it names.
pub fn read(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
) -> Result<ContextView, AppError> {
    let ctx = visible(conn, actor, key)?;
    let links = visible_links(conn, actor, &ctx.id, true)?;
    let ids: Vec<&str> = links.iter().map(|(l, _)| l.linked_by.as_str()).collect();
    let names = super::user::names(conn, &ids)?;
    let mut lines = access_log::lines(
        &svc.audit_key,
        intent.who,
        &[&ctx.id],
        Access::Read,
        intent.path,
        intent.now.naive_utc(),
    );
    let case_ids: Vec<&str> = links.iter().map(|(_, c)| c.id.as_str()).collect();
    lines.extend(access_log::lines(
        &svc.audit_key,
        intent.who,
        &case_ids,
        Access::List,
        intent.path,
        intent.now.naive_utc(),
    ));
    svc.reads.commit(conn, lines)?;
    let actions = super::context_action::of_context(
        conn,
        &ctx.id,
        crate::time::wales::london_date(intent.now),
    )?;
    let meetings = super::exploitation_meeting::meetings_about(conn, actor, &ctx.id)?;
    Ok(ContextView {
        actions,
        meetings,
        children: links
            .iter()
            .map(|(l, c)| LinkedChild {
                link_id: l.id.clone(),
                case_id: c.id.clone(),
                reference: c.reference.clone(),
                child_name: c.child_name.clone(),
                reason: l.reason.clone(),
                information: l.information.clone(),
                linked_by: names.get(&l.linked_by).cloned().unwrap_or_default(),
                linked_at: utc(l.linked_at),
                ended_at: l.ended_at.map(utc),
                end_reason: l.end_reason.clone(),
            })
            .collect(),
        id: ctx.id,
        reference: ctx.reference,
        kind: ctx.kind,
        name: ctx.name,
        description: ctx.description,
        authority: ctx.authority_code,
        created_at: utc(ctx.created_at),
    })
}

/// The contexts the person may see: their authority's and those linked to a child they may
/// see, newest first; persons of concern only with the role. Logged as a list of each.
pub fn list(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
) -> Result<Vec<ContextRow>, AppError> {
    if works_on_cases(actor).is_err() {
        return Ok(Vec::new());
    }
    let sees_persons = sees_persons_of_concern(conn, actor)?;
    // The reader's cases that are linked to any context (a narrow list: few children are),
    // then the contexts of those links.
    let linked_cases: Vec<CaseRow> = cases::table
        .filter(case_access::visible_filter(actor))
        .filter(
            cases::id.eq_any(
                context_links::table
                    .filter(context_links::ended_at.is_null())
                    .select(context_links::case_id),
            ),
        )
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut visible_ids: Vec<String> = Vec::new();
    for c in &linked_cases {
        if case_access::may_see(conn, actor, c)? {
            visible_ids.push(c.id.clone());
        }
    }
    let seen: Vec<String> = context_links::table
        .filter(context_links::ended_at.is_null())
        .filter(context_links::case_id.eq_any(&visible_ids))
        .select(context_links::context_id)
        .distinct()
        .load(conn)?;
    let mut rows: Vec<ContextRow> = contexts::table
        .filter(
            contexts::authority_code
                .eq(&actor.authority)
                .or(contexts::id.eq_any(&seen)),
        )
        .order(contexts::created_at.desc())
        .select(ContextRow::as_select())
        .load(conn)?;
    rows.retain(|c| sees_persons || c.kind != PERSON_OF_CONCERN);
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let lines = access_log::lines(
        &svc.audit_key,
        intent.who,
        &ids,
        Access::List,
        intent.path,
        intent.now.naive_utc(),
    );
    svc.reads.commit(conn, lines)?;
    Ok(rows)
}

/// The contexts a case is linked to now that the reader may see (the case page's list). The
/// case is one the reader may see, so each is visible through it, persons of concern apart.
/// Naming them is a view of each: logged under each context's id, as the case page's read.
pub fn of_case(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
) -> Result<Vec<ContextRow>, AppError> {
    let sees_persons = sees_persons_of_concern(conn, actor)?;
    let mut rows: Vec<ContextRow> = contexts::table
        .inner_join(context_links::table)
        .filter(context_links::case_id.eq(&case.id))
        .filter(context_links::ended_at.is_null())
        .order(contexts::name)
        .select(ContextRow::as_select())
        .load(conn)?;
    rows.retain(|c| sees_persons || c.kind != PERSON_OF_CONCERN);
    if !rows.is_empty() {
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let lines = access_log::lines(
            &svc.audit_key,
            &actor.id,
            &ids,
            Access::List,
            &format!("/cases/{}", case.reference),
            svc.now().naive_utc(),
        );
        svc.reads.commit(conn, lines)?;
    }
    Ok(rows)
}
