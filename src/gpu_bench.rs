//! `rusk gpu-bench`: the GPU path against the CPU path on this machine, in one run, with
//! nothing to install and no network (`bench/gpu/run.sh`). For each size: a group-by
//! aggregation (int keys, ~`groups` groups) kernel-only (columns in memory) and end to end
//! (Parquet on this machine's disk through Rusk's engine), then k-means from the same start,
//! and host-to-device copy rates. Every GPU answer is checked against the CPU's: counts and
//! integer sums exactly, float sums to 1e-9 relative, k-means labels identically. One JSON
//! report. Without a CUDA device it still runs the CPU side and says so in the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::ParquetReadOptions;
use serde_json::{Value, json};

use crate::config::Settings;
use crate::engine::GpuAggregates;
use crate::gpu::{self, Accelerator, Aggregate, GroupInput, KeyColumn, Reduce, State, Values};

#[derive(Debug, Clone, clap::Args)]
pub struct GpuBenchArgs {
    /// Rows of the group-by, one run per size.
    #[arg(long, value_delimiter = ',', default_value = "10000000,100000000")]
    rows: Vec<usize>,
    /// Distinct group keys.
    #[arg(long, default_value_t = 1000)]
    groups: u64,
    /// Points of the k-means, one run per size.
    #[arg(long, value_delimiter = ',', default_value = "10000000,100000000")]
    kmeans_rows: Vec<usize>,
    #[arg(long, default_value_t = 16)]
    kmeans_dims: usize,
    #[arg(long, default_value_t = 16)]
    kmeans_k: usize,
    #[arg(long, default_value_t = 10)]
    kmeans_iter: usize,
    /// Rows of the linear and logistic regressions (`kmeans_dims` features), one run per
    /// size; the CPU side is the one-thread reference, so keep these modest.
    #[arg(long, value_delimiter = ',', default_value = "10000000")]
    regression_rows: Vec<usize>,
    /// Bytes copied to measure host-to-device rates.
    #[arg(long, default_value_t = 1 << 30)]
    copy_bytes: usize,
    /// Where the Parquet files are written (removed after each size).
    #[arg(long, default_value = "rusk-gpu-bench")]
    dir: PathBuf,
    /// The JSON report.
    #[arg(long, default_value = "gpu-report.json")]
    out: PathBuf,
}

/// Runs the benchmark; the report says whether every check passed (`"ok"`), and so does the
/// exit status.
pub async fn run(args: GpuBenchArgs, settings: &Settings) -> anyhow::Result<()> {
    let devices = gpu::open(&settings.gpus, settings.gpu_memory_limit)?;
    let device = devices.pick();
    let mut cpu_settings = settings.clone();
    cpu_settings.gpus = gpu::Selection::None;
    cpu_settings.data_dir = args.dir.join("rusk");
    let engine = crate::app::engine(&cpu_settings)?;
    let mut groupby = Vec::new();
    for &rows in &args.rows {
        eprintln!("group-by, {rows} rows");
        let dir = args.dir.join(format!("groupby-{rows}"));
        let result = groupby_run(&engine.session(), device.as_ref(), rows, args.groups, &dir).await;
        // Best effort: the next size needs the disk more than these files.
        let _ = std::fs::remove_dir_all(&dir);
        groupby.push(result?);
    }
    let mut kmeans = Vec::new();
    for &rows in &args.kmeans_rows {
        eprintln!("k-means, {rows} × {}", args.kmeans_dims);
        kmeans.push(kmeans_run(device.as_ref(), rows, &args)?);
    }
    let mut regression = Vec::new();
    for &rows in &args.regression_rows {
        eprintln!("regression, {rows} × {}", args.kmeans_dims);
        regression.push(regression_run(device.as_ref(), rows, args.kmeans_dims)?);
    }
    let copies = match &device {
        Some(device) => device.copy_bandwidth(args.copy_bytes)?,
        None => None,
    };
    let ok = groupby
        .iter()
        .chain(&kmeans)
        .chain(&regression)
        .all(|r| r["check"]["ok"] != json!(false));
    let report = json!({
        "rusk": env!("CARGO_PKG_VERSION"),
        "device": device.as_ref().map(|d| describe(d.as_ref())),
        "driver_version": gpu::driver_version(),
        "cores": crate::config::cores(),
        "groupby": groupby,
        "kmeans": kmeans,
        "regression": regression,
        "host_to_device": copies.map(|c| json!({
            "bytes": args.copy_bytes,
            "pinned_gb_s": c.pinned_gb_s,
            "pageable_gb_s": c.pageable_gb_s,
            "staged_gb_s": c.staged_gb_s,
        })),
        "ok": ok,
    });
    std::fs::write(&args.out, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("report: {}", args.out.display());
    if device.is_none() {
        eprintln!("no CUDA device here: the report has the CPU figures only");
    }
    anyhow::ensure!(
        ok,
        "a GPU answer differs from the CPU's: see {}",
        args.out.display()
    );
    Ok(())
}

fn describe(device: &dyn Accelerator) -> Value {
    let info = device.info();
    json!({
        "name": info.name,
        "index": info.index,
        "total_memory": info.total_memory,
        "free_memory": info.free_memory,
        "compute_capability": format!("{}.{}", info.compute_capability.0, info.compute_capability.1),
        "memory_limit": device.memory_limit(),
    })
}

/// A small linear congruential generator: the same data on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
}

