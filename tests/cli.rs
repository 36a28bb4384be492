//! The `safeguard` command as an operator uses it: workflow checks, start-up refusals, users,
//! and `audit verify` catching an edited audit row on both backends.
mod support;

use std::process::{Command, Output};

use diesel::RunQueryDsl;
use serde_json::json;
use support::*;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows");

fn safeguard(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
    cmd.args(args)
        .env("SAFEGUARD_WORKFLOWS_DIR", WORKFLOWS)
        .env("SAFEGUARD_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run safeguard")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of the shipped workflows with one edit applied to cse-strategy.toml.
fn edited_workflows(from: &str, to: &str) -> tempfile::TempDir {
    edited_workflows_all(&[(from, to)], 1)
}

/// A copy of the shipped workflows with edits applied to cse-strategy.toml, each `count` times
/// (0 for every occurrence).
fn edited_workflows_all(edits: &[(&str, &str)], count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["cse-strategy.toml", "age18-transition.toml"] {
        let mut text =
            std::fs::read_to_string(format!("{WORKFLOWS}/{name}")).expect("read workflow");
        if name == "cse-strategy.toml" {
            for (from, to) in edits {
                assert!(text.contains(from), "edit target {from:?} not found");
                text = if count == 0 {
                    text.replace(from, to)
                } else {
                    text.replacen(from, to, count)
                };
            }
        }
        std::fs::write(dir.path().join(name), text).expect("write workflow");
    }
    dir
}

#[test]
fn a_state_renamed_with_its_contract_tag_passes_and_one_without_it_is_refused() {
    // A board renames the decision step everywhere it appears, keeping its tag: the check
    // passes, because the code finds the step by the tag, not by its name.
    let renamed = edited_workflows_all(&[("\"report_received\"", "\"decision_pending\"")], 0);
    let o = safeguard(
        &["workflows", "check", &renamed.path().display().to_string()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    // Renamed, and the tag lost on the way: refused, naming the tag the code relies on.
    let untagged = edited_workflows_all(
        &[
            ("\"report_received\"", "\"decision_pending\""),
            ("tags = [\"decision\"]\n", ""),
        ],
        0,
    );
    let o = safeguard(
        &["workflows", "check", &untagged.path().display().to_string()],
        &[],
    );
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("cse-strategy.toml"), "{out}");
    assert!(
        out.contains(
            "contract: the primary pathway needs a state tagged Decision (tags = [\"decision\"])"
        ),
        "{out}"
    );
    // The event the service applies at 18 loses its tag: refused, naming it.
    let dir = edited_workflows("tags = [\"close_at_18\"]", "");
    let out = text(&safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    ));
    assert!(out.contains("tags = [\"close_at_18\"]"), "{out}");
    // A check that reads a fact by its tag, with no fact tagged so: refused.
    let dir = edited_workflows("tags = [\"discussion_participants\"]", "");
    let out = text(&safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    ));
    assert!(
        out.contains("check 'participants_include_police_and_social_services' reads the fact tagged DiscussionParticipants, and no fact carries that tag"),
        "{out}"
    );
}

#[test]
fn workflows_check_accepts_the_shipped_files() {
    let o = safeguard(&["workflows", "check"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok  cse-strategy v9"));
    assert!(text(&o).contains("ok  age18-transition v5"));
}

#[test]
fn workflows_check_names_file_transition_and_problem() {
    let dir = edited_workflows(
        "to = \"strategy_discussion\"",
        "to = \"strategy_discusion\"",
    );
    let o = safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    );
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("cse-strategy.toml"), "{out}");
    assert!(
        out.contains("transition 'accept_report': to-state 'strategy_discusion' is not defined"),
        "{out}"
    );
    // The real state is now unreachable, and that is reported too.
    assert!(
        out.contains("state 'strategy_discussion' cannot be reached"),
        "{out}"
    );
}

