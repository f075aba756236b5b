//! Any text as a step expression and as a query's condition: the spec checks and the
//! engine's planning, as a submission runs them, never panic or overflow a stack, and
//! libFuzzer's `-timeout` bounds each input's time.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rusk::engine::{Engine, EngineConfig, Private};
use rusk::objects::StoreConfig;
use rusk::spec::JobSpec;
use serde_json::json;

struct Harness {
    runtime: tokio::runtime::Runtime,
    engine: Arc<Engine>,
    _root: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let root = tempfile::tempdir().expect("a temporary data root");
        std::fs::write(
            root.path().join("t.csv"),
            "x,y,name,when\n1,2.5,a,2024-01-01\n3,,b,2024-02-01\n",
        )
        .expect("the fuzzing data");
        let engine = Engine::new(EngineConfig {
            data_root: root.path().to_path_buf(),
            source_allow: Vec::new(),
            output_allow: Vec::new(),
            private: Private::default(),
            memory_limit: 256 << 20,
            spill_dir: root.path().join(".spill"),
            threads: 2,
            stores: StoreConfig::default(),
            default_engine: Default::default(),
            ballista_url: None,
            devices: Default::default(),
        })
        .expect("an engine");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Harness {
            runtime,
            engine: Arc::new(engine),
            _root: root,
        }
    })
}

fn specs(text: &str) -> Vec<serde_json::Value> {
    let source = json!({"t": {"format": "csv", "path": "t.csv"}});
    vec![
        json!({"sources": source, "steps": [{"op": "filter", "expr": text}]}),
        json!({"sources": source, "steps": [{"op": "assign", "columns": {"z": text}}]}),
        json!({"sources": source, "sql": format!("SELECT x FROM t WHERE {text}")}),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let harness = harness();
    for spec in specs(text) {
        let Ok(spec) = JobSpec::from_json(spec.to_string().as_bytes()) else {
            continue;
        };
        let engine = harness.engine.clone();
        // As the API does: planning on the engine's threads.
        let planned = harness.engine.spawn(async move {
            let frame = engine.plan(&spec, "default").await?;
            engine.check_constants(&frame)?;
            Ok::<_, rusk::engine::EngineError>(frame.schema().clone())
        });
        // An error is a fine answer (it becomes a 422); a panic or a stack overflow aborts
        // the fuzzing process, which libFuzzer reports with the input.
        let _ = harness.runtime.block_on(planned);
    }
});
