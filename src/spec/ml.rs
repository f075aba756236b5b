//! The `ml` block: train, tune or apply a model on the pipeline's output, with scikit-learn's
//! estimator and parameter names.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validate::SpecError;

/// The most rows a model trains on (in memory); larger frames need `sample`.
pub const MAX_TRAINING_ROWS: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MlSpec {
    pub task: MlTask,
    /// Required for `fit` and `grid_search`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimator: Option<Estimator>,
    /// The column to predict (not for `kmeans`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Input columns; default every column but the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Share of rows held out for scoring, 0.05–0.5.
    #[serde(default = "default_test_size")]
    #[schema(default = 0.25)]
    pub test_size: f64,
    /// Seeds the split, the folds and the estimators' randomness.
    #[serde(default)]
    pub seed: u64,
    /// Estimator parameters by their scikit-learn names, e.g. `{"n_estimators": 100}`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schema(value_type = Object)]
    pub params: IndexMap<String, serde_json::Value>,
    /// `grid_search`: parameter name → the values to try.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schema(value_type = Object)]
    pub param_grid: IndexMap<String, Vec<serde_json::Value>>,
    /// `grid_search`: folds, 2–20.
    #[serde(default = "default_cv")]
    #[schema(default = 3)]
    pub cv: usize,
    /// `grid_search`: what "best" means; default accuracy (classifiers), r2 (regressors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<Scoring>,
    #[serde(default, skip_serializing_if = "Preprocess::is_empty")]
    pub preprocess: Preprocess,
    /// `predict`: the `model_id` of a model trained earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Train on a seeded random sample of this many rows when the frame is larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
}

fn default_test_size() -> f64 {
    0.25
}

fn default_cv() -> usize {
    3
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MlTask {
    Fit,
    GridSearch,
    Predict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    LinearRegression,
    LogisticRegression,
    Kmeans,
    RandomForestClassifier,
    RandomForestRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
}

/// What an estimator predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Classifier,
    Regressor,
    Clusterer,
}

/// A parameter's accepted values.
#[derive(Debug, Clone, Copy)]
enum ParamType {
    /// An integer from the bound up.
    Int(i64),
    /// A number above zero.
    Positive,
    /// A number in (0, 1].
    Fraction,
    /// An integer, or null for "no limit".
    IntOrNull(i64),
}

impl Estimator {
    pub fn kind(self) -> Kind {
        match self {
            Estimator::LinearRegression
            | Estimator::RandomForestRegressor
            | Estimator::GradientBoostingRegressor => Kind::Regressor,
            Estimator::LogisticRegression
            | Estimator::RandomForestClassifier
            | Estimator::GradientBoostingClassifier => Kind::Classifier,
            Estimator::Kmeans => Kind::Clusterer,
        }
    }

