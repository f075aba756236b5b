//! Job slots: each claims a job with a lease, runs it on the engine's threads, renews the lease
//! while it runs, and ends it only while the lease is still held. A cancelled or reclaimed job
//! shows up as a refused heartbeat, and the running plan is dropped at once.

mod load;
mod tasks;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::domain::{
    Capabilities, ErrorCode, Job, JobError, MlSummary, ModelInfo, Progress, REPORT_EVERY,
    StoredResult, TaskSpan, WorkerInfo, WorkerLoad,
};
use crate::engine::{Engine, EngineError};
use crate::ml::{self, MlError};
use crate::results::{
    Destination, MAX_RESULT_FILES, OutputLimits, PLAN_FILE, ResultError, ResultStore, ResultWriter,
};
use crate::spec::{JobSpec, MlSpec, MlTask};
use crate::store::{Claimed, Lease, Outcome, Store};
use crate::telemetry::Metrics;
use load::CpuMeter;
use tasks::{TaskLog, Tracker};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub slots: usize,
    /// How long a claim holds without a heartbeat.
    pub lease_ttl: Duration,
    pub heartbeat_every: Duration,
    /// How often an idle slot looks for work when nobody wakes it.
    pub poll_every: Duration,
    /// On shutdown, how long running jobs may go on before they are released to the queue.
    pub shutdown_grace: Duration,
    /// What a job may write at most (a job's own `max_result_bytes` may ask for less).
    pub limits: OutputLimits,
    /// How long an attempt of a job without `timeout_s` may run.
    pub default_timeout: Duration,
    /// How long results and ended jobs are kept, and how often that is enforced.
    pub retention: Retention,
}

/// What the janitor deletes, and how often it looks.
#[derive(Debug, Clone)]
pub struct Retention {
    /// A result's files, this long after its job ends (unless the job asks for less).
    pub result_ttl: Option<Duration>,
    /// An ended job's row and files, this long after it ends.
    pub job_ttl: Option<Duration>,
    pub every: Duration,
}

impl WorkerConfig {
    /// Heartbeats come every second, or three times per lease when leases are shorter.
    pub fn new(slots: usize, lease_ttl_s: u64, shutdown_grace_s: u64) -> WorkerConfig {
        let lease_ttl = Duration::from_secs(lease_ttl_s.max(1));
        WorkerConfig {
            slots,
            lease_ttl,
            heartbeat_every: (lease_ttl / 3).min(Duration::from_secs(1)),
            poll_every: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(shutdown_grace_s),
            limits: OutputLimits {
                max_bytes: u64::MAX,
                max_files: MAX_RESULT_FILES,
            },
            default_timeout: Duration::from_secs(crate::spec::MAX_TIMEOUT_S),
            retention: Retention {
                result_ttl: None,
                job_ttl: None,
                every: Duration::from_secs(60),
            },
        }
    }
}

pub struct Worker {
    id: String,
    hostname: String,
    started_at: chrono::DateTime<chrono::Utc>,
    /// Jobs this process is running now, for its report in `GET /v1/workers`.
    running: Mutex<BTreeSet<Uuid>>,
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    results: ResultStore,
    config: WorkerConfig,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    cpu: CpuMeter,
}

