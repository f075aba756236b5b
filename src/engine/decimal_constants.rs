//! A constant added to or taken from a decimal is planned at that decimal's scale.
//!
//! SQL types the `1` of `1 - l_discount` as `decimal(20, 0)`. arrow-rs adds or subtracts two
//! decimals of different scales by rescaling both sides, value by value, with two
//! overflow-checked `i128` multiplications: with `1 + l_tax` that was a sixth of TPC-H q1's CPU
//! (docs/benchmarks.md). The same constant at the other side's scale (`100` as
//! `decimal(22, 2)`: two more digits, both of them after the point) has the same value and
//! gives the result the same type, since arrow keeps the larger scale and the larger count of
//! digits before the point; with equal scales arrow adds or subtracts the values as they are.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// Arrow's widest 128-bit decimal.
const MAX_PRECISION: i16 = 38;

/// The optimizer rule: runs after DataFusion's own, once types are coerced and constants
/// folded.
#[derive(Debug)]
pub struct ConstantsAtDecimalScale;

impl OptimizerRule for ConstantsAtDecimalScale {
    fn name(&self) -> &str {
        "constants_at_decimal_scale"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        // The nodes whose expressions compute over one input's rows; a join's keys and
        // filters are left as DataFusion planned them.
        let one_input = matches!(
            plan,
            LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Window(_)
                | LogicalPlan::Sort(_)
        );
        let schema = match plan.inputs().first() {
            Some(input) if one_input => input.schema().clone(),
            _ => return Ok(Transformed::no(plan)),
        };
        // A rewritten expression keeps its name, so the node's schema is unchanged.
        let names = NamePreserver::new(&plan);
        plan.map_expressions(|expr| {
            // A grouping set's keys each keep their own name, which an alias of the whole set
            // would hide from DataFusion's planner: left as planned.
            if matches!(expr, Expr::GroupingSet(_)) {
                return Ok(Transformed::no(expr));
            }
            let name = names.save(&expr);
            let rewritten = expr.transform_up(|e| at_decimal_scale(e, &schema))?;
            Ok(if rewritten.transformed {
                rewritten.update_data(|e| name.restore(e))
            } else {
                rewritten
            })
        })
    }
}

/// `expr` with a constant decimal term of a sum or difference at the other term's scale.
fn at_decimal_scale(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: op @ (Operator::Plus | Operator::Minus),
        right,
    }) = &expr
    else {
        return Ok(Transformed::no(expr));
    };
    // The other side's type only where this side is a decimal constant: `get_type` walks
    // the whole side, and sums nest.
    let at_scale_of = |constant: &Expr, other: &Expr| {
        let decimal = matches!(
            constant,
            Expr::Literal(ScalarValue::Decimal128(Some(_), _, _), _)
        );
        decimal
            .then(|| decimal_scale(other, schema))
            .flatten()
            .and_then(|scale| rescaled(constant, scale))
    };
    let (left, right) = match (at_scale_of(left, right), at_scale_of(right, left)) {
        (Some(constant), _) => (constant, right.as_ref().clone()),
        (None, Some(constant)) => (left.as_ref().clone(), constant),
        (None, None) => return Ok(Transformed::no(expr)),
    };
    let op = *op;
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left),
        op,
        Box::new(right),
    ))))
}

/// The scale of `expr` when it is a 128-bit decimal (a type not known here leaves the
/// expression as DataFusion planned it).
fn decimal_scale(expr: &Expr, schema: &DFSchema) -> Option<i8> {
    match expr.get_type(schema).ok()? {
        DataType::Decimal128(_, scale) => Some(scale),
        _ => None,
    }
}