    /// The scikit-learn parameters Rusk understands for this estimator.
    fn params(self) -> &'static [(&'static str, ParamType)] {
        use ParamType::*;
        match self {
            Estimator::LinearRegression => &[],
            Estimator::LogisticRegression => &[("C", Positive)],
            Estimator::Kmeans => &[
                ("n_clusters", Int(2)),
                ("n_init", Int(1)),
                ("max_iter", Int(1)),
                ("random_state", Int(0)),
            ],
            Estimator::RandomForestClassifier | Estimator::RandomForestRegressor => &[
                ("n_estimators", Int(1)),
                ("max_depth", IntOrNull(1)),
                ("min_samples_split", Int(2)),
                ("min_samples_leaf", Int(1)),
                ("random_state", Int(0)),
            ],
            Estimator::GradientBoostingClassifier | Estimator::GradientBoostingRegressor => &[
                ("n_estimators", Int(1)),
                ("learning_rate", Positive),
                ("max_depth", Int(1)),
                ("subsample", Fraction),
                ("random_state", Int(0)),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    Accuracy,
    F1,
    RocAuc,
    R2,
    NegMeanSquaredError,
    NegMeanAbsoluteError,
}

impl Scoring {
    fn for_kind(self) -> Kind {
        match self {
            Scoring::Accuracy | Scoring::F1 | Scoring::RocAuc => Kind::Classifier,
            Scoring::R2 | Scoring::NegMeanSquaredError | Scoring::NegMeanAbsoluteError => {
                Kind::Regressor
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preprocess {
    /// Standardize numeric features (mean 0, variance 1), as `StandardScaler`.
    #[serde(default)]
    pub scale: bool,
    /// String columns to one-hot encode, as `OneHotEncoder` (unknown values: all zeros).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_hot: Vec<String>,
}

impl Preprocess {
    pub fn is_empty(&self) -> bool {
        !self.scale && self.one_hot.is_empty()
    }
}

type Check = Result<(), SpecError>;

fn invalid(field: &str, message: impl Into<String>) -> SpecError {
    SpecError::invalid(format!("ml.{field}"), message)
}

impl MlSpec {
    /// Checks that need no data: task and estimator agree, parameters are known and typed.
    pub fn validate(&self) -> Check {
        match (self.task, self.estimator, &self.model) {
            (MlTask::Predict, _, None) => {
                return Err(invalid("model", "`predict` needs the `model` id to apply"));
            }
            (MlTask::Predict, Some(_), _) => {
                return Err(invalid(
                    "estimator",
                    "`predict` takes the estimator from the model; leave `estimator` out",
                ));
            }
            (MlTask::Fit | MlTask::GridSearch, None, _) => {
                return Err(invalid(
                    "estimator",
                    "expected one of linear_regression, logistic_regression, kmeans, \
                     random_forest_classifier, random_forest_regressor, \
                     gradient_boosting_classifier, gradient_boosting_regressor",
                ));
            }
            (MlTask::Fit | MlTask::GridSearch, Some(_), Some(_)) => {
                return Err(invalid("model", "`model` is for `predict` only"));
            }
            _ => {}
        }
        if !(0.05..=0.5).contains(&self.test_size) {
            return Err(invalid("test_size", "expected 0.05 to 0.5"));
        }
        if let Some(estimator) = self.estimator {
            self.check_estimator(estimator)?;
        }
        match (self.task, self.sample) {
            (MlTask::Predict, Some(_)) => {
                return Err(invalid(
                    "sample",
                    "`sample` is for training; `predict` scores every row",
                ));
            }
            (_, Some(n)) if !(1..=MAX_TRAINING_ROWS).contains(&n) => {
                return Err(invalid(
                    "sample",
                    format!("expected 1 to {MAX_TRAINING_ROWS} rows"),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn check_estimator(&self, estimator: Estimator) -> Check {
        let kind = estimator.kind();
        match (kind, &self.target) {
            (Kind::Clusterer, Some(_)) => {
                return Err(invalid("target", "k-means has no target; leave it out"));
            }
            (Kind::Classifier | Kind::Regressor, None) => {
                return Err(invalid("target", "expected the column to predict"));
            }
            _ => {}
        }
        for (name, value) in &self.params {
            check_param(estimator, &format!("params.{name}"), name, value)?;
        }
        match self.task {
            MlTask::GridSearch => {
                if self.param_grid.is_empty() {
                    return Err(invalid(
                        "param_grid",
                        "expected parameter names with lists of values to try",
                    ));
                }
                for (name, values) in &self.param_grid {
                    if values.is_empty() {
                        return Err(invalid(&format!("param_grid.{name}"), "no values"));
                    }
                    for (i, value) in values.iter().enumerate() {
                        check_param(estimator, &format!("param_grid.{name}[{i}]"), name, value)?;
                    }
                }
                let candidates: usize = self.param_grid.values().map(Vec::len).product();
                if candidates > 256 {
                    return Err(invalid(
                        "param_grid",
                        format!("{candidates} candidates; at most 256"),
                    ));
                }
                if !(2..=20).contains(&self.cv) {
                    return Err(invalid("cv", "expected 2 to 20 folds"));
                }
                if kind == Kind::Clusterer {
                    return Err(invalid(
                        "task",
                        "grid search needs a classifier or regressor",
                    ));
                }
            }
            _ if !self.param_grid.is_empty() => {
                return Err(invalid(
                    "param_grid",
                    "`param_grid` is for `grid_search` only",
                ));
            }
            _ => {}
        }
        if let Some(scoring) = self.scoring
            && scoring.for_kind() != kind
        {
            return Err(invalid(
                "scoring",
                format!("{scoring:?} does not score this estimator"),
            ));
        }
        Ok(())
    }
}

fn check_param(estimator: Estimator, field: &str, name: &str, value: &serde_json::Value) -> Check {
    let Some((_, kind)) = estimator.params().iter().find(|(n, _)| *n == name) else {
        let known: Vec<&str> = estimator.params().iter().map(|(n, _)| *n).collect();
        return Err(invalid(
            field,
            format!("unknown parameter {name:?} for {estimator:?}; known: {known:?}"),
        ));
    };
    let ok = match (kind, value) {
        (ParamType::IntOrNull(_), serde_json::Value::Null) => true,
        (ParamType::Int(min) | ParamType::IntOrNull(min), v) => {
            v.as_i64().is_some_and(|n| n >= *min && n <= 1_000_000)
        }
        (ParamType::Positive, v) => v.as_f64().is_some_and(|x| x > 0.0 && x.is_finite()),
        (ParamType::Fraction, v) => v.as_f64().is_some_and(|x| x > 0.0 && x <= 1.0),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        ParamType::Int(min) => format!("an integer of at least {min}"),
        ParamType::IntOrNull(min) => format!("null or an integer of at least {min}"),
        ParamType::Positive => "a number above 0".into(),
        ParamType::Fraction => "a number in (0, 1]".into(),
    };
    Err(invalid(field, format!("expected {expected}, got {value}")))
}
