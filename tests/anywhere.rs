//! The built binary, run as an operator would from an empty directory with only its data
//! folder set (and, on PostgreSQL, its database): the workflows and templates it needs are
//! inside it. It migrates, adds a user, serves a page and an API call, verifies the audit trail
//! and lists its jobs, on both backends. An operator's workflow folder lies over the shipped
//! workflows: a file there replaces the shipped one of the same name.
mod support;

use std::process::{Command, Output};

use serde_json::json;
use support::binary::{free_port, Operator};
use support::*;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn from_an_empty_directory(backend: Backend) {
    let data = tempfile::tempdir().expect("data dir");
    let (database_url, _pg) = match backend {
        Backend::Sqlite => (None, None),
        _ => {
            let (url, pg) = fresh_database(backend, data.path());
            (Some(url), pg)
        }
    };
    // A data folder that does not exist yet, as on a new machine: the service makes it.
    let place = Operator::new(&data.path().join("safeguard-data"), database_url);
    let (mut first_start, _) = place.serve();
    let _ = first_start.kill();
    let _ = first_start.wait();
    assert_eq!(
        std::fs::read_dir(place.cwd.path()).expect("cwd").count(),
        0,
        "nothing beside it"
    );

    let (ok, said) = place.run(&["migrate"]);
    assert!(ok, "migrate: {said}");
    let (ok, said) = place.run(&["workflows", "check"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("ok  cse-strategy v9") && said.contains("(shipped)"),
        "{said}"
    );
    let token = place.add_chair();

    let (mut serve, base) = place.serve();
    let page = ureq::get(&format!("{base}/sign-in"))
        .call()
        .expect("the sign-in page");
    let html = page.into_string().expect("html");
    assert!(
        html.contains("Sign in") && html.contains("Cymraeg") && html.contains("/static/app.css"),
        "the page, with its Welsh link and styles: {html}"
    );
    let created = ureq::post(&format!("{base}/api/cases"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"child": child(), "facts": report_facts()}))
        .expect("a report through the API");
    assert_eq!(created.status(), 201);
    let case: serde_json::Value = created.into_json().expect("json");
    assert_eq!(case["workflows"][0]["state"], "report_received", "{case}");
    let _ = serve.kill();
    let _ = serve.wait();

    let (ok, said) = place.run(&["audit", "verify"]);
    assert!(ok && said.contains("audit trail intact: 1 cases"), "{said}");
    let (ok, said) = place.run(&["jobs", "list"]);
    assert!(
        ok && said.contains("age-trigger") && said.contains("digest"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(place.cwd.path()).expect("cwd").count(),
        0,
        "and it wrote nothing where it was run"
    );
}

#[test]
fn the_binary_runs_from_an_empty_directory_on_sqlite() {
    from_an_empty_directory(Backend::Sqlite);
}

#[test]
fn the_binary_runs_from_an_empty_directory_on_postgres() {
    if let Some(pg) = Backend::postgres() {
        from_an_empty_directory(pg);
    }
}

#[test]
fn an_operators_workflow_folder_replaces_a_shipped_workflow_of_the_same_name() {
    let cwd = tempfile::tempdir().expect("cwd");
    let over = tempfile::tempdir().expect("operator's workflows");
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/workflows/cse-strategy.toml"
    ))
    .expect("shipped");
    std::fs::write(
        over.path().join("cse-strategy.toml"),
        shipped.replacen("version = 9", "version = 10", 1),
    )
    .expect("write");
    let run = |dir: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
        cmd.args(["workflows", "check"])
            .current_dir(cwd.path())
            .env_clear();
        if let Some(d) = dir {
            cmd.env("SAFEGUARD_WORKFLOWS_DIR", d);
        }
        cmd.output().expect("run")
    };
    let o = run(Some(over.path()));
    assert!(o.status.success(), "{}", text(&o));
    let printed = text(&o);
    assert!(
        printed.contains("ok  cse-strategy v10")
            && printed.contains(&over.path().display().to_string()),
        "{printed}"
    );
    assert!(
        printed.contains("ok  age18-transition v5") && printed.contains("(shipped)"),
        "the other stays the shipped one: {printed}"
    );
    // A folder that is not there is named.
    let o = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
        cmd.args(["migrate"])
            .current_dir(cwd.path())
            .env_clear()
            .env("SAFEGUARD_DATA_DIR", cwd.path().join("data"))
            .env("SAFEGUARD_WORKFLOWS_DIR", cwd.path().join("no-such-folder"));
        cmd.output().expect("run")
    };
    assert!(!o.status.success());
    assert!(
        text(&o).contains("SAFEGUARD_WORKFLOWS_DIR names"),
        "{}",
        text(&o)
    );
}

#[test]
fn serve_refuses_a_real_mail_server_with_links_to_this_machine_or_a_sender_that_cannot_exist() {
    let cwd = tempfile::tempdir().expect("cwd");
    let serve = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
        cmd.args(["serve"])
            .current_dir(cwd.path())
            .env_clear()
            .env("SAFEGUARD_DATA_DIR", cwd.path().join("data"))
            .env("SAFEGUARD_BIND", format!("127.0.0.1:{}", free_port()))
            .env("SAFEGUARD_SMTP_URL", "smtp://mail.council.example:587");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().expect("run")
    };
    let o = serve(&[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("SAFEGUARD_PUBLIC_URL is not"),
        "{}",
        text(&o)
    );
    let o = serve(&[("SAFEGUARD_PUBLIC_URL", "http://127.0.0.1:8080")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("an address only this machine can reach"),
        "{}",
        text(&o)
    );
    let o = serve(&[(
        "SAFEGUARD_PUBLIC_URL",
        "https://safeguarding.council.example",
    )]);
    assert!(!o.status.success());
    assert!(text(&o).contains("SAFEGUARD_MAIL_FROM"), "{}", text(&o));
}
