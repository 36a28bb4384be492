//! Evaluates a transition's guards and lists, in the chair's words, everything still missing.
use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::checks::{self, CheckContext};
use super::definition::{Condition, Guard};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Missing {
    /// `fact`, `action`, `agreed_actions` or `check`.
    pub kind: &'static str,
    pub name: String,
    pub message: String,
    /// The same in Welsh.
    pub message_cy: String,
    pub rules: Vec<String>,
}

pub struct GuardContext<'a> {
    pub check: CheckContext<'a>,
    /// Case attributes a condition may test (`looked_after`, `existing_plan`, ...).
    pub case_fields: &'a Map<String, Value>,
    /// Kinds of agreed actions on the case plus those recorded with this event.
    pub action_kinds: &'a BTreeSet<String>,
    pub new_actions: usize,
}

pub fn condition_holds(
    c: &Condition,
    facts: &Map<String, Value>,
    case_fields: &Map<String, Value>,
) -> bool {
    let value = match (&c.fact, &c.case) {
        (Some(f), _) => facts.get(f),
        (None, Some(f)) => case_fields.get(f),
        _ => None,
    };
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return false;
    };
    if let Some(expected) = &c.equals {
        return value == expected;
    }
    if let Some(unwanted) = &c.not_equals {
        return value != unwanted;
    }
    if let Some(item) = &c.contains {
        return match value {
            Value::Object(m) => m.get(item) == Some(&Value::Bool(true)),
            Value::Array(l) => l.iter().any(|v| v.as_str() == Some(item)),
            Value::String(s) => s.contains(item.as_str()),
            _ => false,
        };
    }
    if c.any {
        return match value {
            Value::Object(m) => m.values().any(|v| v == &Value::Bool(true)),
            Value::Array(l) => !l.is_empty(),
            Value::Bool(b) => *b,
            _ => false,
        };
    }
    false
}

/// Whether a `when`/`when_any` pair holds: `when` if given, else any of `when_any`, and true
/// when neither is set. Guards and notes share it.
pub fn when_holds(
    when: Option<&Condition>,
    when_any: &[Condition],
    facts: &Map<String, Value>,
    case_fields: &Map<String, Value>,
) -> bool {
    match (when, when_any.is_empty()) {
        (Some(c), _) => condition_holds(c, facts, case_fields),
        (None, false) => when_any
            .iter()
            .any(|c| condition_holds(c, facts, case_fields)),
        (None, true) => true,
    }
}

fn applies(g: &Guard, ctx: &GuardContext<'_>) -> bool {
    when_holds(
        g.when.as_ref(),
        &g.when_any,
        ctx.check.facts,
        ctx.case_fields,
    )
}

pub fn unmet(guards: &[Guard], ctx: &GuardContext<'_>) -> Vec<Missing> {
    let facts = ctx.check.facts;
    let mut missing = Vec::new();
    for g in guards.iter().filter(|g| applies(g, ctx)) {
        let (kind, name, ok) = if let Some(f) = &g.requires {
            (
                "fact",
                f.clone(),
                facts.get(f).is_some_and(|v| !v.is_null()),
            )
        } else if let Some(f) = &g.requires_true {
            ("fact", f.clone(), facts.get(f) == Some(&Value::Bool(true)))
        } else if let Some(k) = &g.requires_action {
            ("action", k.clone(), ctx.action_kinds.contains(k))
        } else if let Some(n) = g.min_agreed_actions {
            (
                "agreed_actions",
                "agreed_actions".to_string(),
                ctx.new_actions >= n as usize,
            )
        } else if let Some(c) = &g.check {
            ("check", c.clone(), checks::run(c, &ctx.check))
        } else {
            continue;
        };
        if !ok {
            missing.push(Missing {
                kind,
                name,
                message: g.message.clone(),
                message_cy: g.message_in(crate::i18n::Language::Welsh).to_string(),
                rules: g.rules.clone(),
            });
        }
    }
    missing
}
