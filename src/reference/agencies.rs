//! Agencies: the 22 Welsh local authorities, police forces, health boards and youth justice
//! services shipped as data, plus any an operator adds in `<data dir>/agencies.toml` and those
//! an administrator adds in the pages (schools, GP practices, CAMHS, housing, the voluntary
//! sector), which a running service takes up without a restart.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const SHIPPED_AGENCIES: &str = include_str!("../../reference/agencies.toml");

pub const KINDS: &[&str] = &[
    "local_authority",
    "police",
    "health_board",
    "youth_justice",
    "education",
    "gp_practice",
    "camhs",
    "housing",
    "voluntary",
    "other",
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub code: String,
    pub kind: String,
    pub name_en: String,
    pub name_cy: String,
    /// For a service of one local authority's area (a youth justice service), that authority.
    #[serde(default)]
    pub area: Option<String>,
    /// The email domains its staff use (`south-wales.police.uk`): an invitee or action owner of
    /// this agency at another address needs a reason before anything is sent there.
    #[serde(default)]
    pub domains: Vec<String>,
    /// For a police force or health board, the local authority areas it covers.
    #[serde(default)]
    pub serves: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyFile {
    #[serde(default)]
    agency: Vec<Agency>,
}

/// All agencies in memory: the engine checks agency codes on every transition that names one.
#[derive(Debug, Clone, Default)]
pub struct AgencyDirectory {
    by_code: BTreeMap<String, Agency>,
}

impl AgencyDirectory {
    pub fn parse(text: &str, origin: &str) -> Result<Vec<Agency>, AppError> {
        let file: AgencyFile =
            toml::from_str(text).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
        for a in &file.agency {
            if !KINDS.contains(&a.kind.as_str()) {
                return Err(AppError::Startup(format!(
                    "{origin}: agency '{}' has kind '{}', not one of {}",
                    a.code,
                    a.kind,
                    KINDS.join(", ")
                )));
            }
        }
        Ok(file.agency)
    }

    /// The shipped list plus the operator's additions, if the file exists.
    pub fn load(extra: Option<&Path>) -> Result<AgencyDirectory, AppError> {
        let mut dir = AgencyDirectory::default();
        for a in Self::parse(SHIPPED_AGENCIES, "reference/agencies.toml")? {
            dir.by_code.insert(a.code.clone(), a);
        }
        if let Some(path) = extra.filter(|p| p.exists()) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AppError::Startup(format!("{}: {e}", path.display())))?;
            for a in Self::parse(&text, &path.display().to_string())? {
                dir.by_code.insert(a.code.clone(), a);
            }
        }
        for a in dir.by_code.values() {
            for area in &a.serves {
                if dir.kind_of(area) != Some("local_authority") {
                    return Err(AppError::Startup(format!(
                        "agency '{}': serves '{area}', which is not a local authority",
                        a.code
                    )));
                }
            }
            if let Some(area) = &a.area {
                if dir.kind_of(area) != Some("local_authority") {
                    return Err(AppError::Startup(format!(
                        "agency '{}': area '{area}' is not a local authority",
                        a.code
                    )));
                }
            }
        }
        Ok(dir)
    }

    pub fn get(&self, code: &str) -> Option<&Agency> {
        self.by_code.get(code)
    }

    pub fn kind_of(&self, code: &str) -> Option<&str> {
        self.by_code.get(code).map(|a| a.kind.as_str())
    }

    /// The local authority whose area an agency serves alone: itself for an authority, its
    /// `area` for a service of one area; none for police, health and the like.
    pub fn area_of<'a>(&'a self, code: &'a str) -> Option<&'a str> {
        let a = self.by_code.get(code)?;
        if a.kind == "local_authority" {
            Some(code)
        } else {
            a.area.as_deref()
        }
    }

    /// The agency, when it lists its email domains and `email` is at none of them (nor a
    /// subdomain of one): an address that may be a slip of the keyboard or a personal one.
    pub fn address_outside(&self, code: &str, email: &str) -> Option<&Agency> {
        let a = self.by_code.get(code)?;
        if a.domains.is_empty() {
            return None;
        }
        let domain = email.trim().rsplit_once('@')?.1.to_ascii_lowercase();
        let inside = a.domains.iter().any(|d| {
            let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
            domain == d || domain.ends_with(&format!(".{d}"))
        });
        (!inside).then_some(a)
    }

    /// The agencies of `kind` whose area includes the local authority `authority`: the
    /// police force and the health board of a child's authority, or its youth justice service.
    pub fn serving<'a>(
        &'a self,
        authority: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a Agency> {
        self.by_code.values().filter(move |a| {
            a.kind == kind
                && (a.serves.iter().any(|s| s == authority) || a.area.as_deref() == Some(authority))
        })
    }

    pub fn all(&self) -> impl Iterator<Item = &Agency> {
        self.by_code.values()
    }

    /// This directory with the agencies administrators added; a code the shipped list or the
    /// operator's file already holds keeps their entry.
    pub fn with_added(&self, added: Vec<Agency>) -> AgencyDirectory {
        let mut dir = self.clone();
        for a in added {
            dir.by_code.entry(a.code.clone()).or_insert(a);
        }
        dir
    }
}

/// The directory a running service reads. What the files hold stays as loaded; what
/// administrators add is laid over it whole, at once in the process that added it and at the
/// next scheduler pass in every other replica.
#[derive(Debug)]
pub struct Agencies {
    files: AgencyDirectory,
    current: RwLock<Arc<AgencyDirectory>>,
}

impl Agencies {
    pub fn new(files: AgencyDirectory) -> Agencies {
        Agencies {
            current: RwLock::new(Arc::new(files.clone())),
            files,
        }
    }

    /// The directory as it stands; a lookup holds no lock while it runs.
    pub fn current(&self) -> Arc<AgencyDirectory> {
        match self.current.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// What the shipped list and the operator's file hold, without administrators' additions.
    pub fn from_files(&self) -> &AgencyDirectory {
        &self.files
    }

    /// Lays these additions over the files' directory, replacing the previous ones.
    pub fn set_added(&self, added: Vec<Agency>) {
        let next = Arc::new(self.files.with_added(added));
        match self.current.write() {
            Ok(mut d) => *d = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_every_welsh_local_authority_and_police_force() {
        let dir = AgencyDirectory::load(None).expect("shipped agencies parse");
        let count = |k: &str| dir.all().filter(|a| a.kind == k).count();
        assert_eq!(count("local_authority"), 22);
        assert_eq!(
            count("police"),
            5,
            "four Welsh forces and British Transport Police"
        );
        assert_eq!(count("health_board"), 7);
        assert_eq!(count("youth_justice"), 22);
        assert_eq!(
            dir.get("la-cardiff").map(|a| a.name_cy.as_str()),
            Some("Cyngor Caerdydd")
        );
    }
}
