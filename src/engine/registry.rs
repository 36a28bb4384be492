//! Loads every workflow file, validates it, and keeps each version a running case may need.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::assessment::Assessment;
use super::contract::WorkflowRole;
use super::definition::{State, Transition, WorkflowFile};
use super::validate::{missing_welsh, validate};
use crate::error::AppError;
use crate::shipped::Folder;

#[derive(Debug)]
pub struct Workflow {
    pub def: WorkflowFile,
    pub origin: String,
    pub source: String,
    pub sha256: String,
    /// Facts whose guards are met only by the value sent with the event itself.
    pub per_event: BTreeSet<String>,
    states: HashMap<String, usize>,
    transitions: HashMap<(String, String), usize>,
}

impl Workflow {
    /// A workflow file on disk: valid, and bilingual throughout.
    pub fn parse_file(source: &str, origin: &str) -> Result<Workflow, AppError> {
        let wf = Self::parse(source, origin)?;
        let missing = missing_welsh(&wf.def);
        if !missing.is_empty() {
            return Err(AppError::Startup(format!(
                "{origin}: workflow '{}' version {} has texts without their Welsh (every text needs both languages):\n  - {}",
                wf.def.name,
                wf.def.version,
                missing.join("\n  - ")
            )));
        }
        Ok(wf)
    }

    /// A workflow as stored: valid. (Versions stored before workflows were bilingual have no
    /// Welsh; they are still run, and shown in English.)
    pub fn parse(source: &str, origin: &str) -> Result<Workflow, AppError> {
        let def: WorkflowFile =
            toml::from_str(source).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
        if let Err(problems) = validate(&def) {
            return Err(AppError::Startup(format!(
                "{origin}: workflow '{}' version {} is invalid:\n  - {}",
                def.name,
                def.version,
                problems.join("\n  - ")
            )));
        }
        let states = def
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut transitions = HashMap::new();
        for (i, t) in def.transitions.iter().enumerate() {
            for from in &t.from {
                transitions.insert((from.clone(), t.event.clone()), i);
            }
        }
        Ok(Workflow {
            per_event: per_event_facts(&def),
            sha256: hex::encode(Sha256::digest(source.as_bytes())),
            source: source.to_string(),
            origin: origin.to_string(),
            def,
            states,
            transitions,
        })
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    pub fn version(&self) -> u32 {
        self.def.version
    }

    pub fn state(&self, id: &str) -> Option<&State> {
        self.states.get(id).map(|i| &self.def.states[*i])
    }

    pub fn transition(&self, state: &str, event: &str) -> Option<&Transition> {
        self.transitions
            .get(&(state.to_string(), event.to_string()))
            .map(|i| &self.def.transitions[*i])
    }

    pub fn is_per_event(&self, fact: &str) -> bool {
        self.per_event.contains(fact)
    }

    pub fn has_event(&self, event: &str) -> bool {
        self.def.transitions.iter().any(|t| t.event == event)
    }

    pub fn transitions_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Transition> {
        self.def
            .transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state))
    }
}

/// Facts that belong to one event: marked so, required by an event that can happen again on the
/// same case (one whose starting state can be reached from where it leads), or the date a review
/// was held.
fn per_event_facts(def: &WorkflowFile) -> BTreeSet<String> {
    let reachable_from = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue = vec![start.to_string()];
        while let Some(s) = queue.pop() {
            if seen.insert(s.clone()) {
                for t in def.transitions.iter().filter(|t| t.from.contains(&s)) {
                    queue.push(t.to.clone());
                }
            }
        }
        seen
    };
    let mut out: BTreeSet<String> = def
        .facts
        .iter()
        .filter(|(_, f)| f.per_event)
        .map(|(n, _)| n.clone())
        .collect();
    for t in &def.transitions {
        let again = reachable_from(&t.to);
        if t.from.iter().any(|f| again.contains(f)) {
            for g in &t.guards {
                out.extend(g.requires.iter().chain(g.requires_true.iter()).cloned());
            }
        }
    }
    out.extend(
        def.review_kinds
            .values()
            .filter_map(|k| k.held_on_fact.clone()),
    );
    out
}

/// The folder of the workflows folder that holds the risk assessment.
const ASSESSMENTS: &str = "assessments";

/// Every loaded workflow, by name and version.
#[derive(Debug, Default)]
pub struct WorkflowRegistry {
    by_name: BTreeMap<String, BTreeMap<u32, Arc<Workflow>>>,
    /// The risk assessment of `assessments/`, if the folder has one.
    assessment: Option<Arc<Assessment>>,
}

