//! The child as a person across cases. Each case belongs to one child record, made with it. Two
//! reports of the same child (the police and a school) make two cases; the case page suggests
//! the cases the reader may open with the same date of birth and the same name, or a name in
//! common, and a practitioner who may open both confirms that they are one child, with a reason:
//! the two records are merged. Siblings are linked the same way, and a link can be ended. Every
//! merge and link is audited on each case it concerns, and logged as a write of each. Nothing
//! here shows a case the reader may not open, not even that one exists.
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::unit_of_work::{self, Intent};
use super::{audit, case, input, Services};
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::models::{CaseRow, ChildRelationRow};
use crate::storage::schema::{cases, child_cases, child_relations, children};
use crate::storage::{lock_cases, DbConn};

/// The one kind of link between children the service records today.
pub const SIBLING: &str = "sibling";

/// A new case's own child record, in the case's transaction.
pub fn start(conn: &mut DbConn, case_id: &str, now: chrono::NaiveDateTime) -> Result<(), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(children::table)
        .values((children::id.eq(&id), children::created_at.eq(now)))
        .execute(conn)?;
    diesel::insert_into(child_cases::table)
        .values((
            child_cases::case_id.eq(case_id),
            child_cases::child_id.eq(&id),
        ))
        .execute(conn)?;
    Ok(())
}

/// The child record a case belongs to.
pub fn child_of(conn: &mut DbConn, case_id: &str) -> Result<String, AppError> {
    child_cases::table
        .find(case_id)
        .select(child_cases::child_id)
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AppError::Internal(format!("case {case_id} has no child record")))
}

/// Why a case is suggested as the same child's.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Likeness {
    /// The same name and date of birth.
    SameNameAndBirth,
    /// The same date of birth and a name in common (a first or family name).
    SameBirthAndAName,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub reference: String,
    pub child_name: String,
    pub date_of_birth: NaiveDate,
    pub located_authority: String,
    pub likeness: Likeness,
}

/// Cases the reader may open that may be the same child's, best first.
pub fn suggestions(
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
) -> Result<Vec<Suggestion>, AppError> {
    let mine = child_of(conn, &case.id)?;
    let same_child = child_cases::table
        .filter(child_cases::child_id.eq(mine))
        .select(child_cases::case_id);
    let rows: Vec<(String, String, String, NaiveDate, String)> = cases::table
        .filter(super::case_access::visible_filter(actor))
        .filter(cases::child_date_of_birth.eq(case.child_date_of_birth))
        .filter(diesel::dsl::not(cases::id.eq_any(same_child)))
        .order(cases::created_at.asc())
        .limit(20)
        .select((
            cases::reference,
            cases::child_name,
            cases::child_name_folded,
            cases::child_date_of_birth,
            cases::located_authority,
        ))
        .load(conn)?;
    // Compared word by word, whatever the spacing; a synthetic placeholder ("Test Child") is no
    // name in common.
    let words =
        |folded: &str| -> Vec<String> { folded.split_whitespace().map(str::to_string).collect() };
    let names = |all: &[String]| -> Vec<String> {
        all.iter()
            .filter(|w| w.chars().count() > 1 && !super::child::PLACEHOLDERS.contains(&w.as_str()))
            .cloned()
            .collect()
    };
    let my_words = words(&case.child_name_folded);
    let my_names = names(&my_words);
    let mut out: Vec<Suggestion> = rows
        .into_iter()
        .filter_map(|(reference, child_name, folded, born, located)| {
            let theirs = words(&folded);
            let likeness = if theirs == my_words {
                Likeness::SameNameAndBirth
            } else if names(&theirs).iter().any(|p| my_names.contains(p)) {
                Likeness::SameBirthAndAName
            } else {
                return None;
            };
            Some(Suggestion {
                reference,
                child_name,
                date_of_birth: born,
                located_authority: located,
                likeness,
            })
        })
        .collect();
    out.sort_by_key(|s| s.likeness != Likeness::SameNameAndBirth);
    Ok(out)
}

/// A case the reader may open that is tied to this one's child.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub reference: String,
    pub child_name: String,
    /// `same_child`, or the relation (`sibling`).
    pub relation: String,
    /// The link's id, for ending it (none for the same child).
    pub link: Option<String>,
}

