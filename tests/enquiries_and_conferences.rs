//! Section 47 enquiries and the initial child protection conference, each outcome and timescale
//! on SQLite and PostgreSQL. The dates are worked by hand from the test clock (Wednesday 25
//! November 2026, GMT) and the England and Wales working days: no bank holiday falls between
//! 23 November and 21 December 2026.
mod support;

use serde_json::{json, Value};
use support::*;

const REASONS: &str =
    "The conference found the risk is met by the care and support plan and school.";

fn at(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, h, 0, 0)
        .single()
        .expect("time")
}

/// The strategy meeting decides on enquiries; it was held on Monday 23 November.
fn meeting_starts_enquiry() -> Value {
    let mut facts = meeting_facts();
    if let Some(m) = facts.as_object_mut() {
        m.remove("icpc_needed");
        m.remove("plan_kind");
        m.insert("strategy_meeting_held_on".into(), json!("2026-11-23"));
    }
    facts
}

fn case_in_enquiry(app: &TestApp) -> String {
    let id = case_at_strategy_meeting(app);
    let (s, b) = app.event(&app.chair, &id, json!({"event": "start_section47_enquiry", "facts": meeting_starts_enquiry(), "agreed_actions": one_action()}));
    assert_eq!(s, 200, "{b}");
    id
}

fn case_at_conference(app: &TestApp) -> String {
    let id = case_in_enquiry(app);
    let (s, b) = app.event(
        &app.chair,
        &id,
        json!({"event": "s47_conference_needed", "facts": {"advocacy_active_offer_made": true}}),
    );
    assert_eq!(s, 200, "{b}");
    id
}

fn step(app: &TestApp, id: &str) -> Value {
    let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
    case["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["workflow"] == "cse-strategy")
        .cloned()
        .expect("pathway")
}

fn reviews(app: &TestApp, id: &str) -> Vec<String> {
    let (_, r) = app.get(&app.chair, &format!("/api/cases/{id}/reviews"));
    r["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["kind"].as_str().unwrap_or(""),
                r["number"],
                r["due_at"].as_str().unwrap_or("")
            )
        })
        .collect()
}

on_both_backends! {
    /// R4: a strategy meeting that decides on enquiries starts one, and says when it was held.
    fn r04_a_strategy_meeting_that_decides_on_enquiries_starts_a_section_47_enquiry(app) {
        let id = case_at_strategy_meeting(app);
        let mut facts = meeting_starts_enquiry();
        facts.as_object_mut().expect("facts").remove("strategy_meeting_held_on");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "start_section47_enquiry", "facts": facts, "agreed_actions": one_action()}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["strategy_meeting_held_on"]);
        assert_eq!(b["field"], "facts.strategy_meeting_held_on");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "start_section47_enquiry", "facts": meeting_starts_enquiry(), "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let w = step(app, &id);
        assert_eq!(w["state"], "section47_enquiry");
        // Counted from the meeting (Monday 23rd), not from when it was recorded (the 25th):
        // 15 working days end on Monday 14 December.
        assert_eq!(w["deadline"]["due_at"], "2026-12-14T23:59:59Z");
        assert!(w["deadline"]["source"].as_str().unwrap_or("").starts_with("assumption"), "{w}");
    }
}

on_both_backends! {
    /// "Not substantiated, ratified by a manager": a chair cannot record it; a team lead does,
    /// with a rationale and a referral for preventative work considered (R7, R14).
    fn s47_not_substantiated_is_ratified_by_a_manager_and_closes_with_preventative_work_considered(app) {
        let id = case_in_enquiry(app);
        let preventative = json!({"preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the school's family liaison service"});
        let (s, b) = app.event(&app.chair, &id, json!({"event": "s47_not_substantiated", "rationale": REASONS, "facts": preventative}));
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
        let lead = app.user("team_lead", "la-cardiff");
        let (s, b) = app.event(&lead, &id, json!({"event": "s47_not_substantiated", "facts": preventative}));
        assert_eq!((s, b["code"].as_str()), (422, Some("rationale_required")), "{b}");
        let (s, b) = app.event(&lead, &id, json!({"event": "s47_not_substantiated", "rationale": REASONS}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["preventative_referral_considered", "preventative_referral_outcome"]);
        let (s, b) = app.event(&lead, &id, json!({"event": "s47_not_substantiated", "rationale": REASONS, "facts": preventative}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["status"], "closed");
        assert_eq!(step(app, &id)["state"], "closed_no_further_action");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let last = h["history"].as_array().expect("history").iter().rev()
            .find(|e| e["event"] == "s47_not_substantiated").cloned().expect("the outcome in the history");
        assert_eq!(last["rationale"], REASONS, "{last}");
    }
}

on_both_backends! {
    /// "Substantiated, no continuing risk" leads to a care and support plan, agreed as any plan.
    fn s47_substantiated_with_no_continuing_risk_leads_to_a_care_and_support_plan(app) {
        let id = case_in_enquiry(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "s47_substantiated_no_continuing_risk"}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "plan_preparation");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online", "plan_kind": "care_and_support"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "plan_active");
    }
}

on_both_backends! {
    /// WSP c3pt2 p4: the initial conference within 15 working days of the last strategy
    /// meeting, however late the enquiry's outcome is recorded; the active offer of advocacy
    /// comes first (R15).
    fn icpc_within_15_working_days_of_the_strategy_meeting_after_the_advocacy_offer_wsp_c3pt2_p4_r15(app) {
        let id = case_in_enquiry(app);
        app.clock.set(at(2026, 11, 27, 10));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "s47_conference_needed"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["advocacy_active_offer_made"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "s47_conference_needed", "facts": {"advocacy_active_offer_made": true}}));
        assert_eq!(s, 200, "{b}");
        let w = step(app, &id);
        assert_eq!(w["state"], "initial_conference");
        // From Monday 23 November, not from Friday 27th (which would give 18 December).
        assert_eq!(w["deadline"]["due_at"], "2026-12-14T23:59:59Z");
        assert_eq!(w["deadline"]["due_at_local"], "Monday 14 December 2026, 23:59 GMT");
        assert!(w["deadline"]["source"].as_str().unwrap_or("").starts_with("WSP c3pt2 p4"), "{w}");
        assert_eq!(w["state_title"], "Initial child protection conference", "{w}");
    }
}

