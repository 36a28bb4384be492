//! When a step falls due. Working-day and month deadlines end at the close of the day in Wales;
//! hour deadlines are exact.
use chrono::{DateTime, Duration, Months, Utc};

use super::definition::DeadlineSpec;
use crate::reference::calendar::WorkingCalendar;
use crate::time::wales::end_of_london_day;
use crate::time::wales::london_date;

pub fn due_at(
    spec: &DeadlineSpec,
    from: DateTime<Utc>,
    calendar: &WorkingCalendar,
) -> DateTime<Utc> {
    if let Some(n) = spec.working_days {
        return end_of_london_day(calendar.add_working_days(london_date(from), n));
    }
    if let Some(h) = spec.hours {
        return from + Duration::hours(h.into());
    }
    let months = spec.months.unwrap_or(0);
    let date = london_date(from);
    end_of_london_day(date.checked_add_months(Months::new(months)).unwrap_or(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec(wd: Option<u32>, h: Option<u32>, m: Option<u32>) -> DeadlineSpec {
        DeadlineSpec {
            working_days: wd,
            hours: h,
            months: m,
            from_fact: None,
            source: "test".into(),
            source_cy: None,
        }
    }

    #[test]
    fn one_working_day_from_a_friday_evening_in_summer_time() {
        let cal = WorkingCalendar::shipped().expect("calendar");
        // 21:30 UTC on Friday 28 August 2026 is 22:30 BST, still Friday in Wales; Monday
        // 31 August is the summer bank holiday, so the next working day is Tuesday 1 September.
        let from = Utc
            .with_ymd_and_hms(2026, 8, 28, 21, 30, 0)
            .single()
            .expect("time");
        let due = due_at(&spec(Some(1), None, None), from, &cal);
        assert_eq!(due.to_rfc3339(), "2026-09-01T22:59:59+00:00");
    }

    #[test]
    fn late_evening_utc_is_already_tomorrow_in_summer() {
        let cal = WorkingCalendar::shipped().expect("calendar");
        // 23:30 UTC on Thursday 2 July 2026 is 00:30 BST on Friday: one working day is Monday.
        let from = Utc
            .with_ymd_and_hms(2026, 7, 2, 23, 30, 0)
            .single()
            .expect("time");
        let due = due_at(&spec(Some(1), None, None), from, &cal);
        assert_eq!(due.to_rfc3339(), "2026-07-06T22:59:59+00:00");
    }

    #[test]
    fn hours_cross_the_spring_clock_change_exactly() {
        let cal = WorkingCalendar::shipped().expect("calendar");
        let from = Utc
            .with_ymd_and_hms(2026, 3, 28, 12, 0, 0)
            .single()
            .expect("time");
        let due = due_at(&spec(None, Some(24), None), from, &cal);
        assert_eq!(due - from, Duration::hours(24));
    }

    #[test]
    fn months_clamp_to_month_end() {
        let cal = WorkingCalendar::shipped().expect("calendar");
        let from = Utc
            .with_ymd_and_hms(2026, 11, 30, 10, 0, 0)
            .single()
            .expect("time");
        let due = due_at(&spec(None, None, Some(3)), from, &cal);
        assert_eq!(due.to_rfc3339(), "2027-02-28T23:59:59+00:00");
    }
}
