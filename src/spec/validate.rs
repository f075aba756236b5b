//! Structural checks on a parsed spec: everything that can be judged without reading data.

use super::limits::{self, at_most, check_expression};
use super::{
    Format, JobSpec, Names, Output, RankMethod, Source, Step, TimeRule, Window, WriteMode,
    parse_size, span_seconds,
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    /// `path` locates the bad field, e.g. `steps[2].expr`; empty for the whole spec.
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Invalid { path: String, message: String },
}

impl SpecError {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

type Check = Result<(), SpecError>;

/// The most result files `output.npartitions` may ask for.
pub const MAX_OUTPUT_FILES: u32 = 1000;

/// The longest `timeout_s` accepted: a week.
pub const MAX_TIMEOUT_S: u64 = 7 * 24 * 3600;

/// Syntax only; whether the host is public is decided where DNS is (the API).
fn check_webhook_url(text: &str) -> Check {
    let bad = |m: &str| Err(SpecError::invalid("webhook.url", m));
    let Ok(url) = url::Url::parse(text) else {
        return bad("expected an absolute http(s) URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return bad("expected an http:// or https:// URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return bad("the URL has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("credentials in the URL are not allowed; the request is signed instead");
    }
    Ok(())
}

impl JobSpec {
    pub fn validate(&self) -> Check {
        if self.sources.is_empty() {
            return Err(SpecError::invalid(
                "sources",
                "at least one source is required",
            ));
        }
        at_most(
            "sources",
            "sources",
            self.sources.len(),
            limits::MAX_SOURCES,
        )?;
        for (name, source) in &self.sources {
            check_source(name, source)?;
        }
        match (&self.steps, &self.sql) {
            (Some(_), Some(_)) => Err(SpecError::invalid(
                "",
                "give either `steps` or `sql`, not both",
            )),
            (None, None) => Err(SpecError::invalid(
                "",
                "one of `steps` or `sql` is required",
            )),
            (None, Some(sql)) => self.check_sql(sql),
            (Some(steps), None) => self.check_steps(steps),
        }?;
        self.output.check()?;
        if let Some(size) = &self.max_result_bytes {
            parse_size(size).map_err(|m| SpecError::invalid("max_result_bytes", m))?;
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(SpecError::invalid(
                "max_attempts",
                "expected a number from 1 to 100",
            ));
        }
        if self.result_ttl_s == Some(0) {
            return Err(SpecError::invalid(
                "result_ttl_s",
                "expected at least 1 second; leave it out to keep the server's retention",
            ));
        }
        if let Some(t) = self.timeout_s
            && !(1..=MAX_TIMEOUT_S).contains(&t)
        {
            return Err(SpecError::invalid(
                "timeout_s",
                format!("expected 1 to {MAX_TIMEOUT_S} seconds (7 days)"),
            ));
        }
        if let Some(hook) = &self.webhook {
            check_webhook_url(&hook.url)?;
        }
        if let Some(ml) = &self.ml {
            ml.validate()?;
        }
        Ok(())
    }

    fn check_sql(&self, sql: &str) -> Check {
        if self.input.is_some() {
            return Err(SpecError::invalid(
                "input",
                "`input` is only used with `steps`",
            ));
        }
        if sql.trim().is_empty() {
            return Err(SpecError::invalid("sql", "expected a SELECT statement"));
        }
        limits::check_query("sql", sql)
    }

    fn check_steps(&self, steps: &[Step]) -> Check {
        match &self.input {
            Some(name) => self.check_source_name("input", name)?,
            None if self.sources.len() > 1 => {
                return Err(SpecError::invalid(
                    "input",
                    "name the source the steps start from (there are several sources)",
                ));
            }
            None => {}
        }
        at_most("steps", "steps", steps.len(), limits::MAX_STEPS)?;
        for (i, step) in steps.iter().enumerate() {
            let at = format!("steps[{i}]");
            check_step_size(&at, step)?;
            self.check_step(&at, step)?;
        }
        Ok(())
    }

    fn check_source_name(&self, path: &str, name: &str) -> Check {
        if self.sources.contains_key(name) {
            return Ok(());
        }
        let known: Vec<&str> = self.sources.keys().map(String::as_str).collect();
        Err(SpecError::invalid(
            path,
            format!("unknown source {name:?}; sources are {known:?}"),
        ))
    }

    fn check_step(&self, at: &str, step: &Step) -> Check {
        let non_empty = |field: &str, empty: bool| -> Check {
            if empty {
                Err(SpecError::invalid(
                    format!("{at}.{field}"),
                    "must not be empty",
                ))
            } else {
                Ok(())
            }
        };
        match step {
            Step::Filter { expr } => non_empty("expr", expr.trim().is_empty()),
            Step::Assign { columns } | Step::Rename { columns } => {
                non_empty("columns", columns.is_empty())
            }
            Step::Select { columns } | Step::Drop { columns } => {
                non_empty("columns", columns.is_empty())
            }
            Step::Groupby {
                by, agg, transform, ..
            } => {
                non_empty("by", names_empty(by))?;
                match (agg.is_empty(), transform.is_empty()) {
                    (false, true) | (true, false) => Ok(()),
                    _ => Err(SpecError::invalid(
                        format!("{at}.agg"),
                        "give either `agg` (one row per group) or `transform` (every row kept)",
                    )),
                }
            }
            Step::Shift {
                columns,
                order_by,
                periods,
                ..
            }
            | Step::Diff {
                columns,
                order_by,
                periods,
                ..
            }
            | Step::PctChange {
                columns,
                order_by,
                periods,
                ..
            } => {
                non_empty("columns", names_empty(columns))?;
                non_empty("order_by", names_empty(order_by))?;
                if periods.unsigned_abs() > limits::MAX_ROWS {
                    return Err(SpecError::invalid(
                        format!("{at}.periods"),
                        format!("expected -{0} to {0}", limits::MAX_ROWS),
                    ));
                }
                Ok(())
            }
            Step::Cumsum {
                columns, order_by, ..
            }
            | Step::Cummax {
                columns, order_by, ..
            }
            | Step::Cummin {
                columns, order_by, ..
            } => {
                non_empty("columns", names_empty(columns))?;
                non_empty("order_by", names_empty(order_by))
            }
            Step::Cumcount { order_by, name, .. } => {
                non_empty("order_by", names_empty(order_by))?;
                non_empty("name", name.as_ref().is_some_and(|n| n.is_empty()))
            }
            Step::Rank {
                columns,
                method,
                order_by,
                ..
            } => {
                non_empty("columns", names_empty(columns))?;
                if *method == RankMethod::First && order_by.as_ref().is_none_or(names_empty) {
                    return Err(SpecError::invalid(
                        format!("{at}.order_by"),
                        "method `first` ranks ties in row order: name the columns that give it",
                    ));
                }
                Ok(())
            }
            Step::Nlargest { columns, .. } | Step::Nsmallest { columns, .. } => {
                non_empty("columns", names_empty(columns))
            }
            Step::Rolling {
                columns,
                window,
                min_periods,
                order_by,
                ..
            } => {
                non_empty("columns", names_empty(columns))?;
                non_empty("order_by", names_empty(order_by))?;
                match window {
                    Window::Rows(rows) => check_row_window(at, *rows, *min_periods),
                    Window::Span(span) => {
                        span_seconds(span)
                            .map_err(|m| SpecError::invalid(format!("{at}.window"), m))?;
                        match order_by.to_vec().len() {
                            1 => Ok(()),
                            _ => Err(SpecError::invalid(
                                format!("{at}.order_by"),
                                "a time window needs one timestamp column to measure it by",
                            )),
                        }
                    }
                }
            }
            Step::Resample { on, rule, agg, by } => {
                non_empty("on", on.is_empty())?;
                non_empty("agg", agg.is_empty())?;
                non_empty("by", by.as_ref().is_some_and(names_empty))?;
                TimeRule::parse(rule)
                    .map(|_| ())
                    .map_err(|m| SpecError::invalid(format!("{at}.rule"), m))
            }
            Step::Map {
                column, mapping, ..
            } => {
                non_empty("column", column.is_empty())?;
                non_empty("mapping", mapping.is_empty())
            }
            Step::Melt {
                id_vars,
                value_vars,
                var_name,
                value_name,
            } => {
                non_empty("value_vars", value_vars.as_ref().is_some_and(names_empty))?;
                non_empty("var_name", var_name.is_empty())?;
                non_empty("value_name", value_name.is_empty())?;
                if var_name == value_name || id_vars.to_vec().contains(var_name) {
                    return Err(SpecError::invalid(
                        format!("{at}.var_name"),
                        "`var_name` must differ from `value_name` and from the `id_vars`",
                    ));
                }
                Ok(())
            }
            Step::Ewm {
                columns, order_by, ..
            } => {
                non_empty("columns", names_empty(columns))?;
                non_empty("order_by", names_empty(order_by))
            }
            Step::PivotTable {
                index,
                columns,
                values,
                ..
            } => {
                non_empty("index", names_empty(index))?;
                non_empty("columns", names_empty(columns))?;
                non_empty("values", values.as_ref().is_some_and(names_empty))
            }
            Step::GetDummies { columns, .. } => non_empty("columns", names_empty(columns)),
            Step::MergeAsof { right, on, by, .. } => {
                self.check_source_name(&format!("{at}.right"), right)?;
                non_empty("on", on.is_empty())?;
                non_empty("by", by.as_ref().is_some_and(names_empty))
            }
            Step::Sort { by, .. } => non_empty("by", names_empty(by)),
            Step::Head { .. } | Step::Describe {} => Ok(()),
            Step::Astype { columns } => non_empty("columns", columns.is_empty()),
            Step::Fillna { value, columns } => match (value, columns) {
                (Some(_), None) => Ok(()),
                (None, Some(columns)) => non_empty("columns", columns.is_empty()),
                _ => Err(SpecError::invalid(
                    format!("{at}.value"),
                    "give either `value` or `columns`",
                )),
            },
            Step::Dropna { subset, .. } | Step::DropDuplicates { subset } => {
                non_empty("subset", subset.as_ref().is_some_and(names_empty))
            }
            Step::Concat { others } => {
                non_empty("others", others.is_empty())?;
                for (j, other) in others.iter().enumerate() {
                    self.check_source_name(&format!("{at}.others[{j}]"), other)?;
                }
                Ok(())
            }
            Step::ValueCounts { column } | Step::Explode { column } => {
                non_empty("column", column.is_empty())
            }
            Step::Sample { frac, .. } if !(*frac > 0.0 && *frac <= 1.0) => Err(SpecError::invalid(
                format!("{at}.frac"),
                "expected a fraction above 0 and at most 1",
            )),
            Step::Sample { .. } => Ok(()),
            Step::Repartition {
                npartitions,
                partition_size,
            } => match (npartitions, partition_size) {
                (Some(n), None) if (1..=10_000).contains(n) => Ok(()),
                (Some(_), None) => Err(SpecError::invalid(
                    format!("{at}.npartitions"),
                    "expected 1 to 10000",
                )),
                (None, Some(size)) => parse_size(size)
                    .map(|_| ())
                    .map_err(|m| SpecError::invalid(format!("{at}.partition_size"), m)),
                _ => Err(SpecError::invalid(
                    format!("{at}.npartitions"),
                    "give either `npartitions` or `partition_size`",
                )),
            },
            Step::Merge {
                right,
                on,
                left_on,
                right_on,
                ..
            } => {
                self.check_source_name(&format!("{at}.right"), right)?;
                check_merge_keys(at, on, left_on, right_on)
            }
        }
    }
}

/// How much one step may name: its expressions' shape and its lists' lengths.
fn check_step_size(at: &str, step: &Step) -> Check {
    let columns = |field: &str, count: usize| {
        at_most(
            &format!("{at}.{field}"),
            "columns",
            count,
            limits::MAX_STEP_COLUMNS,
        )
    };
    match step {
        Step::Filter { expr } => check_expression(&format!("{at}.expr"), expr),
        Step::Assign { columns: assigned } => {
            columns("columns", assigned.len())?;
            for (name, expr) in assigned {
                check_expression(&format!("{at}.columns.{name}"), expr)?;
            }
            Ok(())
        }
        Step::Rename { columns: named } => columns("columns", named.len()),
        Step::Select { columns: named } | Step::Drop { columns: named } => {
            columns("columns", named.len())
        }
        Step::Astype { columns: named } => columns("columns", named.len()),
        Step::Groupby {
            by, agg, transform, ..
        } => {
            columns("by", by.to_vec().len())?;
            columns("agg", agg.len())?;
            columns("transform", transform.len())
        }
        Step::Shift { columns: named, .. }
        | Step::Diff { columns: named, .. }
        | Step::PctChange { columns: named, .. }
        | Step::Cumsum { columns: named, .. }
        | Step::Cummax { columns: named, .. }
        | Step::Cummin { columns: named, .. }
        | Step::Rank { columns: named, .. }
        | Step::Rolling { columns: named, .. }
        | Step::Ewm { columns: named, .. }
        | Step::GetDummies { columns: named, .. } => columns("columns", named.to_vec().len()),
        Step::PivotTable {
            index,
            columns: named,
            values,
            ..
        } => {
            columns("index", index.to_vec().len())?;
            columns("columns", named.to_vec().len())?;
            columns("values", values.as_ref().map_or(0, |v| v.to_vec().len()))
        }
        Step::Resample { agg, by, .. } => {
            columns("agg", agg.len())?;
            columns("by", by.as_ref().map_or(0, |b| b.to_vec().len()))
        }
        Step::Map { mapping, .. } => at_most(
            &format!("{at}.mapping"),
            "entries",
            mapping.len(),
            limits::MAX_MAPPING,
        ),
        Step::Melt {
            id_vars,
            value_vars,
            ..
        } => {
            columns("id_vars", id_vars.to_vec().len())?;
            columns(
                "value_vars",
                value_vars.as_ref().map_or(0, |v| v.to_vec().len()),
            )
        }
        Step::Nlargest { n, .. } | Step::Nsmallest { n, .. } if *n > limits::MAX_ROWS => {
            Err(SpecError::invalid(
                format!("{at}.n"),
                format!("expected 0 to {}", limits::MAX_ROWS),
            ))
        }
        Step::Sort { by, .. } => columns("by", by.to_vec().len()),
        Step::Concat { others } => at_most(
            &format!("{at}.others"),
            "frames",
            others.len(),
            limits::MAX_CONCAT,
        ),
        Step::Head { n } if *n > limits::MAX_ROWS => Err(SpecError::invalid(
            format!("{at}.n"),
            format!("expected 0 to {}", limits::MAX_ROWS),
        )),
        _ => Ok(()),
    }
}

fn check_row_window(at: &str, rows: u32, min_periods: Option<u32>) -> Check {
    if !(1..=limits::MAX_WINDOW).contains(&rows) {
        return Err(SpecError::invalid(
            format!("{at}.window"),
            format!("expected 1 to {} rows", limits::MAX_WINDOW),
        ));
    }
    match min_periods {
        Some(m) if m > rows => Err(SpecError::invalid(
            format!("{at}.min_periods"),
            format!("expected 0 to the window ({rows})"),
        )),
        _ => Ok(()),
    }
}

fn names_empty(names: &Names) -> bool {
    names.to_vec().is_empty()
}

fn check_merge_keys(
    at: &str,
    on: &Option<Names>,
    left_on: &Option<Names>,
    right_on: &Option<Names>,
) -> Check {
    match (on, left_on, right_on) {
        (Some(on), None, None) if !names_empty(on) => Ok(()),
        (None, Some(l), Some(r)) if l.to_vec().len() == r.to_vec().len() && !names_empty(l) => {
            Ok(())
        }
        (None, Some(_), Some(_)) => Err(SpecError::invalid(
            format!("{at}.left_on"),
            "`left_on` and `right_on` need the same, non-zero number of columns",
        )),
        _ => Err(SpecError::invalid(
            format!("{at}.on"),
            "give either `on`, or both `left_on` and `right_on`",
        )),
    }
}

fn check_source(name: &str, source: &Source) -> Check {
    let at = format!("sources.{name}");
    let is_identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_identifier {
        return Err(SpecError::invalid(
            at,
            "a source name must be an identifier (letters, digits, `_`; not starting with a digit)",
        ));
    }
    source.validate_at(&at)
}

impl Source {
    /// Checks a source on its own; `at` is its place in the request, e.g. `source`.
    pub fn validate_at(&self, at: &str) -> Check {
        check_source_fields(at, self)
    }
}

fn check_source_fields(at: &str, source: &Source) -> Check {
    let paths = source.path.to_vec();
    at_most(
        &format!("{at}.path"),
        "paths",
        paths.len(),
        limits::MAX_PATHS,
    )?;
    if paths.is_empty() || paths.iter().any(|p| p.trim().is_empty()) {
        return Err(SpecError::invalid(
            format!("{at}.path"),
            "expected a non-empty path",
        ));
    }
    if source.format != Format::Csv && !source.options.is_empty() {
        return Err(SpecError::invalid(
            format!("{at}.options"),
            "options apply to csv sources only",
        ));
    }
    for (field, value) in [
        ("delimiter", &source.options.delimiter),
        ("quote", &source.options.quote),
    ] {
        if let Some(v) = value
            && v.len() != 1
        {
            return Err(SpecError::invalid(
                format!("{at}.options.{field}"),
                "expected a single ASCII character",
            ));
        }
    }
    if source.options.schema_infer_rows == Some(0) {
        return Err(SpecError::invalid(
            format!("{at}.options.schema_infer_rows"),
            "expected at least 1",
        ));
    }
    Ok(())
}

/// The most columns `output.partition_on` may name.
pub const MAX_PARTITION_COLUMNS: usize = 8;

impl Output {
    /// Columns named once each; files per directory are sized, never counted.
    fn check_partition_on(&self) -> Check {
        if self.partition_on.is_empty() {
            return Ok(());
        }
        let at = "output.partition_on";
        if self.partition_on.len() > MAX_PARTITION_COLUMNS {
            return Err(SpecError::invalid(
                at,
                format!("at most {MAX_PARTITION_COLUMNS} columns"),
            ));
        }
        for (i, name) in self.partition_on.iter().enumerate() {
            if name.is_empty() || self.partition_on[..i].contains(name) {
                return Err(SpecError::invalid(
                    format!("{at}[{i}]"),
                    "expected distinct column names",
                ));
            }
        }
        if self.npartitions.is_some() || self.single_file {
            return Err(SpecError::invalid(
                at,
                "files per directory follow `partition_size`; leave out `npartitions` and \
                 `single_file`",
            ));
        }
        Ok(())
    }

    /// The file layout asks for one thing only, and `mode` comes with a `path`.
    fn check(&self) -> Check {
        if let Some(size) = &self.partition_size {
            parse_size(size).map_err(|m| SpecError::invalid("output.partition_size", m))?;
        }
        let layouts = [
            self.partition_size.is_some(),
            self.npartitions.is_some(),
            self.single_file,
        ];
        if layouts.iter().filter(|given| **given).count() > 1 {
            let at = if self.single_file {
                "output.single_file"
            } else {
                "output.npartitions"
            };
            return Err(SpecError::invalid(
                at,
                "give one of `partition_size`, `npartitions` and `single_file`",
            ));
        }
        self.check_partition_on()?;
        if let Some(n) = self.npartitions
            && !(1..=MAX_OUTPUT_FILES).contains(&n)
        {
            return Err(SpecError::invalid(
                "output.npartitions",
                format!("expected 1 to {MAX_OUTPUT_FILES}"),
            ));
        }
        match &self.path {
            None if self.mode != WriteMode::Error => Err(SpecError::invalid(
                "output.mode",
                "`mode` applies to an `output.path` only",
            )),
            Some(path) if path.trim().is_empty() => Err(SpecError::invalid(
                "output.path",
                "expected a directory under the data root or an object-store URL",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<JobSpec, SpecError> {
        JobSpec::from_json(json.to_string().as_bytes())
    }

    fn path_of(err: SpecError) -> String {
        match err {
            SpecError::Invalid { path, .. } => path,
            other => panic!("expected an invalid-spec error, got {other:?}"),
        }
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
            "steps": [{"op": "filter", "expr": "a > 1"}]
        })
    }

    #[test]
    fn accepts_the_seed_example() {
        let spec = parse(serde_json::json!({
            "name": "user-metrics",
            "sources": {"logs": {"format": "csv", "path": "large-data-*.csv",
                                  "options": {"has_header": true, "dtype": {"user_id": "int64"}}}},
            "steps": [
                {"op": "filter", "expr": "status = 'active'"},
                {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
                {"op": "groupby", "by": ["user_id"],
                 "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": ["max", "min"]}}
            ],
            "output": {"format": "parquet", "compression": "snappy", "partition_size": "100MB"}
        }))
        .expect("seed spec parses");
        assert_eq!(spec.input_name(), Some("logs"));
        assert_eq!(spec.max_attempts, 3);
        assert_eq!(
            spec.file_layout(),
            crate::spec::FileLayout::Size(100_000_000)
        );
    }

    #[test]
    fn names_the_unknown_field() {
        let mut spec = base();
        spec["stepz"] = serde_json::json!([]);
        let err = parse(spec).unwrap_err();
        assert!(err.to_string().contains("unknown field `stepz`"), "{err}");
    }

    #[test]
    fn names_the_step_with_an_unknown_op() {
        let mut spec = base();
        spec["steps"] = serde_json::json!([{"op": "filter", "expr": "x"}, {"op": "frobnicate"}]);
        let err = parse(spec).unwrap_err();
        assert_eq!(path_of(err.clone()), "steps[1].op");
        assert!(
            err.to_string().contains("unknown variant `frobnicate`"),
            "{err}"
        );
    }

    #[test]
    fn refuses_steps_and_sql_together_or_neither() {
        let mut both = base();
        both["sql"] = "select 1".into();
        assert!(parse(both).unwrap_err().to_string().contains("not both"));
        let mut neither = base();
        neither.as_object_mut().unwrap().remove("steps");
        assert!(parse(neither).unwrap_err().to_string().contains("required"));
    }

    #[test]
    fn refuses_an_unknown_merge_source() {
        let mut spec = base();
        spec["steps"] = serde_json::json!([{"op": "merge", "right": "users", "on": "id"}]);
        assert_eq!(path_of(parse(spec).unwrap_err()), "steps[0].right");
    }

    #[test]
    fn refuses_merge_without_keys() {
        let mut spec = base();
        spec["sources"]["users"] = serde_json::json!({"format": "parquet", "path": "u.parquet"});
        spec["input"] = "logs".into();
        spec["steps"] = serde_json::json!([{"op": "merge", "right": "users"}]);
        assert_eq!(path_of(parse(spec).unwrap_err()), "steps[0].on");
    }

    #[test]
    fn needs_input_with_several_sources() {
        let mut spec = base();
        spec["sources"]["users"] = serde_json::json!({"format": "parquet", "path": "u.parquet"});
        assert_eq!(path_of(parse(spec).unwrap_err()), "input");
    }

    #[test]
    fn refuses_a_bad_partition_size_and_csv_options_on_parquet() {
        let mut spec = base();
        spec["output"] = serde_json::json!({"partition_size": "huge"});
        assert_eq!(path_of(parse(spec).unwrap_err()), "output.partition_size");
        let mut spec = base();
        spec["sources"]["logs"] =
            serde_json::json!({"format": "parquet", "path": "x", "options": {"has_header": true}});
        assert_eq!(path_of(parse(spec).unwrap_err()), "sources.logs.options");
    }

    #[test]
    fn refuses_a_source_name_that_is_not_an_identifier() {
        let spec = serde_json::json!({
            "sources": {"my logs": {"format": "csv", "path": "x.csv"}},
            "sql": "select 1"
        });
        assert_eq!(path_of(parse(spec).unwrap_err()), "sources.my logs");
    }

    #[test]
    fn tells_json_syntax_errors_apart() {
        assert!(matches!(
            JobSpec::from_json(b"{not json"),
            Err(SpecError::NotJson(_))
        ));
    }
}
