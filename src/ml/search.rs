//! Grid search: every candidate × fold fitted and scored as its own task on the engine's
//! CPU runtime (shared with every job's plans), the best candidate refit on all training rows
//! and scored on the held-out rows, and the cross-validation table scikit-learn shows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::domain::MlSummary;
use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use indexmap::IndexMap;
use serde_json::Value;

use super::Metrics;
use super::model::{self, Predictions};
use super::{
    Labels, MlError, Outcome, Owner, Rng, artifact, pick_rows, prepare, score, split, target_rows,
};
use crate::spec::{Estimator, Kind, MlSpec, Scoring};

/// Where grid-search fits run.
#[derive(Clone)]
pub struct Pool {
    /// The engine's CPU runtime.
    pub handle: tokio::runtime::Handle,
    /// Set once the job is cancelled or timed out: fits not yet begun are skipped.
    pub abandoned: Arc<AtomicBool>,
    /// Bytes training may hold (the feature matrix and its copies).
    pub memory: usize,
    /// Where each fit is recorded as it ends (the job's task stream).
    pub fits: Fits,
    /// The GPU that fits k-means and regressions (and refits a search's best candidate),
    /// where the job wants one and the worker has one.
    pub device: Option<Arc<dyn crate::gpu::Accelerator>>,
}

impl Pool {
    /// Threads one fit may use: the engine's. A search's folds are already spread over them,
    /// so each of those fits takes one.
    pub fn threads(&self) -> usize {
        self.handle.metrics().num_workers()
    }
}

/// One candidate × fold fitted and scored.
#[derive(Debug, Clone)]
pub struct Fit {
    pub candidate: usize,
    pub fold: usize,
    /// The candidate's parameters, as JSON.
    pub params: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// The GPU that ran it (`cuda:0 (NVIDIA H100 …)`), if one did.
    pub device: Option<String>,
}

/// The fits of one training run so far, in the order they ended.
pub type Fits = Arc<Mutex<Vec<Fit>>>;

pub(super) fn record(fits: &Fits, fit: Fit) {
    fits.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(fit);
}

/// What every fold's task reads.
struct Folds {
    estimator: Estimator,
    scoring: Scoring,
    seed: u64,
    x: Vec<Vec<f64>>,
    labels: Labels,
    folds: Vec<(Vec<u32>, Vec<u32>)>,
    candidates: Vec<IndexMap<String, Value>>,
}

impl Folds {
    /// Fits candidate `c` on fold `f`'s fit rows; its score on the fold's score rows and the
    /// fit time in seconds.
    fn run(&self, c: usize, f: usize) -> Result<(f64, f64), MlError> {
        let started = Instant::now();
        let (fit_rows, score_rows) = &self.folds[f];
        let fitted = model::fit(
            self.estimator,
            &self.candidates[c],
            &pick_rows(&self.x, fit_rows),
            target_rows(&self.labels, fit_rows).target(),
            self.seed,
            1,
        )?;
        let fit_time = started.elapsed().as_secs_f64();
        let predictions: Predictions = model::predict(&fitted, &pick_rows(&self.x, score_rows))?;
        let m = score(&self.labels, score_rows, &predictions);
        Ok((scorer(self.scoring, &m), fit_time))
    }
}

/// One candidate's folds: each fold's score and fit time (seconds).
#[derive(Clone, Default)]
struct Scored {
    scores: Vec<f64>,
    fit_times: Vec<f64>,
}

