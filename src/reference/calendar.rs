//! Working days: Monday to Friday less the England and Wales bank holidays, which are data
//! (`reference/bank-holidays.toml`, or a file the operator names) so a new year needs no rebuild.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

use crate::error::AppError;

pub const SHIPPED_BANK_HOLIDAYS: &str = include_str!("../../reference/bank-holidays.toml");

#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    holidays: BTreeSet<NaiveDate>,
    names: BTreeMap<NaiveDate, String>,
    /// Each holiday's Welsh name, by its English one.
    names_cy: BTreeMap<String, String>,
    covers: (i32, i32),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    covers: [i32; 2],
    holidays: BTreeMap<String, String>,
    #[serde(default)]
    names_cy: BTreeMap<String, String>,
}

impl WorkingCalendar {
    pub fn shipped() -> Result<Self, AppError> {
        Self::parse(SHIPPED_BANK_HOLIDAYS, "reference/bank-holidays.toml")
    }

    pub fn load(path: Option<&Path>) -> Result<Self, AppError> {
        match path {
            None => Self::shipped(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    AppError::Startup(format!("cannot read bank holidays {}: {e}", p.display()))
                })?;
                Self::parse(&text, &p.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, AppError> {
        let file: HolidayFile =
            toml::from_str(text).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
        if file.covers[0] > file.covers[1] {
            return Err(AppError::Startup(format!(
                "{origin}: covers must be [first year, last year]"
            )));
        }
        let mut names = BTreeMap::new();
        for (date, name) in file.holidays {
            // Round-tripping refuses the short years chrono's parser would accept ("30-01-01").
            let d = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .ok()
                .filter(|d| d.format("%Y-%m-%d").to_string() == date)
                .ok_or_else(|| {
                    AppError::Startup(format!(
                        "{origin}: holiday {date:?} is not a YYYY-MM-DD date"
                    ))
                })?;
            names.insert(d, name);
        }
        if let Some(name) = names.values().find(|n| !file.names_cy.contains_key(*n)) {
            return Err(AppError::Startup(format!(
                "{origin}: holiday {name:?} has no Welsh name under [names_cy]"
            )));
        }
        Ok(WorkingCalendar {
            holidays: names.keys().copied().collect(),
            names,
            names_cy: file.names_cy,
            covers: (file.covers[0], file.covers[1]),
        })
    }

    pub fn covers_year(&self, year: i32) -> bool {
        (self.covers.0..=self.covers.1).contains(&year)
    }

    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.names.get(&date).map(String::as_str)
    }

    /// The holiday's name in Welsh.
    pub fn holiday_name_cy(&self, date: NaiveDate) -> Option<&str> {
        self.names
            .get(&date)
            .and_then(|n| self.names_cy.get(n))
            .map(String::as_str)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// The `n`th working day after `date`. With `n == 0`, `date` itself if it is a working day,
    /// else the next one: "same working day" for a report that arrives on a Saturday is Monday.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        if n == 0 {
            while !self.is_working_day(d) {
                d += Duration::days(1);
            }
            return d;
        }
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        if !self.covers_year(d.year()) {
            tracing::warn!(%d, "deadline falls outside the years the bank holiday data covers");
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to <= from`).
    /// The latest date `d` with at least `n` working days after it up to and including
    /// `date`: anything due on or before `d` is `n` working days overdue by `date`.
    pub fn working_days_before(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        let mut counted = 0;
        while counted < n {
            if self.is_working_day(d) {
                counted += 1;
            }
            d -= Duration::days(1);
        }
        d
    }

    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn skips_weekend_and_easter() {
        let cal = WorkingCalendar::shipped().expect("shipped calendar");
        // Thursday 2 April 2026 + 1 working day skips Good Friday, the weekend and Easter Monday.
        assert_eq!(cal.add_working_days(d("2026-04-02"), 1), d("2026-04-07"));
        // Friday + 1 is Monday.
        assert_eq!(cal.add_working_days(d("2026-11-27"), 1), d("2026-11-30"));
        // Christmas 2026: 25 Dec is Friday, Boxing Day substitute Monday 28th.
        assert_eq!(cal.add_working_days(d("2026-12-24"), 1), d("2026-12-29"));
        assert_eq!(cal.add_working_days(d("2026-11-28"), 0), d("2026-11-30"));
    }

    #[test]
    fn working_days_before_skips_the_weekend_and_bank_holidays() {
        let cal = WorkingCalendar::shipped().expect("calendar");
        // Tuesday 29 December 2026: Monday 28 is the Boxing Day substitute, Friday 25 is
        // Christmas Day; three working days back ends before Wednesday 23 December.
        let before = cal.working_days_before(d("2026-12-29"), 3);
        assert_eq!(before, d("2026-12-22"));
        assert_eq!(cal.working_days_between(before, d("2026-12-29")), 3);
    }

    #[test]
    fn counts_working_days_between() {
        let cal = WorkingCalendar::shipped().expect("shipped calendar");
        assert_eq!(
            cal.working_days_between(d("2026-12-24"), d("2026-12-31")),
            3
        );
        assert_eq!(
            cal.working_days_between(d("2026-12-31"), d("2026-12-24")),
            0
        );
    }

    #[test]
    fn replacement_file_is_used() {
        let cal = WorkingCalendar::parse(
            "covers = [2030, 2030]\n[holidays]\n\"2030-01-01\" = \"New Year\"\n[names_cy]\n\"New Year\" = \"Blwyddyn Newydd\"\n",
            "test",
        )
        .expect("parses");
        assert_eq!(
            cal.holiday_name_cy(d("2030-01-01")),
            Some("Blwyddyn Newydd")
        );
        // A holiday without its Welsh name is refused.
        assert!(WorkingCalendar::parse(
            "covers = [2030, 2030]\n[holidays]\n\"2030-01-01\" = \"New Year\"\n",
            "test"
        )
        .is_err());
        assert!(!cal.is_working_day(d("2030-01-01")));
        assert!(cal.is_working_day(d("2030-01-02")));
        assert!(WorkingCalendar::parse(
            "covers = [2030, 2030]\n[holidays]\n\"30-01-01\" = \"x\"\n",
            "test"
        )
        .is_err());
    }
}
