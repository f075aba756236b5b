//! A job's pipeline on an Apache Ballista cluster: the worker plans it as always (sources,
//! steps, the first passes some steps make), sends the logical plan to the scheduler, follows
//! the job's stages, and writes the answer that streams back exactly as a local one. A job
//! whose attempt ends first (cancel, timeout, lost lease) is cancelled on the cluster.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ballista_core::config::{BALLISTA_ADAPTIVE_PLANNER_ENABLED, BALLISTA_CLIENT_PULL};
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::DataFrame;
use datafusion_proto::logical_plan::AsLogicalPlan;
use datafusion_proto::protobuf::LogicalPlanNode;
use futures::StreamExt;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::ballista::{LogicalCodec, PhysicalCodec};
use super::{EngineError, Prepared};
use crate::domain::TaskSpan;
use crate::spec::{GpuUse, JobSpec, Source};

/// How often a running job's stages are read from the scheduler.
const POLL: Duration = Duration::from_millis(500);

/// The scheduler that `ballista` jobs go to.
#[derive(Debug, Clone)]
pub(super) struct Cluster {
    /// `http://host:port`: the scheduler serves gRPC and its REST API on one port.
    scheduler: String,
    http: reqwest::Client,
}

/// `df://host:port` (Ballista's form) or `http://host:port`, as `(host, port)`.
pub fn scheduler_address(url: &str) -> Result<(String, u16), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "df" | "http") {
        return Err(format!("{url:?}: expected df://host:port"));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{url:?} names no host"))?;
    Ok((host.to_string(), parsed.port().unwrap_or(50050)))
}

