//! One test (at least) per rule R1-R31 that the default workflows encode (R29 is in
//! tests/partner_referral.rs), each on SQLite and
//! PostgreSQL. A test shows what the chair would notice: a refusal naming what is missing, and
//! the step going through once it is recorded.
mod support;

use serde_json::{json, Value};
use support::*;

fn new_case(app: &TestApp, facts: Value) -> String {
    app.create_case(&app.chair, child(), facts)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn without(v: Value, keys: &[&str]) -> Value {
    let mut v = v;
    if let Some(m) = v.as_object_mut() {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

const RATIONALE: &str = "Both agencies agree the concern is met by universal services at school.";

on_both_backends! {
    fn r01_immediate_risk_needs_police_contact_time(app) {
        let id = new_case(app, merge(report_facts(), json!({"immediate_risk": true})));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["code"], "guards_unmet");
        assert_eq!(missing_names(&b), vec!["police_contacted_at"]);
        assert_eq!(b["field"], "facts.police_contacted_at");
        // A call in the future is not a record of a call made.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"police_contacted_at": "2026-12-25T09:00:00Z"}}));
        assert_eq!((s, b["code"].as_str()), (422, Some("datetime_in_future")), "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"police_contacted_at": "2026-11-25T09:12:00+00:00"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "strategy_discussion");
    }
}

on_both_backends! {
    fn r02_iaa_referral_consent_recorded_when_parents_cannot_meet_needs(app) {
        let id = new_case(app, merge(report_facts(), json!({"care_needs_parents_cannot_meet": true})));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["iaa_referral_consent"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"iaa_referral_consent": "maybe"}}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_choice"), Some("facts.iaa_referral_consent")));
        // Refusal is a valid answer: what matters is that it is recorded.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"iaa_referral_consent": "refused"}}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["iaa_referral_consent"], "refused");
    }
}

on_both_backends! {
    fn r03_both_limbs_of_s130_recorded(app) {
        let id = new_case(app, without(report_facts(), &["s130_harm", "s130_care_needs"]));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["s130_harm", "s130_care_needs"]);
        // Limb (b) answered no: not a child at risk, so the report cannot be accepted.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"s130_harm": true, "s130_care_needs": false}}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["s130_care_needs"]);
        // The refusal stored nothing, so both limbs are sent again.
        let (s, _) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"s130_harm": true, "s130_care_needs": true}}));
        assert_eq!(s, 200);
    }
}

on_both_backends! {
    fn r04_section_47_grounds_considered(app) {
        let id = new_case(app, without(report_facts(), &["section47_grounds"]));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["section47_grounds"]);
        let (s, _) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"section47_grounds": "no"}}));
        assert_eq!(s, 200);
    }
}

on_both_backends! {
    fn r05_decline_of_report_records_decision_and_rationale(app) {
        let id = new_case(app, merge(report_facts(), json!({"s130_care_needs": false})));
        let decline = json!({"event": "decline_report", "facts": {
            "preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the school's wellbeing service"}});
        let (s, b) = app.event(&app.chair, &id, decline.clone());
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("rationale_required"), Some("rationale")));
        let (s, b) = app.event(&app.chair, &id, merge(decline.clone(), json!({"rationale": "too short"})));
        assert_eq!((s, b["code"].as_str()), (422, Some("rationale_too_short")));
        // Nothing was stored by the refusals.
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["version"], 1);
        let (s, b) = app.event(&app.chair, &id, merge(decline, json!({"rationale": RATIONALE})));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "closed_no_further_action");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let last = h["history"].as_array().and_then(|l| l.last()).cloned().expect("history entry");
        assert_eq!(last["event"], "decline_report");
        assert_eq!(last["decline"], true);
        assert_eq!(last["rationale"], RATIONALE);
        assert_eq!(last["actor_name"], "Test User");
        assert!(last["at"].as_str().is_some());
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["status"], "closed");
    }
}

