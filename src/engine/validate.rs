//! Refuses a workflow file that cannot be run, naming the file, the state or transition, and
//! the problem. The service will not start with one.
use std::collections::{BTreeSet, HashMap, VecDeque};

use super::checks;
use super::definition::*;

pub fn validate(file: &WorkflowFile) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);

    if file.name.is_empty()
        || !file
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        p(format!(
            "name {:?} must be lower-case letters, digits and hyphens",
            file.name
        ));
    }
    if file.version == 0 {
        p("version must be 1 or more".into());
    }
    check_rules(&file.rules, "workflow", &mut p);

    for (name, fact) in &file.facts {
        check_rules(&fact.rules, &format!("fact '{name}'"), &mut p);
        let needs_options = matches!(
            fact.kind,
            FactType::Choice | FactType::Checklist | FactType::InformationSharing
        );
        if needs_options && fact.options.is_empty() {
            p(format!(
                "fact '{name}': a {:?} fact needs options",
                fact.kind
            ));
        }
        if !needs_options && !fact.options.is_empty() {
            p(format!(
                "fact '{name}': options only apply to choice, checklist and information-sharing facts"
            ));
        }
    }
    for (name, kind) in &file.action_kinds {
        check_rules(&kind.rules, &format!("action kind '{name}'"), &mut p);
        if kind.title.trim().is_empty() {
            p(format!("action kind '{name}': title is empty"));
        }
    }

    for (name, kind) in &file.review_kinds {
        check_rules(&kind.rules, &format!("review kind '{name}'"), &mut p);
        if kind.title.trim().is_empty() {
            p(format!("review kind '{name}': title is empty"));
        }
        check_deadline(
            file,
            &kind.first,
            &format!("review kind '{name}', first"),
            &mut p,
        );
        check_deadline(
            file,
            &kind.then,
            &format!("review kind '{name}', then"),
            &mut p,
        );
        for fact in kind.first_from_fact.iter().chain(kind.held_on_fact.iter()) {
            match file.facts.get(fact) {
                Some(spec) if spec.kind == crate::engine::definition::FactType::Date => {}
                _ => p(format!(
                    "review kind '{name}': '{fact}' is not a declared fact of type date"
                )),
            }
        }
    }

    if let Some(referral) = &file.referral {
        check_deadline(file, &referral.acknowledge, "referral, acknowledge", &mut p);
        if referral.acknowledge.from_fact.is_some() {
            p("referral, acknowledge: counts from the report's arrival, not from a fact".into());
        }
    }
    for (name, spec) in file.facts.iter().filter(|(_, f)| f.reporter.is_some()) {
        if spec.per_event {
            p(format!(
                "fact '{name}': a reporter's answer belongs to the report; it cannot be per event"
            ));
        }
    }

    let mut ids = BTreeSet::new();
    for state in &file.states {
        if !ids.insert(state.id.as_str()) {
            p(format!("state '{}' is defined twice", state.id));
        }
        check_rules(&state.rules, &format!("state '{}'", state.id), &mut p);
        if state.guidance.trim().is_empty() {
            p(format!(
                "state '{}': guidance is empty; chairs rely on it",
                state.id
            ));
        }
        if let Some(d) = &state.deadline {
            check_deadline(file, d, &format!("state '{}'", state.id), &mut p);
        }
        if let Some(kind) = &state.meeting_kind {
            if !file.meeting_kinds.contains_key(kind) {
                p(format!(
                    "state '{}': meeting kind '{kind}' is not declared under meeting_kinds",
                    state.id
                ));
            }
        }
    }
    for (name, kind) in &file.meeting_kinds {
        if kind.title.trim().is_empty() || kind.title_cy.trim().is_empty() {
            p(format!("meeting kind '{name}': a title is empty"));
        }
        check_rules(&kind.rules, &format!("meeting kind '{name}'"), &mut p);
        if kind.about_contexts
            && file
                .states
                .iter()
                .any(|s| s.meeting_kind.as_deref() == Some(name))
        {
            p(format!(
                "meeting kind '{name}': a meeting about contexts is held at no step of a child's pathway"
            ));
        }
    }
    for problem in super::contract::check(file) {
        p(problem);
    }
    if !ids.contains(file.initial.as_str()) {
        p(format!("initial state '{}' is not defined", file.initial));
    }
    for (i, effect) in file.start_effects.iter().enumerate() {
        check_effect(file, effect, &format!("start effect {}", i + 1), &mut p);
    }
    for (i, effect) in file.whenever.iter().enumerate() {
        let at = format!("whenever effect {}", i + 1);
        check_effect(file, effect, &at, &mut p);
        if effect.create_action.is_none() {
            p(format!(
                "{at}: a whenever effect creates an action, and only that"
            ));
        }
        if effect.when.is_none() && effect.when_any.is_empty() {
            p(format!(
                "{at}: a whenever effect has a condition (when or when_any)"
            ));
        }
    }

    let mut seen: HashMap<(&str, &str), ()> = HashMap::new();
    let mut outgoing: HashMap<&str, usize> = HashMap::new();
    for t in &file.transitions {
        let at = format!("transition '{}'", t.event);
        if t.from.is_empty() {
            p(format!("{at}: from is empty"));
        }
        for from in &t.from {
            if !ids.contains(from.as_str()) {
                p(format!("{at}: from-state '{from}' is not defined"));
            }
            if seen.insert((from.as_str(), t.event.as_str()), ()).is_some() {
                p(format!("{at}: defined twice from state '{from}'"));
            }
            *outgoing.entry(from.as_str()).or_default() += 1;
            if file.states.iter().any(|s| &s.id == from && s.terminal) {
                p(format!("{at}: leaves terminal state '{from}'"));
            }
        }
        if !ids.contains(t.to.as_str()) {
            p(format!("{at}: to-state '{}' is not defined", t.to));
        }
        check_rules(&t.rules, &at, &mut p);
        if t.decline && t.rules.is_empty() {
            p(format!("{at}: a decline must name the rule that allows it"));
        }
        if let Some(d) = &t.deadline {
            check_deadline(file, d, &at, &mut p);
        }
        for (i, g) in t.guards.iter().enumerate() {
            check_guard(file, g, &format!("{at}, guard {}", i + 1), &mut p);
        }
        for (i, e) in t.effects.iter().enumerate() {
            check_effect(file, e, &format!("{at}, effect {}", i + 1), &mut p);
        }
        for fact in &t.asks {
            if !file.facts.contains_key(fact) {
                p(format!(
                    "{at}: asks for fact '{fact}', which is not declared"
                ));
            }
        }
    }
    for state in &file.states {
        if !state.terminal && outgoing.get(state.id.as_str()).copied().unwrap_or(0) == 0 {
            p(format!(
                "state '{}' has no way out; mark it terminal or add a transition",
                state.id
            ));
        }
    }
    for (i, n) in file.notes.iter().enumerate() {
        check_note(file, n, &format!("note {}", i + 1), &mut p);
    }
    // Every state must be reachable: an unreachable one is a typo in a `to` or `from`.
    let mut reached = BTreeSet::new();
    let mut queue = VecDeque::from([file.initial.as_str()]);
    while let Some(s) = queue.pop_front() {
        if reached.insert(s) {
            for t in file
                .transitions
                .iter()
                .filter(|t| t.from.iter().any(|f| f == s))
            {
                queue.push_back(t.to.as_str());
            }
        }
    }
    for state in &file.states {
        if !reached.contains(state.id.as_str()) {
            p(format!(
                "state '{}' cannot be reached from '{}'",
                state.id, file.initial
            ));
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_rules(rules: &[String], at: &str, p: &mut impl FnMut(String)) {
    for r in rules {
        let ok = r
            .strip_prefix('R')
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=31).contains(&n));
        if !ok {
            p(format!("{at}: rule id {r:?} is not one of R1 to R31"));
        }
    }
}

