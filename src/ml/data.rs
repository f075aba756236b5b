//! From Arrow columns to the numbers estimators take: numeric features as `f64` (optionally
//! standardized), string features one-hot encoded, targets as numbers or class indices. The
//! encoding is fitted on training rows and kept with the model, so `predict` applies the same.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use super::MlError;

/// One input column as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Feature {
    /// A number; `scale` = (mean, standard deviation) when standardized.
    Numeric {
        name: String,
        scale: Option<(f64, f64)>,
    },
    /// A string column as one 0/1 column per category seen in training.
    OneHot {
        name: String,
        categories: Vec<String>,
    },
}

/// How rows become feature vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub features: Vec<Feature>,
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, MlError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| MlError::Input(format!("the frame has no column {name:?}")))
}

/// A column as `f64`s; nulls (and values that are not numbers) are an error naming it.
pub fn numbers(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, MlError> {
    let array = column(batch, name)?;
    if !is_numeric(array.data_type()) {
        return Err(MlError::Input(format!(
            "column {name:?} is {}, not numeric; one-hot encode it with preprocess.one_hot",
            array.data_type()
        )));
    }
    if array.null_count() > 0 {
        return Err(MlError::Input(format!(
            "column {name:?} has {} nulls; drop or fill them first (dropna, fillna)",
            array.null_count()
        )));
    }
    let floats = cast(array, &DataType::Float64).map_err(|e| MlError::Input(e.to_string()))?;
    Ok(floats.as_primitive::<Float64Type>().values().to_vec())
}

/// A column as strings (for class labels and one-hot columns); nulls are an error.
pub fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<String>, MlError> {
    let array = column(batch, name)?;
    if array.null_count() > 0 {
        return Err(MlError::Input(format!(
            "column {name:?} has {} nulls; drop or fill them first (dropna, fillna)",
            array.null_count()
        )));
    }
    let text = cast(array, &DataType::Utf8).map_err(|e| MlError::Input(e.to_string()))?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

pub fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_numeric() || matches!(data_type, DataType::Boolean)
}

impl Encoding {
    /// Learns categories and scales from the training rows.
    pub fn fit(
        batch: &RecordBatch,
        names: &[String],
        one_hot: &[String],
        scale: bool,
    ) -> Result<Encoding, MlError> {
        let mut features = Vec::with_capacity(names.len());
        for name in names {
            if one_hot.contains(name) {
                let mut categories = strings(batch, name)?;
                categories.sort();
                categories.dedup();
                features.push(Feature::OneHot {
                    name: name.clone(),
                    categories,
                });
            } else {
                let values = numbers(batch, name)?;
                let scale = scale.then(|| mean_std(&values));
                features.push(Feature::Numeric {
                    name: name.clone(),
                    scale,
                });
            }
        }
        Ok(Encoding { features })
    }

    /// The input columns the encoding reads.
    pub fn inputs(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(|f| match f {
                Feature::Numeric { name, .. } | Feature::OneHot { name, .. } => name.as_str(),
            })
            .collect()
    }

    /// Numbers per row: one per numeric feature, one per category of a one-hot feature.
    pub fn width(&self) -> usize {
        self.features
            .iter()
            .map(|f| match f {
                Feature::Numeric { .. } => 1,
                Feature::OneHot { categories, .. } => categories.len(),
            })
            .sum()
    }

    /// Rows of features, one `Vec` per row.
    pub fn rows(&self, batch: &RecordBatch) -> Result<Vec<Vec<f64>>, MlError> {
        let width = self.width();
        let mut rows = vec![Vec::with_capacity(width); batch.num_rows()];
        for feature in &self.features {
            match feature {
                Feature::Numeric { name, scale } => {
                    for (row, x) in rows.iter_mut().zip(numbers(batch, name)?) {
                        row.push(match scale {
                            Some((mean, std)) => (x - mean) / std,
                            None => x,
                        });
                    }
                }
                Feature::OneHot { name, categories } => {
                    for (row, value) in rows.iter_mut().zip(strings(batch, name)?) {
                        let hot = categories.binary_search(&value).ok();
                        row.extend((0..categories.len()).map(|i| f64::from(hot == Some(i))));
                    }
                }
            }
        }
        Ok(rows)
    }
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    // A constant column scales to zeros rather than dividing by zero.
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}
