//! The child as a person across cases, on SQLite and PostgreSQL: two reports of the same child
//! make two cases; a team lead who may open both is shown the match and confirms it with a
//! reason, and the two records become one, audited on both cases; a chair who may open only
//! one of them is shown nothing of the other, not even that it exists; a case in another
//! authority with the same name and date of birth is suggested to no one here, and naming it
//! answers as a reference that does not exist; siblings are linked and the link ended, each
//! audited; the page offers the same.
mod support;

use serde_json::{json, Value};
use support::web::Web;
use support::*;

fn report(app: &TestApp, token: &str, name: &str, born: &str, authority: &str) -> (String, String) {
    let mut c = child();
    c["name"] = json!(name);
    c["date_of_birth"] = json!(born);
    c["located_authority"] = json!(authority);
    c["residence_authority"] = json!(authority);
    let case = app.create_case(token, c, report_facts());
    (
        case["id"].as_str().expect("id").to_string(),
        case["reference"].as_str().expect("reference").to_string(),
    )
}

fn record(app: &TestApp, token: &str, reference: &str) -> Value {
    let (s, b) = app.get(token, &format!("/api/cases/{reference}/child-record"));
    assert_eq!(s, 200, "{b}");
    b
}

fn references(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["reference"].as_str().unwrap_or("").to_string())
        .collect()
}

