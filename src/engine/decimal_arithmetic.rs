//! Sums, differences and products of decimals computed without a check per value where no
//! value can overflow.
//!
//! arrow-rs computes each value of a `Decimal128` sum, difference or product with an
//! overflow-checked `i128` operation, and so one value at a time; a checked multiplication is
//! a call into the compiler's runtime (`__muloti4`). In TPC-H q1, `l_extendedprice * (1 -
//! l_discount)`, its product with `1 + l_tax`, and the two constants' sums took 11 % of the
//! CPU (docs/benchmarks.md). One pass over each side bounds its values; when the bounds' sum or
//! product fits, every value's does, and the values are added or multiplied as they are (a
//! product with one 64-bit multiplication each when both sides fit 64 bits). Otherwise
//! arrow-rs computes it as before, overflow errors included.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, RecordBatch};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::kernels::numeric::{add_wrapping, mul_wrapping, sub_wrapping};
use arrow::datatypes::{
    DECIMAL128_MAX_PRECISION, DECIMAL128_MAX_SCALE, DataType, Decimal128Type, Schema,
};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::sort_properties::ExprProperties;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::BinaryExpr;
use datafusion::physical_expr::projection::ProjectionExpr;
use datafusion::physical_expr_common::datum::apply;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateInputMode};
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::projection::ProjectionExec;

use super::stand_in::{self, stands_in_for};

/// Rewrites the decimal sums, differences and products that projections, filters and
/// first-stage aggregations compute into [`DecimalOp`]s. Runs after DataFusion's own rules.
#[derive(Debug)]
pub(super) struct DecimalArithmetic;