/// `rows` rows: `k` (key), `x` (float), `i` (integer).
struct Table {
    k: Vec<i64>,
    x: Vec<f64>,
    i: Vec<i64>,
}

impl Table {
    fn random(rows: usize, groups: u64) -> Table {
        let mut rng = Lcg(7);
        let mut table = Table {
            k: Vec::with_capacity(rows),
            x: Vec::with_capacity(rows),
            i: Vec::with_capacity(rows),
        };
        for _ in 0..rows {
            table.k.push(rng.below(groups) as i64);
            // Positive, so no group's sum cancels to near zero (relative errors stay meaningful).
            table.x.push(rng.unit() * 1000.0);
            table.i.push(rng.below(2_000_001) as i64 - 1_000_000);
        }
        table
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("x", DataType::Float64, false),
            Field::new("i", DataType::Int64, false),
        ]))
    }

    /// The rows as batches of at most `per` rows.
    fn batches(&self, per: usize) -> anyhow::Result<Vec<RecordBatch>> {
        (0..self.k.len())
            .step_by(per.max(1))
            .map(|start| {
                let end = (start + per).min(self.k.len());
                Ok(RecordBatch::try_new(
                    Table::schema(),
                    vec![
                        Arc::new(Int64Array::from(self.k[start..end].to_vec())),
                        Arc::new(Float64Array::from(self.x[start..end].to_vec())),
                        Arc::new(Int64Array::from(self.i[start..end].to_vec())),
                    ],
                )?)
            })
            .collect()
    }
}

const QUERY: &str = "SELECT k, count(*) AS n, sum(x) AS sx, sum(i) AS si, min(i) AS lo, \
    max(i) AS hi, avg(x) AS ax FROM t GROUP BY k";

/// The guide's pipeline shape: a filter and computed arguments, which the GPU node takes over
/// as device programs (same answer columns as `QUERY`).
const PIPELINE: &str = "SELECT k, count(*) AS n, sum(x * 2.0) AS sx, sum(i + k) AS si, \
    min(i) AS lo, max(i) AS hi, avg(x) AS ax FROM t WHERE i > 0 OR x < 100.0 GROUP BY k";

/// Per group: (count, sum of x, sum of i, min of i, max of i).
type Answer = BTreeMap<i64, (u64, f64, i64, i64, i64)>;

