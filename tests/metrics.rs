//! What a council's monitoring reads, from the built binary: `/metrics` in the Prometheus text
//! format behind its own token (refused with none, or with a person's API token), counting the
//! requests, transitions, outbox and job runs, with routes named by pattern so that no case
//! reference or name is in it; and logs as JSON lines when asked, each request's line carrying
//! the id the response gave in `X-Request-Id`, with no token in them.
mod support;

use std::process::Stdio;

use serde_json::{json, Value};
use support::binary::{free_port, wait_until_answering, Operator};
use support::*;

const METRICS_TOKEN: &str = "a synthetic metrics token, 32 characters or more";

#[test]
fn metrics_behind_their_token_and_json_logs_with_request_ids() {
    let data = tempfile::tempdir().expect("data");
    let op = Operator::new(data.path(), None);
    let (ok, said) = op.run(&["migrate"]);
    assert!(ok, "{said}");
    let token = op.add_chair();
    let log_path = data.path().join("service.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut serve = op
        .command(&["serve"])
        .env("SAFEGUARD_BIND", format!("127.0.0.1:{port}"))
        .env("SAFEGUARD_SCHEDULER", "off")
        .env("SAFEGUARD_LOG", "info,actix_server=warn")
        .env("SAFEGUARD_LOG_FORMAT", "json")
        .env("SAFEGUARD_METRICS_TOKEN", METRICS_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(&log_path).expect("log file"),
        ))
        .spawn()
        .expect("serve");
    wait_until_answering(&mut serve, &base, || {
        std::fs::read_to_string(&log_path).unwrap_or_default()
    });

    let bearer = format!("Bearer {token}");
    let created = ureq::post(&format!("{base}/api/cases"))
        .set("Authorization", &bearer)
        .send_json(json!({"child": child(), "facts": report_facts()}))
        .expect("a report");
    let request_id = created
        .header("X-Request-Id")
        .expect("a request id")
        .to_string();
    let case: Value = created.into_json().expect("json");
    let reference = case["reference"].as_str().expect("reference").to_string();
    let id = case["id"].as_str().expect("id").to_string();
    let accepted = ureq::post(&format!("{base}/api/cases/{id}/events"))
        .set("Authorization", &bearer)
        .send_json(json!({"event": "accept_report", "expected_version": case["version"]}))
        .expect("accepted");
    assert_eq!(accepted.status(), 200);

    let scrape = |auth: Option<&str>| {
        let mut r = ureq::get(&format!("{base}/metrics"));
        if let Some(a) = auth {
            r = r.set("Authorization", a);
        }
        match r.call() {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(scrape(None).0, 401, "no token");
    assert_eq!(
        scrape(Some(&bearer)).0,
        401,
        "a person's token is not the metrics token"
    );
    let (status, text) = scrape(Some(&format!("Bearer {METRICS_TOKEN}")));
    assert_eq!(status, 200, "{text}");
    for expected in [
        "safeguard_http_requests_total{method=\"POST\",route=\"/api/cases\",status=\"201\"} 1",
        "safeguard_http_requests_total{method=\"POST\",route=\"/api/cases/{key}/events\",status=\"200\"} 1",
        "safeguard_http_request_seconds_bucket{route=\"/api/cases\",le=\"+Inf\"} 1",
        "safeguard_transitions_total{workflow=\"cse-strategy\"} 1",
        "safeguard_outbox_oldest_queued_seconds ",
        "safeguard_db_pool_wait_seconds_count ",
        "safeguard_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"401\"} 2",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(
        !text.contains(&reference) && !text.contains("Test Child") && !text.contains(&id),
        "nothing of the case in the metrics"
    );
    let _ = serve.kill();
    let _ = serve.wait();

    let log = std::fs::read_to_string(&log_path).expect("log");
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    let of_the_report: Vec<&Value> = lines
        .iter()
        .filter(|l| l.to_string().contains(&request_id))
        .collect();
    assert!(
        of_the_report
            .iter()
            .any(|l| l.to_string().contains("POST /api/cases 201")),
        "the report's line carries its id {request_id}: {log}"
    );
    assert!(
        !log.contains(&token) && !log.contains(METRICS_TOKEN),
        "no token in the log"
    );
}