on_both_backends! {
    fn r06_each_relevant_authority_and_youth_justice_take_part(app) {
        let mut c = child();
        c["residence_authority"] = json!("la-newport");
        let id = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        let (s, _) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200);
        let mut facts = discussion_facts();
        facts["youth_justice_involved"] = json!(true);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": facts.clone()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["participants_include_each_relevant_authority", "participants_include_youth_justice_when_involved"]);
        facts["participants"] = json!(["la-cardiff", "police-south-wales"]);
        let (_, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": {"participants": ["la-cardiff", "la-newport"]}}));
        assert!(missing_names(&b).contains(&"participants_include_police_and_social_services".to_string()), "{b}");
        facts["participants"] = json!(["la-cardiff", "la-newport", "police-south-wales", "yjs-cardiff"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": facts}));
        assert_eq!(s, 200, "{b}");
        // An agency code that does not exist names the element at fault.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": {"attendance": [{"name": "X", "agency": "nowhere", "direct_knowledge": true}]}}));
        assert_eq!((s, b["field"].as_str()), (422, Some("facts.attendance[0].agency")));
    }
}

on_both_backends! {
    fn r06_invitees_suggested_from_the_start_police_and_social_services_of_each_authority(app) {
        // Located in Cardiff, living in Newport: two police forces and two health boards.
        let mut c = child();
        c["residence_authority"] = json!("la-newport");
        let id = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        let (s, _) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200);
        let suggested = |app: &TestApp| -> Vec<(String, String)> {
            let (s, b) = app.get(&app.chair, &format!("/api/cases/{id}/suggested-invitees"));
            assert_eq!(s, 200, "{b}");
            b["invitees"].as_array().expect("invitees").iter()
                .map(|i| (i["agency"].as_str().unwrap_or("").to_string(), i["role_key"].as_str().unwrap_or("").to_string()))
                .collect()
        };
        // Before anyone is recorded as taking part, the discussion's invitees already hold
        // both authorities' social services, the police and the health board of each.
        let before = suggested(app);
        let agencies: Vec<&str> = before.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(agencies, vec!["la-cardiff", "la-newport", "police-south-wales", "police-gwent", "health-cardiff-and-vale", "health-aneurin-bevan"], "{before:?}");
        assert!(before.iter().any(|(a, r)| a == "police-south-wales" && r == "police"));
        assert!(!agencies.iter().any(|a| a.starts_with("yjs-")), "no youth offending service until it is known to be involved");
        // Once the discussion records that the youth offending service is involved, the
        // service of each authority's area is suggested for the meeting.
        let mut facts = discussion_facts();
        facts["youth_justice_involved"] = json!(true);
        facts["participants"] = json!(["la-cardiff", "la-newport", "police-south-wales", "yjs-cardiff"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": facts}));
        assert_eq!(s, 200, "{b}");
        let after = suggested(app);
        let agencies: Vec<&str> = after.iter().map(|(a, _)| a.as_str()).collect();
        assert!(agencies.contains(&"yjs-cardiff") && agencies.contains(&"yjs-newport"), "{after:?}");
        assert_eq!(agencies.iter().filter(|a| **a == "police-south-wales").count(), 1, "each agency once");
    }
}

on_both_backends! {
    fn r07_preventative_referral_considered_when_no_strategy_meeting(app) {
        let id = new_case(app, report_facts());
        app.event(&app.chair, &id, json!({"event": "accept_report"}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "decline_strategy_meeting", "rationale": RATIONALE, "facts": discussion_facts()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["preventative_referral_considered", "preventative_referral_outcome"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "decline_strategy_meeting", "rationale": RATIONALE, "facts": merge(discussion_facts(), json!({
            "preventative_referral_considered": true, "preventative_referral_outcome": "Family support team referral made"}))}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "closed_no_further_action");
    }
}

on_both_backends! {
    fn r08_existing_plan_route_only_for_a_child_with_a_plan(app) {
        let no_plan = new_case(app, report_facts());
        app.event(&app.chair, &no_plan, json!({"event": "accept_report"}));
        let ev = json!({"event": "no_meeting_existing_plan", "rationale": "The existing care and support plan already addresses the concern.", "facts": discussion_facts()});
        let (s, b) = app.event(&app.chair, &no_plan, ev.clone());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["child_has_existing_plan"]);
        let mut c = child();
        c["existing_plan"] = json!("care_and_support");
        let with_plan = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        app.event(&app.chair, &with_plan, json!({"event": "accept_report"}));
        let (s, b) = app.event(&app.chair, &with_plan, ev);
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &with_plan, "cse-strategy"), "plan_active");
    }
}

fn complete(app: &TestApp, id: &str, facts: Value, actions: Value) -> (u16, Value) {
    app.event(
        &app.chair,
        id,
        json!({"event": "complete_strategy_meeting", "facts": facts, "agreed_actions": actions}),
    )
}

on_both_backends! {
    fn r09_attendance_with_direct_knowledge_per_attendee(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["attendance"]), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["attendance_recorded"]);
        let (s, b) = complete(app, &id, merge(meeting_facts(), json!({"attendance": [{"name": "Attendee One", "agency": "la-cardiff"}]})), one_action());
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("direct_knowledge_missing"), Some("facts.attendance[0].direct_knowledge")));
        let (s, b) = complete(app, &id, meeting_facts(), one_action());
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["attendance"][1]["direct_knowledge"], false);
    }
}

