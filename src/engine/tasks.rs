//! Task spans read off a plan's metrics: every operator's partition stream records when it
//! opened and when it ended (DataFusion's baseline metrics), with its rows, compute time,
//! spills and memory peak. Readable while the plan runs (the metrics are shared counters), so
//! the worker records them live.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::physical_plan::metrics::MetricValue;

use super::gpu_aggregate::GpuAggregateExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use crate::domain::TaskSpan;

/// The spans of every operator × partition that has started, in plan order (the node ids of
/// `executed_graph`). A span's `seq` depends only on the plan's shape, so it names the same
/// span on every reading.
pub fn task_spans(plan: &Arc<dyn ExecutionPlan>) -> Vec<TaskSpan> {
    let mut walk = Walk::default();
    walk.node(plan);
    walk.spans
}

/// How many nodes a plan has: ML fits are numbered after them.
pub fn node_count(plan: &Arc<dyn ExecutionPlan>) -> u32 {
    1 + plan.children().into_iter().map(node_count).sum::<u32>()
}

#[derive(Default)]
struct Walk {
    spans: Vec<TaskSpan>,
    next_node: u32,
    next_seq: u32,
}

impl Walk {
    /// Pre-order, as `executed_graph` numbers nodes.
    fn node(&mut self, plan: &Arc<dyn ExecutionPlan>) {
        let node = self.next_node;
        self.next_node += 1;
        let partitions = plan.output_partitioning().partition_count();
        let base = self.next_seq;
        self.next_seq += u32::try_from(partitions).unwrap_or(u32::MAX);
        for (partition, figures) in by_partition(plan) {
            let Some(started_at) = figures.started_at else {
                continue;
            };
            let Ok(part) = u32::try_from(partition) else {
                continue;
            };
            self.spans.push(TaskSpan {
                seq: base.saturating_add(part),
                node,
                operator: plan.name().to_string(),
                partition: part,
                detail: plan.downcast_ref::<GpuAggregateExec>().map(gpu_detail),
                started_at,
                ended_at: figures
                    .ended_at
                    .filter(|_| figures.closed >= figures.opened),
                rows: figures.rows,
                bytes: figures.bytes,
                compute_ns: figures.compute_ns,
                spill_count: figures.spill_count,
                spilled_bytes: figures.spilled_bytes,
                memory_peak: figures.memory_peak,
            });
        }
        for child in plan.children() {
            self.node(child);
        }
    }
}

/// One partition's figures.
#[derive(Default)]
struct Figures {
    /// Streams made for the partition (a scan makes one per file), and how many have ended.
    opened: u32,
    closed: u32,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    rows: u64,
    bytes: Option<u64>,
    compute_ns: u64,
    spill_count: u64,
    spilled_bytes: u64,
    memory_peak: Option<u64>,
}

fn by_partition(plan: &Arc<dyn ExecutionPlan>) -> BTreeMap<usize, Figures> {
    let mut parts: BTreeMap<usize, Figures> = BTreeMap::new();
    let Some(metrics) = plan.metrics() else {
        return parts;
    };
    for metric in metrics.iter() {
        let Some(partition) = metric.partition() else {
            continue;
        };
        add(parts.entry(partition).or_default(), metric.value());
    }
    parts
}

fn add(f: &mut Figures, value: &MetricValue) {
    let n = value.as_usize() as u64;
    match value {
        // A stream made more than once registers its times again: the span runs from the
        // first start to the last end.
        MetricValue::StartTimestamp(t) => {
            f.opened += 1;
            f.started_at = earliest(f.started_at, t.value());
        }
        MetricValue::EndTimestamp(t) => {
            f.closed += u32::from(t.value().is_some());
            f.ended_at = f.ended_at.max(t.value());
        }
        MetricValue::OutputRows(_) => f.rows += n,
        MetricValue::OutputBytes(_) => f.bytes = Some(f.bytes.unwrap_or(0) + n),
        MetricValue::ElapsedCompute(_) => f.compute_ns += n,
        MetricValue::SpillCount(_) => f.spill_count += n,
        MetricValue::SpilledBytes(_) => f.spilled_bytes += n,
        // Joins count their build side as a gauge (`build_mem_used`), aggregations and
        // sorts as a peak.
        MetricValue::PeakMemoryUsage { .. } | MetricValue::CurrentMemoryUsage(_) => {
            f.memory_peak = Some(f.memory_peak.unwrap_or(0).max(n))
        }
        MetricValue::Gauge { name, .. } if name.ends_with("mem_used") => {
            f.memory_peak = Some(f.memory_peak.unwrap_or(0).max(n))
        }
        _ => {}
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The memory peak of a node: the sum of its partitions' peaks (they may run at once).
pub(super) fn memory_peak(plan: &Arc<dyn ExecutionPlan>) -> Option<u64> {
    by_partition(plan)
        .values()
        .filter_map(|f| f.memory_peak)
        .reduce(|a, b| a + b)
}

/// How many `seq` numbers a plan's spans take: one per operator × partition.
pub fn span_slots(plan: &Arc<dyn ExecutionPlan>) -> u32 {
    let own = u32::try_from(plan.output_partitioning().partition_count()).unwrap_or(u32::MAX);
    plan.children()
        .into_iter()
        .map(span_slots)
        .fold(own, u32::saturating_add)
}

/// A GPU node's span detail: its device, and the work below the aggregation it took over
/// ("device cuda:0 (…), with the filter and projection").
fn gpu_detail(gpu: &GpuAggregateExec) -> String {
    let took_over = gpu.took_over();
    match took_over.is_empty() {
        true => format!("device {}", gpu.device()),
        false => format!(
            "device {}, with the {}",
            gpu.device(),
            took_over.join(" and ")
        ),
    }
}
