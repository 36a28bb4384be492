//! The rule that keeps a child's name out of everything that leaves by email.
/// Whether `text` contains a part of the child's name (any word of three or more letters),
/// ignoring case. Text that goes into an email is checked: emails must not name a child.
pub fn names_child(text: &str, child_name: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    };
    // Words of synthetic placeholder names ("Test Child Alpha", "Demo Child A") are not name
    // parts: "the child" must stay writable.
    const PLACEHOLDERS: &[&str] = &["child", "test", "demo"];
    let name_parts: Vec<String> = words(child_name)
        .into_iter()
        .filter(|w| !PLACEHOLDERS.contains(&w.as_str()))
        .collect();
    words(text).iter().any(|w| name_parts.contains(w))
}

#[cfg(test)]
mod name_tests {
    use super::names_child;

    #[test]
    fn finds_any_part_of_the_name_as_a_whole_word() {
        assert!(names_child("Spoke to ALPHA's mother", "Test Child Alpha"));
        assert!(!names_child("Alphabet soup was served", "Test Child Alpha"));
        assert!(
            !names_child("Met at school", "Jo Li"),
            "short name parts are not matched alone"
        );
        assert!(
            !names_child("The child has moved", "Test Child Alpha"),
            "placeholder words are not names"
        );
    }
}