on_both_backends! {
    fn r10_other_issues_checklist_answered_in_full(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["other_issues"]), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["other_issues"]);
        let partial = json!({"going_missing": false, "trafficking": false, "criminal_exploitation": false, "harmful_sexual_behaviour": false});
        let (s, b) = complete(app, &id, merge(meeting_facts(), json!({"other_issues": partial})), one_action());
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("checklist_incomplete"), Some("facts.other_issues.online_abuse")));
    }
}

on_both_backends! {
    fn r11_practice_guides_referred_when_other_issues_present(app) {
        let id = case_at_strategy_meeting(app);
        let mut facts = meeting_facts();
        facts["other_issues"]["online_abuse"] = json!(true);
        let (s, b) = complete(app, &id, facts.clone(), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["practice_guides_referred"]);
        facts["practice_guides_referred"] = json!("All Wales practice guide: safeguarding children from online abuse");
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
    }
}

on_both_backends! {
    fn r12_trafficked_child_is_referred_to_icta_whenever_it_is_recorded_and_it_cannot_be_declined(app) {
        // Ticked only on the meeting's other-issues checklist: the ICTA referral is created
        // then, with the Home Office notification (R21), without the chair adding it by hand.
        let id = case_at_strategy_meeting(app);
        let mut facts = meeting_facts();
        facts["other_issues"]["trafficking"] = json!(true);
        facts["practice_guides_referred"] = json!("All Wales practice guide: trafficking of children");
        let (s, b) = complete(app, &id, facts.clone(), one_action());
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let actions = case["agreed_actions"].as_array().expect("actions");
        let icta = actions.iter().find(|a| a["kind"] == "icta_referral").cloned().expect("ICTA action");
        assert_eq!(icta["cancellable"], false);
        assert_eq!(icta["rules"], json!(["R12"]));
        assert_eq!(actions.iter().filter(|a| a["kind"] == "home_office_notification").count(), 1);
        // It cannot be cancelled.
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/actions/{}/updates", icta["id"].as_str().expect("id")),
            &json!({"status": "cancelled", "note": "No longer thought to be trafficked", "rationale": RATIONALE}));
        assert_eq!((s, b["code"].as_str()), (422, Some("not_cancellable")), "{b}");
        // Declining the plan does not get round it either: a decline creates it too.
        let id = case_at_strategy_meeting(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE,
            "facts": merge(facts, json!({"preventative_referral_considered": true, "preventative_referral_outcome": "n/a"})), "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let kinds: Vec<&str> = case["agreed_actions"].as_array().expect("actions").iter().filter_map(|a| a["kind"].as_str()).collect();
        assert!(kinds.contains(&"icta_referral") && kinds.contains(&"home_office_notification"), "{kinds:?}");
    }
}

on_both_backends! {
    fn r12_r21_trafficking_first_recorded_at_the_strategy_discussion_creates_both_actions_once(app) {
        let id = new_case(app, report_facts());
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        let kinds = |app: &TestApp| -> Vec<String> {
            let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
            case["agreed_actions"].as_array().expect("actions").iter().filter_map(|a| a["kind"].as_str().map(str::to_string)).collect()
        };
        assert!(kinds(app).is_empty(), "nothing to do for trafficking yet");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting",
            "facts": merge(discussion_facts(), json!({"trafficking_suspected": true}))}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(kinds(app), vec!["icta_referral", "home_office_notification"]);
        // Ticked again at the meeting: still one of each.
        let mut facts = meeting_facts();
        facts["other_issues"]["trafficking"] = json!(true);
        facts["practice_guides_referred"] = json!("All Wales practice guide: trafficking of children");
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
        let after = kinds(app);
        assert_eq!(after.iter().filter(|k| *k == "icta_referral").count(), 1, "{after:?}");
        assert_eq!(after.iter().filter(|k| *k == "home_office_notification").count(), 1, "{after:?}");
    }
}

on_both_backends! {
    fn r13_meeting_must_end_with_agreed_actions_informing_a_plan(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["plan_kind"]), json!([]));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["agreed_actions", "plan_kind"]);
        let (s, b) = complete(app, &id, meeting_facts(), json!([{"title": "Safety plan", "owner_name": "Attendee One", "owner_email": "attendee.one@example.invalid", "due_date": "2026-11-20"}]));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("due_date_in_past"), Some("agreed_actions[0].due_date")));
        let (s, b) = complete(app, &id, meeting_facts(), json!([{"title": "Safety plan", "owner_name": "Attendee One", "owner_email": "not-an-address"}]));
        assert_eq!((s, b["field"].as_str()), (400, Some("agreed_actions[0].owner_email")));
        let (s, b) = complete(app, &id, meeting_facts(), one_action());
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["actions_created"].as_array().map(Vec::len), Some(1));
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "plan_preparation");
    }
}

