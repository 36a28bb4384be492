//! Workflow versions: a running case keeps the version it started with, even after the file is
//! replaced by a newer version; a changed file that keeps its version number is refused.
mod support;

use std::sync::Arc;

use safeguard::app::prepare;
use safeguard::config::Config;
use safeguard::domain::case::{create_case, visible_case, NewCaseRequest};
use safeguard::engine::EventRequest;
use safeguard::identity::Actor;
use safeguard::identity::RoleName;
use safeguard::time::clock::ManualClock;
use serde_json::json;
use support::*;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows");

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
        // Version 3 makes the decision a 2-working-day step and no longer ships version 2's file.
        let v3 = shipped
            .replacen("version = 2", "version = 3", 1)
            .replacen("deadline = { working_days = 1, source = \"WSP c3pt1 p4", "deadline = { working_days = 2, source = \"local variation of WSP c3pt1 p4", 1);
        let dir = folder_with(&v3);
        let state = state_for(app, dir.path()).expect("v3 loads; v2 comes back from the database");
        assert_eq!(state.engine.registry.all_versions("cse-strategy").len(), 2);
        let (_, me) = app.get(&app.chair, "/api/me");
        let actor = Actor { id: me["id"].as_str().expect("id").into(), name: "T".into(), role: RoleName::Chair, team: "T".into(), authority: "la-cardiff".into() };
        let mut conn = state.pool.get().expect("conn");
        // The old case goes on under version 2.
        let old_id = old["id"].as_str().expect("id");
        let outcome = state.engine.apply_event(&mut conn, &actor, old_id, &EventRequest {
            event: "accept_report".into(), workflow: None, expected_version: 1, rationale: None,
            facts: Default::default(), agreed_actions: vec![],
        meeting_id: None,
        });
        assert!(outcome.is_ok(), "{outcome:?}");
        let (_, view) = app.get(&app.chair, &format!("/api/cases/{old_id}"));
        assert_eq!(view["workflows"][0]["workflow_version"], 2);
        // A new case starts on version 3, with version 3's deadline.
        let req: NewCaseRequest = serde_json::from_value(json!({"child": child(), "facts": report_facts()})).expect("request");
        let new = create_case(&state.engine, &mut conn, &actor, &req).expect("create");
        let row = visible_case(&mut conn, &actor, &new.id).expect("visible");
        let view = safeguard::domain::case::view_case(&state.engine, &mut conn, &row).expect("view");
        assert_eq!(view.workflows[0].workflow_version, 3);
        assert_eq!(view.workflows[0].deadline.as_ref().map(|d| d.due_at.to_rfc3339()), Some("2026-11-27T23:59:59+00:00".into()));
    }
}

on_both_backends! {
    fn changed_workflow_without_new_version_is_refused(app) {
        let shipped = std::fs::read_to_string(format!("{WORKFLOWS}/cse-strategy.toml")).expect("read");
        let dir = folder_with(&shipped.replacen("working_days = 5,", "working_days = 3,", 1));
        let err = state_for(app, dir.path()).err().expect("refused");
        assert!(err.to_string().contains("workflow 'cse-strategy' version 2 differs from the copy cases already use"), "{err}");
    }
}
