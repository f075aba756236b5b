//! Steps whose output columns are values of the data: `pivot_table` and `get_dummies`. A plan
//! needs its columns before it runs, so a first pass reads the distinct values (sorted, as
//! pandas sorts them), at most `MAX_LEVELS` of them; then each becomes a column.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{count, max};
use datafusion::logical_expr::utils::{conjunction, disjunction};
use datafusion::logical_expr::{SortExpr, cast, when};
use datafusion::prelude::{DataFrame, Expr, coalesce, ident, lit};

use super::steps::{StepError, StepResult, aggregate, names, require, scalar};
use super::windows::data_type;
use crate::spec::{AggFn, Names, Prefix, Scalar};

/// The most columns one `pivot_table` or one column of `get_dummies` may make.
pub const MAX_LEVELS: usize = 1000;

/// The distinct value tuples of `columns` in which none is missing, sorted.
async fn levels(
    frame: &DataFrame,
    field: &str,
    columns: &[String],
) -> Result<Vec<Vec<ScalarValue>>, StepError> {
    let present = all(columns.iter().map(|c| ident(c).is_not_null()));
    let order: Vec<SortExpr> = columns.iter().map(|c| ident(c).sort(true, false)).collect();
    let batches = frame
        .clone()
        .select(columns.iter().map(ident).collect::<Vec<_>>())?
        .filter(present)?
        .distinct()?
        .sort(order)?
        .limit(0, Some(MAX_LEVELS + 1))?
        .collect()
        .await
        .map_err(|e| StepError::at(field, e.strip_backtrace()))?;
    let mut levels = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let level = batch
                .columns()
                .iter()
                .map(|array| ScalarValue::try_from_array(array.as_ref(), row))
                .collect::<Result<Vec<_>, _>>()?;
            levels.push(level);
        }
    }
    if levels.len() > MAX_LEVELS {
        return Err(StepError::at(
            field,
            format!(
                "{columns:?} has more than {MAX_LEVELS} distinct values: too many columns to make"
            ),
        ));
    }
    Ok(levels)
}

/// A value as pandas names a column after it (`True`, `1.5`, `a`).
fn text(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Boolean(Some(true)) => "True".to_string(),
        ScalarValue::Boolean(Some(false)) => "False".to_string(),
        ScalarValue::Float32(Some(f)) => format!("{f:?}"),
        ScalarValue::Float64(Some(f)) => format!("{f:?}"),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

/// The rows of `columns` equal to `level`.
fn matches(columns: &[String], level: &[ScalarValue]) -> Expr {
    all(columns
        .iter()
        .zip(level)
        .map(|(c, v)| ident(c).eq(lit(v.clone()))))
}

fn all(conditions: impl IntoIterator<Item = Expr>) -> Expr {
    conjunction(conditions).unwrap_or(lit(true))
}

pub(super) struct Pivot<'a> {
    pub index: &'a Names,
    pub columns: &'a Names,
    pub values: Option<&'a Names>,
    pub aggfunc: AggFn,
    pub fill_value: Option<&'a Scalar>,
}