on_both_backends! {
    fn r14_no_plan_needs_rationale_and_preventative_consideration(app) {
        let id = case_at_strategy_meeting(app);
        let facts = without(meeting_facts(), &["plan_kind"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "facts": facts.clone()}));
        assert_eq!((s, b["code"].as_str()), (422, Some("rationale_required")));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE, "facts": facts.clone()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["preventative_referral_considered", "preventative_referral_outcome"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE,
            "facts": merge(facts, json!({"preventative_referral_considered": true, "preventative_referral_outcome": "Youth service offered"}))}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "closed_no_further_action");
    }
}

on_both_backends! {
    fn r15_active_offer_of_advocacy(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, merge(meeting_facts(), json!({"icpc_needed": true, "plan_kind": "child_protection"})), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["advocacy_active_offer_made"]);
        let (s, b) = complete(app, &id, merge(meeting_facts(), json!({"icpc_needed": true, "plan_kind": "child_protection", "advocacy_active_offer_made": true})), one_action());
        assert_eq!(s, 200, "{b}");
        // A looked-after child gets the offer even without a conference.
        let mut c = child();
        c["looked_after"] = json!(true);
        let la = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        app.event(&app.chair, &la, json!({"event": "accept_report"}));
        app.event(&app.chair, &la, json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}));
        let (s, b) = complete(app, &la, meeting_facts(), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["advocacy_active_offer_made"]);
    }
}

on_both_backends! {
    fn r16_child_protection_duties_continue_until_18th_birthday(app) {
        // 17 years 9 months old at referral: the transition track starts at once.
        let mut c = child();
        c["date_of_birth"] = json!("2009-02-28");
        let id = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        let (s, b) = app.event(&app.chair, &id, json!({"event": "young_person_declines_adult_services", "workflow": "age18-transition",
            "rationale": "The young person has said clearly they do not want adult services.",
            "facts": {"adult_support_outcome": "Details of Bawso and New Pathways given", "young_person_told_about_support": true}}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "hand_over", "workflow": "age18-transition"}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["child_is_18"]);
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 2, 28, 9, 0, 0).single().expect("time"));
        // Three months on, the chair's first token has expired: they have a new one.
        assert_eq!(app.get(&app.chair, &format!("/api/cases/{id}")).0, 401);
        let chair = app.renewed_token(&app.chair);
        let (s, b) = app.event(&chair, &id, json!({"event": "hand_over", "workflow": "age18-transition"}));
        assert_eq!(s, 200, "{b}");
        // An 18-year-old cannot be referred as a child at all.
        let mut adult = child();
        adult["date_of_birth"] = json!("2009-02-27");
        let (s, b) = app.post(&chair, "/api/cases", &json!({"child": adult, "facts": report_facts()}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("not_a_child"), Some("child.date_of_birth")));
    }
}

on_both_backends! {
    fn r17_referral_to_adult_services_through_pathway_planning(app) {
        let mut c = child();
        c["date_of_birth"] = json!("2009-03-10");
        c["looked_after"] = json!(true);
        let case = app.create_case(&app.chair, c, report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        let kinds: Vec<&str> = case["agreed_actions"].as_array().expect("actions").iter().filter_map(|a| a["kind"].as_str()).collect();
        for k in ["adult_services_referral", "pathway_planning", "adult_at_risk_report", "adult_support_services", "tell_about_support"] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        let facts = json!({"adult_services_referred_on": "2026-11-24", "s128_report": "made",
            "adult_support_services": {"bawso": false, "new_pathways": true, "welsh_womens_aid": false},
            "adult_support_outcome": "Referred to New Pathways", "young_person_told_about_support": true});
        let (s, b) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition", "facts": facts.clone()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["pathway_plan_updated"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition", "facts": merge(facts, json!({"pathway_plan_updated": true}))}));
        assert_eq!(s, 200, "{b}");
        // A 14-year-old has no transition track yet.
        let young = app.create_case(&app.chair, child(), report_facts());
        assert_eq!(young["workflows"].as_array().map(Vec::len), Some(1));
    }
}

fn transition_case(app: &TestApp) -> String {
    let mut c = child();
    c["date_of_birth"] = json!("2009-04-01");
    app.create_case(&app.chair, c, report_facts())["id"]
        .as_str()
        .expect("id")
        .to_string()
}

