//! The estimators: smartcore for linear and logistic regression, k-means and random forests;
//! forust for gradient boosting. Parameters arrive by their scikit-learn names (checked at
//! submission) and default as scikit-learn's do.

use forust_ml::GradientBooster;
use forust_ml::objective::ObjectiveType;
use indexmap::IndexMap;
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
                n_trees: p.int("n_estimators", 100).min(u16::MAX as usize) as u16,
                max_depth: depth(p.optional_int("max_depth")),
                min_samples_split: p.int("min_samples_split", 2),
                min_samples_leaf: p.int("min_samples_leaf", 1),
                seed: p.seed(seed),
                ..Default::default()
            };
            Fitted::ForestClassifier(
                RandomForestClassifier::fit(&m, &y.to_vec(), parameters).map_err(fit_error)?,
            )
        }
        (Estimator::RandomForestRegressor, Target::Numbers(y)) => {
            let parameters = RandomForestRegressorParameters {
                n_trees: p.int("n_estimators", 100),
                max_depth: depth(p.optional_int("max_depth")),
                min_samples_split: p.int("min_samples_split", 2),
                min_samples_leaf: p.int("min_samples_leaf", 1),
                seed: p.seed(seed),
                ..Default::default()
            };
            Fitted::ForestRegressor(
                RandomForestRegressor::fit(&m, &y.to_vec(), parameters).map_err(fit_error)?,
            )
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
                let json = (0..classes)
                    .map(|c| boosting(&p, x, &one_against_rest(c), ObjectiveType::LogLoss, seed))
                    .collect::<Result<_, _>>()?;
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
}
