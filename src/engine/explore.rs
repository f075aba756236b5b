//! Looking before running: a source's schema and first rows (`inspect`), and a spec's
//! optimized plans and task graph (`explain`). Neither runs the pipeline.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, displayable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Engine, EngineError, Scope, cut_root, sources};
use crate::spec::{JobSpec, Source};

pub struct Inspection {
    pub schema: SchemaRef,
    /// Files the source's path names.
    pub files: usize,
    /// Partitions a scan of the source is split into.
    pub partitions: usize,
    pub head: Vec<RecordBatch>,
}

/// A plan's operators (nodes) and the data flowing between them (edges, child → parent).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskGraph {
    pub nodes: Vec<TaskNode>,
    pub edges: Vec<TaskEdge>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskNode {
    pub id: usize,
    /// e.g. `AggregateExec`, `DataSourceExec`.
    pub operator: String,
    /// The operator's one-line description: expressions, files, limits.
    pub detail: String,
    /// Partitions the operator produces, run in parallel.
    pub partitions: usize,
    /// What the operator did, summed over its partitions (executed plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<NodeMetrics>,
}

/// An operator's figures from a finished run, as DataFusion counted them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeMetrics {
    pub output_rows: Option<u64>,
    /// CPU time spent in the operator itself, in nanoseconds.
    pub elapsed_compute_ns: Option<u64>,
    pub spill_count: Option<u64>,
    pub spilled_bytes: Option<u64>,
    /// The most memory the operator held, summed over its partitions, where it reports it
    /// (sorts, aggregations, joins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak_bytes: Option<u64>,
    /// Parquet scans: bytes read from their files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<u64>,
    /// Parquet scans whose filters run while decoding: rows those filters dropped and kept,
    /// and the time spent evaluating them, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_filter_rows_dropped: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_filter_rows_kept: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_filter_ns: Option<u64>,
    /// Hash joins: build sides looked up in an array indexed by the key (a perfect hash
    /// join) instead of a hash table, one per table built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_key_arrays: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskEdge {
    pub from: usize,
    pub to: usize,
}

pub struct Explanation {
    pub logical: String,
    pub physical: String,
    pub graph: TaskGraph,
}

impl Engine {
    /// Reads only the first `n` rows (the scan stops once the limit is met), in file order.
    pub async fn inspect(
        &self,
        source: &Source,
        tenant: &str,
        n: usize,
    ) -> Result<Inspection, EngineError> {
        let scope = self.scope(tenant)?;
        self.inspect_in(source, &scope, n)
            .await
            .map_err(|e| e.relative_to(&scope.root))
    }

    async fn inspect_in(
        &self,
        source: &Source,
        scope: &Scope,
        n: usize,
    ) -> Result<Inspection, EngineError> {
        let ctx = self.session();
        let files = sources::register(&ctx, self, scope, ("source", "source"), source).await?;
        let frame = ctx.table("source").await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let partitions = frame
            .create_physical_plan()
            .await?
            .output_partitioning()
            .partition_count();
        // One partition reads the files in order, so the head is the first file's first rows.
        let ordered = self.session_with_partitions(1);
        sources::register(&ordered, self, scope, ("source", "source"), source).await?;
        let head = ordered
            .table("source")
            .await?
            .limit(0, Some(n))?
            .collect()
            .await?;
        Ok(Inspection {
            schema,
            files,
            partitions,
            head,
        })
    }

    /// The plans, with file paths relative to the tenant's data root (the server's layout is
    /// not the caller's business).
    pub async fn explain(&self, spec: &JobSpec, tenant: &str) -> Result<Explanation, EngineError> {
        let root = self.scope(tenant)?.root;
        let frame = self.plan(spec, tenant).await?;
        let logical = frame.clone().into_optimized_plan()?;
        let physical = frame.create_physical_plan().await?;
        let mut graph = plan_graph(&physical, false);
        hide_root(&mut graph, &root);
        Ok(Explanation {
            logical: cut_root(&logical.display_indent().to_string(), &root),
            physical: cut_root(
                &displayable(physical.as_ref()).indent(true).to_string(),
                &root,
            ),
            graph,
        })
    }

    /// The graph of a plan that has run, with each operator's metrics: a finished job's
    /// `EXPLAIN ANALYZE`, with paths as `explain` shows them.
    pub fn executed_graph(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
        tenant: &str,
    ) -> Result<TaskGraph, EngineError> {
        let root = self.scope(tenant)?.root;
        let mut graph = plan_graph(plan, true);
        hide_root(&mut graph, &root);
        Ok(graph)
    }
}

fn hide_root(graph: &mut TaskGraph, root: &std::path::Path) {
    for node in &mut graph.nodes {
        node.detail = cut_root(&node.detail, root);
    }
}

fn plan_graph(plan: &Arc<dyn ExecutionPlan>, executed: bool) -> TaskGraph {
    let mut graph = TaskGraph {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    add_node(&mut graph, plan, executed);
    graph
}

fn node_metrics(plan: &Arc<dyn ExecutionPlan>) -> Option<NodeMetrics> {
    let metrics = plan.metrics()?;
    let count = |n: Option<usize>| n.map(|n| n as u64);
    Some(NodeMetrics {
        output_rows: count(metrics.output_rows()),
        elapsed_compute_ns: count(metrics.elapsed_compute()),
        spill_count: count(metrics.spill_count()),
        spilled_bytes: count(metrics.spilled_bytes()),
        memory_peak_bytes: super::tasks::memory_peak(plan),
        bytes_scanned: named(&metrics, "bytes_scanned"),
        scan_filter_rows_dropped: named(&metrics, "pushdown_rows_pruned"),
        scan_filter_rows_kept: named(&metrics, "pushdown_rows_matched"),
        scan_filter_ns: named(&metrics, "row_pushdown_eval_time"),
        join_key_arrays: named(&metrics, "array_map_created_count"),
    })
}

/// A metric DataFusion names, summed over partitions; `None` where the operator has none.
fn named(metrics: &MetricsSet, name: &str) -> Option<u64> {
    metrics
        .sum_by_name(name)
        .map(|value| value.as_usize() as u64)
}

/// Adds `plan` and its inputs to the graph; returns the plan's node id.
fn add_node(graph: &mut TaskGraph, plan: &Arc<dyn ExecutionPlan>, executed: bool) -> usize {
    let id = graph.nodes.len();
    graph.nodes.push(TaskNode {
        id,
        operator: plan.name().to_string(),
        detail: displayable(plan.as_ref())
            .one_line()
            .to_string()
            .trim()
            .to_string(),
        partitions: plan.output_partitioning().partition_count(),
        metrics: if executed { node_metrics(plan) } else { None },
    });
    for child in plan.children() {
        let from = add_node(graph, child, executed);
        graph.edges.push(TaskEdge { from, to: id });
    }
    id
}
