//! The two languages of the service. Every text a person reads exists in Welsh and English.
pub mod catalogue;
pub mod review;
pub mod search;

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

impl Language {
    /// The language an `Accept-Language` header asks for first, of the two; none when it asks
    /// for neither.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim().to_ascii_lowercase();
                let q = it
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|v| v.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                let lang = match tag.split('-').next()? {
                    "cy" => Language::Welsh,
                    "en" => Language::English,
                    _ => return None,
                };
                Some((q, lang))
            })
            .fold(None, |best: Option<(f32, Language)>, (q, l)| match best {
                Some((bq, _)) if bq >= q => best,
                _ => Some((q, l)),
            })
            .map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn the_first_of_the_two_languages_asked_for() {
        assert_eq!(
            Language::from_accept_language("cy-GB,cy;q=0.9,en;q=0.8"),
            Some(Language::Welsh)
        );
        assert_eq!(
            Language::from_accept_language("en-GB,en;q=0.9"),
            Some(Language::English)
        );
        assert_eq!(
            Language::from_accept_language("fr, en;q=0.5, cy;q=0.7"),
            Some(Language::Welsh)
        );
        assert_eq!(Language::from_accept_language("fr"), None);
    }
}

/// A text in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Text {
    pub en: String,
    pub cy: String,
}

impl Text {
    pub fn new(en: impl Into<String>, cy: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            cy: cy.into(),
        }
    }

    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::English => &self.en,
            Language::Welsh => &self.cy,
        }
    }
}

/// For a page in both languages: which comes first, for `{{#if welsh_first}}`.
pub fn order(first: Language) -> serde_json::Value {
    serde_json::json!({
        "first": first.code(),
        "second": first.other().code(),
        "welsh_first": first == Language::Welsh,
    })
}

/// A phrase written for the middle of a sentence ("strategy meeting"), as a heading starts it.
pub fn sentence_start(phrase: &str) -> String {
    let mut chars = phrase.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
