//! The audit against someone who can edit the database but does not have the audit key: each
//! tampering, done on a copy of a real service's SQLite file with the append-only triggers
//! dropped first (as such an attacker would), is found by `audit verify`. An untampered copy
//! verifies clean: the positive control.
mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use safeguard::domain::audit::{keyed_hash, AuditKey};
use safeguard::domain::audit_verify::verify;
use safeguard::storage::models::AuditEventRow;
use safeguard::storage::schema::audit_events;
use support::*;

/// What an attacker without the key can compute: the trail's old, unkeyed hash.
#[derive(Serialize)]
struct Unkeyed<'a> {
    case_id: &'a str,
    seq: i64,
    at: String,
    actor_id: &'a str,
    kind: &'a str,
    workflow: Option<&'a str>,
    event: Option<&'a str>,
    from_state: Option<&'a str>,
    to_state: Option<&'a str>,
    decline: bool,
    rationale: Option<&'a str>,
    payload: &'a str,
    prev_hash: &'a str,
}

fn unkeyed(row: &AuditEventRow) -> String {
    let text = serde_json::to_string(&Unkeyed {
        case_id: &row.case_id,
        seq: row.seq,
        at: row.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        actor_id: &row.actor_id,
        kind: &row.kind,
        workflow: row.workflow.as_deref(),
        event: row.event.as_deref(),
        from_state: row.from_state.as_deref(),
        to_state: row.to_state.as_deref(),
        decline: row.decline,
        rationale: row.rationale.as_deref(),
        payload: &row.payload,
        prev_hash: &row.prev_hash,
    })
    .expect("json");
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Rewrites a case's whole chain with `hash`, after `edit` changed its rows: what an attacker
/// does to make the chain agree with itself again.
fn rechain(
    conn: &mut SqliteConnection,
    case_id: &str,
    edit: impl Fn(&mut AuditEventRow),
    hash: &dyn Fn(&AuditEventRow) -> String,
) {
    let mut rows: Vec<AuditEventRow> = audit_events::table
        .filter(audit_events::case_id.eq(case_id))
        .order(audit_events::seq)
        .select(AuditEventRow::as_select())
        .load(conn)
        .expect("rows");
    let mut prev = "genesis".to_string();
    for r in rows.iter_mut() {
        edit(r);
        r.prev_hash = prev.clone();
        r.hash = hash(r);
        prev = r.hash.clone();
    }
    diesel::delete(audit_events::table.filter(audit_events::case_id.eq(case_id)))
        .execute(conn)
        .expect("delete");
    for r in &rows {
        diesel::insert_into(audit_events::table)
            .values(r)
            .execute(conn)
            .expect("insert");
    }
    let last = rows.last().expect("a row");
    diesel::sql_query(format!(
        "UPDATE cases SET audit_seq = {}, audit_head = '{}' WHERE id = '{case_id}'",
        last.seq, last.hash
    ))
    .execute(conn)
    .expect("head");
}

#[test]
fn every_tampering_of_a_copy_is_found() {
    let app = TestApp::spawn(Backend::Sqlite);
    // A day of ordinary work: a case moved on, a report declined, a shared meeting.
    let a = case_at_strategy_meeting(&app);
    let b = app.create_case(&app.chair, child(), with_rationale_facts())["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (s, r) = app.event(&app.chair, &b, json!({"event": "decline_report", "rationale": "Not a child at risk: a different family was meant."}));
    assert_eq!(s, 200, "{r}");
    let c = app.create_case(&app.chair, child(), report_facts())["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (s, m) = app.post(&app.chair, "/api/meetings", &json!({"kind": "core_group", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00",
        "location": "Room 1", "cases": [a, c], "invitees": [{"name": "Officer Police", "email": "officer@police.example", "role": "detective sergeant"}]}));
    assert_eq!(s, 201, "{m}");
    let meeting = m["id"].as_str().expect("id").to_string();
    // Three days on, the case is read (an access-log line of a day not finished yet); a little
    // later a checkpoint signs every chain, seals the first day's access log, and seals today's
    // as far as it goes.
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(app.get(&app.chair, &format!("/api/cases/{a}")).0, 200);
    app.clock.advance(chrono::Duration::minutes(10));
    let state = &app.service.state;
    let svc = &state.services;
    {
        let mut conn = app.conn();
        let w = safeguard::domain::checkpoint::write(
            &mut conn,
            &svc.audit_key,
            &svc.checkpoints,
            svc.now(),
        )
        .expect("checkpoint");
        assert!(w.days_sealed >= 1 && w.cases == 3, "{w:?}");
    }
    std::fs::copy(
        &svc.checkpoints,
        app.data_dir().join("checkpoints-copy.jsonl"),
    )
    .expect("copy kept elsewhere");
    let attacker = AuditKey::from_secret(b"an attacker's own key, not the service's", "attacker")
        .expect("key");

    // Each tampering: SQL and Rust on a fresh copy of the file.
    type Tamper = Box<dyn Fn(&mut SqliteConnection)>;
    let (ac, bc, cc, mc) = (a.clone(), b.clone(), c.clone(), meeting.clone());
    let sql = |s: String| -> Tamper {
        Box::new(move |conn: &mut SqliteConnection| conn.batch_execute(&s).expect("tampering SQL"))
    };
    let attacker_key = std::sync::Arc::new(attacker);
    let k1 = attacker_key.clone();
    let k2 = attacker_key.clone();
    let tamperings: Vec<(&str, Tamper)> = vec![
        ("edit an entry's payload", sql(format!("UPDATE audit_events SET payload = replace(payload, 'withdrawn', 'settled') WHERE case_id = '{ac}' AND seq = 1"))),
        ("edit a decline's rationale", sql(format!("UPDATE audit_events SET rationale = 'Closed without a reason.' WHERE case_id = '{bc}' AND rationale IS NOT NULL"))),
        ("delete an entry in the middle", sql(format!("DELETE FROM audit_events WHERE case_id = '{ac}' AND seq = 2"))),
        ("reorder two entries", sql(format!("UPDATE audit_events SET seq = 100 WHERE case_id = '{ac}' AND seq = 2; UPDATE audit_events SET seq = 2 WHERE case_id = '{ac}' AND seq = 3; UPDATE audit_events SET seq = 3 WHERE case_id = '{ac}' AND seq = 100"))),
        ("change the case's head", sql(format!("UPDATE cases SET audit_head = 'k1:' || substr(audit_head, 4, 60) || 'ffff' WHERE id = '{ac}'"))),
        ("change who made an entry", sql(format!("UPDATE audit_events SET actor_id = 'someone-else' WHERE case_id = '{ac}' AND seq = 3"))),
        ("change when an entry was made", sql(format!("UPDATE audit_events SET at = '2026-11-20 09:00:00' WHERE case_id = '{ac}' AND seq = 3"))),
        ("insert an entry in the middle", sql(format!("UPDATE audit_events SET seq = seq + 1000 WHERE case_id = '{ac}' AND seq >= 2; UPDATE audit_events SET seq = seq - 999 WHERE case_id = '{ac}' AND seq >= 1000; INSERT INTO audit_events SELECT case_id, 2, at, actor_id, 'note', NULL, NULL, NULL, NULL, 0, NULL, '{{}}', prev_hash, hash, case_version FROM audit_events WHERE case_id = '{ac}' AND seq = 1"))),
        ("delete the newest entry and move the case's head and version back", sql(format!("DELETE FROM audit_events WHERE case_id = '{bc}' AND seq = (SELECT max(seq) FROM audit_events WHERE case_id = '{bc}'); UPDATE cases SET audit_seq = audit_seq - 1, audit_head = (SELECT hash FROM audit_events WHERE case_id = '{bc}' AND seq = (SELECT max(seq) FROM audit_events WHERE case_id = '{bc}')), version = version - 1 WHERE id = '{bc}'"))),
        ("recompute the whole chain without the key", { let ac = ac.clone(); Box::new(move |conn: &mut SqliteConnection| rechain(conn, &ac, |r| r.payload = r.payload.replace("withdrawn", "settled"), &unkeyed)) }),
        ("recompute the whole chain with another key", { let ac = ac.clone(); Box::new(move |conn: &mut SqliteConnection| rechain(conn, &ac, |r| r.payload = r.payload.replace("withdrawn", "settled"), &|r| keyed_hash(&k1, r))) }),
        ("append a forged entry", { let bc = bc.clone(); Box::new(move |conn: &mut SqliteConnection| {
            let last: AuditEventRow = audit_events::table.filter(audit_events::case_id.eq(&bc)).order(audit_events::seq.desc()).select(AuditEventRow::as_select()).first(conn).expect("last");
            let mut forged = last.clone();
            forged.seq += 1; forged.kind = "transition".into(); forged.rationale = Some("Reopened without record.".into());
            forged.prev_hash = last.hash.clone(); forged.hash = keyed_hash(&k2, &forged);
            diesel::insert_into(audit_events::table).values(&forged).execute(conn).expect("insert");
            conn.batch_execute(&format!("UPDATE cases SET audit_seq = {}, audit_head = '{}' WHERE id = '{bc}'", forged.seq, forged.hash)).expect("head");
        }) }),
        ("delete a case with its trail", sql(format!("DELETE FROM access_log WHERE case_id = '{bc}'; DELETE FROM audit_events WHERE case_id = '{bc}'; DELETE FROM step_history WHERE case_id = '{bc}'; DELETE FROM case_workflows WHERE case_id = '{bc}'; DELETE FROM case_involvements WHERE case_id = '{bc}'; DELETE FROM agreed_actions WHERE case_id = '{bc}'; DELETE FROM child_cases WHERE case_id = '{bc}'; DELETE FROM cases WHERE id = '{bc}'"))),
        ("move a trail to another case id", sql(format!("INSERT INTO cases SELECT 'moved-case', reference || 'X', child_name, child_date_of_birth, child_gender, located_authority, residence_authority, looked_after, existing_plan, in_secure_estate, facts, status, version, audit_seq, audit_head, created_by, created_at, updated_at, team, restricted, child_language, family_language, welsh_offer, child_name_folded, lead_user_id, legal_hold FROM cases WHERE id = '{bc}'; UPDATE audit_events SET case_id = 'moved-case' WHERE case_id = '{bc}'; UPDATE case_workflows SET case_id = 'moved-case' WHERE case_id = '{bc}'; UPDATE step_history SET case_id = 'moved-case' WHERE case_id = '{bc}'; UPDATE case_involvements SET case_id = 'moved-case' WHERE case_id = '{bc}'; UPDATE child_cases SET case_id = 'moved-case' WHERE case_id = '{bc}'; DELETE FROM cases WHERE id = '{bc}'"))),
        ("change a case's state outside the trail", sql(format!("UPDATE case_workflows SET state = 'plan_active' WHERE case_id = '{ac}'"))),
        ("change a case's facts outside the trail", sql(format!("UPDATE cases SET facts = replace(facts, 'withdrawn', 'settled') WHERE id = '{ac}'"))),
        ("change the child's name outside the trail", sql(format!("UPDATE cases SET child_name = 'Test Child Zulu' WHERE id = '{cc}'"))),
        ("name someone on a case outside the trail", sql(format!("INSERT INTO case_access_grants (case_id, user_id, granted_by, granted_at) SELECT '{ac}', id, id, '2026-11-25 10:00:00' FROM users LIMIT 1"))),
        ("involve someone in a case outside the trail", sql(format!("INSERT INTO case_involvements (id, case_id, agency_code, person_name, person_email, role, user_id, created_at) SELECT 'planted', '{ac}', 'la-swansea', name, email, 'chair', id, '2026-11-25 10:00:00' FROM users LIMIT 1"))),
        ("give a case to another team outside the trail", sql(format!("UPDATE cases SET team = 'Another team' WHERE id = '{ac}'"))),
        ("delete all access-log lines", sql("DELETE FROM access_log".into())),
        ("delete today's newest access-log line, sealed only as far as it went", sql("DELETE FROM access_log WHERE at = (SELECT max(at) FROM access_log)".into())),
        ("edit an access-log line", sql(format!("UPDATE access_log SET user_id = 'someone-else' WHERE case_id = '{ac}'"))),
        ("delete a meeting", sql(format!("DELETE FROM outbox WHERE meeting_id = '{mc}'; DELETE FROM meeting_invitees WHERE meeting_id = '{mc}'; DELETE FROM meeting_cases WHERE meeting_id = '{mc}'; DELETE FROM meetings WHERE id = '{mc}'"))),
    ];
    let triggers = "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete;";
    let copy_of = |name: &str| -> String {
        let path = app.data_dir().join(format!("{name}.db"));
        let _ = std::fs::remove_file(&path);
        let mut conn = app.conn();
        diesel::sql_query(format!("VACUUM INTO '{}'", path.display()))
            .execute(&mut conn)
            .expect("copy");
        path.display().to_string()
    };
    let verify_copy = |path: &str| -> Vec<String> {
        let pool =
            safeguard::storage::connect_pool(path, 1, safeguard::storage::SqliteSync::Normal)
                .expect("pool");
        let mut conn = pool.get().expect("conn");
        verify(&mut conn, &svc.audit_key, &svc.engine, &svc.checkpoints)
            .expect("verify")
            .problems
    };
    // The positive control: an untampered copy is clean.
    let clean = copy_of("clean");
    assert_eq!(verify_copy(&clean), Vec::<String>::new());
    let mut found = 0;
    for (i, (what, tamper)) in tamperings.iter().enumerate() {
        let path = copy_of(&format!("tampered-{i}"));
        {
            let mut conn = SqliteConnection::establish(&path).expect("open the copy");
            conn.batch_execute(triggers).expect("drop the guards");
            tamper(&mut conn);
        }
        let problems = verify_copy(&path);
        assert!(!problems.is_empty(), "not found: {what}");
        println!("found: {what}: {}", problems[0]);
        found += 1;
    }
    // A second checkpoint after a line of a day sealed only so far was removed is refused:
    // sealing the day again would make the removal the new truth. The clean copy passes.
    let second_checkpoint = |path: &str| {
        let pool =
            safeguard::storage::connect_pool(path, 1, safeguard::storage::SqliteSync::Normal)
                .expect("pool");
        let mut conn = pool.get().expect("conn");
        let file = app.data_dir().join(format!(
            "{}.checkpoints",
            path.rsplit('/').next().unwrap_or("copy")
        ));
        std::fs::copy(&svc.checkpoints, &file).expect("the checkpoints so far");
        safeguard::domain::checkpoint::write(&mut conn, &svc.audit_key, &file, svc.now())
    };
    assert!(second_checkpoint(&clean).is_ok());
    let removed = copy_of("removed-recent-line");
    {
        let mut conn = SqliteConnection::establish(&removed).expect("open the copy");
        conn.batch_execute(triggers).expect("drop the guards");
        conn.batch_execute("DELETE FROM access_log WHERE at = (SELECT max(at) FROM access_log)")
            .expect("delete");
    }
    let refused = second_checkpoint(&removed).expect_err("a second checkpoint over a removed line");
    assert!(
        refused
            .to_string()
            .contains("no longer holds what a checkpoint sealed"),
        "{refused}"
    );

    // The checkpoint file itself: a line removed from the host's file, found against the copy.
    let host = &svc.checkpoints;
    let text = std::fs::read_to_string(host).expect("read");
    std::fs::write(
        host,
        text.lines()
            .take(text.lines().count() - 1)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .expect("truncate");
    let problems = safeguard::domain::checkpoint::compare_with_copy(
        host,
        &app.data_dir().join("checkpoints-copy.jsonl"),
    )
    .expect("compare");
    assert_eq!(problems.len(), 1, "{problems:?}");
    found += 1;
    println!("{found} of {} tamperings found", tamperings.len() + 1);
}

fn with_rationale_facts() -> serde_json::Value {
    merge(
        report_facts(),
        json!({"preventative_referral_considered": true, "preventative_referral_outcome": "Referred to the family support service"}),
    )
}
