//! The workflow engine: definitions loaded from `workflows/*.toml`, and the application of an
//! event to a case as one database transaction.
pub mod checks;
pub mod deadline;
pub mod definition;
pub mod facts;
pub mod graph;
pub mod guards;
mod one_statement;
pub mod registry;
pub mod transition;
pub mod validate;

use std::sync::Arc;

use crate::reference::agencies::AgencyDirectory;
use crate::reference::calendar::WorkingCalendar;
use crate::time::clock::Clock;

pub use registry::{Workflow, WorkflowRegistry};
pub use transition::{AgreedActionInput, EventRequest, TransitionOutcome};

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Age in months at which the age-18 transition workflow starts (default 17 years 6 months).
    pub transition_age_months: u32,
    /// The workflow started at that age.
    pub transition_workflow: String,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            transition_age_months: 17 * 12 + 6,
            transition_workflow: "age18-transition".to_string(),
        }
    }
}

/// What every transition needs besides the database connection.
#[derive(Debug, Clone)]
pub struct Engine {
    pub registry: Arc<WorkflowRegistry>,
    pub calendar: Arc<WorkingCalendar>,
    pub agencies: Arc<AgencyDirectory>,
    pub clock: Arc<dyn Clock>,
    pub settings: EngineSettings,
    /// Sends the emails transitions cause (agreed actions to their owners). None in tools
    /// that only move cases, such as the benchmark.
    pub mailer: Option<crate::mail::Mailer>,
}
