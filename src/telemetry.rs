//! What a process tells Prometheus: one registry per process (so tests that start several apps
//! in one process keep them apart), written to by the API, the workers and the deliverer, and
//! rendered as OpenMetrics text by `GET /metrics`. Labels carry no tenant data: routes are
//! templates (`/v1/jobs/{id}`), states and codes are Rusk's own enums.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route template, or `unmatched`.
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// How an attempt ended: `succeeded`, `failed`, `retry` or `cancelled`, and the error code
/// (empty on success).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `delivered`, `retry`, `failed` or `gone`.
    pub outcome: String,
}

/// Seconds from 1 ms to about 4.6 hours, for request, claim and job times.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 24))
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub jobs_submitted: Counter,
    pub attempts_ended: Family<OutcomeLabels, Counter>,
    pub attempt_seconds: Family<OutcomeLabels, Histogram, fn() -> Histogram>,
    pub queue_wait_seconds: Histogram,
    pub claim_seconds: Histogram,
    pub rows_read: Counter,
    pub bytes_read: Counter,
    pub rows_written: Counter,
    pub bytes_written: Counter,
    pub jobs: Family<StateLabels, Gauge>,
    pub workers_live: Gauge,
    pub memory_reserved_bytes: Gauge,
    pub memory_limit_bytes: Gauge,
    pub spill_bytes: Gauge,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub delivery_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let metrics = Metrics {
            registry: Registry::with_prefix("rusk"),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(seconds),
            jobs_submitted: Counter::default(),
            attempts_ended: Family::default(),
            attempt_seconds: Family::new_with_constructor(seconds),
            queue_wait_seconds: seconds(),
            claim_seconds: seconds(),
            rows_read: Counter::default(),
            bytes_read: Counter::default(),
            rows_written: Counter::default(),
            bytes_written: Counter::default(),
            jobs: Family::default(),
            workers_live: Gauge::default(),
            memory_reserved_bytes: Gauge::default(),
            memory_limit_bytes: Gauge::default(),
            spill_bytes: Gauge::default(),
            deliveries: Family::default(),
            delivery_seconds: seconds(),
        };
        Arc::new(metrics.registered())
    }

    /// Every metric under its name and help text (the registry holds handles to the same
    /// atomics the fields update).
    fn registered(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "http_requests",
            "HTTP requests by route template and status (api)",
            self.http_requests.clone(),
        );
        r.register(
            "http_request_seconds",
            "HTTP request latency by route template (api)",
            self.http_seconds.clone(),
        );
        r.register(
            "jobs_submitted",
            "Jobs accepted by POST /v1/jobs (api)",
            self.jobs_submitted.clone(),
        );
        r.register(
            "attempts_ended",
            "Job attempts ended, by outcome and error code (worker; cancellations: api)",
            self.attempts_ended.clone(),
        );
        r.register(
            "attempt_seconds",
            "How long job attempts ran, by outcome (worker)",
            self.attempt_seconds.clone(),
        );
        r.register(
            "queue_wait_seconds",
            "From submission to a job's first claim (worker)",
            self.queue_wait_seconds.clone(),
        );
        r.register(
            "claim_seconds",
            "How long claiming the next job took (worker)",
            self.claim_seconds.clone(),
        );
        r.register(
            "rows_read",
            "Rows read by finished attempts (worker)",
            self.rows_read.clone(),
        );
        r.register(
            "bytes_read",
            "Bytes of source files read by finished attempts (worker)",
            self.bytes_read.clone(),
        );
        r.register(
            "rows_written",
            "Result rows written by succeeded jobs (worker)",
            self.rows_written.clone(),
        );
        r.register(
            "bytes_written",
            "Result bytes written by succeeded jobs (worker)",
            self.bytes_written.clone(),
        );
        r.register(
            "jobs",
            "Jobs in the job table by state, read at scrape time (api)",
            self.jobs.clone(),
        );
        r.register(
            "workers_live",
            "Worker processes seen in the last 30 s, read at scrape time (api)",
            self.workers_live.clone(),
        );
        r.register(
            "memory_pool_reserved_bytes",
            "Bytes the engine's memory pool has granted (every role)",
            self.memory_reserved_bytes.clone(),
        );
        r.register(
            "memory_pool_limit_bytes",
            "The engine's memory pool size (every role)",
            self.memory_limit_bytes.clone(),
        );
        r.register(
            "spill_bytes",
            "Bytes in the engine's spill files now (every role)",
            self.spill_bytes.clone(),
        );
        r.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome (deliverer)",
            self.deliveries.clone(),
        );
        r.register(
            "webhook_delivery_seconds",
            "Webhook delivery attempt latency (deliverer)",
            self.delivery_seconds.clone(),
        );
        self
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "cannot encode the metrics");
        }
        text
    }

    /// A queued or running job cancelled by its caller.
    pub fn job_cancelled(&self) {
        let labels = OutcomeLabels {
            outcome: "cancelled".into(),
            code: String::new(),
        };
        self.attempts_ended.get_or_create(&labels).inc();
    }

    pub fn attempt_ended(&self, outcome: &str, code: &str, took: Duration) {
        let labels = OutcomeLabels {
            outcome: outcome.to_string(),
            code: code.to_string(),
        };
        self.attempts_ended.get_or_create(&labels).inc();
        self.attempt_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }
}

/// `u64` figures for counters and gauges, clamped.
pub fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
