//! Means of decimals as pandas, DuckDB and Postgres give them. DataFusion's `avg` of a
//! `decimal(p, s)` returns `decimal(p + 4, s + 4)` with the digits past that scale cut off
//! (TPC-H q1's `avg(l_discount)`: 0.049984999… for 0.0499852958…); a pandas user's `mean`
//! must not lose digits. Rusk's `avg` (alias `mean`) reads decimals as float64, like pandas,
//! and is DataFusion's own `avg` in everything else.

use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::types::{NativeType, logical_float64};
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Coercion, Documentation, GroupsAccumulator,
    ReversedUDAF, Signature, TypeSignature, TypeSignatureClass, Volatility,
};
use datafusion::scalar::ScalarValue;

/// Replaces `avg` (and `mean`) in a session.
pub(super) fn exact_means(ctx: &SessionContext) {
    ctx.register_udaf(AggregateUDF::new_from_impl(FloatMeanOfDecimals::new()));
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FloatMeanOfDecimals {
    inner: Arc<AggregateUDF>,
    signature: Signature,
}

impl FloatMeanOfDecimals {
    fn new() -> Self {
        // DataFusion's own signature, but with decimals among the types read as float64.
        let signature = Signature::one_of(
            vec![
                TypeSignature::Coercible(vec![Coercion::new_exact(TypeSignatureClass::Duration)]),
                TypeSignature::Coercible(vec![Coercion::new_implicit(
                    TypeSignatureClass::Native(logical_float64()),
                    vec![
                        TypeSignatureClass::Integer,
                        TypeSignatureClass::Float,
                        TypeSignatureClass::Decimal,
                    ],
                    NativeType::Float64,
                )]),
            ],
            Volatility::Immutable,
        );
        Self {
            inner: avg_udaf(),
            signature,
        }
    }
}

impl AggregateUDFImpl for FloatMeanOfDecimals {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.create_sliding_accumulator(args)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_udf()
    }

    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.default_value(data_type)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Decimal128Array, Float64Array, Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use super::exact_means;

    /// 999 amounts in cents: their mean has more digits than `decimal(19, 6)` keeps.
    fn cents() -> Vec<i128> {
        (0..999).map(|i| (i * 7919) % 1013).collect()
    }

    async fn session() -> SessionContext {
        let ctx = SessionContext::new();
        exact_means(&ctx);
        let schema = Arc::new(Schema::new(vec![
            Field::new("d", DataType::Decimal128(15, 2), false),
            Field::new("g", DataType::Int64, false),
        ]));
        let d = Decimal128Array::from(cents())
            .with_precision_and_scale(15, 2)
            .unwrap();
        let g = Int64Array::from_iter_values((0..999).map(|i| i % 2));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(d), Arc::new(g)]).unwrap();
        ctx.register_batch("t", batch).unwrap();
        ctx
    }

    /// The exact mean, in float64 (pandas' answer), from the integer cents.
    fn expected(values: impl Iterator<Item = i128>) -> f64 {
        let (sum, n) = values.fold((0i128, 0i128), |(s, n), v| (s + v, n + 1));
        sum as f64 / n as f64 / 100.0
    }

    /// Equal but for the float64 rounding of the sum's order.
    fn assert_close(got: &[f64], expected: &[f64]) {
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(expected) {
            assert!(
                (g - e).abs() <= 1e-12 * e.abs(),
                "{got:?} against {expected:?}"
            );
        }
    }

    async fn means(sql: &str) -> Vec<f64> {
        let batches = session()
            .await
            .sql(sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let column = batches[0].column(0);
        assert_eq!(column.data_type(), &DataType::Float64, "{sql}");
        let values = column.as_any().downcast_ref::<Float64Array>().unwrap();
        values.iter().map(Option::unwrap).collect()
    }

    #[tokio::test]
    async fn the_mean_of_a_decimal_keeps_its_digits() {
        let all = expected(cents().into_iter());
        assert_ne!((all * 1e6).fract(), 0.0, "more digits than six places");
        assert_close(&means("SELECT avg(d) FROM t").await, &[all]);
        assert_close(&means("SELECT mean(d) FROM t").await, &[all]);
        let even = expected(cents().into_iter().step_by(2));
        let odd = expected(cents().into_iter().skip(1).step_by(2));
        assert_close(
            &means("SELECT avg(d) FROM t GROUP BY g ORDER BY g").await,
            &[even, odd],
        );
    }

    #[tokio::test]
    async fn integers_and_floats_average_as_before() {
        let expected_mean = (0..999).map(|i| (i % 2) as f64).sum::<f64>() / 999.0;
        assert_close(&means("SELECT avg(g) FROM t").await, &[expected_mean]);
    }
}
