//! Scalar functions whose output can be far larger than their input (`repeat`, `lpad`, `rpad`,
//! `range`, `generate_series`, `array_repeat`) allocate outside the memory pool, so one
//! expression could take the process down. Each is replaced by the same function behind a
//! check of its arguments: a call whose output for one batch could pass the budget fails with
//! "resources exhausted" before anything is allocated. Constant calls are folded while
//! planning, so those are refused at submission.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::prelude::SessionContext;

/// How a function's output grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`: each text `n` times.
    Repeat,
    /// `lpad`/`rpad(text, n, …)`: `n` characters of up to 4 bytes.
    Pad,
    /// `range`/`generate_series(start, stop[, step])`: a list of 8-byte integers.
    Series,
    /// `array_repeat(value, n)`: a list of `n` values.
    ArrayRepeat,
}

const AMPLIFIERS: [(&str, Growth); 6] = [
    ("repeat", Growth::Repeat),
    ("lpad", Growth::Pad),
    ("rpad", Growth::Pad),
    ("range", Growth::Series),
    ("generate_series", Growth::Series),
    ("array_repeat", Growth::ArrayRepeat),
];

/// Replaces the session's amplifying functions by bounded ones: at most `budget` bytes of
/// output per call (one batch).
pub(super) fn bound_amplifiers(ctx: &SessionContext, budget: u64) {
    for (name, growth) in AMPLIFIERS {
        if let Ok(inner) = ctx.udf(name) {
            let bounded = Bounded {
                inner: inner.inner().clone(),
                growth,
                budget,
            };
            ctx.register_udf(ScalarUDF::new_from_impl(bounded));
        }
    }
}

#[derive(Debug)]
struct Bounded {
    inner: Arc<dyn ScalarUDFImpl>,
    growth: Growth,
    budget: u64,
}

impl PartialEq for Bounded {
    fn eq(&self, other: &Bounded) -> bool {
        self.inner.name() == other.inner.name() && self.budget == other.budget
    }
}

impl Eq for Bounded {}

impl Hash for Bounded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.budget.hash(state);
    }
}

impl Bounded {
    /// Refuses the call when its output could pass the budget.
    fn check(&self, args: &ScalarFunctionArgs) -> Result<()> {
        let rows = args.number_rows.max(1);
        within(
            self.inner.name(),
            self.growth,
            &args.args,
            rows,
            self.budget,
        )
    }
}

/// Refuses a call of `name` whose output for `rows` rows could pass `budget` bytes.
fn within(
    name: &str,
    growth: Growth,
    args: &[ColumnarValue],
    rows: usize,
    budget: u64,
) -> Result<()> {
    let bytes = output_bytes(growth, args, rows)?;
    if bytes > budget {
        return Err(DataFusionError::ResourcesExhausted(format!(
            "{name}(…) would produce about {bytes} bytes for {rows} rows, over the {budget} \
             bytes one call may make (a quarter of the memory limit, at most 256 MiB)"
        )));
    }
    Ok(())
}

/// An upper bound of what a call makes, from its arguments.
fn output_bytes(growth: Growth, args: &[ColumnarValue], rows: usize) -> Result<u64> {
    let sum = |values: Vec<u64>| values.into_iter().fold(0u64, u64::saturating_add);
    let counts = |i: usize| -> Result<Vec<u64>> {
        Ok(integers(args.get(i), rows)?
            .into_iter()
            .map(|n| n.max(0) as u64)
            .collect())
    };
    Ok(match growth {
        Growth::Repeat => {
            let lengths = match args.first() {
                Some(text) => lengths(text, rows)?,
                None => vec![0; rows],
            };
            let times = counts(1)?;
            sum(lengths
                .iter()
                .zip(&times)
                .map(|(l, n)| l.saturating_mul(*n))
                .collect())
        }
        Growth::Pad => sum(counts(1)?.iter().map(|n| n.saturating_mul(4)).collect()),
        Growth::Series => series_len(args, rows)?.saturating_mul(8),
        Growth::ArrayRepeat => sum(counts(1)?.iter().map(|n| n.saturating_mul(8)).collect()),
    })
}

/// Refuses, before anything runs, a plan with a constant call of an amplifying function past
/// `budget` (DataFusion's constant folding keeps such a call for run time instead).
pub(super) fn check_constants(plan: &LogicalPlan, budget: u64) -> Result<()> {
    plan.apply(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                if let Expr::ScalarFunction(call) = e
                    && let Some((_, growth)) = AMPLIFIERS
                        .iter()
                        .find(|(name, _)| *name == call.func.name())
                {
                    let constants: Option<Vec<ColumnarValue>> = call
                        .args
                        .iter()
                        .map(|arg| match arg {
                            Expr::Literal(value, _) => Some(ColumnarValue::Scalar(value.clone())),
                            _ => None,
                        })
                        .collect();
                    if let Some(args) = constants {
                        within(call.func.name(), *growth, &args, 1, budget)?;
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })
    .map(|_| ())
}

/// Byte lengths of a text argument, per row (a scalar counts for every row).
fn lengths(value: &ColumnarValue, rows: usize) -> Result<Vec<u64>> {
    let array = value.to_array(rows)?;
    let as_large = cast(&array, &DataType::LargeUtf8)?;
    let text = as_large.as_string::<i64>();
    Ok((0..text.len())
        .map(|i| {
            if text.is_null(i) {
                0
            } else {
                text.value(i).len() as u64
            }
        })
        .collect())
}

/// An integer argument per row; a missing, null or non-integer one counts as 0.
fn integers(value: Option<&ColumnarValue>, rows: usize) -> Result<Vec<i64>> {
    let Some(value) = value else {
        return Ok(vec![0; rows]);
    };
    let array: ArrayRef = value.to_array(rows)?;
    if !array.data_type().is_integer() {
        return Ok(vec![0; rows]);
    }
    let ints = cast(&array, &DataType::Int64)?;
    let ints = ints.as_primitive::<Int64Type>();
    Ok((0..ints.len())
        .map(|i| if ints.is_null(i) { 0 } else { ints.value(i) })
        .collect())
}

/// Elements a `range`/`generate_series` call makes over all rows (integer forms; dates and
/// timestamps step by intervals and are left to the inner function).
fn series_len(args: &[ColumnarValue], rows: usize) -> Result<u64> {
    let ints = |i: usize| -> Result<Option<Vec<i64>>> {
        match args.get(i) {
            Some(v) if v.data_type().is_integer() => integers(Some(v), rows).map(Some),
            Some(_) => Ok(None),
            None => Ok(Some(vec![1; rows])),
        }
    };
    let (start, stop, step) = match args.len() {
        1 => (Some(vec![0; rows]), ints(0)?, Some(vec![1; rows])),
        _ => (ints(0)?, ints(1)?, ints(2)?),
    };
    let (Some(start), Some(stop), Some(step)) = (start, stop, step) else {
        return Ok(0);
    };
    Ok(start
        .iter()
        .zip(&stop)
        .zip(&step)
        .map(|((a, b), s)| {
            let span = (i128::from(*b) - i128::from(*a)).unsigned_abs();
            let step = i128::from(*s).unsigned_abs().max(1);
            u64::try_from(span / step + 1).unwrap_or(u64::MAX)
        })
        .fold(0u64, u64::saturating_add))
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.check(&args)?;
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}