/// Runs every candidate × fold on the pool and waits for them all (from a blocking thread).
fn cross_validate(folds: Arc<Folds>, pool: &Pool) -> Result<Vec<Scored>, MlError> {
    let mut tasks = Vec::new();
    for c in 0..folds.candidates.len() {
        for f in 0..folds.folds.len() {
            let (folds, abandoned) = (folds.clone(), pool.abandoned.clone());
            let fits = pool.fits.clone();
            tasks.push(pool.handle.spawn(async move {
                if abandoned.load(Ordering::Relaxed) {
                    return Err(MlError::Abandoned);
                }
                let started_at = Utc::now();
                let scored = folds.run(c, f)?;
                let params = serde_json::to_string(&folds.candidates[c]).unwrap_or_default();
                let (candidate, fold, ended_at) = (c, f, Utc::now());
                record(
                    &fits,
                    Fit {
                        candidate,
                        fold,
                        params,
                        started_at,
                        ended_at,
                        device: None,
                    },
                );
                Ok((c, scored))
            }));
        }
    }
    let mut per_candidate = vec![Scored::default(); folds.candidates.len()];
    for joined in futures::executor::block_on(futures::future::join_all(tasks)) {
        let (c, (value, fit_time)) =
            joined.map_err(|e| MlError::Fit(format!("a fold's task ended abnormally: {e}")))??;
        per_candidate[c].scores.push(value);
        per_candidate[c].fit_times.push(fit_time);
    }
    Ok(per_candidate)
}

pub fn grid_search(
    spec: &MlSpec,
    frame: RecordBatch,
    owner: Owner,
    pool: &Pool,
) -> Result<Outcome, MlError> {
    let estimator = spec.estimator.unwrap_or(Estimator::LinearRegression);
    let kind = estimator.kind();
    let scoring = spec.scoring.unwrap_or(match kind {
        Kind::Classifier => Scoring::Accuracy,
        _ => Scoring::R2,
    });
    let labels = Labels::of(kind, &frame, spec.target.as_ref())?;
    let strata = match &labels {
        Labels::Classes { indices, .. } => Some(indices.as_slice()),
        _ => None,
    };
    let (train, test) = split(frame.num_rows(), strata, spec.test_size, spec.seed);
    let prepared = prepare(spec, &frame, &train, labels, pool.memory)?;
    let train_labels = target_rows(&prepared.labels, &train);
    let folds = Arc::new(Folds {
        estimator,
        scoring,
        seed: spec.seed,
        x: pick_rows(&prepared.x, &train),
        folds: folds(train.len(), spec.cv, &train_labels, spec.seed),
        labels: train_labels,
        candidates: candidates(&spec.param_grid, &spec.params),
    });
    let per_candidate = cross_validate(folds.clone(), pool)?;
    let means: Vec<f64> = per_candidate.iter().map(|s| mean(&s.scores)).collect();
    // Ties go to the earlier candidate, as in scikit-learn.
    let best = (0..means.len()).fold(0, |best, c| if means[c] > means[best] { c } else { best });
    let on_device = pool.device.as_ref().and_then(|device| {
        let params = &folds.candidates[best];
        let rows = (folds.x.as_slice(), &folds.labels.target());
        let refit = (&pool.fits, best, folds.folds.len());
        model::regression_on(device.as_ref(), estimator, params, rows, refit)
    });
    let fitted = match on_device {
        Some(fitted) => fitted,
        None => model::fit(
            estimator,
            &folds.candidates[best],
            &folds.x,
            folds.labels.target(),
            spec.seed,
            pool.threads(),
        )?,
    };
    let predictions = model::predict(&fitted, &pick_rows(&prepared.x, &test))?;
    let held_out = score(&prepared.labels, &test, &predictions);
    let table = cv_table(&spec.param_grid, &folds.candidates, &per_candidate, &means)?;
    let best_params = folds.candidates[best].clone();
    let artifact = artifact(
        spec,
        &frame,
        prepared,
        fitted,
        held_out.clone(),
        best_params.clone(),
        owner,
    );
    let summary = MlSummary {
        model_id: artifact.info.id.clone(),
        rows: None,
        best_params: Some(best_params),
        best_score: Some(means[best]),
        scoring: Some(scoring),
        metrics: Some(held_out),
        params: None,
    };
    Ok(Outcome {
        rows: table,
        summary,
        artifact,
    })
}

