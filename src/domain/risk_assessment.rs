//! Recording a structured exploitation risk assessment: every question of the assessment file
//! answered, the category the assessor chose and why, who and when. The questions and answers
//! are kept as they were asked, in both languages, so that the record stays what the assessor
//! saw whatever later versions of the file ask. The next review follows the category's interval.
use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit;
use super::input;
use super::risk_review;
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::storage::models::RiskAssessmentRow;
use crate::storage::schema::risk_assessments;
use crate::storage::DbConn;
use crate::time::wales::london_date;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// Each question's id, with the id of its answer.
    pub answers: BTreeMap<String, String>,
    /// The category the assessor chose.
    pub category: String,
    /// Why: the assessor's own reasons for the category.
    pub rationale: String,
}

/// Who chooses a category: those who chair and oversee the child's plan.
fn may_assess(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager => Ok(()),
        _ => Err(AppError::Forbidden(
            "a chair, team lead or senior manager chooses the risk category".into(),
        )),
    }
}

/// Records an assessment, with a page form's one-time token if there is one, in one unit of work.
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &NewAssessment,
    form_token: Option<&str>,
) -> Result<RiskAssessmentRow, AppError> {
    let now = intent.now;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        may_assess(actor)?;
        if let Some(token) = form_token {
            super::form_token::claim(conn, token, &actor.id, now.naive_utc())?;
        }
        super::case::still_open(case)?;
        let assessment = svc
            .engine
            .registry
            .assessment()
            .ok_or(AppError::NotFound("risk assessment"))?;
        if let Some(unknown) = req
            .answers
            .keys()
            .find(|k| !assessment.questions.iter().any(|q| &q.id == *k))
        {
            return Err(AppError::bad_request(
                "unknown_question",
                unknown.clone(),
                format!("the assessment asks no question {unknown:?}"),
            ));
        }
        let mut asked = Vec::new();
        for q in &assessment.questions {
            let Some(given) = req.answers.get(&q.id).map(|a| a.trim()) else {
                return Err(AppError::bad_request(
                    "question_unanswered",
                    q.id.clone(),
                    format!("answer the question {:?}", q.text),
                ));
            };
            let answer = assessment.answer(given).ok_or_else(|| {
                AppError::bad_request(
                    "invalid_choice",
                    q.id.clone(),
                    format!("{} is not one of the answers to {:?}", given, q.id),
                )
            })?;
            asked.push(json!({
                "question": q.id, "text": q.text, "text_cy": q.text_cy,
                "answer": answer.id, "label": answer.label, "label_cy": answer.label_cy,
            }));
        }
        let category = assessment.category(req.category.trim()).ok_or_else(|| {
            AppError::bad_request(
                "invalid_choice",
                "category",
                "choose one of the categories given",
            )
        })?;
        let rationale = input::rationale(&req.rationale, "rationale")?;
        let next = assessment.next_review(category, london_date(now), &svc.engine.calendar);
        let row = RiskAssessmentRow {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case.id.clone(),
            definition: assessment.name.clone(),
            definition_version: assessment.version as i32,
            answers: Value::Array(asked).to_string(),
            category: category.id.clone(),
            category_title: category.title.clone(),
            category_title_cy: category.title_cy.clone().unwrap_or_default(),
            rationale,
            assessed_by: actor.id.clone(),
            assessed_at: now.naive_utc(),
            next_review_on: next,
        };
        diesel::insert_into(risk_assessments::table)
            .values(&row)
            .execute(conn)?;
        risk_review::schedule(conn, &case.id, next, now)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "risk_assessed",
            json!({
                "assessment": row.id, "definition": row.definition,
                "definition_version": row.definition_version,
                "answers": req.answers, "category": row.category, "rationale": row.rationale,
                "next_review_on": next,
            }),
            now.naive_utc(),
        )?;
        if let Some(token) = form_token {
            super::form_token::finish(conn, token, &case.reference)?;
        }
        Ok(row.clone())
    })
}

/// A case's assessments, latest first.
pub fn of_case(conn: &mut DbConn, case_id: &str) -> Result<Vec<RiskAssessmentRow>, AppError> {
    Ok(risk_assessments::table
        .filter(risk_assessments::case_id.eq(case_id))
        .order(risk_assessments::assessed_at.desc())
        .select(RiskAssessmentRow::as_select())
        .load(conn)?)
}
