//! The value types callers see — jobs, their states, errors and results, task spans, models,
//! workers, webhook deliveries — with their OpenAPI schemas. Plain data: the store persists them, the
//! API serves them, the worker and ML produce them; this module depends on `spec` only.

mod delivery;
mod job;
mod model;
mod task;
mod worker;

pub use delivery::{Delivery, DeliveryAttempt, DeliveryState, EventType};
pub use job::{
    Attempt, AttemptOutcome, ColumnSchema, ErrorCode, Job, JobError, JobState, MlSummary, Progress,
    StoredFile, StoredResult,
};
pub use model::{KeyInfo, ModelInfo};
pub use task::{Task, TaskSpan};
pub use worker::{Capabilities, DeviceKind, GpuDevice, REPORT_EVERY, WorkerInfo, WorkerLoad};

/// The tenant of every job while no API key exists.
pub const DEFAULT_TENANT: &str = "default";

/// A closed set of names, each with one spelling in JSON and in the database.
pub trait Named: Copy + Sized + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == text)
    }
}
