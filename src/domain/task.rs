//! Task spans: what each operator did on each partition during one attempt (or what one ML
//! fit took), the bars of the dashboard's task stream and of a job's report.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One operator × partition of an executed plan, or one candidate × fold of a grid search.
/// Times come from the engine's own metrics (each operator's partition stream records when
/// it was opened and when it ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskSpan {
    /// Position within the attempt (stable while the attempt runs).
    pub seq: u32,
    /// The plan node (`GET /v1/jobs/{id}/plan`'s `nodes[].id`); for ML fits, one past the
    /// plan's last node.
    pub node: u32,
    /// The operator as in the physical plan (`AggregateExec`, …), or `fit` for an ML fit.
    pub operator: String,
    /// The partition (for ML fits, the fold).
    pub partition: u32,
    /// For ML fits: the candidate and its parameters.
    pub detail: Option<String>,
    pub started_at: DateTime<Utc>,
    /// `null` while it runs.
    pub ended_at: Option<DateTime<Utc>>,
    pub rows: u64,
    /// Bytes of output, where the operator counts them.
    pub bytes: Option<u64>,
    /// Time spent computing (not waiting for input), in nanoseconds.
    pub compute_ns: u64,
    pub spill_count: u64,
    pub spilled_bytes: u64,
    /// The most memory the operator held on this partition, where it reports it.
    pub memory_peak: Option<u64>,
}

/// A span as kept: which attempt and which worker process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub attempt: i32,
    pub worker: String,
    #[serde(flatten)]
    pub span: TaskSpan,
}
