//! The procedure's rules as table tests of `decide`: the shipped workflows, a snapshot, a
//! command, a time, and what must come out. No database, clock, mailer or server: the engine is
//! pure, so these run in milliseconds beside the end-to-end tests of `tests/rules.rs`.
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Map, Value};

use safeguard::engine::decide::{Command, Decision, EmailIntent, ProposedAction};
use safeguard::engine::{
    CaseSnapshot, Engine, EngineSettings, Owner, StepSnapshot, WorkflowRegistry,
};
use safeguard::error::AppError;
use safeguard::identity::RoleName;
use safeguard::reference::agencies::{Agencies, AgencyDirectory};
use safeguard::reference::calendar::WorkingCalendar;
use safeguard::time::wales::london_date;

fn engine() -> Engine {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    Engine {
        registry: Arc::new(WorkflowRegistry::load_dir(&dir).expect("shipped workflows")),
        calendar: Arc::new(WorkingCalendar::shipped().expect("calendar")),
        agencies: Arc::new(Agencies::new(
            AgencyDirectory::load(None).expect("agencies"),
        )),
        settings: EngineSettings::default(),
    }
}

/// Wednesday 25 November 2026, 10:00 in Wales.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .single()
        .expect("time")
}

fn case(facts: Value) -> CaseSnapshot {
    CaseSnapshot {
        child_date_of_birth: NaiveDate::from_ymd_opt(2012, 5, 14).expect("date"),
        located_authority: "la-cardiff".into(),
        residence_authority: "la-cardiff".into(),
        looked_after: false,
        existing_plan: "none".into(),
        in_secure_estate: false,
        facts: facts.as_object().cloned().unwrap_or_default(),
        action_kinds: BTreeSet::new(),
    }
}

fn at(engine: &Engine, state: &str) -> StepSnapshot {
    let primary = engine.registry.primary();
    StepSnapshot {
        workflow: primary.name().to_string(),
        version: primary.version(),
        state: state.into(),
        entered_at: None,
        reviews_scheduled: Default::default(),
        reviews_due: Default::default(),
    }
}