on_both_backends! {
    fn r18_adult_at_risk_report_decided_with_reason(app) {
        let id = transition_case(app);
        let facts = json!({"adult_services_referred_on": "2026-11-24", "s128_report": "not_needed",
            "adult_support_services": {"bawso": false, "new_pathways": false, "welsh_womens_aid": false},
            "adult_support_outcome": "None wanted", "young_person_told_about_support": true});
        let (s, b) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition", "facts": facts.clone()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["s128_reason"]);
        let (s, _) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition",
            "facts": merge(facts, json!({"s128_reason": "No care and support needs as an adult identified"}))}));
        assert_eq!(s, 200);
    }
}

on_both_backends! {
    fn r19_adult_support_services_considered(app) {
        let id = transition_case(app);
        let base = json!({"adult_services_referred_on": "2026-11-24", "s128_report": "made", "young_person_told_about_support": true});
        let (s, b) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition", "facts": base.clone()}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["adult_support_services", "adult_support_outcome"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "record_transition_referrals", "workflow": "age18-transition",
            "facts": merge(base, json!({"adult_support_services": {"bawso": true}}))}));
        assert_eq!((s, b["field"].as_str()), (400, Some("facts.adult_support_services.new_pathways")));
    }
}

on_both_backends! {
    fn r20_child_told_about_meic_childline_and_commissioner(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, merge(meeting_facts(), json!({"child_told_about_support": false})), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["child_told_about_support"]);
        // On the age-18 track the action names the three services, in both languages, and is
        // a different action from the referral to adult services (R19).
        let mut c = child();
        c["date_of_birth"] = json!("2009-03-10");
        let case = app.create_case(&app.chair, c, report_facts());
        let actions = case["agreed_actions"].as_array().expect("actions");
        let tell = actions.iter().find(|a| a["kind"] == "tell_about_support").expect("R20 action");
        let title = tell["title"].as_str().unwrap_or("");
        for service in ["Meic", "Childline", "Children's Commissioner for Wales"] {
            assert!(title.contains(service), "{title}");
        }
        assert!(!title.contains("adult"), "{title}");
        assert!(actions.iter().any(|a| a["kind"] == "adult_support_services"), "R19's services are their own action");
        let (_, wf) = app.get(&app.chair, "/api/workflows/age18-transition");
        let welsh = wf.to_string();
        assert!(welsh.contains("Meic, Childline a Chomisiynydd Plant Cymru"), "the Welsh title names them too");
    }
}

on_both_backends! {
    fn r21_potential_trafficking_notifies_home_office_and_icta(app) {
        let id = new_case(app, merge(report_facts(), json!({"trafficking_suspected": true})));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let actions = case["agreed_actions"].as_array().expect("actions");
        let kinds: Vec<&str> = actions.iter().filter_map(|a| a["kind"].as_str()).collect();
        assert_eq!(kinds, vec!["icta_referral", "home_office_notification"]);
        assert!(actions.iter().all(|a| a["cancellable"] == false));
        // Flagging trafficking again at the meeting does not duplicate the notification.
        let mut facts = meeting_facts();
        facts["other_issues"]["trafficking"] = json!(true);
        facts["practice_guides_referred"] = json!("All Wales practice guide: trafficking of children");
        app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}));
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let notifications = case["agreed_actions"].as_array().expect("actions").iter().filter(|a| a["kind"] == "home_office_notification").count();
        assert_eq!(notifications, 1);
    }
}

on_both_backends! {
    fn r22_child_seen_and_heard(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["child_views", "child_seen_alone"]), one_action());
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["child_views", "child_seen_alone"]);
    }
}

on_both_backends! {
    fn r23_signs_recorded_in_all_four_groups(app) {
        let id = new_case(app, without(report_facts(), &["signs_physical", "signs_emotional", "signs_material", "signs_behavioural"]));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report"}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["signs_physical", "signs_emotional", "signs_material", "signs_behavioural"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"signs_physical": "   "}}));
        assert_eq!((s, b["code"].as_str()), (400, Some("empty_fact")));
    }
}

