//! Sources: resolving paths under the data root (globs, lists, directories) and registering
//! each source as a table of the job's session.

use std::path::{Component, Path, PathBuf};

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{cast, when};
use datafusion::prelude::{
    CsvReadOptions, DataFrame, Expr, JsonReadOptions, ParquetReadOptions, SessionContext, ident,
    lit,
};

use super::EngineError;
use crate::spec::{CsvOptions, DType, FileCompression, Format, Source};

pub(super) async fn register(
    ctx: &SessionContext,
    root: &Path,
    name: &str,
    source: &Source,
) -> Result<usize, EngineError> {
    let at = format!("sources.{name}");
    let files = source_files(root, &at, source)?;
    check_same_columns(ctx, root, &at, &files, source).await?;
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let count = files.len();
    let frame = match source.format {
        Format::Csv => read_csv(ctx, &at, files, &source.options).await?,
        Format::Parquet => {
            let options = ParquetReadOptions {
                file_extension: "",
                ..Default::default()
            };
            ctx.read_parquet(files, options).await
        }
        .map_err(|e| EngineError::invalid(&at, e))?,
        Format::Json => {
            let options = JsonReadOptions {
                file_extension: "",
                ..Default::default()
            };
            ctx.read_json(files, options).await
        }
        .map_err(|e| EngineError::invalid(&at, e))?,
        Format::Arrow => {
            let options = ArrowReadOptions {
                file_extension: "",
                ..Default::default()
            };
            ctx.read_arrow(files, options).await
        }
        .map_err(|e| EngineError::invalid(&at, e))?,
    };
    ctx.register_table(name, frame.into_view())?;
    Ok(count)
}