on_both_backends! {
    /// The conference registers the child under a category of registration; the outline plan,
    /// decisions and next date are due to everyone invited within 5 working days (WSP c3pt2
    /// p11), the first core group within 10 working days of the conference (WSP c3pt2 p13), and
    /// reviews then run as for any plan.
    fn icpc_registers_the_child_with_a_category_then_outline_plan_in_5_and_core_group_in_10_working_days(app) {
        let id = case_at_conference(app);
        app.clock.set(at(2026, 12, 7, 10));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "register_child"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["conference_held_on", "registration_category", "plan_agreed_on", "child_involvement_in_plan", "family_work"]);
        let held = json!({"conference_held_on": "2026-12-07", "plan_agreed_on": "2026-12-07", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"});
        let (s, b) = app.event(&app.chair, &id, json!({"event": "register_child", "facts": merge(held.clone(), json!({"registration_category": "exploitation"}))}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_choice"), Some("facts.registration_category")), "{b}");
        // The parents were asked to leave part of it: who, which part and why are recorded.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "register_child", "facts": merge(held.clone(), json!({"registration_category": "sexual_abuse", "family_excluded_from_part": true}))}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["exclusion_reason"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "register_child", "facts": merge(held, json!({
            "registration_category": "sexual_abuse", "family_excluded_from_part": true,
            "exclusion_reason": "The parents left while police shared intelligence about an adult of concern"}))}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "plan_active");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["registration_category"], "sexual_abuse");
        let outline: Vec<&Value> = case["agreed_actions"].as_array().expect("actions").iter()
            .filter(|a| a["kind"] == "send_outline_plan").collect();
        assert_eq!(outline.len(), 1, "{}", case["agreed_actions"]);
        // Monday 7 December + 5 working days.
        assert_eq!(outline[0]["due_date"], "2026-12-14", "{}", outline[0]);
        assert_eq!(outline[0]["cancellable"], false);
        // 10 working days from the conference: Monday 21 December; the first review
        // conference within 3 months: 7 March 2027.
        assert_eq!(reviews(app, &id), vec!["core_group 1 2026-12-21T23:59:59Z", "review_conference 1 2027-03-07T23:59:59Z"]);
    }
}

on_both_backends! {
    /// A conference that does not register the child records its reasons, and care and support
    /// continues; the outline plan still goes to everyone invited.
    fn icpc_not_registering_the_child_records_its_reasons(app) {
        let id = case_at_conference(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "not_registered", "facts": {"conference_held_on": "2026-11-25"}}));
        assert_eq!((s, b["code"].as_str()), (422, Some("rationale_required")), "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "not_registered", "rationale": REASONS}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["conference_held_on"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "not_registered", "rationale": REASONS, "facts": {"conference_held_on": "2026-11-25"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "care_and_support_planning");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert!(case["facts"].get("registration_category").is_none(), "no category for a child not registered: {}", case["facts"]);
        assert_eq!(case["agreed_actions"].as_array().expect("actions").iter().filter(|a| a["kind"] == "send_outline_plan").count(), 1);
        // The care and support plan is then agreed as any plan.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online", "plan_kind": "care_and_support"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "plan_active");
    }
}

on_both_backends! {
    /// R15: a child whose enquiries lead to a conference cannot have a plan agreed without one.
    fn r15_a_plan_is_not_agreed_without_the_conference_the_enquiries_lead_to(app) {
        let id = case_at_strategy_meeting(app);
        let facts = merge(meeting_facts(), json!({"icpc_needed": true, "plan_kind": "child_protection", "advocacy_active_offer_made": true}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": facts, "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["conference_held_on"]);
        // Convened two days after the meeting, which gave no date of its own: the conference
        // still counts from the meeting's end (Wednesday 25th), so is due on 16 December, not
        // on 18 December.
        app.clock.set(at(2026, 11, 27, 10));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_initial_conference"}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "initial_conference");
        assert_eq!(step(app, &id)["deadline"]["due_at"], "2026-12-16T23:59:59Z");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "register_child", "facts": {"conference_held_on": "2026-11-25", "plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online", "registration_category": "neglect"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &id)["state"], "plan_active");
    }
}