fn entries(app: &TestApp, token: &str, reference: &str, kind: &str) -> Vec<Value> {
    let (_, h) = app.get(token, &format!("/api/cases/{reference}/history"));
    h["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

on_both_backends! {
    fn two_reports_of_one_child_become_one_record_and_siblings_are_linked(app) {
        let chair_a = app.person("chair", "la-cardiff", "Team A", "Chair A");
        let chair_b = app.person("chair", "la-cardiff", "Team B", "Chair B");
        let lead = app.person("team_lead", "la-cardiff", "Team A", "Lead A");
        let swansea = app.person("chair", "la-swansea", "Team S", "Chair S");
        // The police report her to Team A, a school to Team B; Swansea has a child of the same
        // name and date of birth; her brother is Team A's.
        let (_, first) = report(app, &chair_a.token, "Test Child Sample", "2012-05-14", "la-cardiff");
        let (_, second) = report(app, &chair_b.token, "Test  child sample", "2012-05-14", "la-cardiff");
        let (_, elsewhere) = report(app, &swansea.token, "Test Child Sample", "2012-05-14", "la-swansea");
        let (_, brother) = report(app, &chair_a.token, "Test Brother Sample", "2010-02-03", "la-cardiff");
        let (_, unrelated) = report(app, &chair_a.token, "Test Child Other", "2012-05-14", "la-cardiff");

        // The team lead, who may open both Cardiff cases, is shown the match; nothing of
        // Swansea's, and not a child with only the date of birth in common.
        let seen = record(app, &lead.token, &second);
        assert_eq!(references(&seen["suggestions"]), vec![first.clone()], "{seen}");
        assert_eq!(seen["suggestions"][0]["likeness"], "same_name_and_birth");
        assert_eq!(references(&seen["related"]), Vec::<String>::new());
        // Each chair may open only their own team's case: neither is shown the other.
        for (chair, own, other) in [(&chair_a, &first, &second), (&chair_b, &second, &first)] {
            let r = record(app, &chair.token, own);
            assert!(!r.to_string().contains(other.as_str()), "{r}");
            assert_eq!(references(&r["suggestions"]), Vec::<String>::new(), "{r}");
        }
        let r = record(app, &swansea.token, &elsewhere);
        assert!(!r.to_string().contains(first.as_str()) && !r.to_string().contains(second.as_str()), "{r}");
        assert_eq!(references(&r["suggestions"]), Vec::<String>::new(), "Swansea is shown no Cardiff case: {r}");

        let confirm = |token: &str, key: &str, other: &str, reason: &str| {
            app.post(token, &format!("/api/cases/{key}/same-child"), &json!({"other": other, "reason": reason}))
        };
        let reason = "Same school, same address and the police have confirmed her date of birth.";
        let (s, b) = confirm(&lead.token, &second, &first, "Same child");
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (422, Some("rationale_required"), Some("reason")), "{b}");
        // A case the reader may not open answers exactly as a reference that does not exist.
        let (s1, hidden) = confirm(&lead.token, &second, &elsewhere, reason);
        let (s2, missing) = confirm(&lead.token, &second, "CSE-2099-999999", reason);
        assert_eq!((s1, &hidden), (s2, &missing));
        assert_eq!((s1, hidden["code"].as_str()), (422, Some("unknown_case")), "{hidden}");
        let (s, b) = confirm(&chair_a.token, &first, &second, reason);
        assert_eq!((s, b["code"].as_str()), (422, Some("unknown_case")), "a chair cannot merge a case they may not open: {b}");

        let (s, b) = confirm(&lead.token, &second, &first, reason);
        assert_eq!(s, 200, "{b}");
        let (s, b) = confirm(&lead.token, &first, &second, reason);
        assert_eq!((s, b["code"].as_str()), (409, Some("already_same_child")), "{b}");
        let seen = record(app, &lead.token, &first);
        assert_eq!(references(&seen["related"]), vec![second.clone()], "{seen}");
        assert_eq!(seen["related"][0]["relation"], "same_child");
        assert_eq!(references(&seen["suggestions"]), Vec::<String>::new(), "no longer suggested once confirmed");
        for (key, with) in [(&first, &second), (&second, &first)] {
            let e = entries(app, &lead.token, key, "child_merged");
            assert_eq!(e.len(), 1, "{key}: {e:?}");
            assert_eq!((e[0]["payload"]["with"].as_str(), e[0]["payload"]["reason"].as_str()), (Some(with.as_str()), Some(reason)), "{e:?}");
            assert_eq!(e[0]["actor_id"], json!(lead.id));
        }
        // Chair A still sees nothing of Team B's case, though it is her child's.
        let r = record(app, &chair_a.token, &first);
        assert_eq!(r["related"], json!([]), "{r}");

        // Her brother is linked as a sibling, on both records' cases; the link is ended.
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{brother}/siblings"), &json!({"other": first, "reason": "The same mother and the same address, as the school records show."}));
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{first}/siblings"), &json!({"other": brother, "reason": "The same mother and the same address, as the school records show."}));
        assert_eq!((s, b["code"].as_str()), (409, Some("already_linked")), "{b}");
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{first}/siblings"), &json!({"other": second, "reason": "The same mother and the same address, as the school records show."}));
        assert_eq!((s, b["code"].as_str()), (409, Some("same_child")), "{b}");
        let of_second = record(app, &lead.token, &second);
        let mut related = references(&of_second["related"]);
        related.sort();
        let mut expected = vec![first.clone(), brother.clone()];
        expected.sort();
        assert_eq!(related, expected, "her other case and her brother's: {of_second}");
        let of_brother = record(app, &lead.token, &brother);
        let mut related = references(&of_brother["related"]);
        related.sort();
        let mut sisters = vec![first.clone(), second.clone()];
        sisters.sort();
        assert_eq!(related, sisters, "{of_brother}");
        assert!(of_brother["related"].as_array().expect("list").iter().all(|r| r["relation"] == "sibling"));
        // Chair A sees the sibling link of her own team's cases only.
        assert_eq!(references(&record(app, &chair_a.token, &brother)["related"]), vec![first.clone()]);
        assert_eq!(entries(app, &lead.token, &brother, "sibling_linked").len(), 1);
        assert_eq!(entries(app, &lead.token, &first, "sibling_linked").len(), 1);
        let link = of_brother["related"][0]["link"].as_str().expect("the link").to_string();
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{brother}/siblings/end"), &json!({"link": link, "reason": "Recorded in error: a cousin, not a brother, as the family says."}));
        assert_eq!(s, 200, "{b}");
        assert_eq!(record(app, &lead.token, &brother)["related"], json!([]));
        let (s, b) = app.post(&lead.token, &format!("/api/cases/{brother}/siblings/end"), &json!({"link": link, "reason": "Recorded in error: a cousin, not a brother, as the family says."}));
        assert_eq!((s, b["code"].as_str()), (422, Some("unknown_link")), "{b}");

        // The page: the suggestion is shown with its form; confirming leads back to the case.
        let web = Web::new(app);
        assert_eq!(web.sign_in(&lead.email, TEST_PASSWORD).status, 303);
        let (_, other_child) = report(app, &lead.token, "Test Child Other", "2012-05-14", "la-cardiff");
        let page = web.get(&format!("/cases/{other_child}")).body;
        assert!(page.contains("Cases that may be this child’s") && page.contains(&unrelated), "{page}");
        let sent = web.post(&format!("/cases/{other_child}/same-child"), &[("csrf", &Web::hidden(&page, "csrf")), ("other", &unrelated), ("reason", "too short")]);
        assert_eq!(sent.status, 422, "{}", sent.body);
        assert!(sent.body.contains("<a href=\"#child-record-same\">Enter a rationale of at least 20 characters</a>"), "the reason is asked for at its input: {}", sent.body);
        let sent = web.post(&format!("/cases/{other_child}/same-child"), &[("csrf", &Web::hidden(&page, "csrf")), ("other", &unrelated), ("reason", "The same child: the school reported her twice this week.")]);
        assert_eq!(sent.status, 303, "{}", sent.body);
        let after = web.get(&sent.location).body;
        assert!(after.contains("the same child") && after.contains(&unrelated), "{after}");

        let svc = &app.service.state.services;
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints).expect("verify");
        assert_eq!(report.problems, Vec::<String>::new());
    }
}
