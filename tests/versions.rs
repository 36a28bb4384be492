//! Workflow versions: a running case keeps the version it started with, even after the file is
//! replaced by a newer version; a changed file that keeps its version number is refused.
mod support;

use std::sync::Arc;

use safeguard::app::prepare;
use safeguard::config::Config;
use safeguard::domain::case::visible_case;
use safeguard::domain::report::{self, NewCaseRequest};
use safeguard::domain::transition::{self, EventRequest};
use safeguard::identity::Actor;
use safeguard::identity::RoleName;
use safeguard::time::clock::ManualClock;
use serde_json::json;
use support::*;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows");

/// The version of the shipped primary workflow, read from its file.
fn shipped_version(text: &str) -> u32 {
    text.lines()
        .find_map(|l| l.strip_prefix("version = "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the workflow file has a version")
}

fn folder_with(cse: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cse-strategy.toml"), cse).expect("write");
    std::fs::copy(
        format!("{WORKFLOWS}/age18-transition.toml"),
        dir.path().join("age18-transition.toml"),
    )
    .expect("copy");
    dir
}

fn state_for(
    app: &TestApp,
    workflows: &std::path::Path,
) -> Result<safeguard::app::AppState, safeguard::error::AppError> {
    let vars = [
        ("SAFEGUARD_DATA_DIR", app.data_dir().display().to_string()),
        ("SAFEGUARD_DATABASE_URL", app.database_url()),
        ("SAFEGUARD_WORKFLOWS_DIR", workflows.display().to_string()),
        ("SAFEGUARD_POOL_SIZE", "2".to_string()),
        (
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").to_string(),
        ),
    ];
    let config = Config::from_sources(None, &|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("config");
    prepare(
        config,
        ManualClock::new(start_time()) as Arc<dyn safeguard::time::clock::Clock>,
    )
}

on_both_backends! {
    fn running_case_keeps_its_workflow_version(app) {
        let old = app.create_case(&app.chair, child(), report_facts());
        let shipped = std::fs::read_to_string(format!("{WORKFLOWS}/cse-strategy.toml")).expect("read");
        // The next version makes the decision a 2-working-day step and no longer ships the
        // shipped version's file.
        let current = shipped_version(&shipped);
        let v3 = shipped
            .replacen(&format!("version = {current}"), &format!("version = {}", current + 1), 1)
            .replacen("deadline = { working_days = 1, source = \"WSP c3pt1 p4", "deadline = { working_days = 2, source = \"local variation of WSP c3pt1 p4", 1);
        let dir = folder_with(&v3);
        let state = state_for(app, dir.path()).expect("the next version loads; the shipped one comes back from the database");
        assert_eq!(state.services.engine.registry.all_versions("cse-strategy").len(), 2);
        let (_, me) = app.get(&app.chair, "/api/me");
        let actor = Actor { id: me["id"].as_str().expect("id").into(), name: "T".into(), role: RoleName::Chair, team: "T".into(), authority: "la-cardiff".into(), broken_glass: Vec::new(), language: safeguard::i18n::Language::English };
        let mut conn = state.pool.get().expect("conn");
        let intent = state.services.intent(&actor.id, "test");
        // The old case goes on under the shipped version.
        let old_id = old["id"].as_str().expect("id");
        let outcome = transition::apply(&state.services, &mut conn, &intent, &actor, old_id, &EventRequest {
            event: "accept_report".into(), workflow: None, expected_version: 1, rationale: None,
            facts: Default::default(), agreed_actions: vec![],
        meeting_id: None,
        confirm_addresses_rationale: None,
        });
        assert!(outcome.is_ok(), "{outcome:?}");
        let (_, view) = app.get(&app.chair, &format!("/api/cases/{old_id}"));
        assert_eq!(view["workflows"][0]["workflow_version"], current);
        // A new case starts on the next version, with its deadline.
        let req: NewCaseRequest = serde_json::from_value(json!({"child": child(), "facts": report_facts()})).expect("request");
        let new = report::record(&state.services, &mut conn, &intent, &actor, &req, None).expect("create");
        let row = visible_case(&mut conn, &actor, &new.id).expect("visible");
        let view = safeguard::domain::case::view_case(&state.services, &mut conn, &row, safeguard::i18n::Language::English).expect("view");
        assert_eq!(view.workflows[0].workflow_version as u32, current + 1);
        assert_eq!(view.workflows[0].deadline.as_ref().map(|d| d.due_at.to_rfc3339()), Some("2026-11-27T23:59:59+00:00".into()));
    }
}

on_both_backends! {
    fn changed_workflow_without_new_version_is_refused(app) {
        let shipped = std::fs::read_to_string(format!("{WORKFLOWS}/cse-strategy.toml")).expect("read");
        let dir = folder_with(&shipped.replacen("working_days = 5,", "working_days = 3,", 1));
        let err = state_for(app, dir.path()).err().expect("refused");
        let current = shipped_version(&shipped);
        assert!(err.to_string().contains(&format!("workflow 'cse-strategy' version {current} differs from the copy cases already use")), "{err}");
    }
}