impl Cluster {
    pub(super) fn new(url: &str) -> Result<Cluster, EngineError> {
        let (host, port) = scheduler_address(url)
            .map_err(|e| EngineError::Internal(format!("RUSK_BALLISTA_URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| EngineError::Internal(format!("HTTP client: {e}")))?;
        Ok(Cluster {
            scheduler: format!("http://{host}:{port}"),
            http,
        })
    }

    /// The physical plan of `frame` as one distributed query, ready to run.
    pub(super) async fn prepare(&self, frame: DataFrame) -> Result<Prepared, EngineError> {
        let (state, plan) = frame.into_parts();
        let state = self.session_for_cluster(state)?;
        let exec = state.create_physical_plan(&plan).await?;
        let task = Arc::new(TaskContext::from(&state));
        if exec
            .downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
            .is_none()
        {
            // Ballista plans a query that reads nothing (an empty relation) as an empty
            // schema; such a plan has nothing to distribute, so the worker runs it.
            use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
            let optimized = state.optimize(&plan)?;
            let plan = DefaultPhysicalPlanner::default()
                .create_physical_plan(&optimized, &state)
                .await?;
            return Ok(Prepared::local(plan, task));
        }
        let executors = self.executors().await.map_err(|e| {
            EngineError::Io(format!("the Ballista scheduler at {}: {e}", self.scheduler))
        })?;
        let remote = RemoteJob::follow(self.clone(), exec.clone(), executors);
        Ok(Prepared::remote(exec, task, remote))
    }

    /// The ids of the executors registered now.
    async fn executors(&self) -> Result<BTreeSet<String>, reqwest::Error> {
        let listed: Vec<SchedulerExecutor> = self
            .http
            .get(format!("{}/api/executors", self.scheduler))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(listed.into_iter().map(|e| e.id).collect())
    }

    /// The worker's session, planning for this cluster with Rusk's codecs.
    fn session_for_cluster(&self, state: SessionState) -> Result<SessionState, EngineError> {
        let config = state
            .config()
            .clone()
            .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
            .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()));
        let mut state = SessionStateBuilder::new_from_existing(state)
            .with_config(config)
            .build()
            .upgrade_for_ballista(self.scheduler.clone())?;
        // Pull mode: the scheduler answers a submission with the job's id at once (push mode
        // sends it with the job's first change of state, at its end), and following and
        // cancelling the job need it.
        let options = state.config_mut().options_mut();
        options.set(BALLISTA_CLIENT_PULL, "true")?;
        // With Ballista 55's adaptive planner a job hung once an executor was lost (its
        // rolled-back stage refused the next task updates); the static planner, with pull
        // scheduling (`cluster.rs`), runs the lost tasks again (tests/api/ballista.rs).
        options.set(BALLISTA_ADAPTIVE_PLANNER_ENABLED, "false")?;
        Ok(state)
    }

    async fn stages(&self, id: &str) -> Result<SchedulerStages, reqwest::Error> {
        self.http
            .get(format!("{}/api/job/{id}/stages", self.scheduler))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    async fn cancel(&self, id: &str) {
        let url = format!("{}/api/job/{id}", self.scheduler);
        if let Err(error) = self.http.patch(url).send().await {
            tracing::warn!(%error, ballista_job = id, "cannot cancel the Ballista job");
        }
    }
}

/// An executor as the scheduler's `GET /api/executors` lists it.
#[derive(Debug, serde::Deserialize)]
struct SchedulerExecutor {
    id: String,
}

/// The stages of a Ballista job, and their tasks, as its scheduler last reported them.
#[derive(Debug, Default)]
pub struct Stages {
    done: AtomicU64,
    total: AtomicU64,
    /// One span per task that has started, numbered over every task of every stage.
    tasks: Mutex<(Vec<TaskSpan>, u32)>,
}

impl Stages {
    /// `(done, total)`; `(0, 0)` until the scheduler has planned the job.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// The tasks that have started, as spans of the plan's one node (the distributed query);
    /// `seq` counts from 0 over all the job's tasks, started or not.
    pub fn task_spans(&self) -> Vec<TaskSpan> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// How many tasks the job has (the `seq`s its spans may take).
    pub fn task_slots(&self) -> u32 {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).1
    }

    fn set(&self, stages: &[SchedulerStage]) {
        let done = stages
            .iter()
            .filter(|s| s.stage_status == "Successful")
            .count();
        self.total.store(stages.len() as u64, Ordering::Relaxed);
        self.done.store(done as u64, Ordering::Relaxed);
        let mut spans = Vec::new();
        let mut seq = 0u32;
        for stage in stages {
            for task in stage.tasks.iter().flatten() {
                if let Some(span) = task.span(&stage.stage_id, seq) {
                    spans.push(span);
                }
                seq = seq.saturating_add(1);
            }
        }
        *self.tasks.lock().unwrap_or_else(PoisonError::into_inner) = (spans, seq);
    }
}

/// A stage as the scheduler's `GET /api/job/{id}/stages` shows it (the fields Rusk reads).
#[derive(Debug, serde::Deserialize)]
struct SchedulerStage {
    stage_id: String,
    /// `Successful` once the stage is done (also `UnResolved`, `Resolved`, `Running`, `Failed`).
    stage_status: String,
    tasks: Vec<Option<SchedulerTask>>,
}

#[derive(Debug, serde::Deserialize)]
struct SchedulerTask {
    id: usize,
    partition_id: Vec<u32>,
    /// Milliseconds since the epoch; 0 until the executor starts (or ends) the task.
    start_exec_time: u64,
    end_exec_time: u64,
    input_rows: usize,
    output_rows: usize,
}

impl SchedulerTask {
    fn span(&self, stage: &str, seq: u32) -> Option<TaskSpan> {
        let at = |ms: u64| {
            (ms > 0)
                .then(|| chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?))
                .flatten()
        };
        Some(TaskSpan {
            seq,
            node: 0,
            operator: format!("stage {stage}"),
            partition: self.partition_id.first().copied().unwrap_or_default(),
            detail: Some(format!(
                "Ballista stage {stage}, task {}: {} rows in, {} out",
                self.id, self.input_rows, self.output_rows
            )),
            started_at: at(self.start_exec_time)?,
            ended_at: at(self.end_exec_time),
            rows: self.output_rows as u64,
            bytes: None,
            compute_ns: self
                .end_exec_time
                .saturating_sub(self.start_exec_time)
                .saturating_mul(1_000_000),
            spill_count: 0,
            spilled_bytes: 0,
            memory_peak: None,
        })
    }
}

