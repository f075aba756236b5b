//! Settings from flags and `RUSK_*` environment variables. Every default is the embedded one:
//! SQLite and local files under `./rusk-data`, listening on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::gpu::Selection;
use crate::netguard::{self, Cidr};
use crate::objects::StoreConfig;
use crate::spec::{EngineKind, parse_size};

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address the HTTP API listens on.
    #[arg(
        long,
        global = true,
        env = "RUSK_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,
    /// Directory for the SQLite job table, result files and spill files.
    #[arg(
        long,
        global = true,
        env = "RUSK_DATA_DIR",
        default_value = "./rusk-data"
    )]
    pub data_dir: PathBuf,
    /// Where relative source paths resolve; local sources must lie under it. `{tenant}` in it
    /// gives each tenant its own directory (`/data/{tenant}`). Default: the working directory.
    #[arg(long, global = true, env = "RUSK_DATA_ROOT")]
    pub data_root: Option<PathBuf>,
    /// URL prefixes remote sources must start with, e.g. `s3://lake/{tenant}/`; `{tenant}`
    /// is the caller's tenant. Default: any public URL.
    #[arg(long, global = true, env = "RUSK_SOURCE_ALLOW", value_delimiter = ',')]
    pub source_allow: Vec<String>,
    /// URL prefixes `output.path` may write to (`{tenant}` allowed). Unset: any URL while
    /// the server has no API keys, none once it has.
    #[arg(long, global = true, env = "RUSK_OUTPUT_ALLOW", value_delimiter = ',')]
    pub output_allow: Vec<String>,
    /// The bearer token `GET /metrics` needs once the server has API keys.
    #[arg(
        long,
        global = true,
        env = "RUSK_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// A second address serving only `GET /metrics`, without a credential (bind it to an
    /// address only Prometheus reaches); every role, the worker too.
    #[arg(long, global = true, env = "RUSK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// `postgres://…` for Postgres; default a SQLite file in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Jobs run at once by this process; default the number of cores.
    #[arg(long, global = true, env = "RUSK_SLOTS")]
    pub slots: Option<usize>,
    /// Seconds a worker's claim on a job lasts without a heartbeat; a job whose worker died
    /// is claimed again after this.
    #[arg(long, global = true, env = "RUSK_LEASE_TTL", default_value_t = 30)]
    pub lease_ttl: u64,
    /// On SIGTERM, seconds running jobs may go on before they go back to the queue.
    #[arg(long, global = true, env = "RUSK_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// The most bytes one job's result may have; a job's `max_result_bytes` may ask for less.
    #[arg(long, global = true, env = "RUSK_MAX_RESULT_BYTES", value_parser = parse_size,
          default_value = "10GB")]
    pub max_result_bytes: u64,
    /// Seconds an attempt of a job without `timeout_s` may run.
    /// Seconds a result's files are kept after its job ends; unset: until the job is deleted.
    #[arg(long, global = true, env = "RUSK_RESULT_TTL")]
    pub result_ttl: Option<u64>,
    /// Seconds an ended job's row is kept (its result files go with it); unset: for ever.
    #[arg(long, global = true, env = "RUSK_JOB_TTL")]
    pub job_ttl: Option<u64>,
    /// Bytes of results one tenant may keep in the result store, e.g. `50GB`; unset: no
    /// limit. Past it, submissions are refused with `quota_exceeded`.
    #[arg(long, global = true, env = "RUSK_RESULT_QUOTA", value_parser = parse_size)]
    pub result_quota: Option<u64>,
    /// Seconds between the workers' retention sweeps.
    #[arg(
        long,
        global = true,
        env = "RUSK_JANITOR_INTERVAL",
        default_value_t = 60
    )]
    pub janitor_interval: u64,
    #[arg(long, global = true, env = "RUSK_DEFAULT_TIMEOUT", default_value_t = 6 * 3600)]
    pub default_timeout: u64,
    /// Engine memory pool, e.g. `4GB`; default half of the machine's memory.
    #[arg(long, global = true, env = "RUSK_MEMORY_LIMIT", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Where result files go: an object-store URL such as `s3://bucket/rusk`; default the
    /// data directory.
    #[arg(long, global = true, env = "RUSK_RESULTS_URL")]
    pub results_url: Option<String>,
    /// Object-store settings as environment-style pairs (`AWS_ENDPOINT`, …); `None` reads
    /// them from this process's environment. For tests and embedding.
    #[arg(skip)]
    pub store_env: Option<Vec<(String, String)>>,
    /// Base of the absolute URLs in results, e.g. `https://rusk.example.com`; default the
    /// request's `Host`.
    #[arg(long, global = true, env = "RUSK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds result links work after they are handed out.
    #[arg(long, global = true, env = "RUSK_LINK_TTL", default_value_t = 3600)]
    pub link_ttl: u64,
    /// Origins of web pages allowed to call the API (CORS), e.g. `https://app.example.com`.
    /// Default: none, so requests a browser sends from another origin are refused.
    #[arg(long, global = true, env = "RUSK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Host names a Rusk without API keys answers to besides loopback ones (and the
    /// public URL's host).
    #[arg(long, global = true, env = "RUSK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Internal address ranges webhooks may still go to, e.g. `10.0.0.0/8,127.0.0.1/32`.
    #[arg(long, global = true, env = "RUSK_WEBHOOK_ALLOW", value_parser = parse_allow_list,
          default_value = "")]
    pub webhook_allow: AllowList,
    /// `whsec_…` signing webhooks of jobs submitted without an API key; default one generated
    /// and kept in the database.
    #[arg(long, global = true, env = "RUSK_WEBHOOK_SECRET")]
    pub webhook_secret: Option<String>,
    /// The engine of jobs that do not name one: `local` or `ballista`.
    #[arg(long, global = true, env = "RUSK_ENGINE", value_parser = parse_engine,
          default_value = "local")]
    pub engine: EngineKind,
    /// The Ballista scheduler that `"engine": "ballista"` jobs run on, e.g.
    /// `df://rusk-scheduler:50050` (a `rusk scheduler` process). Unset: no cluster, and such
    /// jobs are refused.
    #[arg(long, global = true, env = "RUSK_BALLISTA_URL")]
    pub ballista_url: Option<String>,
    /// The GPU devices a worker runs covered operators on: `all` (every CUDA device present;
    /// none where there is no driver), `none`, or device numbers such as `0,1` (a number the
    /// machine lacks stops the worker at start).
    #[arg(long, global = true, env = "RUSK_GPUS", value_parser = parse_gpus,
          default_value = "all")]
    pub gpus: Selection,
    /// Device memory one GPU operator may use, e.g. `8GB`, shared by its partitions; its
    /// input is cut into chunks that fit. Default: half of the device's free memory.
    #[arg(long, global = true, env = "RUSK_GPU_MEMORY_LIMIT", value_parser = parse_size)]
    pub gpu_memory_limit: Option<u64>,
}

