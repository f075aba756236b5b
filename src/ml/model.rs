//! The estimators: smartcore for linear and logistic regression, k-means and random forests;
//! forust for gradient boosting. Parameters arrive by their scikit-learn names (checked at
//! submission) and default as scikit-learn's do.

use forust_ml::GradientBooster;
use forust_ml::objective::ObjectiveType;
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::tree::decision_tree_classifier::DecisionTreeClassifier;

use super::MlError;
use super::threads::in_parallel;
use crate::gpu::reference::{nearest, squared_distance};
use crate::gpu::regression::Regression;
use crate::spec::Estimator;

type Matrix = DenseMatrix<f64>;
type Clusters = KMeans<f64, i64, Matrix, Vec<i64>>;
type Forest = RandomForestClassifier<f64, i64, Matrix, Vec<i64>>;
type Tree = DecisionTreeClassifier<f64, i64, Matrix, Vec<i64>>;

/// A trained model, serializable into its artifact.
#[derive(Debug, Serialize, Deserialize)]
pub enum Fitted {
    Linear(LinearRegression<f64, f64, Matrix, Vec<f64>>),
    Logistic(LogisticRegression<f64, i64, Matrix, Vec<i64>>),
    Kmeans(Clusters),
    /// k-means fitted on a GPU: its centroids; a row's cluster is the nearest one.
    Centroids(Vec<Vec<f64>>),
    /// Linear regression fitted on a GPU: the intercept, then a coefficient per feature.
    LinearCoefficients(Vec<f64>),
    /// Logistic regression of two classes fitted on a GPU: the intercept, then a coefficient
    /// per feature; class 1's probability is the sigmoid of the score.
    LogisticCoefficients(Vec<f64>),
    ForestClassifier(Forest),
    ForestRegressor(RandomForestRegressor<f64, f64, Matrix, Vec<f64>>),
    /// forust's own JSON; `classifier`: log-loss on 0/1 classes, else squared loss.
    Boosting {
        json: String,
        classifier: bool,
    },
    /// Three or more classes: one log-loss booster per class (one against the rest), in
    /// class order; probabilities are their sigmoids, normalized to sum to 1.
    BoostingClasses {
        json: Vec<String>,
    },
}

/// What a model says about each row.
pub struct Predictions {
    /// Values (regressors), class indices (classifiers) or cluster numbers.
    pub values: Vec<f64>,
    /// Each row's probability of each class, in class order (classifiers that give them).
    pub probabilities: Option<Vec<Vec<f64>>>,
}

impl Predictions {
    fn of_classes(probabilities: Vec<Vec<f64>>) -> Predictions {
        let values = probabilities.iter().map(|p| argmax(p) as f64).collect();
        Predictions {
            values,
            probabilities: Some(probabilities),
        }
    }

    fn values(values: Vec<f64>) -> Predictions {
        Predictions {
            values,
            probabilities: None,
        }
    }
}

/// The first index of the largest value (scikit-learn's tie rule).
fn argmax(p: &[f64]) -> usize {
    (0..p.len()).fold(0, |best, i| if p[i] > p[best] { i } else { best })
}

/// What the model learns to predict.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Numbers(&'a [f64]),
    Classes(&'a [i64]),
    Nothing,
}

/// Estimator parameters with scikit-learn's defaults.
struct Params<'a>(&'a IndexMap<String, Value>);

impl Params<'_> {
    fn int(&self, name: &str, default: usize) -> usize {
        self.0
            .get(name)
            .and_then(Value::as_u64)
            .map_or(default, |v| v as usize)
    }

    fn optional_int(&self, name: &str) -> Option<usize> {
        self.0.get(name).and_then(Value::as_u64).map(|v| v as usize)
    }

    fn float(&self, name: &str, default: f64) -> f64 {
        self.0.get(name).and_then(Value::as_f64).unwrap_or(default)
    }

    fn seed(&self, default: u64) -> u64 {
        self.0
            .get("random_state")
            .and_then(Value::as_u64)
            .unwrap_or(default)
    }
}