/// The Ballista job behind a plan: followed while it runs, cancelled if dropped unfinished.
pub(super) struct RemoteJob {
    cluster: Cluster,
    exec: Arc<dyn ExecutionPlan>,
    /// The executors registered when the job was sent.
    executors: BTreeSet<String>,
    pub(super) stages: Arc<Stages>,
    finished: Arc<AtomicBool>,
    _watching: DropGuard,
}

impl RemoteJob {
    fn follow(
        cluster: Cluster,
        exec: Arc<dyn ExecutionPlan>,
        executors: BTreeSet<String>,
    ) -> RemoteJob {
        let stages = Arc::new(Stages::default());
        let stop = CancellationToken::new();
        tokio::spawn(watch(
            cluster.clone(),
            exec.clone(),
            stages.clone(),
            stop.clone(),
        ));
        RemoteJob {
            cluster,
            exec,
            executors,
            stages,
            finished: Arc::new(AtomicBool::new(false)),
            _watching: stop.drop_guard(),
        }
    }

    /// The answer's batches; errors reaching the cluster are I/O errors (worth another
    /// attempt), unlike the job's own failure. At the end, the job's stages are read once
    /// more, so that the last progress shows them all done, and an answer that an executor's
    /// loss may have spoilt is refused.
    pub(super) fn stream(&self, batches: SendableRecordBatchStream) -> SendableRecordBatchStream {
        let schema = batches.schema();
        let (cluster, exec) = (self.cluster.clone(), self.exec.clone());
        let (stages, finished) = (self.stages.clone(), self.finished.clone());
        let before = self.executors.clone();
        let last = futures::stream::once(async move {
            read_stages(&cluster, &exec, &stages).await;
            finished.store(true, Ordering::Relaxed);
            executors_kept(&cluster, &before).await.err()
        })
        .filter_map(|lost| std::future::ready(lost.map(Err)));
        let stream = batches
            .map(|batch| batch.map_err(transient_unless_job_failed))
            .chain(last);
        Box::pin(RecordBatchStreamAdapter::new(schema, stream))
    }
}

impl Drop for RemoteJob {
    fn drop(&mut self) {
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        let (Some(id), Ok(runtime)) = (job_id(&self.exec), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let cluster = self.cluster.clone();
        runtime.spawn(async move { cluster.cancel(&id).await });
    }
}

/// Whether every executor registered when the job was sent is still there. Ballista 55 runs
/// a lost executor's tasks again, but once returned the answer of such a job with some of
/// its rows twice (`tests/api/ballista.rs`); an executor lost while the job ran therefore
/// fails the attempt, and the job runs again, whole, on the executors that are left.
async fn executors_kept(
    cluster: &Cluster,
    before: &BTreeSet<String>,
) -> Result<(), DataFusionError> {
    let now = cluster.executors().await.map_err(|e| {
        DataFusionError::IoError(std::io::Error::other(format!(
            "the Ballista scheduler: {e}"
        )))
    })?;
    match before.difference(&now).next() {
        None => Ok(()),
        Some(lost) => Err(DataFusionError::IoError(std::io::Error::other(format!(
            "Ballista executor {lost} was lost while the job ran; running the job again"
        )))),
    }
}

fn job_id(exec: &Arc<dyn ExecutionPlan>) -> Option<String> {
    let query = exec.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()?;
    Some(query.job_id()?.as_str().to_string())
}

async fn watch(
    cluster: Cluster,
    exec: Arc<dyn ExecutionPlan>,
    stages: Arc<Stages>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        read_stages(&cluster, &exec, &stages).await;
    }
}

async fn read_stages(cluster: &Cluster, exec: &Arc<dyn ExecutionPlan>, stages: &Stages) {
    let Some(id) = job_id(exec) else { return };
    if let Ok(listed) = cluster.stages(&id).await {
        stages.set(&listed.stages);
    }
}

