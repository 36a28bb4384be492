//! A child's missing episodes: when they went missing and came back, who reported it, and the
//! return interview offered and held, due within the hours the assessment file sets. A new
//! episode is a significant change: it brings the child's risk review forward. Nothing of an
//! episode goes into any email.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::audit;
use super::input;
use super::risk_review;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::models::MissingEpisodeRow;
use crate::storage::schema::missing_episodes;
use crate::storage::DbConn;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEpisode {
    /// When the child went missing: a time with an offset, or Wales local time.
    pub went_missing_at: String,
    /// Who reported it (a person, their role or agency).
    pub reported_by: String,
    pub returned_at: Option<String>,
    pub interview_offered_at: Option<String>,
    pub interview_held_at: Option<String>,
}

/// What became known later. A time given is set if none is recorded yet (409 otherwise); one
/// left out stays as it was.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpisodeUpdate {
    pub returned_at: Option<String>,
    pub interview_offered_at: Option<String>,
    pub interview_held_at: Option<String>,
}

/// Who may record an episode: anyone working on the child's case.
fn may_record(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        RoleName::Chair | RoleName::Practitioner | RoleName::TeamLead | RoleName::SeniorManager => {
            Ok(())
        }
        _ => Err(AppError::Forbidden(
            "your role does not record missing episodes".into(),
        )),
    }
}

fn given(
    raw: &Option<String>,
    field: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    raw.as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| input::past_time(r, field, now))
        .transpose()
}

/// The times of an episode in order: back after going missing, the interview after the return.
fn check_order(e: &MissingEpisodeRow) -> Result<(), AppError> {
    let before = |later: Option<chrono::NaiveDateTime>,
                  earlier: Option<chrono::NaiveDateTime>,
                  field: &str,
                  what: &str| {
        match (later, earlier) {
            (Some(l), Some(e)) if l < e => Err(AppError::unprocessable(
                "time_out_of_order",
                field,
                format!("{field} is before {what}"),
            )),
            _ => Ok(()),
        }
    };
    before(
        e.returned_at,
        Some(e.went_missing_at),
        "returned_at",
        "the child went missing",
    )?;
    for (t, field) in [
        (e.interview_offered_at, "interview_offered_at"),
        (e.interview_held_at, "interview_held_at"),
    ] {
        if t.is_some() && e.returned_at.is_none() {
            return Err(AppError::unprocessable(
                "not_returned",
                field,
                format!("{field} needs the time the child returned"),
            ));
        }
        before(t, e.returned_at, field, "the child returned")?;
    }
    Ok(())
}

/// The return interview's deadline follows the return.
fn set_deadline(svc: &Services, e: &mut MissingEpisodeRow) {
    e.return_interview_due_at = match (e.returned_at, svc.engine.registry.assessment()) {
        (Some(back), Some(a)) => Some(a.return_interview_due(back.and_utc()).naive_utc()),
        _ => None,
    };
}

/// Records a new episode on a case the person may see, and brings its risk review forward. A
/// page form's one-time token is claimed and finished in the same unit of work.
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NewEpisode,
    form_token: Option<&str>,
) -> Result<MissingEpisodeRow, AppError> {
    let now = intent.now;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        may_record(actor)?;
        super::case::still_open(case)?;
        if let Some(token) = form_token {
            super::form_token::claim(conn, token, &actor.id, now.naive_utc())?;
        }
        let went = input::past_time(req.went_missing_at.trim(), "went_missing_at", now)?;
        let reported_by = input::field_len(&req.reported_by, "reported_by", 200)?;
        let mut episode = MissingEpisodeRow {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case.id.clone(),
            went_missing_at: went.naive_utc(),
            returned_at: given(&req.returned_at, "returned_at", now)?.map(|t| t.naive_utc()),
            reported_by,
            return_interview_due_at: None,
            interview_offered_at: given(&req.interview_offered_at, "interview_offered_at", now)?
                .map(|t| t.naive_utc()),
            interview_held_at: given(&req.interview_held_at, "interview_held_at", now)?
                .map(|t| t.naive_utc()),
            recorded_by: actor.id.clone(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        check_order(&episode)?;
        set_deadline(svc, &mut episode);
        diesel::insert_into(missing_episodes::table)
            .values(&episode)
            .execute(conn)?;
        let review_due = risk_review::bring_forward(
            conn,
            &svc.engine,
            &case.id,
            risk_review::AFTER_MISSING_EPISODE,
            now,
        )?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "missing_episode_recorded",
            json!({
                "episode": episode.id, "went_missing_at": went.to_rfc3339(),
                "reported_by": episode.reported_by,
                "returned_at": episode.returned_at.map(|t| t.and_utc().to_rfc3339()),
                "risk_review_due": review_due,
            }),
            now.naive_utc(),
        )?;
        if let Some(token) = form_token {
            super::form_token::finish(conn, token, &case.reference)?;
        }
        Ok(episode.clone())
    })
}