async fn groupby_run(
    ctx: &SessionContext,
    device: Option<&Arc<dyn Accelerator>>,
    rows: usize,
    groups: u64,
    dir: &Path,
) -> anyhow::Result<Value> {
    let table = Table::random(rows, groups);
    // Kernel-only: the columns in memory. The CPU path is DataFusion over memory batches.
    let parts = crate::config::cores().max(1);
    let batches = table.batches(rows.div_ceil(parts).max(1))?;
    let memory = MemTable::try_new(
        Table::schema(),
        batches.into_iter().map(|b| vec![b]).collect(),
    )?;
    ctx.register_table("t", Arc::new(memory))?;
    let (cpu_kernel_s, cpu_answer) = timed_query(ctx, QUERY, None).await?;
    ctx.deregister_table("t")?;
    let input = group_input(&table);
    let min = table.k.iter().copied().min().unwrap_or(0);
    let reference = match device {
        Some(_) => Some(to_answer_from_groups(
            &gpu::reference::group_aggregate(&input)?,
            min,
        )),
        None => None,
    };
    let gpu_kernel = match device {
        Some(device) => {
            let groups = device.group_aggregate(&input)?;
            Some((
                groups.timings.unwrap_or_default(),
                to_answer_from_groups(&groups, min),
            ))
        }
        None => None,
    };
    // End to end: Parquet files on disk through the engine.
    write_parquet(&table, dir, parts)?;
    drop(table);
    let path = dir.to_string_lossy().to_string();
    ctx.register_parquet("t", &path, ParquetReadOptions::default())
        .await?;
    let (cpu_e2e_s, cpu_e2e) = timed_query(ctx, QUERY, None).await?;
    let gpu_e2e = match device {
        Some(device) => Some(timed_query(ctx, QUERY, Some(device)).await?),
        None => None,
    };
    let (cpu_pipeline_s, cpu_pipeline) = timed_query(ctx, PIPELINE, None).await?;
    let gpu_pipeline = match device {
        Some(device) => Some(timed_query(ctx, PIPELINE, Some(device)).await?),
        None => None,
    };
    ctx.deregister_table("t")?;

    let mut checks = vec![compare(
        "cpu end to end vs cpu in memory",
        &cpu_e2e,
        &cpu_answer,
    )];
    if let (Some((_, kernel)), Some(reference)) = (&gpu_kernel, &reference) {
        checks.push(compare("gpu kernels vs cpu reference", kernel, reference));
        checks.push(compare(
            "cpu reference vs datafusion",
            reference,
            &cpu_answer,
        ));
    }
    if let Some((_, answer)) = &gpu_e2e {
        checks.push(compare(
            "gpu end to end vs cpu end to end",
            answer,
            &cpu_e2e,
        ));
    }
    if let Some((_, answer)) = &gpu_pipeline {
        checks.push(compare(
            "gpu pipeline vs cpu pipeline",
            answer,
            &cpu_pipeline,
        ));
    }
    let ok = checks.iter().all(|c| c["ok"] == json!(true));
    Ok(json!({
        "rows": rows,
        "groups": cpu_answer.len(),
        "cpu": {"kernel_s": cpu_kernel_s, "end_to_end_s": cpu_e2e_s},
        "gpu": gpu_kernel.as_ref().map(|(t, _)| json!({
            "upload_s": t.upload_s,
            "kernel_s": t.kernels_s,
            "download_s": t.download_s,
            "end_to_end_s": gpu_e2e.as_ref().map(|(s, _)| *s),
        })),
        "speedup": gpu_kernel.as_ref().map(|(t, _)| json!({
            "kernel": cpu_kernel_s / t.kernels_s,
            "end_to_end": gpu_e2e.as_ref().map(|(s, _)| cpu_e2e_s / s),
            // The copy is the floor of the end-to-end time: input bytes over the copy rate.
            "copy_share_of_gpu_end_to_end": gpu_e2e.as_ref().map(|(s, _)| t.upload_s / s),
            "pipeline": gpu_pipeline.as_ref().map(|(s, _)| cpu_pipeline_s / s),
        })),
        "pipeline": {
            "query": PIPELINE,
            "cpu_end_to_end_s": cpu_pipeline_s,
            "gpu_end_to_end_s": gpu_pipeline.as_ref().map(|(s, _)| *s),
        },
        "check": {"ok": ok, "comparisons": checks},
    }))
}

/// Runs `sql` (on `device` where given) and reads its answer.
async fn timed_query(
    ctx: &SessionContext,
    sql: &str,
    device: Option<&Arc<dyn Accelerator>>,
) -> anyhow::Result<(f64, Answer)> {
    let start = Instant::now();
    let mut plan: Arc<dyn ExecutionPlan> = ctx.sql(sql).await?.create_physical_plan().await?;
    if let Some(device) = device {
        plan = GpuAggregates::new(device.clone()).optimize(plan, ctx.state().config_options())?;
        anyhow::ensure!(
            datafusion::physical_plan::displayable(plan.as_ref())
                .indent(false)
                .to_string()
                .contains("GpuAggregateExec"),
            "the group-by was not put on the device"
        );
    }
    let batches = collect(plan, ctx.task_ctx()).await?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((seconds, to_answer(&batches)?))
}