/// k-means on a GPU: `n_init` runs (default 10) of at most `max_iter` (300) iterations, each
/// from k-means++ centres chosen on a sample; the run with the lowest inertia wins, as in
/// scikit-learn. Each run is recorded in `fits` with the device.
pub fn kmeans_on(
    device: &dyn crate::gpu::Accelerator,
    params: &IndexMap<String, Value>,
    x: &[Vec<f64>],
    seed: u64,
    fits: &super::Fits,
) -> Result<Fitted, MlError> {
    let p = Params(params);
    let k = p.int("n_clusters", 8).max(1);
    let dims = x.first().map_or(0, Vec::len);
    if x.len() < k || dims == 0 {
        return Err(MlError::Input(format!(
            "k-means with n_clusters {k} needs at least {k} rows with features; got {}",
            x.len()
        )));
    }
    let points: Vec<f64> = x.iter().flatten().copied().collect();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for run in 0..p.int("n_init", 10).max(1) {
        let started_at = chrono::Utc::now();
        let init = kmeans_plus_plus(x, k, p.seed(seed).wrapping_add(run as u64));
        let fit = device
            .kmeans(&points, dims, &init, p.int("max_iter", 300))
            .map_err(|e| MlError::Fit(format!("k-means on {}: {e}", device.info())))?;
        let labels: Vec<i64> = fit.labels.iter().map(|&l| i64::from(l)).collect();
        let inertia = super::metrics::inertia(x, &labels);
        super::search::record(
            fits,
            super::Fit {
                candidate: 0,
                fold: run,
                params: serde_json::to_string(params).unwrap_or_default(),
                started_at,
                ended_at: chrono::Utc::now(),
                device: Some(device.info().to_string()),
            },
        );
        if best.as_ref().is_none_or(|(lowest, _)| inertia < *lowest) {
            best = Some((inertia, fit.centroids));
        }
    }
    let (_, centroids) = best.ok_or_else(|| MlError::Fit("k-means did not run".into()))?;
    Ok(Fitted::Centroids(
        centroids.chunks_exact(dims).map(<[f64]>::to_vec).collect(),
    ))
}

