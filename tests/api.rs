//! The JSON API as a client meets it: authentication, access, versions, errors, history and
//! the access log. Each test runs on SQLite and PostgreSQL.
mod support;

use serde_json::{json, Value};
use support::*;

on_both_backends! {
    fn health_is_open_and_everything_else_needs_a_token(app) {
        assert_eq!(app.get_anonymous("/healthz").0, 200);
        let (s, b) = app.get_anonymous("/readyz");
        assert_eq!(s, 200);
        assert_eq!(b["workflows"], json!(["age18-transition v5", "cse-strategy v9"]));
        for path in ["/api/cases", "/api/openapi.json", "/api/workflows", "/api/agencies", "/api/me"] {
            let (s, b) = app.get_anonymous(path);
            assert_eq!((s, b["code"].as_str()), (401, Some("unauthorized")), "{path}");
        }
        let (s, _) = app.get("sg_not_a_real_token", "/api/cases");
        assert_eq!(s, 401);
        let (s, b) = app.get(&app.chair, "/api/no-such-route");
        assert_eq!((s, b["code"].as_str()), (404, Some("not_found")));
    }
}

on_both_backends! {
    fn another_authority_gets_404_not_403(app) {
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        let reference = case["reference"].as_str().expect("reference");
        assert!(reference.starts_with("CSE-2026-"), "{reference}");
        let outsider = app.user("chair", "la-swansea");
        for path in [format!("/api/cases/{id}"), format!("/api/cases/{reference}"), format!("/api/cases/{id}/history"),
                     format!("/api/cases/{id}/events/allowed")] {
            let (s, b) = app.get(&outsider, &path);
            assert_eq!(s, 404, "{path}: {b}");
            // The answer is the same as for a case that does not exist at all.
            let (s2, b2) = app.get(&outsider, "/api/cases/00000000-0000-0000-0000-000000000000");
            assert_eq!((s, &b), (s2, &b2));
        }
        let (s, _) = app.post(&outsider, &format!("/api/cases/{id}/events"), &json!({"event": "accept_report", "expected_version": 1}));
        assert_eq!(s, 404);
        let (_, list) = app.get(&outsider, "/api/cases");
        assert_eq!(list["cases"], json!([]));
        // Someone the chair involves sees it, and the grant is in the audit trail.
        let (police, police_email) = app.user_with_email("practitioner", "police-dyfed-powys");
        assert_eq!(app.get(&police, &format!("/api/cases/{id}")).0, 404);
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/involvements"),
            &json!({"expected_version": 1, "agency": "police-dyfed-powys", "role": "investigating officer", "user_email": police_email}));
        assert_eq!(s, 201, "{b}");
        let (s, seen) = app.get(&police, &format!("/api/cases/{id}"));
        assert_eq!((s, seen["version"].as_i64()), (200, Some(2)));
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        assert_eq!(h["history"].as_array().and_then(|l| l.last()).map(|e| e["kind"].clone()), Some(json!("involvement_added")));
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/involvements"),
            &json!({"expected_version": 2, "agency": "police-dyfed-powys", "role": "officer", "user_email": "nobody@example.invalid"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("unknown_user"), Some("user_email")));
        // An administrator of the same authority does not read casework.
        let admin = app.user("administrator", "la-cardiff");
        assert_eq!(app.get(&admin, &format!("/api/cases/{id}")).0, 404);
        // The authority of residence sees a case too.
        let mut c = child();
        c["residence_authority"] = json!("la-swansea");
        let shared = app.create_case(&app.chair, c, report_facts());
        let (s, _) = app.get(&outsider, &format!("/api/cases/{}", shared["id"].as_str().expect("id")));
        assert_eq!(s, 200);
    }
}

