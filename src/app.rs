//! Wiring: builds the store, engine, result store, API and workers from settings and runs the
//! roles a process was asked for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState, OriginPolicy, Scrape};
use crate::config::{Settings, cores};
use crate::domain::DEFAULT_TENANT;
use crate::engine::{Engine, EngineConfig, Location, Private, normalise_url};
use crate::gpu;
use crate::keys;
use crate::netguard::Guard;
use crate::results::{LinkSigner, ResultStore};
use crate::store::{self, Store};
use crate::telemetry::Metrics;
use crate::views::LinkMaker;
use crate::webhooks::Deliverer;
use crate::worker::{Worker, WorkerConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// API and job slots in one process (the default).
    Serve,
    /// HTTP only; jobs run in `worker` processes.
    Api,
    /// Job slots only.
    Worker,
}

/// A started process: where it listens, and the tasks to wait for.
pub struct Running {
    pub addr: Option<SocketAddr>,
    /// Where `RUSK_METRICS_LISTEN` serves `GET /metrics`, when set.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether any API key exists (without one, only loopback clients are served).
    pub has_keys: bool,
    /// The secret that signs webhooks of jobs submitted without a key.
    pub default_webhook_secret: String,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl Running {
    /// Waits until every role has stopped (after shutdown), returning the first failure.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        while let Some(done) = self.tasks.join_next().await {
            done.context("a server task panicked")??;
        }
        Ok(())
    }
}

pub async fn connect_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    let url = settings.database_url();
    store::connect(&url)
        .await
        .with_context(|| format!("cannot open the job store at {}", redact(&url)))
}

/// Models trained before the model table existed are only in the result store: list them
/// once, while the table is empty (API processes only: they are the ones that list models).
async fn import_models(store: &dyn Store, results: &ResultStore) -> anyhow::Result<()> {
    if store.has_models().await? {
        return Ok(());
    }
    let found = results
        .model_records()
        .await
        .context("cannot list the models in the result store")?;
    if !found.is_empty() {
        let added = store.import_models(&found).await?;
        tracing::info!(
            added,
            "recorded models from the result store in the model table"
        );
    }
    Ok(())
}

pub fn engine(settings: &Settings) -> anyhow::Result<Arc<Engine>> {
    let engine = Engine::new(EngineConfig {
        data_root: settings.data_root()?,
        source_allow: settings.source_allow.clone(),
        output_allow: settings.output_allow.clone(),
        private: private_storage(settings)?,
        memory_limit: settings.memory_limit(),
        spill_dir: settings.data_dir.join("spill"),
        threads: cores(),
        stores: settings.stores(),
        default_engine: settings.engine,
        ballista_url: settings.ballista_url.clone(),
        devices: gpu::open(&settings.gpus, settings.gpu_memory_limit)?,
    })?;
    Ok(Arc::new(engine))
}

/// Rusk's own storage, which no source may read: the data directory (job table, local
/// results, spill files) and the result store.
fn private_storage(settings: &Settings) -> anyhow::Result<Private> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    let mut private = Private {
        dirs: vec![settings.data_dir.canonicalize()?],
        urls: Vec::new(),
    };
    if let Some(url) = &settings.results_url {
        match Location::parse(url).map_err(anyhow::Error::msg)? {
            Location::Local(path) => {
                std::fs::create_dir_all(&path)?;
                private.dirs.push(path.canonicalize()?);
            }
            Location::Remote { .. } => private
                .urls
                .push(normalise_url(url).map_err(anyhow::Error::msg)?),
            Location::Job(_) => anyhow::bail!("RUSK_RESULTS_URL cannot be a job:// reference"),
        }
    }
    Ok(private)
}