/// Linear regression, or logistic regression of two classes, on a GPU (the sums over the rows
/// on the device, see `gpu::regression`), recorded in `fits` as `candidate`'s fit `fold` (a
/// search's refit is its best candidate's fold one past the last), with the device; `None` where the
/// device does not cover the fit (more classes, collinear features, a device error): the CPU
/// fits it then.
pub fn regression_on(
    device: &dyn crate::gpu::Accelerator,
    estimator: Estimator,
    params: &IndexMap<String, Value>,
    (x, y): (&[Vec<f64>], &Target<'_>),
    (fits, candidate, fold): (&super::Fits, usize, usize),
) -> Option<Fitted> {
    let dims = x.first().map_or(0, Vec::len);
    let (how, targets): (Regression, Vec<f64>) = match (estimator, y) {
        (Estimator::LinearRegression, Target::Numbers(y)) => (Regression::Linear, y.to_vec()),
        (Estimator::LogisticRegression, Target::Classes(y)) if two_classes(y) => {
            let p = Params(params);
            let how = Regression::Logistic {
                l2: 1.0 / p.float("C", 1.0),
                max_iter: NEWTON_STEPS,
            };
            (how, y.iter().map(|&c| c as f64).collect())
        }
        _ => return None,
    };
    let points: Vec<f64> = x.iter().flatten().copied().collect();
    let started_at = chrono::Utc::now();
    let fitted = match device.regression(&points, dims, &targets, how) {
        Ok(fit) => fit.beta,
        Err(error) => {
            tracing::warn!(%error, device = %device.info(), "a regression ran on the CPU instead");
            return None;
        }
    };
    super::search::record(
        fits,
        super::Fit {
            candidate,
            fold,
            params: serde_json::to_string(params).unwrap_or_default(),
            started_at,
            ended_at: chrono::Utc::now(),
            device: Some(device.info().to_string()),
        },
    );
    Some(match how {
        Regression::Linear => Fitted::LinearCoefficients(fitted),
        Regression::Logistic { .. } => Fitted::LogisticCoefficients(fitted),
    })
}

/// Newton steps a device's logistic fit takes at most (it converges in a few dozen at most).
const NEWTON_STEPS: usize = 100;

/// Whether the class indices are 0 and 1, both present.
fn two_classes(y: &[i64]) -> bool {
    y.iter().all(|c| *c <= 1) && y.contains(&0) && y.contains(&1)
}

/// A row's score under coefficients whose first is the intercept.
fn score(beta: &[f64], row: &[f64]) -> f64 {
    beta.first().copied().unwrap_or(0.0)
        + row
            .iter()
            .zip(beta.iter().skip(1))
            .map(|(x, b)| x * b)
            .sum::<f64>()
}

/// Rows k-means++ chooses its centres from: a sample keeps the choice cheap at any size.
const KMEANS_PLUS_PLUS_SAMPLE: usize = 100_000;

/// k-means++ centres (`k × dims`, row-major) from a seeded sample of the rows: the first at
/// random, each next with probability proportional to its squared distance from the nearest
/// centre so far.
fn kmeans_plus_plus(x: &[Vec<f64>], k: usize, seed: u64) -> Vec<f64> {
    let mut rng = super::Rng(seed);
    let step = x.len().div_ceil(KMEANS_PLUS_PLUS_SAMPLE).max(1);
    let offset = (rng.next() % step as u64) as usize;
    let sample: Vec<&Vec<f64>> = x.iter().skip(offset).step_by(step).collect();
    let mut centres: Vec<&Vec<f64>> = vec![sample[(rng.next() % sample.len() as u64) as usize]];
    let mut nearest: Vec<f64> = sample
        .iter()
        .map(|row| squared_distance(row, centres[0]))
        .collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let chosen = if total > 0.0 {
            let mut target = (rng.next() as f64 / u64::MAX as f64) * total;
            nearest
                .iter()
                .position(|&d| {
                    target -= d;
                    target <= 0.0
                })
                .unwrap_or(sample.len() - 1)
        } else {
            (rng.next() % sample.len() as u64) as usize
        };
        let centre = sample[chosen];
        centres.push(centre);
        for (d, row) in nearest.iter_mut().zip(&sample) {
            *d = d.min(squared_distance(row, centre));
        }
    }
    centres.into_iter().flatten().copied().collect()
}

/// A column-major matrix of the rows (as smartcore's `from_2d_vec` lays it out), copied once.
fn matrix(rows: &[Vec<f64>]) -> Result<Matrix, MlError> {
    let cols = rows.first().map_or(0, Vec::len);
    if cols == 0 {
        return Err(MlError::Input("no rows or no features to train on".into()));
    }
    DenseMatrix::new(rows.len(), cols, column_major(rows), true)
        .map_err(|e| MlError::Fit(e.to_string()))
}

fn fit_error(e: impl std::fmt::Display) -> MlError {
    MlError::Fit(e.to_string())
}

fn depth(value: Option<usize>) -> Option<u16> {
    value.map(|d| d.min(u16::MAX as usize) as u16)
}

