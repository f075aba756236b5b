//! `resample`: a group-by on time buckets, then the buckets without rows between each group's
//! first and last put back, as pandas gives them (a sum or count of nothing is 0, the rest
//! null), sorted by group and bucket.

use datafusion::common::JoinType;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::prelude::{DataFrame, Expr, coalesce, ident, lit};
use indexmap::IndexMap;

use super::steps::{StepError, StepResult, groupby, parse, require};
use crate::spec::{AggFn, AggSpec, Names, TimeRule};

const LOW: &str = "__rusk_first";
const HIGH: &str = "__rusk_last";
const BUCKET: &str = "__rusk_bucket";

pub(super) fn resample(
    frame: DataFrame,
    on: &str,
    rule: &str,
    agg: &IndexMap<String, AggSpec>,
    by: Option<&Names>,
) -> StepResult {
    let rule = TimeRule::parse(rule).map_err(|m| StepError::at("rule", m))?;
    require(&frame, "on", &[on.to_string()])?;
    let quoted = quote(on);
    let timestamp = format!("CAST({quoted} AS TIMESTAMP)");
    let (bucket, step) = match rule {
        TimeRule::Fixed(seconds) => (
            format!(
                "date_bin(INTERVAL '{seconds} seconds', {timestamp}, TIMESTAMP '1970-01-01T00:00:00')"
            ),
            format!("INTERVAL '{seconds} seconds'"),
        ),
        TimeRule::Week => (
            format!("date_trunc('week', {timestamp}) + INTERVAL '6 days'"),
            "INTERVAL '7 days'".to_string(),
        ),
        TimeRule::MonthStart => (
            format!("date_trunc('month', {timestamp})"),
            "INTERVAL '1 month'".to_string(),
        ),
    };
    let bucketed = {
        let expr = parse(&frame, "on", &bucket)?;
        frame
            .with_column(on, expr)
            .map_err(|e| StepError::at("on", e.strip_backtrace()))?
    };
    let keys = by.map(Names::to_vec).unwrap_or_default();
    let mut group = keys.clone();
    group.push(on.to_string());
    let grouped = groupby(bucketed, &Names::Many(group), agg, false)?;

    // Every bucket from each group's first to its last.
    let renamed = |i: usize| format!("__rusk_by_{i}");
    let bounds = grouped.clone().aggregate(
        keys.iter().map(ident).collect(),
        vec![min(ident(on)).alias(LOW), max(ident(on)).alias(HIGH)],
    )?;
    let series = parse(
        &bounds,
        "rule",
        &format!("generate_series({LOW}, {HIGH}, {step})"),
    )?;
    let mut projection: Vec<Expr> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ident(k).alias(renamed(i)))
        .collect();
    projection.push(series.alias(BUCKET));
    let buckets = bounds.select(projection)?.unnest_columns(&[BUCKET])?;

    let left: Vec<String> = (0..keys.len())
        .map(renamed)
        .chain([BUCKET.to_string()])
        .collect();
    let left: Vec<&str> = left.iter().map(String::as_str).collect();
    let right: Vec<&str> = keys.iter().map(String::as_str).chain([on]).collect();
    let joined = buckets.join(grouped, JoinType::Left, &left, &right, None)?;

    let mut out: Vec<Expr> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ident(renamed(i)).alias(k))
        .collect();
    out.push(ident(BUCKET).alias(on));
    for (column, spec) in agg {
        for (function, name) in spec.outputs(column) {
            let value = match function {
                AggFn::Sum | AggFn::Count | AggFn::Size | AggFn::Nunique => {
                    coalesce(vec![ident(&name), lit(0)])
                }
                _ => ident(&name),
            };
            out.push(value.alias(name));
        }
    }
    let order = keys
        .iter()
        .chain([&on.to_string()])
        .map(|k| ident(k).sort(true, false))
        .collect();
    Ok(joined.select(out)?.sort(order)?)
}

/// A column name as an SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
