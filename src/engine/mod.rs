//! The compute engine: one process-wide DataFusion runtime (memory pool, spill files, object
//! stores) shared by every job, and a dedicated thread pool that runs plans. Knows nothing of
//! HTTP or the job table.

mod asof;
mod ballista;
mod bounded;
mod decimal_arithmetic;
mod decimal_constants;
mod dense_groupby;
mod diagnose;
mod distributed;
mod ewm;
mod explore;
mod gpu_aggregate;
mod gpu_expr;
mod hive;
mod late_filters;
mod means;
mod paths;
mod pipeline;
mod pivot;
mod progress;
mod resample;
mod reshape;
mod shared;
mod sources;
mod stand_in;
mod steps;
mod string_equals;
mod tasks;
mod top;
mod windows;

pub use ballista::{
    EnvStores, LogicalCodec, PhysicalCodec, function_registry, with_rusk_functions,
};
pub use distributed::{Stages, scheduler_address};
pub use explore::{Explanation, Inspection, NodeMetrics, TaskEdge, TaskGraph, TaskNode};
pub use gpu_aggregate::{GpuAggregateExec, GpuAggregates};
pub use paths::{Location, Private, Scope, normalise_url};

/// Where `job://{id}` sources find an earlier job's result files; given by the process that
/// has the job store (the engine knows none).
#[async_trait::async_trait]
pub trait EarlierResults: Send + Sync {
    /// The files (absolute local paths or URLs) of `tenant`'s succeeded job `id`, which must
    /// have been written as `format`; the message says why not (for the caller).
    async fn files(
        &self,
        tenant: &str,
        id: uuid::Uuid,
        format: crate::spec::Format,
    ) -> Result<Vec<String>, String>;
}
pub use progress::{Prepared, ScanProgress, scan_progress};
pub use tasks::{node_count, span_slots, task_spans};

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use tokio::runtime::Handle;

use datafusion::config::ConfigOptions;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::domain::{DeviceKind, GpuDevice};
use crate::gpu::{self, Devices};
use crate::objects::StoreConfig;
use crate::spec::{EngineKind, JobSpec};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The spec cannot run as written; `path` names the field (e.g. `steps[1].expr`).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The data broke a rule while running (a value that does not parse, a schema clash).
    #[error("{0}")]
    Data(String),
    #[error("memory limit exceeded: {0}")]
    ResourcesExhausted(String),
    /// Reading or writing storage failed; worth another attempt.
    #[error("storage I/O failed: {0}")]
    Io(String),
    #[error("internal engine error: {0}")]
    Internal(String),
}