pub fn fit(
    estimator: Estimator,
    params: &IndexMap<String, Value>,
    x: &[Vec<f64>],
    y: Target<'_>,
    seed: u64,
    threads: usize,
) -> Result<Fitted, MlError> {
    let p = Params(params);
    let m = matrix(x)?;
    let wrong_target = || MlError::Fit(format!("{estimator:?} got the wrong kind of target"));
    Ok(match (estimator, y) {
        (Estimator::LinearRegression, Target::Numbers(y)) => Fitted::Linear(
            LinearRegression::fit(&m, &y.to_vec(), LinearRegressionParameters::default())
                .map_err(fit_error)?,
        ),
        (Estimator::LogisticRegression, Target::Classes(y)) => {
            // scikit-learn's C is the inverse of the L2 penalty.
            let alpha = 1.0 / p.float("C", 1.0);
            let parameters = LogisticRegressionParameters::default().with_alpha(alpha);
            Fitted::Logistic(
                LogisticRegression::fit(&m, &y.to_vec(), parameters).map_err(fit_error)?,
            )
        }
        (Estimator::Kmeans, Target::Nothing) => {
            // As scikit-learn: `n_init` runs from different seeds, the lowest inertia wins.
            let mut best: Option<(f64, Clusters)> = None;
            for run in 0..p.int("n_init", 10).max(1) {
                let parameters = KMeansParameters {
                    k: p.int("n_clusters", 8),
                    max_iter: p.int("max_iter", 300),
                    seed: Some(p.seed(seed).wrapping_add(run as u64)),
                };
                let model: Clusters = KMeans::fit(&m, parameters).map_err(fit_error)?;
                let labels = model.predict(&m).map_err(fit_error)?;
                let inertia = super::metrics::inertia(x, &labels);
                if best.as_ref().is_none_or(|(lowest, _)| inertia < *lowest) {
                    best = Some((inertia, model));
                }
            }
            let (_, model) = best.ok_or_else(|| MlError::Fit("k-means did not run".into()))?;
            Fitted::Kmeans(model)
        }
        (Estimator::RandomForestClassifier, Target::Classes(y)) => {
            let parameters = RandomForestClassifierParameters {
                max_depth: depth(p.optional_int("max_depth")),
                min_samples_split: p.int("min_samples_split", 2),
                min_samples_leaf: p.int("min_samples_leaf", 1),
                ..Default::default()
            };
            let y = y.to_vec();
            let trees = grow(p.int("n_estimators", 100), threads, p.seed(seed), |seed| {
                let one = RandomForestClassifierParameters {
                    n_trees: 1,
                    seed,
                    ..parameters.clone()
                };
                RandomForestClassifier::fit(&m, &y, one).map_err(fit_error)
            })?;
            Fitted::ForestClassifier(joined(trees, "/trees")?)
        }
        (Estimator::RandomForestRegressor, Target::Numbers(y)) => {
            let parameters = RandomForestRegressorParameters {
                max_depth: depth(p.optional_int("max_depth")),
                min_samples_split: p.int("min_samples_split", 2),
                min_samples_leaf: p.int("min_samples_leaf", 1),
                ..Default::default()
            };
            let y = y.to_vec();
            let trees = grow(p.int("n_estimators", 100), threads, p.seed(seed), |seed| {
                let one = RandomForestRegressorParameters {
                    n_trees: 1,
                    seed,
                    ..parameters.clone()
                };
                RandomForestRegressor::fit(&m, &y, one).map_err(fit_error)
            })?;
            Fitted::ForestRegressor(joined(trees, "/forest_regressor/trees")?)
        }
        (Estimator::GradientBoostingClassifier, Target::Classes(y)) => {
            let classes = y.iter().copied().max().map_or(0, |m| m + 1);
            let one_against_rest =
                |class: i64| -> Vec<f64> { y.iter().map(|c| f64::from(*c == class)).collect() };
            if classes <= 2 {
                let json = boosting(&p, x, &one_against_rest(1), ObjectiveType::LogLoss, seed)?;
                Fitted::Boosting {
                    json,
                    classifier: true,
                }
            } else {
                let json = in_parallel(classes as usize, threads, |c| {
                    boosting(
                        &p,
                        x,
                        &one_against_rest(c as i64),
                        ObjectiveType::LogLoss,
                        seed,
                    )
                })?;
                Fitted::BoostingClasses { json }
            }
        }
        (Estimator::GradientBoostingRegressor, Target::Numbers(y)) => Fitted::Boosting {
            json: boosting(&p, x, y, ObjectiveType::SquaredLoss, seed)?,
            classifier: false,
        },
        _ => return Err(wrong_target()),
    })
}

