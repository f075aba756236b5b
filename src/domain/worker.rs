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
    /// The GPU devices it runs operators on (`RUSK_GPUS`); empty on a CPU-only worker.
    #[serde(default)]
    pub gpus: Vec<GpuDevice>,
}

/// A GPU device of a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GpuDevice {
    /// The CUDA device number.
    pub index: u32,
    pub kind: DeviceKind,
    #[schema(example = "NVIDIA H100 80GB HBM3")]
    pub name: String,
    /// Bytes of device memory.
    pub total_memory: u64,
    /// Bytes free at the worker's last report.
    pub free_memory: u64,
    /// Compute capability, e.g. `9.0`.
    #[schema(example = "9.0")]
    pub compute_capability: String,
}

/// What a worker's device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Cuda,
    /// The CPU standing in for a device in Rusk's own tests; never a production worker's.
    TestStub,
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
    /// How loaded it was when it last reported.
    #[serde(default)]
    pub load: WorkerLoad,
}

/// A worker's load as it last reported it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkerLoad {
    /// Bytes its memory pool has granted.
    pub memory_reserved: u64,
    /// Bytes in its spill files.
    pub spilled_bytes: u64,
    /// CPU used by the process since its previous report, in percent of one core (200 = two
    /// cores busy); `null` where the platform does not tell.
    pub cpu_percent: Option<f64>,
}
