//! Trained models and API keys, as listed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A model trained by an ML job, as `GET /v1/models` lists it. Its weights live in the result
/// store (`models/{id}/model.json`); this record is a row in the `model` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    /// `model_` and 32 hex digits; ids sort by creation time.
    pub id: String,
    /// The tenant that owns it (`default` while no API key exists).
    #[serde(default)]
    pub tenant: String,
    pub estimator: crate::spec::Estimator,
    /// The parameters it was trained with (scikit-learn names).
    #[schema(value_type = Object)]
    pub params: indexmap::IndexMap<String, serde_json::Value>,
    /// The input columns a frame needs for `predict`.
    pub features: Vec<String>,
    pub target: Option<String>,
    /// Class labels in the order of per-class probabilities (classifiers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Held-out scores from training.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// The job that trained it.
    pub job_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// An API key as listed (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub tenant: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