#[test]
fn workflows_check_refuses_a_text_without_its_welsh_naming_the_file_and_key() {
    let dir = edited_workflows("label_cy = \"Pryd y cysylltwyd â’r heddlu ar 999\"\n", "");
    let o = safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("cse-strategy.toml"), "{out}");
    assert!(
        out.contains("police_contacted_at") && out.contains("label_cy"),
        "{out}"
    );
    // The positive control: the same files with the Welsh in place pass.
    let whole = edited_workflows("label_cy = ", "label_cy = ");
    let o = safeguard(
        &["workflows", "check", &whole.path().display().to_string()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn workflows_check_refuses_unknown_guard_fact_and_check() {
    let dir = edited_workflows(
        "requires = \"section47_grounds\"",
        "requires = \"section_47\"",
    );
    let out = text(&safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    ));
    assert!(
        out.contains("requires fact 'section_47', which is not declared"),
        "{out}"
    );
    let dir = edited_workflows(
        "check = \"child_has_existing_plan\"",
        "check = \"has_plan\"",
    );
    let out = text(&safeguard(
        &["workflows", "check", &dir.path().display().to_string()],
        &[],
    ));
    assert!(out.contains("check 'has_plan' is not one of"), "{out}");
}

#[test]
fn serve_refuses_to_start_on_an_invalid_workflow() {
    let dir = edited_workflows(
        "decline = true\nrules = [\"R3\", \"R5\", \"R7\"]",
        "decline = true\nrules = []",
    );
    let data = tempfile::tempdir().expect("temp dir");
    let o = safeguard(
        &["serve"],
        &[
            ("SAFEGUARD_WORKFLOWS_DIR", &dir.path().display().to_string()),
            ("SAFEGUARD_DATA_DIR", &data.path().display().to_string()),
            ("SAFEGUARD_BIND", "127.0.0.1:0"),
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o)
            .contains("transition 'decline_report': a decline must name the rule that allows it"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_configuration_is_named_at_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let d = data.path().display().to_string();
    let o = safeguard(
        &["migrate"],
        &[("SAFEGUARD_DATA_DIR", &d), ("SAFEGUARD_BIND", "port 80")],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("SAFEGUARD_BIND must be an address and port"),
        "{}",
        text(&o)
    );
    let o = safeguard(
        &["migrate"],
        &[
            ("SAFEGUARD_DATA_DIR", &d),
            ("SAFEGUARD_DATABASE_URL", "mysql://db/x"),
        ],
    );
    assert!(text(&o).contains("SAFEGUARD_DATABASE_URL"), "{}", text(&o));
}

#[test]
fn jobs_are_listed_with_their_next_run_and_run_on_demand() {
    let data = tempfile::tempdir().expect("temp dir");
    let d = data.path().display().to_string();
    let env = [("SAFEGUARD_DATA_DIR", d.as_str())];
    let o = safeguard(&["jobs", "list"], &env);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for job in [
        "age-trigger",
        "reminder-scan",
        "overdue-scan",
        "escalation",
        "digest",
    ] {
        assert!(out.contains(job), "{job} missing: {out}");
    }
    assert!(out.contains("0 0 8 * * Mon-Fri"), "{out}");
    assert!(out.contains("next "), "{out}");

    let o = safeguard(&["jobs", "run", "age-trigger"], &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("age-trigger: 0 age-18 tracks started; 0 cases reached 18"),
        "{}",
        text(&o)
    );
    let out = text(&safeguard(&["jobs", "list"], &env));
    assert!(
        out.contains("(0 age-18 tracks started"),
        "the last outcome is shown: {out}"
    );

    let o = safeguard(&["jobs", "run", "tidy-up"], &env);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no job called \"tidy-up\""),
        "{}",
        text(&o)
    );
}

#[test]
fn a_schedule_that_does_not_parse_stops_the_service_and_names_the_setting() {
    let data = tempfile::tempdir().expect("temp dir");
    let d = data.path().display().to_string();
    let o = safeguard(
        &["jobs", "list"],
        &[
            ("SAFEGUARD_DATA_DIR", &d),
            ("SAFEGUARD_JOB_DIGEST", "0 8 * * 1-5"),
        ],
    );
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("SAFEGUARD_JOB_DIGEST"), "{out}");
    assert!(out.contains("has 5 fields; a schedule has 6"), "{out}");
    // Nothing was created: the database is opened only after the configuration is valid.
    assert!(!data.path().join("safeguard.db").exists());
}

