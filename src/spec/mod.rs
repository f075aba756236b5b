//! The job specification (v1): what a caller POSTs, as plain data with its structural checks.
//! Checks that need data (schemas, expressions, files) belong to the engine.

mod limits;
mod ml;
mod one_or_many;
mod resources;
mod size;
mod validate;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use one_or_many::OneOrMany;

pub use limits::MAX_ROWS;
pub use ml::{Estimator, Kind, MAX_TRAINING_ROWS, MlSpec, MlTask, Preprocess, Scoring};
pub use resources::{GpuUse, Resources};
pub use size::parse_size;
pub use validate::{MAX_OUTPUT_FILES, MAX_TIMEOUT_S, SpecError};

/// A job: a pipeline over named sources that produces one dataframe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "user-metrics",
    "sources": {"logs": {"format": "csv", "path": "data/large-data-*.csv"}},
    "steps": [
        {"op": "filter", "expr": "status = 'active'"},
        {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
        {"op": "groupby", "by": ["user_id"],
         "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}}
    ],
    "output": {"format": "parquet"}
}))]
pub struct JobSpec {
    /// A label for people; not unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Source name → where and how to read it. Names are identifiers usable in `sql`,
    /// case-sensitive like columns.
    pub sources: IndexMap<String, Source>,
    /// The source that `steps` start from; may be left out when there is one source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Pandas-style steps applied in order to `input`. Exactly one of `steps` and `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
    /// One `SELECT` over the source names. Exactly one of `steps` and `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default)]
    pub output: Output,
    /// Seconds an attempt may run before the job fails with code `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub timeout_s: Option<u64>,
    /// The most bytes the result may have, e.g. `"1GB"` (at most the server's
    /// `RUSK_MAX_RESULT_BYTES`); the job fails with `result_too_large` beyond it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "1GB")]
    pub max_result_bytes: Option<String>,
    /// Seconds the result's files are kept after the job ends (at most the server's
    /// `RUSK_RESULT_TTL`, its default); then they are deleted and downloads answer 410.
    /// Files written to an `output.path` are the caller's and are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub result_ttl_s: Option<u64>,
    /// Attempts before a job whose worker keeps disappearing is failed (1–100).
    #[serde(default = "default_max_attempts")]
    #[schema(minimum = 1, maximum = 100, default = 3)]
    pub max_attempts: u32,
    /// Higher runs first.
    #[serde(default)]
    pub priority: i32,
    /// Train, tune or apply a model on the pipeline's output (scikit-learn names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ml: Option<MlSpec>,
    /// Where to POST a signed notification when the job ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
    /// Which engine runs the pipeline: `local` (the worker's own) or `ballista` (the
    /// server's Apache Ballista cluster, for a job bigger than one machine). Default: the
    /// server's `RUSK_ENGINE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineKind>,
    /// What the job needs of the worker that runs it: `{"gpu": true | "prefer" | false}`.
    #[serde(default, skip_serializing_if = "Resources::is_default")]
    pub resources: Resources,
}

/// The engine that runs a job's pipeline; the answer is the same on either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// DataFusion in the worker that claimed the job.
    #[default]
    Local,
    /// The Apache Ballista cluster at the server's `RUSK_BALLISTA_URL`: the plan runs on
    /// its executors, with a shuffle between stages; the result comes back to the worker.
    Ballista,
}

/// A completion webhook: `POST {type, data: job}` signed per Standard Webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// An `https://` (or `http://`) URL on the public internet.
    #[schema(example = "https://example.com/hooks/rusk")]
    pub url: String,
}

fn default_max_attempts() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub format: Format,
    /// A path or glob relative to the data root, a `file://` URL, or a list of them.
    pub path: Paths,
    #[serde(default, skip_serializing_if = "CsvOptions::is_empty")]
    pub options: CsvOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
    /// Newline-delimited JSON records.
    Json,
    /// Arrow IPC file (Feather v2).
    Arrow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, from = "OneOrMany<String>")]
pub enum Paths {
    One(String),
    Many(Vec<String>),
}