on_both_backends! {
    fn r24_information_shared_is_recorded(app) {
        let id = new_case(app, report_facts());
        app.event(&app.chair, &id, json!({"event": "accept_report"}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": without(discussion_facts(), &["information_shared"])}));
        assert_eq!(s, 422);
        assert_eq!(missing_names(&b), vec!["information_shared"]);
        // A sentence of free text is not a record of each disclosure.
        let send = |shared: Value| app.event(&app.chair, &id, json!({"event": "convene_strategy_meeting", "facts": merge(discussion_facts(), json!({"information_shared": shared}))}));
        let (s, b) = send(json!("Police shared intelligence under the duty to prevent serious harm"));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_fact"), Some("facts.information_shared")), "{b}");
        let one = discussion_facts()["information_shared"][0].clone();
        let (s, b) = send(json!([merge(one.clone(), json!({"lawful_basis": "because it seemed right"}))]));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_choice"), Some("facts.information_shared[0].lawful_basis")), "{b}");
        let (s, b) = send(json!([one.clone(), without(one.clone(), &["decided_by"])]));
        assert_eq!((s, b["field"].as_str()), (400, Some("facts.information_shared[1].decided_by")), "{b}");
        let health = json!({"what": "Missed appointments at the sexual health clinic", "shared_with": "Police South Wales",
                            "lawful_basis": "safeguarding_children", "decided_by": "Named Nurse Example"});
        let (s, b) = send(json!([one, health]));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        let bases: Vec<&str> = case["facts"]["information_shared"].as_array().expect("disclosures").iter()
            .filter_map(|d| d["lawful_basis"].as_str()).collect();
        assert_eq!(bases, vec!["prevent_serious_harm", "safeguarding_children"]);
        // The case record, step by step, shows each disclosure in the reader's language.
        let person = app.person("chair", "la-cardiff", "Test team", "Chair Two");
        let web = support::web::Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let reference = case["reference"].as_str().expect("reference");
        let page = web.get(&format!("/cases/{reference}/chronology")).body;
        assert!(page.contains("Missed appointments at the sexual health clinic, shared with Police South Wales (Safeguarding children and individuals at risk (Data Protection Act 2018, Schedule 1, paragraph 18); decided by Named Nurse Example)"), "{page}");
        web.get("/language/cy?back=/");
        let page = web.get(&format!("/cases/{reference}/chronology")).body;
        assert!(page.contains("wedi’i rannu â Police South Wales (Diogelu plant ac unigolion sy’n wynebu risg (Deddf Diogelu Data 2018, Atodlen 1, paragraff 18); penderfynwyd gan Named Nurse Example)"), "{page}");
    }
}

on_both_backends! {
    fn full_pathway_to_plan_reviews_and_closure(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, meeting_facts(), one_action());
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}}));
        assert_eq!(s, 200, "{b}");
        // The plan's reviews are deadlines of their own: the first core group within 10 working
        // days (Wednesday 9 December), the first review conference within 3 months.
        let due = |app: &TestApp| {
            let (_, r) = app.get(&app.chair, &format!("/api/cases/{id}/reviews"));
            r["reviews"].as_array().expect("reviews").iter()
                .map(|r| format!("{} {} {} {}", r["kind"].as_str().unwrap_or(""), r["number"], r["status"].as_str().unwrap_or(""), r["due_at"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
        };
        assert_eq!(due(app), vec!["core_group 1 due 2026-12-09T23:59:59Z", "review_conference 1 due 2027-02-25T23:59:59Z"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-25", "child_views": "Says the plan is helping"}}));
        assert_eq!(s, 200, "{b}");
        // Later review conferences every 6 months (summer time by then).
        assert!(due(app).contains(&"review_conference 2 due 2027-05-25T22:59:59Z".to_string()), "{:?}", due(app));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "end_plan", "rationale": "Deregistered at the review conference: risk reduced.", "facts": {"plan_end_reason": "deregistered_at_review"}}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["status"], "closed");
        assert_eq!(case["version"], 7);
    }
}

/// A case at the plan-in-place step, its plan agreed on 25 November 2026.
fn case_with_plan(app: &TestApp) -> String {
    let id = case_at_strategy_meeting(app);
    let (s, b) = complete(app, &id, meeting_facts(), one_action());
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.event(
        &app.chair,
        &id,
        json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}}),
    );
    assert_eq!(s, 200, "{b}");
    id
}

