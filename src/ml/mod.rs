//! Dask-ML-style jobs on the pipeline's output: `fit` (seeded split, stratified for
//! classifiers), `grid_search` (candidates × folds on the engine's threads, best refit) and
//! `predict` with a stored model, batch by batch. Training data must fit in memory: frames
//! beyond [`MAX_ROWS`] rows are refused unless the spec asks for a `sample` (see `collect`).

mod collect;
mod data;
mod metrics;
mod model;
mod search;
mod threads;

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use chrono::Utc;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use collect::Collector;
use collect::take_rows;
pub use data::Encoding;
pub use metrics::Metrics;
use model::{Fitted, Predictions, Target};
pub use search::{Fit, Fits, Pool};

use crate::domain::{MlSummary, ModelInfo};
use crate::spec::{Estimator, Kind, MlSpec, MlTask, SpecError};

pub use crate::spec::MAX_TRAINING_ROWS as MAX_ROWS;

#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The data does not suit the task (nulls, non-numeric features, too many rows).
    #[error("{0}")]
    Input(String),
    #[error("training failed: {0}")]
    Fit(String),
    #[error("cannot read or write the model: {0}")]
    Artifact(String),
    /// The job was cancelled or timed out while training.
    #[error("the job was abandoned while training")]
    Abandoned,
}

/// A model and all it needs to predict.
#[derive(Debug, Serialize, Deserialize)]
pub struct Artifact {
    pub info: ModelInfo,
    encoding: Encoding,
    /// Class labels as text, in index order (classifiers). The same as `info.classes`, kept
    /// because models saved before the record had classes carry them only here.
    classes: Vec<String>,
    /// The target's Arrow type (as text), so predictions come back as the same type.
    target_type: Option<String>,
    fitted: Fitted,
}

