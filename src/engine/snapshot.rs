//! What the engine is shown of a case: read by the domain in the transaction that will write the
//! decision, so that the decision and the write see the same case.
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{Map, Value};

/// The case attributes and recorded facts that guards, conditions and checks may test.
#[derive(Debug, Clone)]
pub struct CaseSnapshot {
    pub child_date_of_birth: NaiveDate,
    pub located_authority: String,
    pub residence_authority: String,
    pub looked_after: bool,
    pub existing_plan: String,
    pub in_secure_estate: bool,
    /// Facts recorded so far that hold until recorded again. Per-event facts are not here: each
    /// stays with the event that recorded it.
    pub facts: Map<String, Value>,
    /// Kinds of the agreed actions on the case that are not cancelled.
    pub action_kinds: BTreeSet<String>,
}

impl CaseSnapshot {
    /// The case attributes a workflow condition may test (`case = "looked_after"` and so on).
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("looked_after".into(), Value::Bool(self.looked_after));
        m.insert(
            "in_secure_estate".into(),
            Value::Bool(self.in_secure_estate),
        );
        m.insert(
            "existing_plan".into(),
            Value::String(self.existing_plan.clone()),
        );
        m.insert(
            "authorities_differ".into(),
            Value::Bool(self.located_authority != self.residence_authority),
        );
        m
    }
}

/// One workflow as it runs on the case.
#[derive(Debug, Clone)]
pub struct StepSnapshot {
    pub workflow: String,
    pub version: u32,
    pub state: String,
    /// When the case entered `state`: a deadline counted from a fact the case has not recorded
    /// counts from here (the strategy meeting's end, for a conference convened after it).
    pub entered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How many reviews of each kind this workflow has scheduled so far.
    pub reviews_scheduled: BTreeMap<String, u32>,
    /// Review kinds with one due now.
    pub reviews_due: BTreeSet<String>,
}

/// Who an agreed action belongs to. Always someone the reminders can reach: a user of the
/// service or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
    pub email: Option<String>,
    pub user_id: Option<String>,
}
