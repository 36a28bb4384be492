//! A family moving from Cardiff to Newport with the child's plan (WSP c4 p9), on SQLite and
//! PostgreSQL, with a real SMTP server: Newport's team lead is told at once, by reference only;
//! during the handover Cardiff's team keeps the case and Newport's team lead sees it too, and a
//! third authority does not; the plan and its reviews stay in force; after Newport's transfer
//! conference Newport holds the case, gives it to a team of its own, and Cardiff no longer sees
//! it.
mod support;

use mail_parser::MessageParser;
use serde_json::{json, Value};
use support::smtp::SmtpSink;
use support::*;

fn step(app: &TestApp, token: &str, id: &str) -> Value {
    let (s, case) = app.get(token, &format!("/api/cases/{id}"));
    assert_eq!(s, 200, "{case}");
    case["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["workflow"] == "cse-strategy")
        .cloned()
        .expect("pathway")
}

on_both_backends! {
    fn a_plan_moves_with_the_family_to_another_welsh_authority_wsp_c4_p9(base) {
        let sink = SmtpSink::start();
        let app = &TestApp::spawn_with(backend_of(base), &[("SAFEGUARD_SMTP_URL", sink.url())]);
        let newport_lead = app.person("team_lead", "la-newport", "Newport team", "Newport Lead");
        let newport_chair = app.person("chair", "la-newport", "Newport team", "Newport Chair");
        let swansea_chair = app.user("chair", "la-swansea");
        let id = case_at_strategy_meeting(app);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "complete_strategy_meeting", "facts": meeting_facts(), "agreed_actions": one_action()}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan", "facts": {"plan_agreed_on": "2026-11-25", "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online"}}));
        assert_eq!(s, 200, "{b}");
        let (s, _) = app.get(&newport_chair.token, &format!("/api/cases/{id}"));
        assert_eq!(s, 404, "Newport does not see Cardiff's case before the family moves");

        let notify = |facts: Value| app.event(&app.chair, &id, json!({"event": "notify_transfer", "facts": facts}));
        let (s, b) = notify(json!({}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["receiving_authority"]);
        let (s, b) = notify(json!({"receiving_authority": "police-gwent"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("unknown_authority"), Some("facts.receiving_authority")), "{b}");
        let (s, b) = notify(json!({"receiving_authority": "la-cardiff"}));
        assert_eq!((s, b["code"].as_str()), (422, Some("same_authority")), "{b}");
        let (s, b) = notify(json!({"receiving_authority": "la-newport"}));
        assert_eq!(s, 200, "{b}");
        let w = step(app, &app.chair, &id);
        assert_eq!(w["state"], "transfer_in");
        // 15 working days from Wednesday 25 November: Wednesday 16 December.
        assert_eq!(w["deadline"]["due_at"], "2026-12-16T23:59:59Z");
        assert!(w["deadline"]["source"].as_str().unwrap_or("").starts_with("WSP c4 p9"), "{w}");

        // Newport's team lead is told at once, by the case's reference and never the child's name.
        app.drain_outbox();
        let mail: Vec<_> = sink.messages().into_iter().filter(|m| m.to.iter().any(|t| t == &newport_lead.email)).collect();
        assert_eq!(mail.len(), 1, "one notice to Newport's team lead");
        let parsed = MessageParser::default().parse(&mail[0].raw).expect("MIME parses");
        let subject = parsed.subject().unwrap_or_default().to_string();
        let body = parsed.body_text(0).map(|t| t.to_string()).unwrap_or_default();
        assert!(subject.contains("transferring to your authority") && subject.contains("trosglwyddo i’ch awdurdod"), "{subject}");
        assert!(body.contains("Cardiff") && body.contains("16 December 2026"), "{body}");
        let raw = mail[0].text();
        assert!(!raw.contains("Alpha") && !raw.contains("2012-05-14"), "no child's name or birth date in the notice: {raw}");

        // During the handover the team holding the case keeps it and Newport's team lead sees it
        // too; Newport's chairs, in no team of the case, and a third authority do not; the
        // plan's reviews stay due.
        assert_eq!(step(app, &newport_lead.token, &id)["state"], "transfer_in");
        assert_eq!(step(app, &app.chair, &id)["state"], "transfer_in");
        let (s, _) = app.get(&newport_chair.token, &format!("/api/cases/{id}"));
        assert_eq!(s, 404);
        let (s, _) = app.get(&swansea_chair, &format!("/api/cases/{id}"));
        assert_eq!(s, 404);
        let (_, r) = app.get(&newport_lead.token, &format!("/api/cases/{id}/reviews"));
        let due: Vec<&str> = r["reviews"].as_array().expect("reviews").iter()
            .filter(|r| r["status"] == "due").filter_map(|r| r["kind"].as_str()).collect();
        assert_eq!(due, vec!["core_group", "review_conference"], "{r}");

        // Newport holds the transfer conference; it then holds the case, and Cardiff no longer
        // sees it, neither the chair who held it nor Cardiff's team lead.
        let cardiff_lead = app.user("team_lead", "la-cardiff");
        let chair_id: String = {
            use diesel::prelude::*;
            use safeguard::storage::schema::{api_tokens, users};
            api_tokens::table.inner_join(users::table)
                .filter(api_tokens::token_hash.eq(safeguard::identity::hash_token(&app.chair)))
                .select(users::id).get_result(&mut app.conn()).expect("the chair")
        };
        assert_eq!(step(app, &cardiff_lead, &id)["state"], "transfer_in");
        let (s, b) = app.event(&newport_lead.token, &id, json!({"event": "hold_transfer_conference"}));
        assert_eq!(s, 422, "{b}");
        assert_eq!(missing_names(&b), vec!["transfer_conference_held_on"]);
        let (s, b) = app.event(&newport_lead.token, &id, json!({"event": "hold_transfer_conference", "facts": {"transfer_conference_held_on": "2026-11-25"}}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &newport_lead.token, &id)["state"], "plan_active");
        for cardiff in [&app.chair, &cardiff_lead] {
            let (s, _) = app.get(cardiff, &format!("/api/cases/{id}"));
            assert_eq!(s, 404, "Cardiff no longer sees the case");
        }
        // Newport's team lead gives it to a Newport team, whose chair then works it.
        let (_, case) = app.get(&newport_lead.token, &format!("/api/cases/{id}"));
        let (s, b) = app.post(&newport_lead.token, &format!("/api/cases/{id}/team"), &json!({"expected_version": case["version"], "team": "Newport team"}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(step(app, &newport_chair.token, &id)["state"], "plan_active");
        let (_, case) = app.get(&newport_chair.token, &format!("/api/cases/{id}"));
        assert_eq!((case["child"]["located_authority"].as_str(), case["child"]["residence_authority"].as_str()), (Some("la-newport"), Some("la-newport")), "{}", case["child"]);
        // Both moves are in the case's history, with the authorities either side.
        let (_, h) = app.get(&newport_chair.token, &format!("/api/cases/{id}/history"));
        let moves: Vec<Value> = h["history"].as_array().expect("history").iter()
            .filter_map(|e| e["payload"].get("authorities").filter(|a| !a.is_null()).cloned()).collect();
        assert_eq!(moves, vec![
            json!({"transfer": "begins", "from": "la-cardiff", "to": "la-newport", "residence_before": "la-cardiff"}),
            json!({"transfer": "completes", "from": "la-cardiff", "to": "la-newport", "team_before": "Test team",
                   "access_ended": {"involvements_ended": [chair_id], "naming_ended": []}}),
        ]);
        // The audit trail, replayed, gives the case as it now stands.
        let svc = &app.service.state.services;
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints).expect("verify");
        assert_eq!(report.problems, Vec::<String>::new());
    }
}
