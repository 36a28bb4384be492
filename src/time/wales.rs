//! Time as people in Wales live it: the date and wall-clock time in Europe/London (stored times
//! are UTC), the clock changes, and dates and times written in English and Welsh.
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::London;

use crate::i18n::Language;

const DAYS_CY: [&str; 7] = [
    "Dydd Llun",
    "Dydd Mawrth",
    "Dydd Mercher",
    "Dydd Iau",
    "Dydd Gwener",
    "Dydd Sadwrn",
    "Dydd Sul",
];
const MONTHS_CY: [&str; 12] = [
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
];

/// "Wednesday 2 December 2026, 10:00" or "Dydd Mercher 2 Rhagfyr 2026, 10:00", in Wales time.
pub fn date_time(t: DateTime<Utc>, lang: Language) -> String {
    let l = t.with_timezone(&London);
    match lang {
        Language::English => l.format("%A %-d %B %Y, %H:%M").to_string(),
        Language::Welsh => format!(
            "{} {} {} {}, {:02}:{:02}",
            DAYS_CY[l.weekday().num_days_from_monday() as usize],
            l.day(),
            MONTHS_CY[l.month0() as usize],
            l.year(),
            l.hour(),
            l.minute()
        ),
    }
}

/// "10:00" in Wales time.
pub fn time(t: DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%H:%M").to_string()
}

/// The calendar date in Wales at an instant.
pub fn london_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&London).date_naive()
}

/// The last second of a day in Wales, as UTC: deadlines fall due at the end of the day, and
/// the UTC hour of that moment moves with British Summer Time.
pub fn end_of_london_day(date: NaiveDate) -> DateTime<Utc> {
    let local = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    // 23:59:59 is never inside a clock change (they happen at 01:00 UTC), so `earliest` only
    // guards against a future rule change.
    match London.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

/// Local wall-clock time in Wales to UTC. A time that does not exist (the spring gap) or
/// exists twice (the autumn repeat) is refused: for a meeting time, guessing is worse than asking.
pub fn london_to_utc(local: chrono::NaiveDateTime) -> Result<DateTime<Utc>, &'static str> {
    local_to_utc(local).map_err(|c| match c {
        ClockChange::Skipped => "that time does not exist in Wales: the clocks go forward",
        ClockChange::Repeated => {
            "that time happens twice in Wales: the clocks go back; give a UTC offset"
        }
    })
}

/// Why a time on the clocks in Wales names no single instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// The clocks go forward over it (the last Sunday of March).
    Skipped,
    /// The clocks go back over it, so it happens twice (the last Sunday of October).
    Repeated,
}

/// A time on the clocks in Wales as UTC, or why it is not one instant.
pub fn local_to_utc(local: chrono::NaiveDateTime) -> Result<DateTime<Utc>, ClockChange> {
    match London.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        chrono::LocalResult::None => Err(ClockChange::Skipped),
        chrono::LocalResult::Ambiguous(_, _) => Err(ClockChange::Repeated),
    }
}

/// A UTC time as the date and the time of day on the clocks in Wales.
pub fn local_parts(t: DateTime<Utc>) -> (NaiveDate, chrono::NaiveTime) {
    let local = t.with_timezone(&London);
    (local.date_naive(), local.time())
}

/// "Wednesday 2 December 2026" or "Dydd Mercher 2 Rhagfyr 2026".
pub fn long_date(d: NaiveDate, lang: Language) -> String {
    let noon = d
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default();
    let s = date_time(noon, lang);
    s.rsplit_once(',')
        .map(|(day, _)| day.to_string())
        .unwrap_or(s)
}

/// What comes before a date in a sentence. In Welsh, "ar" (on) and "tan" (until) soften the
/// "d" of "dydd" ("ar ddydd Mawrth"); "erbyn" (by) does not; and a day's name is written in
/// lower case inside a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    On,
    Until,
    By,
    /// The date alone, inside a sentence.
    Nothing,
}