impl WorkflowRegistry {
    /// Reads every `*.toml` in `dir`. Any invalid file stops the load with its problems.
    /// Every workflow file of `folder`: the shipped ones, with the operator's over them (a file
    /// of the same name replaces a shipped one; another is added).
    pub fn load(folder: &Folder) -> Result<WorkflowRegistry, AppError> {
        let mut registry = WorkflowRegistry::default();
        for name in folder.names("", "toml")? {
            let file = folder.read(&name)?;
            registry.insert(Workflow::parse_file(&file.text, &file.origin)?)?;
        }
        registry.check_whole()?;
        let assessments = folder.names_if_any(ASSESSMENTS, "toml")?;
        match assessments.as_slice() {
            [] => {}
            [one] => {
                let file = folder.read(&format!("{ASSESSMENTS}/{one}"))?;
                registry.assessment = Some(Arc::new(Assessment::parse(&file.text, &file.origin)?));
            }
            many => {
                return Err(AppError::Startup(format!(
                    "{ASSESSMENTS}/ may hold one risk assessment; it holds {}: {many:?}",
                    many.len()
                )))
            }
        }
        Ok(registry)
    }

    /// The workflow files of one folder on disk, and no others.
    pub fn load_dir(dir: &Path) -> Result<WorkflowRegistry, AppError> {
        Self::load(&Folder::workflows(Some(dir), None))
    }

    pub fn insert(&mut self, wf: Workflow) -> Result<(), AppError> {
        let versions = self.by_name.entry(wf.name().to_string()).or_default();
        if let Some(existing) = versions.get(&wf.version()) {
            if existing.sha256 != wf.sha256 {
                return Err(AppError::Startup(format!(
                    "{}: workflow '{}' version {} is also defined, differently, in {}",
                    wf.origin,
                    wf.name(),
                    wf.version(),
                    existing.origin
                )));
            }
            return Ok(());
        }
        versions.insert(wf.version(), Arc::new(wf));
        Ok(())
    }

    /// Checks that hold across files: one primary pathway, and every started workflow exists.
    fn check_whole(&self) -> Result<(), AppError> {
        let primaries: Vec<_> = self
            .by_name
            .values()
            .filter_map(|v| v.values().next_back())
            .filter(|w| w.def.primary)
            .map(|w| w.name().to_string())
            .collect();
        if primaries.len() != 1 {
            return Err(AppError::Startup(format!(
                "exactly one workflow must be marked primary = true; found {}: {:?}",
                primaries.len(),
                primaries
            )));
        }
        for wf in self.by_name.values().flat_map(|v| v.values()) {
            let effects = wf
                .def
                .start_effects
                .iter()
                .chain(wf.def.transitions.iter().flat_map(|t| t.effects.iter()));
            for e in effects {
                if let Some(target) = &e.start_workflow {
                    if !self.by_name.contains_key(target) {
                        return Err(AppError::Startup(format!(
                            "{}: an effect starts workflow '{target}', which is not loaded",
                            wf.origin
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The risk assessment, if one is loaded.
    pub fn assessment(&self) -> Option<Arc<Assessment>> {
        self.assessment.clone()
    }

    pub fn latest(&self, name: &str) -> Option<Arc<Workflow>> {
        self.by_name.get(name)?.values().next_back().cloned()
    }

    pub fn get(&self, name: &str, version: u32) -> Option<Arc<Workflow>> {
        self.by_name.get(name)?.get(&version).cloned()
    }

    pub fn primary(&self) -> Arc<Workflow> {
        self.by_name
            .values()
            .filter_map(|v| v.values().next_back())
            .find(|w| w.def.primary)
            .cloned()
            .expect("check_whole guarantees one primary workflow")
    }

    /// The newest version of the workflow that plays `role`, if one is loaded.
    pub fn with_role(&self, role: WorkflowRole) -> Option<Arc<Workflow>> {
        self.by_name
            .values()
            .filter_map(|v| v.values().next_back())
            .find(|w| w.def.role == Some(role))
            .cloned()
    }

    /// The newest version of each workflow.
    pub fn latest_all(&self) -> Vec<Arc<Workflow>> {
        self.by_name
            .values()
            .filter_map(|v| v.values().next_back().cloned())
            .collect()
    }

    /// Every version of every workflow.
    pub fn every_version(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.by_name.values().flat_map(|v| v.values())
    }

    pub fn all_versions(&self, name: &str) -> Vec<Arc<Workflow>> {
        self.by_name
            .get(name)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default()
    }
}
