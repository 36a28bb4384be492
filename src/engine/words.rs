//! What the workflow files say, in the reader's language, for what is already stored: the
//! title of an action a workflow created, the source of a step's deadline, a step's title. A
//! running case keeps its version; a version stored before workflows were bilingual is worded
//! from the newest version of the same workflow where the same name has Welsh, else in English.
use super::definition::{ActionKind, State};
use super::registry::Workflow;
use super::Engine;
use crate::i18n::Language;

impl Engine {
    /// The workflow a case runs, and the newest version of it, for its words.
    fn versions(
        &self,
        workflow: &str,
        version: u32,
    ) -> (
        Option<std::sync::Arc<Workflow>>,
        Option<std::sync::Arc<Workflow>>,
    ) {
        (
            self.registry.get(workflow, version),
            self.registry.latest(workflow),
        )
    }

    /// A step's title: the case's version's, in Welsh from the newest version if it has none.
    pub fn state_title(&self, workflow: &str, version: u32, state: &str, lang: Language) -> String {
        let (wf, latest) = self.versions(workflow, version);
        let pick = |s: Option<&State>, l: Option<&State>| -> Option<String> {
            let s = s?;
            match (lang, &s.title_cy, l.and_then(|l| l.title_cy.clone())) {
                (Language::Welsh, Some(cy), _) => Some(cy.clone()),
                (Language::Welsh, None, Some(cy)) => Some(cy),
                _ => Some(s.title.clone()),
            }
        };
        pick(
            wf.as_ref().and_then(|w| w.state(state)),
            latest.as_ref().and_then(|w| w.state(state)),
        )
        .unwrap_or_else(|| state.to_string())
    }

    pub fn state_guidance(
        &self,
        workflow: &str,
        version: u32,
        state: &str,
        lang: Language,
    ) -> String {
        let (wf, latest) = self.versions(workflow, version);
        let s = wf.as_ref().and_then(|w| w.state(state));
        let l = latest.as_ref().and_then(|w| w.state(state));
        match (lang, s, l) {
            (Language::Welsh, Some(s), l) => s
                .guidance_cy
                .clone()
                .or_else(|| l.and_then(|l| l.guidance_cy.clone()))
                .unwrap_or_else(|| s.guidance.clone()),
            (_, Some(s), _) => s.guidance.clone(),
            _ => String::new(),
        }
    }

    /// Where a stored deadline comes from, in the reader's words: the step's own source (or a
    /// transition's that set it), found by its English, else the stored sentence.
    pub fn deadline_source(
        &self,
        workflow: &str,
        version: u32,
        stored: &str,
        lang: Language,
    ) -> String {
        if lang == Language::English {
            return stored.to_string();
        }
        let (wf, latest) = self.versions(workflow, version);
        for w in [wf, latest].into_iter().flatten() {
            let specs = w
                .def
                .states
                .iter()
                .filter_map(|s| s.deadline.as_ref())
                .chain(w.def.transitions.iter().filter_map(|t| t.deadline.as_ref()))
                .chain(
                    w.def
                        .review_kinds
                        .values()
                        .flat_map(|k| [&k.first, &k.then]),
                );
            for spec in specs {
                if spec.source == stored {
                    if let Some(cy) = &spec.source_cy {
                        return cy.clone();
                    }
                }
            }
        }
        stored.to_string()
    }

    /// The action kind of that name in any workflow (its newest version).
    pub fn action_kind(&self, kind: &str) -> Option<ActionKind> {
        self.registry
            .latest_all()
            .iter()
            .find_map(|w| w.def.action_kinds.get(kind).cloned())
    }

    /// An agreed action's title: a workflow's own action in the reader's words; what people
    /// typed, as typed.
    pub fn action_title(&self, kind: Option<&str>, stored: &str, lang: Language) -> String {
        match kind.and_then(|k| self.action_kind(k)) {
            Some(k) => k.title_in(lang).to_string(),
            None => stored.to_string(),
        }
    }

    /// A review kind's title, as the main pathway names it.
    pub fn review_title(&self, kind: &str, lang: Language) -> String {
        self.registry
            .primary()
            .def
            .review_kinds
            .get(kind)
            .map(|k| k.title_in(lang).to_string())
            .unwrap_or_else(|| kind.to_string())
    }

    /// An event's title, in the case's version of the workflow (Welsh from the newest).
    pub fn event_title(&self, workflow: &str, version: u32, event: &str, lang: Language) -> String {
        let (wf, latest) = self.versions(workflow, version);
        let find = |w: &Option<std::sync::Arc<Workflow>>| {
            w.as_ref()
                .and_then(|w| w.def.transitions.iter().find(|t| t.event == event).cloned())
        };
        match (find(&wf), find(&latest)) {
            (Some(t), l) => match (lang, &t.title_cy, l.and_then(|l| l.title_cy)) {
                (Language::Welsh, Some(cy), _) => cy.clone(),
                (Language::Welsh, None, Some(cy)) => cy,
                _ => t.title.clone(),
            },
            (None, Some(l)) => l.title_in(lang).to_string(),
            (None, None) => event.replace('_', " "),
        }
    }
}
