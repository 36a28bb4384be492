//! Names as search compares them. Welsh writes the circumflex (to bach) on every vowel,
//! including ŵ and ŷ, and people type names without it: "Sian" must find "Siân". Folding takes
//! the canonical decomposition (NFD), drops the combining marks and lowers the case, so both
//! sides of the comparison meet in one form.
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A `LIKE` pattern that finds `typed` anywhere in a folded value; `%`, `_` and the escape
/// itself match only themselves.
pub fn contains_pattern(typed: &str) -> String {
    let folded = fold(typed.trim());
    let mut pattern = String::with_capacity(folded.len() + 2);
    pattern.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_welsh_accent_folds_to_its_letter() {
        assert_eq!(fold("Siân"), "sian");
        assert_eq!(fold("ŴŶ ŵŷ"), "wy wy");
        assert_eq!(
            fold("Âäàá Êëèé Îïìí Ôöòó Ûüùú Ŷÿỳý Ŵẅẁẃ"),
            "aaaa eeee iiii oooo uuuu yyyy wwww"
        );
        // Already decomposed input (a combining circumflex typed after the letter) folds alike.
        assert_eq!(fold("Sia\u{0302}n"), "sian");
    }

    #[test]
    fn a_pattern_matches_its_wildcards_only_literally() {
        assert_eq!(contains_pattern(" Siân "), "%sian%");
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