impl PhysicalOptimizerRule for DecimalArithmetic {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let rewritten = if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
                in_projection(projection)?
            } else if let Some(filter) = node.downcast_ref::<FilterExec>() {
                in_filter(filter)?
            } else if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
                in_aggregate(aggregate)?
            } else {
                None
            };
            Ok(match rewritten {
                Some(plan) => Transformed::yes(plan),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "decimal_arithmetic"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn in_projection(projection: &ProjectionExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let schema = projection.input().schema();
    let mut changed = false;
    let mut exprs = Vec::with_capacity(projection.expr().len());
    for item in projection.expr() {
        let expr = rewrite(Arc::clone(&item.expr), &schema)?;
        changed |= expr.transformed;
        exprs.push(ProjectionExpr {
            expr: expr.data,
            alias: item.alias.clone(),
        });
    }
    if !changed {
        return Ok(None);
    }
    let input = Arc::clone(projection.input());
    let rebuilt = ProjectionExec::try_new_with_schema_metadata(exprs, input, &projection.schema())?;
    Ok(Some(Arc::new(rebuilt)))
}

fn in_filter(filter: &FilterExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let predicate = rewrite(Arc::clone(filter.predicate()), &filter.input().schema())?;
    if !predicate.transformed {
        return Ok(None);
    }
    let rebuilt = FilterExecBuilder::from(filter)
        .with_predicate(predicate.data)
        .build()?;
    Ok(Some(Arc::new(rebuilt)))
}

/// Only an aggregation over raw rows evaluates its arguments; a final one merges states.
fn in_aggregate(aggregate: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if aggregate.mode().input_mode() != AggregateInputMode::Raw {
        return Ok(None);
    }
    let schema = aggregate.input_schema();
    let mut changed = false;
    let mut functions = Vec::with_capacity(aggregate.aggr_expr().len());
    for function in aggregate.aggr_expr() {
        let mut args = Vec::with_capacity(function.expressions().len());
        let mut rewritten = false;
        for arg in function.expressions() {
            let arg = rewrite(arg, &schema)?;
            rewritten |= arg.transformed;
            args.push(arg.data);
        }
        // `with_new_expressions` would forget that a function was reversed (an ordered
        // aggregate DataFusion turned round): such a function is left as planned.
        if !rewritten || function.is_reversed() {
            functions.push(Arc::clone(function));
            continue;
        }
        let order_by = function.order_bys().iter().map(|s| Arc::clone(&s.expr));
        match function.with_new_expressions(args, order_by.collect()) {
            Some(new) => functions.push(Arc::new(new)),
            None => return Ok(None),
        }
        changed = true;
    }
    Ok(changed.then(|| Arc::new(aggregate.with_new_aggr_exprs(functions)) as _))
}

/// `expr` with each sum, difference or product of two decimals a [`DecimalOp`].
fn rewrite(
    expr: Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
    expr.transform_up(|e| {
        Ok(match DecimalOp::over(&e, schema) {
            Some(faster) => Transformed::yes(Arc::new(faster) as Arc<dyn PhysicalExpr>),
            None => Transformed::no(e),
        })
    })
}

/// The operations computed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Plus,
    Minus,
    Multiply,
}

impl Arith {
    fn of(op: Operator) -> Option<Arith> {
        match op {
            Operator::Plus => Some(Arith::Plus),
            Operator::Minus => Some(Arith::Minus),
            Operator::Multiply => Some(Arith::Multiply),
            _ => None,
        }
    }
}

/// `left op right` over two `Decimal128` values. It shows as the `BinaryExpr` it replaces,
/// and leaves to arrow-rs whatever is not two decimal arrays (or an array and a constant)
/// whose bounds rule out an overflow.
#[derive(Debug)]
pub(super) struct DecimalOp {
    /// The `BinaryExpr` replaced.
    binary: Arc<dyn PhysicalExpr>,
    op: Arith,
    left: Arc<dyn PhysicalExpr>,
    right: Arc<dyn PhysicalExpr>,
}

impl DecimalOp {
    /// The `BinaryExpr` this stands for.
    pub(super) fn binary(&self) -> &Arc<dyn PhysicalExpr> {
        &self.binary
    }

    /// `expr` as a [`DecimalOp`], when it multiplies two decimals, or adds or subtracts two of
    /// one scale (arrow-rs rescales the others value by value, which this leaves to it; known
    /// here, it costs no pass over the values at run time).
    fn over(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<Self> {
        let faster = Self::of(expr)?;
        let scale = |side: &Arc<dyn PhysicalExpr>| match side.data_type(schema) {
            Ok(DataType::Decimal128(_, scale)) => Some(scale),
            _ => None,
        };
        let (left, right) = (scale(&faster.left)?, scale(&faster.right)?);
        (faster.op == Arith::Multiply || left == right).then_some(faster)
    }

    /// `expr` as a [`DecimalOp`], when it is a sum, difference or product as DataFusion plans
    /// one (without `fail_on_overflow`, which decimals ignore but other types would not). The
    /// sides' types are checked where a schema is known; `evaluate` computes anything else as
    /// `expr` does.
    fn of(expr: &Arc<dyn PhysicalExpr>) -> Option<Self> {
        let binary = expr.downcast_ref::<BinaryExpr>()?;
        let op = Arith::of(*binary.op())?;
        let (left, right) = (Arc::clone(binary.left()), Arc::clone(binary.right()));
        let planned = BinaryExpr::new(Arc::clone(&left), *binary.op(), Arc::clone(&right));
        (*binary == planned).then(|| DecimalOp {
            binary: Arc::clone(expr),
            op,
            left,
            right,
        })
    }
}

/// One side of an operation: its values, their nulls, type, and a bound on their magnitudes.
struct Side<'a> {
    values: &'a [i128],
    nulls: Option<&'a NullBuffer>,
    precision: u8,
    scale: i8,
    /// The bitwise or of the values' magnitudes: not below the largest, under twice it.
    bound: u128,
}

impl<'a> Side<'a> {
    fn of(value: &'a ColumnarValue) -> Option<Side<'a>> {
        match value {
            ColumnarValue::Array(array) => {
                let DataType::Decimal128(precision, scale) = *array.data_type() else {
                    return None;
                };
                let decimals = array.as_primitive_opt::<Decimal128Type>()?;
                let values = decimals.values().as_ref();
                let bound = values.iter().fold(0, |bound, v| bound | v.unsigned_abs());
                Some(Side {
                    values,
                    nulls: decimals.nulls(),
                    precision,
                    scale,
                    bound,
                })
            }
            ColumnarValue::Scalar(ScalarValue::Decimal128(Some(v), precision, scale)) => {
                Some(Side {
                    values: std::slice::from_ref(v),
                    nulls: None,
                    precision: *precision,
                    scale: *scale,
                    bound: v.unsigned_abs(),
                })
            }
            ColumnarValue::Scalar(_) => None,
        }
    }

    fn fits_i64(&self) -> bool {
        self.bound <= i64::MAX as u128
    }
}

/// `left op right` with the type arrow-rs gives it, when no value can overflow; `None` leaves
/// it to arrow-rs.
fn compute(op: Arith, left: &Side, right: &Side) -> Option<ArrayRef> {
    let (values, precision, scale) = match op {
        Arith::Multiply => multiply(left, right)?,
        Arith::Plus | Arith::Minus => {
            // Sides of different scales are rescaled by arrow-rs.
            if left.scale != right.scale || left.bound.checked_add(right.bound)? > i128::MAX as u128
            {
                return None;
            }
            let values = match op {
                Arith::Plus => each(left, right, |l, r| l + r),
                _ => each(left, right, |l, r| l - r),
            };
            // As arrow-rs: the larger count of digits before the point, one more, the scale.
            let whole = |side: &Side| i16::from(side.precision) - i16::from(side.scale);
            let digits = i16::from(left.scale) + whole(left).max(whole(right)) + 1;
            let precision = u8::try_from(digits).ok()?.min(DECIMAL128_MAX_PRECISION);
            (values, precision, left.scale)
        }
    };
    let nulls = NullBuffer::union(left.nulls, right.nulls);
    let array = Decimal128Array::new(values, nulls).with_precision_and_scale(precision, scale);
    Some(Arc::new(array.ok()?))
}

/// A product's values, precision and scale, as arrow-rs types it.
fn multiply(left: &Side, right: &Side) -> Option<(ScalarBuffer<i128>, u8, i8)> {
    let scale = left.scale.checked_add(right.scale)?;
    if scale > DECIMAL128_MAX_SCALE || left.bound.checked_mul(right.bound)? > i128::MAX as u128 {
        return None;
    }
    let precision = (left.precision + right.precision + 1).min(DECIMAL128_MAX_PRECISION);
    let values = if left.fits_i64() && right.fits_i64() {
        // Both sides as 64-bit values: one widening multiplication per row.
        each(left, right, |l, r| {
            i128::from(l as i64) * i128::from(r as i64)
        })
    } else {
        each(left, right, |l, r| l * r)
    };
    Some((values, precision, scale))
}

/// `f` of each row's two values, a constant side's one value standing for every row.
fn each(left: &Side, right: &Side, f: impl Fn(i128, i128) -> i128) -> ScalarBuffer<i128> {
    match (left.values, right.values) {
        ([l], r) if r.len() != 1 => r.iter().map(|&r| f(*l, r)).collect(),
        (l, [r]) => l.iter().map(|&l| f(l, *r)).collect(),
        (l, r) => l.iter().zip(r).map(|(&l, &r)| f(l, r)).collect(),
    }
}

impl PhysicalExpr for DecimalOp {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.binary.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.binary.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let (left, right) = (self.left.evaluate(batch)?, self.right.evaluate(batch)?);
        let an_array =
            matches!(left, ColumnarValue::Array(_)) || matches!(right, ColumnarValue::Array(_));
        if an_array
            && let (Some(l), Some(r)) = (Side::of(&left), Side::of(&right))
            && let Some(answer) = compute(self.op, &l, &r)
        {
            return Ok(ColumnarValue::Array(answer));
        }
        // What the `BinaryExpr` computes without `fail_on_overflow` (decimals' overflow is
        // checked either way).
        match self.op {
            Arith::Plus => apply(&left, &right, add_wrapping),
            Arith::Minus => apply(&left, &right, sub_wrapping),
            Arith::Multiply => apply(&left, &right, mul_wrapping),
        }
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.left, &self.right]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        stand_in::with_new_children(&self.binary, children, DecimalOp::of)
    }

    fn get_properties(&self, children: &[ExprProperties]) -> Result<ExprProperties> {
        self.binary.get_properties(children)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.binary.fmt_sql(f)
    }
}

