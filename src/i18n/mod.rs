//! The two languages of the service. Every text a person reads exists in Welsh and English.

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
