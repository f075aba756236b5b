//! The `rusk` command line: `serve` (default), `api`, `worker`, `migrate`, `openapi`, `run`,
//! `keys`, and the Ballista cluster's `scheduler` and `executor`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::app::{self, Role};
use crate::config::Settings;
use crate::engine::{Engine, EngineError};
use crate::results::{Encoder, Encoding};
use crate::spec::{Compression, JobSpec};

#[derive(Parser)]
#[command(
    name = "rusk",
    version,
    about = "Dask-style dataframe jobs as a REST service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and run jobs in this process (the default).
    Serve,
    /// Serve the API only; jobs run in `rusk worker` processes on the same database.
    Api,
    /// Run jobs only.
    Worker,
    /// Create or update the job table, then exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage API keys: with any key present, every /v1 request needs one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run one job spec here, without a server, and write its result to a file.
    Run {
        /// A job spec (JSON), as you would POST to /v1/jobs.
        spec: PathBuf,
        /// The result file; its extension picks the format: .parquet, .arrow (or .feather),
        /// .arrows (Arrow IPC stream), .csv, .json.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Run an Apache Ballista scheduler: `"engine": "ballista"` jobs go to it (workers and
    /// executors find it at RUSK_BALLISTA_URL).
    Scheduler(crate::cluster::SchedulerArgs),
    /// Run an Apache Ballista executor: it registers with the scheduler at
    /// RUSK_BALLISTA_URL and runs the tasks of `ballista` jobs.
    Executor(crate::cluster::ExecutorArgs),
    /// Measure the GPU path against the CPU path on this machine (group-by kernel-only and
    /// from Parquet, k-means, copy rates), check their answers agree, and write a JSON report.
    GpuBench(crate::gpu_bench::GpuBenchArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for a tenant (created if new); prints the key and the tenant's webhook
    /// secret. The key is shown only this once.
    Create {
        #[arg(long)]
        tenant: String,
    },
    /// List keys: id, tenant, created, revoked.
    List,
    /// Revoke a key by its id; requests with it get 401 at once.
    Revoke { id: String },
}

pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings, Role::Serve).await,
        Command::Api => serve(&settings, Role::Api).await,
        Command::Worker => serve(&settings, Role::Worker).await,
        Command::Migrate => {
            app::connect_store(&settings).await?;
            eprintln!(
                "job store at {} is up to date",
                app::redact(&settings.database_url())
            );
            Ok(())
        }
        Command::Openapi => {
            let json = crate::api::openapi().to_pretty_json()?;
            println!("{json}");
            Ok(())
        }
        Command::Run { spec, output } => run_spec(&settings, &spec, &output).await,
        Command::Keys { command } => keys(&settings, command).await,
        Command::GpuBench(args) => crate::gpu_bench::run(args, &settings).await,
        Command::Scheduler(args) => crate::cluster::scheduler(args, settings.stores()).await,
        Command::Executor(args) => {
            let scheduler = settings
                .ballista_url
                .clone()
                .context("an executor needs its scheduler: set RUSK_BALLISTA_URL")?;
            let env = crate::cluster::ExecutorEnv {
                scheduler,
                memory_limit: settings.memory_limit(),
                work_dir: settings.data_dir.join("ballista"),
                stores: settings.stores(),
            };
            crate::cluster::executor(args, env).await
        }
    }
}

