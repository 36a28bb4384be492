//! Email throughput: meetings scheduled through the domain (each invitee gets an invitation
//! with a calendar part and two reminders, rendered in both languages and queued in the
//! meeting's transaction), then the outbox delivered to a real SMTP server on loopback.
//!
//!     cargo bench --bench mail
use std::sync::Arc;
use std::time::Instant;

use chrono::TimeZone;
use serde_json::json;

use safeguard::app::prepare;
use safeguard::config::Config;
use safeguard::domain::meeting::{schedule, MeetingRequest};
use safeguard::domain::report::{self, NewCaseRequest};
use safeguard::domain::user::{add_user, NewUser};
use safeguard::identity::Actor;
use safeguard::identity::RoleName;
use safeguard::mail::worker::{drain, Delivery, Pacing};
use safeguard::time::clock::{Clock, ManualClock};

#[path = "../tests/support/smtp.rs"]
mod smtp;

fn main() {
    let meetings: usize = std::env::var("SAFEGUARD_BENCH_MEETINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let invitees = 3;
    let sink = smtp::SmtpSink::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = [
        ("SAFEGUARD_DATA_DIR", dir.path().display().to_string()),
        (
            "SAFEGUARD_DATABASE_URL",
            dir.path().join("bench.db").display().to_string(),
        ),
        (
            "SAFEGUARD_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").to_string(),
        ),
        (
            "SAFEGUARD_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").to_string(),
        ),
        ("SAFEGUARD_SMTP_URL", sink.url()),
        // A sink on loopback: a trial's settings, not a council's.
        ("SAFEGUARD_MAIL_TRIAL", "on".to_string()),
    ];
    let config = Config::from_sources(None, &|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("config");
    let clock = ManualClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("time"),
    );
    let state = prepare(config, clock.clone() as Arc<dyn Clock>).expect("prepare");
    let mut conn = state.pool.get().expect("connection");
    let (id, _) = add_user(
        &mut conn,
        &state.services.engine.agencies.current(),
        NewUser {
            name: "Bench Chair",
            email: "bench.chair@example.invalid",
            role: "chair",
            team: "Bench",
            authority: "la-cardiff",
        },
        safeguard::domain::user::FirstToken {
            key: &state.services.audit_key,
            days: 90,
        },
        clock.now().naive_utc(),
    )
    .expect("user");
    let actor = Actor {
        id,
        name: "Bench Chair".into(),
        role: RoleName::Chair,
        team: "Bench".into(),
        authority: "la-cardiff".into(),
        broken_glass: Vec::new(),
        language: safeguard::i18n::Language::English,
    };
    let req: NewCaseRequest = serde_json::from_value(json!({"child": {"name": "Bench Child", "date_of_birth": "2012-05-14",
        "gender": "female", "located_authority": "la-cardiff", "residence_authority": "la-cardiff"}})).expect("case");
    let intent = state.services.intent(&actor.id, "bench");
    let case =
        report::record(&state.services, &mut conn, &intent, &actor, &req, None).expect("case");

    let started = Instant::now();
    for n in 0..meetings {
        let req: MeetingRequest = serde_json::from_value(json!({
            "kind": "core_group", "starts_at": "2026-12-09T10:00", "ends_at": "2026-12-09T11:00", "location": "Room 3",
            "cases": [case.id],
            "invitees": (0..invitees).map(|i| json!({"name": format!("Invitee {n}-{i}"), "email": format!("i{n}x{i}@partner.example"),
                "role": "key worker", "language": if i % 2 == 0 { "en" } else { "cy" }})).collect::<Vec<_>>(),
        })).expect("meeting");
        schedule(&state.services, &mut conn, &intent, &actor, &req, None).expect("schedule");
    }
    let queued_secs = started.elapsed().as_secs_f64();
    let emails = meetings * invitees * 3;
    drop(conn);

    let delivery = Delivery::from_config(Some(&sink.url()), dir.path()).expect("delivery");
    let started = Instant::now();
    let run = drain(
        &state.pool,
        clock.as_ref(),
        &delivery,
        "bench",
        Pacing::default(),
    )
    .expect("deliver");
    let delivered = run.sent;
    let delivery_secs = started.elapsed().as_secs_f64();
    let received = sink.messages().len();
    assert_eq!(
        received, delivered,
        "every message the server accepted was marked sent, once"
    );
    println!("safeguard email benchmark (SQLite, one connection, loopback SMTP)");
    println!(
        "rendered and queued: {emails} emails ({meetings} meetings x {invitees} invitees x invitation + 2 reminders) in {queued_secs:.2} s = {:.0} emails/s",
        emails as f64 / queued_secs
    );
    println!(
        "delivered: {delivered} invitations due now in {delivery_secs:.2} s = {:.0} emails/s ({received} received by the SMTP server)",
        delivered as f64 / delivery_secs
    );
}