fn parse_gpus(text: &str) -> Result<Selection, String> {
    text.parse()
        .map_err(|e: crate::gpu::GpuError| e.to_string())
}

fn parse_engine(text: &str) -> Result<EngineKind, String> {
    match text {
        "local" => Ok(EngineKind::Local),
        "ballista" => Ok(EngineKind::Ballista),
        _ => Err(format!("{text:?}: expected local or ballista")),
    }
}

/// CIDR ranges (a type of its own so clap takes the whole list as one value).
pub type AllowList = Vec<Cidr>;

fn parse_allow_list(text: &str) -> Result<AllowList, String> {
    netguard::parse_allow_list(text)
}

impl Settings {
    /// The settings a bare `rusk` would use, with the data directory moved (for tests and tools).
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            data_root: None,
            source_allow: Vec::new(),
            output_allow: Vec::new(),
            metrics_token: None,
            metrics_listen: None,
            database_url: None,
            slots: None,
            shutdown_grace: 30,
            lease_ttl: 30,
            memory_limit: None,
            max_result_bytes: 10_000_000_000,
            default_timeout: 6 * 3600,
            result_ttl: None,
            job_ttl: None,
            result_quota: None,
            janitor_interval: 60,
            results_url: None,
            store_env: None,
            public_url: None,
            link_ttl: 3600,
            webhook_allow: Vec::new(),
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            webhook_secret: None,
            engine: EngineKind::Local,
            ballista_url: None,
            gpus: Selection::All,
            gpu_memory_limit: None,
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("rusk.db").display()),
        }
    }

    pub fn data_root(&self) -> std::io::Result<PathBuf> {
        match &self.data_root {
            Some(root) => Ok(root.clone()),
            None => std::env::current_dir(),
        }
    }

    pub fn stores(&self) -> StoreConfig {
        match &self.store_env {
            Some(pairs) => StoreConfig::from_pairs(pairs.iter().cloned()),
            None => StoreConfig::from_env(),
        }
    }

    pub fn slots(&self) -> usize {
        self.slots.unwrap_or_else(cores).max(1)
    }

    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
            .unwrap_or_else(|| total_memory().map_or(4 << 30, |total| total / 2))
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The memory this process may use: the container's limit where a cgroup sets one (in a
/// Kubernetes pod `/proc/meminfo` shows the node's memory, and half of that would get the pod
/// OOM-killed), else the machine's from `/proc/meminfo`; `None` where neither can be read.
fn total_memory() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| meminfo_total(&info));
    // cgroup v2, then v1 (where "no limit" is a huge number, which the `min` below absorbs).
    let container = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    });
    match (container, machine) {
        (Some(c), Some(m)) => Some(c.min(m)),
        (c, m) => c.or(m),
    }
}

fn meminfo_total(info: &str) -> Option<u64> {
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::meminfo_total;

    #[test]
    fn meminfo_total_reads_kib() {
        let info = "MemTotal:       24558532 kB\nMemFree:        1000 kB\n";
        assert_eq!(meminfo_total(info), Some(24_558_532 * 1024));
        assert_eq!(meminfo_total("MemFree: 1 kB\n"), None);
    }
}
