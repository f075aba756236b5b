//! `ewm`: pandas' exponentially weighted mean, as a window function that walks each `by`
//! group in `order_by` order. DataFusion has no such function, and the weights depend on
//! every earlier row, so no frame of a built-in aggregate can give it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl, cast,
};
use datafusion::prelude::{DataFrame, ident};

use super::steps::{StepError, StepResult};
use super::windows;
use crate::spec::Names;

/// The decay and options of one `ewm` step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Decay {
    /// The weight of the newest value, from `span`, `com`, `halflife` or `alpha`.
    pub alpha: f64,
    pub adjust: bool,
    pub ignore_na: bool,
    pub min_periods: u32,
}

/// The weight of the newest value, by pandas' conversions from the one of `span`, `com`,
/// `halflife`, `alpha` given.
pub(super) fn alpha(
    span: Option<f64>,
    com: Option<f64>,
    halflife: Option<f64>,
    alpha: Option<f64>,
) -> Result<f64, StepError> {
    let given = [span, com, halflife, alpha].iter().flatten().count();
    if given != 1 {
        return Err(StepError::at(
            "span",
            "give exactly one of `span`, `com`, `halflife` or `alpha`",
        ));
    }
    let out_of_range = |field: &str, expected: &str| StepError::at(field, expected);
    match (span, com, halflife, alpha) {
        (Some(s), ..) if s >= 1.0 => Ok(2.0 / (s + 1.0)),
        (Some(_), ..) => Err(out_of_range("span", "expected at least 1")),
        (_, Some(c), ..) if c >= 0.0 => Ok(1.0 / (1.0 + c)),
        (_, Some(_), ..) => Err(out_of_range("com", "expected at least 0")),
        (_, _, Some(h), _) if h > 0.0 => Ok(1.0 - (-std::f64::consts::LN_2 / h).exp()),
        (_, _, Some(_), _) => Err(out_of_range("halflife", "expected more than 0")),
        (.., Some(a)) if a > 0.0 && a <= 1.0 => Ok(a),
        _ => Err(out_of_range("alpha", "expected more than 0 and at most 1")),
    }
}

pub(super) fn ewm_mean(
    frame: DataFrame,
    columns: &Names,
    decay: Decay,
    order_by: &Names,
    by: Option<&Names>,
) -> StepResult {
    let function = function(decay);
    windows::per_column(frame, columns, order_by, by, |over, column| {
        let value = cast(ident(column), DataType::Float64);
        over.apply(function.call(vec![value]), None)
    })
}

/// The window function for `decay`.
pub(super) fn function(decay: Decay) -> WindowUDF {
    WindowUDF::from(EwmMean::new(decay))
}

/// The decay of an `ewm` window function, which a plan sent to another process must carry
/// (`None` for any other function).
pub(super) fn decay_of(function: &WindowUDF) -> Option<Decay> {
    function
        .inner()
        .downcast_ref::<EwmMean>()
        .map(EwmMean::decay)
}

/// The name of the `ewm` window function.
pub(super) const NAME: &str = "ewm_mean";

/// The window function; its decay is part of it, so two steps with different decays are
/// different functions to the planner.
#[derive(Debug, PartialEq, Eq, Hash)]
struct EwmMean {
    signature: Signature,
    alpha_bits: u64,
    adjust: bool,
    ignore_na: bool,
    min_periods: u32,
}

impl EwmMean {
    fn new(decay: Decay) -> EwmMean {
        EwmMean {
            signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
            alpha_bits: decay.alpha.to_bits(),
            adjust: decay.adjust,
            ignore_na: decay.ignore_na,
            min_periods: decay.min_periods,
        }
    }

    fn decay(&self) -> Decay {
        Decay {
            alpha: f64::from_bits(self.alpha_bits),
            adjust: self.adjust,
            ignore_na: self.ignore_na,
            min_periods: self.min_periods,
        }
    }
}

impl WindowUDFImpl for EwmMean {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(Evaluator(self.decay())))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Float64,
            true,
        )))
    }
}

#[derive(Debug)]
struct Evaluator(Decay);

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let values = values[0].as_primitive::<Float64Type>();
        let means = weighted_means(
            self.0,
            (0..num_rows).map(|i| values.is_valid(i).then(|| values.value(i))),
        );
        Ok(Arc::new(Float64Array::from(means)))
    }
}

/// pandas' `ewm(...).mean()` recurrence (`pandas/_libs/window/aggregations.pyx`, `ewm`): the
/// mean so far and the weight it carries; a missing value leaves the mean as it is but, unless
/// `ignore_na`, still ages it.
fn weighted_means(decay: Decay, values: impl Iterator<Item = Option<f64>>) -> Vec<Option<f64>> {
    let old_factor = 1.0 - decay.alpha;
    let new_weight = if decay.adjust { 1.0 } else { decay.alpha };
    let min_periods = decay.min_periods.max(1) as usize;
    let mut mean: Option<f64> = None;
    let mut old_weight = 1.0;
    let mut observed = 0usize;
    values
        .map(|value| {
            let value = value.filter(|v| !v.is_nan());
            observed += usize::from(value.is_some());
            match (mean, value) {
                (Some(m), value) if value.is_some() || !decay.ignore_na => {
                    old_weight *= old_factor;
                    if let Some(v) = value {
                        if m != v {
                            mean =
                                Some((old_weight * m + new_weight * v) / (old_weight + new_weight));
                        }
                        old_weight = if decay.adjust {
                            old_weight + new_weight
                        } else {
                            1.0
                        };
                    }
                }
                (None, Some(v)) => mean = Some(v),
                _ => {}
            }
            mean.filter(|_| observed >= min_periods)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decay(alpha: f64, adjust: bool, ignore_na: bool) -> Decay {
        Decay {
            alpha,
            adjust,
            ignore_na,
            min_periods: 0,
        }
    }

    #[test]
    fn adjusted_weights_follow_the_closed_form() {
        // With adjust, the mean at t is sum((1-a)^i x[t-i]) / sum((1-a)^i).
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0];
        let a = 0.3;
        let means = weighted_means(decay(a, true, false), xs.iter().copied().map(Some));
        for (t, mean) in means.iter().enumerate() {
            let weights: Vec<f64> = (0..=t).map(|i| (1.0 - a).powi(i as i32)).collect();
            let expected =
                (0..=t).map(|i| weights[i] * xs[t - i]).sum::<f64>() / weights.iter().sum::<f64>();
            let got = mean.expect("every value is present");
            assert!(
                (got - expected).abs() < 1e-12,
                "t={t}: {got} against {expected}"
            );
        }
    }

    #[test]
    fn a_missing_value_keeps_the_mean_and_ages_it_unless_ignored() {
        let xs = [Some(1.0), None, Some(3.0)];
        let aged = weighted_means(decay(0.5, true, false), xs.into_iter());
        let ignored = weighted_means(decay(0.5, true, true), xs.into_iter());
        assert_eq!(aged[1], Some(1.0));
        // Aged: weights 0.25 (two steps) and 1 → (0.25 + 3) / 1.25.
        assert_eq!(aged[2], Some(2.6));
        // Ignored: weights 0.5 and 1 → (0.5 + 3) / 1.5.
        assert!((ignored[2].unwrap_or_default() - 3.5 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn nothing_before_the_first_value() {
        let means = weighted_means(decay(0.5, false, false), [None, Some(2.0)].into_iter());
        assert_eq!(means, vec![None, Some(2.0)]);
    }
}