on_both_backends! {
    /// R22 at every review: the child's views heard at the strategy meeting do not answer for a
    /// review conference; each review records its own.
    fn r22_each_review_hears_the_child_again(app) {
        let id = case_with_plan(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-25"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["child_views"]);
        assert_eq!(b["field"], "facts.child_views");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-25", "child_views": "First review: wants more time with friends"}}));
        assert_eq!(s, 200, "{b}");
        // The second review is not met by the first review's views either.
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-25"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["child_views"]);
    }
}

on_both_backends! {
    /// A second review without a date of its own is refused, naming the field; each date stays
    /// with the review that recorded it.
    fn each_review_records_its_own_date(app) {
        let id = case_with_plan(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-24", "child_views": "First review views"}}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"child_views": "Second review views"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["review_held_on"]);
        assert_eq!(b["field"], "facts.review_held_on");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "review_plan", "facts": {"review_held_on": "2026-11-25", "child_views": "Second review views"}}));
        assert_eq!(s, 200, "{b}");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let reviews: Vec<(String, String)> = h["history"].as_array().expect("history").iter()
            .filter(|e| e["event"] == "review_plan")
            .map(|e| (e["payload"]["facts"]["review_held_on"].as_str().unwrap_or("").to_string(),
                      e["payload"]["facts"]["child_views"].as_str().unwrap_or("").to_string()))
            .collect();
        assert_eq!(reviews, vec![
            ("2026-11-24".to_string(), "First review views".to_string()),
            ("2026-11-25".to_string(), "Second review views".to_string()),
        ]);
        // Per-event facts are not kept on the case as if they held for good.
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert!(case["facts"].get("review_held_on").is_none(), "{}", case["facts"]);
        assert_eq!(case["facts"]["plan_agreed_on"], "2026-11-25", "lasting facts stay on the case");
    }
}

on_both_backends! {
    fn each_core_group_records_its_own_date(app) {
        let id = case_with_plan(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "hold_core_group", "facts": {"core_group_held_on": "2026-11-25"}}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "hold_core_group"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["core_group_held_on"]);
        assert_eq!(b["field"], "facts.core_group_held_on");
    }
}

on_both_backends! {
    /// R25: the child's communication needs are answered at every outcome of the meeting, and
    /// how they were met is recorded when there are any; a disabled or sensory-impaired child's
    /// barriers and additional safeguards are recorded.
    fn r25_communication_needs_and_how_they_were_met_and_safeguards_for_a_disabled_child(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["communication_needs", "disability_or_sensory_impairment"]), one_action());
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["communication_needs", "disability_or_sensory_impairment"]);
        let mut facts = meeting_facts();
        facts["communication_needs"]["british_sign_language"] = json!(true);
        facts["disability_or_sensory_impairment"] = json!(true);
        let (s, b) = complete(app, &id, facts.clone(), one_action());
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["communication_needs_met", "additional_safeguards"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE, "facts": facts}));
        assert_eq!(s, 422, "{b}");
        assert!(missing_names(&b).iter().any(|n| n == "communication_needs_met"), "the same at the no-plan outcome: {b}");
        facts["communication_needs_met"] = json!("A registered BSL interpreter joined the meeting with the child");
        facts["additional_safeguards"] = json!("Visual safety plan; the child's key worker at every visit");
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["communication_needs"]["british_sign_language"], true);
        assert_eq!(case["facts"]["additional_safeguards"], "Visual safety plan; the child's key worker at every visit");
    }
}

on_both_backends! {
    /// R26: for an unaccompanied asylum-seeking child, the specific safeguarding measures are
    /// considered in planning with and for them.
    fn r26_unaccompanied_asylum_seeking_child_has_specific_measures_considered(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["unaccompanied_asylum_seeking"]), one_action());
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["unaccompanied_asylum_seeking"]);
        let facts = merge(meeting_facts(), json!({"unaccompanied_asylum_seeking": true}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "start_section47_enquiry", "facts": merge(facts.clone(), json!({"strategy_meeting_held_on": "2026-11-25"})), "agreed_actions": one_action()}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["uasc_measures"]);
        let facts = merge(facts, json!({"uasc_measures": "Placement address withheld from the age-assessment file; a trusted adult named"}));
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
    }
}

on_both_backends! {
    /// R27: the places, peer groups and networks around the child are considered at each
    /// outcome of the meeting, including the one that ends without a plan.
    fn r27_places_peer_groups_and_networks_are_considered(app) {
        let id = case_at_strategy_meeting(app);
        let facts = merge(without(meeting_facts(), &["contexts_considered"]), json!({
            "preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the youth service"}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE, "facts": facts.clone()}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["contexts_considered"]);
        let facts = merge(facts, json!({"contexts_considered": "The bus station where the child is collected by older youths"}));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "close_meeting_no_plan", "rationale": RATIONALE, "facts": facts}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.state_of(&app.chair, &id, "cse-strategy"), "closed_no_further_action");
    }
}

on_both_backends! {
    /// R28: abuse by another child is understood in its context, with support for the child who
    /// harmed.
    fn r28_peer_on_peer_abuse_is_understood_in_context_and_the_child_who_harmed_supported(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, without(meeting_facts(), &["harm_by_peer"]), one_action());
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["harm_by_peer"]);
        let facts = merge(meeting_facts(), json!({"harm_by_peer": true}));
        let (s, b) = complete(app, &id, facts.clone(), one_action());
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["peer_abuse_response"]);
        let facts = merge(facts, json!({"peer_abuse_response": "Both children in one friendship group; the other child referred for harmful sexual behaviour support"}));
        let (s, b) = complete(app, &id, facts, one_action());
        assert_eq!(s, 200, "{b}");
    }
}

