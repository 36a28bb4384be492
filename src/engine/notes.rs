//! Guidance that applies to some children only: what the practice guide says about a child who
//! needs an interpreter, is disabled or sensory-impaired, or is seeking asylum alone. A note
//! holds while its condition holds on the case's facts, at the steps it names (all when none),
//! and some also tell a chair what to book for each meeting with the child.
use serde::Serialize;
use serde_json::{Map, Value};

use super::definition::{Note, WorkflowFile};
use super::guards::when_holds;
use super::Engine;
use crate::i18n::Language;

/// A note as a reader sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NoteView {
    pub text: String,
    pub rules: Vec<String>,
}

fn holds(n: &Note, facts: &Map<String, Value>) -> bool {
    // Notes test facts only, and always have a condition (validation refuses a case condition
    // and a note without one), so no case fields are given.
    when_holds(n.when.as_ref(), &n.when_any, facts, &Map::new())
}

/// The notes of `file` that apply at `state` to a case with these facts, in the file's order.
pub fn applying<'a>(
    file: &'a WorkflowFile,
    state: &str,
    facts: &Map<String, Value>,
) -> Vec<&'a Note> {
    file.notes
        .iter()
        .filter(|n| n.states.is_empty() || n.states.iter().any(|s| s == state))
        .filter(|n| holds(n, facts))
        .collect()
}

fn shown(n: &Note, lang: Language) -> NoteView {
    NoteView {
        text: n.text_in(lang).to_string(),
        rules: n.rules.clone(),
    }
}

impl Engine {
    /// The notes that hold for a case at its step of this version of a workflow.
    pub fn notes_at(
        &self,
        workflow: &str,
        version: u32,
        state: &str,
        facts: &Map<String, Value>,
        lang: Language,
    ) -> Vec<NoteView> {
        self.registry
            .get(workflow, version)
            .map(|wf| {
                applying(&wf.def, state, facts)
                    .into_iter()
                    .map(|n| shown(n, lang))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What to book for each meeting with a child whose case has these facts: the main
    /// pathway's notes for meetings, from its newest version, whatever the case's step.
    pub fn to_book(&self, facts: &Map<String, Value>, lang: Language) -> Vec<NoteView> {
        self.registry
            .primary()
            .def
            .notes
            .iter()
            .filter(|n| n.meetings && holds(n, facts))
            .map(|n| shown(n, lang))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> WorkflowFile {
        toml::from_str(
            r#"
name = "notes"
version = 1
title = "t"
description = "d"
initial = "a"
states = [{ id = "a", title = "A", guidance = "g", terminal = true }, { id = "b", title = "B", guidance = "g", terminal = true }]

[[notes]]
when = { fact = "needs", contains = "interpreter" }
meetings = true
text = "Book an interpreter"
text_cy = "Trefnwch ddehonglydd"

[[notes]]
when = { fact = "seeking_asylum", equals = true }
states = ["b"]
text = "Only at b"
"#,
        )
        .expect("parses")
    }

    #[test]
    fn a_note_holds_only_while_its_condition_holds_and_at_its_steps() {
        let f = file();
        let facts = |v: Value| v.as_object().cloned().expect("object");
        let texts = |state: &str, v: Value| -> Vec<String> {
            applying(&f, state, &facts(v))
                .into_iter()
                .map(|n| n.text_in(Language::Welsh).to_string())
                .collect()
        };
        assert_eq!(
            texts(
                "a",
                json!({"needs": {"interpreter": true}, "seeking_asylum": true})
            ),
            vec!["Trefnwch ddehonglydd"]
        );
        assert_eq!(
            texts(
                "b",
                json!({"needs": {"interpreter": false}, "seeking_asylum": true})
            ),
            vec!["Only at b"]
        );
        assert_eq!(texts("b", json!({})), Vec::<String>::new());
    }
}
