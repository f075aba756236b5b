//! Webhook messages and their delivery attempts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{JobState, Named};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    Failed,
    /// The receiver answered 410 Gone: no more attempts.
    Gone,
}

impl Named for DeliveryState {
    const ALL: &'static [DeliveryState] = &[
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Gone,
    ];

    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Gone => "gone",
        }
    }
}

/// What a webhook message announces: the job's terminal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "job.succeeded")]
    JobSucceeded,
    #[serde(rename = "job.failed")]
    JobFailed,
    #[serde(rename = "job.cancelled")]
    JobCancelled,
}

impl Named for EventType {
    const ALL: &'static [EventType] = &[
        EventType::JobSucceeded,
        EventType::JobFailed,
        EventType::JobCancelled,
    ];

    fn as_str(self) -> &'static str {
        match self {
            EventType::JobSucceeded => "job.succeeded",
            EventType::JobFailed => "job.failed",
            EventType::JobCancelled => "job.cancelled",
        }
    }
}

impl EventType {
    /// The event a job's end announces; `None` for a state that is not an end.
    pub fn of(state: JobState) -> Option<EventType> {
        match state {
            JobState::Succeeded => Some(EventType::JobSucceeded),
            JobState::Failed => Some(EventType::JobFailed),
            JobState::Cancelled => Some(EventType::JobCancelled),
            JobState::Queued | JobState::Running => None,
        }
    }
}

/// One try at delivering a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status; `null` when it did not answer.
    pub status: Option<i32>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

/// A webhook message for one job event, and its attempts so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every retry, so receivers can deduplicate.
    pub id: String,
    pub job_id: Uuid,
    #[serde(skip)]
    pub tenant: String,
    pub url: String,
    #[serde(rename = "type")]
    pub event: EventType,
    pub state: DeliveryState,
    /// Attempts made (or begun) so far.
    pub attempts: i32,
    /// When the next attempt is due, while `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<DeliveryAttempt>,
}
