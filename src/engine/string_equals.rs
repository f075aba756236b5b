//! A string column compared with a constant of at most 12 bytes, compared view by view.
//!
//! DataFusion reads Parquet strings as `Utf8View`: each value is a 16-byte view that holds its
//! length and, when it has at most 12 bytes, the string itself, zero-padded (arrow-rs refuses
//! a view padded otherwise). Such a value equals a constant of at most 12 bytes exactly when
//! the two views are equal. arrow-rs's `=` compares whole views only in arrays without data
//! buffers; a column decoded from a Parquet dictionary keeps that dictionary as a buffer, so
//! it compares each value through its length, prefix and bytes: a sixth of TPC-H q12's CPU
//! (`l_shipmode IN ('MAIL', 'SHIP')`, planned as two `=`; docs/benchmarks.md).

use std::fmt;
use std::sync::Arc;

use arrow::array::builder::make_view;
use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};

use super::stand_in::{self, stands_in_for};

/// The longest string a view holds in itself.
const INLINE_BYTES: usize = 12;

/// Rewrites the filters' `column = 'short constant'` under an `OR` (an `IN` list of strings
/// is planned as such) into [`ViewEquals`]. Runs after DataFusion's own rules, on the filters
/// they leave.
#[derive(Debug)]
pub(super) struct ShortStringEquals;