on_both_backends! {
    fn stale_version_gets_409_and_changes_nothing(app) {
        let case = app.create_case(&app.chair, child(), report_facts());
        let id = case["id"].as_str().expect("id");
        let path = format!("/api/cases/{id}/events");
        let (s, b) = app.post(&app.chair, &path, &json!({"event": "accept_report", "expected_version": 1}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["version"], 2);
        // A second chair still holding version 1 tries to decline.
        let (s, b) = app.post(&app.chair, &path, &json!({"event": "decline_report", "expected_version": 1,
            "rationale": "Not a child at risk on the information we hold today."}));
        assert_eq!((s, b["code"].as_str()), (409, Some("stale_version")), "{b}");
        let (_, now) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(now["version"], 2);
        assert_eq!(app.state_of(&app.chair, id, "cse-strategy"), "strategy_discussion");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        assert_eq!(h["history"].as_array().map(Vec::len), Some(3), "created, workflow started, accepted");
    }
}

on_both_backends! {
    fn bad_case_input_names_the_field(app) {
        let cases: Vec<(Value, u16, &str, &str)> = vec![
            (json!({"date_of_birth": "14/05/2012"}), 400, "invalid_date", "child.date_of_birth"),
            (json!({"date_of_birth": "2027-01-01"}), 422, "date_of_birth_in_future", "child.date_of_birth"),
            (json!({"located_authority": "la-atlantis"}), 422, "unknown_authority", "child.located_authority"),
            (json!({"residence_authority": "police-gwent"}), 422, "not_a_local_authority", "child.residence_authority"),
            (json!({"name": "  "}), 400, "required", "child.name"),
            (json!({"existing_plan": "some"}), 400, "invalid_choice", "child.existing_plan"),
        ];
        for (patch, status, code, field) in cases {
            let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": merge(child(), patch.clone()), "facts": report_facts()}));
            assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (status, Some(code), Some(field)), "{patch}: {b}");
        }
        let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": child(), "facts": {"favourite_colour": "blue"}}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("unknown_fact"), Some("facts.favourite_colour")));
        let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": {"name": "Test Child"}}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_body"), Some("date_of_birth")), "{b}");
        // None of it was stored.
        let (_, list) = app.get(&app.chair, "/api/cases");
        assert_eq!(list["cases"], json!([]));
    }
}

on_both_backends! {
    fn bad_events_are_refused_with_codes(app) {
        let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        let (s, b) = app.event(&app.chair, &id, json!({"event": "teleport"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("unknown_event"), Some("event")));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "agree_plan"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("event_not_allowed"), Some("event")));
        assert!(b["message"].as_str().unwrap_or("").contains("accept_report"), "{b}");
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "workflow": "age18-transition"}));
        assert_eq!((s, b["code"].as_str()), (422, Some("workflow_not_running")));
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "facts": {"police_contacted_at": "yesterday"}}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_datetime"), Some("facts.police_contacted_at")));
        let practitioner = app.user("practitioner", "la-cardiff");
        let (s, b) = app.event(&practitioner, &id, json!({"event": "accept_report"}));
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
        // A body over the limit is refused before it is parsed.
        let huge = "x".repeat(70_000);
        let (s, b) = app.event(&app.chair, &id, json!({"event": "accept_report", "rationale": huge}));
        assert_eq!((s, b["code"].as_str()), (413, Some("payload_too_large")));
        let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(case["version"], 1);
    }
}

on_both_backends! {
    fn allowed_events_say_what_is_still_needed(app) {
        let id = app.create_case(&app.chair, child(), json!({"immediate_risk": true}))["id"].as_str().expect("id").to_string();
        let (s, b) = app.get(&app.chair, &format!("/api/cases/{id}/events/allowed"));
        assert_eq!(s, 200);
        let accept = b["events"].as_array().and_then(|l| l.iter().find(|e| e["event"] == "accept_report")).cloned().expect("accept_report");
        let needed: Vec<&str> = accept["still_needed"].as_array().expect("list").iter().filter_map(|m| m["name"].as_str()).collect();
        assert!(needed.contains(&"police_contacted_at"), "{needed:?}");
        assert!(!needed.contains(&"immediate_risk"));
        let decline = b["events"].as_array().and_then(|l| l.iter().find(|e| e["event"] == "decline_report")).cloned().expect("decline_report");
        assert_eq!(decline["rationale_required"], true);
        assert_eq!(decline["decline"], true);
    }
}

on_both_backends! {
    fn every_read_and_write_is_in_the_access_log(app) {
        let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        app.get(&app.chair, &format!("/api/cases/{id}"));
        app.get(&app.chair, "/api/cases");
        app.post(&app.chair, &format!("/api/cases/{id}/events"), &json!({"event": "accept_report", "expected_version": 9}));
        let lead = app.user("team_lead", "la-cardiff");
        let (s, b) = app.get(&lead, &format!("/api/cases/{id}/access-log"));
        assert_eq!(s, 200, "{b}");
        let actions: Vec<&str> = b["access"].as_array().expect("list").iter().filter_map(|r| r["action"].as_str()).collect();
        assert_eq!(actions, vec!["write", "read", "list", "write_refused", "read"]);
        let (s, _) = app.get(&app.chair, &format!("/api/cases/{id}/access-log"));
        assert_eq!(s, 403, "a chair is not the oversight role");
    }
}

