//! Wiring: builds the store, engine, result store, API and workers from settings and runs the
//! roles a process was asked for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState, OriginPolicy};
use crate::config::{Settings, cores};
use crate::domain::DEFAULT_TENANT;
use crate::engine::{Engine, EngineConfig, Location, Private, normalise_url};
use crate::keys;
use crate::netguard::Guard;
use crate::results::{LinkSigner, ResultStore};
use crate::store::{self, Store};
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
        private: private_storage(settings)?,
        memory_limit: settings.memory_limit(),
        spill_dir: settings.data_dir.join("spill"),
        threads: cores(),
        stores: settings.stores(),
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
        }
    }
    Ok(private)
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
    let links = LinkMaker {
        signer: LinkSigner::new(
            &store
                .ensure_secret("link_signing", &keys::new_link_secret())
                .await?,
            Duration::from_secs(settings.link_ttl),
        ),
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
    let has_keys = store.has_keys().await?;
    if role != Role::Worker {
        import_models(store.as_ref(), &results).await?;
    }
    let webhook_guard = Guard::new(settings.webhook_allow.clone());
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
    if role != Role::Api {
        // Links inside webhooks: the public URL, else this process's own address.
        let base = match (&settings.public_url, addr) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => format!("http://{}", settings.listen),
        };
        let deliverer = Deliverer::new(
            store.clone(),
            links.clone(),
            base,
            webhook_guard.clone(),
            settings.webhook_secret.clone(),
        )?;
        let stop = shutdown.clone();
        tasks.spawn(async move {
            deliverer.run(stop).await;
            Ok(())
        });
        let mut config = WorkerConfig::new(
            settings.slots(),
            settings.lease_ttl,
            settings.shutdown_grace,
        );
        config.limits.max_bytes = settings.max_result_bytes;
        config.default_timeout = Duration::from_secs(settings.default_timeout.max(1));
        let worker = Worker::new(
            store.clone(),
            engine.clone(),
            results.clone(),
            config,
            wake.clone(),
        );
        let handle = worker.start(shutdown.clone());
        tasks.spawn(async move { handle.await.context("the worker panicked") });
    }
    if let Some(listener) = listener {
        let router = api::router(AppState {
            store,
            engine,
            results,
            wake,
            public_url: settings.public_url.clone(),
            links,
            webhook_guard,
            origins: origin_policy(settings),
            max_result_bytes: settings.max_result_bytes,
        });
        let router = router.into_make_service_with_connect_info::<SocketAddr>();
        tasks.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
                .context("the HTTP server failed")
        });
    }
    Ok(Running {
        addr,
        has_keys,
        default_webhook_secret,
        tasks,
    })
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
