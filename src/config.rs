//! Settings from flags and `RUSK_*` environment variables. Every default is the embedded one:
//! SQLite and local files under `./rusk-data`, listening on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::objects::StoreConfig;
use crate::spec::parse_size;

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
    /// Where relative source paths resolve; local sources must lie under it. Default: the
    /// working directory.
    #[arg(long, global = true, env = "RUSK_DATA_ROOT")]
    pub data_root: Option<PathBuf>,
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
}

impl Settings {
    /// The settings a bare `rusk` would use, with the data directory moved (for tests and tools).
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            data_root: None,
            database_url: None,
            slots: None,
            shutdown_grace: 30,
            lease_ttl: 30,
            memory_limit: None,
            results_url: None,
            store_env: None,
            public_url: None,
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

/// Total memory from `/proc/meminfo`; `None` where that file does not exist.
fn total_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