fn group_input(table: &Table) -> GroupInput<'_> {
    let min = table.k.iter().copied().min().unwrap_or(0);
    let max = table.k.iter().copied().max().unwrap_or(0);
    let aggregate = |reduce, value| Aggregate { reduce, value };
    let column = |values| gpu::Column {
        values,
        valid: None,
    };
    GroupInput {
        rows: table.k.len(),
        keys: gpu::Keys::Packed {
            columns: vec![KeyColumn {
                values: &table.k,
                min,
                shift: 0,
            }],
            code_bits: gpu::bits_for((max - min) as u64),
        },
        columns: vec![column(Values::F64(&table.x)), column(Values::I64(&table.i))],
        values: vec![gpu::Program::column(0), gpu::Program::column(1)],
        filter: None,
        aggregates: vec![
            aggregate(Reduce::Count, 0),
            aggregate(Reduce::Sum, 0),
            aggregate(Reduce::Sum, 1),
            aggregate(Reduce::Min, 1),
            aggregate(Reduce::Max, 1),
        ],
    }
}

/// The groups of one key packed from `min`.
fn to_answer_from_groups(groups: &gpu::Groups, min: i64) -> Answer {
    let count = |i: usize| match &groups.states[i] {
        State::Count(v) => v.clone(),
        _ => Vec::new(),
    };
    let ints = |i: usize| match &groups.states[i] {
        State::I64(v) => v.clone(),
        _ => Vec::new(),
    };
    let floats = |i: usize| match &groups.states[i] {
        State::F64(v) => v.clone(),
        _ => Vec::new(),
    };
    let (n, sx, si, lo, hi) = (count(0), floats(1), ints(2), ints(3), ints(4));
    (0..groups.codes.len())
        .map(|g| {
            (
                min + groups.codes[g] as i64,
                (n[g], sx[g], si[g], lo[g], hi[g]),
            )
        })
        .collect()
}

fn to_answer(batches: &[RecordBatch]) -> anyhow::Result<Answer> {
    let mut answer = Answer::new();
    for batch in batches {
        let column = |name: &str| -> anyhow::Result<&Arc<dyn Array>> {
            batch
                .column_by_name(name)
                .context("a column of the answer is missing")
        };
        let k = column("k")?.as_primitive::<Int64Type>();
        let n = column("n")?.as_primitive::<Int64Type>();
        let sx = column("sx")?.as_primitive::<Float64Type>();
        let si = column("si")?.as_primitive::<Int64Type>();
        let lo = column("lo")?.as_primitive::<Int64Type>();
        let hi = column("hi")?.as_primitive::<Int64Type>();
        for r in 0..batch.num_rows() {
            answer.insert(
                k.value(r),
                (
                    n.value(r) as u64,
                    sx.value(r),
                    si.value(r),
                    lo.value(r),
                    hi.value(r),
                ),
            );
        }
    }
    Ok(answer)
}

/// Exact for counts and integers, 1e-9 relative for float sums.
fn compare(what: &str, got: &Answer, want: &Answer) -> Value {
    let mut worst = 0f64;
    let mut exact = got.len() == want.len();
    for (key, want) in want {
        let Some(got) = got.get(key) else {
            exact = false;
            continue;
        };
        exact &= (got.0, got.2, got.3, got.4) == (want.0, want.2, want.3, want.4);
        let error = (got.1 - want.1).abs() / want.1.abs().max(1e-300);
        worst = worst.max(error);
    }
    json!({
        "what": what,
        "groups": got.len(),
        "integers_exact": exact,
        "float_max_relative_error": worst,
        "ok": exact && worst <= 1e-9,
    })
}

