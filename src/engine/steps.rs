//! Each pandas-style step as DataFrame operations, with pandas' names and semantics:
//! groupby keys come back as columns, `sum` of an all-null group is 0, sorts put nulls last,
//! `merge` keeps one key column and suffixes overlapping names.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, ScalarValue, TableReference};
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::percentile_cont;
use datafusion::functions_aggregate::expr_fn::{
    avg, count, count_distinct, first_value, last_value, max, median, min, stddev, sum, var_sample,
};
use datafusion::logical_expr::Partitioning;
use datafusion::logical_expr::expr::NullTreatment;
use datafusion::logical_expr::utils::{find_aggregate_exprs, find_window_exprs};
use datafusion::logical_expr::{ExprFunctionExt, SortExpr, cast, when};
use datafusion::prelude::{
    DataFrame, Expr, SessionContext, coalesce, concat_ws, ident, isnan, left, lit, make_array, md5,
};
use indexmap::IndexMap;

use super::asof::{self, Asof};
use super::ewm::{self, Decay};
use super::pivot::{self, Pivot};
use super::resample;
use super::reshape;
use super::sources::{self, arrow_type};
use super::windows::{self, Lagged};
use crate::spec::{AggFn, AggSpec, Ascending, DType, DropHow, How, Names, Scalar, Step};

/// What went wrong in a step, and in which of its fields.
pub(super) struct StepError {
    field: Option<String>,
    pub message: String,
}

impl StepError {
    pub(super) fn at(field: impl Into<String>, message: impl ToString) -> StepError {
        StepError {
            field: Some(field.into()),
            message: message.to_string(),
        }
    }

    pub fn path(&self, step: &str) -> String {
        match &self.field {
            Some(field) => format!("{step}.{field}"),
            None => step.to_string(),
        }
    }
}

impl From<DataFusionError> for StepError {
    fn from(e: DataFusionError) -> StepError {
        StepError {
            field: None,
            message: e.strip_backtrace(),
        }
    }
}

pub(super) type StepResult = Result<DataFrame, StepError>;