fn scorer(scoring: Scoring, m: &Metrics) -> f64 {
    let get = |k: &str| m.get(k).copied().unwrap_or(f64::NAN);
    match scoring {
        Scoring::Accuracy => get("accuracy"),
        Scoring::F1 => get("f1"),
        Scoring::RocAuc => get("roc_auc"),
        Scoring::R2 => get("r2"),
        Scoring::NegMeanSquaredError => -get("mse"),
        Scoring::NegMeanAbsoluteError => -get("mae"),
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn std(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len().max(1) as f64).sqrt()
}

/// K folds of the training rows (stratified for classifiers): (fit rows, score rows) each.
fn folds(n: usize, k: usize, labels: &Labels, seed: u64) -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut rng = Rng(seed ^ 0x5EED);
    let mut groups: IndexMap<i64, Vec<u32>> = IndexMap::new();
    for i in 0..n {
        let key = match labels {
            Labels::Classes { indices, .. } => indices[i],
            _ => 0,
        };
        groups.entry(key).or_default().push(i as u32);
    }
    let mut fold_of = vec![0usize; n];
    let mut next = 0;
    for (_, mut rows) in groups {
        rng.shuffle(&mut rows);
        for row in rows {
            fold_of[row as usize] = next % k;
            next += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (score, fit): (Vec<u32>, Vec<u32>) =
                (0..n as u32).partition(|&i| fold_of[i as usize] == f);
            (fit, score)
        })
        .collect()
}

/// Every combination of the grid, over the fixed `params`, in scikit-learn's order (the last
/// parameter varies fastest).
fn candidates(
    grid: &IndexMap<String, Vec<Value>>,
    fixed: &IndexMap<String, Value>,
) -> Vec<IndexMap<String, Value>> {
    let mut all = vec![fixed.clone()];
    for (name, values) in grid {
        all = all
            .into_iter()
            .flat_map(|base| {
                values.iter().map(move |v| {
                    let mut next = base.clone();
                    next.insert(name.clone(), v.clone());
                    next
                })
            })
            .collect();
    }
    all
}

/// One row per candidate: `param_<name>` columns, mean/std/rank of the test score, fit time.
fn cv_table(
    grid: &IndexMap<String, Vec<Value>>,
    candidates: &[IndexMap<String, Value>],
    scored: &[Scored],
    means: &[f64],
) -> Result<RecordBatch, MlError> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in grid.keys() {
        let values: Vec<Option<f64>> = candidates
            .iter()
            .map(|c| c.get(name).and_then(Value::as_f64))
            .collect();
        fields.push(Field::new(format!("param_{name}"), DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from(values)));
    }
    let ranks: Vec<i64> = means
        .iter()
        .map(|m| 1 + means.iter().filter(|o| *o > m).count() as i64)
        .collect();
    let stds: Vec<f64> = scored.iter().map(|s| std(&s.scores)).collect();
    let fit_times: Vec<f64> = scored.iter().map(|s| mean(&s.fit_times)).collect();
    for (name, column) in [
        (
            "mean_test_score",
            Arc::new(Float64Array::from(means.to_vec())) as ArrayRef,
        ),
        ("std_test_score", Arc::new(Float64Array::from(stds))),
        (
            "rank_test_score",
            Arc::new(arrow::array::Int64Array::from(ranks)),
        ),
        ("mean_fit_time", Arc::new(Float64Array::from(fit_times))),
    ] {
        fields.push(Field::new(name, column.data_type().clone(), false));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| MlError::Input(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_candidates_vary_the_last_parameter_fastest() {
        let grid: IndexMap<String, Vec<Value>> = [
            (
                "max_depth".to_string(),
                vec![serde_json::json!(2), serde_json::json!(8)],
            ),
            (
                "n_estimators".to_string(),
                vec![serde_json::json!(20), serde_json::json!(50)],
            ),
        ]
        .into_iter()
        .collect();
        let all = candidates(&grid, &IndexMap::new());
        let pairs: Vec<(i64, i64)> = all
            .iter()
            .map(|c| {
                (
                    c["max_depth"].as_i64().unwrap(),
                    c["n_estimators"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(pairs, [(2, 20), (2, 50), (8, 20), (8, 50)]);
    }
}