pub(super) async fn pivot_table(frame: DataFrame, pivot: Pivot<'_>) -> StepResult {
    let index = pivot.index.to_vec();
    let columns = pivot.columns.to_vec();
    require(&frame, "index", &index)?;
    require(&frame, "columns", &columns)?;
    let mut values = match pivot.values {
        Some(values) => values.to_vec(),
        None => names(&frame)
            .into_iter()
            .filter(|c| !index.contains(c) && !columns.contains(c))
            .collect(),
    };
    require(&frame, "values", &values)?;
    if values.is_empty() {
        return Err(StepError::at("values", "no columns left to aggregate"));
    }
    // pandas sorts the columns it makes, by value column and then by level.
    values.sort();
    // Rows missing a key are left out, as pandas' groupby leaves them out.
    let keyed = all(index.iter().chain(&columns).map(|c| ident(c).is_not_null()));
    let frame = frame.filter(keyed)?;
    let levels = levels(&frame, "columns", &columns).await?;

    let mut cells = Vec::new();
    for value in &values {
        let value_type = data_type(&frame, value)?;
        for level in &levels {
            let here = matches(&columns, level);
            let name = match values.len() {
                1 => level.iter().map(text).collect::<Vec<_>>().join("_"),
                _ => std::iter::once(value.clone())
                    .chain(level.iter().map(text))
                    .collect::<Vec<_>>()
                    .join("_"),
            };
            cells.push((name, cell(pivot.aggfunc, value, &value_type, here)?));
        }
    }
    let grouped = frame.aggregate(
        index.iter().map(ident).collect(),
        cells
            .iter()
            .map(|(name, cell)| cell.clone().alias(name))
            .collect(),
    )?;
    // As pandas' `dropna=True`: an index row whose every cell is missing is left out.
    let any =
        disjunction(cells.iter().map(|(name, _)| ident(name).is_not_null())).unwrap_or(lit(false));
    let mut projection: Vec<Expr> = index.iter().map(ident).collect();
    for (name, _) in &cells {
        let filled = match pivot.fill_value {
            Some(fill) => coalesce(vec![ident(name), scalar(fill)]),
            None => ident(name),
        };
        projection.push(filled.alias(name));
    }
    let order = index.iter().map(|c| ident(c).sort(true, false)).collect();
    Ok(grouped.filter(any)?.select(projection)?.sort(order)?)
}

/// `aggfunc` of `value` over the rows `here`; missing where there are none, as pandas leaves a
/// key and level without rows empty.
fn cell(aggfunc: AggFn, value: &str, value_type: &DataType, here: Expr) -> Result<Expr, StepError> {
    let picked = when(here.clone(), ident(value)).end()?;
    let aggregated = match aggfunc {
        AggFn::Size => count(when(here.clone(), lit(1i8)).end()?),
        function => aggregate(function, picked, value_type)
            .map_err(|e| StepError::at("aggfunc", e.strip_backtrace()))?,
    };
    let present = max(when(here, lit(1i8)).end()?);
    Ok(when(present.is_not_null(), aggregated).end()?)
}

pub(super) async fn get_dummies(
    frame: DataFrame,
    columns: &Names,
    prefix: Option<&Prefix>,
    separator: &str,
) -> StepResult {
    let columns = columns.to_vec();
    require(&frame, "columns", &columns)?;
    let prefix_of = |column: &String| -> Result<String, StepError> {
        match prefix {
            None => Ok(column.clone()),
            Some(Prefix::All(prefix)) => Ok(prefix.clone()),
            Some(Prefix::PerColumn(prefixes)) => prefixes.get(column).cloned().ok_or_else(|| {
                StepError::at(
                    format!("prefix.{column}"),
                    format!("no prefix for column {column:?}: give one for each of {columns:?}"),
                )
            }),
        }
    };
    let mut projection: Vec<Expr> = names(&frame)
        .into_iter()
        .filter(|c| !columns.contains(c))
        .map(ident)
        .collect();
    for column in &columns {
        let prefix = prefix_of(column)?;
        for level in levels(&frame, "columns", std::slice::from_ref(column)).await? {
            let name = format!("{prefix}{separator}{}", text(&level[0]));
            let is = coalesce(vec![ident(column).eq(lit(level[0].clone())), lit(false)]);
            projection.push(cast(is, DataType::Boolean).alias(name));
        }
    }
    frame
        .select(projection)
        .map_err(|e| StepError::at("columns", e.strip_backtrace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_named_as_pandas_names_them() {
        assert_eq!(text(&ScalarValue::Boolean(Some(true))), "True");
        assert_eq!(text(&ScalarValue::Float64(Some(1.0))), "1.0");
        assert_eq!(text(&ScalarValue::Float64(Some(2.5))), "2.5");
        assert_eq!(text(&ScalarValue::Int64(Some(7))), "7");
        assert_eq!(text(&ScalarValue::Utf8(Some("a b".to_string()))), "a b");
    }

    #[test]
    fn a_level_matches_every_column() {
        let expr = matches(
            &["a".to_string(), "b".to_string()],
            &[
                ScalarValue::Int64(Some(1)),
                ScalarValue::Utf8(Some("x".into())),
            ],
        );
        assert_eq!(expr.to_string(), "a = Int64(1) AND b = Utf8(\"x\")");
    }
}