on_both_backends! {
    /// Reads arriving together share one commit of their access-log lines; each is still
    /// answered only once its own line is written, while writers work alongside.
    fn concurrent_reads_each_leave_their_line(app) {
        let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        let path = format!("/api/cases/{id}");
        let (reads, writes): (Vec<u16>, Vec<u16>) = std::thread::scope(|s| {
            let readers: Vec<_> = (0..16)
                .map(|_| s.spawn(|| (0..5).map(|_| app.get(&app.chair, &path).0).collect::<Vec<u16>>()))
                .collect();
            let writers: Vec<_> = (0..2)
                .map(|_| s.spawn(|| (0..3).map(|_| app.post(&app.chair, "/api/cases", &json!({"child": child(), "facts": report_facts()})).0).collect::<Vec<u16>>()))
                .collect();
            (
                readers.into_iter().flat_map(|h| h.join().expect("reader")).collect(),
                writers.into_iter().flat_map(|h| h.join().expect("writer")).collect(),
            )
        });
        assert_eq!((reads.len(), reads.iter().all(|s| *s == 200)), (80, true), "{reads:?}");
        assert_eq!((writes.len(), writes.iter().all(|s| *s == 201)), (6, true), "{writes:?}");
        let lead = app.user("team_lead", "la-cardiff");
        let (s, b) = app.get(&lead, &format!("/api/cases/{id}/access-log"));
        assert_eq!(s, 200, "{b}");
        let case_reads = b["access"].as_array().expect("list").iter()
            .filter(|r| r["action"] == "read" && r["path"] == path.as_str())
            .count();
        assert_eq!(case_reads, 80, "one line for each read answered");
    }
}

on_both_backends! {
    fn case_list_filters_by_state_authority_and_overdue(app) {
        let a = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        let mut c = child();
        c["residence_authority"] = json!("la-newport");
        let b = app.create_case(&app.chair, c, report_facts())["id"].as_str().expect("id").to_string();
        // Both reports arrived on Wednesday 25 November; b is accepted on Thursday, so its
        // strategy discussion is due by the end of Friday.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 10, 0, 0).single().expect("time"));
        app.event(&app.chair, &b, json!({"event": "accept_report"}));
        let ids = |v: &Value| -> Vec<String> { v["cases"].as_array().expect("list").iter().map(|c| c["id"].as_str().unwrap_or_default().to_string()).collect() };
        let (_, l) = app.get(&app.chair, "/api/cases?state=strategy_discussion");
        assert_eq!(ids(&l), vec![b.clone()]);
        let (_, l) = app.get(&app.chair, "/api/cases?authority=la-newport");
        assert_eq!(ids(&l), vec![b.clone()]);
        let (_, l) = app.get(&app.chair, "/api/cases?overdue=true");
        assert_eq!(ids(&l), Vec::<String>::new());
        // a's decision was due by the end of Thursday 26th.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 9, 0, 0).single().expect("time"));
        let (_, l) = app.get(&app.chair, "/api/cases?overdue=true");
        assert_eq!(ids(&l), vec![a.clone()], "the report awaiting a decision is overdue; the discussion due on the 27th is not");
        let (s, e) = app.get(&app.chair, "/api/cases?overdue=maybe");
        assert_eq!((s, e["code"].as_str()), (400, Some("invalid_query")));
        let (_, one) = app.get(&app.chair, &format!("/api/cases/{a}"));
        assert_eq!(one["workflows"][0]["deadline"]["overdue"], true);
        assert_eq!(one["workflows"][0]["deadline"]["due_at_local"], "Thursday 26 November 2026, 23:59 GMT");
    }
}

on_both_backends! {
    fn workflows_and_openapi_are_served(app) {
        let (s, b) = app.get(&app.chair, "/api/workflows");
        assert_eq!(s, 200);
        assert_eq!(b["workflows"].as_array().map(Vec::len), Some(2));
        let (s, b) = app.get(&app.chair, "/api/workflows/cse-strategy/diagram?format=dot");
        assert_eq!(s, 200);
        let dot = b.as_str().expect("text");
        assert!(dot.starts_with("digraph \"cse-strategy\""), "{dot}");
        assert!(dot.contains("report_received -> closed_no_further_action [label=\"decline_report\", style=dashed]"));
        let (s, b) = app.get(&app.chair, "/api/workflows/cse-strategy/diagram?format=png");
        assert_eq!((s, b["field"].as_str()), (400, Some("format")));
        let (s, b) = app.get(&app.chair, "/api/workflows/nope");
        assert_eq!(s, 404, "{b}");
        let (s, b) = app.get(&app.chair, "/api/openapi.json");
        assert_eq!(s, 200);
        assert_eq!(b["openapi"], "3.1.0");
        let (_, agencies) = app.get(&app.chair, "/api/agencies");
        let las = agencies["agencies"].as_array().expect("list").iter().filter(|a| a["kind"] == "local_authority").count();
        assert_eq!(las, 22);
    }
}

