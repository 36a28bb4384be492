//! What a reader of the case is shown of the child's risk over time: the category of the last
//! assessment and when the next review is due (and why), every assessment with its answers as
//! asked, and every missing episode with its return interview.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{missing_episode, risk_assessment, risk_review, Services};
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::CaseRow;
use crate::storage::DbConn;
use crate::time::wales::london_date;

#[derive(Debug, Serialize)]
pub struct RiskOverTime {
    /// The category of the latest assessment, if there has been one.
    pub category: Option<String>,
    pub category_title: Option<String>,
    pub review: Option<ReviewDue>,
    pub assessments: Vec<AssessmentView>,
    pub missing_episodes: Vec<EpisodeView>,
}

#[derive(Debug, Serialize)]
pub struct ReviewDue {
    pub due_on: NaiveDate,
    /// `scheduled` (the category's interval) or what brought it forward (`missing_episode`).
    pub reason: String,
    pub overdue: bool,
}

#[derive(Debug, Serialize)]
pub struct AssessmentView {
    pub id: String,
    pub assessed_at: DateTime<Utc>,
    pub assessed_by: String,
    pub category: String,
    pub category_title: String,
    pub rationale: String,
    pub next_review_on: NaiveDate,
    /// Each question as it was asked, with its answer, in the reader's language.
    pub answers: Vec<AnswerView>,
}

#[derive(Debug, Serialize)]
pub struct AnswerView {
    pub question: String,
    pub text: String,
    pub answer: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct EpisodeView {
    pub id: String,
    pub went_missing_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub return_interview_due_at: Option<DateTime<Utc>>,
    pub interview_offered_at: Option<DateTime<Utc>>,
    pub interview_held_at: Option<DateTime<Utc>>,
    /// The child is back, no interview was held, and its deadline has passed.
    pub interview_overdue: bool,
    pub recorded_by: String,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn view(
    svc: &Services,
    conn: &mut DbConn,
    case: &CaseRow,
    lang: Language,
) -> Result<RiskOverTime, AppError> {
    let now = svc.now();
    let rows = risk_assessment::of_case(conn, &case.id)?;
    let episodes = missing_episode::of_case(conn, &case.id)?;
    let ids: Vec<&str> = rows
        .iter()
        .map(|a| a.assessed_by.as_str())
        .chain(episodes.iter().map(|e| e.recorded_by.as_str()))
        .collect();
    let names = super::user::names(conn, &ids)?;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let assessments: Vec<AssessmentView> = rows
        .into_iter()
        .map(|a| {
            let asked: Vec<Value> = serde_json::from_str(&a.answers).unwrap_or_default();
            let pick = |v: &Value, en: &str, cy: &str| {
                let welsh = v[cy].as_str().filter(|t| !t.is_empty());
                match (lang, welsh) {
                    (Language::Welsh, Some(w)) => w.to_string(),
                    _ => v[en].as_str().unwrap_or("").to_string(),
                }
            };
            AssessmentView {
                answers: asked
                    .iter()
                    .map(|v| AnswerView {
                        question: v["question"].as_str().unwrap_or("").to_string(),
                        text: pick(v, "text", "text_cy"),
                        answer: v["answer"].as_str().unwrap_or("").to_string(),
                        label: pick(v, "label", "label_cy"),
                    })
                    .collect(),
                category_title: match lang {
                    Language::Welsh if !a.category_title_cy.is_empty() => a.category_title_cy,
                    _ => a.category_title,
                },
                id: a.id,
                assessed_at: utc(a.assessed_at),
                assessed_by: name_of(&a.assessed_by),
                category: a.category,
                rationale: a.rationale,
                next_review_on: a.next_review_on,
            }
        })
        .collect();
    let review = risk_review::of_case(conn, &case.id)?.map(|r| ReviewDue {
        overdue: r.due_on < london_date(now),
        due_on: r.due_on,
        reason: r.reason,
    });
    let missing_episodes = episodes
        .into_iter()
        .map(|e| EpisodeView {
            interview_overdue: e.interview_held_at.is_none()
                && e.return_interview_due_at.is_some_and(|d| utc(d) < now),
            id: e.id,
            went_missing_at: utc(e.went_missing_at),
            returned_at: e.returned_at.map(utc),
            reported_by: e.reported_by,
            return_interview_due_at: e.return_interview_due_at.map(utc),
            interview_offered_at: e.interview_offered_at.map(utc),
            interview_held_at: e.interview_held_at.map(utc),
            recorded_by: name_of(&e.recorded_by),
        })
        .collect();
    Ok(RiskOverTime {
        category: assessments.first().map(|a| a.category.clone()),
        category_title: assessments.first().map(|a| a.category_title.clone()),
        review,
        assessments,
        missing_episodes,
    })
}