pub(super) async fn apply(ctx: &SessionContext, frame: DataFrame, step: &Step) -> StepResult {
    match step {
        Step::Filter { expr } => {
            let predicate = parse(&frame, "expr", expr)?;
            if !find_aggregate_exprs([&predicate]).is_empty()
                || !find_window_exprs([&predicate]).is_empty()
            {
                return Err(StepError::at(
                    "expr",
                    "a filter compares each row's own values; aggregates and window functions \
                     belong in `groupby` or `assign`",
                ));
            }
            frame
                .filter(predicate)
                .map_err(|e| StepError::at("expr", e.strip_backtrace()))
        }
        Step::Assign { columns } => assign(frame, columns),
        Step::Select { columns } => {
            require(&frame, "columns", columns)?;
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            Ok(frame.select_columns(&names)?)
        }
        Step::Drop { columns } => {
            require(&frame, "columns", columns)?;
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            Ok(frame.drop_columns(&names)?)
        }
        Step::Rename { columns } => rename(frame, columns),
        Step::Groupby {
            by, transform: t, ..
        } if !t.is_empty() => windows::transform(frame, by, t),
        Step::Groupby { by, agg, sort, .. } => groupby(frame, by, agg, *sort),
        Step::Sort { by, ascending } => sort(frame, by, ascending.as_ref()),
        Step::Head { n } => Ok(frame.limit(0, Some(usize::try_from(*n).unwrap_or(usize::MAX)))?),
        Step::Merge {
            right,
            on,
            left_on,
            right_on,
            how,
            suffixes,
        } => {
            let right_frame = sources::table(ctx, right).await?;
            let keys = match (on, left_on, right_on) {
                (Some(on), _, _) => MergeKeys::Shared(on.to_vec()),
                (None, Some(l), Some(r)) => MergeKeys::Separate(l.to_vec(), r.to_vec()),
                _ => {
                    return Err(StepError::at(
                        "on",
                        "give `on`, or `left_on` and `right_on`",
                    ));
                }
            };
            let [x, y] = suffixes_or_pandas(suffixes.as_ref());
            merge(frame, right_frame, keys, *how, (&x, &y))
        }
        Step::Astype { columns } => astype(frame, columns),
        Step::Fillna { value, columns } => fillna(frame, value.as_ref(), columns.as_ref()),
        Step::Dropna { subset, how } => dropna(frame, subset.as_ref(), *how),
        Step::DropDuplicates { subset } => drop_duplicates(frame, subset.as_ref()),
        Step::Concat { others } => {
            let mut frame = frame;
            for (j, other) in others.iter().enumerate() {
                let other = sources::table(ctx, other).await?;
                frame = frame
                    .union_by_name(other)
                    .map_err(|e| StepError::at(format!("others[{j}]"), e.strip_backtrace()))?;
            }
            Ok(frame)
        }
        Step::ValueCounts { column } => value_counts(frame, column),
        Step::Describe {} => describe(frame),
        Step::Sample { frac, seed } => sample(frame, *frac, *seed),
        Step::Repartition {
            npartitions: Some(n),
            ..
        } => Ok(frame.repartition(Partitioning::RoundRobinBatch(*n as usize))?),
        // A size only shapes the result files (`JobSpec::file_layout`).
        Step::Repartition { .. } => Ok(frame),
        Step::Shift {
            columns,
            periods,
            order_by,
            by,
        } => windows::shifted(
            frame,
            Lagged::Shift,
            columns,
            *periods,
            order_by,
            by.as_ref(),
        ),
        Step::Diff {
            columns,
            periods,
            order_by,
            by,
        } => windows::shifted(
            frame,
            Lagged::Diff,
            columns,
            *periods,
            order_by,
            by.as_ref(),
        ),
        Step::PctChange {
            columns,
            periods,
            order_by,
            by,
        } => windows::shifted(
            frame,
            Lagged::PctChange,
            columns,
            *periods,
            order_by,
            by.as_ref(),
        ),
        Step::Cumsum {
            columns,
            order_by,
            by,
        } => windows::cumulative(frame, sum, columns, order_by, by.as_ref()),
        Step::Cummax {
            columns,
            order_by,
            by,
        } => windows::cumulative(frame, max, columns, order_by, by.as_ref()),
        Step::Cummin {
            columns,
            order_by,
            by,
        } => windows::cumulative(frame, min, columns, order_by, by.as_ref()),
        Step::Cumcount { order_by, by, name } => {
            windows::cumcount(frame, order_by, by.as_ref(), name.as_deref())
        }
        Step::Rank {
            columns,
            method,
            ascending,
            by,
            order_by,
        } => windows::ranked(
            frame,
            columns,
            *method,
            *ascending,
            by.as_ref(),
            order_by.as_ref(),
        ),
        Step::Nlargest { n, columns, by } => windows::top(frame, *n, columns, by.as_ref(), true),
        Step::Nsmallest { n, columns, by } => windows::top(frame, *n, columns, by.as_ref(), false),
        Step::Rolling {
            columns,
            window,
            agg,
            min_periods,
            order_by,
            by,
        } => windows::rolling(
            frame,
            columns,
            window,
            *agg,
            *min_periods,
            order_by,
            by.as_ref(),
        ),
        Step::Map {
            column,
            mapping,
            default,
        } => reshape::map(frame, column, mapping, default.as_ref()),
        Step::Melt {
            id_vars,
            value_vars,
            var_name,
            value_name,
        } => reshape::melt(frame, id_vars, value_vars.as_ref(), var_name, value_name),
        Step::Explode { column } => reshape::explode(frame, column),
        Step::Ewm {
            columns,
            span,
            com,
            halflife,
            alpha,
            agg: _,
            adjust,
            ignore_na,
            min_periods,
            order_by,
            by,
        } => {
            let decay = Decay {
                alpha: ewm::alpha(*span, *com, *halflife, *alpha)?,
                adjust: *adjust,
                ignore_na: *ignore_na,
                min_periods: *min_periods,
            };
            ewm::ewm_mean(frame, columns, decay, order_by, by.as_ref())
        }
        Step::PivotTable {
            index,
            columns,
            values,
            aggfunc,
            fill_value,
        } => {
            let pivot = Pivot {
                index,
                columns,
                values: values.as_ref(),
                aggfunc: *aggfunc,
                fill_value: fill_value.as_ref(),
            };
            pivot::pivot_table(frame, pivot).await
        }
        Step::GetDummies {
            columns,
            prefix,
            prefix_sep,
        } => pivot::get_dummies(frame, columns, prefix.as_ref(), prefix_sep).await,
        Step::MergeAsof {
            right,
            on,
            by,
            direction,
            tolerance,
            suffixes,
        } => {
            let right_frame = sources::table(ctx, right).await?;
            let [x, y] = suffixes_or_pandas(suffixes.as_ref());
            let asof = Asof {
                on,
                by: by.as_ref(),
                direction: *direction,
                tolerance: tolerance.as_ref(),
                suffixes: (&x, &y),
            };
            asof::merge_asof(frame, right_frame, asof)
        }
        Step::Resample { on, rule, agg, by } => {
            resample::resample(frame, on, rule, agg, by.as_ref())
        }
    }
}