/// A finished training task: the rows it returns, `result.ml`, and the model it trained.
pub struct Outcome {
    pub rows: RecordBatch,
    pub summary: MlSummary,
    pub artifact: Artifact,
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

/// Trains (`fit` or `grid_search`) on the whole frame, as [`Collector`] gathered it.
/// CPU-bound: call it from a blocking thread; grid-search fits go to `pool`.
pub fn train(
    spec: &MlSpec,
    frame: RecordBatch,
    owner: Owner,
    pool: &Pool,
) -> Result<Outcome, MlError> {
    match spec.task {
        MlTask::Fit => fit(spec, frame, owner, pool),
        MlTask::GridSearch => search::grid_search(spec, frame, owner, pool),
        MlTask::Predict => Err(MlError::Input(
            "predict runs batch by batch (ml::predict)".into(),
        )),
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

/// Copies of the feature matrix training may hold at once: every row's features, the
/// training rows, the estimator's matrix and the folds' or trees' working copies.
const MATRIX_COPIES: usize = 5;

/// `labels` are the whole frame's, already read for the split. Refuses a feature matrix
/// that would not fit in `memory` bytes before building it.
fn prepare(
    spec: &MlSpec,
    frame: &RecordBatch,
    rows: &[u32],
    labels: Labels,
    memory: usize,
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
    let width = encoding.width();
    let needed = frame
        .num_rows()
        .saturating_mul(width * 8 + 24)
        .saturating_mul(MATRIX_COPIES);
    if needed > memory {
        return Err(MlError::Input(format!(
            "training on {} rows × {width} features (after one-hot encoding) needs about \
             {needed} bytes; ML jobs may use {memory} (half the memory limit): sample fewer \
             rows, or select or one-hot encode fewer columns",
            frame.num_rows()
        )));
    }
    let x = encoding.rows(frame)?;
    Ok(Prepared {
        estimator,
        encoding,
        x,
        labels,
    })
}

/// Scores predictions for `rows` of the frame whose labels are `labels`.
fn score(labels: &Labels, rows: &[u32], predictions: &Predictions) -> Metrics {
    let predicted = &predictions.values;
    match labels {
        Labels::Numbers(y) => metrics::regression(&pick(y, rows), predicted),
        Labels::Classes { indices, classes } => {
            let predicted: Vec<i64> = predicted.iter().map(|p| *p as i64).collect();
            metrics::classification(
                &pick(indices, rows),
                &predicted,
                classes.len(),
                predictions.probabilities.as_deref(),
            )
        }
        Labels::Nothing => Metrics::new(),
    }
}

fn fit(spec: &MlSpec, frame: RecordBatch, owner: Owner, pool: &Pool) -> Result<Outcome, MlError> {
    let memory = pool.memory;
    let all: Vec<u32> = (0..frame.num_rows() as u32).collect();
    let estimator = spec.estimator.unwrap_or(Estimator::LinearRegression);
    if estimator.kind() == Kind::Clusterer {
        return fit_clusters(spec, frame, owner, &all, pool);
    }
    let labels = Labels::of(estimator.kind(), &frame, spec.target.as_ref())?;
    let strata = match &labels {
        Labels::Classes { indices, .. } => Some(indices.as_slice()),
        _ => None,
    };
    let (train, test) = split(frame.num_rows(), strata, spec.test_size, spec.seed);
    let prepared = prepare(spec, &frame, &train, labels, memory)?;
    let (x, y) = (
        pick_rows(&prepared.x, &train),
        target_rows(&prepared.labels, &train),
    );
    let on_device = pool.device.as_ref().and_then(|device| {
        let (estimator, params) = (prepared.estimator, &spec.params);
        let rows = (x.as_slice(), &y.target());
        model::regression_on(device.as_ref(), estimator, params, rows, (&pool.fits, 0, 0))
    });
    let fitted = match on_device {
        Some(fitted) => fitted,
        None => model::fit(
            prepared.estimator,
            &spec.params,
            &x,
            y.target(),
            spec.seed,
            pool.threads(),
        )?,
    };
    let predictions = model::predict(&fitted, &pick_rows(&prepared.x, &test))?;
    let scores = score(&prepared.labels, &test, &predictions);
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
        &predictions,
    )?;
    let summary = MlSummary::fitted(&artifact.info.id, scores, spec.params.clone());
    Ok(Outcome {
        rows,
        summary,
        artifact,
    })
}

fn fit_clusters(
    spec: &MlSpec,
    frame: RecordBatch,
    owner: Owner,
    all: &[u32],
    pool: &Pool,
) -> Result<Outcome, MlError> {
    let prepared = prepare(spec, &frame, all, Labels::Nothing, pool.memory)?;
    let fitted = match &pool.device {
        Some(device) if prepared.estimator == Estimator::Kmeans => model::kmeans_on(
            device.as_ref(),
            &spec.params,
            &prepared.x,
            spec.seed,
            &pool.fits,
        )?,
        _ => model::fit(
            prepared.estimator,
            &spec.params,
            &prepared.x,
            Target::Nothing,
            spec.seed,
            pool.threads(),
        )?,
    };
    let clusters = model::predict(&fitted, &prepared.x)?.values;
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
    let summary = MlSummary::fitted(&artifact.info.id, scores, spec.params.clone());
    Ok(Outcome {
        rows,
        summary,
        artifact,
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
            classes: classes.clone(),
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

impl Artifact {
    /// The type predictions come back as: the target's for classifiers (its labels).
    fn prediction_type(&self) -> DataType {
        match self.info.estimator.kind() {
            Kind::Classifier => match self.target_type.as_deref().map(DataType::from_str) {
                Some(Ok(t)) => t,
                _ => DataType::Utf8,
            },
            Kind::Clusterer => DataType::Int64,
            Kind::Regressor => DataType::Float64,
        }
    }

    /// What `predict` adds to a frame: `prediction` (`cluster` for k-means), and
    /// `probability` for classifiers.
    fn added_fields(&self) -> Vec<Field> {
        let kind = self.info.estimator.kind();
        let name = if kind == Kind::Clusterer {
            "cluster"
        } else {
            "prediction"
        };
        let mut fields = vec![Field::new(name, self.prediction_type(), true)];
        if kind == Kind::Classifier {
            fields.push(Field::new("probability", DataType::Float64, true));
        }
        fields
    }

    /// The schema of `predict`'s output for input rows of `input`.
    pub fn predicted_schema(&self, input: &Schema) -> Arc<Schema> {
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.extend(self.added_fields());
        Arc::new(Schema::new(fields))
    }
}

/// `frame` plus `prediction` (as the target's type) and, for classifiers, `probability`: of
/// class 1 with two classes (`predict_proba[:, 1]`), else of the predicted class
/// (`predict_proba.max(axis=1)`).
fn with_predictions(
    frame: &RecordBatch,
    model: &Artifact,
    predictions: &Predictions,
) -> Result<RecordBatch, MlError> {
    let input_error = |e: arrow::error::ArrowError| MlError::Input(e.to_string());
    let predicted = &predictions.values;
    let mut columns = frame.columns().to_vec();
    columns.push(match model.info.estimator.kind() {
        Kind::Classifier => {
            let labels: Vec<&str> = predicted
                .iter()
                .map(|p| model.classes.get(*p as usize).map_or("", String::as_str))
                .collect();
            let text: ArrayRef = Arc::new(StringArray::from(labels));
            cast(&text, &model.prediction_type()).map_err(input_error)?
        }
        Kind::Clusterer => Arc::new(arrow::array::Int64Array::from(
            predicted.iter().map(|p| *p as i64).collect::<Vec<_>>(),
        )),
        Kind::Regressor => Arc::new(Float64Array::from(predicted.to_vec())),
    });
    if model.info.estimator.kind() == Kind::Classifier {
        let shown: Vec<Option<f64>> = match &predictions.probabilities {
            Some(probabilities) => probabilities
                .iter()
                .zip(predicted)
                .map(|(p, class)| match p.len() {
                    2 => Some(p[1]),
                    _ => p.get(*class as usize).copied(),
                })
                .collect(),
            None => vec![None; predicted.len()],
        };
        columns.push(Arc::new(Float64Array::from(shown)));
    }
    RecordBatch::try_new(model.predicted_schema(&frame.schema()), columns).map_err(input_error)
}

/// Applies a stored model to one batch of the pipeline's output: the batch plus
/// `prediction` (and `probability`), as [`Artifact::predicted_schema`] says.
pub fn predict(model: &Artifact, batch: &RecordBatch) -> Result<RecordBatch, MlError> {
    if batch.num_rows() == 0 {
        return Ok(RecordBatch::new_empty(
            model.predicted_schema(&batch.schema()),
        ));
    }
    let x = model.encoding.rows(batch)?;
    let predictions = model::predict(&model.fitted, &x)?;
    with_predictions(batch, model, &predictions)
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
}
