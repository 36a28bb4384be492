//! Backup and restore as an operator runs them, with the built binary: a copy of the SQLite
//! database taken while the service serves and reports keep arriving, put back into a new data
//! folder, and `audit verify` on the restored copy; a restore over a running service or over a
//! database without `--replace` is refused. On PostgreSQL, the README's `pg_dump` and
//! `pg_restore` round trip, with `audit verify` on the restored database.
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use support::binary::Operator;
use support::*;

const AUDIT_KEY: &str = "a synthetic audit key for the backup tests, 32+";

fn operator(data: &std::path::Path, database_url: Option<String>) -> Operator {
    let mut o = Operator::new(data, database_url);
    // The audit key lives apart from the database and its copies: the same on both sides.
    o.env.push(("SAFEGUARD_AUDIT_KEY".into(), AUDIT_KEY.into()));
    o
}

fn report(base: &str, token: &str) -> bool {
    ureq::post(&format!("{base}/api/cases"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"child": child(), "facts": report_facts()}))
        .is_ok_and(|r| r.status() == 201)
}

fn cases_in(said: &str) -> usize {
    // "audit trail intact: N cases, …"
    said.split("audit trail intact: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in: {said}"))
}

#[test]
fn a_sqlite_backup_taken_while_serving_restores_and_verifies() {
    let first = tempfile::tempdir().expect("data");
    let live = operator(first.path(), None);
    let (ok, said) = live.run(&["migrate"]);
    assert!(ok, "{said}");
    let token = live.add_chair();
    let (mut serve, base) = live.serve();
    for _ in 0..3 {
        assert!(report(&base, &token));
    }
    // Reports keep arriving while the copy is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, made, base, token) = (stop.clone(), made.clone(), base.clone(), token.clone());
        std::thread::spawn(move || {
            // At most a few hundred: enough to be writing while the copy is taken.
            while !stop.load(Ordering::Relaxed) && made.load(Ordering::Relaxed) < 400 {
                if report(&base, &token) {
                    made.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    while made.load(Ordering::Relaxed) < 3 {
        std::thread::yield_now();
    }
    let copies = tempfile::tempdir().expect("copies");
    let copy = copies.path().join("safeguard-backup.db");
    let before = made.load(Ordering::Relaxed);
    let (ok, said) = live.run(&["backup", copy.to_str().expect("path")]);
    assert!(ok, "{said}");
    assert!(said.contains("SQLite's integrity check passed"), "{said}");
    let during = made.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let after = made.load(Ordering::Relaxed);
    assert!(
        after > during || during >= 3,
        "reports went on during the backup"
    );
    // A second backup to the same file is refused, not written over.
    let (ok, said) = live.run(&["backup", copy.to_str().expect("path")]);
    assert!(!ok && said.contains("exists already"), "{said}");

    // Restoring over the running service's database is refused.
    let (ok, said) = live.run(&["restore", "--replace", copy.to_str().expect("path")]);
    assert!(!ok && said.contains("stop it before restoring"), "{said}");
    let _ = serve.kill();
    let _ = serve.wait();
    let (ok, said) = live.run(&["audit", "verify"]);
    assert!(ok, "{said}");
    let total = cases_in(&said);
    assert_eq!(
        total,
        3 + after,
        "every report acknowledged is in the live database"
    );

    // Into a new data folder: the copy, whole, and its audit trail intact.
    let second = tempfile::tempdir().expect("data");
    let restored = operator(second.path(), None);
    let (ok, said) = restored.run(&["restore", copy.to_str().expect("path")]);
    assert!(ok, "{said}");
    let (ok, said) = restored.run(&["audit", "verify"]);
    assert!(ok, "{said}");
    let in_copy = cases_in(&said);
    // Every report acknowledged before the backup began is in it; of those after it ended,
    // at most the one the writer had in flight (committed, not yet acknowledged).
    assert!(
        (3 + before..=3 + during + 1).contains(&in_copy),
        "the copy holds what was committed when it was taken: {in_copy}, between {} and {}",
        3 + before,
        3 + during + 1
    );
    // Again, without --replace: refused; with it, the one there is kept beside it.
    let (ok, said) = restored.run(&["restore", copy.to_str().expect("path")]);
    assert!(!ok && said.contains("add --replace"), "{said}");
    let (ok, said) = restored.run(&["restore", "--replace", copy.to_str().expect("path")]);
    assert!(ok && said.contains("is kept at"), "{said}");
    let kept = std::fs::read_dir(second.path())
        .expect("data")
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".before-restore-"));
    assert!(kept, "the replaced database is kept");
    // And the restored service serves it.
    let (mut serve, base) = restored.serve();
    let (_, listed) = {
        let r = ureq::get(&format!("{base}/api/cases?limit=1000"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("the restored service answers");
        (
            r.status(),
            r.into_json::<serde_json::Value>().expect("json"),
        )
    };
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(
        listed["cases"].as_array().map(Vec::len),
        Some(in_copy),
        "{listed}"
    );

    // Something that is not a copy of this service's database is refused.
    let stray = copies.path().join("notes.db");
    std::fs::write(&stray, "not a database").expect("write");
    let (ok, said) = restored.run(&["restore", "--replace", stray.to_str().expect("path")]);
    assert!(!ok && said.contains("not a SQLite database"), "{said}");
}

#[test]
fn a_postgres_dump_restores_and_verifies() {
    let (Some(backend), Some(second)) = (Backend::postgres(), Backend::postgres()) else {
        return;
    };
    let data = tempfile::tempdir().expect("data");
    let (url, _db) = fresh_database(backend, data.path());
    let live = operator(data.path(), Some(url.clone()));
    let (ok, said) = live.run(&["migrate"]);
    assert!(ok, "{said}");
    let token = live.add_chair();
    let (mut serve, base) = live.serve();
    for _ in 0..4 {
        assert!(report(&base, &token));
    }
    let dump = data.path().join("safeguard.dump");
    // As the README says: a custom-format dump, taken while the service runs.
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = serve.kill();
    let _ = serve.wait();

    let other = tempfile::tempdir().expect("data");
    let (restored_url, _restored_db) = fresh_database(second, other.path());
    let out = std::process::Command::new("pg_restore")
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--dbname",
        ])
        .arg(&restored_url)
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = operator(other.path(), Some(restored_url));
    let (ok, said) = restored.run(&["audit", "verify"]);
    assert!(ok, "{said}");
    assert_eq!(cases_in(&said), 4, "{said}");
    // `safeguard backup` says what to use instead.
    let (ok, said) = live.run(&["backup", data.path().join("x.db").to_str().expect("path")]);
    assert!(!ok && said.contains("pg_dump"), "{said}");
}
