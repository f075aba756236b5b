//! Means of decimals as pandas, DuckDB and Postgres give them. DataFusion's `avg` of a
//! `decimal(p, s)` returns `decimal(p + 4, s + 4)` with the digits past that scale cut off
//! (TPC-H q1's `avg(l_discount)`: 0.049984999… for 0.0499852958…); a pandas user's `mean`
//! must not lose digits. Rusk's `avg` (alias `mean`) of a decimal is a float64, as in pandas:
//! DataFusion's own exact decimal sum and count, divided as floats only when the mean is
//! emitted (reading every value as a float instead cost TPC-H q1 ~40 ms per mean). Everything
//! else is DataFusion's own `avg`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::internal_err;
use datafusion::common::types::{NativeType, logical_float64};
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Coercion, Documentation, EmitTo,
    GroupsAccumulator, ReversedUDAF, Signature, TypeSignature, TypeSignatureClass, Volatility,
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
        // DataFusion's own signature, with decimals kept as they are.
        let signature = Signature::one_of(
            vec![
                TypeSignature::Coercible(vec![Coercion::new_exact(TypeSignatureClass::Duration)]),
                TypeSignature::Coercible(vec![Coercion::new_exact(TypeSignatureClass::Decimal)]),
                TypeSignature::Coercible(vec![Coercion::new_implicit(
                    TypeSignatureClass::Native(logical_float64()),
                    vec![TypeSignatureClass::Integer, TypeSignatureClass::Float],
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

    /// `args` as DataFusion's decimal `avg` wants them: its own (decimal) return type. `None`
    /// where the input is not a decimal.
    fn decimal_args<'a>(&self, args: &AccumulatorArgs<'a>) -> Result<Option<AccumulatorArgs<'a>>> {
        let Some(input) = args.expr_fields.first().map(|f| f.data_type()) else {
            return Ok(None);
        };
        if !input.is_decimal() {
            return Ok(None);
        }
        let decimal = self.inner.return_type(std::slice::from_ref(input))?;
        Ok(Some(AccumulatorArgs {
            return_field: Arc::new(Field::new(args.name, decimal, true)),
            ..args.clone()
        }))
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
        match arg_types.first() {
            Some(t) if t.is_decimal() => Ok(DataType::Float64),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match self.decimal_args(&args)? {
            Some(decimal) => Ok(Box::new(FloatMean(self.inner.accumulator(decimal)?))),
            None => self.inner.accumulator(args),
        }
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
        match self.decimal_args(&args)? {
            Some(decimal) => Ok(Box::new(FloatMeans(
                self.inner.create_groups_accumulator(decimal)?,
            ))),
            None => self.inner.create_groups_accumulator(args),
        }
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match self.decimal_args(&args)? {
            Some(decimal) => Ok(Box::new(FloatMean(
                self.inner.create_sliding_accumulator(decimal)?,
            ))),
            None => self.inner.create_sliding_accumulator(args),
        }
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

/// The means, as float64, from DataFusion's decimal `avg` state: `[count, sum]`, or for a
/// distinct mean `[list of the distinct values]`.
fn means_of(state: &[ArrayRef]) -> Result<ArrayRef> {
    let means: Float64Array = match state {
        [counts, sums] => {
            let counts = counts.as_primitive::<UInt64Type>();
            let sums = cast(sums, &DataType::Float64)?;
            let sums = sums.as_primitive::<Float64Type>();
            (0..counts.len())
                .map(|i| {
                    let present = counts.is_valid(i) && counts.value(i) > 0 && sums.is_valid(i);
                    present.then(|| sums.value(i) / counts.value(i) as f64)
                })
                .collect()
        }
        [lists] => {
            let lists = lists.as_list::<i32>();
            let mut means = Vec::with_capacity(lists.len());
            for i in 0..lists.len() {
                let values = cast(&lists.value(i), &DataType::Float64)?;
                let values = values.as_primitive::<Float64Type>();
                let present: Vec<f64> = values.iter().flatten().collect();
                means.push(
                    (!present.is_empty())
                        .then(|| present.iter().sum::<f64>() / present.len() as f64),
                );
            }
            means.into_iter().collect()
        }
        _ => return internal_err!("unexpected state of avg: {} arrays", state.len()),
    };
    Ok(Arc::new(means))
}

/// DataFusion's decimal `avg`, emitting float64 means.
#[derive(Debug)]
struct FloatMean(Box<dyn Accumulator>);

impl Accumulator for FloatMean {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.update_batch(values)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = self
            .0
            .state()?
            .iter()
            .map(ScalarValue::to_array)
            .collect::<Result<Vec<_>>>()?;
        ScalarValue::try_from_array(&means_of(&state)?, 0)
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge_batch(states)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.retract_batch(values)
    }

    fn supports_retract_batch(&self) -> bool {
        self.0.supports_retract_batch()
    }
}

/// The grouped form of `FloatMean`.
struct FloatMeans(Box<dyn GroupsAccumulator>);

impl GroupsAccumulator for FloatMeans {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0
            .update_batch(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        means_of(&self.0.state(emit_to)?)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.0.state(emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.0.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.0.size()
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
    async fn distinct_and_moving_means_of_decimals_are_floats_too() {
        let mut distinct: Vec<i128> = cents();
        distinct.sort_unstable();
        distinct.dedup();
        assert_close(
            &means("SELECT avg(DISTINCT d) FROM t").await,
            &[expected(distinct.into_iter())],
        );
        // The mean of each row and the two before it, in the order of the cents themselves.
        let mut sorted = cents();
        sorted.sort_unstable();
        let windows: Vec<f64> = (0..sorted.len())
            .map(|i| expected(sorted[i.saturating_sub(2)..=i].iter().copied()))
            .collect();
        assert_close(
            &means(
                "SELECT avg(d) OVER (ORDER BY d ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) \
                 FROM t ORDER BY d",
            )
            .await,
            &windows,
        );
    }

    #[tokio::test]
    async fn integers_and_floats_average_as_before() {
        let expected_mean = (0..999).map(|i| (i % 2) as f64).sum::<f64>() / 999.0;
        assert_close(&means("SELECT avg(g) FROM t").await, &[expected_mean]);
    }
}
