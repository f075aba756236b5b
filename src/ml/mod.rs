//! Dask-ML-style jobs on the pipeline's output: `fit` (seeded split, stratified for
//! classifiers), `grid_search` (candidates × folds, best refit) and `predict` with a stored
//! model. Training data must fit in memory: frames beyond [`MAX_ROWS`] rows are refused
//! unless the spec asks for a `sample`.

mod data;
mod metrics;
mod model;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, concat_batches, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub use data::Encoding;
pub use metrics::Metrics;
use model::{Fitted, Target};

use crate::spec::{Estimator, Kind, MlSpec, MlTask, Scoring, SpecError};

/// The most rows a model trains on; larger frames need `sample`.
pub const MAX_ROWS: usize = 2_000_000;

#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The data does not suit the task (nulls, non-numeric features, too many rows).
    #[error("{0}")]
    Input(String),
    #[error("training failed: {0}")]
    Fit(String),
    #[error("cannot read or write the model: {0}")]
    Artifact(String),
}

/// What is listed about a model (`GET /v1/models`), kept beside the model itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    pub id: String,
    #[serde(default)]
    #[schema(ignore)]
    pub tenant: String,
    pub estimator: Estimator,
    /// The parameters it was trained with (scikit-learn names).
    #[schema(value_type = Object)]
    pub params: IndexMap<String, Value>,
    /// The input columns a frame needs for `predict`.
    pub features: Vec<String>,
    pub target: Option<String>,
    /// Held-out scores from training.
    pub metrics: Metrics,
    /// The job that trained it.
    pub job_id: uuid::Uuid,
    pub created_at: DateTime<Utc>,
}

/// A model and all it needs to predict.
#[derive(Debug, Serialize, Deserialize)]
pub struct Artifact {
    pub info: ModelInfo,
    encoding: Encoding,
    /// Class labels as text, in index order (classifiers).
    classes: Vec<String>,
    /// The target's Arrow type (as text), so predictions come back as the same type.
    target_type: Option<String>,
    fitted: Fitted,
}

/// A finished ML task: the rows it returns, `result.ml`, and a new model if it trained one.
pub struct Outcome {
    pub rows: RecordBatch,
    pub summary: Value,
    pub artifact: Option<Artifact>,
}

/// Who asks, for the model's record.
pub struct Owner {
    pub tenant: String,
    pub job_id: uuid::Uuid,
}

/// Columns the frame must have, checked at submission against the planned schema.
pub fn check_schema(
    spec: &MlSpec,
    schema: &Schema,
    model: Option<&ModelInfo>,
) -> Result<(), SpecError> {
    let has = |c: &str| schema.column_with_name(c).is_some();
    let field = |name: &str, message: String| SpecError::invalid(format!("ml.{name}"), message);
    if let Some(info) = model {
        if let Some(missing) = info.features.iter().find(|c| !has(c)) {
            return Err(field(
                "model",
                format!("the model needs column {missing:?}, which the frame lacks"),
            ));
        }
        return Ok(());
    }
    if let Some(target) = &spec.target
        && !has(target)
    {
        return Err(field(
            "target",
            format!("the frame has no column {target:?}"),
        ));
    }
    for (i, name) in spec.preprocess.one_hot.iter().enumerate() {
        if !has(name) {
            return Err(field(
                &format!("preprocess.one_hot[{i}]"),
                format!("no column {name:?}"),
            ));
        }
    }
    for (i, name) in features(spec, schema).iter().enumerate() {
        let Ok((_, f)) = schema.column_with_name(name).ok_or(()) else {
            return Err(field(
                &format!("features[{i}]"),
                format!("no column {name:?}"),
            ));
        };
        if !data::is_numeric(f.data_type()) && !spec.preprocess.one_hot.contains(name) {
            return Err(field(
                &format!("features[{i}]"),
                format!(
                    "column {name:?} is {}, not numeric; list it in preprocess.one_hot",
                    f.data_type()
                ),
            ));
        }
    }
    Ok(())
}

/// The feature columns: as given, else every column but the target.
fn features(spec: &MlSpec, schema: &Schema) -> Vec<String> {
    match &spec.features {
        Some(list) => list.clone(),
        None => schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| Some(n) != spec.target.as_ref())
            .collect(),
    }
}

