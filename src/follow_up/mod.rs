//! Following cases up after each step: chasing agreed actions, the age-18 rules on the
//! calendar, what is overdue, and what team leads see of it (dashboard and digest).
pub mod action_notices;
pub mod age18;
pub mod dashboard;
pub mod digest;
pub mod overdue;
