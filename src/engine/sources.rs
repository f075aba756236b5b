//! Sources: resolving paths under the data root (globs, lists, directories) and registering
//! each source as a table of the job's session.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::{ScalarValue, TableReference};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{cast, when};
use datafusion::prelude::{
    CsvReadOptions, DataFrame, Expr, JsonReadOptions, ParquetReadOptions, SessionContext, ident,
    lit,
};

use super::hive::{self, Tables};
use super::paths::{Location, Scope, locate};
use super::{Engine, EngineError};
use crate::spec::{CsvOptions, DType, FileCompression, Format, Source};

/// Registers `source` as table `name`; errors name the request field `at` (e.g.
/// `sources.logs`, or `source` for `/v1/inspect`).
pub(super) async fn register(
    ctx: &SessionContext,
    engine: &Engine,
    scope: &Scope,
    (name, at): (&str, &str),
    source: &Source,
) -> Result<usize, EngineError> {
    let files = source_files(engine, scope, at, source).await?;
    check_same_columns(ctx, &scope.root, at, &files, source).await?;
    let count = files.len();
    let (tables, partitions) = match hive::layout(&files) {
        Some((tables, partitions)) => (tables, partitions),
        None => (Tables::Files(files), Vec::new()),
    };
    let frame = match source.format {
        Format::Csv => read_csv(ctx, at, tables, partitions, &source.options).await?,
        Format::Parquet => {
            let options = ParquetReadOptions {
                file_extension: "",
                table_partition_cols: partitions,
                ..Default::default()
            };
            ctx.read_parquet(tables, options).await
        }
        .map_err(|e| EngineError::invalid(at, e))?,
        Format::Json => {
            let options = JsonReadOptions {
                file_extension: "",
                table_partition_cols: partitions,
                ..Default::default()
            };
            ctx.read_json(tables, options).await
        }
        .map_err(|e| EngineError::invalid(at, e))?,
        Format::Arrow => {
            let options = ArrowReadOptions {
                file_extension: "",
                table_partition_cols: partitions,
                ..Default::default()
            };
            ctx.read_arrow(tables, options).await
        }
        .map_err(|e| EngineError::invalid(at, e))?,
    };
    ctx.register_table(TableReference::bare(name), frame.into_view())?;
    Ok(count)
}

/// A registered source by its name as the spec spells it: a `&str` would be parsed and
/// lower-cased, and source names are case-sensitive, like columns.
pub(super) async fn table(
    ctx: &SessionContext,
    name: &str,
) -> datafusion::error::Result<DataFrame> {
    ctx.table(TableReference::bare(name)).await
}

/// All the files a source's paths name, in order: local paths or URLs.
pub(super) async fn source_files(
    engine: &Engine,
    scope: &Scope,
    at: &str,
    source: &Source,
) -> Result<Vec<String>, EngineError> {
    let mut files = Vec::new();
    for pattern in source.path.to_vec() {
        let found = locate(engine, scope, pattern, source.format)
            .await
            .map_err(|m| EngineError::invalid(format!("{at}.path"), m))?;
        files.extend(found);
    }
    Ok(files)
}