/// Keeps a row when the first 8 hex digits of md5(seed, values…) fall below `frac` of the
/// range: reproducible whatever the partitioning, as the decision depends on the row alone.
fn sample(frame: DataFrame, frac: f64, seed: u64) -> StepResult {
    let mut parts = vec![lit(seed.to_string())];
    for name in names(&frame) {
        let text = cast(ident(&name), DataType::Utf8);
        parts.push(coalesce(vec![text, lit("\u{1}null")]));
    }
    let digest = md5(concat_ws(lit("\u{1f}"), parts));
    let threshold = ((frac * 4_294_967_296.0) as u64).min(1 << 32);
    if threshold >= 1 << 32 {
        return Ok(frame);
    }
    let keep = left(digest, lit(8)).lt(lit(format!("{threshold:08x}")));
    Ok(frame.filter(keep)?)
}

fn astype(mut frame: DataFrame, columns: &IndexMap<String, DType>) -> StepResult {
    let names: Vec<String> = columns.keys().cloned().collect();
    require(&frame, "columns", &names)?;
    for (name, dtype) in columns {
        frame = frame
            .with_column(name, cast(ident(name), arrow_type(*dtype)))
            .map_err(|e| StepError::at(format!("columns.{name}"), e.strip_backtrace()))?;
    }
    Ok(frame)
}

/// Missing as pandas sees it: null, or NaN in a float column.
fn missing(name: &str, data_type: &DataType) -> Expr {
    let column = ident(name);
    if data_type.is_floating() {
        column.clone().is_null().or(isnan(column))
    } else {
        column.is_null()
    }
}

fn fits(value: &Scalar, data_type: &DataType) -> bool {
    match value {
        Scalar::Bool(_) => data_type == &DataType::Boolean,
        Scalar::Int(_) | Scalar::Float(_) => data_type.is_numeric(),
        Scalar::Text(_) => matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
    }
}

pub(super) fn scalar(value: &Scalar) -> Expr {
    match value {
        Scalar::Bool(b) => lit(*b),
        Scalar::Int(i) => lit(*i),
        Scalar::Float(f) => lit(*f),
        Scalar::Text(t) => lit(t.as_str()),
    }
}

fn fillna(
    frame: DataFrame,
    value: Option<&Scalar>,
    columns: Option<&IndexMap<String, Scalar>>,
) -> StepResult {
    let fills: IndexMap<String, &Scalar> = match (value, columns) {
        (Some(value), None) => frame
            .schema()
            .fields()
            .iter()
            .filter(|f| fits(value, f.data_type()))
            .map(|f| (f.name().clone(), value))
            .collect(),
        (None, Some(columns)) => {
            let names: Vec<String> = columns.keys().cloned().collect();
            require(&frame, "columns", &names)?;
            columns.iter().map(|(c, v)| (c.clone(), v)).collect()
        }
        _ => return Err(StepError::at("value", "give either `value` or `columns`")),
    };
    let projection: Vec<Expr> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| match fills.get(f.name()) {
            Some(value) => when(
                missing(f.name(), f.data_type()),
                cast(scalar(value), f.data_type().clone()),
            )
            .otherwise(ident(f.name()))
            .map(|e| e.alias(f.name())),
            None => Ok(ident(f.name())),
        })
        .collect::<Result<_, _>>()?;
    frame
        .select(projection)
        .map_err(|e| StepError::at("value", e.strip_backtrace()))
}

/// The columns a step names in `subset`, or all of them.
fn subset_or_all(frame: &DataFrame, subset: Option<&Names>) -> Result<Vec<String>, StepError> {
    match subset {
        Some(names) => {
            let names = names.to_vec();
            require(frame, "subset", &names)?;
            Ok(names)
        }
        None => Ok(names(frame)),
    }
}