/// The other cases of the same child, and the cases of linked siblings, that the reader may
/// open: no others, and no count of them.
pub fn related(conn: &mut DbConn, actor: &Actor, case: &CaseRow) -> Result<Vec<Related>, AppError> {
    let mine = child_of(conn, &case.id)?;
    let visible = |conn: &mut DbConn, child: &str| -> Result<Vec<(String, String)>, AppError> {
        let of_child = child_cases::table
            .filter(child_cases::child_id.eq(child.to_string()))
            .select(child_cases::case_id);
        Ok(cases::table
            .filter(super::case_access::visible_filter(actor))
            .filter(cases::id.eq_any(of_child))
            .filter(cases::id.ne(case.id.clone()))
            .order(cases::created_at.asc())
            .select((cases::reference, cases::child_name))
            .load(conn)?)
    };
    let mut out: Vec<Related> = visible(conn, &mine)?
        .into_iter()
        .map(|(reference, child_name)| Related {
            reference,
            child_name,
            relation: "same_child".into(),
            link: None,
        })
        .collect();
    for link in active_links(conn, &mine)? {
        let other = if link.child_id == mine {
            &link.other_child_id
        } else {
            &link.child_id
        };
        for (reference, child_name) in visible(conn, other)? {
            out.push(Related {
                reference,
                child_name,
                relation: link.relation.clone(),
                link: Some(link.id.clone()),
            });
        }
    }
    Ok(out)
}

fn active_links(conn: &mut DbConn, child: &str) -> Result<Vec<ChildRelationRow>, AppError> {
    Ok(child_relations::table
        .filter(
            child_relations::child_id
                .eq(child)
                .or(child_relations::other_child_id.eq(child)),
        )
        .filter(child_relations::ended_at.is_null())
        .order(child_relations::made_at.asc())
        .select(ChildRelationRow::as_select())
        .load(conn)?)
}

fn cases_of(conn: &mut DbConn, child: &str) -> Result<Vec<String>, AppError> {
    Ok(child_cases::table
        .filter(child_cases::child_id.eq(child))
        .select(child_cases::case_id)
        .load(conn)?)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherCase {
    /// The other case's reference.
    pub other: String,
    /// Why: what shows it is the same child, or that they are siblings (20 characters or more).
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndLink {
    pub link: String,
    pub reason: String,
}

/// The case being changed and the other one, both of which the reader must be able to open; the
/// other, if they may not, is refused exactly as one that does not exist. Both are locked.
fn both(
    conn: &mut DbConn,
    actor: &Actor,
    key: &str,
    other: &str,
    touched: &mut unit_of_work::Touched,
) -> Result<(CaseRow, CaseRow), AppError> {
    let a = case::visible_case(conn, actor, key)?;
    touched.case(&a.id);
    let b = match case::visible_case(conn, actor, other.trim()) {
        Ok(b) => b,
        Err(AppError::NotFound(_)) => {
            return Err(AppError::unprocessable(
                "unknown_case",
                "other",
                "no case you may open has that reference",
            ))
        }
        Err(e) => return Err(e),
    };
    if a.id == b.id {
        return Err(AppError::unprocessable(
            "same_case",
            "other",
            "that is this case",
        ));
    }
    touched.case(&b.id);
    lock_cases(conn, &[&a.id, &b.id])?;
    Ok((a, b))
}

/// Confirms that the other case is the same child's: its child record is merged into this
/// case's. Returns this case's new version.
pub fn confirm_same_child(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &OtherCase,
) -> Result<i64, AppError> {
    let reason = input::rationale(&req.reason, "reason")?;
    let now = intent.now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        let (a, b) = both(conn, actor, key, &req.other, touched)?;
        let keep = child_of(conn, &a.id)?;
        let gone = child_of(conn, &b.id)?;
        if keep == gone {
            return Err(AppError::Conflict {
                code: "already_same_child",
                message: "the two cases are already recorded as the same child's".into(),
            });
        }
        let moved = cases_of(conn, &gone)?;
        diesel::update(child_cases::table.filter(child_cases::child_id.eq(&gone)))
            .set(child_cases::child_id.eq(&keep))
            .execute(conn)?;
        diesel::update(child_relations::table.filter(child_relations::child_id.eq(&gone)))
            .set(child_relations::child_id.eq(&keep))
            .execute(conn)?;
        diesel::update(child_relations::table.filter(child_relations::other_child_id.eq(&gone)))
            .set(child_relations::other_child_id.eq(&keep))
            .execute(conn)?;
        // Siblings found to be one child: the link between them ends with the merge.
        diesel::update(
            child_relations::table
                .filter(child_relations::child_id.eq(&keep))
                .filter(child_relations::other_child_id.eq(&keep))
                .filter(child_relations::ended_at.is_null()),
        )
        .set((
            child_relations::ended_at.eq(Some(now)),
            child_relations::ended_by.eq(Some(&actor.id)),
        ))
        .execute(conn)?;
        diesel::update(children::table.find(&gone))
            .set((
                children::merged_into.eq(Some(&keep)),
                children::merged_at.eq(Some(now)),
            ))
            .execute(conn)?;
        let entry = |with: Option<&str>| json!({"child_record": keep, "merged_record": gone, "with": with, "reason": reason});
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &a.id,
            &actor.id,
            "child_merged",
            entry(Some(&b.reference)),
            now,
        )?;
        for id in &moved {
            // The other case names this one; any further case of that child names neither,
            // since its reader may not open them.
            let with = (id == &b.id).then_some(a.reference.as_str());
            audit::record_on_case(
                conn,
                &svc.audit_key,
                id,
                &actor.id,
                "child_merged",
                entry(with),
                now,
            )?;
            touched.case(id);
        }
        Ok(a.version + 1)
    })
}