on_both_backends! {
    /// R30 and R31: a plan is agreed, or a child registered, only with how the child was
    /// involved in planning and the work with the family recorded.
    fn r30_r31_the_plan_records_the_childs_involvement_and_the_work_with_the_family(app) {
        let id = case_at_strategy_meeting(app);
        let (s, b) = complete(app, &id, meeting_facts(), one_action());
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["child_involvement_in_plan", "family_work"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25",
            "child_involvement_in_plan": "Wrote the plan's first page with their advocate"}}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["family_work"]);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25",
            "child_involvement_in_plan": "Wrote the plan's first page with their advocate",
            "family_work": "Family group conference booked; the stepfather's contact is supervised"}}));
        assert_eq!(s, 200, "{b}");
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["facts"]["family_work"], "Family group conference booked; the stepfather's contact is supervised");
    }
}

on_both_backends! {
    /// R25 and R26 as the chair meets them: once a child's needs are recorded, each step's
    /// guidance adds what the practice guide says about them, and the page of a meeting with
    /// the child says what to book for them, for that child only.
    fn r25_r26_a_childs_needs_add_the_guides_words_to_each_step_and_what_to_book_to_each_meeting(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Nine");
        let needs = merge(report_facts(), json!({
            "communication_needs": {"other_language": false, "interpreter": false, "british_sign_language": true, "communication_aids": false},
            "disability_or_sensory_impairment": true, "unaccompanied_asylum_seeking": true}));
        let (s, with_needs) = app.post(&chair.token, "/api/cases", &json!({"child": child(), "facts": needs}));
        assert_eq!(s, 201, "{with_needs}");
        let (s, other) = app.post(&chair.token, "/api/cases", &json!({"child": child(), "facts": report_facts()}));
        assert_eq!(s, 201, "{other}");
        let notes = |case: &Value| -> Vec<String> {
            let (_, c) = app.get(&chair.token, &format!("/api/cases/{}", case["id"].as_str().expect("id")));
            c["workflows"][0]["notes"].as_array().expect("notes").iter()
                .map(|n| n["text"].as_str().unwrap_or_default().to_string()).collect()
        };
        let shown = notes(&with_needs);
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].starts_with("The child uses British Sign Language: book a registered BSL interpreter"), "{shown:?}");
        assert!(shown[1].starts_with("Sensory impaired and disabled children are at an increased risk of abuse"), "{shown:?}");
        assert!(shown[2].starts_with("An unaccompanied asylum-seeking child:"), "{shown:?}");
        assert_eq!(notes(&other), Vec::<String>::new(), "the other child's steps carry the guidance alone");

        let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
            "kind": "strategy_discussion", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00",
            "location": "Room 2", "cases": [with_needs["reference"], other["reference"]],
            "invitees": [{"name": "Officer Police", "email": "officer@police.example", "role": "detective sergeant"}]}));
        assert_eq!(s, 201, "{m}");
        let (_, view) = app.get(&chair.token, &format!("/api/meetings/{}", m["id"].as_str().expect("id")));
        let to_book: Vec<(String, usize)> = view["cases"].as_array().expect("cases").iter()
            .map(|c| (c["reference"].as_str().unwrap_or_default().to_string(), c["to_book"].as_array().map_or(0, Vec::len)))
            .collect();
        assert_eq!(to_book, vec![
            (with_needs["reference"].as_str().expect("ref").to_string(), 2),
            (other["reference"].as_str().expect("ref").to_string(), 0),
        ], "the interpreter and the support to book, for the child who needs them");

        let web = support::web::Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let page = web.get(&format!("/meetings/{}", m["id"].as_str().expect("id")));
        assert_eq!(page.status, 200);
        let reference = with_needs["reference"].as_str().expect("ref");
        let warning = page.body.split(&format!("id=\"to-book-{reference}\"")).nth(1).expect("a warning for the child").split("</div></div>").next().unwrap_or_default().to_string();
        assert!(warning.contains(&format!("To book for each meeting with {reference}:")) && warning.contains("registered BSL interpreter"), "{warning}");
        let case_page = web.get(&format!("/cases/{reference}")).body;
        assert!(case_page.contains("For this child:</strong> The child uses British Sign Language"), "the case page too");
    }
}