impl EngineError {
    pub fn invalid(path: impl Into<String>, message: impl ToString) -> EngineError {
        EngineError::Invalid {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// The same error with `root/` cut from its message: callers know their files by paths
    /// relative to their data root, and the server's layout is none of their business.
    pub(crate) fn relative_to(self, root: &std::path::Path) -> EngineError {
        let cut = |message: String| cut_root(&message, root);
        match self {
            EngineError::Invalid { path, message } => EngineError::Invalid {
                path,
                message: cut(message),
            },
            EngineError::Data(m) => EngineError::Data(cut(m)),
            EngineError::ResourcesExhausted(m) => EngineError::ResourcesExhausted(cut(m)),
            EngineError::Io(m) => EngineError::Io(cut(m)),
            EngineError::Internal(m) => EngineError::Internal(cut(m)),
        }
    }

    /// Whether another attempt might succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Io(_))
    }
}

impl From<DataFusionError> for EngineError {
    fn from(error: DataFusionError) -> EngineError {
        let message = error.to_string();
        match error.find_root() {
            DataFusionError::ResourcesExhausted(_) => EngineError::ResourcesExhausted(message),
            DataFusionError::ObjectStore(_) | DataFusionError::IoError(_) => {
                EngineError::Io(message)
            }
            DataFusionError::Internal(_) => EngineError::Internal(message),
            _ => EngineError::Data(message),
        }
    }
}

pub struct EngineConfig {
    /// Local sources resolve under this directory and may not leave it; `{tenant}` in it
    /// gives each tenant a directory of its own.
    pub data_root: PathBuf,
    /// URL prefixes remote sources must start with (`{tenant}` allowed); empty: any.
    pub source_allow: Vec<String>,
    /// URL prefixes `output.path` may write to (`{tenant}` allowed); empty: any where the
    /// caller is trusted (no API keys), none otherwise.
    pub output_allow: Vec<String>,
    /// Rusk's own storage, never a source.
    pub private: Private,
    /// Bytes the memory pool grants to all running plans together.
    pub memory_limit: u64,
    /// Where spilling operators write their temporary files.
    pub spill_dir: PathBuf,
    /// Threads that execute plans (and the default number of partitions).
    pub threads: usize,
    /// Credentials and endpoints for object-store sources.
    pub stores: StoreConfig,
    /// The engine of jobs that name none.
    pub default_engine: EngineKind,
    /// The Ballista scheduler of `ballista` jobs (`df://host:port`), if there is a cluster.
    pub ballista_url: Option<String>,
    /// The GPU devices this process runs covered operators on (none on a CPU-only machine).
    pub devices: Devices,
}

pub struct Engine {
    /// Every session's settings: Rusk's, then any `DATAFUSION_*` environment variables.
    base_config: SessionConfig,
    runtime_env: Arc<RuntimeEnv>,
    /// The same memory pool and object stores, without spill files: a job's first, parallel
    /// attempt runs here, so an operator that needs to spill fails (and the job is planned
    /// again, frugally, on `runtime_env`) instead of spilling inside a `RepartitionExec`,
    /// which can deadlock in DataFusion 55 (apache/datafusion#24883).
    unspilled_env: Arc<RuntimeEnv>,
    cpu: CpuRuntime,
    root: Root,
    source_allow: Vec<String>,
    output_allow: Vec<String>,
    private: Private,
    threads: usize,
    memory_limit: u64,
    stores: StoreConfig,
    earlier: std::sync::OnceLock<Arc<dyn EarlierResults>>,
    default_engine: EngineKind,
    cluster: Option<distributed::Cluster>,
    devices: Devices,
    /// Whether Parquet filter pushdown is chosen scan by scan (`late_filters`): unless the
    /// operator set it for all.
    pushdown_per_scan: bool,
    /// Whether the operator chose how hash joins are partitioned
    /// (`DATAFUSION_OPTIMIZER_REPARTITION_JOINS`); otherwise `COLLECT_JOINS_UP_TO` does.
    joins_set_by_operator: bool,
}

/// Whether a session plans a repeated part of a query once (`shared`).
#[derive(Clone, Copy)]
enum Sharing {
    On,
    Off,
}

/// Up to this many partitions, a hash join gives its build side whole to every partition
/// (`CollectLeft`) instead of hash-repartitioning both of its inputs: moving the probe side's
/// rows between partitions cost more than building one table on one thread (2 cores, TPC-H
/// SF10, the ten join-heavy queries: 13 % less time; docs/benchmarks.md). A Ballista
/// cluster's joins stay partitioned.
const COLLECT_JOINS_UP_TO: usize = 2;

impl Engine {
    /// Lets `job://` sources read earlier results (set once, at start).
    pub fn read_earlier_results(&self, earlier: Arc<dyn EarlierResults>) {
        let _ = self.earlier.set(earlier);
    }

    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let root = Root::new(&config.data_root)?;
        for prefix in config.source_allow.iter().chain(&config.output_allow) {
            paths::normalise_url(&prefix.replace(TENANT, "tenant"))
                .map_err(|e| EngineError::Internal(format!("a source allow-list entry: {e}")))?;
        }
        std::fs::create_dir_all(&config.spill_dir).map_err(|e| {
            EngineError::Io(format!(
                "spill directory {} is not usable: {e}",
                config.spill_dir.display()
            ))
        })?;
        let pool = FairSpillPool::new(usize::try_from(config.memory_limit).unwrap_or(usize::MAX));
        let disk = DiskManagerBuilder::default()
            .with_mode(DiskManagerMode::Directories(vec![config.spill_dir]));
        let runtime_env = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .with_disk_manager_builder(disk)
            .with_cache_manager(caches())
            .build_arc()?;
        let unspilled_env = RuntimeEnvBuilder::new()
            .with_cache_manager(caches())
            .with_memory_pool(runtime_env.memory_pool.clone())
            .with_object_store_registry(runtime_env.object_store_registry.clone())
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()?;
        let threads = config.threads.max(1);
        if config.default_engine == EngineKind::Ballista && config.ballista_url.is_none() {
            return Err(EngineError::Internal(
                "RUSK_ENGINE=ballista needs the cluster's scheduler in RUSK_BALLISTA_URL".into(),
            ));
        }
        let cluster = config
            .ballista_url
            .as_deref()
            .map(distributed::Cluster::new)
            .transpose()?;
        Ok(Engine {
            base_config: base_config(config.memory_limit)?,
            runtime_env,
            unspilled_env,
            cpu: CpuRuntime::new(threads)?,
            root,
            source_allow: config.source_allow,
            output_allow: config.output_allow,
            private: config.private,
            threads,
            memory_limit: config.memory_limit,
            stores: config.stores,
            earlier: std::sync::OnceLock::new(),
            default_engine: config.default_engine,
            cluster,
            devices: config.devices,
            pushdown_per_scan: std::env::var_os("DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS")
                .is_none(),
            joins_set_by_operator: std::env::var_os("DATAFUSION_OPTIMIZER_REPARTITION_JOINS")
                .is_some(),
        })
    }

