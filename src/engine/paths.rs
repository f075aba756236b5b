//! Where a source's files are: local paths under the data root (globs, directories, lists;
//! no escaping it) and object-store URLs (globs expanded by listing the bucket).

use std::path::{Component, Path, PathBuf};

use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::Engine;
use crate::objects::{is_remote, store_root};

/// A source's files, in order: absolute local paths or URLs.
pub(super) async fn locate(engine: &Engine, path: &str) -> Result<Vec<String>, String> {
    if is_remote(path) {
        return list_remote(engine, path).await;
    }
    Ok(resolve(&engine.data_root, path)?
        .iter()
        .map(|f| f.display().to_string())
        .collect())
}

/// The objects a URL names: one object, every object under it (a "directory"), or a glob's
/// matches. Registers the bucket's store with the engine on first use.
async fn list_remote(engine: &Engine, url: &str) -> Result<Vec<String>, String> {
    let root = store_root(url).map_err(|e| e.to_string())?;
    if matches!(root.scheme(), "http" | "https") {
        refuse_internal_hosts(&root).await?;
    }
    let key_url = ObjectStoreUrl::parse(root.as_str()).map_err(|e| e.strip_backtrace())?;
    let store = match engine.runtime_env.object_store(&key_url) {
        Ok(store) => store,
        Err(_) => {
            let (store, _) = engine
                .stores
                .open(root.as_str())
                .map_err(|e| e.to_string())?;
            engine
                .runtime_env
                .register_object_store(&root, store.clone());
            store
        }
    };
    let key = url[root.as_str().trim_end_matches('/').len()..].trim_start_matches('/');
    let keys = match key.find(['*', '?', '[']) {
        Some(at) => {
            let prefix = &key[..key[..at].rfind('/').map_or(0, |slash| slash + 1)];
            let pattern =
                glob::Pattern::new(key).map_err(|e| format!("{url:?} is not a valid glob: {e}"))?;
            let options = glob::MatchOptions {
                require_literal_separator: true,
                ..Default::default()
            };
            list(&store, prefix)
                .await
                .map_err(|e| format!("cannot list {url}: {e}"))?
                .into_iter()
                .filter(|k| pattern.matches_with(k, options))
                .collect()
        }
        None => match store.head(&ObjectPath::from(key)).await {
            Ok(_) => vec![key.to_string()],
            Err(object_store::Error::NotFound { .. }) => {
                let dir = format!("{}/", key.trim_end_matches('/'));
                list(&store, &dir)
                    .await
                    .map_err(|e| format!("cannot list {url}: {e}"))?
                    .into_iter()
                    .filter(|k| !hidden(&k[dir.len()..]))
                    .collect()
            }
            Err(e) => return Err(format!("cannot read {url}: {e}")),
        },
    };
    if keys.is_empty() {
        return Err(format!("no objects match {url:?}"));
    }
    let base = root.as_str().trim_end_matches('/');
    Ok(keys.into_iter().map(|k| format!("{base}/{k}")).collect())
}

/// An `http(s)://` source must not make the server fetch from its own network (loopback,
/// private, link-local such as the cloud metadata address, CGNAT, unique-local, multicast).
async fn refuse_internal_hosts(root: &url::Url) -> Result<(), String> {
    let host = root.host_str().unwrap_or_default();
    let port = root.port_or_known_default().unwrap_or(443);
    crate::netguard::Guard::default()
        .resolve(host, port)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e}; http(s) sources must be public"))
}

/// Object keys under a prefix, sorted.
async fn list(
    store: &std::sync::Arc<dyn ObjectStore>,
    prefix: &str,
) -> object_store::Result<Vec<String>> {
    let prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
    let mut keys: Vec<String> = store
        .list(prefix.as_ref())
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await?;
    keys.sort();
    Ok(keys)
}

fn hidden(relative: &str) -> bool {
    relative
        .split('/')
        .any(|name| name.starts_with('.') || name.starts_with('_'))
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
    Ok(PathBuf::from(path))
}

fn is_hidden(found: &Path, base: &Path) -> bool {
    let relative = found.strip_prefix(base).unwrap_or(found);
    hidden(&relative.display().to_string())
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
    }
}
