//! Steps that reshape a frame or recode a column: `map`, `melt`, `explode`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, UnnestOptions};
use datafusion::functions_nested::expr_fn::cardinality;
use datafusion::logical_expr::{case, cast, when};
use datafusion::prelude::{DataFrame, Expr, ident, lit};
use indexmap::IndexMap;

use super::steps::{StepError, StepResult, names, require, scalar};
use super::windows::{data_type, replace_columns};
use crate::spec::{Names, Scalar};

pub(super) fn map(
    frame: DataFrame,
    column: &str,
    mapping: &IndexMap<String, Scalar>,
    default: Option<&Scalar>,
) -> StepResult {
    require(&frame, "column", &[column.to_string()])?;
    let key_type = data_type(&frame, column)?;
    let mut cases = case(ident(column));
    for (key, value) in mapping {
        let key = ScalarValue::try_from_string(key.clone(), &key_type).map_err(|_| {
            StepError::at(
                format!("mapping.{key}"),
                format!("{key:?} is not a value of column {column:?} ({key_type})"),
            )
        })?;
        cases = cases.when(lit(key), scalar(value));
    }
    let mapped = match default {
        Some(value) => cases.otherwise(scalar(value)),
        None => cases.end(),
    }
    .map_err(|e| StepError::at("mapping", e.strip_backtrace()))?;
    replace_columns(frame, IndexMap::from([(column.to_string(), mapped)]))
        .map_err(|e| StepError::at("mapping", e.message))
}

pub(super) fn melt(
    frame: DataFrame,
    id_vars: &Names,
    value_vars: Option<&Names>,
    var_name: &str,
    value_name: &str,
) -> StepResult {
    let ids = id_vars.to_vec();
    require(&frame, "id_vars", &ids)?;
    let values = match value_vars {
        Some(named) => named.to_vec(),
        None => names(&frame)
            .into_iter()
            .filter(|c| !ids.contains(c))
            .collect(),
    };
    require(&frame, "value_vars", &values)?;
    let Some(first) = values.first() else {
        return Err(StepError::at("value_vars", "no columns left to melt"));
    };
    let types: Vec<DataType> = values
        .iter()
        .map(|c| data_type(&frame, c))
        .collect::<Result<_, _>>()?;
    // One type for the value column, as pandas finds one (object where it must).
    let common = if types.iter().all(|t| *t == types[0]) {
        types[0].clone()
    } else if types.iter().all(DataType::is_numeric) {
        DataType::Float64
    } else {
        DataType::Utf8
    };
    let part = |column: &String| -> Result<DataFrame, StepError> {
        let mut projection: Vec<Expr> = ids.iter().map(ident).collect();
        projection.push(lit(column.as_str()).alias(var_name));
        projection.push(cast(ident(column), common.clone()).alias(value_name));
        Ok(frame.clone().select(projection)?)
    };
    let mut melted = part(first)?;
    for column in &values[1..] {
        melted = melted.union(part(column)?)?;
    }
    Ok(melted)
}

pub(super) fn explode(frame: DataFrame, column: &str) -> StepResult {
    require(&frame, "column", &[column.to_string()])?;
    let list = data_type(&frame, column)?;
    if !matches!(
        list,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    ) {
        return Err(StepError::at(
            "column",
            format!("explode needs a list column; {column:?} is {list}"),
        ));
    }
    // pandas gives an empty list one row, with a null; unnest would give it none.
    let empty_as_null = when(
        cardinality(ident(column)).eq(lit(0u64)),
        cast(lit(ScalarValue::Null), list),
    )
    .otherwise(ident(column))?;
    let frame = replace_columns(frame, IndexMap::from([(column.to_string(), empty_as_null)]))?;
    Ok(frame
        .unnest_columns_with_options(&[column], UnnestOptions::new().with_preserve_nulls(true))?)
}