fn report() -> Value {
    json!({
        "immediate_risk": false, "s130_harm": true, "s130_care_needs": true,
        "care_needs_parents_cannot_meet": false, "section47_grounds": "yes",
        "trafficking_suspected": false, "signs_physical": "none observed",
        "signs_emotional": "withdrawn", "signs_material": "new phone",
        "signs_behavioural": "missing overnight",
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn owner() -> Owner {
    Owner {
        name: "A Chair".into(),
        email: Some("chair@council.example".into()),
        user_id: Some("chair-1".into()),
    }
}

fn decide(
    engine: &Engine,
    case: &CaseSnapshot,
    state: &str,
    event: &str,
    facts: Value,
    rationale: Option<&str>,
    actions: &[ProposedAction],
) -> Result<Decision, AppError> {
    let facts = facts.as_object().cloned().unwrap_or_default();
    let owner = owner();
    engine.decide(
        case,
        &at(engine, state),
        &Command {
            event,
            role: RoleName::Chair,
            rationale,
            facts: &facts,
            agreed_actions: actions,
            default_owner: Some(&owner),
        },
        now(),
    )
}

fn missing(result: Result<Decision, AppError>) -> Vec<String> {
    match result {
        Err(AppError::Unprocessable {
            code: "guards_unmet",
            details: Some(d),
            ..
        }) => d["missing"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["name"].as_str().map(str::to_string))
            .collect(),
        other => panic!("expected guards_unmet, got {other:?}"),
    }
}

#[test]
fn the_rules_of_the_first_decision() {
    let e = engine();
    // (what is recorded, what is still missing)
    let table: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec![
                "immediate_risk",
                "s130_harm",
                "s130_care_needs",
                "care_needs_parents_cannot_meet",
                "section47_grounds",
                "signs_physical",
                "signs_emotional",
                "signs_material",
                "signs_behavioural",
                "trafficking_suspected",
            ],
        ),
        // R1: at immediate risk, police contacted on 999 and when.
        (
            with(report(), json!({"immediate_risk": true})),
            vec!["police_contacted_at"],
        ),
        // R3: both limbs of s130 must hold to accept.
        (
            with(report(), json!({"s130_care_needs": false})),
            vec!["s130_care_needs"],
        ),
        // R2: parents cannot meet the needs: their consent to an IAA referral, given or refused.
        (
            with(report(), json!({"care_needs_parents_cannot_meet": true})),
            vec!["iaa_referral_consent"],
        ),
        (report(), vec![]),
    ];
    for (facts, expected) in table {
        let result = decide(
            &e,
            &case(facts.clone()),
            "report_received",
            "accept_report",
            json!({}),
            None,
            &[],
        );
        if expected.is_empty() {
            let d = result.expect("accepted");
            assert_eq!(d.to_state, "strategy_discussion");
        } else {
            assert_eq!(missing(result), expected, "for {facts}");
        }
    }
}

#[test]
fn r5_a_decline_needs_a_rationale_that_says_why() {
    let e = engine();
    let facts = with(
        report(),
        json!({"preventative_referral_considered": true, "preventative_referral_outcome": "Family support"}),
    );
    let c = case(facts);
    let err = decide(
        &e,
        &c,
        "report_received",
        "decline_report",
        json!({}),
        None,
        &[],
    )
    .expect_err("refused");
    assert_eq!(err.code(), "rationale_required");
    let err = decide(
        &e,
        &c,
        "report_received",
        "decline_report",
        json!({}),
        Some("too short"),
        &[],
    )
    .expect_err("refused");
    assert_eq!(err.code(), "rationale_too_short");
    let d = decide(
        &e,
        &c,
        "report_received",
        "decline_report",
        json!({}),
        Some("Not a child at risk: a different family."),
        &[],
    )
    .expect("declined");
    assert!(d.decline && d.closes_case && d.terminal);
    assert_eq!(
        d.rationale.as_deref(),
        Some("Not a child at risk: a different family.")
    );
}

#[test]
fn r12_r21_trafficking_creates_the_icta_referral_and_home_office_notification_owned_by_the_chair() {
    let e = engine();
    let c = case(with(report(), json!({"trafficking_suspected": true})));
    let d = decide(
        &e,
        &c,
        "report_received",
        "accept_report",
        json!({}),
        None,
        &[],
    )
    .expect("accepted");
    let kinds: Vec<&str> = d.actions.iter().filter_map(|a| a.kind.as_deref()).collect();
    assert_eq!(kinds, vec!["icta_referral", "home_office_notification"]);
    assert!(d
        .actions
        .iter()
        .all(|a| a.owner == owner() && !a.agreed_by_people));
    assert!(d
        .actions
        .iter()
        .any(|a| a.kind.as_deref() == Some("icta_referral") && !a.cancellable));
    // Not created twice when the case already has them.
    let mut again = c.clone();
    again.action_kinds = [
        "icta_referral".to_string(),
        "home_office_notification".to_string(),
    ]
    .into();
    let d = decide(
        &e,
        &again,
        "report_received",
        "accept_report",
        json!({}),
        None,
        &[],
    )
    .expect("accepted");
    assert!(d.actions.is_empty());
    // Declining the report does not get round it: the decline creates both too.
    let declining = case(with(
        report(),
        json!({"trafficking_suspected": true, "preventative_referral_considered": true, "preventative_referral_outcome": "none"}),
    ));
    let d = decide(
        &e,
        &declining,
        "report_received",
        "decline_report",
        json!({}),
        Some("A rationale long enough to count."),
        &[],
    )
    .expect("declined, with the referral made");
    let kinds: Vec<&str> = d.actions.iter().filter_map(|a| a.kind.as_deref()).collect();
    assert_eq!(kinds, vec!["icta_referral", "home_office_notification"]);
}

#[test]
fn r13_the_meeting_ends_with_agreed_actions_and_r22_hears_the_child() {
    let e = engine();
    let meeting = json!({
        "attendance": [{"name": "Attendee One", "agency": "la-cardiff", "direct_knowledge": true}],
        "other_issues": {"going_missing": false, "trafficking": false, "criminal_exploitation": false, "harmful_sexual_behaviour": false, "online_abuse": false},
        "child_views": "Feels safer at school", "child_seen_alone": true, "child_told_about_support": true,
        "icpc_needed": false, "plan_kind": "care_and_support",
        "communication_needs": {"other_language": false, "interpreter": false, "british_sign_language": false, "communication_aids": false},
        "disability_or_sensory_impairment": false, "unaccompanied_asylum_seeking": false,
        "contexts_considered": "The park near the school", "harm_by_peer": false,
    });
    let c = case(report());
    assert_eq!(
        missing(decide(
            &e,
            &c,
            "strategy_meeting",
            "complete_strategy_meeting",
            meeting.clone(),
            None,
            &[]
        )),
        vec!["agreed_actions"]
    );
    let action = ProposedAction {
        title: "Return-home interview".into(),
        owner: Owner {
            name: "Partner".into(),
            email: Some("p@partner.example".into()),
            user_id: None,
        },
        agency: None,
        due_date: None,
        kind: None,
    };
    let d = decide(
        &e,
        &c,
        "strategy_meeting",
        "complete_strategy_meeting",
        meeting.clone(),
        None,
        std::slice::from_ref(&action),
    )
    .expect("completed");
    assert_eq!(d.emails, vec![EmailIntent::AgreedActions]);
    // Five working days from Wednesday 25 November: Wednesday 2 December.
    assert_eq!(
        d.actions[0].due_date,
        NaiveDate::from_ymd_opt(2026, 12, 2).expect("date")
    );
    // The child's views are per event: those on the case do not answer for this meeting.
    let mut without_views = meeting.clone();
    without_views
        .as_object_mut()
        .map(|m| m.remove("child_views"));
    let heard_before = case(with(
        report(),
        json!({"child_views": "Said at an earlier meeting"}),
    ));
    assert_eq!(
        missing(decide(
            &e,
            &heard_before,
            "strategy_meeting",
            "complete_strategy_meeting",
            without_views,
            None,
            &[action]
        )),
        vec!["child_views"]
    );
    assert!(
        !d.facts_after.contains_key("child_views"),
        "per-event facts stay with the event"
    );
    assert!(
        d.facts_after.contains_key("plan_kind"),
        "lasting facts are kept on the case"
    );
}

#[test]
fn each_review_schedules_the_next_from_the_date_it_was_held() {
    let e = engine();
    let c = case(report());
    let mut step = at(&e, "plan_active");
    step.reviews_scheduled.insert("review_conference".into(), 1);
    step.reviews_due.insert("review_conference".into());
    let facts = json!({"review_held_on": "2026-11-20", "child_views": "Wants the plan to go on"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let d = e
        .decide(
            &c,
            &step,
            &Command {
                event: "review_plan",
                role: RoleName::Chair,
                rationale: None,
                facts: &facts,
                agreed_actions: &[],
                default_owner: None,
            },
            now(),
        )
        .expect("reviewed");
    assert_eq!(d.reviews.len(), 1);
    let r = &d.reviews[0];
    assert!(r.held_previous);
    assert_eq!(r.number, 2);
    // Six months from Friday 20 November 2026 (the day held, not the day recorded).
    assert_eq!(r.due_at.to_rfc3339(), "2027-05-20T22:59:59+00:00");
}

#[test]
fn only_the_service_applies_the_event_at_18_and_people_see_what_they_may_do() {
    let e = engine();
    let c = case(report());
    let facts = Map::new();
    let cmd = Command {
        event: "close_at_18",
        role: RoleName::Chair,
        rationale: Some("A rationale long enough to count."),
        facts: &facts,
        agreed_actions: &[],
        default_owner: None,
    };
    let err = e
        .decide(&c, &at(&e, "plan_active"), &cmd, now())
        .expect_err("refused");
    assert_eq!(err.code(), "forbidden");
    let cmd = Command {
        event: "no_such_event",
        ..cmd
    };
    assert_eq!(
        e.decide(&c, &at(&e, "plan_active"), &cmd, now())
            .expect_err("refused")
            .code(),
        "unknown_event"
    );
    let cmd = Command {
        event: "accept_report",
        ..cmd
    };
    assert_eq!(
        e.decide(&c, &at(&e, "plan_active"), &cmd, now())
            .expect_err("refused")
            .code(),
        "event_not_allowed"
    );
    let allowed = e.allowed(
        &c,
        &[at(&e, "report_received")],
        RoleName::Practitioner,
        london_date(now()),
    );
    assert!(
        allowed.iter().all(|a| !a.permitted_for_you),
        "a practitioner applies no event here"
    );
}