impl PhysicalOptimizerRule for ShortStringEquals {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(filter) = node.downcast_ref::<FilterExec>() else {
                return Ok(Transformed::no(node));
            };
            let schema = filter.input().schema();
            let predicate = under_or(Arc::clone(filter.predicate()), &schema)?;
            if !predicate.transformed {
                return Ok(Transformed::no(node));
            }
            let filter = FilterExecBuilder::from(filter)
                .with_predicate(predicate.data)
                .build()?;
            Ok(Transformed::yes(Arc::new(filter) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "short_string_equals"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `predicate` with each `=` under an `OR` a [`ViewEquals`] where it can be. The conjuncts
/// above stay as they are: DataFusion reads a filter's conjuncts (as `BinaryExpr`s) for the
/// columns it makes constant or equal, which its parents' orderings rest on.
fn under_or(
    predicate: Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
    match predicate.downcast_ref::<BinaryExpr>().map(|b| *b.op()) {
        Some(Operator::And) => predicate.map_children(|conjunct| under_or(conjunct, schema)),
        Some(Operator::Or) => predicate.transform_up(|expr| {
            Ok(match ViewEquals::over(&expr, schema) {
                Some(faster) => Transformed::yes(Arc::new(faster) as Arc<dyn PhysicalExpr>),
                None => Transformed::no(expr),
            })
        }),
        _ => Ok(Transformed::no(predicate)),
    }
}

/// `value = constant` (either way round) over a `Utf8View` value and a constant of at most
/// 12 bytes. It shows and serialises as the comparison it replaces, which it also runs where
/// the value is not an array of views.
#[derive(Debug)]
pub(super) struct ViewEquals {
    /// The `BinaryExpr` replaced.
    comparison: Arc<dyn PhysicalExpr>,
    value: Arc<dyn PhysicalExpr>,
    /// The constant's view.
    view: u128,
}

impl ViewEquals {
    /// The comparison this stands for.
    pub(super) fn comparison(&self) -> &Arc<dyn PhysicalExpr> {
        &self.comparison
    }

    /// `expr` as a [`ViewEquals`], when it is such a comparison.
    fn over(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<Self> {
        let faster = Self::of(expr)?;
        (faster.value.data_type(schema).ok()? == DataType::Utf8View).then_some(faster)
    }

    /// `expr` as a [`ViewEquals`], when it is `=` between a value and a short string constant.
    /// (The value's type is checked where a schema is known; `evaluate` compares anything other
    /// than views as `expr` does.)
    fn of(expr: &Arc<dyn PhysicalExpr>) -> Option<Self> {
        let binary = expr.downcast_ref::<BinaryExpr>()?;
        if *binary.op() != Operator::Eq {
            return None;
        }
        let (value, constant) = match (
            binary.left().downcast_ref::<Literal>(),
            binary.right().downcast_ref::<Literal>(),
        ) {
            (None, Some(constant)) => (binary.left(), constant),
            (Some(constant), None) => (binary.right(), constant),
            _ => return None,
        };
        let text = match constant.value() {
            ScalarValue::Utf8View(Some(text))
            | ScalarValue::Utf8(Some(text))
            | ScalarValue::LargeUtf8(Some(text)) => text,
            _ => return None,
        };
        (text.len() <= INLINE_BYTES).then(|| ViewEquals {
            comparison: Arc::clone(expr),
            value: Arc::clone(value),
            view: make_view(text.as_bytes(), 0, 0),
        })
    }
}

impl PhysicalExpr for ViewEquals {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.comparison.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let ColumnarValue::Array(array) = self.value.evaluate(batch)? else {
            return self.comparison.evaluate(batch);
        };
        let Some(strings) = array.as_string_view_opt() else {
            return self.comparison.evaluate(batch);
        };
        let views = strings.views();
        let equal = BooleanBuffer::collect_bool(views.len(), |i| views[i] == self.view);
        let answer = BooleanArray::new(equal, strings.nulls().cloned());
        Ok(ColumnarValue::Array(Arc::new(answer)))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.comparison.children()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        stand_in::with_new_children(&self.comparison, children, ViewEquals::of)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.comparison.fmt_sql(f)
    }
}

stands_in_for!(ViewEquals, comparison, shown);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{AsArray, Int64Array, RecordBatch, StringViewArray};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::filter::FilterExec;
    use datafusion::prelude::SessionContext;

    use super::{ShortStringEquals, ViewEquals, stand_in};

    /// Short and long strings (the long ones in a data buffer, so arrow-rs compares value by
    /// value), a twelve-byte one, a prefix of a long one, and a null.
    fn strings() -> Vec<Option<&'static str>> {
        vec![
            Some("MAIL"),
            Some("SHIP"),
            Some("a string of more than twelve bytes"),
            Some("MAIL "),
            None,
            Some("twelve bytes"),
            Some(""),
            Some("twelve bytes and more"),
            Some("MAI"),
            Some("SHIP"),
        ]
    }

    fn session(with_rule: bool) -> SessionContext {
        let ctx = stand_in::session_with(with_rule.then(|| Arc::new(ShortStringEquals) as _));
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, false),
            Field::new("s", DataType::Utf8View, true),
        ]));
        let i = Int64Array::from_iter_values(0..strings().len() as i64);
        let s = StringViewArray::from(strings());
        assert!(!s.data_buffers().is_empty());
        let batch = RecordBatch::try_new(schema, vec![Arc::new(i), Arc::new(s)]).unwrap();
        ctx.register_batch("t", batch).unwrap();
        ctx
    }

    /// The rows kept, and how many of the filters' comparisons were compared view by view.
    async fn rows(with_rule: bool, condition: &str) -> (Vec<i64>, usize) {
        let sql = format!("SELECT i FROM t WHERE {condition} ORDER BY i");
        let frame = session(with_rule).sql(&sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let batches = frame.collect().await.unwrap();
        let kept = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        (kept, views_compared(&plan))
    }

    fn views_compared(plan: &Arc<dyn ExecutionPlan>) -> usize {
        let mut count = 0;
        plan.apply(|node| {
            if let Some(filter) = node.downcast_ref::<FilterExec>() {
                filter.predicate().apply(|expr| {
                    count += usize::from(expr.downcast_ref::<ViewEquals>().is_some());
                    Ok(TreeNodeRecursion::Continue)
                })?;
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        count
    }

    /// The rows of `strings()` where `keep` holds.
    fn expected(keep: impl Fn(&str) -> bool) -> Vec<i64> {
        (0..)
            .zip(strings())
            .filter(|(_, s)| s.is_some_and(&keep))
            .map(|(i, _)| i)
            .collect()
    }

    #[tokio::test]
    async fn short_constants_are_compared_by_view_with_the_same_rows_kept() {
        let cases = [
            (
                "s = 'MAIL' OR s = 'SHIP'",
                2,
                expected(|s| s == "MAIL" || s == "SHIP"),
            ),
            (
                "'twelve bytes' = s OR s = ''",
                2,
                expected(|s| s == "twelve bytes" || s.is_empty()),
            ),
            ("s = 'MAI' OR i = 3", 1, vec![3, 8]),
            ("(s = 'MAIL' OR s = 'SHIP') AND i > 0", 2, vec![1, 9]),
        ];
        for (condition, compared, rows_kept) in cases {
            assert!(!rows_kept.is_empty(), "{condition}");
            let (kept, by_view) = rows(true, condition).await;
            assert_eq!(kept, rows_kept, "{condition}");
            assert_eq!(by_view, compared, "{condition}");
            assert_eq!(rows(false, condition).await, (rows_kept, 0), "{condition}");
        }
    }

    #[tokio::test]
    async fn longer_constants_other_comparisons_and_conjuncts_stay_as_planned() {
        let conjunct = "s = 'MAIL' AND i >= 0";
        assert_eq!(rows(true, conjunct).await, (vec![0], 0));
        let long = "s = 'twelve bytes and more' OR s = 'MAI'";
        assert_eq!(rows(true, long).await, (vec![7, 8], 1));
        let ordered = "s < 'MAIL' OR i = 0";
        let kept = expected(|s| s <= "MAIL");
        assert_eq!(rows(true, ordered).await, (kept, 0));
    }
}
