//! Retention rules for case records, as data (`reference/retention.toml`): for each kind of
//! record, how many years from closure or from birth it is kept before it may be destroyed.
use chrono::{Months, NaiveDate};
use serde::Deserialize;

use crate::error::AppError;

pub const SHIPPED_RETENTION: &str = include_str!("../../reference/retention.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    /// `looked_after` (the child is looked after) or `always`.
    pub when: String,
    /// `closure` or `birth`.
    pub from: String,
    pub years: u32,
    pub title_en: String,
    pub title_cy: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<Rule>,
}

/// What a case's retention turns on.
pub struct Kept {
    pub looked_after: bool,
    pub born: NaiveDate,
    /// When it closed; none while it is open, which no rule destroys.
    pub closed: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct RetentionRules {
    rules: Vec<Rule>,
}

impl RetentionRules {
    pub fn parse(text: &str, origin: &str) -> Result<RetentionRules, AppError> {
        let file: RuleFile =
            toml::from_str(text).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
        for r in &file.rule {
            if !["looked_after", "always"].contains(&r.when.as_str())
                || !["closure", "birth"].contains(&r.from.as_str())
                || r.years == 0
            {
                return Err(AppError::Startup(format!(
                    "{origin}: rule {:?} needs when = looked_after or always, from = closure or birth, and years above 0",
                    r.id
                )));
            }
        }
        if !file.rule.iter().any(|r| r.when == "always") {
            return Err(AppError::Startup(format!(
                "{origin}: one rule must apply always, so that every case has one"
            )));
        }
        Ok(RetentionRules { rules: file.rule })
    }

    pub fn shipped() -> Result<RetentionRules, AppError> {
        Self::parse(SHIPPED_RETENTION, "reference/retention.toml")
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rule a case falls under and the first day it may be destroyed: the later of the
    /// rule's date and its closure. None while the case is open.
    pub fn due(&self, case: &Kept) -> Option<(&Rule, NaiveDate)> {
        let closed = case.closed?;
        let rule = self
            .rules
            .iter()
            .find(|r| r.when == "always" || (r.when == "looked_after" && case.looked_after))?;
        let start = if rule.from == "birth" {
            case.born
        } else {
            closed
        };
        let until = start.checked_add_months(Months::new(rule.years * 12))?;
        Some((rule, until.max(closed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_looked_after_child_is_kept_to_75_and_others_35_years_from_closure() {
        let rules = RetentionRules::shipped().expect("shipped rules parse");
        let born = day(2012, 5, 14);
        let closed = Some(day(2026, 11, 25));
        let (rule, until) = rules
            .due(&Kept {
                looked_after: true,
                born,
                closed,
            })
            .expect("due");
        assert_eq!(
            (rule.id.as_str(), until),
            ("looked_after", day(2087, 5, 14))
        );
        let (rule, until) = rules
            .due(&Kept {
                looked_after: false,
                born,
                closed,
            })
            .expect("due");
        assert_eq!(
            (rule.id.as_str(), until),
            ("child_protection", day(2061, 11, 25))
        );
        assert!(
            rules
                .due(&Kept {
                    looked_after: false,
                    born,
                    closed: None
                })
                .is_none(),
            "an open case is kept"
        );
        // 29 February: the anniversary falls on the 28th in a common year.
        let (_, until) = rules
            .due(&Kept {
                looked_after: false,
                born,
                closed: Some(day(2028, 2, 29)),
            })
            .expect("due");
        assert_eq!(until, day(2063, 2, 28));
    }
}
