//! Steps that read other rows than their own: `shift`, `diff`, `pct_change`, running and moving
//! aggregates, ranks, top-n per group, `groupby` with `transform`. Each is a DataFusion window
//! function over the `by` groups in `order_by` order, so rows need no order of their own (a
//! parallel read gives none): `order_by` plays the part of Dask's index.

use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::expr_fn::{greatest, sqrt};
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::{avg, count, max, min, sum, var_sample};
use datafusion::functions_window::expr_fn::{dense_rank, lag, lead, rank, row_number};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    ExprFunctionExt, SortExpr, WindowFrame, WindowFrameBound, WindowFrameUnits, cast, when,
};
use datafusion::prelude::{DataFrame, Expr, ident, lit};
use indexmap::IndexMap;

use super::steps::{StepError, StepResult, aggregate, names, require};
use super::top;
use crate::spec::{AggFn, MovingFn, Names, RankMethod, Window, span_seconds};

/// The rows a window function sees: the row's `by` group, in `order_by` order.
pub(super) struct Over {
    pub partition: Vec<Expr>,
    pub order: Vec<SortExpr>,
}

impl Over {
    fn new(
        frame: &DataFrame,
        by: Option<&Names>,
        order_by: &[String],
        ascending: bool,
    ) -> Result<Over, StepError> {
        let by = by.map(Names::to_vec).unwrap_or_default();
        require(frame, "by", &by)?;
        require(frame, "order_by", order_by)?;
        Ok(Over {
            partition: by.iter().map(ident).collect(),
            order: order_by
                .iter()
                .map(|c| ident(c).sort(ascending, false))
                .collect(),
        })
    }

    /// `function` over these rows and `frame`: a window function, or an expression whose
    /// aggregates (`coalesce(sum(x), 0)`, `count(*)`) each become one.
    pub(super) fn apply(
        &self,
        function: Expr,
        frame: Option<WindowFrame>,
    ) -> Result<Expr, StepError> {
        let over = |windowed: Expr| {
            let builder = windowed.partition_by(self.partition.clone());
            // An empty ORDER BY is not "no order" to DataFusion's planner.
            let builder = match self.order.is_empty() {
                true => builder,
                false => builder.order_by(self.order.clone()),
            };
            match frame.clone() {
                Some(frame) => builder.window_frame(frame).build(),
                None => builder.build(),
            }
        };
        if matches!(function, Expr::WindowFunction(_)) {
            return Ok(over(function)?);
        }
        let windowed = function.transform_up(|e| match e {
            Expr::Alias(alias) => Ok(Transformed::yes(*alias.expr)),
            Expr::AggregateFunction(aggregate) => {
                let mut window = WindowFunction::new(aggregate.func, aggregate.params.args);
                window.params.distinct = aggregate.params.distinct;
                window.params.null_treatment = aggregate.params.null_treatment;
                Ok(Transformed::yes(over(Expr::from(window))?))
            }
            other => Ok(Transformed::no(other)),
        })?;
        Ok(windowed.data)
    }
}

/// Every row from the group's first to this one (not its peers: ties are separate rows, as in
/// pandas).
fn rows_up_to_here(preceding: Option<u64>) -> WindowFrame {
    WindowFrame::new_bounds(
        WindowFrameUnits::Rows,
        WindowFrameBound::Preceding(ScalarValue::UInt64(preceding)),
        WindowFrameBound::CurrentRow,
    )
}

/// The frame with `replacements` in place of (or after) its columns, in one projection, so
/// the window functions share their sorts.
pub(super) fn replace_columns(
    frame: DataFrame,
    replacements: IndexMap<String, Expr>,
) -> StepResult {
    let mut replacements = replacements;
    let mut projection: Vec<Expr> = names(&frame)
        .into_iter()
        .map(|name| match replacements.shift_remove(&name) {
            Some(expr) => expr.alias(name),
            None => ident(name),
        })
        .collect();
    projection.extend(
        replacements
            .into_iter()
            .map(|(name, expr)| expr.alias(name)),
    );
    Ok(frame.select(projection)?)
}