impl Worker {
    /// Records claims and attempts in the process's metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Worker {
        self.metrics = metrics;
        self
    }

    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        results: ResultStore,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Worker {
        let hostname = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Worker {
            id: format!("{hostname}-{}", Uuid::new_v4().simple()),
            hostname,
            started_at: chrono::Utc::now(),
            running: Mutex::new(BTreeSet::new()),
            store,
            engine,
            results,
            config,
            wake,
            metrics: Metrics::new(),
            cpu: CpuMeter::default(),
        }
    }

    /// Starts the slots and the lease reaper; they stop when `shutdown` is cancelled.
    pub fn start(self, shutdown: CancellationToken) -> JoinHandle<()> {
        let worker = Arc::new(self);
        tokio::spawn(async move {
            tracing::info!(worker = %worker.id, slots = worker.config.slots, "worker started");
            let mut tasks = JoinSet::new();
            for _ in 0..worker.config.slots {
                tasks.spawn(worker.clone().slot(shutdown.clone()));
            }
            tasks.spawn(worker.clone().reaper(shutdown.clone()));
            tasks.spawn(worker.clone().reporter(shutdown.clone()));
            tasks.spawn(worker.clone().janitor(shutdown.clone()));
            let (store, wake, stop) = (worker.store.clone(), worker.wake.clone(), shutdown.clone());
            tasks.spawn(async move { store.watch_queue(wake, stop).await });
            while tasks.join_next().await.is_some() {}
        })
    }

    async fn slot(self: Arc<Self>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let asked = std::time::Instant::now();
            let claimed = self
                .store
                .claim(&self.id, self.config.lease_ttl, self.engine.has_gpu())
                .await;
            self.metrics
                .claim_seconds
                .observe(asked.elapsed().as_secs_f64());
            match claimed {
                Ok(Some(claimed)) => self.run(claimed, &shutdown).await,
                Ok(None) => self.idle(&shutdown).await,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim jobs");
                    self.idle(&shutdown).await;
                }
            }
        }
    }

    async fn idle(&self, shutdown: &CancellationToken) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(self.config.poll_every) => {}
            _ = shutdown.cancelled() => {}
        }
    }

    /// Requeues jobs whose worker vanished without a word.
    async fn reaper(self: Arc<Self>, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(self.config.lease_ttl / 3);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            match self.store.requeue_expired().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(jobs = n, "requeued jobs whose lease lapsed");
                    self.wake.notify_one();
                }
                Err(error) => tracing::warn!(%error, "cannot requeue lapsed jobs"),
            }
            match self.store.fail_unclaimed_gpu_jobs().await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(jobs = n, "failed GPU jobs no GPU worker claimed in time"),
                Err(error) => tracing::warn!(%error, "cannot fail GPU jobs that waited too long"),
            }
        }
    }

    /// Tells the store every few seconds that this process is alive, and what it runs;
    /// removes its row on shutdown.
    async fn reporter(self: Arc<Self>, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(REPORT_EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.cancelled() => break,
            }
            if let Err(error) = self.store.report_worker(&self.info()).await {
                tracing::warn!(%error, "cannot report this worker");
            }
        }
        if let Err(error) = self.store.remove_worker(&self.id).await {
            tracing::warn!(%error, "cannot remove this worker's row");
        }
    }

    /// Deletes what is kept no longer: results past their retention (their downloads answer
    /// 410 since), and jobs past `RUSK_JOB_TTL`. Files in a job's `output.path` are the
    /// caller's and are never touched.
    async fn janitor(self: Arc<Self>, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(self.config.retention.every);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            self.sweep().await;
        }
    }

    async fn sweep(&self) {
        const BATCH: u32 = 100;
        match self.store.expire_results(BATCH).await {
            Ok(expired) => self.delete_files(&expired, "expired result").await,
            Err(error) => tracing::warn!(%error, "cannot expire results"),
        }
        let Some(age) = self.config.retention.job_ttl else {
            return;
        };
        match self.store.delete_ended(age, BATCH).await {
            Ok(deleted) => self.delete_files(&deleted, "old job").await,
            Err(error) => tracing::warn!(%error, "cannot delete old jobs"),
        }
    }

    async fn delete_files(&self, jobs: &[Uuid], why: &str) {
        for job in jobs {
            match self.results.discard_attempts(*job, None).await {
                Ok(files) => tracing::info!(%job, files, "deleted the files of an {why}"),
                Err(error) => tracing::warn!(%error, %job, "cannot delete the files of an {why}"),
            }
        }
    }

    fn info(&self) -> WorkerInfo {
        let current_jobs: Vec<Uuid> = self.running_jobs().iter().copied().collect();
        WorkerInfo {
            id: self.id.clone(),
            hostname: self.hostname.clone(),
            started_at: self.started_at,
            last_seen: chrono::Utc::now(),
            slots: i32::try_from(self.config.slots).unwrap_or(i32::MAX),
            busy: i32::try_from(current_jobs.len()).unwrap_or(i32::MAX),
            capabilities: Capabilities {
                cores: crate::config::cores(),
                memory_limit: self.engine.memory_limit(),
                gpus: self.engine.devices(),
            },
            current_jobs,
            load: WorkerLoad {
                memory_reserved: self.engine.memory_reserved() as u64,
                spilled_bytes: self.engine.spilled_bytes(),
                cpu_percent: self.cpu.percent(),
            },
        }
    }

    fn running_jobs(&self) -> std::sync::MutexGuard<'_, BTreeSet<Uuid>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(&self, claimed: Claimed, shutdown: &CancellationToken) {
        let id = claimed.job.id;
        if claimed.lease.attempt == 1 {
            let waited = (chrono::Utc::now() - claimed.job.created_at).num_milliseconds();
            self.metrics
                .queue_wait_seconds
                .observe(waited.max(0) as f64 / 1000.0);
        }
        // Every line logged while the job runs carries these fields.
        let span = tracing::info_span!("job", job_id = %id, attempt = claimed.lease.attempt,
            worker = %self.id);
        self.running_jobs().insert(id);
        self.run_claimed(claimed, shutdown).instrument(span).await;
        self.running_jobs().remove(&id);
    }

    async fn run_claimed(&self, claimed: Claimed, shutdown: &CancellationToken) {
        let Claimed { job, lease } = claimed;
        tracing::info!(job = %job.id, attempt = lease.attempt, "job started");
        let timeout = job
            .spec
            .timeout_s
            .map_or(self.config.default_timeout, Duration::from_secs);
        let started = Instant::now();
        let deadline = Some(started + timeout);
        let keep_for = job
            .spec
            .result_ttl_s
            .map(Duration::from_secs)
            .or(self.config.retention.result_ttl);
        let tracker = Arc::new(Tracker::default());
        let limits = OutputLimits {
            max_bytes: job
                .spec
                .max_result_bytes()
                .map_or(self.config.limits.max_bytes, |own| {
                    own.min(self.config.limits.max_bytes)
                }),
            ..self.config.limits
        };
        let destination = match self.destination_of(&job).await {
            Ok(destination) => destination,
            Err(error) => {
                self.finish(&lease, Outcome::Failed(error)).await;
                return;
            }
        };
        let allowance = Allowance {
            limits,
            lease_ttl: self.config.lease_ttl,
            destination: destination.clone(),
        };
        let mut task = self.engine.spawn(execute(
            self.engine.clone(),
            self.store.clone(),
            self.results.clone(),
            job,
            lease,
            tracker.clone(),
            allowance,
        ));
        let mut release_at = None;
        let mut log = TaskLog::default();
        let mut beat = tokio::time::interval(self.config.heartbeat_every);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let outcome = loop {
            tokio::select! {
                joined = &mut task => {
                    break outcome_of(joined, lease.attempt, tracker.progress(), keep_for)
                }
                _ = beat.tick() => {
                    if !self.still_held(&lease, &tracker.progress()).await {
                        task.abort();
                        // Its files go once it has stopped writing them.
                        let _ = (&mut task).await;
                        tracing::info!(job = %lease.job_id, "job cancelled or reclaimed; stopped");
                        self.discard(&lease, destination.as_ref(), false).await;
                        return;
                    }
                    self.record_tasks(&lease, &tracker, &mut log).await;
                }
                _ = sleep_until(deadline) => {
                    task.abort();
                    let _ = (&mut task).await;
                    break Outcome::Failed(JobError::new(
                        ErrorCode::Timeout,
                        format!(
                            "the job ran longer than its timeout ({}s: timeout_s, or the \
                             server's RUSK_DEFAULT_TIMEOUT)",
                            timeout.as_secs()
                        ),
                    ));
                }
                _ = shutdown.cancelled(), if release_at.is_none() => {
                    // Stop claiming (the slot loop sees it) but let this job finish in the grace
                    // period.
                    release_at = Some(Instant::now() + self.config.shutdown_grace);
                }
                _ = sleep_until(release_at) => {
                    task.abort();
                    let _ = (&mut task).await;
                    break Outcome::Retry {
                        error: JobError::new(
                            ErrorCode::WorkerShutdown,
                            "the worker shut down while running this job; it goes back to the \
                             queue",
                        ),
                        after: Duration::ZERO,
                    };
                }
            }
        };
        let succeeded = matches!(outcome, Outcome::Succeeded { .. });
        self.record_last_tasks(&lease, &tracker, &mut log).await;
        self.count(&outcome, &tracker.progress(), started.elapsed());
        self.finish(&lease, outcome).await;
        self.discard(&lease, destination.as_ref(), succeeded).await;
    }

    fn count(&self, outcome: &Outcome, progress: &Progress, took: Duration) {
        let m = &self.metrics;
        let (name, code) = match outcome {
            Outcome::Succeeded { result, .. } => {
                m.rows_written.inc_by(result.rows);
                m.bytes_written.inc_by(result.bytes);
                ("succeeded", "")
            }
            Outcome::Failed(error) => ("failed", crate::domain::Named::as_str(error.code)),
            Outcome::Retry { error, .. } => ("retry", crate::domain::Named::as_str(error.code)),
        };
        m.rows_read.inc_by(progress.rows_read);
        m.bytes_read.inc_by(progress.bytes_read);
        m.attempt_ended(name, code, took);
    }

    /// The job's own destination (`output.path`), checked again as at submission.
    async fn destination_of(&self, job: &Job) -> Result<Option<Destination>, JobError> {
        let Some(path) = &job.spec.output.path else {
            return Ok(None);
        };
        // Without certainty that the server has no keys, the stricter rule applies.
        let trusted = matches!(self.store.has_keys().await, Ok(false));
        let url = self
            .engine
            .destination(path, &job.tenant, trusted)
            .map_err(|e| JobError::new(engine_code(&e), e.to_string()))?;
        let destination = self
            .results
            .destination(&url)
            .map_err(|e| JobError::new(ErrorCode::IoError, e.to_string()))?;
        Ok(Some(destination))
    }

    /// Deletes result files nobody will read: after a success, those of the job's earlier
    /// attempts (a worker that died mid-write leaves its files); otherwise this attempt's.
    /// In a destination, only the staged files: the published ones are the caller's.
    async fn discard(&self, lease: &Lease, destination: Option<&Destination>, succeeded: bool) {
        if let Some(destination) = destination {
            let attempt = (!succeeded).then_some(lease.attempt);
            if let Err(error) = destination.discard_staging(lease.job_id, attempt).await {
                tracing::warn!(%error, job = %lease.job_id, "cannot delete staged files");
            }
        }
        let outcome = if succeeded {
            self.results
                .discard_attempts(lease.job_id, Some(lease.attempt))
                .await
        } else {
            self.results
                .discard_attempt(lease.job_id, lease.attempt)
                .await
        };
        match outcome {
            Ok(0) => {}
            Ok(files) => tracing::info!(job = %lease.job_id, files, "deleted unused result files"),
            Err(error) => {
                tracing::warn!(%error, job = %lease.job_id, "cannot delete unused result files")
            }
        }
    }

    /// Sends the spans that changed since the last heartbeat. Diagnostics: a failed write
    /// fails nothing, and is tried again at the next heartbeat.
    async fn record_tasks(&self, lease: &Lease, tracker: &Tracker, log: &mut TaskLog) {
        self.send_spans(lease, tracker.spans(), log).await;
    }

    /// The attempt's last spans: those its end cut off (a failure, a timeout, a shutdown) end
    /// with it, rather than showing as running forever.
    async fn record_last_tasks(&self, lease: &Lease, tracker: &Tracker, log: &mut TaskLog) {
        let end = chrono::Utc::now();
        let mut spans = tracker.spans();
        for span in spans.iter_mut().filter(|s| s.ended_at.is_none()) {
            span.ended_at = Some(end.max(span.started_at));
        }
        self.send_spans(lease, spans, log).await;
    }

    async fn send_spans(&self, lease: &Lease, spans: Vec<TaskSpan>, log: &mut TaskLog) {
        let changed = log.changed(spans);
        let recorded = self
            .store
            .record_tasks(lease.job_id, lease.attempt, &self.id, &changed)
            .await;
        if let Err(error) = recorded {
            tracing::warn!(%error, "cannot record task spans");
            log.unsend(&changed);
        }
    }

    async fn still_held(&self, lease: &Lease, progress: &Progress) -> bool {
        match self
            .store
            .heartbeat(lease, self.config.lease_ttl, progress)
            .await
        {
            Ok(held) => held,
            Err(error) => {
                // The store may be back before the lease lapses; keep working meanwhile.
                tracing::warn!(%error, job = %lease.job_id, "heartbeat failed");
                true
            }
        }
    }

    async fn finish(&self, lease: &Lease, outcome: Outcome) {
        let state = crate::domain::Named::as_str(outcome.attempt_outcome());
        let mut wait = Duration::from_millis(200);
        for _ in 0..10 {
            match self.store.finish(lease, &outcome).await {
                Ok(true) => {
                    tracing::info!(job = %lease.job_id, state, "job ended");
                    return;
                }
                Ok(false) => {
                    tracing::info!(job = %lease.job_id, "lease lost before the end; result dropped");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, job = %lease.job_id, "cannot record the job's end");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        tracing::error!(job = %lease.job_id, "gave up recording the job's end; its lease will lapse");
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Results(#[from] ResultError),
    #[error(transparent)]
    Ml(#[from] MlError),
    /// Another attempt took over before this one published its files.
    #[error("the job's lease was lost before its files were published; they were dropped")]
    LeaseLost,
    /// The store could not confirm the lease before publishing; worth another attempt.
    #[error("cannot confirm the job's lease before publishing its files: {0}")]
    LeaseUnknown(String),
}

fn engine_code(error: &EngineError) -> ErrorCode {
    match error {
        EngineError::Invalid { .. } => ErrorCode::InvalidSpec,
        EngineError::Data(_) => ErrorCode::DataError,
        EngineError::ResourcesExhausted(_) => ErrorCode::ResourcesExhausted,
        EngineError::Io(_) => ErrorCode::IoError,
        EngineError::Internal(_) => ErrorCode::Internal,
    }
}

impl RunError {
    fn job_error(&self) -> JobError {
        let code = match self {
            RunError::Engine(e) => engine_code(e),
            RunError::Results(ResultError::Store(_)) => ErrorCode::IoError,
            RunError::Results(ResultError::TooLarge(_)) => ErrorCode::ResultTooLarge,
            RunError::Results(ResultError::Destination(_)) => ErrorCode::InvalidSpec,
            RunError::LeaseLost => ErrorCode::LeaseExpired,
            RunError::LeaseUnknown(_) => ErrorCode::IoError,
            RunError::Results(_) => ErrorCode::Internal,
            RunError::Ml(MlError::Input(_)) => ErrorCode::DataError,
            RunError::Ml(_) => ErrorCode::MlError,
        };
        JobError::new(code, self.to_string())
    }

    fn is_transient(&self) -> bool {
        match self {
            RunError::Engine(e) => e.is_transient(),
            RunError::Results(e) => matches!(e, ResultError::Store(_)),
            RunError::Ml(_) | RunError::LeaseLost => false,
            RunError::LeaseUnknown(_) => true,
        }
    }
}

/// What a successful attempt made.
struct Finished {
    result: StoredResult,
    /// The model an ML job trained.
    model: Option<Box<ModelInfo>>,
}

/// Runs the spec, and once more planned to use less memory if it ran out (see
/// `Engine::prepare`).
async fn execute(
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    results: ResultStore,
    job: Job,
    lease: Lease,
    tracker: Arc<Tracker>,
    allowance: Allowance,
) -> Result<Finished, RunError> {
    let Job { spec, tenant, .. } = job;
    let run = Run {
        limits: allowance.limits,
        lease_ttl: allowance.lease_ttl,
        destination: allowance.destination.as_ref(),
        engine: &engine,
        store: store.as_ref(),
        results: &results,
        spec: &spec,
        tenant: &tenant,
        lease,
        tracker: &tracker,
    };
    let reserved = engine.memory_reserved();
    let outcome = match run.plan(false).await {
        // The second, frugal plan is the local engine's; a cluster's executors spill on their
        // own.
        Err(RunError::Engine(EngineError::ResourcesExhausted(why)))
            if !engine.is_distributed(&spec) =>
        {
            tracing::info!(job = %lease.job_id, %why, "out of memory; planning again to use less");
            engine.settle_memory(reserved).await;
            run.plan(true).await
        }
        other => other,
    };
    match outcome {
        Err(RunError::Engine(error)) => {
            Err(engine.locate_error(&spec, &tenant, error).await.into())
        }
        other => other,
    }
}

/// What an attempt may write, and where.
struct Allowance {
    limits: OutputLimits,
    lease_ttl: Duration,
    /// The job's `output.path`, if it has one.
    destination: Option<Destination>,
}

/// One attempt at a job.
struct Run<'a> {
    lease_ttl: Duration,
    destination: Option<&'a Destination>,
    engine: &'a Engine,
    store: &'a dyn Store,
    results: &'a ResultStore,
    spec: &'a JobSpec,
    tenant: &'a str,
    lease: Lease,
    tracker: &'a Tracker,
    limits: OutputLimits,
}

impl Run<'_> {
    /// Plans the spec and streams its batches into result files (or into the ML stage).
    async fn plan(&self, frugal: bool) -> Result<Finished, RunError> {
        let prepared = self.engine.prepare(self.spec, self.tenant, frugal).await?;
        self.tracker.start(prepared.plan.clone(), prepared.stages());
        let batches = prepared.stream()?;
        let finished = match &self.spec.ml {
            Some(ml) if ml.task == MlTask::Predict => self.predict(ml, batches).await,
            Some(ml) => self.learn(ml, batches).await,
            None => Ok(Finished {
                result: self.write(batches).await?,
                model: None,
            }),
        }?;
        self.keep_plan(&prepared.plan).await;
        Ok(finished)
    }

    /// Keeps the executed plan with its metrics beside the result (`GET /v1/jobs/{id}/plan`):
    /// a diagnostic, so failing to keep it fails nothing.
    async fn keep_plan(&self, plan: &Arc<dyn ExecutionPlan>) {
        let graph = match self.engine.executed_graph(plan, self.tenant) {
            Ok(graph) => graph,
            Err(error) => return tracing::warn!(%error, "cannot keep the executed plan"),
        };
        let kept = match serde_json::to_vec(&graph) {
            Ok(body) => {
                let at = (self.lease.job_id, self.lease.attempt);
                self.results.save_beside(at, PLAN_FILE, body).await
            }
            Err(e) => Err(ResultError::Decode(e.to_string())),
        };
        if let Err(error) = kept {
            tracing::warn!(%error, "cannot keep the executed plan");
        }
    }

    async fn write(
        &self,
        mut batches: SendableRecordBatchStream,
    ) -> Result<StoredResult, RunError> {
        let mut writer = self.writer(batches.schema())?;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(EngineError::from)?;
            self.write_batch(&mut writer, &batch).await?;
        }
        self.close(writer).await
    }

    /// Closes the files; in a destination, publishes them while the lease is still held.
    async fn close(&self, writer: ResultWriter) -> Result<StoredResult, RunError> {
        let written = writer.finish().await?;
        let Some(destination) = self.destination else {
            return Ok(written);
        };
        // Publishing is the one step a superseded attempt must not take.
        let held = self
            .store
            .heartbeat(&self.lease, self.lease_ttl, &self.tracker.progress())
            .await
            .map_err(|e| RunError::LeaseUnknown(e.to_string()))?;
        if !held {
            return Err(RunError::LeaseLost);
        }
        let mode = self.spec.output.mode;
        Ok(destination
            .publish(written, mode, self.lease.job_id)
            .await?)
    }

    async fn write_batch(
        &self,
        writer: &mut ResultWriter,
        batch: &arrow::array::RecordBatch,
    ) -> Result<(), RunError> {
        writer.write(batch).await?;
        self.tracker
            .rows_out
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn writer(&self, schema: arrow::datatypes::SchemaRef) -> Result<ResultWriter, ResultError> {
        let at = (self.lease.job_id, self.lease.attempt);
        let (output, layout) = (&self.spec.output, self.spec.file_layout());
        match self.destination {
            Some(d) => d.writer(at, output, layout, schema, self.limits),
            None => self.results.writer(at, output, layout, schema, self.limits),
        }
    }

    /// Applies a stored model to the pipeline's output as it streams: any number of rows.
    async fn predict(
        &self,
        spec: &MlSpec,
        mut batches: SendableRecordBatchStream,
    ) -> Result<Finished, RunError> {
        let id = spec.model.as_deref().unwrap_or_default();
        let missing = || MlError::Input(format!("no model {id}"));
        self.store
            .model(self.tenant, id)
            .await
            .map_err(|e| MlError::Artifact(e.to_string()))?
            .ok_or_else(missing)?;
        let model = self.results.load_model(id).await?.ok_or_else(missing)?;
        let mut writer = self.writer(model.predicted_schema(&batches.schema()))?;
        let mut rows = 0;
        while let Some(batch) = batches.next().await {
            let batch = ml::predict(&model, &batch.map_err(EngineError::from)?)?;
            rows += batch.num_rows();
            self.write_batch(&mut writer, &batch).await?;
        }
        let mut result = self.close(writer).await?;
        result.ml = Some(MlSummary {
            model_id: id.to_string(),
            rows: Some(rows as u64),
            best_params: None,
            best_score: None,
            scoring: None,
            metrics: None,
            params: None,
        });
        Ok(Finished {
            result,
            model: None,
        })
    }

    /// Gathers the pipeline's output (bounded, or sampled: training happens in memory),
    /// trains on a blocking thread, writes the rows it returns and keeps the model.
    async fn learn(
        &self,
        spec: &MlSpec,
        mut batches: SendableRecordBatchStream,
    ) -> Result<Finished, RunError> {
        let budget = usize::try_from(self.engine.memory_limit() / 2).unwrap_or(usize::MAX);
        let mut collector = ml::Collector::new(batches.schema(), spec.sample, spec.seed, budget)?;
        while let Some(batch) = batches.next().await {
            collector.push(batch.map_err(EngineError::from)?)?;
        }
        let abandoned = AbandonOnDrop(Arc::new(AtomicBool::new(false)));
        let pool = ml::Pool {
            handle: self.engine.cpu_handle(),
            abandoned: abandoned.0.clone(),
            memory: budget,
            fits: self.tracker.fits.clone(),
            device: self.engine.device_for(self.spec),
        };
        let (spec, owner) = (
            spec.clone(),
            ml::Owner {
                tenant: self.tenant.to_string(),
                job_id: self.lease.job_id,
            },
        );
        let outcome = tokio::task::spawn_blocking(move || {
            ml::train(&spec, collector.finish()?, owner, &pool)
        })
        .await
        .map_err(|e| MlError::Fit(e.to_string()))??;
        let mut writer = self.writer(outcome.rows.schema())?;
        self.write_batch(&mut writer, &outcome.rows).await?;
        let mut result = self.close(writer).await?;
        self.results.save_model(&outcome.artifact).await?;
        result.ml = Some(outcome.summary);
        Ok(Finished {
            result,
            model: Some(Box::new(outcome.artifact.info)),
        })
    }
}

/// Tells training threads to stop once the job's task is dropped (cancelled, timed out).
struct AbandonOnDrop(Arc<AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn outcome_of(
    joined: Result<Result<Finished, RunError>, tokio::task::JoinError>,
    attempt: i32,
    progress: Progress,
    keep_for: Option<Duration>,
) -> Outcome {
    match joined {
        Ok(Ok(finished)) => Outcome::Succeeded {
            result: Box::new(finished.result),
            progress,
            model: finished.model,
            keep_for,
        },
        Ok(Err(error)) if error.is_transient() => Outcome::Retry {
            error: error.job_error(),
            after: backoff(attempt),
        },
        Ok(Err(error)) => Outcome::Failed(error.job_error()),
        Err(join) => Outcome::Failed(JobError::new(
            ErrorCode::Internal,
            format!("the job's task ended abnormally: {join}"),
        )),
    }
}

/// Exponential backoff from 1 s, capped at 5 minutes, with ±50% jitter so that retries of
/// jobs that failed together do not arrive together.
fn backoff(attempt: i32) -> Duration {
    let base = Duration::from_secs(1 << attempt.clamp(0, 8)).min(Duration::from_secs(300));
    let jitter = (Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0 + 0.5;
    base.mul_f64(jitter)
}
