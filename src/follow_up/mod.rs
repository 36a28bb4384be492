//! Following cases up after each step: chasing agreed actions, the age-18 rules on the
//! calendar, what is overdue, and what team leads see of it (dashboard and digest), with the
//! figures Wales reports.
pub mod action_notices;
pub mod age18;
pub mod context_action_notices;
pub mod dashboard;
pub mod digest;
pub mod overdue;
pub mod risk_reviews;
pub mod wales_figures;

/// How hard actions are chased, from the service's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Owners are reminded this many working days before an action is due.
    pub reminder_working_days: u32,
    /// Team leads hear of an action this many working days after it fell due.
    pub escalation_working_days: u32,
}
