//! The one message catalogue: every word the service says that is not a whole email template or
//! a workflow text, in Project Fluent's format, one folder per language
//! (`templates/i18n/{en,cy}/*.ftl`). Fluent knows Welsh's six plural categories (zero, one,
//! two, few, many, other) and English's two. Both languages must hold the same messages, and
//! every message must format, or the service does not start.
use std::collections::BTreeMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use super::Language;
use crate::error::AppError;
use crate::shipped::Folder;

pub struct Catalogue {
    english: FluentBundle<FluentResource>,
    welsh: FluentBundle<FluentResource>,
    /// Every message id, and the file it came from (for the export).
    ids: BTreeMap<String, String>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Catalogue({} messages)", self.ids.len())
    }
}

/// An argument to a message: a word or a number (numbers choose the plural form).
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

fn bundle(lang: Language) -> FluentBundle<FluentResource> {
    let id = match lang {
        Language::English => unic_langid::langid!("en-GB"),
        Language::Welsh => unic_langid::langid!("cy"),
    };
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No bidi isolation marks around values: the text goes into HTML and email as it is.
    b.set_use_isolating(false);
    b
}

/// The `.ftl` files of one language's folder, with their names, in order.
/// The `.ftl` files of `sub`, by name, with their text.
fn files(folder: &Folder, sub: &str) -> Result<Vec<(String, String)>, AppError> {
    folder
        .names(sub, "ftl")?
        .into_iter()
        .map(|name| Ok((name.clone(), folder.read(&format!("{sub}/{name}"))?.text)))
        .collect()
}

/// A file the catalogue cannot take, with everything wrong in it.
fn refused(lang: Language, file: &str, errors: &[impl std::fmt::Display]) -> AppError {
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    AppError::Startup(format!("i18n/{}/{file}: {}", lang.code(), all.join("; ")))
}

