//! `merge_asof`: each left row takes the right row with the nearest key. DataFusion has no
//! as-of join, so both sides' keys go into one frame ordered by key within each `by` group;
//! right rows are numbered in key order, so the last right row at or before a left row is the
//! largest number up to it (a running `max`) and the first one at or after it the smallest
//! number from it on. A left join on that number then brings the right row's columns.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    ExprFunctionExt, WindowFrame, WindowFrameBound, WindowFrameUnits, cast, when,
};
use datafusion::prelude::{DataFrame, Expr, ident, lit};

use super::steps::{MergeKeys, StepError, StepResult, merge, names, require};
use super::windows::{Over, data_type};
use crate::spec::{AsofDirection, How, Names, Tolerance, span_seconds};

const KEY: &str = "__rusk_key";
const NUMBER: &str = "__rusk_number";
const SIDE: &str = "__rusk_side";
const BEFORE: &str = "__rusk_before";
const BEFORE_KEY: &str = "__rusk_before_key";
const AFTER: &str = "__rusk_after";
const AFTER_KEY: &str = "__rusk_after_key";

/// How keys compare: timestamps and dates as nanoseconds, integers as themselves, the rest as
/// floats.
#[derive(Clone, Copy, PartialEq)]
enum KeyKind {
    Time,
    Integer,
    Float,
}

impl KeyKind {
    fn of(data_type: &DataType) -> Option<KeyKind> {
        match data_type {
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Some(KeyKind::Time),
            t if t.is_integer() => Some(KeyKind::Integer),
            t if t.is_numeric() => Some(KeyKind::Float),
            _ => None,
        }
    }

    fn key(self, column: &str) -> Expr {
        match self {
            KeyKind::Time => cast(
                cast(
                    ident(column),
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                ),
                DataType::Int64,
            ),
            KeyKind::Integer => cast(ident(column), DataType::Int64),
            KeyKind::Float => cast(ident(column), DataType::Float64),
        }
    }

    /// The tolerance in the key's units.
    fn tolerance(self, tolerance: &Tolerance) -> Result<Expr, StepError> {
        let invalid = |m: String| StepError::at("tolerance", m);
        match (self, tolerance) {
            (KeyKind::Time, Tolerance::Span(span)) => {
                let seconds = span_seconds(span).map_err(invalid)?;
                let nanos = i64::try_from(seconds)
                    .ok()
                    .and_then(|s| s.checked_mul(1_000_000_000))
                    .ok_or_else(|| invalid(format!("{span:?}: too long")))?;
                Ok(lit(nanos))
            }
            (KeyKind::Time, Tolerance::Number(_)) => Err(invalid(
                "the keys are times: give a time span such as \"1h\"".to_string(),
            )),
            (_, Tolerance::Number(n)) if *n >= 0.0 && n.is_finite() => Ok(match self {
                KeyKind::Integer => lit(n.floor() as i64),
                _ => lit(*n),
            }),
            (_, Tolerance::Number(_)) => {
                Err(invalid("expected a number of at least 0".to_string()))
            }
            (_, Tolerance::Span(_)) => {
                Err(invalid("the keys are numbers: give a number".to_string()))
            }
        }
    }
}

pub(super) struct Asof<'a> {
    pub on: &'a str,
    pub by: Option<&'a Names>,
    pub direction: AsofDirection,
    pub tolerance: Option<&'a Tolerance>,
    pub suffixes: (&'a str, &'a str),
}

pub(super) fn merge_asof(left: DataFrame, right: DataFrame, asof: Asof) -> StepResult {
    let on = asof.on.to_string();
    let by = asof.by.map(Names::to_vec).unwrap_or_default();
    require(&left, "on", std::slice::from_ref(&on))?;
    require(&right, "on", std::slice::from_ref(&on))?;
    require(&left, "by", &by)?;
    require(&right, "by", &by)?;
    let kind = key_kind(&left, &right, &on)?;
    let tolerance = asof.tolerance.map(|t| kind.tolerance(t)).transpose()?;

    // Right rows without a key can match nothing; numbered in key order within their group.
    let numbered = {
        let right = right.filter(ident(&on).is_not_null())?;
        let number = row_number()
            .partition_by(by.iter().map(ident).collect())
            .order_by(vec![kind.key(&on).sort(true, false)])
            .build()?;
        right.with_column(NUMBER, cast(number, DataType::Int64))?
    };
    let matched = numbers_of_matches(left, numbered.clone(), kind, &on, &by, &asof, tolerance)?;
    let right_columns: Vec<Expr> = names(&numbered)
        .into_iter()
        .filter(|c| *c != on)
        .map(ident)
        .collect();
    let mut keys = by.clone();
    keys.push(NUMBER.to_string());
    let joined = merge(
        matched,
        numbered.select(right_columns)?,
        MergeKeys::Shared(keys),
        How::Left,
        asof.suffixes,
    )
    .map_err(|e| StepError::at("right", e.message))?;
    Ok(joined
        .drop_columns(&[NUMBER])?
        .sort(vec![ident(&on).sort(true, false)])?)
}