pub(super) fn data_type(frame: &DataFrame, column: &str) -> Result<DataType, StepError> {
    Ok(frame
        .schema()
        .field_with_unqualified_name(column)?
        .data_type()
        .clone())
}

fn float(column: &str) -> Expr {
    cast(ident(column), DataType::Float64)
}

/// What `shift`, `diff` and `pct_change` make of a value and the one `periods` rows before.
#[derive(Clone, Copy)]
pub(super) enum Lagged {
    Shift,
    Diff,
    PctChange,
}

/// Each of `columns` replaced by `value(over, column)`, over its `by` group in `order_by`
/// order.
pub(super) fn per_column(
    frame: DataFrame,
    columns: &Names,
    order_by: &Names,
    by: Option<&Names>,
    value: impl Fn(&Over, &str) -> Result<Expr, StepError>,
) -> StepResult {
    let columns = columns.to_vec();
    require(&frame, "columns", &columns)?;
    let over = Over::new(&frame, by, &order_by.to_vec(), true)?;
    let mut replacements = IndexMap::new();
    for column in &columns {
        replacements.insert(column.clone(), value(&over, column)?);
    }
    replace_columns(frame, replacements)
}

pub(super) fn shifted(
    frame: DataFrame,
    kind: Lagged,
    columns: &Names,
    periods: i64,
    order_by: &Names,
    by: Option<&Names>,
) -> StepResult {
    let before = |value: Expr| match periods {
        p if p >= 0 => lag(value, Some(p), None),
        p => lead(value, Some(-p), None),
    };
    per_column(frame, columns, order_by, by, |over, column| {
        Ok(match kind {
            Lagged::Shift => over.apply(before(ident(column)), None)?,
            Lagged::Diff => ident(column) - over.apply(before(ident(column)), None)?,
            Lagged::PctChange => {
                float(column) / over.apply(before(float(column)), None)? - lit(1.0)
            }
        })
    })
}

/// `cumsum`, `cummax`, `cummin`: the running aggregate, null where the value is.
pub(super) fn cumulative(
    frame: DataFrame,
    function: fn(Expr) -> Expr,
    columns: &Names,
    order_by: &Names,
    by: Option<&Names>,
) -> StepResult {
    per_column(frame, columns, order_by, by, |over, column| {
        let running = over.apply(function(ident(column)), Some(rows_up_to_here(None)))?;
        Ok(when(ident(column).is_not_null(), running).end()?)
    })
}

pub(super) fn cumcount(
    frame: DataFrame,
    order_by: &Names,
    by: Option<&Names>,
    name: Option<&str>,
) -> StepResult {
    let over = Over::new(&frame, by, &order_by.to_vec(), true)?;
    let number = over.apply(row_number(), None)?;
    let zero_based = cast(number, DataType::Int64) - lit(1i64);
    let name = name.unwrap_or("cumcount").to_string();
    replace_columns(frame, IndexMap::from([(name, zero_based)]))
}