/// Runs the task on the whole frame (`batches` from the pipeline). CPU-bound: call it from a
/// blocking thread.
pub fn run(
    spec: &MlSpec,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    model: Option<Artifact>,
    owner: Owner,
) -> Result<Outcome, MlError> {
    let frame = concat_batches(&schema, &batches).map_err(|e| MlError::Input(e.to_string()))?;
    let frame = sample(frame, spec)?;
    match (spec.task, model) {
        (MlTask::Predict, Some(model)) => predict(frame, &model),
        (MlTask::Predict, None) => Err(MlError::Artifact("the model is missing".into())),
        (MlTask::Fit, _) => fit(spec, frame, owner),
        (MlTask::GridSearch, _) => grid_search(spec, frame, owner),
    }
}

/// A small, seeded generator (SplitMix64): the same seed gives the same split everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn sample(frame: RecordBatch, spec: &MlSpec) -> Result<RecordBatch, MlError> {
    let rows = frame.num_rows();
    let limit = spec.sample.unwrap_or(MAX_ROWS).min(MAX_ROWS);
    if rows <= limit {
        return Ok(frame);
    }
    if spec.sample.is_none() {
        return Err(MlError::Input(format!(
            "the frame has {rows} rows; models train in memory on at most {MAX_ROWS}: set \
             ml.sample to train on a random sample"
        )));
    }
    let mut indices: Vec<u32> = (0..rows as u32).collect();
    Rng(spec.seed).shuffle(&mut indices);
    indices.truncate(limit);
    indices.sort_unstable();
    take_rows(&frame, &indices)
}

fn take_rows(frame: &RecordBatch, indices: &[u32]) -> Result<RecordBatch, MlError> {
    let indices = UInt32Array::from(indices.to_vec());
    let columns = frame
        .columns()
        .iter()
        .map(|c| take(c, &indices, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| MlError::Input(e.to_string()))?;
    RecordBatch::try_new(frame.schema(), columns).map_err(|e| MlError::Input(e.to_string()))
}

/// A target ready for training.
enum Labels {
    Numbers(Vec<f64>),
    /// Class indices into `classes`.
    Classes {
        indices: Vec<i64>,
        classes: Vec<String>,
    },
    Nothing,
}

impl Labels {
    fn of(kind: Kind, frame: &RecordBatch, target: Option<&String>) -> Result<Labels, MlError> {
        let Some(target) = target else {
            return Ok(Labels::Nothing);
        };
        match kind {
            Kind::Regressor => Ok(Labels::Numbers(data::numbers(frame, target)?)),
            Kind::Classifier => {
                let values = data::strings(frame, target)?;
                let mut classes = values.clone();
                classes.sort();
                classes.dedup();
                if classes.len() < 2 {
                    return Err(MlError::Input(format!(
                        "target {target:?} has {} class; a classifier needs at least 2",
                        classes.len()
                    )));
                }
                let indices = values
                    .iter()
                    .map(|v| classes.binary_search(v).map_or(0, |i| i as i64))
                    .collect();
                Ok(Labels::Classes { indices, classes })
            }
            Kind::Clusterer => Ok(Labels::Nothing),
        }
    }

    fn target(&self) -> Target<'_> {
        match self {
            Labels::Numbers(y) => Target::Numbers(y),
            Labels::Classes { indices, .. } => Target::Classes(indices),
            Labels::Nothing => Target::Nothing,
        }
    }
}