fn message_ids(resource: &FluentResource) -> Vec<String> {
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

impl Catalogue {
    /// Loads `i18n/en` and `i18n/cy` of the templates; a file in the operator's folder
    /// (`i18n/<lang>/<file>.ftl`) takes the place of the shipped file of the same name.
    pub fn load(templates: &Folder) -> Result<Catalogue, AppError> {
        let mut english = bundle(Language::English);
        let mut welsh = bundle(Language::Welsh);
        let mut ids_of: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
        for (lang, target) in [
            (Language::English, &mut english),
            (Language::Welsh, &mut welsh),
        ] {
            let chosen: BTreeMap<String, String> =
                files(templates, &format!("i18n/{}", lang.code()))?
                    .into_iter()
                    .collect();
            let mut ids = BTreeMap::new();
            for (name, text) in chosen {
                let resource = FluentResource::try_new(text)
                    .map_err(|(_, errors)| refused(lang, &name, &errors))?;
                for id in message_ids(&resource) {
                    ids.insert(id, name.clone());
                }
                target
                    .add_resource(resource)
                    .map_err(|errors| refused(lang, &name, &errors))?;
            }
            ids_of.insert(lang.code(), ids);
        }
        let (en, cy) = (&ids_of["en"], &ids_of["cy"]);
        if let Some(missing) = en.keys().find(|k| !cy.contains_key(*k)) {
            return Err(AppError::Startup(format!(
                "i18n: message {missing:?} is in English ({}) but not in Welsh",
                en[missing]
            )));
        }
        if let Some(missing) = cy.keys().find(|k| !en.contains_key(*k)) {
            return Err(AppError::Startup(format!(
                "i18n: message {missing:?} is in Welsh ({}) but not in English",
                cy[missing]
            )));
        }
        let catalogue = Catalogue {
            ids: en.clone(),
            english,
            welsh,
        };
        catalogue.check()?;
        Ok(catalogue)
    }

    fn bundle(&self, lang: Language) -> &FluentBundle<FluentResource> {
        match lang {
            Language::English => &self.english,
            Language::Welsh => &self.welsh,
        }
    }

    /// Formats every message with sample values for its variables: one that does not format
    /// stops the service.
    fn check(&self) -> Result<(), AppError> {
        for id in self.ids.keys() {
            for lang in [Language::English, Language::Welsh] {
                let b = self.bundle(lang);
                let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
                    return Err(AppError::Startup(format!(
                        "i18n/{}: message {id:?} has no value",
                        lang.code()
                    )));
                };
                let mut args = FluentArgs::new();
                for name in [
                    "count",
                    "field",
                    "time",
                    "idle",
                    "hours",
                    "max",
                    "value",
                    "date",
                    "name",
                    "reference",
                    "days",
                    "when",
                    "who",
                    "kind",
                    "references",
                    "starts",
                    "ends",
                    "location",
                    "answer",
                    "due",
                    "status",
                    "sent_to",
                    "minutes",
                    "accepted",
                    "declined",
                    "pending",
                    "number",
                    "what",
                    "with",
                    "basis",
                    "decided_by",
                    "by",
                ] {
                    args.set(name, FluentValue::from(2));
                }
                let mut errors = Vec::new();
                b.format_pattern(pattern, Some(&args), &mut errors);
                if !errors.is_empty() {
                    return Err(AppError::Startup(format!(
                        "i18n/{}: message {id:?} does not format: {errors:?}",
                        lang.code()
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn has(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// The message, or its id where there is none (which `check` and the tests rule out).
    pub fn get(&self, lang: Language, id: &str) -> String {
        self.format(lang, id, &[])
    }

    pub fn format(&self, lang: Language, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let b = self.bundle(lang);
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(t) => fluent_args.set(*name, FluentValue::from(*t)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        b.format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    /// Every message without variables, formatted: the pages' `t`.
    pub fn words(&self, lang: Language) -> serde_json::Map<String, serde_json::Value> {
        self.ids
            .keys()
            .map(|id| (id.clone(), serde_json::Value::String(self.get(lang, id))))
            .collect()
    }

    /// Every message id, with the file it is in.
    pub fn ids(&self) -> &BTreeMap<String, String> {
        &self.ids
    }
}

/// `{{tr "message" count=n}}`: a message with variables, in the page's language (`lang` of the
/// page's data). Numbers choose the plural form (six in Welsh).
/// The catalogue, and whether what it writes is escaped for HTML.
pub struct Translate(pub std::sync::Arc<Catalogue>, pub bool);

impl handlebars::HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        _: &'reg handlebars::Handlebars<'reg>,
        ctx: &'rc handlebars::Context,
        _: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        let id = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or_else(|| handlebars::RenderErrorReason::ParamNotFoundForIndex("tr", 0))?;
        // `in="cy"` asks for one language on a page that shows both; else the page's own.
        let lang = h
            .hash_get("in")
            .and_then(|v| v.value().as_str())
            .or_else(|| ctx.data().get("lang").and_then(serde_json::Value::as_str))
            .and_then(Language::parse)
            .unwrap_or(Language::English);
        let texts: Vec<(String, String)> = h
            .hash()
            .iter()
            .filter(|(k, _)| **k != "in")
            .filter_map(|(k, v)| v.value().as_str().map(|s| (k.to_string(), s.to_string())))
            .collect();
        let numbers: Vec<(String, i64)> = h
            .hash()
            .iter()
            .filter_map(|(k, v)| v.value().as_i64().map(|n| (k.to_string(), n)))
            .collect();
        let mut args: Vec<(&str, Arg<'_>)> = texts
            .iter()
            .map(|(k, v)| (k.as_str(), Arg::Text(v)))
            .collect();
        args.extend(numbers.iter().map(|(k, n)| (k.as_str(), Arg::Number(*n))));
        let text = self.0.format(lang, id, &args);
        if self.1 {
            out.write(&handlebars::html_escape(&text))?;
        } else {
            out.write(&text)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Catalogue {
        Catalogue::load(&Folder::templates(None, None)).expect("the catalogue loads")
    }

    #[test]
    fn working_days_take_the_right_plural_in_both_languages() {
        let c = shipped();
        let days = |lang, n| c.format(lang, "working_days", &[("count", Arg::Number(n))]);
        let counts = [0, 1, 2, 3, 6, 11];
        let english: Vec<String> = counts.iter().map(|n| days(Language::English, *n)).collect();
        assert_eq!(
            english,
            [
                "0 working days",
                "1 working day",
                "2 working days",
                "3 working days",
                "6 working days",
                "11 working days"
            ]
        );
        // After 2 the noun softens (dau ddiwrnod); the other forms keep it.
        let welsh: Vec<String> = counts.iter().map(|n| days(Language::Welsh, *n)).collect();
        assert_eq!(
            welsh,
            [
                "0 diwrnod gwaith",
                "1 diwrnod gwaith",
                "2 ddiwrnod gwaith",
                "3 diwrnod gwaith",
                "6 diwrnod gwaith",
                "11 diwrnod gwaith"
            ]
        );
    }

    /// The six Welsh categories (CLDR): 0 zero, 1 one, 2 two, 3 few, 6 many, the rest other.
    #[test]
    fn welsh_chooses_among_six_plural_forms() {
        let mut b = bundle(Language::Welsh);
        let ftl = "n = { $count ->\n [zero] zero\n [one] one\n [two] two\n [few] few\n [many] many\n *[other] other\n}\n";
        b.add_resource(FluentResource::try_new(ftl.to_string()).expect("parses"))
            .expect("adds");
        let pattern = b.get_message("n").and_then(|m| m.value()).expect("n");
        let form = |n: i64| {
            let mut args = FluentArgs::new();
            args.set("count", FluentValue::from(n));
            b.format_pattern(pattern, Some(&args), &mut vec![])
                .to_string()
        };
        let forms: Vec<String> = [0, 1, 2, 3, 6, 11, 100].iter().map(|n| form(*n)).collect();
        assert_eq!(
            forms,
            ["zero", "one", "two", "few", "many", "other", "other"]
        );
    }

    /// Every code the source can answer with has a message in both languages: a code written
    /// in an `AppError` constructor or a `code: "…"` field, anywhere under `src/`.
    #[test]
    fn every_error_code_in_the_source_has_a_message_in_both_languages() {
        let c = shipped();
        let mut codes = std::collections::BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source");
                for opener in ["bad_request(", "unprocessable(", "code: \""] {
                    for (i, _) in text.match_indices(opener) {
                        let after = text[i + opener.len()..].trim_start();
                        let after = after.strip_prefix('"').unwrap_or(after);
                        let code: String = after
                            .chars()
                            .take_while(|ch| ch.is_ascii_lowercase() || *ch == '_')
                            .collect();
                        if code.len() > 2 && after[code.len()..].starts_with('"') {
                            codes.insert(code);
                        }
                    }
                }
            }
        }
        for fixed in [
            "unauthorized",
            "forbidden",
            "not_found",
            "payload_too_large",
        ] {
            codes.insert(fixed.to_string());
        }
        let missing: Vec<&String> = codes
            .iter()
            .filter(|code| !c.has(&format!("error_{code}")))
            .collect();
        assert!(missing.is_empty(), "codes without a message: {missing:?}");
        assert!(codes.len() > 50, "only {} codes found", codes.len());
        println!(
            "{} error codes, each with a message in English and Welsh",
            codes.len()
        );
    }
}
