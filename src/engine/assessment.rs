//! The structured exploitation risk assessment, as data (`workflows/assessments/*.toml`): the
//! questions that prompt the assessor, each quoting the practice guide's words it comes from,
//! the answers allowed, the categories the assessor chooses from with a review interval each,
//! how soon a significant change brings the review forward, and the deadline of a return
//! interview after a missing episode. Structured professional judgement: nothing here adds the
//! answers up; the category is the assessor's, with their reasons.
use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::definition::in_language;
use crate::error::AppError;
use crate::i18n::Language;
use crate::reference::calendar::WorkingCalendar;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub name: String,
    pub version: u32,
    pub title: String,
    pub title_cy: Option<String>,
    pub guidance: String,
    pub guidance_cy: Option<String>,
    pub source: String,
    pub source_cy: Option<String>,
    pub answers: Vec<Choice>,
    pub questions: Vec<Question>,
    pub categories: Vec<Category>,
    pub significant_change: SignificantChange,
    pub missing_episodes: MissingEpisodes,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub label_cy: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub text_cy: Option<String>,
    /// The practice guide's own words the question is drawn from.
    pub quote: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub title: String,
    pub title_cy: Option<String>,
    pub review_within_working_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignificantChange {
    pub review_within_working_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingEpisodes {
    pub return_interview_within_hours: u32,
    pub source: String,
    pub source_cy: Option<String>,
}

impl Choice {
    pub fn label_in(&self, lang: Language) -> &str {
        in_language(&self.label, self.label_cy.as_deref(), lang)
    }
}

impl Question {
    pub fn text_in(&self, lang: Language) -> &str {
        in_language(&self.text, self.text_cy.as_deref(), lang)
    }
}

impl Category {
    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }
}

impl Assessment {
    /// Parses and checks a file: ids unique and plain, at least one question, answer and
    /// category, intervals above zero, every text with its Welsh, every question with its quote.
    pub fn parse(source: &str, origin: &str) -> Result<Assessment, AppError> {
        let a: Assessment =
            toml::from_str(source).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
        let problems = a.problems();
        if problems.is_empty() {
            Ok(a)
        } else {
            Err(AppError::Startup(format!(
                "{origin}: assessment '{}' version {} is invalid:\n  - {}",
                a.name,
                a.version,
                problems.join("\n  - ")
            )))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let welsh = |what: String, cy: &Option<String>, problems: &mut Vec<String>| {
            if cy.as_deref().is_none_or(|t| t.trim().is_empty()) {
                problems.push(format!("{what} has no Welsh"));
            }
        };
        welsh("the title".into(), &self.title_cy, &mut problems);
        welsh("the guidance".into(), &self.guidance_cy, &mut problems);
        welsh("the source".into(), &self.source_cy, &mut problems);
        welsh(
            "the missing episodes' source".into(),
            &self.missing_episodes.source_cy,
            &mut problems,
        );
        for (kind, ids) in [
            (
                "answer",
                self.answers.iter().map(|c| &c.id).collect::<Vec<_>>(),
            ),
            (
                "question",
                self.questions.iter().map(|q| &q.id).collect::<Vec<_>>(),
            ),
            (
                "category",
                self.categories.iter().map(|c| &c.id).collect::<Vec<_>>(),
            ),
        ] {
            if ids.is_empty() {
                problems.push(format!("there is no {kind}"));
            }
            let mut seen = HashSet::new();
            for id in ids {
                if !seen.insert(id) {
                    problems.push(format!("{kind} '{id}' is defined twice"));
                }
                if id.is_empty()
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    problems.push(format!(
                        "{kind} id '{id}' must be lower-case letters, digits and _"
                    ));
                }
            }
        }
        for c in &self.answers {
            welsh(format!("answer '{}'", c.id), &c.label_cy, &mut problems);
        }
        for q in &self.questions {
            welsh(format!("question '{}'", q.id), &q.text_cy, &mut problems);
            if q.quote.trim().is_empty() {
                problems.push(format!(
                    "question '{}' does not quote the practice guide's words it comes from",
                    q.id
                ));
            }
        }
        for c in &self.categories {
            welsh(format!("category '{}'", c.id), &c.title_cy, &mut problems);
            if c.review_within_working_days == 0 {
                problems.push(format!(
                    "category '{}' must give a review interval of at least one working day",
                    c.id
                ));
            }
        }
        if self.significant_change.review_within_working_days == 0 {
            problems.push("a significant change must allow at least one working day".into());
        }
        if self.missing_episodes.return_interview_within_hours == 0 {
            problems.push("a return interview must be given at least one hour".into());
        }
        problems
    }

    pub fn title_in(&self, lang: Language) -> &str {
        in_language(&self.title, self.title_cy.as_deref(), lang)
    }

    pub fn guidance_in(&self, lang: Language) -> &str {
        in_language(&self.guidance, self.guidance_cy.as_deref(), lang)
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn answer(&self, id: &str) -> Option<&Choice> {
        self.answers.iter().find(|c| c.id == id)
    }

    /// When the review after an assessment on `on` in `category` falls due.
    pub fn next_review(
        &self,
        category: &Category,
        on: NaiveDate,
        calendar: &WorkingCalendar,
    ) -> NaiveDate {
        calendar.add_working_days(on, category.review_within_working_days)
    }

    /// The latest a review may wait after a significant change on `on`.
    pub fn review_after_change(&self, on: NaiveDate, calendar: &WorkingCalendar) -> NaiveDate {
        calendar.add_working_days(on, self.significant_change.review_within_working_days)
    }

    /// When the return interview is due, for a child back at `returned`.
    pub fn return_interview_due(&self, returned: DateTime<Utc>) -> DateTime<Utc> {
        returned
            + Duration::hours(i64::from(
                self.missing_episodes.return_interview_within_hours,
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_assessment_is_whole_and_bilingual() {
        let source = include_str!("../../workflows/assessments/exploitation-risk.toml");
        let a = Assessment::parse(source, "shipped").expect("valid");
        assert!(a.questions.len() >= 10);
        assert!(a.category("serious_concern").is_some());
        let returned = DateTime::parse_from_rfc3339("2026-03-27T18:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        // Hours, not working days: the weekend and the clocks going forward on 29 March do not
        // move a 72-hour deadline.
        assert_eq!(
            a.return_interview_due(returned).to_rfc3339(),
            "2026-03-30T18:00:00+00:00"
        );
    }

    #[test]
    fn a_question_without_its_welsh_or_its_quote_is_refused() {
        let source = include_str!("../../workflows/assessments/exploitation-risk.toml")
            .replacen(
                "text_cy = \"A oes arwyddion corfforol: cleisiau, anafiadau heb esboniad, clefyd a drosglwyddir yn rhywiol?\"\n",
                "",
                1,
            )
            .replacen(
                "quote = \"periods of going missing\"",
                "quote = \" \"",
                1,
            );
        let e = Assessment::parse(&source, "edited")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("question 'physical_signs' has no Welsh"), "{e}");
        assert!(e.contains("question 'going_missing' does not quote"), "{e}");
    }
}