pub async fn start(
    settings: &Settings,
    role: Role,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let services = Services::build(settings, role).await?;
    let listener = match role {
        Role::Worker => None,
        Role::Serve | Role::Api => Some(
            tokio::net::TcpListener::bind(settings.listen)
                .await
                .with_context(|| format!("cannot listen on {}", settings.listen))?,
        ),
    };
    let addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
    let mut tasks = JoinSet::new();
    let metrics_addr = match settings.metrics_listen {
        Some(at) => Some(spawn_metrics(&mut tasks, &services, at, &shutdown).await?),
        None => None,
    };
    if role != Role::Api {
        spawn_deliverer(&mut tasks, settings, &services, addr, &shutdown)?;
        spawn_worker(&mut tasks, settings, &services, &shutdown);
    }
    let (has_keys, default_webhook_secret) =
        (services.has_keys, services.default_webhook_secret.clone());
    if let Some(listener) = listener {
        spawn_api(&mut tasks, settings, services, listener, shutdown);
    }
    Ok(Running {
        addr,
        metrics_addr,
        has_keys,
        default_webhook_secret,
        tasks,
    })
}

/// What every role shares: the store, the engine, the result store and its link signer.
struct Services {
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    results: ResultStore,
    links: LinkMaker,
    /// Rings when a job is submitted in this process, so its idle slots claim at once.
    wake: Arc<Notify>,
    webhook_guard: Guard,
    has_keys: bool,
    default_webhook_secret: String,
    metrics: Arc<Metrics>,
}

impl Services {
    async fn build(settings: &Settings, role: Role) -> anyhow::Result<Services> {
        let store = connect_store(settings).await?;
        let engine = engine(settings)?;
        let results = match &settings.results_url {
            Some(url) => ResultStore::at_url(url, &settings.stores())?,
            None => ResultStore::local(&settings.data_dir.join("objects"), &settings.stores())?,
        };
        // One signing secret for every process, kept in the store.
        let secret = store
            .ensure_secret("link_signing", &keys::new_link_secret())
            .await?;
        let links = LinkMaker {
            signer: LinkSigner::new(&secret, Duration::from_secs(settings.link_ttl)),
            results: results.clone(),
        };
        let default_webhook_secret = match &settings.webhook_secret {
            Some(secret) => secret.clone(),
            None => {
                store
                    .ensure_tenant(DEFAULT_TENANT, &keys::new_webhook_secret())
                    .await?
            }
        };
        engine.read_earlier_results(Arc::new(JobResults {
            store: store.clone(),
            results: results.clone(),
        }));
        let has_keys = store.has_keys().await?;
        if role != Role::Worker {
            import_models(store.as_ref(), &results).await?;
        }
        Ok(Services {
            store,
            engine,
            results,
            links,
            wake: Arc::new(Notify::new()),
            webhook_guard: Guard::new(settings.webhook_allow.clone()),
            has_keys,
            default_webhook_secret,
            metrics: Metrics::new(),
        })
    }
}

/// `job://` sources: where a tenant's earlier result is, from the job store.
struct JobResults {
    store: Arc<dyn Store>,
    results: ResultStore,
}

#[async_trait::async_trait]
impl crate::engine::EarlierResults for JobResults {
    async fn files(
        &self,
        tenant: &str,
        id: uuid::Uuid,
        format: crate::spec::Format,
    ) -> Result<Vec<String>, String> {
        use crate::domain::JobState;
        use crate::spec::{Format, OutputFormat};
        let job = self
            .store
            .get(Some(tenant), id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no job {id}"))?;
        if job.result_expired_at.is_some() {
            return Err(format!("the result of job {id} expired and was deleted"));
        }
        let stored = match (job.state, job.result) {
            (JobState::Succeeded, Some(stored)) => stored,
            (state, _) => {
                return Err(format!(
                    "job {id} is {}; only a succeeded job's result can be read",
                    state.as_str()
                ));
            }
        };
        let written = match stored.format {
            OutputFormat::Parquet => Format::Parquet,
            OutputFormat::Arrow => Format::Arrow,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Json => Format::Json,
        };
        if written != format {
            let name = serde_json::to_value(written).unwrap_or_default();
            return Err(format!(
                "job {id} wrote {name} files; give \"format\": {name}"
            ));
        }
        let serving = self.results.serving(&stored).map_err(|e| e.to_string())?;
        Ok(stored
            .files
            .iter()
            .map(|f| serving.location(&f.key))
            .collect())
    }
}

type Tasks = JoinSet<anyhow::Result<()>>;

fn spawn_deliverer(
    tasks: &mut Tasks,
    settings: &Settings,
    services: &Services,
    addr: Option<SocketAddr>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    // Links inside webhooks: the public URL, else this process's own address.
    let base = match (&settings.public_url, addr) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(addr)) => format!("http://{addr}"),
        (None, None) => format!("http://{}", settings.listen),
    };
    let deliverer = Deliverer::new(
        services.store.clone(),
        services.links.clone(),
        base,
        services.webhook_guard.clone(),
        settings.webhook_secret.clone(),
    )?
    .with_metrics(services.metrics.clone());
    let stop = shutdown.clone();
    tasks.spawn(async move {
        deliverer.run(stop).await;
        Ok(())
    });
    Ok(())
}