/// Records what became known of an episode: the return, the interview offered or held.
pub fn update(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    episode_id: &str,
    req: &EpisodeUpdate,
) -> Result<MissingEpisodeRow, AppError> {
    let now = intent.now;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        may_record(actor)?;
        super::case::still_open(case)?;
        let mut episode: MissingEpisodeRow = missing_episodes::table
            .find(episode_id)
            .filter(missing_episodes::case_id.eq(&case.id))
            .select(MissingEpisodeRow::as_select())
            .get_result(conn)
            .optional()?
            .ok_or(AppError::NotFound("missing episode"))?;
        let before = episode.clone();
        for (raw, field, slot) in [
            (
                &req.returned_at,
                "returned_at",
                &mut episode.returned_at as &mut Option<chrono::NaiveDateTime>,
            ),
            (
                &req.interview_offered_at,
                "interview_offered_at",
                &mut episode.interview_offered_at,
            ),
            (
                &req.interview_held_at,
                "interview_held_at",
                &mut episode.interview_held_at,
            ),
        ] {
            if let Some(t) = given(raw, field, now)? {
                if slot.is_some() {
                    return Err(AppError::Conflict {
                        code: "already_recorded",
                        message: format!("{field} is already recorded"),
                    });
                }
                *slot = Some(t.naive_utc());
            }
        }
        if episode.returned_at == before.returned_at
            && episode.interview_offered_at == before.interview_offered_at
            && episode.interview_held_at == before.interview_held_at
        {
            return Err(AppError::bad_request(
                "nothing_to_record",
                "returned_at",
                "give the time the child returned, or of the interview offered or held",
            ));
        }
        check_order(&episode)?;
        set_deadline(svc, &mut episode);
        episode.updated_at = now.naive_utc();
        diesel::update(missing_episodes::table.find(&episode.id))
            .set((
                missing_episodes::returned_at.eq(episode.returned_at),
                missing_episodes::return_interview_due_at.eq(episode.return_interview_due_at),
                missing_episodes::interview_offered_at.eq(episode.interview_offered_at),
                missing_episodes::interview_held_at.eq(episode.interview_held_at),
                missing_episodes::updated_at.eq(episode.updated_at),
            ))
            .execute(conn)?;
        let iso = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc().to_rfc3339());
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "missing_episode_updated",
            json!({
                "episode": episode.id,
                "returned_at": iso(episode.returned_at),
                "interview_offered_at": iso(episode.interview_offered_at),
                "interview_held_at": iso(episode.interview_held_at),
                "before": {
                    "returned_at": iso(before.returned_at),
                    "interview_offered_at": iso(before.interview_offered_at),
                    "interview_held_at": iso(before.interview_held_at),
                },
            }),
            now.naive_utc(),
        )?;
        Ok(episode.clone())
    })
}

/// A case's episodes, latest first.
pub fn of_case(conn: &mut DbConn, case_id: &str) -> Result<Vec<MissingEpisodeRow>, AppError> {
    Ok(missing_episodes::table
        .filter(missing_episodes::case_id.eq(case_id))
        .order(missing_episodes::went_missing_at.desc())
        .select(MissingEpisodeRow::as_select())
        .load(conn)?)
}