on_both_backends! {
    fn case_references_are_sequential_and_unique(app) {
        let refs: Vec<String> = (0..5)
            .map(|_| app.create_case(&app.chair, child(), report_facts())["reference"].as_str().expect("ref").to_string())
            .collect();
        assert_eq!(refs, (1..=5).map(|n| format!("CSE-2026-{n:06}")).collect::<Vec<_>>());
    }
}

on_both_backends! {
    fn concurrent_events_on_one_case_apply_once(app) {
        let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        let path = format!("/api/cases/{id}/events");
        let results: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| app.post(&app.chair, &path, &json!({"event": "accept_report", "expected_version": 1})).0))
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert_eq!(results.iter().filter(|s| **s == 200).count(), 1, "{results:?}");
        assert!(results.iter().all(|s| *s == 200 || *s == 409), "{results:?}");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        assert_eq!(h["history"].as_array().map(Vec::len), Some(3));
    }
}

on_both_backends! {
    /// A NUL or other control character is a 400 naming the field, in a body, a path or a form,
    /// and nothing is stored: PostgreSQL cannot keep a NUL at all.
    fn control_characters_are_refused_naming_the_field(app) {
        let mut c = child();
        c["name"] = json!("Test\u{0}Child");
        let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": c, "facts": report_facts()}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("control_character"), Some("child.name")), "{b}");
        let mut facts = report_facts();
        facts["signs_material"] = json!("a new phone\u{1b}[31m");
        let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": child(), "facts": facts}));
        assert_eq!((s, b["field"].as_str()), (400, Some("facts.signs_material")), "{b}");
        let (s, b) = app.get(&app.chair, "/api/cases");
        assert_eq!((s, b["cases"].as_array().map(Vec::len)), (200, Some(0)), "nothing was stored: {b}");
        // Tabs and new lines in free text are fine.
        let mut facts = report_facts();
        facts["signs_behavioural"] = json!("returns home late\n\tmissing overnight twice");
        let case = app.create_case(&app.chair, child(), facts);
        let id = case["id"].as_str().expect("id");
        let (s, b) = app.get(&app.chair, &format!("/api/cases/{id}%00"));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("control_character"), Some("path")), "{b}");
        let (s, b) = app.get(&app.chair, "/api/cases?state=report%00received");
        assert_eq!((s, b["field"].as_str()), (400, Some("query")), "{b}");
        let (s, b) = app.event(&app.chair, id, json!({"event": "accept_report\u{0}"}));
        assert_eq!((s, b["field"].as_str()), (400, Some("event")), "{b}");
        let (_, after) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!(after["version"], 1, "the refused event changed nothing");
    }
}

on_both_backends! {
    /// Two chairs applying different events to one case at the same moment with the same
    /// version: one is applied, the other gets 409 and changes nothing, every time, on both
    /// backends (a deadlock or serialisation failure is retried, never a 500).
    fn writers_racing_for_one_case_get_one_success_and_one_conflict(app) {
        let other = app.user("chair", "la-cardiff");
        let decline = json!({"event": "decline_report", "expected_version": 1,
            "rationale": "Not a child at risk: the concern was about a different family.",
            "facts": {"preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the family support service"}});
        let accept = json!({"event": "accept_report", "expected_version": 1});
        let mut tally = std::collections::BTreeMap::new();
        for _ in 0..12 {
            let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
            let path = format!("/api/cases/{id}/events");
            let barrier = std::sync::Barrier::new(2);
            let (a, b) = std::thread::scope(|s| {
                let one = s.spawn(|| { barrier.wait(); app.post(&app.chair, &path, &accept).0 });
                let two = s.spawn(|| { barrier.wait(); app.post(&other, &path, &decline).0 });
                (one.join().expect("one"), two.join().expect("two"))
            });
            let mut pair = [a, b];
            pair.sort();
            *tally.entry(pair).or_insert(0) += 1;
            let (_, case) = app.get(&app.chair, &format!("/api/cases/{id}"));
            assert_eq!(case["version"], 2, "exactly one event was applied");
            let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
            assert_eq!(h["history"].as_array().map(Vec::len), Some(3), "one transition in the trail: {h}");
        }
        println!("12 races: {tally:?}");
        assert_eq!(tally.get(&[200, 409]), Some(&12), "{tally:?}");
    }
}