/// `expr`, a constant decimal of a smaller scale than `scale`, at `scale`: the same value,
/// with as many more digits as places; `None` for anything else, or when 38 digits would not
/// hold it.
fn rescaled(expr: &Expr, scale: i8) -> Option<Expr> {
    let Expr::Literal(ScalarValue::Decimal128(Some(value), precision, own_scale), metadata) = expr
    else {
        return None;
    };
    let places = i16::from(scale) - i16::from(*own_scale);
    let precision = i16::from(*precision) + places;
    if places <= 0 || precision > MAX_PRECISION {
        return None;
    }
    let value = value.checked_mul(10i128.checked_pow(u32::try_from(places).ok()?)?)?;
    let constant = ScalarValue::Decimal128(Some(value), u8::try_from(precision).ok()?, scale);
    Some(Expr::Literal(constant, metadata.clone()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Decimal128Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::ConstantsAtDecimalScale;

    /// Discounts and taxes in hundredths, as TPC-H's `decimal(15, 2)`.
    const HUNDREDTHS: [i128; 6] = [0, 4, 7, 10, -3, 99_999];

    fn session(with_rule: bool) -> SessionContext {
        // Decimal constants as written (`2.5` a `decimal(2, 1)`), not folded casts.
        let config =
            SessionConfig::new().set_bool("datafusion.sql_parser.parse_float_as_decimal", true);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        let state = if with_rule {
            state.with_optimizer_rule(Arc::new(ConstantsAtDecimalScale))
        } else {
            state
        };
        let ctx = SessionContext::new_with_state(state.build());
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::Decimal128(15, 2),
            true,
        )]));
        let values = HUNDREDTHS.iter().map(|v| Some(*v)).chain([None]);
        let d = Decimal128Array::from_iter(values)
            .with_precision_and_scale(15, 2)
            .unwrap();
        let batch = RecordBatch::try_new(schema, vec![Arc::new(d)]).unwrap();
        ctx.register_batch("t", batch).unwrap();
        ctx
    }

    async fn run(with_rule: bool, sql: &str) -> (String, RecordBatch) {
        let frame = session(with_rule).sql(sql).await.unwrap();
        let plan = frame.clone().into_optimized_plan().unwrap();
        let batches = frame.collect().await.unwrap();
        let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        (plan.display_indent().to_string(), batch)
    }

    /// Column `i` of `batch` as hundredths (or ten-thousandths, per its scale).
    fn raw(batch: &RecordBatch, i: usize) -> Vec<Option<i128>> {
        let column = batch.column(i);
        let values = column.as_any().downcast_ref::<Decimal128Array>().unwrap();
        values.iter().collect()
    }

    #[tokio::test]
    async fn a_constant_joins_its_decimal_at_its_scale_and_the_answer_is_unchanged() {
        let sql = "SELECT 1 - d, d + 1, CAST(2.5 AS DECIMAL(2, 1)) - d, d * (1 - d), sum(1 + d) OVER () FROM t";
        let (plan, batch) = run(true, sql).await;
        let (plain_plan, plain) = run(false, sql).await;
        // `1` was a decimal(20, 0) and `2.5` a decimal(2, 1); both now have two places.
        assert!(plan.contains("Decimal128(1.00,22,2) - t.d"), "{plan}");
        assert!(plan.contains("t.d + Decimal128(1.00,22,2)"), "{plan}");
        assert!(plan.contains("Decimal128(2.50,3,2) - t.d"), "{plan}");
        assert!(
            plain_plan.contains("Decimal128(1,20,0) - t.d"),
            "{plain_plan}"
        );
        // Same names, types and values as DataFusion's own plan.
        assert_eq!(batch.schema(), plain.schema());
        assert_eq!(batch, plain);
        let one_minus = HUNDREDTHS.iter().map(|d| Some(100 - d)).chain([None]);
        assert_eq!(raw(&batch, 0), one_minus.collect::<Vec<_>>());
        let plus_one = HUNDREDTHS.iter().map(|d| Some(d + 100)).chain([None]);
        assert_eq!(raw(&batch, 1), plus_one.collect::<Vec<_>>());
        let product = HUNDREDTHS.iter().map(|d| Some(d * (100 - d))).chain([None]);
        assert_eq!(raw(&batch, 3), product.collect::<Vec<_>>());
        assert_eq!(batch.schema().field(0).name(), "Int64(1) - t.d");
        assert_eq!(
            batch.schema().field(0).data_type(),
            &DataType::Decimal128(23, 2)
        );
    }

    #[tokio::test]
    async fn a_constant_that_38_digits_would_not_hold_at_that_scale_stays() {
        let sql = "SELECT CAST(1 AS DECIMAL(38, 0)) - d, d - CAST(0.125 AS DECIMAL(5, 3)) FROM t";
        let (plan, batch) = run(true, sql).await;
        let (_, plain) = run(false, sql).await;
        // 38 digits and two more places would be 40; 0.125 has more places than `d`.
        assert!(plan.contains("Decimal128(1,38,0) - t.d"), "{plan}");
        assert!(plan.contains("t.d - Decimal128(0.125,5,3)"), "{plan}");
        assert_eq!(batch, plain);
    }

    #[tokio::test]
    async fn grouping_sets_are_planned_as_before() {
        let sql = "SELECT d + 2.5 AS e, count(*) AS n FROM t GROUP BY ROLLUP(d + 2.5) ORDER BY e";
        let (_, batch) = run(true, sql).await;
        let (_, plain) = run(false, sql).await;
        assert_eq!(batch, plain);
        // Each value once, the null group once more, and the total.
        assert_eq!(batch.num_rows(), HUNDREDTHS.len() + 2);
    }
}