fn write_parquet(table: &Table, dir: &Path, files: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let per_file = table.k.len().div_ceil(files.max(1)).max(1);
    let batches = table.batches(per_file)?;
    std::thread::scope(|scope| {
        let writers: Vec<_> = batches
            .into_iter()
            .enumerate()
            .map(|(i, batch)| {
                let path = dir.join(format!("part-{i}.parquet"));
                scope.spawn(move || -> anyhow::Result<()> {
                    let file = std::fs::File::create(&path)?;
                    let mut writer =
                        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)?;
                    writer.write(&batch)?;
                    writer.close()?;
                    Ok(())
                })
            })
            .collect();
        writers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// Points around `k` well-separated centres, so labels have no near ties.
fn kmeans_points(rows: usize, dims: usize, k: usize) -> Vec<f64> {
    let mut rng = Lcg(11);
    let centres: Vec<f64> = (0..k * dims).map(|_| rng.unit() * 1000.0).collect();
    let mut points = Vec::with_capacity(rows * dims);
    for _ in 0..rows {
        let c = rng.below(k as u64) as usize;
        for j in 0..dims {
            points.push(centres[c * dims + j] + rng.unit() * 2.0 - 1.0);
        }
    }
    points
}

fn kmeans_run(
    device: Option<&Arc<dyn Accelerator>>,
    rows: usize,
    args: &GpuBenchArgs,
) -> anyhow::Result<Value> {
    let (dims, k) = (args.kmeans_dims.max(1), args.kmeans_k.max(1));
    let points = kmeans_points(rows, dims, k);
    // The same start on both: the first k points.
    let init = points[..(k * dims).min(points.len())].to_vec();
    let start = Instant::now();
    let cpu = gpu::reference::kmeans(&points, dims, &init, args.kmeans_iter)?;
    let cpu_s = start.elapsed().as_secs_f64();
    let gpu = match device {
        Some(device) => {
            let start = Instant::now();
            let fit = device.kmeans(&points, dims, &init, args.kmeans_iter)?;
            Some((start.elapsed().as_secs_f64(), fit))
        }
        None => None,
    };
    let check = gpu.as_ref().map(|(_, fit)| {
        let differing = fit
            .labels
            .iter()
            .zip(&cpu.labels)
            .filter(|(a, b)| a != b)
            .count();
        json!({
            "labels_differing": differing,
            "iterations": [cpu.iterations, fit.iterations],
            "ok": differing == 0 && fit.labels.len() == cpu.labels.len(),
        })
    });
    Ok(json!({
        "rows": rows,
        "dims": dims,
        "k": k,
        "iterations": cpu.iterations,
        "cpu_s": cpu_s,
        "gpu_s": gpu.as_ref().map(|(s, _)| *s),
        "speedup": gpu.as_ref().map(|(s, _)| cpu_s / s),
        "check": check.unwrap_or(json!({"ok": null})),
    }))
}

/// Linear and logistic regressions of `rows` × `dims` on the device against the CPU
/// reference (the same sums on one core, the same solver): coefficients to 1e-6 relative.
fn regression_run(
    device: Option<&Arc<dyn Accelerator>>,
    rows: usize,
    dims: usize,
) -> anyhow::Result<Value> {
    use gpu::regression::{self, HostRows, Regression};
    let dims = dims.max(1);
    let mut rng = Lcg(13);
    let truth: Vec<f64> = (0..=dims).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let mut points = Vec::with_capacity(rows * dims);
    let (mut values, mut classes) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for _ in 0..rows {
        let row: Vec<f64> = (0..dims).map(|_| rng.unit() * 2.0 - 1.0).collect();
        let score = truth[0] + row.iter().zip(&truth[1..]).map(|(x, b)| x * b).sum::<f64>();
        values.push(score + rng.unit() - 0.5);
        classes.push(f64::from(u8::from(score + (rng.unit() - 0.5) > 0.0)));
        points.extend(row);
    }
    let mut runs = Vec::new();
    for (name, targets, how) in [
        ("linear", &values, Regression::Linear),
        (
            "logistic",
            &classes,
            Regression::Logistic {
                l2: 1.0,
                max_iter: 100,
            },
        ),
    ] {
        let start = Instant::now();
        let mut host = HostRows {
            points: &points,
            dims,
            targets,
        };
        let cpu = regression::fit(&mut host, dims, how)?;
        let cpu_s = start.elapsed().as_secs_f64();
        let gpu = match device {
            Some(device) => {
                let start = Instant::now();
                let fit = device.regression(&points, dims, targets, how)?;
                Some((start.elapsed().as_secs_f64(), fit))
            }
            None => None,
        };
        let check = gpu.as_ref().map(|(_, fit)| {
            // Relative to the largest coefficient: one near zero has no digits to compare.
            let scale = cpu.beta.iter().fold(1e-12f64, |m, b| m.max(b.abs()));
            let worst = fit
                .beta
                .iter()
                .zip(&cpu.beta)
                .map(|(a, b)| (a - b).abs() / scale)
                .fold(0.0f64, f64::max);
            json!({"largest_relative_difference": worst, "ok": worst <= 1e-6})
        });
        runs.push(json!({
            "rows": rows,
            "dims": dims,
            "regression": name,
            "iterations": cpu.iterations,
            "cpu_one_core_s": cpu_s,
            "gpu_s": gpu.as_ref().map(|(s, _)| *s),
            "speedup": gpu.as_ref().map(|(s, _)| cpu_s / s),
            "check": check.unwrap_or(json!({"ok": null})),
        }));
    }
    Ok(json!({"rows": rows, "runs": runs, "check": {
        "ok": runs.iter().all(|r| r["check"]["ok"] != json!(false))
    }}))
}