/// Rows for the test set: a `test_size` share, per class when stratified.
fn split(n: usize, strata: Option<&[i64]>, test_size: f64, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng(seed);
    let mut groups: IndexMap<i64, Vec<u32>> = IndexMap::new();
    for i in 0..n {
        let key = strata.map_or(0, |s| s[i]);
        groups.entry(key).or_default().push(i as u32);
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (_, mut rows) in groups {
        rng.shuffle(&mut rows);
        let cut = ((rows.len() as f64) * test_size).round() as usize;
        test.extend_from_slice(&rows[..cut]);
        train.extend_from_slice(&rows[cut..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

fn pick<T: Copy>(values: &[T], rows: &[u32]) -> Vec<T> {
    rows.iter().map(|&i| values[i as usize]).collect()
}

fn pick_rows(x: &[Vec<f64>], rows: &[u32]) -> Vec<Vec<f64>> {
    rows.iter().map(|&i| x[i as usize].clone()).collect()
}

/// What training needs, prepared from the frame.
struct Prepared {
    estimator: Estimator,
    encoding: Encoding,
    x: Vec<Vec<f64>>,
    labels: Labels,
}

/// `labels` are the whole frame's, already read for the split.
fn prepare(
    spec: &MlSpec,
    frame: &RecordBatch,
    rows: &[u32],
    labels: Labels,
) -> Result<Prepared, MlError> {
    let estimator = spec
        .estimator
        .ok_or_else(|| MlError::Input("no estimator".into()))?;
    let names = features(spec, &frame.schema());
    let training = take_rows(frame, rows)?;
    let encoding = Encoding::fit(
        &training,
        &names,
        &spec.preprocess.one_hot,
        spec.preprocess.scale,
    )?;
    let x = encoding.rows(frame)?;
    Ok(Prepared {
        estimator,
        encoding,
        x,
        labels,
    })
}

fn score(labels: &Labels, rows: &[u32], predicted: &[f64], probability: Option<&[f64]>) -> Metrics {
    match labels {
        Labels::Numbers(y) => metrics::regression(&pick(y, rows), predicted),
        Labels::Classes { indices, classes } => {
            let predicted: Vec<i64> = predicted.iter().map(|p| *p as i64).collect();
            metrics::classification(&pick(indices, rows), &predicted, classes.len(), probability)
        }
        Labels::Nothing => Metrics::new(),
    }
}

fn fit(spec: &MlSpec, frame: RecordBatch, owner: Owner) -> Result<Outcome, MlError> {
    let all: Vec<u32> = (0..frame.num_rows() as u32).collect();
    let estimator = spec.estimator.unwrap_or(Estimator::LinearRegression);
    if estimator.kind() == Kind::Clusterer {
        return fit_clusters(spec, frame, owner, &all);
    }
    let labels = Labels::of(estimator.kind(), &frame, spec.target.as_ref())?;
    let strata = match &labels {
        Labels::Classes { indices, .. } => Some(indices.as_slice()),
        _ => None,
    };
    let (train, test) = split(frame.num_rows(), strata, spec.test_size, spec.seed);
    let prepared = prepare(spec, &frame, &train, labels)?;
    let fitted = model::fit(
        prepared.estimator,
        &spec.params,
        &pick_rows(&prepared.x, &train),
        target_rows(&prepared.labels, &train).target(),
        spec.seed,
    )?;
    let (predicted, probability) = model::predict(&fitted, &pick_rows(&prepared.x, &test))?;
    let scores = score(&prepared.labels, &test, &predicted, probability.as_deref());
    let target = spec.target.clone().unwrap_or_default();
    let truth = take_rows(&frame, &test)?;
    let artifact = artifact(
        spec,
        &frame,
        prepared,
        fitted,
        scores.clone(),
        spec.params.clone(),
        owner,
    );
    let rows = with_predictions(
        &project(&truth, &[target.as_str()])?,
        &artifact,
        &predicted,
        None,
    )?;
    let summary = json!({
        "model_id": artifact.info.id,
        "metrics": scores,
        "params": spec.params,
    });
    Ok(Outcome {
        rows,
        summary,
        artifact: Some(artifact),
    })
}

fn fit_clusters(
    spec: &MlSpec,
    frame: RecordBatch,
    owner: Owner,
    all: &[u32],
) -> Result<Outcome, MlError> {
    let prepared = prepare(spec, &frame, all, Labels::Nothing)?;
    let fitted = model::fit(
        prepared.estimator,
        &spec.params,
        &prepared.x,
        Target::Nothing,
        spec.seed,
    )?;
    let (clusters, _) = model::predict(&fitted, &prepared.x)?;
    let labels: Vec<i64> = clusters.iter().map(|c| *c as i64).collect();
    let scores = metrics::clustering(&prepared.x, &labels);
    let artifact = artifact(
        spec,
        &frame,
        prepared,
        fitted,
        scores.clone(),
        spec.params.clone(),
        owner,
    );
    let rows = append(
        &frame,
        "cluster",
        Arc::new(arrow::array::Int64Array::from(labels)),
    )?;
    let summary = json!({"model_id": artifact.info.id, "metrics": scores, "params": spec.params});
    Ok(Outcome {
        rows,
        summary,
        artifact: Some(artifact),
    })
}

fn target_rows(labels: &Labels, rows: &[u32]) -> Labels {
    match labels {
        Labels::Numbers(y) => Labels::Numbers(pick(y, rows)),
        Labels::Classes { indices, classes } => Labels::Classes {
            indices: pick(indices, rows),
            classes: classes.clone(),
        },
        Labels::Nothing => Labels::Nothing,
    }
}

fn artifact(
    spec: &MlSpec,
    frame: &RecordBatch,
    prepared: Prepared,
    fitted: Fitted,
    scores: Metrics,
    params: IndexMap<String, Value>,
    owner: Owner,
) -> Artifact {
    let target_type = spec.target.as_ref().and_then(|t| {
        frame
            .schema()
            .column_with_name(t)
            .map(|(_, f)| f.data_type().to_string())
    });
    let classes = match &prepared.labels {
        Labels::Classes { classes, .. } => classes.clone(),
        _ => Vec::new(),
    };
    Artifact {
        info: ModelInfo {
            id: format!("model_{}", uuid::Uuid::now_v7().simple()),
            tenant: owner.tenant,
            estimator: prepared.estimator,
            params,
            features: prepared
                .encoding
                .inputs()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            target: spec.target.clone(),
            metrics: scores,
            job_id: owner.job_id,
            created_at: Utc::now(),
        },
        encoding: prepared.encoding,
        classes,
        target_type,
        fitted,
    }
}

fn project(frame: &RecordBatch, names: &[&str]) -> Result<RecordBatch, MlError> {
    let indices: Vec<usize> = names
        .iter()
        .filter_map(|n| frame.schema().index_of(n).ok())
        .collect();
    frame
        .project(&indices)
        .map_err(|e| MlError::Input(e.to_string()))
}

fn append(frame: &RecordBatch, name: &str, column: ArrayRef) -> Result<RecordBatch, MlError> {
    let mut fields: Vec<Field> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(name, column.data_type().clone(), false));
    let mut columns = frame.columns().to_vec();
    columns.push(column);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| MlError::Input(e.to_string()))
}

/// `frame` plus `prediction` (as the target's type) and, where known, `probability`.
fn with_predictions(
    frame: &RecordBatch,
    model: &Artifact,
    predicted: &[f64],
    probability: Option<Vec<f64>>,
) -> Result<RecordBatch, MlError> {
    let column: ArrayRef = match model.info.estimator.kind() {
        Kind::Classifier => {
            let labels: Vec<&str> = predicted
                .iter()
                .map(|p| model.classes.get(*p as usize).map_or("", String::as_str))
                .collect();
            let text: ArrayRef = Arc::new(StringArray::from(labels));
            match model.target_type.as_deref().map(DataType::from_str) {
                Some(Ok(t)) => cast(&text, &t).map_err(|e| MlError::Input(e.to_string()))?,
                _ => text,
            }
        }
        Kind::Clusterer => Arc::new(arrow::array::Int64Array::from(
            predicted.iter().map(|p| *p as i64).collect::<Vec<_>>(),
        )),
        Kind::Regressor => Arc::new(Float64Array::from(predicted.to_vec())),
    };
    let name = if model.info.estimator.kind() == Kind::Clusterer {
        "cluster"
    } else {
        "prediction"
    };
    let rows = append(frame, name, column)?;
    match probability {
        Some(p) => append(&rows, "probability", Arc::new(Float64Array::from(p))),
        None => Ok(rows),
    }
}

fn predict(frame: RecordBatch, model: &Artifact) -> Result<Outcome, MlError> {
    let x = model.encoding.rows(&frame)?;
    let (predicted, probability) = model::predict(&model.fitted, &x)?;
    let rows = with_predictions(&frame, model, &predicted, probability)?;
    Ok(Outcome {
        summary: json!({"model_id": model.info.id, "rows": frame.num_rows()}),
        rows,
        artifact: None,
    })
}

/// Every candidate × fold scored (in parallel on the engine's threads), the best refit on all
/// training rows and scored on the held-out test rows.
fn grid_search(spec: &MlSpec, frame: RecordBatch, owner: Owner) -> Result<Outcome, MlError> {
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
    let prepared = prepare(spec, &frame, &train, labels)?;
    let train_labels = target_rows(&prepared.labels, &train);
    let train_x = pick_rows(&prepared.x, &train);
    let folds = folds(train.len(), spec.cv, &train_labels, spec.seed);
    let candidates = candidates(&spec.param_grid, &spec.params);

    let jobs: Vec<(usize, usize)> = (0..candidates.len())
        .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
        .collect();
    let scored: Vec<Result<(usize, f64, f64), MlError>> = std::thread::scope(|scope| {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunks: Vec<&[(usize, usize)]> =
            jobs.chunks(jobs.len().div_ceil(threads).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (candidates, folds, train_x, train_labels) =
                    (&candidates, &folds, &train_x, &train_labels);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&(c, f)| {
                            let started = Instant::now();
                            let (fit_rows, score_rows) = &folds[f];
                            let fitted = model::fit(
                                estimator,
                                &candidates[c],
                                &pick_rows(train_x, fit_rows),
                                target_rows(train_labels, fit_rows).target(),
                                spec.seed,
                            )?;
                            let fit_time = started.elapsed().as_secs_f64();
                            let (predicted, probability) =
                                model::predict(&fitted, &pick_rows(train_x, score_rows))?;
                            let m =
                                score(train_labels, score_rows, &predicted, probability.as_deref());
                            Ok((c, scorer(scoring, &m), fit_time))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(MlError::Fit("a fold panicked".into()))])
            })
            .collect()
    });
    let mut per_candidate = vec![(Vec::new(), Vec::new()); candidates.len()];
    for result in scored {
        let (c, value, fit_time) = result?;
        per_candidate[c].0.push(value);
        per_candidate[c].1.push(fit_time);
    }
    let means: Vec<f64> = per_candidate.iter().map(|(s, _)| mean(s)).collect();
    // Ties go to the earlier candidate, as in scikit-learn.
    let best = (0..means.len()).fold(0, |best, c| if means[c] > means[best] { c } else { best });
    let fitted = model::fit(
        estimator,
        &candidates[best],
        &train_x,
        train_labels.target(),
        spec.seed,
    )?;
    let (predicted, probability) = model::predict(&fitted, &pick_rows(&prepared.x, &test))?;
    let held_out = score(&prepared.labels, &test, &predicted, probability.as_deref());
    let table = cv_table(&spec.param_grid, &candidates, &per_candidate, &means)?;
    let best_params = candidates[best].clone();
    let artifact = artifact(
        spec,
        &frame,
        prepared,
        fitted,
        held_out.clone(),
        best_params.clone(),
        owner,
    );
    let summary = json!({
        "model_id": artifact.info.id,
        "best_params": best_params,
        "best_score": means[best],
        "scoring": scoring,
        "metrics": held_out,
    });
    Ok(Outcome {
        rows: table,
        summary,
        artifact: Some(artifact),
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
    scored: &[(Vec<f64>, Vec<f64>)],
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
    let stds: Vec<f64> = scored.iter().map(|(s, _)| std(s)).collect();
    let fit_times: Vec<f64> = scored.iter().map(|(_, t)| mean(t)).collect();
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

impl Artifact {
    pub fn to_json(&self) -> Result<Vec<u8>, MlError> {
        serde_json::to_vec(self).map_err(|e| MlError::Artifact(e.to_string()))
    }

    pub fn from_json(bytes: &[u8]) -> Result<Artifact, MlError> {
        serde_json::from_slice(bytes).map_err(|e| MlError::Artifact(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_keeps_class_shares() {
        let classes: Vec<i64> = (0..1000).map(|i| i64::from(i % 10 == 0)).collect();
        let (train, test) = split(1000, Some(&classes), 0.2, 7);
        assert_eq!(train.len() + test.len(), 1000);
        assert_eq!(test.len(), 200);
        let positives = test.iter().filter(|&&i| classes[i as usize] == 1).count();
        assert_eq!(positives, 20);
        assert_eq!(split(1000, Some(&classes), 0.2, 7).1, test, "seeded");
    }

    #[test]
    fn grid_candidates_vary_the_last_parameter_fastest() {
        let grid: IndexMap<String, Vec<Value>> = [
            ("max_depth".to_string(), vec![json!(2), json!(8)]),
            ("n_estimators".to_string(), vec![json!(20), json!(50)]),
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