/// A forest's trees, each grown on its own as a forest of one from `seed + i` (the seed
/// smartcore gives tree `i`), `threads` at a time; the same seed grows the same forest on
/// any machine.
fn grow<F: Send>(
    n_trees: usize,
    threads: usize,
    seed: u64,
    one: impl Fn(u64) -> Result<F, MlError> + Sync,
) -> Result<Vec<F>, MlError> {
    in_parallel(n_trees, threads, |i| one(seed.wrapping_add(i as u64)))
}

/// One forest of all the forests' trees. smartcore keeps a forest's trees private but
/// serializes them (at `trees`, a JSON pointer), so they are joined in that form.
fn joined<F: Serialize + DeserializeOwned>(forests: Vec<F>, trees: &str) -> Result<F, MlError> {
    let mut forms = forests
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(fit_error)?;
    let mut all = Vec::new();
    for form in &mut forms {
        match form.pointer_mut(trees).map(Value::take) {
            Some(Value::Array(some)) => all.extend(some),
            _ => return Err(MlError::Fit(format!("a forest without {trees}"))),
        }
    }
    let Some(mut forest) = forms.into_iter().next() else {
        return Err(MlError::Fit("a forest of no trees".into()));
    };
    if let Some(slot) = forest.pointer_mut(trees) {
        *slot = Value::Array(all);
    }
    serde_json::from_value(forest).map_err(fit_error)
}

/// forust wants column-major data.
fn column_major(x: &[Vec<f64>]) -> Vec<f64> {
    let cols = x.first().map_or(0, Vec::len);
    (0..cols)
        .flat_map(|c| x.iter().map(move |row| row[c]))
        .collect()
}

/// One forust booster, as its JSON.
fn boosting(
    p: &Params<'_>,
    x: &[Vec<f64>],
    y: &[f64],
    objective: ObjectiveType,
    seed: u64,
) -> Result<String, MlError> {
    let data = column_major(x);
    let cols = x.first().map_or(0, Vec::len);
    let m = forust_ml::Matrix::new(&data, x.len(), cols);
    let mut booster = GradientBooster::default()
        .set_objective_type(objective)
        .set_iterations(p.int("n_estimators", 100))
        .set_learning_rate(p.float("learning_rate", 0.1) as f32)
        .set_max_depth(p.int("max_depth", 3))
        .set_subsample(p.float("subsample", 1.0) as f32)
        .set_seed(p.seed(seed))
        .set_parallel(false);
    let weights = vec![1.0; y.len()];
    booster.fit(&m, y, &weights, None).map_err(fit_error)?;
    booster.json_dump().map_err(fit_error)
}