stands_in_for!(DecimalOp, binary, shown);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{AsArray, Decimal128Array, RecordBatch};
    use arrow::datatypes::{DataType, Decimal128Type, Field, Schema};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::physical_expr::PhysicalExpr;
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::aggregates::AggregateExec;
    use datafusion::physical_plan::projection::ProjectionExec;
    use datafusion::prelude::SessionContext;

    use super::{DecimalArithmetic, DecimalOp, stand_in};

    type Column = (&'static str, u8, i8, Vec<Option<i128>>);

    /// `a` and `b` as `decimal(15, 2)` and `decimal(16, 2)` (TPC-H's prices and discounts),
    /// with negatives, nulls and values of 15 and 16 digits; `big` as `decimal(38, 0)`, past
    /// 64 bits; `huge` near 10^37, whose squares overflow, and `largest`, the largest `i128`.
    fn columns() -> [Column; 5] {
        [
            (
                "a",
                15,
                2,
                vec![
                    Some(150),
                    Some(-225),
                    None,
                    Some(999_999_999_999_999),
                    Some(1),
                ],
            ),
            (
                "b",
                16,
                2,
                vec![
                    Some(200),
                    Some(310),
                    Some(100),
                    None,
                    Some(-9_999_999_999_999_999),
                ],
            ),
            (
                "big",
                38,
                0,
                vec![Some(-(1 << 70)), Some(1 << 72), Some(3), Some(0), None],
            ),
            ("huge", 38, 0, vec![Some(10_i128.pow(37)); 5]),
            ("largest", 38, 0, vec![Some(i128::MAX); 5]),
        ]
    }

    fn session(with_rule: bool) -> SessionContext {
        let ctx = stand_in::session_with(with_rule.then(|| Arc::new(DecimalArithmetic) as _));
        let (fields, arrays): (Vec<_>, Vec<_>) = columns()
            .into_iter()
            .map(|(name, precision, scale, values)| {
                let field = Field::new(name, DataType::Decimal128(precision, scale), true);
                let array = Decimal128Array::from(values)
                    .with_precision_and_scale(precision, scale)
                    .unwrap();
                (field, Arc::new(array) as _)
            })
            .unzip();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        ctx.register_batch("t", batch).unwrap();
        ctx
    }

    /// The first column's values and type, and how many operations the plan computes as
    /// [`DecimalOp`]s.
    async fn run(with_rule: bool, sql: &str) -> (Vec<Option<i128>>, DataType, usize) {
        let frame = session(with_rule).sql(sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let batches = frame.collect().await.unwrap();
        let values = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Decimal128Type>().iter())
            .collect();
        (
            values,
            batches[0].column(0).data_type().clone(),
            rewritten(&plan),
        )
    }

    fn rewritten(plan: &Arc<dyn ExecutionPlan>) -> usize {
        let mut count = 0;
        let mut look = |expr: &Arc<dyn PhysicalExpr>| {
            expr.apply(|e| {
                count += usize::from(e.downcast_ref::<DecimalOp>().is_some());
                Ok(TreeNodeRecursion::Continue)
            })
            .unwrap();
        };
        plan.apply(|node| {
            if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
                projection.expr().iter().for_each(|e| look(&e.expr));
            }
            if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
                let functions = aggregate.aggr_expr();
                functions
                    .iter()
                    .flat_map(|f| f.expressions())
                    .for_each(|e| look(&e));
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        count
    }

    /// `f` of two columns of `columns()` row by row, null where either is.
    fn rows(left: usize, right: usize, f: fn(i128, i128) -> i128) -> Vec<Option<i128>> {
        let columns = columns();
        let (l, r) = (&columns[left].3, &columns[right].3);
        l.iter()
            .zip(r)
            .map(|(l, r)| Some(f((*l)?, (*r)?)))
            .collect()
    }

    #[tokio::test]
    async fn operations_that_cannot_overflow_are_exact_with_arrows_types() {
        let times_constant = columns()[0].3.iter().map(|v| Some((*v)? * -35)).collect();
        let constant_minus = columns()[1].3.iter().map(|v| Some(100 - (*v)?)).collect();
        let cases = [
            ("SELECT a * b FROM t", rows(0, 1, |l, r| l * r), (32, 4)),
            ("SELECT big * a FROM t", rows(2, 0, |l, r| l * r), (38, 2)),
            (
                "SELECT a * CAST(-3.5 AS DECIMAL(2, 1)) FROM t",
                times_constant,
                (18, 3),
            ),
            ("SELECT a + b FROM t", rows(0, 1, |l, r| l + r), (17, 2)),
            ("SELECT a - b FROM t", rows(0, 1, |l, r| l - r), (17, 2)),
            (
                "SELECT CAST(1 AS DECIMAL(3, 2)) - b FROM t",
                constant_minus,
                (17, 2),
            ),
            (
                "SELECT big - huge FROM t",
                rows(2, 3, |l, r| l - r),
                (38, 0),
            ),
        ];
        for (sql, expected, (precision, scale)) in cases {
            assert!(expected.iter().any(|v| v.is_some_and(|v| v < 0)), "{sql}");
            let ty = DataType::Decimal128(precision, scale);
            assert_eq!(
                run(true, sql).await,
                (expected.clone(), ty.clone(), 1),
                "{sql}"
            );
            assert_eq!(run(false, sql).await, (expected, ty, 0), "{sql}");
        }
    }

    #[tokio::test]
    async fn an_aggregations_argument_is_rewritten() {
        let sql = "SELECT sum(a * b) FROM t";
        let sum: i128 = rows(0, 1, |l, r| l * r).into_iter().flatten().sum();
        let (values, _, rewritten) = run(true, sql).await;
        assert_eq!((values, rewritten), (vec![Some(sum)], 1));
        assert_eq!(run(false, sql).await.0, vec![Some(sum)]);
    }

    #[tokio::test]
    async fn an_operation_that_may_overflow_is_left_to_arrow_and_its_error_kept() {
        for sql in ["SELECT huge * huge FROM t", "SELECT largest + big FROM t"] {
            let mut errors = Vec::new();
            for with_rule in [true, false] {
                let frame = session(with_rule).sql(sql).await.unwrap();
                errors.push(frame.collect().await.unwrap_err().to_string());
            }
            assert!(errors[0].contains("Overflow"), "{sql}: {}", errors[0]);
            assert_eq!(errors[0], errors[1], "{sql}");
        }
    }
}
