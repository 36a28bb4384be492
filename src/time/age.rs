//! Ages and birthdays: the 18th birthday on which child protection duties end (R16), with the
//! rule for a birthday on 29 February.
use chrono::{Datelike, Months, NaiveDate};

/// The date a person born on `dob` reaches `months` of age. Someone born on 29 February reaches
/// a birthday in a common year on 1 March, as in England and Wales law.
pub fn date_at_age_months(dob: NaiveDate, months: u32) -> NaiveDate {
    let years_only = months.is_multiple_of(12);
    match dob.checked_add_months(Months::new(months)) {
        // checked_add_months clamps 29 Feb to 28 Feb; the law says 1 March.
        Some(d) if dob.month() == 2 && dob.day() == 29 && d.day() == 28 && years_only => {
            d.succ_opt().unwrap_or(d)
        }
        Some(d) => d,
        None => NaiveDate::MAX,
    }
}

pub fn eighteenth_birthday(dob: NaiveDate) -> NaiveDate {
    date_at_age_months(dob, 18 * 12)
}

/// Whole years of age on `today`.
pub fn age_years(dob: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - dob.year();
    if date_at_age_months(dob, (years.max(0) as u32) * 12) > today {
        years -= 1;
    }
    years.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn leap_day_birthday_falls_on_first_of_march() {
        assert_eq!(eighteenth_birthday(d("2008-02-29")), d("2026-03-01"));
        assert_eq!(eighteenth_birthday(d("2010-02-28")), d("2028-02-28"));
        assert_eq!(age_years(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_years(d("2008-02-29"), d("2026-03-01")), 18);
    }

    #[test]
    fn seventeen_and_a_half() {
        assert_eq!(
            date_at_age_months(d("2009-08-31"), 17 * 12 + 6),
            d("2027-02-28")
        );
    }
}
