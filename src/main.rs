use tracing_subscriber::EnvFilter;

/// Larger than Tokio's 2 MiB: a plan's expression trees are dropped where the job's task
/// ends (their depth is bounded by the spec's limits; the engine's own threads have more).
const STACK_BYTES: usize = 8 << 20;

fn main() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("RUSK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `RUSK_LOG_FORMAT=json`: one JSON object a line, with the job's fields (`job_id`,
    // `attempt`, `worker`) under `span` on every line of its work.
    match std::env::var("RUSK_LOG_FORMAT").as_deref() {
        Ok("json") => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        _ => logs.init(),
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STACK_BYTES)
        .build()?
        .block_on(rusk::cli::main())
}