async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let store = app::connect_store(settings).await?;
    match command {
        KeysCommand::Create { tenant } => {
            let valid = !tenant.is_empty()
                && tenant.len() <= 64
                && tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            anyhow::ensure!(
                valid,
                "--tenant: expected 1 to 64 letters, digits, '-', '_' or '.'"
            );
            let secret = store
                .ensure_tenant(&tenant, &crate::keys::new_webhook_secret())
                .await?;
            let (id, key) = crate::keys::new_api_key();
            store
                .create_key(&id, &tenant, &crate::keys::hash_api_key(&key))
                .await?;
            println!("key id:         {id}");
            println!("tenant:         {tenant}");
            println!("api key:        {key}");
            println!("webhook secret: {secret}");
            eprintln!("the key is not stored and cannot be shown again");
        }
        KeysCommand::List => {
            println!("{:<14} {:<20} {:<25} revoked", "id", "tenant", "created");
            for key in store.list_keys().await? {
                let revoked = key.revoked_at.map_or("-".to_string(), |t| t.to_rfc3339());
                println!(
                    "{:<14} {:<20} {:<25} {revoked}",
                    key.id,
                    key.tenant,
                    key.created_at.to_rfc3339()
                );
            }
        }
        KeysCommand::Revoke { id } => {
            anyhow::ensure!(store.revoke_key(&id).await?, "no unrevoked key {id}");
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn serve(settings: &Settings, role: Role) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    // Listening before anything starts: a SIGTERM that comes as soon as the probes answer
    // (a kubelet's, a test's) is a shutdown, not the default action that kills the process.
    let signals = Signals::listen();
    let running = app::start(settings, role, shutdown.clone()).await?;
    if let Some(addr) = running.addr {
        tracing::info!(
            "Rusk listening on http://{addr} (docs at http://{addr}/docs); job store {}",
            app::redact(&settings.database_url())
        );
        if !running.has_keys {
            tracing::warn!(
                "no API keys exist, so only loopback clients are served; create one with \
                 `rusk keys create --tenant NAME`"
            );
        }
    }
    if !running.has_keys && settings.webhook_secret.is_none() {
        tracing::info!(
            "webhooks of jobs submitted without a key are signed with {}",
            running.default_webhook_secret
        );
    }
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    running.wait().await
}

/// SIGTERM, and Ctrl-C.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the SIGTERM handler now (Ctrl-C's is installed when `wait` starts).
    fn listen() -> Signals {
        Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    async fn wait(self) {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        if let Some(mut term) = self.term {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}

/// The data scientist's shortcut: plan and run a spec in-process, writing one file.
async fn run_spec(settings: &Settings, spec_path: &Path, output: &Path) -> anyhow::Result<()> {
    let body =
        std::fs::read(spec_path).with_context(|| format!("cannot read {}", spec_path.display()))?;
    let spec = JobSpec::from_json(&body)?;
    let encoding = encoding_for(output, &spec);
    let engine = app::engine(settings)?;
    let output = output.to_path_buf();
    let planner = engine.clone();
    let rows = engine
        .spawn(async move {
            // As the workers do: a frugal second plan if memory runs out.
            match write_file(&planner, &spec, encoding, &output, false).await {
                Err(e) if is_out_of_memory(&e) => {
                    write_file(&planner, &spec, encoding, &output, true).await
                }
                other => other,
            }
        })
        .await??;
    eprintln!("wrote {rows} rows");
    Ok(())
}

async fn write_file(
    engine: &Engine,
    spec: &JobSpec,
    encoding: Encoding,
    output: &Path,
    frugal: bool,
) -> anyhow::Result<usize> {
    let mut batches = engine
        .prepare(spec, crate::domain::DEFAULT_TENANT, frugal)
        .await?
        .stream()?;
    let file = std::fs::File::create(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let mut file = std::io::BufWriter::new(file);
    let mut encoder = Encoder::new(encoding, &batches.schema())?;
    let mut rows = 0;
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(EngineError::from)?;
        rows += batch.num_rows();
        file.write_all(&encoder.write(&batch)?)?;
    }
    file.write_all(&encoder.finish()?)?;
    file.flush()?;
    Ok(rows)
}

fn is_out_of_memory(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<EngineError>(),
        Some(EngineError::ResourcesExhausted(_))
    )
}

fn encoding_for(output: &Path, spec: &JobSpec) -> Encoding {
    let parquet = Encoding::Parquet(spec.output.compression.unwrap_or(Compression::Snappy));
    match output.extension().and_then(|e| e.to_str()) {
        Some("parquet") => parquet,
        Some("arrow" | "feather" | "ipc") => Encoding::ArrowFile,
        Some("arrows") => Encoding::ArrowStream,
        Some("csv") => Encoding::Csv,
        Some("json") => Encoding::Json,
        Some("ndjson" | "jsonl") => Encoding::JsonLines,
        _ => Encoding::stored(spec.output.format, spec.output.compression),
    }
}
