//! Webhook delivery from the outbox: each terminal job with a `webhook.url` gets one message,
//! POSTed signed per Standard Webhooks and retried with backoff (about 5 s, 5 min, 30 min,
//! 2 h, 5 h, 10 h) until a 2xx, a 410 Gone, or the last retry. Redirects are not followed,
//! and every connection goes through the SSRF guard (checked when connecting, so a DNS answer
//! that changes after submission cannot reach an internal address).

mod sign;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::{Delivery, DeliveryAttempt, DeliveryState};
use crate::netguard::Guard;
use crate::store::{DeliveryNext, Store};
use crate::telemetry::{DeliveryLabels, Metrics};
use crate::views::{JobView, LinkMaker};

pub use sign::signature;

/// Waits between attempts; after the last, the delivery fails.
const RETRY_AFTER: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
];

/// How long a claimed delivery is held before another deliverer may take it (a deliverer
/// that died mid-attempt).
const HOLD: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    links: LinkMaker,
    /// Absolute base of the links inside payloads.
    base: String,
    client: reqwest::Client,
    guard: Guard,
    /// `RUSK_WEBHOOK_SECRET`: signs the jobs of the unauthenticated tenant.
    default_secret: Option<String>,
    metrics: Arc<Metrics>,
}

/// Resolves names through the SSRF guard.
struct GuardedResolver(Guard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = guard.resolve(&host, 0).await?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

impl Deliverer {
    pub fn new(
        store: Arc<dyn Store>,
        links: LinkMaker,
        base: String,
        guard: Guard,
        default_secret: Option<String>,
    ) -> Result<Deliverer, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .user_agent(concat!("rusk-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Deliverer {
            store,
            links,
            base,
            client,
            guard,
            default_secret,
            metrics: Metrics::new(),
        })
    }

    /// Counts deliveries in the process's metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Deliverer {
        self.metrics = metrics;
        self
    }

    /// Delivers due messages until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.store.claim_delivery(HOLD).await {
                Ok(Some(delivery)) => {
                    let id = delivery.id.clone();
                    let (attempt, next) = self.attempt(delivery).await;
                    if let Err(error) = self.store.record_delivery(&id, &attempt, next).await {
                        // The hold lapses and the message is sent again: receivers deduplicate
                        // by webhook-id.
                        tracing::warn!(%error, id, "cannot record a webhook attempt");
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "cannot read the webhook outbox"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn attempt(&self, delivery: Delivery) -> (DeliveryAttempt, DeliveryNext) {
        let at = Utc::now();
        let started = Instant::now();
        let sent = self.send(&delivery).await;
        let attempt = DeliveryAttempt {
            attempt: delivery.attempts,
            at,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            status: sent.as_ref().ok().map(|s| i32::from(*s)),
            error: match &sent {
                Ok(status) if (200..300).contains(status) => None,
                Ok(status) => Some(format!("the receiver answered {status}")),
                Err(error) => Some(error.clone()),
            },
        };
        let next = match sent {
            Ok(status) if (200..300).contains(&status) => {
                DeliveryNext::Done(DeliveryState::Delivered)
            }
            Ok(410) => DeliveryNext::Done(DeliveryState::Gone),
            _ => retry_after(delivery.attempts),
        };
        tracing::info!(id = delivery.id, job = %delivery.job_id, status = ?attempt.status,
            error = attempt.error, "webhook attempt");
        let outcome = match next {
            DeliveryNext::Done(DeliveryState::Delivered) => "delivered",
            DeliveryNext::Done(DeliveryState::Gone) => "gone",
            DeliveryNext::Done(_) => "failed",
            DeliveryNext::RetryAfter(_) => "retry",
        };
        self.metrics
            .deliveries
            .get_or_create(&DeliveryLabels {
                outcome: outcome.into(),
            })
            .inc();
        self.metrics
            .delivery_seconds
            .observe(started.elapsed().as_secs_f64());
        (attempt, next)
    }

    /// One POST; the receiver's status, or why none came.
    async fn send(&self, delivery: &Delivery) -> Result<u16, String> {
        self.check_literal_address(&delivery.url)?;
        let body = self.payload(delivery).await?;
        let secret = self.secret(&delivery.tenant).await?;
        let timestamp = Utc::now().timestamp();
        let signed =
            signature(&secret, &delivery.id, timestamp, &body).map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }

    /// The resolver guards names; an address written into the URL never reaches it.
    fn check_literal_address(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => std::net::IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => std::net::IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.guard.permits(ip) {
            Ok(())
        } else {
            Err(format!("{ip} is an internal or reserved address"))
        }
    }

    /// `{type, timestamp, data: <the job>}`, the job as `GET /v1/jobs/{id}` shows it now.
    async fn payload(&self, delivery: &Delivery) -> Result<Vec<u8>, String> {
        let job = self
            .store
            .get(Some(&delivery.tenant), delivery.job_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("job {} no longer exists", delivery.job_id))?;
        let view = JobView::new(job, &self.base, &self.links).await;
        let message = serde_json::json!({
            "type": delivery.event,
            "timestamp": Utc::now(),
            "data": view,
        });
        serde_json::to_vec(&message).map_err(|e| e.to_string())
    }

    async fn secret(&self, tenant: &str) -> Result<String, String> {
        if tenant == crate::domain::DEFAULT_TENANT
            && let Some(secret) = &self.default_secret
        {
            return Ok(secret.clone());
        }
        self.store
            .tenant_secret(tenant)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tenant {tenant} has no webhook secret"))
    }
}

/// The error with its causes (reqwest's own message hides them).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// After attempt `n` (1-based) failed: the wait before the next, with ±20 % jitter, or the end.
fn retry_after(n: i32) -> DeliveryNext {
    let index = usize::try_from(n - 1).unwrap_or(0);
    match RETRY_AFTER.get(index) {
        Some(wait) => {
            let jitter =
                0.8 + 0.4 * (f64::from(Utc::now().timestamp_subsec_nanos() % 1000) / 1000.0);
            DeliveryNext::RetryAfter(wait.mul_f64(jitter))
        }
        None => DeliveryNext::Done(DeliveryState::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_stop() {
        let DeliveryNext::RetryAfter(first) = retry_after(1) else {
            panic!("the first failure is retried");
        };
        assert!((4..=6).contains(&first.as_secs()), "{first:?}");
        let DeliveryNext::RetryAfter(last) = retry_after(6) else {
            panic!("the sixth failure is retried");
        };
        assert!(last >= Duration::from_secs(8 * 3600), "{last:?}");
        assert_eq!(retry_after(7), DeliveryNext::Done(DeliveryState::Failed));
    }

    /// Names are checked when connecting, whatever they resolved to at submission.
    #[tokio::test]
    async fn connections_to_internal_names_are_refused() {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(Guard::default())))
            .build()
            .unwrap();
        let error = client.get("http://localhost:9/").send().await.unwrap_err();
        assert!(
            describe(&error).contains("internal"),
            "{}",
            describe(&error)
        );
    }
}