fn dropna(frame: DataFrame, subset: Option<&Names>, how: DropHow) -> StepResult {
    let columns = subset_or_all(&frame, subset)?;
    let present: Vec<Expr> = columns
        .iter()
        .map(|c| {
            let data_type = frame.schema().field_with_unqualified_name(c)?.data_type();
            Ok(std::ops::Not::not(missing(c, data_type)))
        })
        .collect::<Result<_, DataFusionError>>()?;
    let keep = match how {
        DropHow::Any => present.into_iter().reduce(Expr::and),
        DropHow::All => present.into_iter().reduce(Expr::or),
    };
    match keep {
        Some(keep) => Ok(frame.filter(keep)?),
        None => Ok(frame),
    }
}

fn drop_duplicates(frame: DataFrame, subset: Option<&Names>) -> StepResult {
    let Some(subset) = subset else {
        return Ok(frame.distinct()?);
    };
    let on = subset_or_all(&frame, Some(subset))?;
    let select = names(&frame).iter().map(ident).collect();
    Ok(frame.distinct_on(on.iter().map(ident).collect(), select, None)?)
}

fn value_counts(frame: DataFrame, column: &str) -> StepResult {
    require(&frame, "column", &[column.to_string()])?;
    let counted = frame
        .filter(ident(column).is_not_null())?
        .aggregate(vec![ident(column)], vec![count_all().alias("count")])?;
    Ok(counted.sort(vec![ident("count").sort(false, false)])?)
}

const STATISTICS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// pandas' `describe()`: one aggregation pass, then each column's statistics as a list,
/// unnested into one row per statistic.
fn describe(frame: DataFrame) -> StepResult {
    let numeric: Vec<(String, DataType)> = frame
        .schema()
        .fields()
        .iter()
        .filter(|f| f.data_type().is_numeric())
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    if numeric.is_empty() {
        return Err(StepError::at(
            "op",
            "describe needs at least one numeric column",
        ));
    }
    let mut aggregates = Vec::new();
    for (i, (name, data_type)) in numeric.iter().enumerate() {
        // NaN counts as missing, as in pandas.
        let x = when(missing(name, data_type), lit(ScalarValue::Float64(None)))
            .otherwise(cast(ident(name), DataType::Float64))?;
        let quantile = |q: f64| percentile_cont(x.clone().sort(true, false), lit(q));
        let stats = [
            cast(count(x.clone()), DataType::Float64),
            avg(x.clone()),
            stddev(x.clone()),
            min(x.clone()),
            quantile(0.25),
            quantile(0.5),
            quantile(0.75),
            max(x.clone()),
        ];
        for (k, stat) in stats.into_iter().enumerate() {
            aggregates.push(stat.alias(format!("__describe_{i}_{k}")));
        }
    }
    let stats = frame.aggregate(vec![], aggregates)?;
    let mut lists =
        vec![make_array(STATISTICS.iter().map(|s| lit(*s)).collect()).alias("statistic")];
    for (i, (name, _)) in numeric.iter().enumerate() {
        let cells = (0..STATISTICS.len())
            .map(|k| ident(format!("__describe_{i}_{k}")))
            .collect();
        lists.push(make_array(cells).alias(name));
    }
    let mut columns = vec!["statistic".to_string()];
    columns.extend(numeric.into_iter().map(|(name, _)| name));
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    Ok(stats.select(lists)?.unnest_columns(&columns)?)
}

pub(super) fn parse(frame: &DataFrame, field: &str, sql: &str) -> Result<Expr, StepError> {
    frame
        .parse_sql_expr(sql)
        .map_err(|e| StepError::at(field, e.strip_backtrace()))
}

pub(super) fn require(frame: &DataFrame, field: &str, columns: &[String]) -> Result<(), StepError> {
    let schema = frame.schema();
    for column in columns {
        if !schema.has_column_with_unqualified_name(column) {
            let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(StepError::at(
                field,
                format!("unknown column {column:?}; columns are {known:?}"),
            ));
        }
    }
    Ok(())
}

fn assign(mut frame: DataFrame, columns: &IndexMap<String, String>) -> StepResult {
    for (name, sql) in columns {
        let field = format!("columns.{name}");
        let expr = parse(&frame, &field, sql)?;
        frame = frame
            .with_column(name, expr)
            .map_err(|e| StepError::at(&field, e.strip_backtrace()))?;
    }
    Ok(frame)
}