/// `GET /metrics` alone on its own address, without a credential (`RUSK_METRICS_LISTEN`).
async fn spawn_metrics(
    tasks: &mut Tasks,
    services: &Services,
    at: SocketAddr,
    shutdown: &CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .with_context(|| format!("cannot listen on {at} (RUSK_METRICS_LISTEN)"))?;
    let bound = listener.local_addr()?;
    let scrape = Scrape {
        metrics: services.metrics.clone(),
        store: services.store.clone(),
        engine: services.engine.clone(),
    };
    let router = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let scrape = scrape.clone();
                async move { scrape.respond().await }
            }),
        )
        .merge(crate::api::probes(services.store.clone()));
    let stop = shutdown.clone();
    tasks.spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .context("the metrics server failed")
    });
    Ok(bound)
}

fn spawn_worker(
    tasks: &mut Tasks,
    settings: &Settings,
    services: &Services,
    shutdown: &CancellationToken,
) {
    let mut config = WorkerConfig::new(
        settings.slots(),
        settings.lease_ttl,
        settings.shutdown_grace,
    );
    config.limits.max_bytes = settings.max_result_bytes;
    config.default_timeout = Duration::from_secs(settings.default_timeout.max(1));
    config.retention = crate::worker::Retention {
        result_ttl: settings.result_ttl.map(Duration::from_secs),
        job_ttl: settings.job_ttl.map(Duration::from_secs),
        every: Duration::from_secs(settings.janitor_interval.max(1)),
    };
    let worker = Worker::new(
        services.store.clone(),
        services.engine.clone(),
        services.results.clone(),
        config,
        services.wake.clone(),
    )
    .with_metrics(services.metrics.clone());
    let handle = worker.start(shutdown.clone());
    tasks.spawn(async move { handle.await.context("the worker panicked") });
}

fn spawn_api(
    tasks: &mut Tasks,
    settings: &Settings,
    services: Services,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) {
    // Job event streams hear of changes made by workers in other processes at once.
    let (store, stop) = (services.store.clone(), shutdown.clone());
    tasks.spawn(async move {
        store.watch_changes(stop).await;
        Ok(())
    });
    let router = api::router(AppState {
        store: services.store,
        engine: services.engine,
        results: services.results,
        wake: services.wake,
        public_url: settings.public_url.clone(),
        links: services.links,
        webhook_guard: services.webhook_guard,
        origins: origin_policy(settings),
        max_result_bytes: settings.max_result_bytes,
        result_ttl: settings.result_ttl,
        result_quota: settings.result_quota,
        metrics: services.metrics,
        metrics_token: settings.metrics_token.clone(),
        shutdown: shutdown.clone(),
    });
    let router = router.into_make_service_with_connect_info::<SocketAddr>();
    tasks.spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .context("the HTTP server failed")
    });
}

/// Which web pages and host names may use the API.
fn origin_policy(settings: &Settings) -> OriginPolicy {
    let public_host = settings
        .public_url
        .as_deref()
        .and_then(|url| url::Url::parse(url).ok())
        .and_then(|url| url.host_str().map(str::to_string));
    OriginPolicy {
        cors_origins: settings
            .cors_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect(),
        hosts: settings
            .allowed_hosts
            .iter()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .chain(public_host)
            .collect(),
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