#[test]
fn help_is_available_for_every_command() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["workflows", "check", "--help"],
        vec!["workflows", "graph", "--help"],
        vec!["user", "add", "--help"],
        vec!["demo", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["jobs", "list", "--help"],
        vec!["jobs", "run", "--help"],
    ] {
        let o = safeguard(&args, &[]);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let o = safeguard(
        &["workflows", "graph", "cse-strategy", "--format", "dot"],
        &[],
    );
    assert!(
        text(&o).starts_with("digraph \"cse-strategy\""),
        "{}",
        text(&o)
    );
    let o = safeguard(&["workflows", "graph", "age18-transition"], &[]);
    assert!(
        text(&o).contains("transition_planning --> handover_ready : record_transition_referrals"),
        "{}",
        text(&o)
    );
}

#[test]
fn user_add_prints_a_working_token_once_and_demo_loads() {
    let data = tempfile::tempdir().expect("temp dir");
    let d = data.path().display().to_string();
    let env = [("SAFEGUARD_DATA_DIR", d.as_str())];
    let o = safeguard(
        &[
            "user",
            "add",
            "--name",
            "Test Lead",
            "--email",
            "lead@example.invalid",
            "--role",
            "team_lead",
            "--team",
            "North",
            "--authority",
            "la-gwynedd",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("token (shown once"));
    let o = safeguard(
        &[
            "user",
            "add",
            "--name",
            "X",
            "--email",
            "x@example.invalid",
            "--role",
            "boss",
            "--team",
            "T",
            "--authority",
            "la-gwynedd",
        ],
        &env,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("role must be one of"), "{}", text(&o));
    let o = safeguard(&["demo"], &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Demo Child A"), "{}", text(&o));
    let o = safeguard(&["audit", "verify"], &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("audit trail intact: 3 cases"),
        "{}",
        text(&o)
    );
}

on_both_backends! {
    fn audit_verify_catches_an_edited_row(app) {
        let id = app.create_case(&app.chair, child(), report_facts())["id"].as_str().expect("id").to_string();
        let (s, _) = app.event(&app.chair, &id, json!({"event": "decline_report", "rationale": "Not a child at risk: needs met by universal services.",
            "facts": {"preventative_referral_considered": true, "preventative_referral_outcome": "School nurse"}}));
        assert_eq!(s, 200);
        let url = app.database_url();
        let data = app.data_dir().display().to_string();
        let env = [("SAFEGUARD_DATABASE_URL", url.as_str()), ("SAFEGUARD_DATA_DIR", data.as_str())];
        let o = safeguard(&["audit", "verify"], &env);
        assert!(o.status.success(), "{}", text(&o));

        let mut conn = app.conn();
        // The append-only guard refuses an ordinary edit...
        let edit = "UPDATE audit_events SET rationale = 'Child at risk; we chose not to act.' WHERE seq = 3";
        assert!(diesel::sql_query(edit).execute(&mut *conn).is_err(), "the audit trail must refuse edits");
        // ...so someone determined removes it first. verify still sees the edit.
        let disable = match &*conn {
            safeguard::storage::DbConn::Sqlite(_) => "DROP TRIGGER audit_events_no_update",
            safeguard::storage::DbConn::Postgres(_) => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_edit",
        };
        diesel::sql_query(disable).execute(&mut *conn).expect("drop guard");
        diesel::sql_query(edit).execute(&mut *conn).expect("tamper");
        drop(conn);
        let o = safeguard(&["audit", "verify"], &env);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("CSE-2026-000001: entry 3 was changed after it was written"), "{}", text(&o));
    }
}
