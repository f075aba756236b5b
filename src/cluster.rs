//! `rusk scheduler` and `rusk executor`: Apache Ballista's scheduler and executor, run from
//! the Ballista crates inside the one `rusk` binary, with Rusk's functions, codecs and object
//! stores, so that a `ballista` job gives the answer the local engine gives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;

use crate::engine::{
    EnvStores, LogicalCodec, PhysicalCodec, function_registry, scheduler_address,
    with_rusk_functions,
};
use crate::objects::StoreConfig;

#[derive(Debug, Clone, clap::Args)]
pub struct SchedulerArgs {
    /// Address the scheduler listens on (gRPC, and Ballista's REST API on the same port).
    #[arg(long, env = "RUSK_SCHEDULER_LISTEN", default_value = "127.0.0.1:50050")]
    pub listen: SocketAddr,
    /// The host name executors and workers reach this scheduler by.
    #[arg(long, env = "RUSK_SCHEDULER_HOST", default_value = "localhost")]
    pub external_host: String,
    /// Seconds without a heartbeat before an executor counts as lost and its tasks run
    /// again elsewhere.
    #[arg(long, env = "RUSK_EXECUTOR_TIMEOUT", default_value_t = 30)]
    pub executor_timeout_s: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExecutorArgs {
    /// Address the executor serves its results on (Arrow Flight).
    #[arg(long, env = "RUSK_EXECUTOR_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Port of the executor's task service (the scheduler pushes tasks to it).
    #[arg(long, env = "RUSK_EXECUTOR_GRPC_PORT", default_value_t = 50052)]
    pub grpc_port: u16,
    /// The host name the scheduler and the other executors reach this executor by (in
    /// Kubernetes, the pod's IP); default the listen address's.
    #[arg(long, env = "RUSK_EXECUTOR_HOST")]
    pub external_host: Option<String>,
    /// Tasks run at once; default one per core.
    #[arg(long, env = "RUSK_EXECUTOR_SLOTS")]
    pub slots: Option<usize>,
    /// Seconds between heartbeats to the scheduler (below its `RUSK_EXECUTOR_TIMEOUT`).
    #[arg(long, env = "RUSK_EXECUTOR_HEARTBEAT", default_value_t = 5)]
    pub heartbeat_s: u64,
}

/// What an executor takes from Rusk's own settings.
pub struct ExecutorEnv {
    /// `RUSK_BALLISTA_URL`: the scheduler to register with.
    pub scheduler: String,
    /// `RUSK_MEMORY_LIMIT`: shared by the executor's task slots; spilling operators spill
    /// beyond it.
    pub memory_limit: u64,
    /// Where shuffle and spill files go.
    pub work_dir: PathBuf,
    pub stores: StoreConfig,
}

/// Amplifying functions (`repeat`, …) may make at most this much per call on an executor.
const AMPLIFIER_BUDGET: u64 = 256 << 20;

/// Runs a scheduler until the process is stopped.
pub async fn scheduler(args: SchedulerArgs, stores: StoreConfig) -> anyhow::Result<()> {
    let stores: Arc<dyn ObjectStoreRegistry> = Arc::new(EnvStores::new(stores));
    let session_builder = Arc::new(move |config| {
        let runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(stores.clone())
            .build_arc()?;
        let state = ballista_core::utils::default_session_builder(config)?;
        let state =
            datafusion::execution::session_state::SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(runtime)
                .build();
        Ok(with_rusk_functions(state, AMPLIFIER_BUDGET))
    });
    let config = SchedulerConfig {
        bind_host: args.listen.ip().to_string(),
        bind_port: args.listen.port(),
        external_host: args.external_host,
        executor_timeout_seconds: args.executor_timeout_s,
        expire_dead_executor_interval_seconds: (args.executor_timeout_s / 2).clamp(1, 15),
        no_executors_grace_period_seconds: args.executor_timeout_s,
        // Executors ask for tasks. With the scheduler pushing them (Ballista's default), a
        // lost executor's tasks were never run again: the slots of tasks cancelled on the
        // others were not given back.
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        override_session_builder: Some(session_builder),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .context("cannot set up the scheduler's state")?;
    tracing::info!(listen = %args.listen, "Ballista scheduler started");
    start_server(cluster, args.listen, Arc::new(config))
        .await
        .context("the scheduler stopped")
}

/// Runs an executor until the process is stopped (or the scheduler tells it to stop).
pub async fn executor(args: ExecutorArgs, env: ExecutorEnv) -> anyhow::Result<()> {
    let (scheduler_host, scheduler_port) =
        scheduler_address(&env.scheduler).map_err(|e| anyhow::anyhow!("RUSK_BALLISTA_URL: {e}"))?;
    std::fs::create_dir_all(&env.work_dir)
        .with_context(|| format!("cannot create {}", env.work_dir.display()))?;
    let work_dir = env.work_dir.display().to_string();
    let stores: Arc<dyn ObjectStoreRegistry> = Arc::new(EnvStores::new(env.stores));
    let spill_dir = work_dir.clone();
    let runtime_producer = Arc::new(move |_: &datafusion::prelude::SessionConfig| {
        RuntimeEnvBuilder::new()
            .with_temp_file_path(spill_dir.clone())
            .with_object_store_registry(stores.clone())
            .build_arc()
    });
    let bind_host = args.listen.ip().to_string();
    let config = ExecutorProcessConfig {
        external_host: Some(args.external_host.unwrap_or_else(|| bind_host.clone())),
        bind_host,
        port: args.listen.port(),
        grpc_port: args.grpc_port,
        scheduler_host,
        scheduler_port,
        // Keep trying while the scheduler starts (0 would give up at once).
        scheduler_connect_timeout_seconds: 30,
        vcores: args.slots.unwrap_or_else(crate::config::cores).max(1),
        work_dir: Some(work_dir),
        // As the scheduler's (`scheduler` above).
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        executor_heartbeat_interval_seconds: args.heartbeat_s.max(1),
        memory_pool_size: Some(env.memory_limit),
        override_function_registry: Some(Arc::new(function_registry(AMPLIFIER_BUDGET))),
        override_runtime_producer: Some(runtime_producer),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    tracing::info!(listen = %args.listen, scheduler = %env.scheduler, "Ballista executor started");
    start_executor_process(Arc::new(config))
        .await
        .context("the executor stopped")
}
