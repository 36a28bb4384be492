//! `/metrics` in the Prometheus text format, for the council's monitoring: requests by route
//! and status, their latency, the wait for a database connection, transitions, the outbox's
//! depth and the age of its oldest message, and job runs and failures. Routes are named by
//! their pattern (`/cases/{key}`), so no reference, token or name of a child is in a metric.
//! It answers only with `SAFEGUARD_METRICS_TOKEN` as the bearer token; without that setting it
//! does not exist (404).
use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;
use crate::storage::schema::{job_runs, outbox, step_history};

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_wait: Histogram,
}

const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("safeguard_http_requests_total", "HTTP requests answered"),
        &["route", "method", "status"],
    )
    .expect("a valid metric");
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "safeguard_http_request_seconds",
            "time to answer an HTTP request",
        )
        .buckets(SECONDS.to_vec()),
        &["route"],
    )
    .expect("a valid metric");
    let pool_wait = Histogram::with_opts(
        HistogramOpts::new(
            "safeguard_db_pool_wait_seconds",
            "time a request waited for a database connection",
        )
        .buckets(SECONDS.to_vec()),
    )
    .expect("a valid metric");
    for m in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(latency.clone()),
        Box::new(pool_wait.clone()),
    ] {
        registry.register(m).expect("registered once");
    }
    Metrics {
        registry,
        requests,
        latency,
        pool_wait,
    }
});

/// Counts and times every request, by the route's pattern.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let status = res.status().as_u16().to_string();
    let m = &*METRICS;
    m.requests
        .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
        .inc();
    m.latency
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    Ok(res)
}

/// The wait for a database connection, as `with_conn` measured it.
pub fn pool_waited(started: Instant) {
    METRICS.pool_wait.observe(started.elapsed().as_secs_f64());
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

pub async fn scrape(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(AppError::NotFound("route"));
    };
    let given = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so the time taken tells nothing of the token.
    if digest(given) != digest(expected) {
        return Err(AppError::Unauthorized);
    }
    let now = state.services.now().naive_utc();
    let from_database = crate::http::cases::with_conn(&state, move |_, conn| {
        let registry = Registry::new();
        let transitions = IntGaugeVec::new(
            Opts::new(
                "safeguard_transitions_total",
                "steps left, by workflow, since the service began",
            ),
            &["workflow"],
        )
        .map_err(internal)?;
        let moved: Vec<(String, i64)> = step_history::table
            .group_by(step_history::workflow)
            .select((step_history::workflow, diesel::dsl::count_star()))
            .load(conn)?;
        for (workflow, n) in moved {
            transitions.with_label_values(&[workflow.as_str()]).set(n);
        }
        let depth = IntGaugeVec::new(
            Opts::new(
                "safeguard_outbox_messages",
                "email in the outbox, by status",
            ),
            &["status"],
        )
        .map_err(internal)?;
        let by_status: Vec<(String, i64)> = outbox::table
            .group_by(outbox::status)
            .select((outbox::status, diesel::dsl::count_star()))
            .load(conn)?;
        for (status, n) in by_status {
            depth.with_label_values(&[status.as_str()]).set(n);
        }
        let oldest: Option<chrono::NaiveDateTime> = outbox::table
            .filter(outbox::status.eq(crate::mail::outbox::PENDING))
            .select(diesel::dsl::min(outbox::created_at))
            .get_result(conn)?;
        let age = prometheus::Gauge::with_opts(Opts::new(
            "safeguard_outbox_oldest_queued_seconds",
            "age of the oldest email still to be sent (0 when none)",
        ))
        .map_err(internal)?;
        age.set(oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0));
        let runs = IntGaugeVec::new(
            Opts::new(
                "safeguard_job_runs_total",
                "job runs recorded, by job and outcome",
            ),
            &["job", "outcome"],
        )
        .map_err(internal)?;
        let recorded: Vec<(String, Option<String>)> = job_runs::table
            .select((job_runs::job, job_runs::outcome))
            .load(conn)?;
        let mut counted: std::collections::BTreeMap<(String, &str), i64> = Default::default();
        for (job, outcome) in recorded {
            let kind = match outcome.as_deref() {
                None => "running",
                Some(o) if o.starts_with("failed") => "failed",
                Some(_) => "ok",
            };
            *counted.entry((job, kind)).or_default() += 1;
        }
        for ((job, kind), n) in counted {
            runs.with_label_values(&[job.as_str(), kind]).set(n);
        }
        for m in [
            Box::new(transitions) as Box<dyn prometheus::core::Collector>,
            Box::new(depth),
            Box::new(age),
            Box::new(runs),
        ] {
            registry.register(m).map_err(internal)?;
        }
        Ok(registry.gather())
    })
    .await?;
    let mut families = METRICS.registry.gather();
    families.extend(from_database);
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut text)
        .map_err(internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

fn internal(e: prometheus::Error) -> AppError {
    AppError::Internal(format!("metrics: {e}"))
}