fn rename(mut frame: DataFrame, columns: &IndexMap<String, String>) -> StepResult {
    let old: Vec<String> = columns.keys().cloned().collect();
    require(&frame, "columns", &old)?;
    for (from, to) in columns {
        frame = frame.with_column_renamed(from, to)?;
    }
    Ok(frame)
}

pub(super) fn groupby(
    frame: DataFrame,
    by: &Names,
    agg: &IndexMap<String, AggSpec>,
    sort_keys: bool,
) -> StepResult {
    let keys = by.to_vec();
    require(&frame, "by", &keys)?;
    let agg_columns: Vec<String> = agg.keys().cloned().collect();
    require(&frame, "agg", &agg_columns)?;
    let mut aggregates = Vec::new();
    for (column, spec) in agg {
        let data_type = frame
            .schema()
            .field_with_unqualified_name(column)?
            .data_type()
            .clone();
        for (function, name) in spec.outputs(column) {
            let expr = aggregate(function, ident(column), &data_type)
                .map_err(|e| StepError::at(format!("agg.{column}"), e.strip_backtrace()))?;
            aggregates.push(expr.alias(name));
        }
    }
    let group: Vec<Expr> = keys.iter().map(ident).collect();
    let grouped = frame
        .aggregate(group, aggregates)
        .map_err(|e| StepError::at("agg", e.strip_backtrace()))?;
    if !sort_keys {
        return Ok(grouped);
    }
    let order: Vec<SortExpr> = keys.iter().map(|k| ident(k).sort(true, false)).collect();
    Ok(grouped.sort(order)?)
}

/// One pandas aggregation. Integers and decimals are averaged and their medians taken as
/// floats, as pandas does (DataFusion's decimal mean cuts digits off); `std` and `var` use
/// ddof=1; `first`/`last` skip nulls.
pub(super) fn aggregate(
    function: AggFn,
    column: Expr,
    data_type: &DataType,
) -> Result<Expr, DataFusionError> {
    let as_float = || {
        if data_type.is_integer() || is_decimal(data_type) {
            cast(column.clone(), DataType::Float64)
        } else {
            column.clone()
        }
    };
    Ok(match function {
        AggFn::Sum => coalesce(vec![sum(column.clone()), lit(0)]),
        AggFn::Mean => avg(as_float()),
        AggFn::Min => min(column),
        AggFn::Max => max(column),
        AggFn::Count => count(column),
        AggFn::Size => count_all(),
        AggFn::Nunique => count_distinct(column),
        AggFn::Std => stddev(as_float()),
        AggFn::Var => var_sample(as_float()),
        AggFn::Median => median(as_float()),
        AggFn::First => first_value(column, vec![])
            .null_treatment(NullTreatment::IgnoreNulls)
            .build()?,
        AggFn::Last => last_value(column, vec![])
            .null_treatment(NullTreatment::IgnoreNulls)
            .build()?,
    })
}

fn is_decimal(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    )
}

fn sort(frame: DataFrame, by: &Names, ascending: Option<&Ascending>) -> StepResult {
    let keys = by.to_vec();
    require(&frame, "by", &keys)?;
    let flags = match ascending {
        None => vec![true; keys.len()],
        Some(Ascending::All(flag)) => vec![*flag; keys.len()],
        Some(Ascending::Each(flags)) if flags.len() == keys.len() => flags.clone(),
        Some(Ascending::Each(_)) => {
            return Err(StepError::at(
                "ascending",
                format!("expected one flag per sort key ({})", keys.len()),
            ));
        }
    };
    let order = keys
        .iter()
        .zip(flags)
        .map(|(key, asc)| ident(key).sort(asc, false))
        .collect();
    Ok(frame.sort(order)?)
}

/// The suffixes given, or pandas' `_x` and `_y`.
fn suffixes_or_pandas(given: Option<&[String; 2]>) -> [String; 2] {
    given
        .cloned()
        .unwrap_or_else(|| ["_x".to_string(), "_y".to_string()])
}

pub(super) enum MergeKeys {
    /// `on`: the key columns have the same names on both sides; one copy is kept.
    Shared(Vec<String>),
    /// `left_on` / `right_on`: both key columns are kept.
    Separate(Vec<String>, Vec<String>),
}

const LEFT: &str = "__rusk_left";
const RIGHT: &str = "__rusk_right";

