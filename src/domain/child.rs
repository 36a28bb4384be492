//! The rule that keeps a child's name out of everything that leaves by email (ARCHITECTURE.md,
//! "The child-name check"). It protects one thing: nobody reading an email learns which child
//! it is about from its words; the case reference stands for the child.
//!
//! - The child's whole name (its parts in order, whatever the case or accents) is refused
//!   everywhere, people's names included.
//! - In a person's name (an invitee, an action's owner) nothing less is refused: a police
//!   officer or a parent may share the child's family name, and it is their own name.
//! - In free text (a summary, a reason, an action's title, a place), any part of the name is
//!   refused, the family name too: "the mother", never "Mrs Jones". A part that is also an
//!   ordinary word in English or Welsh (`reference/name-words.txt`: will, may, Seren, Haf,
//!   Eira) is refused only where it is written as a name, with a capital letter and not at the
//!   start of a sentence; so "Police will visit" passes for a child called Will, and "spoke to
//!   Will" does not.
//! - Parts shorter than three letters are matched only within the whole name.
use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::json;

use crate::error::AppError;
use crate::i18n::search::fold;

const NAME_WORDS: &str = include_str!("../../reference/name-words.txt");

/// Words of synthetic placeholder names ("Test Child Alpha", "Demo Child A"): not name parts,
/// so that "the child" stays writable.
pub(super) const PLACEHOLDERS: &[&str] = &["child", "test", "demo"];

fn ordinary_words() -> &'static HashSet<String> {
    static WORDS: OnceLock<HashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        NAME_WORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(fold)
            .collect()
    })
}

/// Where an emailed text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emailed {
    /// Someone's name: an invitee, an action's owner.
    PersonName,
    /// Anything else that is written.
    Text,
}

/// A word of a text, where it stands.
struct Word<'a> {
    text: &'a str,
    folded: String,
    /// First of its sentence: after the start, or after `.`, `!`, `?`, `:` or a line break.
    starts_sentence: bool,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    let mut sentence = true;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
            continue;
        }
        if let Some(s) = start.take() {
            out.push(word(text, s, i, sentence));
            sentence = false;
        }
        if matches!(c, '.' | '!' | '?' | ':' | '\n' | '\r') {
            sentence = true;
        }
    }
    if let Some(s) = start {
        out.push(word(text, s, text.len(), sentence));
    }
    out
}

fn word(text: &str, start: usize, end: usize, starts_sentence: bool) -> Word<'_> {
    let w = &text[start..end];
    Word {
        text: w,
        folded: fold(w),
        starts_sentence,
    }
}

/// Written as a name: a capital first letter, not all in capitals, not opening a sentence.
fn written_as_name(w: &Word<'_>) -> bool {
    let mut chars = w.text.chars();
    let capital = chars.next().is_some_and(char::is_uppercase);
    let shouting = w.text.chars().count() > 1 && w.text.chars().all(|c| !c.is_lowercase());
    capital && !shouting && !w.starts_sentence
}

/// The words of `text` that name the child, as typed: the whole name, or a part of it as the
/// rule above says. None when the text does not name the child.
pub fn child_named_in(text: &str, child_name: &str, kind: Emailed) -> Option<String> {
    let written: Vec<String> = words(child_name).into_iter().map(|w| w.folded).collect();
    let parts: Vec<String> = written
        .iter()
        .filter(|w| !PLACEHOLDERS.contains(&w.as_str()))
        .cloned()
        .collect();
    if parts.is_empty() {
        return None;
    }
    let found = words(text);
    // The whole name, its parts in order: as written, then without the placeholder words of a
    // synthetic name, unless what is left is a lone letter or two ("Demo Child A" is not named
    // by every "a").
    let whole = |name: &[String]| {
        let at = found
            .windows(name.len())
            .position(|win| win.iter().zip(name).all(|(w, p)| &w.folded == p))?;
        let (first, last) = (&found[at], &found[at + name.len() - 1]);
        let start = first.text.as_ptr() as usize - text.as_ptr() as usize;
        let end = last.text.as_ptr() as usize - text.as_ptr() as usize + last.text.len();
        Some(text[start..end].to_string())
    };
    if let Some(named) = whole(&written) {
        return Some(named);
    }
    if parts.len() > 1 || parts[0].chars().count() >= 3 {
        if let Some(named) = whole(&parts) {
            return Some(named);
        }
    }
    if kind == Emailed::PersonName && parts.len() > 1 {
        return None;
    }
    let ordinary = ordinary_words();
    found
        .iter()
        .find(|w| {
            parts.iter().any(|p| {
                p.chars().count() >= 3
                    && &w.folded == p
                    && (!ordinary.contains(p) || written_as_name(w))
            })
        })
        .map(|w| w.text.to_string())
}

