//! Moving running cases to a corrected workflow, with the built binary on both backends: the
//! new version renames a step; the plan without a mapping names the case and the step; with
//! the mapping it shows each move and writes nothing; committed, every running case is on the
//! new version at the mapped step, with a `workflow_migrated` entry in its history, the audit
//! trail verifies, the case's deadline is kept, and its next step is taken under the new version.
mod support;

use serde_json::{json, Value};
use support::binary::Operator;
use support::*;

const SHIPPED: &str = include_str!("../workflows/cse-strategy.toml");
/// The plan for moving the running cases from version 9 to 10, without a mapping.
const PLAN: [&str; 7] = [
    "workflows",
    "migrate",
    "cse-strategy",
    "--from",
    "9",
    "--to",
    "10",
];
const AUDIT_KEY: &str = "a synthetic audit key for the migration tests";

fn api(base: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = ureq::request(method, &format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"));
    let answer = match body {
        Some(b) => r.send_json(b),
        None => r.call(),
    };
    match answer {
        Ok(r) => r.into_json().expect("json"),
        Err(ureq::Error::Status(s, r)) => panic!(
            "{method} {path}: {s} {}",
            r.into_string().unwrap_or_default()
        ),
        Err(e) => panic!("{e}"),
    }
}

fn migrate(backend: Backend) {
    let data = tempfile::tempdir().expect("data");
    let (url, _pg) = match backend {
        Backend::Sqlite => (None, None),
        b => {
            let (u, pg) = fresh_database(b, data.path());
            (Some(u), pg)
        }
    };
    let mut op = Operator::new(data.path(), url);
    op.env
        .push(("SAFEGUARD_AUDIT_KEY".into(), AUDIT_KEY.into()));
    let (ok, said) = op.run(&["migrate"]);
    assert!(ok, "{said}");
    let token = op.add_chair();
    // Two cases on the shipped version: one at its report, one at the strategy discussion.
    let (mut serve, base) = op.serve();
    let waiting = api(
        &base,
        &token,
        "POST",
        "/api/cases",
        Some(json!({"child": child(), "facts": report_facts()})),
    );
    let moving = api(
        &base,
        &token,
        "POST",
        "/api/cases",
        Some(json!({"child": child(), "facts": report_facts()})),
    );
    let id = moving["id"].as_str().expect("id").to_string();
    api(
        &base,
        &token,
        "POST",
        &format!("/api/cases/{id}/events"),
        Some(json!({"event": "accept_report", "expected_version": moving["version"]})),
    );
    let before = api(&base, &token, "GET", &format!("/api/cases/{id}"), None);
    let _ = serve.kill();
    let _ = serve.wait();

    let over = tempfile::tempdir().expect("operator's workflows");
    // Version 10 names the discussion step differently: its id and every transition to or from it.
    let v10: String = SHIPPED
        .replacen("version = 9", "version = 10", 1)
        .lines()
        .map(|l| {
            if l.starts_with("id = ") || l.starts_with("to = ") || l.starts_with("from = ") {
                l.replace("\"strategy_discussion\"", "\"multi_agency_discussion\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(over.path().join("cse-strategy.toml"), v10).expect("write");
    op.env.push((
        "SAFEGUARD_WORKFLOWS_DIR".into(),
        over.path().display().to_string(),
    ));

    let (ok, said) = op.run(&PLAN);
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!(
            "{}: at step strategy_discussion, which version 10 does not have",
            moving["reference"].as_str().unwrap_or("")
        )),
        "{said}"
    );
    let map: Vec<&str> = PLAN
        .into_iter()
        .chain(["--map", "strategy_discussion=multi_agency_discussion"])
        .collect();
    let (ok, said) = op.run(&map);
    assert!(ok, "{said}");
    assert!(
        said.contains("strategy_discussion -> multi_agency_discussion")
            && said.contains("stays at report_received"),
        "{said}"
    );
    assert!(
        said.contains("2 running case(s) of cse-strategy v9 would move to v10; nothing is written"),
        "{said}"
    );
    let (ok, verified) = op.run(&["audit", "verify"]);
    assert!(
        ok && verified.contains("audit trail intact: 2 cases"),
        "{verified}"
    );
    let entries_before = verified.clone();

    let mut commit = map.clone();
    commit.push("--commit");
    let (ok, said) = op.run(&commit);
    assert!(!ok && said.contains("--reason must say why"), "{said}");
    commit.extend([
        "--reason",
        "WSP correction: police suggested from the start",
    ]);
    let (ok, said) = op.run(&commit);
    assert!(ok, "{said}");
    assert!(
        said.contains("2 running case(s) of cse-strategy moved from v9 to v10"),
        "{said}"
    );
    let (ok, verified) = op.run(&["audit", "verify"]);
    assert!(
        ok && verified.contains("audit trail intact: 2 cases"),
        "{verified}"
    );
    assert_ne!(verified, entries_before, "two entries more");

    let (mut serve, base) = op.serve();
    let after = api(&base, &token, "GET", &format!("/api/cases/{id}"), None);
    let wf = &after["workflows"][0];
    assert_eq!(
        (wf["state"].as_str(), wf["workflow_version"].as_u64()),
        (Some("multi_agency_discussion"), Some(10)),
        "{after}"
    );
    assert_eq!(
        wf["due_at"], before["workflows"][0]["due_at"],
        "the step's deadline is kept"
    );
    let history = api(
        &base,
        &token,
        "GET",
        &format!("/api/cases/{id}/history"),
        None,
    );
    let entry = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|e| e["kind"] == "workflow_migrated")
        .cloned()
        .expect("the move is in the history");
    assert_eq!(entry["payload"]["from_version"], 9);
    assert_eq!(
        entry["payload"]["reason"],
        "WSP correction: police suggested from the start"
    );
    // The next step is taken under version 10.
    let next = api(
        &base,
        &token,
        "POST",
        &format!("/api/cases/{id}/events"),
        Some(
            json!({"event": "convene_strategy_meeting", "expected_version": after["version"], "facts": discussion_facts()}),
        ),
    );
    assert_eq!(next["to_state"], "strategy_meeting", "{next}");
    let w = api(
        &base,
        &token,
        "GET",
        &format!("/api/cases/{}", waiting["id"].as_str().expect("id")),
        None,
    );
    assert_eq!(w["workflows"][0]["workflow_version"], 10, "{w}");
    let _ = serve.kill();
    let _ = serve.wait();
    // Nothing is left on version 9 to move.
    let (ok, said) = op.run(&PLAN);
    assert!(ok && said.contains("0 running case(s)"), "{said}");
}

#[test]
fn running_cases_move_to_a_corrected_workflow_on_sqlite() {
    migrate(Backend::Sqlite);
}

#[test]
fn running_cases_move_to_a_corrected_workflow_on_postgres() {
    if let Some(pg) = Backend::postgres() {
        migrate(pg);
    }
}
