//! Reference data the service is given rather than told by its users: the agencies of Wales and
//! the working-day calendar with the England and Wales bank holidays.
pub mod agencies;
pub mod calendar;
pub mod retention;

/// The start of every case reference (CSE-2026-000123), in the service and on its pages. Subject
/// lines of emails, which travel in clear text and show on lock screens, put a neutral prefix in
/// its place (`SAFEGUARD_SUBJECT_REFERENCE_PREFIX`).
pub const CASE_REFERENCE_PREFIX: &str = "CSE-";

/// The neutral prefix that stands for `CASE_REFERENCE_PREFIX` in subject lines by default.
pub const DEFAULT_SUBJECT_REFERENCE_PREFIX: &str = "Ref ";

/// `text` with each case reference's prefix replaced by `prefix` (`Ref 2026-000123`).
pub fn neutral_references(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(CASE_REFERENCE_PREFIX) {
        let after = &rest[at + CASE_REFERENCE_PREFIX.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(prefix);
        } else {
            out.push_str(CASE_REFERENCE_PREFIX);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Where `text` gives a case reference (the prefix, then the year and number), as byte ranges.
pub fn case_reference_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(CASE_REFERENCE_PREFIX) {
        let start = from + found;
        let digits = start + CASE_REFERENCE_PREFIX.len();
        let end = digits
            + text[digits..]
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(text.len() - digits);
        let end = text[..end].trim_end_matches('-').len().max(digits);
        if end > digits {
            spans.push((start, end));
        }
        from = end.max(digits);
    }
    spans
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_references_lose_their_prefix() {
        assert_eq!(
            super::neutral_references(
                "Invitation (CSE-2026-000001, CSE-2026-000002) CSE-x",
                "Ref "
            ),
            "Invitation (Ref 2026-000001, Ref 2026-000002) CSE-x"
        );
    }

    #[test]
    fn references_are_found_where_they_stand() {
        let text = "See CSE-2026-000002, and CSE-2027-000010. CSE-x";
        let found: Vec<&str> = super::case_reference_spans(text)
            .into_iter()
            .map(|(a, b)| &text[a..b])
            .collect();
        assert_eq!(found, ["CSE-2026-000002", "CSE-2027-000010"]);
    }
}