/// Where `text` names a person, as byte ranges in order: the whole name wherever it stands,
/// then each part of two letters or more written alone (a part that is also an ordinary word
/// only where it starts with a capital, at the start of a sentence too), except the parts in
/// `spared` (the disclosed child's own). Used to redact a record, where a part left standing
/// would still name them: it errs towards taking out, and the reviewer sees each one.
pub fn name_spans(text: &str, name: &str, spared: &[String]) -> Vec<(usize, usize)> {
    let parts: Vec<String> = words(name)
        .into_iter()
        .map(|w| w.folded)
        .filter(|w| !PLACEHOLDERS.contains(&w.as_str()))
        .collect();
    if parts.is_empty() {
        return Vec::new();
    }
    let found = words(text);
    let at = |w: &Word<'_>| w.text.as_ptr() as usize - text.as_ptr() as usize;
    let mut spans = Vec::new();
    let mut i = 0;
    while i < found.len() {
        let whole = found.len() - i >= parts.len()
            && found[i..i + parts.len()]
                .iter()
                .zip(&parts)
                .all(|(w, p)| &w.folded == p);
        if whole {
            let last = &found[i + parts.len() - 1];
            spans.push((at(&found[i]), at(last) + last.text.len()));
            i += parts.len();
            continue;
        }
        let w = &found[i];
        let capital = w.text.chars().next().is_some_and(char::is_uppercase);
        let part = parts.iter().any(|p| {
            p.chars().count() >= 2
                && &w.folded == p
                && !spared.contains(p)
                && (!ordinary_words().contains(p) || capital)
        });
        if part {
            spans.push((at(w), at(w) + w.text.len()));
        }
        i += 1;
    }
    spans
}

/// The folded parts of a name, for `name_spans`'s `spared`.
pub fn name_parts(name: &str) -> Vec<String> {
    words(name).into_iter().map(|w| w.folded).collect()
}

/// Whether free text names the child.
pub fn names_child(text: &str, child_name: &str) -> bool {
    child_named_in(text, child_name, Emailed::Text).is_some()
}

/// Refuses a text that is emailed and names the child, saying which input and which word.
pub fn refuse_named(
    text: &str,
    child_name: &str,
    field: &str,
    kind: Emailed,
) -> Result<(), AppError> {
    match child_named_in(text, child_name, kind) {
        None => Ok(()),
        Some(word) => Err(AppError::Unprocessable {
            code: "child_named",
            field: Some(field.to_string()),
            message: format!(
                "{field} contains {word:?}, which names the child, and it goes into emails; use the case reference"
            ),
            details: Some(json!({"word": word})),
        }),
    }
}

#[cfg(test)]
mod name_tests {
    use super::{child_named_in, names_child, Emailed};

    #[test]
    fn a_synthetic_name_of_one_letter_is_named_only_in_full() {
        assert_eq!(
            child_named_in("Agreed a plan with a nurse", "Demo Child A", Emailed::Text),
            None
        );
        assert_eq!(
            child_named_in("Spoke to Demo Child A today", "Demo Child A", Emailed::Text),
            Some("Demo Child A".to_string())
        );
    }

    #[test]
    fn finds_any_part_of_the_name_as_a_whole_word() {
        assert!(names_child("Spoke to ALPHA's mother", "Test Child Alpha"));
        assert!(!names_child("Alphabet soup was served", "Test Child Alpha"));
        assert!(
            !names_child("Met at school", "Jo Li"),
            "short name parts are not matched alone"
        );
        assert!(
            names_child("Met Jo Li at school", "Jo Li"),
            "but the whole name is"
        );
        assert!(
            !names_child("The child has moved", "Test Child Alpha"),
            "placeholder words are not names"
        );
    }

    #[test]
    fn an_ordinary_word_is_a_name_only_where_it_is_written_as_one() {
        let child = "Will Jones";
        assert!(!names_child("Police will visit on Monday", child));
        assert!(!names_child(
            "Will attend the review. Will report back.",
            child
        ));
        assert_eq!(
            child_named_in("Police spoke to Will at school", child, Emailed::Text).as_deref(),
            Some("Will")
        );
        assert!(
            names_child("Spoke to will jones", child),
            "the whole name, any case"
        );
        // Welsh given names that are also words: seren (star), haf (summer), eira (snow).
        assert!(!names_child(
            "Mae’r seren yn disgleirio; bydd yr haf yn boeth",
            "Seren Haf Eira"
        ));
        assert!(names_child("Siaradwyd â Seren yn yr ysgol", "Seren Lewis"));
        assert!(names_child("Ymwelodd Eira â’r ysgol", "Eira Morgan"));
    }

    #[test]
    fn a_person_may_share_the_family_name_but_not_the_whole_name() {
        let child = "Will Jones";
        assert_eq!(
            child_named_in("DC Rhys Jones", child, Emailed::PersonName),
            None
        );
        assert_eq!(
            child_named_in("Will Smith", child, Emailed::PersonName),
            None
        );
        assert_eq!(
            child_named_in("Mr WILL JONES", child, Emailed::PersonName).as_deref(),
            Some("WILL JONES")
        );
        // In free text the family name points to the family: "the mother", not "Mrs Jones".
        assert_eq!(
            child_named_in("Mrs Jones attended", child, Emailed::Text).as_deref(),
            Some("Jones")
        );
        // Accents do not hide a name.
        assert!(names_child("Spoke to Sian", "Siân Owen"));
    }
}
