//! Loads every workflow file, validates it, and keeps each version a running case may need.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::definition::{State, Transition, WorkflowFile};
use super::validate::validate;
use crate::error::AppError;
use crate::storage::schema::workflow_definitions;
use crate::storage::DbConn;

#[derive(Debug)]
pub struct Workflow {
    pub def: WorkflowFile,
    pub origin: String,
    pub source: String,
    pub sha256: String,
    states: HashMap<String, usize>,
    transitions: HashMap<(String, String), usize>,
}

impl Workflow {
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

/// Every loaded workflow, by name and version.
#[derive(Debug, Default)]
pub struct WorkflowRegistry {
    by_name: BTreeMap<String, BTreeMap<u32, Arc<Workflow>>>,
}

impl WorkflowRegistry {
    /// Reads every `*.toml` in `dir`. Any invalid file stops the load with its problems.
    pub fn load_dir(dir: &Path) -> Result<WorkflowRegistry, AppError> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            AppError::Startup(format!(
                "cannot read workflow folder {}: {e}",
                dir.display()
            ))
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut registry = WorkflowRegistry::default();
        for path in paths {
            let origin = path.display().to_string();
            let source = std::fs::read_to_string(&path)
                .map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
            registry.insert(Workflow::parse(&source, &origin)?)?;
        }
        registry.check_whole()?;
        Ok(registry)
    }

    fn insert(&mut self, wf: Workflow) -> Result<(), AppError> {
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

    /// The newest version of each workflow.
    pub fn latest_all(&self) -> Vec<Arc<Workflow>> {
        self.by_name
            .values()
            .filter_map(|v| v.values().next_back().cloned())
            .collect()
    }

    pub fn all_versions(&self, name: &str) -> Vec<Arc<Workflow>> {
        self.by_name
            .get(name)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Records each loaded version in the database, and loads back any version that running
    /// cases use but the folder no longer has, so a case keeps the version it started with.
    /// A version whose text changed without a new version number is refused.
    pub fn sync_with_database(
        &mut self,
        conn: &mut DbConn,
        now: chrono::NaiveDateTime,
    ) -> Result<(), AppError> {
        let stored: Vec<(String, i32, String, String)> = workflow_definitions::table
            .select((
                workflow_definitions::name,
                workflow_definitions::version,
                workflow_definitions::sha256,
                workflow_definitions::source,
            ))
            .load(conn)?;
        for (name, version, sha, source) in &stored {
            let version = u32::try_from(*version).unwrap_or(0);
            match self.get(name, version) {
                Some(loaded) if &loaded.sha256 != sha => {
                    return Err(AppError::Startup(format!(
                        "{}: workflow '{name}' version {version} differs from the copy cases already use; \
                         raise `version` when changing a workflow",
                        loaded.origin
                    )));
                }
                Some(_) => {}
                None => {
                    let origin = format!("database copy of {name} v{version}");
                    self.insert(Workflow::parse(source, &origin)?)?;
                }
            }
        }
        for wf in self.by_name.values().flat_map(|v| v.values()) {
            let known = stored
                .iter()
                .any(|(n, v, _, _)| n == wf.name() && *v as u32 == wf.version());
            if !known {
                diesel::insert_into(workflow_definitions::table)
                    .values((
                        workflow_definitions::name.eq(wf.name()),
                        workflow_definitions::version.eq(wf.version() as i32),
                        workflow_definitions::sha256.eq(&wf.sha256),
                        workflow_definitions::source.eq(&wf.source),
                        workflow_definitions::first_loaded_at.eq(now),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    }
}