/// All the files a source's paths name, in order.
pub(super) fn source_files(
    root: &Path,
    at: &str,
    source: &Source,
) -> Result<Vec<PathBuf>, EngineError> {
    let mut files = Vec::new();
    for pattern in source.path.to_vec() {
        let found =
            resolve(root, pattern).map_err(|m| EngineError::invalid(format!("{at}.path"), m))?;
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
    files: &[PathBuf],
    source: &Source,
) -> Result<(), EngineError> {
    let Some((first, rest)) = files.split_first() else {
        return Ok(());
    };
    let columns_of = async |file: &Path| -> Result<Option<Vec<String>>, EngineError> {
        let path = file.display().to_string();
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

/// A CSV file's header names (`None` where there is no header or the file is compressed).
fn csv_header(file: &Path, options: &CsvOptions) -> Option<Vec<String>> {
    use std::io::BufRead;
    if options.has_header == Some(false) || options.compression.is_some() {
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
pub(crate) fn shown(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

async fn read_csv(
    ctx: &SessionContext,
    at: &str,
    files: Vec<String>,
    options: &CsvOptions,
) -> Result<DataFrame, EngineError> {
    let null_values = options.null_values.clone().unwrap_or_default();
    let mut read = CsvReadOptions::new()
        .has_header(options.has_header.unwrap_or(true))
        .file_extension("");
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
    if options.dtype.is_empty() && null_values.is_empty() {
        return Ok(inferred);
    }
    let schema = override_types(inferred.schema().as_arrow(), options)
        .map_err(|m| EngineError::invalid(format!("{at}.options.dtype"), m))?;
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
    let columns = schema
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
    frame.select(columns).map_err(invalid)
}

fn override_types(inferred: &Schema, options: &CsvOptions) -> Result<Schema, String> {
    for column in options.dtype.keys() {
        if inferred.field_with_name(column).is_err() {
            return Err(format!(
                "unknown column {column:?}; columns are {:?}",
                column_names(inferred)
            ));
        }
    }
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| match options.dtype.get(f.name()) {
            Some(t) => Field::new(f.name(), arrow_type(*t), true),
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new(fields))
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

/// The files a source path names: one file, every file of a directory (recursively, skipping
/// hidden and `_`-prefixed names, as Spark and Dask write them), or a glob's matches. Sorted, so
/// partitions follow file order. Every file must lie under `root`, symlinks resolved.
pub(crate) fn resolve(root: &Path, path: &str) -> Result<Vec<PathBuf>, String> {
    let local = local_path(path)?;
    if local.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{path:?}: `..` is not allowed in source paths"));
    }
    let full = root.join(&local);
    let has_glob = path.contains(['*', '?', '[']);
    // Hidden and marker files are skipped only below `base`, the part the caller named.
    let (pattern, base) = if has_glob {
        let literal: PathBuf = local
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
            .collect();
        let prefix = if local.is_relative() {
            format!("{}/", glob::Pattern::escape(&root.display().to_string()))
        } else {
            String::new()
        };
        (format!("{prefix}{}", local.display()), root.join(literal))
    } else if full.is_dir() {
        let dir = glob::Pattern::escape(&full.display().to_string());
        (format!("{dir}/**/*"), full.clone())
    } else {
        let file = confine(root, &full, path)?;
        return Ok(vec![file]);
    };
    let entries = glob::glob(&pattern).map_err(|e| format!("{path:?} is not a valid glob: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let found =
            entry.map_err(|e| format!("cannot read {}: {}", e.path().display(), e.error()))?;
        if found.is_file() && !is_hidden(&found, &base) {
            files.push(confine(root, &found, path)?);
        }
    }
    if files.is_empty() {
        return Err(format!("no files match {path:?} under the data root"));
    }
    files.sort();
    Ok(files)
}

/// A path relative to the root, or an absolute one from a `file://` URL or absolute path.
fn local_path(path: &str) -> Result<PathBuf, String> {
    if let Some(rest) = path.strip_prefix("file://") {
        return Ok(PathBuf::from(rest));
    }
    if let Some((scheme, _)) = path.split_once("://") {
        return Err(format!(
            "{path:?}: the {scheme}:// scheme is not configured on this server; \
             sources are local paths under the data root or file:// URLs"
        ));
    }
    Ok(PathBuf::from(path))
}

fn is_hidden(found: &Path, base: &Path) -> bool {
    let relative = found.strip_prefix(base).unwrap_or(found);
    relative.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        name.starts_with('.') || name.starts_with('_')
    })
}

fn confine(root: &Path, file: &Path, asked: &str) -> Result<PathBuf, String> {
    let real = file
        .canonicalize()
        .map_err(|_| format!("no such file: {asked:?} under the data root"))?;
    if !real.starts_with(root) {
        return Err(format!("{asked:?} lies outside the data root"));
    }
    if !real.is_file() {
        return Err(format!("{asked:?} is not a file"));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("logs/sub")).unwrap();
        for f in [
            "logs/a-1.csv",
            "logs/a-2.csv",
            "logs/b.txt",
            "logs/sub/a-3.csv",
            "logs/_SUCCESS",
        ] {
            std::fs::write(root.join(f), "x\n1\n").unwrap();
        }
        std::fs::write(dir.path().join("secret.csv"), "x\n1\n").unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    fn names(files: Vec<PathBuf>, root: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn expands_globs_in_order() {
        let (_dir, root) = tree();
        let files = resolve(&root, "logs/a-*.csv").unwrap();
        assert_eq!(names(files, &root), ["logs/a-1.csv", "logs/a-2.csv"]);
        let files = resolve(&root, "logs/**/*.csv").unwrap();
        assert_eq!(
            names(files, &root),
            ["logs/a-1.csv", "logs/a-2.csv", "logs/sub/a-3.csv"]
        );
    }

    #[test]
    fn reads_a_directory_without_marker_files() {
        let (_dir, root) = tree();
        let files = resolve(&root, "logs").unwrap();
        assert_eq!(
            names(files, &root),
            [
                "logs/a-1.csv",
                "logs/a-2.csv",
                "logs/b.txt",
                "logs/sub/a-3.csv"
            ]
        );
    }

    #[test]
    fn refuses_escapes() {
        let (dir, root) = tree();
        assert!(
            resolve(&root, "../secret.csv")
                .unwrap_err()
                .contains("`..`")
        );
        let absolute = dir.path().join("secret.csv").display().to_string();
        assert!(
            resolve(&root, &absolute)
                .unwrap_err()
                .contains("outside the data root")
        );
        std::os::unix::fs::symlink(dir.path().join("secret.csv"), root.join("link.csv")).unwrap();
        assert!(
            resolve(&root, "link.csv")
                .unwrap_err()
                .contains("outside the data root")
        );
        assert!(
            resolve(&root, "*.csv")
                .unwrap_err()
                .contains("outside the data root")
        );
    }

    #[test]
    fn names_missing_files_and_unknown_schemes() {
        let (_dir, root) = tree();
        assert!(
            resolve(&root, "nope-*.csv")
                .unwrap_err()
                .contains("no files match")
        );
        assert!(
            resolve(&root, "nope.csv")
                .unwrap_err()
                .contains("no such file")
        );
        assert!(
            resolve(&root, "s3://bucket/x.csv")
                .unwrap_err()
                .contains("s3://")
        );
    }
}