/// Every file of a source has the same columns as its first (CSV: header names; Parquet and
/// Arrow: names and types), or the error names both files. JSON records may differ by design.
async fn check_same_columns(
    ctx: &SessionContext,
    root: &Path,
    at: &str,
    files: &[String],
    source: &Source,
) -> Result<(), EngineError> {
    // One file (or none) has nothing to agree with, and its schema is read when it is registered.
    let Some((first, rest)) = files.split_first().filter(|(_, rest)| !rest.is_empty()) else {
        return Ok(());
    };
    let columns_of = async |file: &String| -> Result<Option<Vec<String>>, EngineError> {
        let path = file.clone();
        let schema = match source.format {
            Format::Csv => return Ok(csv_header(file, &source.options)),
            Format::Json => return Ok(None),
            Format::Parquet => {
                let options = ParquetReadOptions {
                    file_extension: "",
                    ..Default::default()
                };
                ctx.read_parquet(path, options).await
            }
            Format::Arrow => {
                let options = ArrowReadOptions {
                    file_extension: "",
                    ..Default::default()
                };
                ctx.read_arrow(path, options).await
            }
        }
        .map_err(|e| {
            EngineError::invalid(
                at,
                format!("{}: {}", shown(root, file), e.strip_backtrace()),
            )
        })?
        .schema()
        .as_arrow()
        .clone();
        Ok(Some(
            schema
                .fields()
                .iter()
                .map(|f| format!("{}: {}", f.name(), f.data_type()))
                .collect(),
        ))
    };
    let Some(expected) = columns_of(first).await? else {
        return Ok(());
    };
    for file in rest {
        if let Some(columns) = columns_of(file).await?
            && columns != expected
        {
            return Err(EngineError::invalid(
                format!("{at}.path"),
                format!(
                    "files disagree on their columns: {} has {expected:?}, {} has {columns:?}",
                    shown(root, first),
                    shown(root, file)
                ),
            ));
        }
    }
    Ok(())
}

/// A local CSV file's header names (`None` where there is no header, the file is
/// compressed, or remote).
fn csv_header(file: &str, options: &CsvOptions) -> Option<Vec<String>> {
    use std::io::BufRead;
    let remote = Location::parse(file).is_ok_and(|l| l.is_remote());
    if options.has_header == Some(false) || options.compression.is_some() || remote {
        return None;
    }
    let delimiter = options.delimiter.as_deref().unwrap_or(",");
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(file).ok()?)
        .read_line(&mut line)
        .ok()?;
    Some(
        line.trim_end_matches(['\r', '\n'])
            .split(delimiter)
            .map(|name| name.trim_matches('"').to_string())
            .collect(),
    )
}

/// A file's path as the caller wrote it: relative to the data root.
pub(crate) fn shown(root: &Path, file: &str) -> String {
    Path::new(file)
        .strip_prefix(root)
        .map_or_else(|_| file.to_string(), |p| p.display().to_string())
}

async fn read_csv(
    ctx: &SessionContext,
    at: &str,
    files: Tables,
    partitions: Vec<(String, DataType)>,
    options: &CsvOptions,
) -> Result<DataFrame, EngineError> {
    let null_values = options.null_values.clone().unwrap_or_default();
    let mut read = CsvReadOptions::new()
        .has_header(options.has_header.unwrap_or(true))
        .file_extension("")
        .table_partition_cols(partitions.clone());
    if !null_values.is_empty() {
        // Used by type inference only: DataFusion 55's CSV reader ignores it (see below).
        read = read.null_regex(Some(null_regex(&null_values)));
    }
    if let Some(d) = &options.delimiter {
        read = read.delimiter(d.as_bytes()[0]);
    }
    if let Some(q) = &options.quote {
        read = read.quote(q.as_bytes()[0]);
    }
    if let Some(rows) = options.schema_infer_rows {
        read = read.schema_infer_max_records(rows);
    }
    if let Some(c) = options.compression {
        read = read.file_compression_type(compression(c));
    }
    let invalid = |e: DataFusionError| EngineError::invalid(at, e.strip_backtrace());
    let inferred = ctx
        .read_csv(files.clone(), read.clone())
        .await
        .map_err(invalid)?;
    if options.dtype.is_empty() && options.parse_dates.is_empty() && null_values.is_empty() {
        return Ok(inferred);
    }
    // A given schema is the files' own: DataFusion adds the partition columns to it.
    let in_files = Schema::new(
        inferred
            .schema()
            .as_arrow()
            .fields()
            .iter()
            .filter(|f| !partitions.iter().any(|(name, _)| name == f.name()))
            .map(|f| f.as_ref().clone())
            .collect::<Vec<_>>(),
    );
    let schema = override_types(&in_files, options)
        .map_err(|(field, m)| EngineError::invalid(format!("{at}.options.{field}"), m))?;
    if null_values.is_empty() {
        return ctx
            .read_csv(files, read.schema(&schema))
            .await
            .map_err(invalid);
    }
    // The CSV reader does not apply `null_regex` when reading, so read text, turn the null
    // markers into nulls, then cast each column to its type.
    let text = Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let frame = ctx
        .read_csv(files, read.schema(&text))
        .await
        .map_err(invalid)?;
    let markers: Vec<Expr> = null_values.iter().map(|v| lit(v.as_str())).collect();
    let mut columns = schema
        .fields()
        .iter()
        .map(|f| {
            let column = ident(f.name());
            let typed_null = ScalarValue::try_from(f.data_type())?;
            when(
                column.clone().in_list(markers.clone(), false),
                lit(typed_null),
            )
            .otherwise(cast(column, f.data_type().clone()))
            .map(|e| e.alias(f.name()))
        })
        .collect::<Result<Vec<Expr>, DataFusionError>>()
        .map_err(invalid)?;
    columns.extend(partitions.iter().map(|(name, _)| ident(name)));
    frame.select(columns).map_err(invalid)
}

