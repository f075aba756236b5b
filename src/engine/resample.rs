//! `resample`: a group-by on time buckets, then the buckets without rows between each group's
//! first and last put back, as pandas gives them (a sum or count of nothing is 0, the rest
//! null), sorted by group and bucket.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::JoinType;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::cast;
use datafusion::prelude::{DataFrame, Expr, coalesce, ident, lit};
use indexmap::IndexMap;

use super::steps::{StepError, StepResult, groupby, parse, require};
use super::windows::{Over, data_type};
use crate::spec::{AggFn, AggSpec, Names, TimeRule};

const LOW: &str = "__rusk_first";
const HIGH: &str = "__rusk_last";
const BUCKET: &str = "__rusk_bucket";
const ORIGIN: &str = "__rusk_origin";

pub(super) fn resample(
    frame: DataFrame,
    on: &str,
    rule: &str,
    agg: &IndexMap<String, AggSpec>,
    by: Option<&Names>,
) -> StepResult {
    let rule = TimeRule::parse(rule).map_err(|m| StepError::at("rule", m))?;
    require(&frame, "on", &[on.to_string()])?;
    let on_type = data_type(&frame, on)?;
    let keys = by.map(Names::to_vec).unwrap_or_default();
    let bucketed = bucket(frame, on, &on_type, rule, &keys)?;
    let step = match rule {
        TimeRule::Fixed(seconds) => format!("INTERVAL '{seconds} seconds'"),
        TimeRule::FromFirstDay(seconds) => format!("INTERVAL '{seconds} seconds'"),
        TimeRule::Week => "INTERVAL '7 days'".to_string(),
        TimeRule::MonthStart => "INTERVAL '1 month'".to_string(),
    };
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
    // A zone's buckets are its local times; back to instants in that zone.
    let bucket = match &on_type {
        DataType::Timestamp(_, Some(_)) => cast(ident(BUCKET), on_type.clone()),
        _ => ident(BUCKET),
    };
    out.push(bucket.alias(on));
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

/// The frame with `on` replaced by the start of its bucket, in local time for a
/// time-zone-aware column (pandas' buckets follow the zone's days).
fn bucket(
    frame: DataFrame,
    on: &str,
    on_type: &DataType,
    rule: TimeRule,
    keys: &[String],
) -> StepResult {
    let quoted = quote(on);
    let timestamp = match on_type {
        DataType::Timestamp(_, Some(_)) => format!("to_local_time({quoted})"),
        _ => format!("CAST({quoted} AS TIMESTAMP)"),
    };
    let (frame, bucket) = match rule {
        TimeRule::Fixed(seconds) => (
            frame,
            format!(
                "date_bin(INTERVAL '{seconds} seconds', {timestamp}, TIMESTAMP '1970-01-01T00:00:00')"
            ),
        ),
        TimeRule::FromFirstDay(seconds) => {
            // Midnight of the group's first day, as pandas' `origin="start_day"`.
            let group = Over {
                partition: keys.iter().map(ident).collect(),
                order: Vec::new(),
            };
            let first = group.apply(min(parse(&frame, "on", &timestamp)?), None)?;
            let frame = frame.with_column(ORIGIN, first)?;
            let nanos = u128::from(seconds) * 1_000_000_000;
            let origin = format!("CAST(date_trunc('day', {ORIGIN}) AS BIGINT)");
            let since = format!("CAST({timestamp} AS BIGINT) - {origin}");
            (
                frame,
                format!("to_timestamp_nanos({origin} + ({since}) / {nanos} * {nanos})"),
            )
        }
        TimeRule::Week => (
            frame,
            format!("date_trunc('week', {timestamp}) + INTERVAL '6 days'"),
        ),
        TimeRule::MonthStart => (frame, format!("date_trunc('month', {timestamp})")),
    };
    let expr = parse(&frame, "on", &bucket)?;
    frame
        .with_column(on, expr)
        .map_err(|e| StepError::at("on", e.strip_backtrace()))
}

/// A column name as an SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