/// A booster's raw scores (log-odds for log loss).
fn boosted(json: &str, x: &[Vec<f64>]) -> Result<Vec<f64>, MlError> {
    let booster = GradientBooster::from_json(json).map_err(fit_error)?;
    let data = column_major(x);
    let cols = x.first().map_or(0, Vec::len);
    Ok(booster.predict(&forust_ml::Matrix::new(&data, x.len(), cols), false))
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

pub fn predict(model: &Fitted, x: &[Vec<f64>]) -> Result<Predictions, MlError> {
    let m = matrix(x)?;
    let ints = |v: Vec<i64>| v.into_iter().map(|c| c as f64).collect::<Vec<f64>>();
    Ok(match model {
        Fitted::Linear(model) => Predictions::values(model.predict(&m).map_err(fit_error)?),
        Fitted::Logistic(model) => Predictions {
            values: ints(model.predict(&m).map_err(fit_error)?),
            probabilities: Some(logistic_probabilities(model, x)),
        },
        Fitted::Kmeans(model) => Predictions::values(ints(model.predict(&m).map_err(fit_error)?)),
        Fitted::LinearCoefficients(beta) => {
            Predictions::values(x.iter().map(|row| score(beta, row)).collect())
        }
        Fitted::LogisticCoefficients(beta) => Predictions::of_classes(
            x.iter()
                .map(|row| {
                    let p = sigmoid(score(beta, row));
                    vec![1.0 - p, p]
                })
                .collect(),
        ),
        Fitted::Centroids(centroids) => {
            let flat = centroids.concat();
            let dims = centroids.first().map_or(0, Vec::len);
            Predictions::values(
                x.iter()
                    .map(|row| f64::from(nearest(row, &flat, dims)))
                    .collect(),
            )
        }
        Fitted::ForestClassifier(model) => {
            let votes = forest_probabilities(model, &m)?;
            let values = ints(model.predict(&m).map_err(fit_error)?);
            Predictions {
                values,
                probabilities: Some(votes),
            }
        }
        Fitted::ForestRegressor(model) => {
            Predictions::values(model.predict(&m).map_err(fit_error)?)
        }
        Fitted::Boosting { json, classifier } => {
            let raw = boosted(json, x)?;
            if *classifier {
                Predictions::of_classes(
                    raw.into_iter()
                        .map(|z| {
                            let p = sigmoid(z);
                            vec![1.0 - p, p]
                        })
                        .collect(),
                )
            } else {
                Predictions::values(raw)
            }
        }
        Fitted::BoostingClasses { json } => {
            let per_class = json
                .iter()
                .map(|j| boosted(j, x))
                .collect::<Result<Vec<_>, _>>()?;
            let rows = (0..x.len())
                .map(|row| {
                    let p: Vec<f64> = per_class.iter().map(|s| sigmoid(s[row])).collect();
                    let total = p.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                    p.into_iter().map(|v| v / total).collect()
                })
                .collect();
            Predictions::of_classes(rows)
        }
    })
}

/// Each class's share of the forest's votes, as a forest's `predict_proba` with fully grown
/// trees gives. smartcore keeps the trees private but serializes them, so they are read back
/// from the model's own serde form.
fn forest_probabilities(model: &Forest, m: &Matrix) -> Result<Vec<Vec<f64>>, MlError> {
    let mut form = serde_json::to_value(model).map_err(fit_error)?;
    let n_classes = form["classes"].as_array().map_or(0, Vec::len);
    let trees: Vec<Value> = serde_json::from_value(form["trees"].take()).map_err(fit_error)?;
    let n = trees.len().max(1) as f64;
    let mut votes = vec![vec![0.0; n_classes]; m.shape().0];
    for form in trees {
        // A tree knows only the classes its bootstrap sample had; they are class indices.
        let columns: Vec<Option<usize>> = form["classes"]
            .as_array()
            .map(|classes| {
                classes
                    .iter()
                    .map(|c| c.as_u64().map(|c| c as usize).filter(|c| *c < n_classes))
                    .collect()
            })
            .unwrap_or_default();
        let tree: Tree = serde_json::from_value(form).map_err(fit_error)?;
        let p = tree.predict_proba(m).map_err(fit_error)?;
        for (row, vote) in votes.iter_mut().enumerate() {
            for (column, class) in columns.iter().enumerate() {
                if let Some(class) = class {
                    vote[*class] += p.get((row, column));
                }
            }
        }
    }
    for vote in &mut votes {
        vote.iter_mut().for_each(|v| *v = (*v / n).clamp(0.0, 1.0));
    }
    Ok(votes)
}

/// Class probabilities of a logistic model from its coefficients: the sigmoid for two
/// classes, the softmax over the classes' scores for more.
fn logistic_probabilities(
    model: &LogisticRegression<f64, i64, Matrix, Vec<i64>>,
    x: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let coefficients = model.coefficients();
    let intercept = model.intercept();
    let (k, cols) = coefficients.shape();
    let score = |class: usize, row: &[f64]| -> f64 {
        (0..cols)
            .map(|j| coefficients.get((class, j)) * row[j])
            .sum::<f64>()
            + *intercept.get((class, 0))
    };
    x.iter()
        .map(|row| {
            if k == 1 {
                let p = sigmoid(score(0, row));
                return vec![1.0 - p, p];
            }
            let scores: Vec<f64> = (0..k).map(|c| score(c, row)).collect();
            let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exp: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
            let total: f64 = exp.iter().sum();
            exp.into_iter().map(|e| e / total).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two far-apart pairs of points.
    fn pairs() -> Vec<Vec<f64>> {
        vec![
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![100.0, 100.0],
            vec![100.0, 101.0],
        ]
    }

    #[test]
    fn kmeans_plus_plus_is_seeded_and_picks_rows() {
        let x = pairs();
        let a = kmeans_plus_plus(&x, 2, 7);
        assert_eq!(a, kmeans_plus_plus(&x, 2, 7));
        for centre in a.chunks_exact(2) {
            assert!(x.iter().any(|row| row.as_slice() == centre), "{centre:?}");
        }
        // The second centre is drawn by squared distance: from the other pair, whichever seed.
        for seed in 0..20 {
            let c = kmeans_plus_plus(&x, 2, seed);
            assert!((c[0] - c[2]).abs() > 50.0, "seed {seed}: {c:?}");
        }
    }

    #[test]
    fn a_centroids_model_predicts_the_nearest() {
        let fitted = Fitted::Centroids(vec![vec![0.0, 0.5], vec![100.0, 100.5]]);
        let predicted = predict(&fitted, &pairs()).unwrap().values;
        assert_eq!(predicted, vec![0.0, 0.0, 1.0, 1.0]);
    }

    /// Rows in two noisy classes by the sum of their features, and numbers the same way.
    fn noisy(n: usize) -> (Vec<Vec<f64>>, Vec<i64>, Vec<f64>) {
        let x: Vec<Vec<f64>> = (0..n)
            .map(|i| vec![(i * 7 % 13) as f64, (i * 5 % 11) as f64, (i % 3) as f64])
            .collect();
        let sum = |row: &Vec<f64>| row.iter().sum::<f64>();
        let classes = x
            .iter()
            .enumerate()
            .map(|(i, r)| i64::from((sum(r) + (i % 4) as f64) > 14.0))
            .collect();
        let numbers = x
            .iter()
            .enumerate()
            .map(|(i, r)| sum(r) + (i % 5) as f64)
            .collect();
        (x, classes, numbers)
    }

    #[test]
    fn a_forest_has_every_tree_and_its_seed_alone_decides_it() {
        let (x, classes, numbers) = noisy(300);
        let params: IndexMap<String, Value> = [("n_estimators".to_string(), Value::from(9))]
            .into_iter()
            .collect();
        let forest = |estimator, y: Target<'_>, seed, threads| {
            let fitted = fit(estimator, &params, &x, y, seed, threads).unwrap();
            serde_json::to_value(&fitted).unwrap()
        };
        for (estimator, y, trees) in [
            (
                Estimator::RandomForestClassifier,
                Target::Classes(&classes),
                "/ForestClassifier/trees",
            ),
            (
                Estimator::RandomForestRegressor,
                Target::Numbers(&numbers),
                "/ForestRegressor/forest_regressor/trees",
            ),
        ] {
            let one = forest(estimator, y, 3, 1);
            assert_eq!(
                one.pointer(trees).and_then(Value::as_array).map(Vec::len),
                Some(9),
                "{estimator:?}"
            );
            assert_eq!(
                one,
                forest(estimator, y, 3, 4),
                "{estimator:?}: threads changed the forest"
            );
            assert_ne!(
                one,
                forest(estimator, y, 4, 1),
                "{estimator:?}: the seed changed nothing"
            );
        }
        // The joined forest predicts as one: every row's votes sum to 1, and it learned.
        let fitted = fit(
            Estimator::RandomForestClassifier,
            &params,
            &x,
            Target::Classes(&classes),
            3,
            2,
        )
        .unwrap();
        let predicted = predict(&fitted, &x).unwrap();
        for p in predicted.probabilities.as_ref().unwrap() {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{p:?}");
        }
        let right = predicted
            .values
            .iter()
            .zip(&classes)
            .filter(|(p, c)| **p == **c as f64)
            .count();
        let ones = classes.iter().filter(|c| **c == 1).count();
        let guess = ones.max(classes.len() - ones);
        assert!(
            right > guess + 30,
            "{right} of 300 training rows, {guess} by the commoner class"
        );
    }
}