fn key_kind(left: &DataFrame, right: &DataFrame, on: &str) -> Result<KeyKind, StepError> {
    let left_type = data_type(left, on)?;
    let right_type = data_type(right, on)?;
    let kinds = (KeyKind::of(&left_type), KeyKind::of(&right_type));
    match kinds {
        (Some(l), Some(r)) if l == r => Ok(l),
        (Some(l), Some(r)) if l != KeyKind::Time && r != KeyKind::Time => Ok(KeyKind::Float),
        _ => Err(StepError::at(
            "on",
            format!(
                "merge_asof needs numbers or times on both sides; {on:?} is {left_type} on the \
                 left and {right_type} on the right"
            ),
        )),
    }
}

/// The left frame with, in column `NUMBER`, the number of the right row each row takes (null
/// where none does).
fn numbers_of_matches(
    left: DataFrame,
    numbered: DataFrame,
    kind: KeyKind,
    on: &str,
    by: &[String],
    asof: &Asof,
    tolerance: Option<Expr>,
) -> StepResult {
    let left_names = names(&left);
    let left_types: Vec<DataType> = left
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    // One frame: the left rows with their columns, the right rows with their `by` keys and
    // nulls for the rest.
    let mut from_left: Vec<Expr> = left_names.iter().map(ident).collect();
    let mut from_right: Vec<Expr> = left_names
        .iter()
        .zip(&left_types)
        .map(|(name, data_type)| match by.contains(name) {
            true => cast(ident(name), data_type.clone()).alias(name),
            false => cast(lit(ScalarValue::Null), data_type.clone()).alias(name),
        })
        .collect();
    from_left.extend([
        kind.key(on).alias(KEY),
        cast(lit(ScalarValue::Null), DataType::Int64).alias(NUMBER),
        lit(1i8).alias(SIDE),
    ]);
    from_right.extend([kind.key(on).alias(KEY), ident(NUMBER), lit(0i8).alias(SIDE)]);
    let both = left
        .select(from_left)?
        .union(numbered.select(from_right)?)?;

    // Peers (rows with the same key) are in each other's frames: an exact match counts.
    let frame = |start, end| WindowFrame::new_bounds(WindowFrameUnits::Range, start, end);
    let up_to_here = frame(
        WindowFrameBound::Preceding(ScalarValue::Null),
        WindowFrameBound::CurrentRow,
    );
    let from_here = frame(
        WindowFrameBound::CurrentRow,
        WindowFrameBound::Following(ScalarValue::Null),
    );
    let right_key = when(ident(SIDE).eq(lit(0i8)), ident(KEY)).end()?;
    let by_key = Over {
        partition: by.iter().map(ident).collect(),
        order: vec![ident(KEY).sort(true, false)],
    };
    let over = |function: Expr, frame: &WindowFrame| by_key.apply(function, Some(frame.clone()));
    let windowed = both.select(
        left_names
            .iter()
            .map(ident)
            .chain([ident(KEY), ident(SIDE)])
            .chain([
                over(max(ident(NUMBER)), &up_to_here)?.alias(BEFORE),
                over(max(right_key.clone()), &up_to_here)?.alias(BEFORE_KEY),
                over(min(ident(NUMBER)), &from_here)?.alias(AFTER),
                over(min(right_key), &from_here)?.alias(AFTER_KEY),
            ])
            .collect::<Vec<_>>(),
    )?;
    let lefts = windowed.filter(ident(SIDE).eq(lit(1i8)))?;

    let before_gap = ident(KEY) - ident(BEFORE_KEY);
    let after_gap = ident(AFTER_KEY) - ident(KEY);
    let within = |gap: Expr| match &tolerance {
        Some(t) => gap.lt_eq(t.clone()),
        None => lit(true),
    };
    let before = when(within(before_gap.clone()), ident(BEFORE)).end()?;
    let after = when(within(after_gap.clone()), ident(AFTER)).end()?;
    let chosen = match asof.direction {
        AsofDirection::Backward => before,
        AsofDirection::Forward => after,
        // The earlier one on a tie, as pandas.
        AsofDirection::Nearest => when(ident(AFTER).is_null(), before.clone())
            .when(ident(BEFORE).is_null(), after.clone())
            .when(after_gap.lt(before_gap), after)
            .otherwise(before)?,
    };
    // A left row without a key takes nothing (its nulls sort last, after every right row).
    let chosen = when(ident(KEY).is_not_null(), chosen).end()?;
    let mut projection: Vec<Expr> = left_names.iter().map(ident).collect();
    projection.push(chosen.alias(NUMBER));
    Ok(lefts.select(projection)?)
}