/// A date inside a sentence, with its preposition: "on Tuesday 15 June 2027", "ar ddydd Mawrth
/// 15 Mehefin 2027", "tan ddydd Sadwrn…", "erbyn dydd Mercher…".
pub fn date_in_sentence(d: NaiveDate, before: Before, lang: Language) -> String {
    let written = long_date(d, lang);
    match lang {
        Language::English => match before {
            Before::On => format!("on {written}"),
            Before::Until => format!("until {written}"),
            Before::By => format!("by {written}"),
            Before::Nothing => written,
        },
        Language::Welsh => {
            // "Dydd Mawrth 15 Mehefin 2027" -> "dydd Mawrth …", softened after ar and tan.
            let rest = written.strip_prefix("Dydd ").unwrap_or(&written);
            match before {
                Before::On => format!("ar ddydd {rest}"),
                Before::Until => format!("tan ddydd {rest}"),
                Before::By => format!("erbyn dydd {rest}"),
                Before::Nothing => format!("dydd {rest}"),
            }
        }
    }
}

/// As `date_in_sentence`, with the time: "on Tuesday 15 June 2027 at 10:00", "ar ddydd Mawrth
/// 15 Mehefin 2027 am 10:00".
pub fn date_time_in_sentence(t: DateTime<Utc>, before: Before, lang: Language) -> String {
    let day = date_in_sentence(london_date(t), before, lang);
    match lang {
        Language::English => format!("{day} at {}", time(t)),
        Language::Welsh => format!("{day} am {}", time(t)),
    }
}

/// "April 2027" or "Ebrill 2027": a month, where a date would tell too much (the month a child
/// turns 18 is worth saying in an email; the day would give their date of birth).
pub fn month_year(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::English => d.format("%B %Y").to_string(),
        Language::Welsh => format!("{} {}", MONTHS_CY[d.month0() as usize], d.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn welsh_dates_soften_after_ar_and_tan_but_not_after_erbyn() {
        let tuesday = d("2027-06-15");
        let saturday = d("2026-12-05");
        let w = Language::Welsh;
        assert_eq!(
            date_in_sentence(tuesday, Before::On, w),
            "ar ddydd Mawrth 15 Mehefin 2027"
        );
        assert_eq!(
            date_in_sentence(saturday, Before::Until, w),
            "tan ddydd Sadwrn 5 Rhagfyr 2026"
        );
        assert_eq!(
            date_in_sentence(tuesday, Before::By, w),
            "erbyn dydd Mawrth 15 Mehefin 2027"
        );
        assert_eq!(
            date_in_sentence(tuesday, Before::Nothing, w),
            "dydd Mawrth 15 Mehefin 2027"
        );
        assert_eq!(
            date_in_sentence(tuesday, Before::On, Language::English),
            "on Tuesday 15 June 2027"
        );
        let ten = Utc
            .with_ymd_and_hms(2027, 6, 15, 9, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            date_time_in_sentence(ten, Before::On, w),
            "ar ddydd Mawrth 15 Mehefin 2027 am 10:00",
            "10:00 in summer time is 09:00 UTC"
        );
    }

    #[test]
    fn end_of_day_follows_summer_time() {
        // Winter: 23:59:59 GMT is 23:59:59 UTC. Summer: BST is UTC+1.
        assert_eq!(
            end_of_london_day(d("2026-01-15")).to_rfc3339(),
            "2026-01-15T23:59:59+00:00"
        );
        assert_eq!(
            end_of_london_day(d("2026-07-15")).to_rfc3339(),
            "2026-07-15T22:59:59+00:00"
        );
        // The days of the clock changes themselves.
        assert_eq!(
            end_of_london_day(d("2026-03-29")).to_rfc3339(),
            "2026-03-29T22:59:59+00:00"
        );
        assert_eq!(
            end_of_london_day(d("2026-10-25")).to_rfc3339(),
            "2026-10-25T23:59:59+00:00"
        );
    }

    #[test]
    fn refuses_missing_and_repeated_local_times() {
        let gap = d("2026-03-29").and_hms_opt(1, 30, 0).expect("time");
        assert!(london_to_utc(gap).is_err());
        let repeat = d("2026-10-25").and_hms_opt(1, 30, 0).expect("time");
        assert!(london_to_utc(repeat).is_err());
        let fine = d("2026-10-25").and_hms_opt(10, 0, 0).expect("time");
        assert_eq!(
            london_to_utc(fine).map(|t| t.to_rfc3339()),
            Ok("2026-10-25T10:00:00+00:00".into())
        );
    }

    #[test]
    fn welsh_and_english_in_summer_time() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 29, 9, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            date_time(t, Language::English),
            "Monday 29 March 2027, 10:00"
        );
        assert_eq!(
            date_time(t, Language::Welsh),
            "Dydd Llun 29 Mawrth 2027, 10:00"
        );
    }
}