pub(super) fn ranked(
    frame: DataFrame,
    columns: &Names,
    method: RankMethod,
    ascending: bool,
    by: Option<&Names>,
    order_by: Option<&Names>,
) -> StepResult {
    let columns = columns.to_vec();
    require(&frame, "columns", &columns)?;
    let by_names = by.map(Names::to_vec).unwrap_or_default();
    let tie_break = order_by.map(Names::to_vec).unwrap_or_default();
    let mut replacements = IndexMap::new();
    for column in &columns {
        let over = Over::new(&frame, by, std::slice::from_ref(column), ascending)?;
        // Ties: the rows of this group with the same value.
        let mut peers = by_names.clone();
        peers.push(column.clone());
        let tied = Over::new(&frame, Some(&Names::Many(peers)), &[], true)?;
        let lowest = || -> Result<Expr, StepError> {
            Ok(cast(over.apply(rank(), None)?, DataType::Float64))
        };
        let highest = || -> Result<Expr, StepError> {
            let ties = cast(tied.apply(count_all(), None)?, DataType::Float64);
            Ok(lowest()? + ties - lit(1.0))
        };
        let position = match method {
            RankMethod::Min => lowest()?,
            RankMethod::Max => highest()?,
            RankMethod::Average => (lowest()? + highest()?) / lit(2.0),
            RankMethod::Dense => cast(over.apply(dense_rank(), None)?, DataType::Float64),
            RankMethod::First => {
                let mut order = over.order.clone();
                order.extend(tie_break.iter().map(|c| ident(c).sort(true, false)));
                let first = Over {
                    partition: over.partition.clone(),
                    order,
                };
                require(&frame, "order_by", &tie_break)?;
                cast(first.apply(row_number(), None)?, DataType::Float64)
            }
        };
        replacements.insert(
            column.clone(),
            when(ident(column).is_not_null(), position).end()?,
        );
    }
    replace_columns(frame, replacements)
}

/// `nlargest` (`largest`) or `nsmallest`: rows missing the first column are left out, as
/// pandas leaves NaN out. With `by`, a bounded top-n per group (see `top.rs`): each group's
/// threshold, then only the rows past it ranked; rows whose group key is missing are left out,
/// as pandas' `groupby` leaves them out.
pub(super) fn top(
    frame: DataFrame,
    n: u64,
    columns: &Names,
    by: Option<&Names>,
    largest: bool,
) -> StepResult {
    let columns = columns.to_vec();
    require(&frame, "columns", &columns)?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let frame = frame.filter(ident(&columns[0]).is_not_null())?;
    let order: Vec<SortExpr> = columns
        .iter()
        .map(|c| ident(c).sort(!largest, false))
        .collect();
    let Some(by) = by else {
        return Ok(frame.sort(order)?.limit(0, Some(n))?);
    };
    let keys = by.to_vec();
    require(&frame, "by", &keys)?;
    let kept = names(&frame);
    let first = cast(ident(&columns[0]), DataType::Float64);
    let key = |i: usize| format!("__rusk_key_{i}");
    let mut group: Vec<Expr> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ident(k).alias(key(i)))
        .collect();
    let thresholds = frame.clone().aggregate(
        std::mem::take(&mut group),
        vec![
            top::threshold(n, largest)
                .call(vec![first.clone()])
                .alias(THRESHOLD),
        ],
    )?;
    let left: Vec<&str> = keys.iter().map(String::as_str).collect();
    let right: Vec<String> = (0..keys.len()).map(key).collect();
    let right: Vec<&str> = right.iter().map(String::as_str).collect();
    let past = match largest {
        true => first.gt_eq(ident(THRESHOLD)),
        false => first.lt_eq(ident(THRESHOLD)),
    };
    // This side order measured best: with the thresholds on the left, DataFusion pushed the
    // window's sort below the join onto every row (3.7 s against 2.3 s on 10M rows).
    let candidates = frame
        .join(thresholds, JoinType::Inner, &left, &right, None)?
        .filter(past)?;
    // A row's place in its group: its number in (group, value) order less its group's first
    // number. Windows without PARTITION BY, because DataFusion's windows partitioned into 100k
    // groups of 2 rows spent 290 ms on their groups' bookkeeping (10M rows, 200k past the
    // thresholds).
    let by_group: Vec<SortExpr> = keys.iter().map(|k| ident(k).sort(true, false)).collect();
    let whole = |order: Vec<SortExpr>| Over {
        partition: Vec::new(),
        order,
    };
    let numbered = whole([by_group.clone(), order].concat()).apply(row_number(), None)?;
    let group_start = whole(by_group).apply(rank(), None)?;
    let position = cast(numbered, DataType::Int64) - cast(group_start, DataType::Int64) + lit(1i64);
    let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
    Ok(candidates
        .with_column(POSITION, position)?
        .filter(ident(POSITION).lt_eq(lit(i64::try_from(n).unwrap_or(i64::MAX))))?
        .select_columns(&kept)?)
}