pub(super) fn merge(
    left: DataFrame,
    right: DataFrame,
    keys: MergeKeys,
    how: How,
    (suffix_x, suffix_y): (&str, &str),
) -> StepResult {
    let (left_keys, right_keys, shared) = match keys {
        MergeKeys::Shared(on) => (on.clone(), on.clone(), on),
        MergeKeys::Separate(l, r) => (l, r, Vec::new()),
    };
    let field = if shared.is_empty() { "left_on" } else { "on" };
    require(&left, field, &left_keys)?;
    let field = if shared.is_empty() { "right_on" } else { "on" };
    require(&right, field, &right_keys)?;

    let left_names = names(&left);
    let right_names = names(&right);
    let join_type = match how {
        How::Inner => JoinType::Inner,
        How::Left => JoinType::Left,
        How::Right => JoinType::Right,
        How::Outer => JoinType::Full,
    };
    let l: Vec<&str> = left_keys.iter().map(String::as_str).collect();
    let r: Vec<&str> = right_keys.iter().map(String::as_str).collect();
    let joined = left
        .alias(LEFT)?
        .join(right.alias(RIGHT)?, join_type, &l, &r, None)
        .map_err(|e| StepError::at(field, e.strip_backtrace()))?;

    let side = |table: &str, name: &str| {
        Expr::Column(Column::new(Some(TableReference::bare(table)), name))
    };
    let mut projection = Vec::new();
    for name in &left_names {
        let expr = if shared.contains(name) {
            match how {
                How::Inner | How::Left => side(LEFT, name),
                How::Right => side(RIGHT, name),
                How::Outer => coalesce(vec![side(LEFT, name), side(RIGHT, name)]),
            }
            .alias(name)
        } else if right_names.contains(name) {
            side(LEFT, name).alias(format!("{name}{suffix_x}"))
        } else {
            side(LEFT, name).alias(name)
        };
        projection.push(expr);
    }
    for name in &right_names {
        if shared.contains(name) {
            continue;
        }
        let alias = if left_names.contains(name) {
            format!("{name}{suffix_y}")
        } else {
            name.clone()
        };
        projection.push(side(RIGHT, name).alias(alias));
    }
    Ok(joined.select(projection)?)
}