impl Paths {
    pub fn to_vec(&self) -> Vec<&str> {
        match self {
            Paths::One(p) => vec![p.as_str()],
            Paths::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// Options for reading CSV (only valid with `"format": "csv"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_header: Option<bool>,
    /// One character; default `,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// One character; default `"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Cell texts read as null (in addition to the empty cell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_values: Option<Vec<String>>,
    /// Column → type, overriding inference.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub dtype: IndexMap<String, DType>,
    /// Columns read as times (pandas' `parse_dates`): ISO 8601 texts such as
    /// `2024-03-01 12:00:00`; a text with a UTC offset (`…+01:00`, `…Z`) is that instant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parse_dates: Vec<String>,
    /// The time zone of the `parse_dates` columns (`"Europe/Paris"`, `"UTC"`): texts without
    /// an offset are local times there, as pandas' `tz_localize`, and the columns keep the
    /// zone (`datetime64[ns, tz]`). Without it the columns are naive, and texts with an offset
    /// are converted to UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Rows read to infer types; default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_infer_rows: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<FileCompression>,
}

impl CsvOptions {
    pub fn is_empty(&self) -> bool {
        self == &CsvOptions::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileCompression {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// Column types by their pandas names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum DType {
    #[serde(rename = "int8")]
    Int8,
    #[serde(rename = "int16")]
    Int16,
    #[serde(rename = "int32")]
    Int32,
    #[serde(rename = "int64", alias = "int")]
    Int64,
    #[serde(rename = "uint8")]
    UInt8,
    #[serde(rename = "uint16")]
    UInt16,
    #[serde(rename = "uint32")]
    UInt32,
    #[serde(rename = "uint64")]
    UInt64,
    #[serde(rename = "float32")]
    Float32,
    #[serde(rename = "float64", alias = "float")]
    Float64,
    #[serde(rename = "bool", alias = "boolean")]
    Bool,
    #[serde(rename = "string", alias = "str", alias = "object", alias = "category")]
    String,
    #[serde(rename = "date")]
    Date,
    #[serde(rename = "datetime64[ns]", alias = "datetime", alias = "timestamp")]
    Datetime,
}

/// One pandas-style operation. Expressions are SQL expressions over column names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Keep rows where `expr` is true (`df[df.status == 'active']`).
    Filter { expr: String },
    /// Add or replace columns, in order; later ones may use earlier ones.
    Assign { columns: IndexMap<String, String> },
    /// Keep these columns, in this order.
    Select { columns: Vec<String> },
    /// Remove these columns.
    Drop { columns: Vec<String> },
    /// Old name → new name.
    Rename { columns: IndexMap<String, String> },
    /// Group by `by` and aggregate; keys come back as columns. A list of functions names
    /// columns `col_fn`. `sort` orders the result by the keys (off by default, as in Dask).
    /// With `transform` instead of `agg`, every row is kept and each named column is replaced
    /// by its group's aggregate (`df.groupby(by)[col].transform(fn)`).
    Groupby {
        by: Names,
        #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
        agg: IndexMap<String, AggSpec>,
        #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
        transform: IndexMap<String, AggFn>,
        #[serde(default)]
        sort: bool,
    },
    /// Sort by columns; nulls last, as in pandas.
    Sort {
        by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ascending: Option<Ascending>,
    },
    /// The first `n` rows.
    Head { n: u64 },
    /// Cast columns to pandas dtypes (`{"price": "float64"}`).
    Astype { columns: IndexMap<String, DType> },
    /// Fill missing values (null, or NaN in float columns): one `value` for every column of a
    /// matching type, or a value per column in `columns`.
    Fillna {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Scalar>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        columns: Option<IndexMap<String, Scalar>>,
    },
    /// Drop rows with missing values in `subset` (default: all columns); `how`: `any` or `all`.
    Dropna {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subset: Option<Names>,
        #[serde(default)]
        how: DropHow,
    },
    /// Keep one row of each set of duplicates (over `subset`, default all columns). Which row
    /// of a set is kept is not defined.
    DropDuplicates {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subset: Option<Names>,
    },
    /// Append the rows of other sources, matching columns by name (missing ones are null).
    Concat { others: Vec<String> },
    /// Distinct values of `column` and their counts, most frequent first; nulls left out.
    ValueCounts { column: String },
    /// count, mean, std, min, 25%, 50%, 75%, max of every numeric column, one row per
    /// statistic (labelled in column `statistic`).
    Describe {},
    /// Keep each row with probability `frac`, decided by a hash of `seed` and the row's values:
    /// the same data and seed always give the same rows (identical rows go together).
    Sample {
        frac: f64,
        #[serde(default)]
        seed: u64,
    },
    /// `npartitions`: run the following steps in that many parallel partitions.
    /// `partition_size` (e.g. `"100MB"`): the size of the result files, as Dask's
    /// `repartition(partition_size=…)` followed by `to_parquet` gives.
    Repartition {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        npartitions: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition_size: Option<String>,
    },
    /// Each value `periods` rows earlier (later, if negative) in `order_by` order, within each
    /// `by` group: `df.sort_values(order_by).groupby(by)[columns].shift(periods)`. Rows without
    /// one get null. `order_by` is what Dask would have as the index: rows have no order of
    /// their own in a parallel read.
    Shift {
        columns: Names,
        #[serde(default = "one_period")]
        periods: i64,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// `x - shift(x, periods)`, as pandas' `diff`.
    Diff {
        columns: Names,
        #[serde(default = "one_period")]
        periods: i64,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// `x / shift(x, periods) - 1` as float64, as pandas' `pct_change` (missing values are not
    /// filled first).
    PctChange {
        columns: Names,
        #[serde(default = "one_period")]
        periods: i64,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// Running total in `order_by` order within each `by` group, as pandas' `cumsum`: a
    /// missing value stays missing and is skipped.
    Cumsum {
        columns: Names,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// Running maximum, as `cumsum` (pandas' `cummax`).
    Cummax {
        columns: Names,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// Running minimum, as `cumsum` (pandas' `cummin`).
    Cummin {
        columns: Names,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// Numbers the rows of each `by` group from 0 in `order_by` order, in a new column `name`
    /// (default `cumcount`): `df.groupby(by).cumcount()`.
    Cumcount {
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Replaces each column by its rank (float64, from 1) within each `by` group, as pandas'
    /// `rank`: ties by `method`; missing values keep no rank. `first` breaks ties by
    /// `order_by`, which it needs.
    Rank {
        columns: Names,
        #[serde(default)]
        method: RankMethod,
        #[serde(default = "ascending")]
        ascending: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_by: Option<Names>,
    },
    /// The `n` rows with the largest values of `columns` (compared in order; rows missing the
    /// first are left out), in each `by` group if given: `df.nlargest(n, columns)`, or
    /// `df.sort_values(columns, ascending=False).groupby(by).head(n)` (rows whose `by` key is
    /// missing are left out, as pandas' `groupby` leaves them out). A bounded top-n, not a
    /// sort of the data. Which of tied rows is kept is not defined.
    Nlargest {
        n: u64,
        columns: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// As `nlargest`, with the smallest values.
    Nsmallest {
        n: u64,
        columns: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// A moving `agg` in `order_by` order within each `by` group:
    /// `df.groupby(by)[columns].rolling(window, min_periods).agg()`. `window` is a number of
    /// rows (this one and those before it), or a time span such as `"7D"` or `"30min"`
    /// (pandas' offset windows: the rows less than that long before this one, by the one
    /// timestamp column in `order_by`). Null where fewer than `min_periods` values are
    /// present (default: the window's rows, or 1 for a time span, as in pandas).
    Rolling {
        columns: Names,
        window: Window,
        agg: MovingFn,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_periods: Option<u32>,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// Time buckets of `on`: `df.resample(rule, on=on).agg(agg)`, or with `by`
    /// `df.groupby(by).resample(rule, on=on).agg(agg)`. `rule`: `Ns`, `Nmin`, `Nh`, `ND`
    /// (buckets from midnight of the group's first day, as pandas' default origin), `W`
    /// (weeks to Sunday, labelled by that Sunday) or `MS` (months, labelled by their first
    /// day). Buckets without rows between a group's first and last appear, as in pandas:
    /// `sum`, `count`, `size` and `nunique` 0, the rest null. Sorted by `by` and bucket. A
    /// time-zone-aware `on` is bucketed in its local time.
    Resample {
        on: String,
        rule: String,
        agg: IndexMap<String, AggSpec>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// One row per element of the list column `column`, the other columns repeated: pandas'
    /// `explode`. An empty or missing list gives one row with a null.
    Explode { column: String },
    /// Replaces the values of `column` through `mapping` (keys are the values as text:
    /// `"1"` maps the integer 1); others become `default`, else null: `s.map(dict)`.
    Map {
        column: String,
        mapping: IndexMap<String, Scalar>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Scalar>,
    },
    /// Wide to long: one row per `id_vars` row and `value_vars` column (default: every other
    /// column), the column's name in `var_name` and its value in `value_name`: `pd.melt`.
    Melt {
        id_vars: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_vars: Option<Names>,
        #[serde(default = "variable")]
        var_name: String,
        #[serde(default = "value")]
        value_name: String,
    },
    /// Exponentially weighted mean in `order_by` order within each `by` group:
    /// `df.sort_values(order_by).groupby(by)[columns].ewm(span=…).mean()`. The decay is given
    /// by exactly one of `span`, `com`, `halflife` or `alpha`; `adjust` and `ignore_na` as in
    /// pandas. Null until `min_periods` values have been seen.
    Ewm {
        columns: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        span: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        com: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        halflife: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpha: Option<f64>,
        #[serde(default)]
        agg: EwmFn,
        #[serde(default = "yes")]
        adjust: bool,
        #[serde(default)]
        ignore_na: bool,
        #[serde(default)]
        min_periods: u32,
        order_by: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
    },
    /// A spreadsheet-style pivot: one row per `index` key, one column per value of `columns`
    /// (per `values` column and value, named `value_column` when there are several `values`),
    /// each cell `aggfunc` of that key's and value's rows: `pd.pivot_table`. `values` defaults
    /// to every other column. The columns' values are found by a first pass over the data
    /// (at most 1000 of them); rows missing a key are left out, a cell without rows is
    /// `fill_value` (else null), and rows come sorted by `index`.
    PivotTable {
        index: Names,
        columns: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        values: Option<Names>,
        #[serde(default = "mean")]
        aggfunc: AggFn,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill_value: Option<Scalar>,
    },
    /// One boolean column per value of each of `columns`, named `prefix` + `prefix_sep` +
    /// value, in place of the column and after the others: `pd.get_dummies(df, columns=…)`.
    /// `prefix`: one for all columns or one per column (default: the column's name). The values
    /// are found by a first pass over the data (at most 1000 per column); a missing value
    /// gives no dummy.
    GetDummies {
        columns: Names,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<Prefix>,
        #[serde(default = "underscore")]
        prefix_sep: String,
    },
    /// For each row, the row of `right` with the nearest `on` key (before it, after it or
    /// either, by `direction`) within the same `by` keys and within `tolerance` (a number, or
    /// a time span such as `"1h"`): `pd.merge_asof`. Every left row is kept; its columns from
    /// `right` are null where no row matches. Sorted by `on`. Of right rows with the same key,
    /// which one is taken is not defined.
    MergeAsof {
        right: String,
        on: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Names>,
        #[serde(default)]
        direction: AsofDirection,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerance: Option<Tolerance>,
        /// Added to overlapping column names; default `["_x", "_y"]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suffixes: Option<[String; 2]>,
    },
    /// Join with another source, as `pd.merge`.
    Merge {
        right: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<Names>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        left_on: Option<Names>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        right_on: Option<Names>,
        #[serde(default)]
        how: How,
        /// Added to overlapping column names; default `["_x", "_y"]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suffixes: Option<[String; 2]>,
    },
}

impl Step {
    pub fn op(&self) -> &'static str {
        match self {
            Step::Filter { .. } => "filter",
            Step::Assign { .. } => "assign",
            Step::Select { .. } => "select",
            Step::Drop { .. } => "drop",
            Step::Rename { .. } => "rename",
            Step::Groupby { .. } => "groupby",
            Step::Sort { .. } => "sort",
            Step::Head { .. } => "head",
            Step::Merge { .. } => "merge",
            Step::Astype { .. } => "astype",
            Step::Fillna { .. } => "fillna",
            Step::Dropna { .. } => "dropna",
            Step::DropDuplicates { .. } => "drop_duplicates",
            Step::Concat { .. } => "concat",
            Step::ValueCounts { .. } => "value_counts",
            Step::Describe {} => "describe",
            Step::Sample { .. } => "sample",
            Step::Repartition { .. } => "repartition",
            Step::Shift { .. } => "shift",
            Step::Diff { .. } => "diff",
            Step::PctChange { .. } => "pct_change",
            Step::Cumsum { .. } => "cumsum",
            Step::Cummax { .. } => "cummax",
            Step::Cummin { .. } => "cummin",
            Step::Cumcount { .. } => "cumcount",
            Step::Rank { .. } => "rank",
            Step::Nlargest { .. } => "nlargest",
            Step::Nsmallest { .. } => "nsmallest",
            Step::Rolling { .. } => "rolling",
            Step::Map { .. } => "map",
            Step::Melt { .. } => "melt",
            Step::Resample { .. } => "resample",
            Step::Explode { .. } => "explode",
            Step::Ewm { .. } => "ewm",
            Step::PivotTable { .. } => "pivot_table",
            Step::GetDummies { .. } => "get_dummies",
            Step::MergeAsof { .. } => "merge_asof",
        }
    }
}

fn one_period() -> i64 {
    1
}

fn ascending() -> bool {
    true
}

fn yes() -> bool {
    true
}

fn mean() -> AggFn {
    AggFn::Mean
}

fn underscore() -> String {
    "_".to_string()
}

fn variable() -> String {
    "variable".to_string()
}

fn value() -> String {
    "value".to_string()
}

/// A `rolling` window: rows, or a time span (`"7D"`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Window {
    Rows(u32),
    Span(String),
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Window;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of rows, or a time span such as \"7D\" or \"30min\"")
            }
            fn visit_u64<E: serde::de::Error>(self, rows: u64) -> Result<Window, E> {
                u32::try_from(rows)
                    .map(Window::Rows)
                    .map_err(|_| E::custom(format!("{rows} rows: too many")))
            }
            fn visit_str<E: serde::de::Error>(self, span: &str) -> Result<Window, E> {
                Ok(Window::Span(span.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Seconds in a span such as `"30s"`, `"15min"`, `"1h"`, `"7D"` (pandas' offset aliases).
pub fn span_seconds(span: &str) -> Result<u64, String> {
    let split = span
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(span.len());
    let (count, unit) = span.split_at(split);
    let count: u64 = match count {
        "" => 1,
        digits => digits.parse().map_err(|_| format!("{span:?}: too large"))?,
    };
    let unit = match unit {
        "s" | "S" => 1,
        "min" | "T" => 60,
        "h" | "H" => 3600,
        "D" => 24 * 3600,
        _ => {
            return Err(format!(
                "{span:?}: expected e.g. \"30s\", \"15min\", \"1h\" or \"1D\""
            ));
        }
    };
    count
        .checked_mul(unit)
        .filter(|s| (1..=MAX_SPAN_SECONDS).contains(s))
        .ok_or_else(|| format!("{span:?}: expected from 1 second to 100 years"))
}

const MAX_SPAN_SECONDS: u64 = 100 * 366 * 24 * 3600;

/// A `resample` rule, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRule {
    /// Buckets of this many seconds, from midnight: the length divides a day, so every day
    /// starts a bucket.
    Fixed(u32),
    /// Buckets of this many seconds that do not divide a day (`"7h"`, `"2D"`): as pandas'
    /// default `origin="start_day"`, counted from midnight of the first day with rows.
    FromFirstDay(u64),
    /// Weeks ending on Sunday (pandas' `W`, `W-SUN`).
    Week,
    /// Calendar months (pandas' `MS`).
    MonthStart,
}

impl TimeRule {
    pub fn parse(rule: &str) -> Result<TimeRule, String> {
        const DAY: u64 = 24 * 3600;
        match rule {
            "W" | "W-SUN" => return Ok(TimeRule::Week),
            "MS" => return Ok(TimeRule::MonthStart),
            _ => {}
        }
        let seconds = span_seconds(rule).map_err(|m| format!("{m}, \"W\" or \"MS\""))?;
        match u32::try_from(seconds) {
            Ok(s) if DAY.is_multiple_of(seconds) => Ok(TimeRule::Fixed(s)),
            _ => Ok(TimeRule::FromFirstDay(seconds)),
        }
    }
}

/// How `rank` ranks ties, as pandas: `average` of their positions, `min`, `max`, `first`
/// (in `order_by` order) or `dense` (no gaps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankMethod {
    #[default]
    Average,
    Min,
    Max,
    First,
    Dense,
}

/// What `rolling` computes over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovingFn {
    Sum,
    Mean,
    Min,
    Max,
    Count,
    Std,
    Var,
}

/// What `ewm` computes (pandas' `ewm(...).mean()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EwmFn {
    #[default]
    Mean,
}

/// `get_dummies`' prefix: one for every column, or one per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Prefix {
    All(String),
    PerColumn(IndexMap<String, String>),
}

/// Which right row `merge_asof` takes: the last one at or before the left key (`backward`),
/// the first at or after it (`forward`), or the closer of the two (`nearest`; the earlier one
/// on a tie).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AsofDirection {
    #[default]
    Backward,
    Forward,
    Nearest,
}

/// How far `merge_asof` looks: a number for numeric keys, a time span (`"1h"`) for timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Tolerance {
    Number(f64),
    Span(String),
}

/// A JSON scalar used as a value in a step (`fillna`, `map`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DropHow {
    /// Drop a row if any of the columns is missing.
    #[default]
    Any,
    /// Drop a row only if all of the columns are missing.
    All,
}

/// A column name or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, from = "OneOrMany<String>")]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(ns) => ns.clone(),
        }
    }
}

/// One flag for all sort keys, or one per key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, from = "OneOrMany<bool>")]
pub enum Ascending {
    All(bool),
    Each(Vec<bool>),
}

/// One aggregation (the column keeps its name) or a list (columns named `col_fn`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, from = "OneOrMany<AggFn>")]
pub enum AggSpec {
    One(AggFn),
    Many(Vec<AggFn>),
}

impl AggSpec {
    /// (function, output column name) pairs for column `col`.
    pub fn outputs(&self, col: &str) -> Vec<(AggFn, String)> {
        match self {
            AggSpec::One(f) => vec![(*f, col.to_string())],
            AggSpec::Many(fs) => fs
                .iter()
                .map(|f| (*f, format!("{col}_{}", f.name())))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggFn {
    Sum,
    Mean,
    Min,
    Max,
    Count,
    Size,
    Nunique,
    Std,
    Var,
    First,
    Last,
    Median,
}

impl AggFn {
    pub fn name(self) -> &'static str {
        match self {
            AggFn::Sum => "sum",
            AggFn::Mean => "mean",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Count => "count",
            AggFn::Size => "size",
            AggFn::Nunique => "nunique",
            AggFn::Std => "std",
            AggFn::Var => "var",
            AggFn::First => "first",
            AggFn::Last => "last",
            AggFn::Median => "median",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum How {
    #[default]
    Inner,
    Left,
    Right,
    Outer,
}

/// How the result is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    #[serde(default)]
    pub format: OutputFormat,
    /// Parquet compression; default snappy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// Target size of each result file, e.g. `"100MB"`; default `"128MB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_size: Option<String>,
    /// Write exactly this many result files instead (batches are dealt round-robin, so row
    /// order is kept within a file, not across files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000)]
    pub npartitions: Option<u32>,
    /// Write one file (as Dask's `to_csv(single_file=True)`); the same as `npartitions: 1`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single_file: bool,
    /// Write the result dataset here instead of Rusk's result store: a directory under the
    /// data root (`out/daily`, `file:///…`) or an object-store URL (`s3://bucket/prefix`).
    /// The files appear only when the job succeeds; they are the caller's, never deleted by
    /// Rusk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "s3://processed-data/dataset.parquet")]
    pub path: Option<String>,
    /// What to do when `path` already holds files.
    #[serde(default, skip_serializing_if = "WriteMode::is_default")]
    pub mode: WriteMode,
    /// Write Hive-style directories by these columns (`country=de/part-00000.parquet`), as
    /// Dask's `to_parquet(partition_on=…)`: the columns are in the directory names, not the
    /// files, and a filter on them reads only the matching directories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 8)]
    pub partition_on: Vec<String>,
}

/// The directory value of a null in a Hive-partitioned dataset (`column=__HIVE_DEFAULT_PARTITION__`),
/// as Hive, Spark and pyarrow write it: what `partition_on` writes and partitioned sources read.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// How a job writes to an `output.path` that already holds files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Refuse the job (at submission, and again before the files are published).
    #[default]
    Error,
    /// Replace the dataset's files with the new ones.
    Overwrite,
    /// Add new files beside the existing ones (the schema must match theirs).
    Append,
}

impl WriteMode {
    fn is_default(&self) -> bool {
        *self == WriteMode::Error
    }
}

/// How a result is split into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLayout {
    /// Files of about this many bytes, in row order.
    Size(u64),
    /// Exactly this many files.
    Count(u32),
}

impl Output {
    pub const DEFAULT_PARTITION_SIZE: u64 = 128 * 1024 * 1024;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    #[default]
    Parquet,
    /// Arrow IPC files (Feather v2).
    Arrow,
    /// CSV files with a header row, as Dask's `to_csv`.
    Csv,
    /// Newline-delimited JSON records, as Dask's `to_json`.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    Snappy,
    Zstd,
    Gzip,
    Lz4,
    None,
}

/// Parses a JSON request body, naming the path of the first bad field. Parsed straight from
/// the text (no `serde_json::Value` in between) so that maps keep the caller's key order.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SpecError> {
    check_depth(body)?;
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            SpecError::NotJson(inner.to_string())
        } else {
            SpecError::invalid(path, inner.to_string())
        }
    })
}

/// The deepest nesting of objects and arrays a request may have.
pub const MAX_JSON_DEPTH: usize = 32;

/// Refuses bodies nested deeper than [`MAX_JSON_DEPTH`] before parsing them (no spec needs
/// more, and deep nesting is how parsers are made to exhaust their stack).
fn check_depth(body: &[u8]) -> Result<(), SpecError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in body {
        match (in_string, byte) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') => in_string = false,
            (true, _) => {}
            (false, b'"') => in_string = true,
            (false, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(SpecError::NotJson(format!(
                        "nested deeper than {MAX_JSON_DEPTH} levels"
                    )));
                }
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

impl JobSpec {
    /// The job's own result limit in bytes (validated, so it parses).
    pub fn max_result_bytes(&self) -> Option<u64> {
        self.max_result_bytes
            .as_deref()
            .and_then(|size| parse_size(size).ok())
    }

    /// Parses and checks a JSON body.
    pub fn from_json(body: &[u8]) -> Result<JobSpec, SpecError> {
        let spec: JobSpec = parse_json(body)?;
        spec.validate()?;
        Ok(spec)
    }

    /// How the result is split into files: `output` first, then the last `repartition` step
    /// with a `partition_size`, else files of 128 MB. The spec was validated, so sizes parse.
    pub fn file_layout(&self) -> FileLayout {
        if let Some(n) = self.output.npartitions {
            return FileLayout::Count(n);
        }
        if self.output.single_file {
            return FileLayout::Count(1);
        }
        let from_steps = self
            .steps
            .iter()
            .flatten()
            .rev()
            .find_map(|step| match step {
                Step::Repartition {
                    partition_size: Some(size),
                    ..
                } => Some(size),
                _ => None,
            });
        let size = self.output.partition_size.as_ref().or(from_steps);
        FileLayout::Size(
            size.and_then(|s| parse_size(s).ok())
                .unwrap_or(Output::DEFAULT_PARTITION_SIZE),
        )
    }

    /// The source that `steps` start from.
    pub fn input_name(&self) -> Option<&str> {
        match &self.input {
            Some(name) => Some(name),
            None if self.sources.len() == 1 => self.sources.keys().next().map(String::as_str),
            None => None,
        }
    }
}

impl From<OneOrMany<String>> for Paths {
    fn from(value: OneOrMany<String>) -> Paths {
        match value {
            OneOrMany::One(v) => Paths::One(v),
            OneOrMany::Many(vs) => Paths::Many(vs),
        }
    }
}

impl From<OneOrMany<String>> for Names {
    fn from(value: OneOrMany<String>) -> Names {
        match value {
            OneOrMany::One(v) => Names::One(v),
            OneOrMany::Many(vs) => Names::Many(vs),
        }
    }
}

impl From<OneOrMany<bool>> for Ascending {
    fn from(value: OneOrMany<bool>) -> Ascending {
        match value {
            OneOrMany::One(v) => Ascending::All(v),
            OneOrMany::Many(vs) => Ascending::Each(vs),
        }
    }
}

impl From<OneOrMany<AggFn>> for AggSpec {
    fn from(value: OneOrMany<AggFn>) -> AggSpec {
        match value {
            OneOrMany::One(v) => AggSpec::One(v),
            OneOrMany::Many(vs) => AggSpec::Many(vs),
        }
    }
}