fn override_types(
    inferred: &Schema,
    options: &CsvOptions,
) -> Result<Schema, (&'static str, String)> {
    let named = options
        .dtype
        .keys()
        .map(|c| ("dtype", c))
        .chain(options.parse_dates.iter().map(|c| ("parse_dates", c)));
    for (field, column) in named {
        if inferred.field_with_name(column).is_err() {
            let message = format!(
                "unknown column {column:?}; columns are {:?}",
                column_names(inferred)
            );
            return Err((field, message));
        }
    }
    let time = time_type(options.tz.as_deref()).map_err(|m| ("tz", m))?;
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| match options.dtype.get(f.name()) {
            _ if options.parse_dates.contains(f.name()) => Field::new(f.name(), time.clone(), true),
            Some(t) => Field::new(f.name(), arrow_type(*t), true),
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new(fields))
}

/// The type of a `parse_dates` column: nanoseconds, in `tz` if given.
fn time_type(tz: Option<&str>) -> Result<DataType, String> {
    if let Some(tz) = tz {
        Tz::from_str(tz).map_err(|_| {
            format!("{tz:?} is not a time zone: expected a name such as \"Europe/Paris\" or \"UTC\", or an offset such as \"+02:00\"")
        })?;
    }
    Ok(DataType::Timestamp(TimeUnit::Nanosecond, tz.map(Arc::from)))
}

fn column_names(schema: &Schema) -> Vec<&str> {
    schema.fields().iter().map(|f| f.name().as_str()).collect()
}

/// The Arrow type for a pandas dtype name.
pub(crate) fn arrow_type(dtype: DType) -> DataType {
    match dtype {
        DType::Int8 => DataType::Int8,
        DType::Int16 => DataType::Int16,
        DType::Int32 => DataType::Int32,
        DType::Int64 => DataType::Int64,
        DType::UInt8 => DataType::UInt8,
        DType::UInt16 => DataType::UInt16,
        DType::UInt32 => DataType::UInt32,
        DType::UInt64 => DataType::UInt64,
        DType::Float32 => DataType::Float32,
        DType::Float64 => DataType::Float64,
        DType::Bool => DataType::Boolean,
        DType::String => DataType::Utf8,
        DType::Date => DataType::Date32,
        DType::Datetime => DataType::Timestamp(TimeUnit::Nanosecond, None),
    }
}

fn compression(c: FileCompression) -> FileCompressionType {
    match c {
        FileCompression::Gzip => FileCompressionType::GZIP,
        FileCompression::Bzip2 => FileCompressionType::BZIP2,
        FileCompression::Xz => FileCompressionType::XZ,
        FileCompression::Zstd => FileCompressionType::ZSTD,
    }
}

/// A regex matching exactly the given cell texts, or the empty cell.
fn null_regex(values: &[String]) -> String {
    let alternatives: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
    format!("^(?:{}|)$", alternatives.join("|"))
}
