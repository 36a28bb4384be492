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

/// Where `text` gives a case reference, as byte ranges: its year and number (`2026-000123`),
/// with the prefix before them when there is one in any case (`CSE-`, `cse-`). Written with
/// the neutral prefix of subject lines ("Ref 2026-000123"), the year and number are found.
pub fn case_reference_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let digits = |from: usize, n: usize| {
        bytes.len() >= from + n && bytes[from..from + n].iter().all(u8::is_ascii_digit)
    };
    // A letter of any alphabet joins a word: a byte outside ASCII is part of one.
    let in_word = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
    let bounded = |at: usize| at >= bytes.len() || !in_word(bytes[at]);
    let prefix = CASE_REFERENCE_PREFIX.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_here = (i == 0 || !in_word(bytes[i - 1]))
            || (i >= prefix.len() && bytes[i - prefix.len()..i].eq_ignore_ascii_case(prefix));
        if starts_here
            && digits(i, 4)
            && bytes.get(i + 4) == Some(&b'-')
            && digits(i + 5, 6)
            && bounded(i + 11)
        {
            let start =
                if i >= prefix.len() && bytes[i - prefix.len()..i].eq_ignore_ascii_case(prefix) {
                    i - prefix.len()
                } else {
                    i
                };
            spans.push((start, i + 11));
            i += 11;
        } else {
            i += 1;
        }
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
        let text = "See CSE-2026-000002, cse-2027-000010 and Ref 2026-000003. CSE-x, 12026-0000031, ŵ2026-000004";
        let found: Vec<&str> = super::case_reference_spans(text)
            .into_iter()
            .map(|(a, b)| &text[a..b])
            .collect();
        assert_eq!(found, ["CSE-2026-000002", "cse-2027-000010", "2026-000003"]);
    }
}