fn check_deadline(file: &WorkflowFile, d: &DeadlineSpec, at: &str, p: &mut impl FnMut(String)) {
    if let Some(fact) = &d.from_fact {
        use crate::engine::definition::FactType;
        match file.facts.get(fact) {
            Some(spec) if matches!(spec.kind, FactType::Date | FactType::Datetime) && !spec.per_event => {}
            _ => p(format!(
                "{at}: a deadline counts from fact '{fact}', which is not a declared date or time that lasts"
            )),
        }
    }
    let units = [d.working_days, d.hours, d.months]
        .iter()
        .filter(|u| u.is_some())
        .count();
    if units != 1 {
        p(format!(
            "{at}: a deadline sets exactly one of working_days, hours, months"
        ));
    }
    if d.hours == Some(0) || d.months == Some(0) {
        p(format!(
            "{at}: a deadline of zero hours or months is already past"
        ));
    }
    if d.source.trim().is_empty() {
        p(format!(
            "{at}: deadline source is empty; name the procedure or say 'assumption'"
        ));
    }
}

fn check_condition(file: &WorkflowFile, c: &Condition, at: &str, p: &mut impl FnMut(String)) {
    match (&c.fact, &c.case) {
        (Some(fact), None) => match file.facts.get(fact) {
            None => p(format!(
                "{at}: condition names fact '{fact}', which is not declared"
            )),
            Some(spec) => {
                if let Some(option) = &c.contains {
                    if spec.kind == FactType::Checklist && !spec.options.contains(option) {
                        p(format!(
                            "{at}: '{option}' is not an option of checklist '{fact}'"
                        ));
                    }
                }
            }
        },
        (None, Some(field)) => {
            if !CASE_FIELDS.contains(&field.as_str()) {
                p(format!(
                    "{at}: case field '{field}' is not one of {}",
                    CASE_FIELDS.join(", ")
                ));
            }
        }
        _ => p(format!(
            "{at}: a condition names exactly one of fact or case"
        )),
    }
    let tests = [
        c.equals.is_some(),
        c.not_equals.is_some(),
        c.contains.is_some(),
        c.any,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if tests != 1 {
        p(format!(
            "{at}: a condition has exactly one of equals, not_equals, contains, any"
        ));
    }
}

fn check_note(file: &WorkflowFile, n: &Note, at: &str, p: &mut impl FnMut(String)) {
    check_rules(&n.rules, at, p);
    if n.text.trim().is_empty() {
        p(format!("{at}: text is empty"));
    }
    for state in &n.states {
        if !file.states.iter().any(|s| &s.id == state) {
            p(format!("{at}: state '{state}' is not defined"));
        }
    }
    match (&n.when, n.when_any.is_empty()) {
        (None, true) => p(format!(
            "{at}: a note needs when or when_any (guidance for every child belongs in the step's own)"
        )),
        (Some(_), false) => p(format!("{at}: use when or when_any, not both")),
        _ => {}
    }
    for c in n.when.iter().chain(n.when_any.iter()) {
        check_condition(file, c, at, p);
        if c.case.is_some() {
            p(format!(
                "{at}: a note's condition tests a fact, not the case"
            ));
        }
    }
}

fn check_guard(file: &WorkflowFile, g: &Guard, at: &str, p: &mut impl FnMut(String)) {
    if let Some(c) = &g.when {
        check_condition(file, c, at, p);
    }
    for c in &g.when_any {
        check_condition(file, c, at, p);
    }
    if g.when.is_some() && !g.when_any.is_empty() {
        p(format!("{at}: use when or when_any, not both"));
    }
    let set = [
        g.requires.is_some(),
        g.requires_true.is_some(),
        g.requires_action.is_some(),
        g.min_agreed_actions.is_some(),
        g.check.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        p(format!(
            "{at}: a guard has exactly one of requires, requires_true, requires_action, min_agreed_actions, check"
        ));
    }
    for fact in [&g.requires, &g.requires_true].into_iter().flatten() {
        if !file.facts.contains_key(fact) {
            p(format!(
                "{at}: requires fact '{fact}', which is not declared"
            ));
        }
    }
    if let Some(kind) = &g.requires_action {
        if !file.action_kinds.contains_key(kind) {
            p(format!(
                "{at}: requires action kind '{kind}', which is not declared"
            ));
        }
    }
    if let Some(check) = &g.check {
        match checks::named(check) {
            None => p(format!(
                "{at}: check '{check}' is not one of {}",
                checks::CHECKS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(c) => {
                for tag in c.reads {
                    if file.fact_tagged(*tag).is_none() {
                        p(format!(
                            "{at}: check '{check}' reads the fact tagged {tag:?}, and no fact carries that tag"
                        ));
                    }
                }
            }
        }
    }
    if g.message.trim().is_empty() {
        p(format!(
            "{at}: message is empty; it tells the chair what is missing"
        ));
    }
    if g.rules.is_empty() {
        p(format!("{at}: a guard names the rule it implements"));
    }
    check_rules(&g.rules, at, p);
}

fn check_effect(file: &WorkflowFile, e: &Effect, at: &str, p: &mut impl FnMut(String)) {
    if let Some(c) = &e.when {
        check_condition(file, c, at, p);
    }
    for c in &e.when_any {
        check_condition(file, c, at, p);
    }
    if e.when.is_some() && !e.when_any.is_empty() {
        p(format!("{at}: an effect has when or when_any, not both"));
    }
    match (&e.create_action, &e.start_workflow, &e.review, &e.transfer) {
        (None, None, None, Some(_)) => {}
        (Some(kind), None, None, None) => {
            if !file.action_kinds.contains_key(kind) {
                p(format!(
                    "{at}: creates action kind '{kind}', which is not declared"
                ));
            }
        }
        (None, Some(_), None, None) => {}
        (None, None, Some(kind), None) => {
            if !file.review_kinds.contains_key(kind) {
                p(format!(
                    "{at}: schedules review kind '{kind}', which is not declared"
                ));
            }
        }
        _ => p(format!(
            "{at}: an effect has exactly one of create_action, start_workflow, review or transfer"
        )),
    }
}

/// Every text of a workflow file has its Welsh beside it: the key of each one missing, as
/// `facts.immediate_risk.label_cy`. Applied to the files on disk; versions stored before
/// workflows were bilingual are shown in English.
pub fn missing_welsh(file: &WorkflowFile) -> Vec<String> {
    let mut missing = Vec::new();
    let mut answers = Vec::new();
    let mut need = |present: Option<&String>, key: String| {
        if present.is_none_or(|t| t.trim().is_empty()) {
            missing.push(key);
        }
    };
    need(file.title_cy.as_ref(), "title_cy".into());
    need(file.description_cy.as_ref(), "description_cy".into());
    for (name, fact) in &file.facts {
        need(fact.label_cy.as_ref(), format!("facts.{name}.label_cy"));
        for option in &fact.options {
            need(
                fact.option_labels.get(option),
                format!("facts.{name}.option_labels.{option}"),
            );
            need(
                fact.option_labels_cy.get(option),
                format!("facts.{name}.option_labels_cy.{option}"),
            );
        }
        if fact.kind == FactType::Bool
            && (fact.answers_cy.len() != 2 || fact.answers_cy.iter().any(|a| a.trim().is_empty()))
        {
            answers.push(format!(
                "facts.{name}.answers_cy (the Welsh yes and no, in the question's form)"
            ));
        }
    }
    for (name, kind) in &file.action_kinds {
        need(
            kind.title_cy.as_ref(),
            format!("action_kinds.{name}.title_cy"),
        );
        need(
            kind.owner_cy.as_ref(),
            format!("action_kinds.{name}.owner_cy"),
        );
    }
    for (name, kind) in &file.review_kinds {
        need(
            kind.title_cy.as_ref(),
            format!("review_kinds.{name}.title_cy"),
        );
        need(
            kind.first.source_cy.as_ref(),
            format!("review_kinds.{name}.first.source_cy"),
        );
        need(
            kind.then.source_cy.as_ref(),
            format!("review_kinds.{name}.then.source_cy"),
        );
    }
    for state in &file.states {
        let at = format!("states.{}", state.id);
        need(state.title_cy.as_ref(), format!("{at}.title_cy"));
        need(state.guidance_cy.as_ref(), format!("{at}.guidance_cy"));
        if let Some(d) = &state.deadline {
            need(d.source_cy.as_ref(), format!("{at}.deadline.source_cy"));
        }
    }
    for t in &file.transitions {
        let at = format!("transitions.{}", t.event);
        need(t.title_cy.as_ref(), format!("{at}.title_cy"));
        if let Some(d) = &t.deadline {
            need(d.source_cy.as_ref(), format!("{at}.deadline.source_cy"));
        }
        for (i, g) in t.guards.iter().enumerate() {
            need(
                g.message_cy.as_ref(),
                format!("{at}.guards[{i}].message_cy"),
            );
        }
    }
    for (i, n) in file.notes.iter().enumerate() {
        need(n.text_cy.as_ref(), format!("notes[{i}].text_cy"));
    }
    missing.extend(answers);
    missing
}
