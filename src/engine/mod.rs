//! The workflow engine: definitions loaded from `workflows/*.toml` and checked against the
//! contract the code relies on, and `decide`, which turns an event on a snapshot of a case into
//! a decision or a refusal. Pure: it opens no connection, reads no clock and sends no mail.
pub mod assessment;
pub mod checks;
pub mod contract;
pub mod deadline;
pub mod decide;
pub mod definition;
pub mod facts;
pub mod graph;
pub mod guards;
pub mod notes;
pub mod registry;
pub mod snapshot;
pub mod validate;
pub mod words;

use std::sync::Arc;

use crate::reference::agencies::Agencies;
use crate::reference::calendar::WorkingCalendar;

pub use decide::{Command, Decision, EmailIntent, NewAction, ProposedAction, Start, Transfer};
pub use registry::{Workflow, WorkflowRegistry};
pub use snapshot::{CaseSnapshot, Owner, StepSnapshot};

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Age in months at which the age-18 transition workflow starts (default 17 years 6 months).
    pub transition_age_months: u32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            transition_age_months: 17 * 12 + 6,
        }
    }
}

/// The workflows and the reference data a decision needs.
#[derive(Debug, Clone)]
pub struct Engine {
    pub registry: Arc<WorkflowRegistry>,
    pub calendar: Arc<WorkingCalendar>,
    pub agencies: Arc<Agencies>,
    pub settings: EngineSettings,
}