const THRESHOLD: &str = "__rusk_threshold";
const POSITION: &str = "__rusk_position";

/// The rows a `rolling` window holds, and how many values it needs by default.
fn moving_frame(window: &Window) -> Result<(WindowFrame, u64), StepError> {
    match window {
        Window::Rows(rows) => Ok((
            rows_up_to_here(Some(u64::from(*rows) - 1)),
            u64::from(*rows),
        )),
        Window::Span(span) => {
            let seconds = span_seconds(span).map_err(|m| StepError::at("window", m))?;
            // pandas' offset window is (t - span, t]: one nanosecond short of the span.
            let nanos = i64::try_from(seconds)
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
                .ok_or_else(|| StepError::at("window", "too long"))?;
            let before = IntervalMonthDayNano::new(0, 0, nanos - 1);
            let frame = WindowFrame::new_bounds(
                WindowFrameUnits::Range,
                WindowFrameBound::Preceding(ScalarValue::IntervalMonthDayNano(Some(before))),
                WindowFrameBound::CurrentRow,
            );
            Ok((frame, 1))
        }
    }
}

pub(super) fn rolling(
    frame: DataFrame,
    columns: &Names,
    window: &Window,
    function: MovingFn,
    min_periods: Option<u32>,
    order_by: &Names,
    by: Option<&Names>,
) -> StepResult {
    let (rows, needed) = moving_frame(window)?;
    let needed = min_periods.map_or(needed, u64::from);
    // (An unknown column is left to `per_column` to name.)
    let types: IndexMap<String, DataType> = columns
        .to_vec()
        .into_iter()
        .filter_map(|c| Some((c.clone(), data_type(&frame, &c).ok()?)))
        .collect();
    per_column(frame, columns, order_by, by, |over, column| {
        let value = match types.get(column) {
            Some(t) if t.is_integer() => float(column),
            _ => ident(column),
        };
        let moving = match function {
            MovingFn::Sum => sum(value),
            MovingFn::Mean => avg(value),
            MovingFn::Min => min(value),
            MovingFn::Max => max(value),
            MovingFn::Count => count(value),
            MovingFn::Std | MovingFn::Var => var_sample(value),
        };
        let present = over.apply(count(ident(column)), Some(rows.clone()))?;
        let moving = over.apply(moving, Some(rows.clone()))?;
        // A sliding variance adds and takes away values: rounding can leave a window of equal
        // values a hair below 0, whose square root is NaN.
        let moving = match function {
            MovingFn::Var => greatest(vec![moving, lit(0.0)]),
            MovingFn::Std => sqrt(greatest(vec![moving, lit(0.0)])),
            _ => moving,
        };
        Ok(when(present.gt_eq(lit(needed)), moving).end()?)
    })
}

/// `groupby` with `transform`: each column replaced by its group's aggregate, every row kept.
pub(super) fn transform(
    frame: DataFrame,
    by: &Names,
    functions: &IndexMap<String, AggFn>,
) -> StepResult {
    let columns: Vec<String> = functions.keys().cloned().collect();
    require(&frame, "transform", &columns)?;
    let over = Over::new(&frame, Some(by), &[], true)?;
    let mut replacements = IndexMap::new();
    for (column, function) in functions {
        let field = format!("transform.{column}");
        let whole = aggregate(*function, ident(column), &data_type(&frame, column)?)
            .map_err(|e| StepError::at(&field, e.strip_backtrace()))?;
        let expr = over
            .apply(whole, None)
            .map_err(|e| StepError::at(&field, e.message))?;
        replacements.insert(column.clone(), expr);
    }
    replace_columns(frame, replacements)
}