pub(super) fn names(frame: &DataFrame) -> Vec<String> {
    frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::assert_batches_eq;
    use serde_json::json;

    use super::*;

    /// Four rows with a null in each nullable column:
    /// (1, a, 1.5, 2), (2, null, null, 3), (3, a, 2.5, null), (4, b, 1.5, 2).
    fn frame(ctx: &SessionContext) -> DataFrame {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("price", DataType::Float64, true),
            Field::new("qty", DataType::Int64, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    None,
                    Some("a"),
                    Some("b"),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(1.5),
                    None,
                    Some(2.5),
                    Some(1.5),
                ])),
                Arc::new(Int64Array::from(vec![Some(2), Some(3), None, Some(2)])),
            ],
        )
        .unwrap();
        ctx.read_batch(batch).unwrap()
    }

    /// The fixture after `steps` (JSON as in a job spec), collected in one partition.
    async fn run(steps: serde_json::Value) -> Vec<RecordBatch> {
        let ctx = SessionContext::new_with_config(
            datafusion::prelude::SessionConfig::new().with_target_partitions(1),
        );
        // A second frame, `right`, for merge and concat.
        let right = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(vec![2, 4, 5])) as _),
            (
                "name",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as _,
            ),
            (
                "tier",
                Arc::new(StringArray::from(vec!["t2", "t4", "t5"])) as _,
            ),
        ])
        .unwrap();
        ctx.register_batch("right", right).unwrap();
        let steps: Vec<Step> = serde_json::from_value(steps).unwrap();
        let mut frame = frame(&ctx);
        for step in &steps {
            frame = match apply(&ctx, frame, step).await {
                Ok(frame) => frame,
                Err(e) => panic!("{}: {}", e.path("step"), e.message),
            };
        }
        frame.collect().await.unwrap()
    }

    #[tokio::test]
    async fn filter_keeps_matching_rows() {
        let out = run(json!([{"op": "filter", "expr": "price > 1.5"}])).await;
        assert_batches_eq!(
            [
                "+----+------+-------+-----+",
                "| id | name | price | qty |",
                "+----+------+-------+-----+",
                "| 3  | a    | 2.5   |     |",
                "+----+------+-------+-----+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn assign_computes_with_nulls_propagating() {
        let out = run(json!([
            {"op": "assign", "columns": {"total": "price * qty"}},
            {"op": "select", "columns": ["id", "total"]}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+-------+",
                "| id | total |",
                "+----+-------+",
                "| 1  | 3.0   |",
                "| 2  |       |",
                "| 3  |       |",
                "| 4  | 3.0   |",
                "+----+-------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn dropna_drops_rows_with_any_null() {
        let out = run(json!([{"op": "dropna"}])).await;
        assert_batches_eq!(
            [
                "+----+------+-------+-----+",
                "| id | name | price | qty |",
                "+----+------+-------+-----+",
                "| 1  | a    | 1.5   | 2   |",
                "| 4  | b    | 1.5   | 2   |",
                "+----+------+-------+-----+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn fillna_fills_named_columns_only() {
        let out = run(json!([
            {"op": "fillna", "columns": {"name": "unknown"}},
            {"op": "select", "columns": ["id", "name", "price"]}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+---------+-------+",
                "| id | name    | price |",
                "+----+---------+-------+",
                "| 1  | a       | 1.5   |",
                "| 2  | unknown |       |",
                "| 3  | a       | 2.5   |",
                "| 4  | b       | 1.5   |",
                "+----+---------+-------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn sort_puts_nulls_last() {
        let out = run(json!([
            {"op": "sort", "by": ["price", "id"], "ascending": [false, true]},
            {"op": "select", "columns": ["id", "price"]}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+-------+",
                "| id | price |",
                "+----+-------+",
                "| 3  | 2.5   |",
                "| 1  | 1.5   |",
                "| 4  | 1.5   |",
                "| 2  |       |",
                "+----+-------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn groupby_returns_keys_as_columns() {
        let out = run(json!([
            {"op": "filter", "expr": "name IS NOT NULL"},
            {"op": "groupby", "by": "name", "agg": {"price": "sum", "qty": "max"}, "sort": true}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+------+-------+-----+",
                "| name | price | qty |",
                "+------+-------+-----+",
                "| a    | 4.0   | 2   |",
                "| b    | 1.5   | 2   |",
                "+------+-------+-----+",
            ],
            &out
        );
    }

    /// pandas' mean of decimals is a float64 with every digit; DataFusion's own is a decimal
    /// cut to six places (4.666666).
    #[tokio::test]
    async fn the_mean_of_decimals_is_a_float_with_every_digit() {
        let out = run(json!([
            {"op": "filter", "expr": "id <= 3"},
            {"op": "assign", "columns": {"g": "1", "d": "CAST(id * id AS DECIMAL(15, 2))"}},
            {"op": "groupby", "by": "g", "agg": {"d": "mean"}}
        ]))
        .await;
        let d = out[0].column_by_name("d").unwrap();
        let d = d.as_any().downcast_ref::<Float64Array>().expect("float64");
        assert_eq!(d.value(0), 14.0 / 3.0);
    }

    #[tokio::test]
    async fn a_missing_column_names_the_field() {
        let ctx = SessionContext::new();
        let step: Step =
            serde_json::from_value(json!({"op": "select", "columns": ["id", "nope"]})).unwrap();
        let Err(error) = apply(&ctx, frame(&ctx), &step).await else {
            panic!("selecting a missing column must fail");
        };
        assert!(
            error.path("steps[0]").starts_with("steps[0]"),
            "{}",
            error.path("steps[0]")
        );
        assert!(error.message.contains("nope"), "{}", error.message);
    }

    #[tokio::test]
    async fn an_outer_merge_keeps_every_key_and_suffixes_clashes() {
        let out = run(json!([
            {"op": "merge", "right": "right", "on": "id", "how": "outer"},
            {"op": "select", "columns": ["id", "name_x", "name_y", "tier"]},
            {"op": "sort", "by": "id"}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+--------+--------+------+",
                "| id | name_x | name_y | tier |",
                "+----+--------+--------+------+",
                "| 1  | a      |        |      |",
                "| 2  |        | x      | t2   |",
                "| 3  | a      |        |      |",
                "| 4  | b      | y      | t4   |",
                "| 5  |        | z      | t5   |",
                "+----+--------+--------+------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn concat_lines_up_columns_by_name() {
        let out = run(json!([
            {"op": "concat", "others": ["right"]},
            {"op": "select", "columns": ["id", "name", "tier"]},
            {"op": "sort", "by": ["id", "name"]}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+------+------+",
                "| id | name | tier |",
                "+----+------+------+",
                "| 1  | a    |      |",
                "| 2  | x    | t2   |",
                "| 2  |      |      |",
                "| 3  | a    |      |",
                "| 4  | b    |      |",
                "| 4  | y    | t4   |",
                "| 5  | z    | t5   |",
                "+----+------+------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn value_counts_counts_non_null_values_most_first() {
        let out = run(json!([{"op": "value_counts", "column": "name"}])).await;
        assert_batches_eq!(
            [
                "+------+-------+",
                "| name | count |",
                "+------+-------+",
                "| a    | 2     |",
                "| b    | 1     |",
                "+------+-------+",
            ],
            &out
        );
    }

    /// The expected figures are what pandas 3.1 prints for `df[["id", "price"]].describe()`
    /// of the fixture (with `repr` for the digits).
    #[tokio::test]
    async fn describe_gives_pandas_statistics() {
        let out =
            run(json!([{"op": "select", "columns": ["id", "price"]}, {"op": "describe"}])).await;
        assert_batches_eq!(
            [
                "+-----------+--------------------+--------------------+",
                "| statistic | id                 | price              |",
                "+-----------+--------------------+--------------------+",
                "| count     | 4.0                | 3.0                |",
                "| mean      | 2.5                | 1.8333333333333333 |",
                "| std       | 1.2909944487358056 | 0.5773502691896257 |",
                "| min       | 1.0                | 1.5                |",
                "| 25%       | 1.75               | 1.5                |",
                "| 50%       | 2.5                | 1.5                |",
                "| 75%       | 3.25               | 2.0                |",
                "| max       | 4.0                | 2.5                |",
                "+-----------+--------------------+--------------------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn drop_rename_and_head_shape_the_frame() {
        let out = run(json!([
            {"op": "drop", "columns": ["price", "qty"]},
            {"op": "rename", "columns": {"name": "label"}},
            {"op": "head", "n": 2}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+----+-------+",
                "| id | label |",
                "+----+-------+",
                "| 1  | a     |",
                "| 2  |       |",
                "+----+-------+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn astype_casts_by_pandas_names() {
        let out = run(json!([
            {"op": "astype", "columns": {"qty": "float64", "id": "string"}},
            {"op": "select", "columns": ["id", "qty"]}
        ]))
        .await;
        let schema = out[0].schema();
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
        assert_eq!(schema.field(1).data_type(), &DataType::Float64);
        assert_batches_eq!(
            [
                "+----+-----+",
                "| id | qty |",
                "+----+-----+",
                "| 1  | 2.0 |",
                "| 2  | 3.0 |",
                "| 3  |     |",
                "| 4  | 2.0 |",
                "+----+-----+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn drop_duplicates_keeps_one_row_per_subset() {
        let out = run(json!([
            {"op": "drop_duplicates", "subset": ["price", "qty"]},
            {"op": "select", "columns": ["price", "qty"]},
            {"op": "sort", "by": ["price", "qty"]}
        ]))
        .await;
        assert_batches_eq!(
            [
                "+-------+-----+",
                "| price | qty |",
                "+-------+-----+",
                "| 1.5   | 2   |",
                "| 2.5   |     |",
                "|       | 3   |",
                "+-------+-----+",
            ],
            &out
        );
    }

    #[tokio::test]
    async fn sample_depends_on_the_seed_and_rows_only() {
        let ids = |batches: Vec<RecordBatch>| -> Vec<i64> {
            batches
                .iter()
                .flat_map(|b| {
                    let column = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                    column.values().to_vec()
                })
                .collect()
        };
        let all = ids(run(json!([{"op": "sample", "frac": 1.0, "seed": 7}])).await);
        assert_eq!(all, [1, 2, 3, 4]);
        let none = ids(run(json!([{"op": "sample", "frac": 0.0, "seed": 7}])).await);
        assert!(none.is_empty());
        let sample = json!({"op": "sample", "frac": 0.5, "seed": 7});
        let mut once = ids(run(json!([sample])).await);
        let spread = json!([{"op": "repartition", "npartitions": 3}, sample]);
        let mut again = ids(run(spread).await);
        once.sort_unstable();
        again.sort_unstable();
        assert_eq!(once, again, "the same rows, whatever the partitioning");
    }
}