    /// What `tenant`'s sources may read: its data root and allowed URL prefixes.
    pub fn scope(&self, tenant: &str) -> Result<Scope, EngineError> {
        let root = self.root.of(tenant)?;
        let allow = if self.source_allow.is_empty() {
            None
        } else {
            let prefixes = self
                .source_allow
                .iter()
                .map(|p| paths::normalise_url(&p.replace(TENANT, tenant)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(EngineError::Internal)?;
            Some(prefixes)
        };
        Ok(Scope {
            tenant: tenant.to_string(),
            root,
            allow,
        })
    }

    /// Where `tenant`'s `output.path` writes, as an absolute URL. `trusted`: the server has
    /// no API keys, so any object-store URL is allowed when `RUSK_OUTPUT_ALLOW` is unset.
    pub fn destination(
        &self,
        path: &str,
        tenant: &str,
        trusted: bool,
    ) -> Result<String, EngineError> {
        let scope = self.scope(tenant)?;
        let allow = match (self.output_allow.is_empty(), trusted) {
            (true, true) => None,
            (true, false) => Some(Vec::new()),
            (false, _) => Some(
                self.output_allow
                    .iter()
                    .map(|p| paths::normalise_url(&p.replace(TENANT, tenant)))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(EngineError::Internal)?,
            ),
        };
        paths::destination(&scope, &self.private, allow.as_deref(), path).map_err(|message| {
            EngineError::invalid("output.path", message).relative_to(&scope.root)
        })
    }

    /// A fresh session over the shared runtime: each job gets its own.
    pub fn session(&self) -> SessionContext {
        self.session_with_partitions(self.threads)
    }

    fn session_with_partitions(&self, partitions: usize) -> SessionContext {
        self.session_on(&self.runtime_env, partitions, Sharing::Off)
    }

    /// A session for a job's first attempt: every partition, no spilling (see
    /// `unspilled_env`), and a repeated part of the query run once (`shared`): a part too
    /// large to keep in the pool fails this attempt, and the frugal one does not share.
    fn unspilled_session(&self) -> SessionContext {
        self.session_on(&self.unspilled_env, self.threads, Sharing::On)
    }

    fn session_on(
        &self,
        env: &Arc<RuntimeEnv>,
        partitions: usize,
        sharing: Sharing,
    ) -> SessionContext {
        let mut config = self.base_config.clone().with_target_partitions(partitions);
        if partitions <= COLLECT_JOINS_UP_TO && !self.joins_set_by_operator {
            config.options_mut().optimizer.repartition_joins = false;
        }
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(env.clone())
            .with_default_features()
            .with_optimizer_rule(Arc::new(decimal_constants::ConstantsAtDecimalScale))
            .with_physical_optimizer_rule(Arc::new(dense_groupby::DenseGroupBy))
            .with_physical_optimizer_rule(Arc::new(top::BroadcastThresholds));
        let state = match sharing {
            Sharing::On => state.with_query_planner(Arc::new(shared::SharingPlanner)),
            Sharing::Off => state,
        };
        // An operator's `DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS` sets it for every scan.
        let state = if self.pushdown_per_scan {
            state.with_physical_optimizer_rule(Arc::new(late_filters::PushdownWhereDynamic))
        } else {
            state
        }
        .with_physical_optimizer_rule(Arc::new(string_equals::ShortStringEquals))
        .with_physical_optimizer_rule(Arc::new(decimal_arithmetic::DecimalArithmetic))
        .build();
        let ctx = SessionContext::new_with_state(state);
        bounded::bound_amplifiers(&ctx, self.amplifier_budget());
        means::exact_means(&ctx);
        ctx
    }

    /// A session planning for a Ballista cluster: joins partitioned as DataFusion (or the
    /// operator) has them, whatever this worker's cores.
    fn cluster_session(&self) -> SessionContext {
        let ctx = self.session();
        ctx.state_ref()
            .write()
            .config_mut()
            .options_mut()
            .optimizer
            .repartition_joins = self.base_config.options().optimizer.repartition_joins;
        ctx
    }

    /// Bytes one call of an amplifying function may make: a quarter of the pool, at most
    /// 256 MiB.
    fn amplifier_budget(&self) -> u64 {
        (self.memory_limit / 4).min(256 << 20)
    }

    /// Refuses a planned job whose constant expressions cannot be computed within bounds
    /// (`repeat('a', 10^9)`): the submission-time half of the amplifier bounds.
    pub fn check_constants(&self, frame: &DataFrame) -> Result<(), EngineError> {
        bounded::check_constants(frame.logical_plan(), self.amplifier_budget())
            .map_err(EngineError::from)
    }

    /// Resolves the sources and builds the job's plan: this is the submission-time validation,
    /// and the first half of running it.
    pub async fn plan(&self, spec: &JobSpec, tenant: &str) -> Result<DataFrame, EngineError> {
        let distributed = self.cluster_for(spec)?.is_some();
        let ctx = if distributed {
            self.cluster_session()
        } else {
            // Planned as a job's first attempt is, so that `explain` shows what runs.
            self.session_on(&self.runtime_env, self.threads, Sharing::On)
        };
        let frame = self.plan_in(&ctx, spec, &self.scope(tenant)?).await?;
        if distributed {
            distributed::check_serializable(&frame)?;
        }
        Ok(frame)
    }

    /// Whether the job runs on a Ballista cluster.
    pub fn is_distributed(&self, spec: &JobSpec) -> bool {
        spec.engine.unwrap_or(self.default_engine) == EngineKind::Ballista
    }

    /// The cluster the job runs on, `None` for the local engine; refuses a job the cluster
    /// cannot run.
    fn cluster_for(&self, spec: &JobSpec) -> Result<Option<&distributed::Cluster>, EngineError> {
        if !self.is_distributed(spec) {
            return Ok(None);
        }
        distributed::check_distributable(spec, self.cluster.as_ref())?;
        Ok(self.cluster.as_ref())
    }

    async fn plan_in(
        &self,
        ctx: &SessionContext,
        spec: &JobSpec,
        scope: &Scope,
    ) -> Result<DataFrame, EngineError> {
        let named = spec
            .sql
            .as_deref()
            .and_then(|sql| pipeline::tables_named(ctx, sql));
        let planned = async {
            for (name, source) in &spec.sources {
                let at = format!("sources.{name}");
                match &named {
                    // A source the query does not read is not opened: its files must exist,
                    // but its schema costs a job nothing.
                    Some(named) if !named.contains(name.as_str()) => {
                        sources::source_files(self, scope, &at, source).await?;
                    }
                    _ => {
                        sources::register(ctx, self, scope, (name, &at), source).await?;
                    }
                }
            }
            pipeline::build(ctx, spec).await
        };
        planned.await.map_err(|e| e.relative_to(&scope.root))
    }

    /// Runs a future on the engine's own threads, away from the API's I/O runtime.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.cpu.handle().spawn(future)
    }

    pub fn cpu_handle(&self) -> Handle {
        self.cpu.handle().clone()
    }

    /// Bytes the memory pool grants to all running plans together.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    /// Bytes in spill files now.
    pub fn spilled_bytes(&self) -> u64 {
        self.runtime_env.disk_manager.used_disk_space()
    }

    /// Bytes the memory pool has granted now, to all running plans together.
    pub fn memory_reserved(&self) -> usize {
        self.runtime_env.memory_pool.reserved()
    }

    /// Waits (at most 2 s) until the pool is back to `reserved` bytes. A failed plan's
    /// operators free their memory only once their tasks, aborted when it was dropped, have
    /// stopped; a second plan started before then would find the pool still full.
    pub async fn settle_memory(&self, reserved: usize) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while self.memory_reserved() > reserved && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub fn runtime_env(&self) -> &Arc<RuntimeEnv> {
        &self.runtime_env
    }

    /// Whether this process has a GPU device (and so claims jobs that need one).
    pub fn has_gpu(&self) -> bool {
        !self.devices.is_empty()
    }

    /// The GPU devices, as a worker reports them.
    pub fn devices(&self) -> Vec<GpuDevice> {
        self.devices
            .iter()
            .map(|device| {
                let info = device.info();
                GpuDevice {
                    index: u32::try_from(info.index).unwrap_or(u32::MAX),
                    kind: match info.kind {
                        gpu::DeviceKind::Cuda => DeviceKind::Cuda,
                        gpu::DeviceKind::TestStub => DeviceKind::TestStub,
                    },
                    name: info.name.clone(),
                    total_memory: info.total_memory,
                    free_memory: device.free_memory(),
                    compute_capability: format!(
                        "{}.{}",
                        info.compute_capability.0, info.compute_capability.1
                    ),
                }
            })
            .collect()
    }

    /// The device a job's covered operators and fits run on: one where the job wants it
    /// (`resources.gpu`) and this process has one.
    pub fn device_for(&self, spec: &JobSpec) -> Option<Arc<dyn gpu::Accelerator>> {
        self.devices
            .pick()
            .filter(|_| spec.resources.gpu.wants_device())
    }

    /// The job's plan with its covered operators on a device, where the job wants one
    /// (`resources.gpu`) and this process has one.
    fn on_device(
        &self,
        spec: &JobSpec,
        plan: Arc<dyn ExecutionPlan>,
        options: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>, EngineError> {
        let Some(device) = self.device_for(spec) else {
            return Ok(plan);
        };
        Ok(GpuAggregates::new(device).optimize(plan, options)?)
    }
}

/// DataFusion's caches, less the directory listings: it keeps those forever by default, and
/// a dataset gains files (an `append` job, another writer) while Rusk runs.
fn caches() -> CacheManagerConfig {
    CacheManagerConfig::default().with_list_files_cache_limit(0)
}

/// `text` without `root/`, written as a path (`/srv/data/`) or as an object-store location
/// (`srv/data/`, as plans show local files): callers know their files relative to their root.
pub(crate) fn cut_root(text: &str, root: &std::path::Path) -> String {
    let path = format!("{}/", root.display());
    let location = path.trim_start_matches('/');
    text.replace(&path, "").replace(location, "")
}

/// The placeholder for the tenant's name in `RUSK_DATA_ROOT` and `RUSK_SOURCE_ALLOW`.
pub const TENANT: &str = "{tenant}";

/// The data root: one directory for everyone, or one per tenant.
enum Root {
    Shared(PathBuf),
    /// A path with `{tenant}` in it.
    PerTenant(String),
}

impl Root {
    fn new(path: &std::path::Path) -> Result<Root, EngineError> {
        let text = path.display().to_string();
        if text.contains(TENANT) {
            return Ok(Root::PerTenant(text));
        }
        let root = path.canonicalize().map_err(|e| {
            EngineError::Io(format!("data root {} is not usable: {e}", path.display()))
        })?;
        Ok(Root::Shared(root))
    }

    fn of(&self, tenant: &str) -> Result<PathBuf, EngineError> {
        let template = match self {
            Root::Shared(root) => return Ok(root.clone()),
            Root::PerTenant(template) => template,
        };
        // Tenant names are 1 to 64 of letters, digits, `-`, `_` and `.`; `.` and `..`
        // would not be a directory of their own.
        let safe = !tenant.is_empty()
            && !matches!(tenant, "." | "..")
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !safe {
            return Err(EngineError::invalid(
                "sources",
                "this tenant's name cannot name a data directory",
            ));
        }
        PathBuf::from(template.replace(TENANT, tenant))
            .canonicalize()
            .map_err(|_| {
                EngineError::invalid(
                    "sources",
                    format!("tenant {tenant:?} has no data directory on this server yet"),
                )
            })
    }
}

/// Operators may tune the engine with DataFusion's own variables (e.g.
/// `DATAFUSION_EXECUTION_SORT_SPILL_RESERVATION_BYTES`); Rusk's own settings come on top.
fn base_config(memory_limit: u64) -> Result<SessionConfig, EngineError> {
    let config = SessionConfig::from_env().map_err(|e| {
        EngineError::Internal(format!("a DATAFUSION_* variable: {}", e.strip_backtrace()))
    })?;
    let mut config = config.with_information_schema(false);
    let options = config.options_mut();
    // Column names are case-sensitive, as in pandas.
    options.sql_parser.enable_ident_normalization = false;
    if std::env::var_os("DATAFUSION_EXECUTION_PERFECT_HASH_JOIN_SMALL_BUILD_THRESHOLD").is_none() {
        options.execution.perfect_hash_join_small_build_threshold = perfect_hash_keys(memory_limit);
    }
    Ok(config)
}

/// A hash join on one integer key whose build side's keys span fewer than this many values
/// looks its rows up in an array indexed by key (DataFusion's perfect hash join, 4 bytes a
/// value) instead of a hash table, however sparse the keys: DataFusion's own bounds (1024
/// values, or one value in seven) left filtered `orders` in a hash table. Eight of TPC-H
/// SF10's join queries took 10 % less time, though q17's small, sparse build side became an
/// array larger than the cache (+21 %; docs/benchmarks.md). The array is held against the
/// memory pool like a table: at most a thirty-second of the pool, and 256 MiB.
fn perfect_hash_keys(memory_limit: u64) -> usize {
    let bytes = (memory_limit / 32).min(256 << 20);
    usize::try_from(bytes / 4).map_or(usize::MAX, |keys| keys.max(1024))
}

const CPU_STACK_BYTES: usize = 64 << 20;

/// A multi-threaded Tokio runtime for CPU-bound plan execution, shut down without blocking
/// when the engine is dropped (which may happen inside another runtime).
struct CpuRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl CpuRuntime {
    fn new(threads: usize) -> Result<CpuRuntime, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("rusk-cpu")
            // Planning recurses through expression trees (bounded by the spec's limits, with
            // room to spare); untouched stack costs address space only.
            .thread_stack_size(CPU_STACK_BYTES)
            .enable_all()
            .build()
            .map_err(|e| EngineError::Internal(format!("cannot start engine threads: {e}")))?;
        Ok(CpuRuntime {
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> &Handle {
        match &self.runtime {
            Some(runtime) => runtime.handle(),
            None => unreachable!("the runtime is only taken in drop"),
        }
    }
}

impl Drop for CpuRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
