//! Dates and times as people in Wales read them, in English and Welsh.
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Europe::London;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Welsh,
}

impl Language {
    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "en" => Some(Language::English),
            "cy" => Some(Language::Welsh),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Welsh => "cy",
        }
    }

    pub fn other(self) -> Language {
        match self {
            Language::English => Language::Welsh,
            Language::Welsh => Language::English,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
