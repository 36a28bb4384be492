//! PostgreSQL roles: migrations run as the owner, the service as a role of its own that may add
//! to the audit trail, the access log and the security events but not change, remove, truncate,
//! alter or unguard them. Each refusal is shown next to its positive control: the same statement
//! by the owner, which is allowed (and rolled back).
mod support;

use std::process::{Command, Output};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use support::*;

fn safeguard(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
    cmd.args(args)
        .env(
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows"),
        )
        .env(
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        )
        .env("SAFEGUARD_LOG", "warn");
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

/// The service's role, dropped with its database when the test ends.
struct ServiceRole {
    admin: String,
    name: String,
    database: Option<PgDatabase>,
}

impl Drop for ServiceRole {
    fn drop(&mut self) {
        // The database goes first: the role's grants there would keep the role alive.
        drop(self.database.take());
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin) {
            let _ = conn.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name));
        }
    }
}

/// Runs `sql` in a transaction that is rolled back whatever happens; the database's answer.
fn attempt(conn: &mut PgConnection, sql: &str) -> Result<(), String> {
    conn.batch_execute("BEGIN").expect("begin");
    let outcome = conn.batch_execute(sql).map_err(|e| e.to_string());
    conn.batch_execute("ROLLBACK").expect("rollback");
    outcome
}

#[test]
fn the_service_role_can_add_to_the_audit_but_not_rewrite_it() {
    let Some(Backend::Postgres(admin)) = Backend::postgres() else {
        assert!(std::env::var("CI").is_err(), "CI must test PostgreSQL");
        eprintln!("skipped: SAFEGUARD_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (owner_url, database) = fresh_database(Backend::Postgres(admin.clone()), dir.path());
    let role = format!("sg_service_{}", uuid::Uuid::new_v4().simple());
    let mut admin_conn = PgConnection::establish(&admin).expect("admin");
    admin_conn
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'service-password'"
        ))
        .expect("create the service role (the test role needs CREATEROLE)");
    let guard = ServiceRole {
        admin: admin.clone(),
        name: role.clone(),
        database,
    };
    let service_url = owner_url.replacen(
        "safeguard:safeguard@",
        &format!("{role}:service-password@"),
        1,
    );
    assert_ne!(service_url, owner_url, "the service URL names its own role");
    let data = dir.path().display().to_string();
    let env = [
        ("SAFEGUARD_DATA_DIR", data.as_str()),
        ("SAFEGUARD_DATABASE_URL", service_url.as_str()),
        ("SAFEGUARD_MIGRATION_DATABASE_URL", owner_url.as_str()),
        (
            "SAFEGUARD_AUDIT_KEY",
            "a test audit key that is long enough to use",
        ),
    ];

    // The owner migrates and grants; the service then works as its own role.
    let out = safeguard(&["migrate"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("owns the tables"),
        "no warning when the roles are apart: {}",
        text(&out)
    );
    let out = safeguard(&["demo"], &env);
    assert!(
        out.status.success(),
        "the service role records cases, audit and access log: {}",
        text(&out)
    );
    let out = safeguard(&["audit", "checkpoint"], &env);
    assert!(out.status.success(), "{}", text(&out));

    let mut service = PgConnection::establish(&service_url).expect("connect as the service");
    let mut owner = PgConnection::establish(&owner_url).expect("connect as the owner");
    let counted: i64 =
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM audit_events")
            .get_result(&mut service)
            .expect("the service reads the audit");
    assert!(
        counted > 0,
        "the demo wrote audit entries as the service role"
    );

    let refused = [
        "TRUNCATE audit_events",
        "TRUNCATE access_log",
        "TRUNCATE security_events",
        "DELETE FROM audit_events",
        "DELETE FROM access_log",
        "UPDATE audit_events SET payload = '{}'",
        "UPDATE access_log SET user_id = 'someone-else'",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "ALTER TABLE access_log DISABLE TRIGGER access_log_no_edit",
        "DROP TRIGGER access_log_no_edit ON access_log",
        "ALTER TABLE audit_events ADD COLUMN note TEXT",
        "DROP TABLE audit_events",
        "DELETE FROM __diesel_schema_migrations",
    ];
    let mut shown = 0;
    for sql in refused {
        let by_service = attempt(&mut service, sql);
        let error = by_service.expect_err(&format!("the service role was allowed: {sql}"));
        assert!(
            error.contains("permission denied") || error.contains("must be owner"),
            "{sql}: refused for the wrong reason: {error}"
        );
        // The positive control: the owner may (the statement is sound and the refusal is the
        // role's), except where the append-only trigger itself refuses a row change.
        match attempt(&mut owner, sql) {
            Ok(()) => {}
            Err(e) => assert!(
                e.contains("append-only"),
                "{sql}: the owner was refused too: {e}"
            ),
        }
        shown += 1;
    }
    println!("{shown} statements refused to the service role and accepted from the owner");
    assert_eq!(shown, refused.len());

    // What the service needs, it has: it adds to the audit (the demo did) and writes cases.
    attempt(&mut service, "UPDATE cases SET updated_at = updated_at")
        .expect("the service updates cases");

    // Destruction under a retention rule needs the owner.
    let reference: String = diesel::dsl::sql::<diesel::sql_types::Text>(
        "SELECT reference FROM cases ORDER BY reference LIMIT 1",
    )
    .get_result(&mut service)
    .expect("a case");
    // An open case is not destroyed, by the owner either: no retention rule destroys it.
    let open_case = [
        "case",
        "destroy",
        "--reference",
        &reference,
        "--authorised-by",
        "Test Records Officer",
    ];
    let out = safeguard(&open_case, &env);
    assert!(
        !out.status.success() && text(&out).contains("is not closed"),
        "an open case was destroyed: {}",
        text(&out)
    );
    // The case as the records would have it long after: a looked-after child born in 1950,
    // closed, and so past the 75th anniversary of birth.
    diesel::connection::SimpleConnection::batch_execute(
        &mut owner,
        &format!("UPDATE cases SET status = 'closed', looked_after = true, child_date_of_birth = '1950-01-01' WHERE reference = '{reference}'"),
    )
    .expect("the owner updates the case");
    let destroy = open_case;
    let without_owner: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .filter(|(k, _)| *k != "SAFEGUARD_MIGRATION_DATABASE_URL")
        .collect();
    let out = safeguard(&destroy, &without_owner);
    assert!(
        !out.status.success(),
        "the service role alone destroyed a case: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("permission denied"),
        "refused by the database: {}",
        text(&out)
    );
    let out = safeguard(&destroy, &env);
    assert!(out.status.success(), "{}", text(&out));
    let out = safeguard(&["audit", "verify"], &env);
    assert!(
        out.status.success(),
        "the destruction's tombstone is accepted: {}",
        text(&out)
    );

    // The warning a council sees when it runs the service as the owner.
    let as_owner = [
        ("SAFEGUARD_DATA_DIR", data.as_str()),
        ("SAFEGUARD_DATABASE_URL", owner_url.as_str()),
        (
            "SAFEGUARD_AUDIT_KEY",
            "a test audit key that is long enough to use",
        ),
    ];
    let out = safeguard(&["migrate"], &as_owner);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("owns the tables"), "{}", text(&out));
    drop(service);
    drop(owner);
    drop(admin_conn);
    drop(guard);
}
