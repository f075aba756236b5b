//! Hive-partitioned sources: a directory whose files lie under `column=value/…` directories
//! (as `output.partition_on`, Dask, Spark and pyarrow write them) is read with those columns
//! back, typed (integers where every value is one, else strings), and DataFusion prunes the
//! directories a filter on them rules out, before opening any file.

use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::error::DataFusionError;
use datafusion::execution::context::DataFilePaths;

use crate::spec::NULL_PARTITION;

/// What a source's tables are read from.
#[derive(Debug, Clone)]
pub(super) enum Tables {
    /// The files, as resolved.
    Files(Vec<String>),
    /// A partitioned dataset's directory, listed by DataFusion; only names not starting
    /// with `_` or `.` are read, as in resolving the files.
    Hive(ListingTableUrl),
}

impl DataFilePaths for Tables {
    fn to_urls(self) -> Result<Vec<ListingTableUrl>, DataFusionError> {
        match self {
            Tables::Files(files) => files.to_urls(),
            Tables::Hive(url) => Ok(vec![url]),
        }
    }
}

/// The partition columns of resolved files (absolute paths or URLs), where every file lies
/// under the same directory at `k1=…/k2=…/` with the same keys; with the dataset's tables.
pub(super) fn layout(files: &[String]) -> Option<(Tables, Vec<(String, DataType)>)> {
    let mut base: Option<&str> = None;
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<Vec<String>> = Vec::new();
    for file in files {
        let (dir, _) = file.rsplit_once('/')?;
        let segments: Vec<&str> = dir.split('/').collect();
        let run = segments
            .iter()
            .rev()
            .take_while(|s| s.split_once('=').is_some_and(|(k, _)| !k.is_empty()))
            .count();
        if run == 0 {
            return None;
        }
        let cut = dir.len() - segments[segments.len() - run..].join("/").len() - 1;
        let here = &dir[..cut];
        let pairs: Vec<(&str, &str)> = segments[segments.len() - run..]
            .iter()
            .filter_map(|s| s.split_once('='))
            .collect();
        match base {
            None => {
                base = Some(here);
                names = pairs.iter().map(|(k, _)| k.to_string()).collect();
                values = vec![Vec::new(); names.len()];
            }
            Some(b)
                if b != here
                    || pairs
                        .iter()
                        .map(|(k, _)| *k)
                        .ne(names.iter().map(String::as_str)) =>
            {
                return None;
            }
            Some(_) => {}
        }
        for (column, (_, value)) in values.iter_mut().zip(&pairs) {
            column.push(value.to_string());
        }
    }
    let base = base?;
    let url = table_url(base).ok()?;
    let columns = names
        .into_iter()
        .zip(values)
        .map(|(name, values)| (name, infer(&values)))
        .collect();
    Some((Tables::Hive(url), columns))
}

/// The dataset directory with a glob that skips hidden names (DataFusion matches it against
/// the path below the directory without its `k=v` segments).
fn table_url(base: &str) -> Result<ListingTableUrl, DataFusionError> {
    let glob = glob::Pattern::new("[!_.]*").map_err(|e| DataFusionError::External(Box::new(e)))?;
    if base.starts_with('/') {
        return ListingTableUrl::parse(format!("{base}/[!_.]*"));
    }
    let url =
        url::Url::parse(&format!("{base}/")).map_err(|e| DataFusionError::External(Box::new(e)))?;
    ListingTableUrl::try_new(url, Some(glob))
}

fn infer(values: &[String]) -> DataType {
    let integers = values
        .iter()
        .all(|v| v != NULL_PARTITION && v.parse::<i64>().is_ok());
    if integers {
        DataType::Int64
    } else {
        DataType::Utf8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn finds_the_partition_columns_and_their_types() {
        let (tables, columns) = layout(&files(&[
            "/d/ds/year=2025/country=de/part-0.parquet",
            "/d/ds/year=2026/country=fr/part-0.parquet",
        ]))
        .unwrap();
        assert_eq!(
            columns,
            [
                ("year".into(), DataType::Int64),
                ("country".into(), DataType::Utf8)
            ]
        );
        let Tables::Hive(url) = tables else { panic!() };
        assert_eq!(url.prefix().as_ref(), "d/ds");
        let remote = layout(&files(&["s3://b/ds/k=1/x.parquet"])).unwrap();
        let Tables::Hive(url) = remote.0 else {
            panic!()
        };
        assert_eq!(url.as_str(), "s3://b/ds/");
    }

    #[test]
    fn plain_or_mixed_layouts_are_not_partitioned() {
        assert!(layout(&files(&["/d/a.parquet", "/d/b.parquet"])).is_none());
        assert!(layout(&files(&["/d/k=1/a.parquet", "/d/j=1/b.parquet"])).is_none());
        assert!(layout(&files(&["/d/k=1/a.parquet", "/e/k=1/b.parquet"])).is_none());
        assert!(layout(&files(&["/d/k=1/a.parquet", "/d/b.parquet"])).is_none());
    }
}