/// The scheduler's `GET /api/job/{id}/stages`.
#[derive(Debug, serde::Deserialize)]
struct SchedulerStages {
    stages: Vec<SchedulerStage>,
}

/// Ballista reports a job that failed on the cluster as `Job {id} failed: …`; any other
/// error of a distributed query is the cluster being out of reach (the scheduler down, an
/// executor gone before its results were fetched), which another attempt may not meet.
fn transient_unless_job_failed(error: DataFusionError) -> DataFusionError {
    let message = error.find_root().to_string();
    if message.contains("Job ") && message.contains(" failed: ") {
        // A task that ran out of memory on an executor is reported as text.
        if message.contains("ResourcesExhausted") {
            return DataFusionError::ResourcesExhausted(message);
        }
        return error;
    }
    DataFusionError::IoError(std::io::Error::other(format!(
        "the Ballista cluster: {}",
        error.strip_backtrace()
    )))
}

/// Refuses what a cluster cannot run: `ballista` without a configured scheduler, and
/// `http(s)` sources (a worker fetches them through the SSRF guard; an executor could not).
pub(super) fn check_distributable(
    spec: &JobSpec,
    cluster: Option<&Cluster>,
) -> Result<(), EngineError> {
    if spec.resources.gpu == GpuUse::Require {
        return Err(EngineError::invalid(
            "resources.gpu",
            "a ballista job runs on the cluster's executors, which have no GPU operators; use \
             \"prefer\" or \"engine\": \"local\"",
        ));
    }
    if cluster.is_none() {
        return Err(EngineError::invalid(
            "engine",
            "this server has no Ballista cluster (RUSK_BALLISTA_URL is not set); use \"local\"",
        ));
    }
    for (name, source) in &spec.sources {
        if let Some(at) = web_path(source) {
            return Err(EngineError::invalid(
                format!("sources.{name}.path"),
                format!(
                    "{at:?}: http(s) sources do not run on the ballista engine; copy the file to \
                     an object store or use \"engine\": \"local\""
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a plan that cannot be sent to the scheduler (a node or function with no codec),
/// at submission rather than when it runs.
pub(super) fn check_serializable(frame: &DataFrame) -> Result<(), EngineError> {
    let plan = frame.clone().into_optimized_plan()?;
    LogicalPlanNode::try_from_logical_plan(&plan, &LogicalCodec::default())
        .map(|_| ())
        .map_err(|e| {
            EngineError::invalid(
                "engine",
                format!(
                    "this pipeline cannot run on the ballista engine ({}); use \"local\"",
                    e.strip_backtrace()
                ),
            )
        })
}

fn web_path(source: &Source) -> Option<&str> {
    source.path.to_vec().into_iter().find(|path| {
        let lower = path.to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses() {
        assert_eq!(
            scheduler_address("df://sched:50051"),
            Ok(("sched".to_string(), 50051))
        );
        assert_eq!(
            scheduler_address("df://sched"),
            Ok(("sched".to_string(), 50050))
        );
        assert!(scheduler_address("s3://bucket").is_err());
        assert!(scheduler_address("sched:50050").is_err());
    }

    #[test]
    fn only_a_failed_job_is_not_worth_another_attempt() {
        let failed = DataFusionError::Execution("Job abc failed: division by zero".into());
        assert!(matches!(
            transient_unless_job_failed(failed),
            DataFusionError::Execution(_)
        ));
        let exhausted = DataFusionError::Execution(
            "Job abc failed: Task failed: ResourcesExhausted(\"Failed to allocate\")".into(),
        );
        assert!(matches!(
            transient_unless_job_failed(exhausted),
            DataFusionError::ResourcesExhausted(_)
        ));
        let unreachable = DataFusionError::Execution("transport error: connection refused".into());
        assert!(matches!(
            transient_unless_job_failed(unreachable),
            DataFusionError::IoError(_)
        ));
    }
}
