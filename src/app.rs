//! Wiring: builds the store, engine, result store, API and workers from settings and runs the
//! roles a process was asked for.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::{Settings, cores};
use crate::engine::{Engine, EngineConfig};
use crate::results::ResultStore;
use crate::store::{self, JobStore};
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

pub async fn connect_store(settings: &Settings) -> anyhow::Result<Arc<dyn JobStore>> {
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

pub fn engine(settings: &Settings) -> anyhow::Result<Arc<Engine>> {
    let engine = Engine::new(EngineConfig {
        data_root: settings.data_root()?,
        memory_limit: settings.memory_limit(),
        spill_dir: settings.data_dir.join("spill"),
        threads: cores(),
        stores: settings.stores(),
    })?;
    Ok(Arc::new(engine))
}

pub async fn start(
    settings: &Settings,
    role: Role,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let store = connect_store(settings).await?;
    let engine = engine(settings)?;
    let results = match &settings.results_url {
        Some(url) => ResultStore::at_url(url, &settings.stores())?,
        None => ResultStore::local(&settings.data_dir.join("objects"))?,
    };
    let wake = Arc::new(Notify::new());
    let mut tasks = JoinSet::new();
    if role != Role::Api {
        let worker = Worker::new(
            store.clone(),
            engine.clone(),
            results.clone(),
            WorkerConfig::new(
                settings.slots(),
                settings.lease_ttl,
                settings.shutdown_grace,
            ),
            wake.clone(),
        );
        let handle = worker.start(shutdown.clone());
        tasks.spawn(async move { handle.await.context("the worker panicked") });
    }
    let mut addr = None;
    if role != Role::Worker {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        addr = Some(listener.local_addr()?);
        let router = api::router(AppState {
            store,
            engine,
            results,
            wake,
            public_url: settings.public_url.clone(),
        });
        tasks.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
                .context("the HTTP server failed")
        });
    }
    Ok(Running { addr, tasks })
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