/// Links the other case's child to this case's child as siblings.
pub fn link_sibling(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &OtherCase,
) -> Result<i64, AppError> {
    let reason = input::rationale(&req.reason, "reason")?;
    let now = intent.now.naive_utc();
    unit_of_work::write(conn, intent, |conn, touched| {
        let (a, b) = both(conn, actor, key, &req.other, touched)?;
        let mine = child_of(conn, &a.id)?;
        let theirs = child_of(conn, &b.id)?;
        if mine == theirs {
            return Err(AppError::Conflict {
                code: "same_child",
                message: "the two cases are recorded as the same child's".into(),
            });
        }
        let linked = active_links(conn, &mine)?
            .iter()
            .any(|l| l.relation == SIBLING && (l.child_id == theirs || l.other_child_id == theirs));
        if linked {
            return Err(AppError::Conflict {
                code: "already_linked",
                message: "the two children are already linked as siblings".into(),
            });
        }
        let link = ChildRelationRow {
            id: uuid::Uuid::new_v4().to_string(),
            child_id: mine.clone(),
            other_child_id: theirs.clone(),
            relation: SIBLING.into(),
            reason: reason.clone(),
            made_by: actor.id.clone(),
            made_at: now,
            ended_at: None,
            ended_by: None,
        };
        diesel::insert_into(child_relations::table)
            .values(&link)
            .execute(conn)?;
        for (on, with) in [(&a, &b), (&b, &a)] {
            audit::record_on_case(
                conn,
                &svc.audit_key,
                &on.id,
                &actor.id,
                "sibling_linked",
                json!({"link": link.id, "with": with.reference, "reason": reason}),
                now,
            )?;
        }
        Ok(a.version + 1)
    })
}

/// Ends a sibling link of this case's child, with a reason.
pub fn end_link(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &EndLink,
) -> Result<i64, AppError> {
    let reason = input::rationale(&req.reason, "reason")?;
    let now = intent.now.naive_utc();
    unit_of_work::on_case(conn, intent, actor, key, |conn, a| {
        let mine = child_of(conn, &a.id)?;
        let Some(link) = active_links(conn, &mine)?
            .into_iter()
            .find(|l| l.id == req.link)
        else {
            return Err(AppError::unprocessable(
                "unknown_link",
                "link",
                "this case's child has no such link",
            ));
        };
        diesel::update(child_relations::table.find(&link.id))
            .set((
                child_relations::ended_at.eq(Some(now)),
                child_relations::ended_by.eq(Some(&actor.id)),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &a.id,
            &actor.id,
            "sibling_link_ended",
            json!({"link": link.id, "reason": reason}),
            now,
        )?;
        Ok(a.version + 1)
    })
}
