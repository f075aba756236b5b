//! Worker processes as they report themselves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// How often a worker reports itself; `GET /v1/workers` lists those seen within three times
/// this.
pub const REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What a worker process can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    pub cores: usize,
    /// The engine's memory pool, in bytes.
    pub memory_limit: u64,
    /// GPU devices (none until GPU kernels land).
    pub gpus: Vec<String>,
}

/// A worker process as it last reported itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerInfo {
    pub id: String,
    pub hostname: String,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub slots: i32,
    pub busy: i32,
    pub capabilities: Capabilities,
    pub current_jobs: Vec<Uuid>,
}
