//! Where a source's files are. A source path is parsed once into a [`Location`] (schemes are
//! case-insensitive, RFC 3986), then resolved within the caller's [`Scope`]: local paths under
//! the tenant's data root (globs, directories, lists; no escaping it), object-store URLs by
//! listing the bucket (and only under the allowed prefixes, where some are set). Rusk's own
//! storage (the data directory, the result store) is never a source, whatever the settings.

use std::path::{Component, Path, PathBuf};

use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::Engine;
use crate::objects::store_root;

/// URL schemes a source may use besides `file://`.
const REMOTE_SCHEMES: [&str; 8] = ["s3", "s3a", "gs", "az", "abfs", "abfss", "http", "https"];

/// A source path, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Relative to the data root, or absolute (which must still lie under it).
    Local(PathBuf),
    /// An object-store URL: `url` with its scheme in lower case, and the object key (or
    /// glob) after the bucket or host, as written.
    Remote { url: String, key: String },
    /// `job://{id}`: the result of an earlier job of the same tenant.
    Job(uuid::Uuid),
}

impl Location {
    pub fn parse(path: &str) -> Result<Location, String> {
        let Some((scheme, rest)) = split_scheme(path) else {
            return Ok(Location::Local(PathBuf::from(path)));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return Ok(Location::Local(PathBuf::from(rest)));
        }
        if scheme == "job" {
            let id = uuid::Uuid::parse_str(rest.trim_end_matches('/'))
                .map_err(|_| format!("{path:?}: expected job://{{job id}}"))?;
            return Ok(Location::Job(id));
        }
        if !REMOTE_SCHEMES.contains(&scheme.as_str()) {
            return Err(format!(
                "unsupported URL scheme {scheme:?}; expected a path under the data root, \
                 file://, job://, or one of {REMOTE_SCHEMES:?}"
            ));
        }
        let key = rest.split_once('/').map_or("", |(_, key)| key);
        Ok(Location::Remote {
            url: format!("{scheme}://{rest}"),
            key: key.trim_start_matches('/').to_string(),
        })
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote { .. })
    }
}

/// `(scheme, rest)` of `scheme://rest`, where the scheme is RFC 3986's
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn split_scheme(path: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = path.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// What one caller (a tenant) may read.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Whose earlier results `job://` sources read.
    pub tenant: String,
    /// Local sources resolve under this directory (canonical) and may not leave it.
    pub root: PathBuf,
    /// URL prefixes remote sources must start with; `None`: any public URL.
    pub allow: Option<Vec<String>>,
}

/// Rusk's own storage, which no source may name.
#[derive(Debug, Clone, Default)]
pub struct Private {
    /// Canonical directories: the data directory (job table, result files, spill files).
    pub dirs: Vec<PathBuf>,
    /// Normalised URL prefixes: the result store, when it is an object store.
    pub urls: Vec<String>,
}

impl Private {
    fn holds_file(&self, real: &Path) -> bool {
        self.dirs.iter().any(|dir| real.starts_with(dir))
    }

    fn holds_url(&self, url: &str) -> bool {
        self.urls.iter().any(|prefix| url_under(url, prefix))
    }
}

/// Whether `url` is `prefix` or lies below it (`s3://b/rusk` holds `s3://b/rusk/x`, not
/// `s3://b/rusky`).
fn url_under(url: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    url.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A URL prefix as sources are compared with it: scheme and host in lower case.
pub fn normalise_url(text: &str) -> Result<String, String> {
    match Location::parse(text)? {
        Location::Remote { url, key } => {
            let root = store_root(&url).map_err(|e| e.to_string())?;
            // Bucket, container and host names are case-insensitive (or lower case only).
            let root = root.as_str().trim_end_matches('/').to_ascii_lowercase();
            Ok(format!("{root}/{key}"))
        }
        Location::Local(_) | Location::Job(_) => {
            Err(format!("{text:?} is not an object-store URL"))
        }
    }
}

/// A source's files, in order: absolute local paths or URLs.
pub(super) async fn locate(
    engine: &Engine,
    scope: &Scope,
    path: &str,
    format: crate::spec::Format,
) -> Result<Vec<String>, String> {
    match Location::parse(path)? {
        Location::Local(local) => Ok(resolve(&scope.root, &engine.private, &local, path)?
            .iter()
            .map(|f| f.display().to_string())
            .collect()),
        Location::Remote { url, key } => {
            let url = normalise_url(&url)?;
            if engine.private.holds_url(&url) {
                return Err(format!("{path:?} lies in Rusk's own result store"));
            }
            if let Some(allow) = &scope.allow
                && !allow.iter().any(|prefix| url_under(&url, prefix))
            {
                return Err(format!(
                    "{path:?} is outside the URLs this caller may read ({allow:?})"
                ));
            }
            list_remote(engine, &url, &key).await
        }
        Location::Job(id) => earlier_result(engine, scope, id, format).await,
    }
}

/// The files of the tenant's earlier result: in Rusk's own storage (which sources may not
/// otherwise name) or the job's `output.path`, as the job store records them.
async fn earlier_result(
    engine: &Engine,
    scope: &Scope,
    id: uuid::Uuid,
    format: crate::spec::Format,
) -> Result<Vec<String>, String> {
    let Some(earlier) = engine.earlier.get() else {
        return Err("job:// sources are not available in this process".into());
    };
    let files = earlier.files(&scope.tenant, id, format).await?;
    for file in &files {
        if let Location::Remote { url, .. } = Location::parse(file)? {
            store_for(engine, &store_root(&url).map_err(|e| e.to_string())?)?;
        }
    }
    Ok(files)
}

/// The object store of a bucket or host, registered with the engine on first use.
fn store_for(engine: &Engine, root: &url::Url) -> Result<std::sync::Arc<dyn ObjectStore>, String> {
    let key_url = ObjectStoreUrl::parse(root.as_str()).map_err(|e| e.strip_backtrace())?;
    if let Ok(store) = engine.runtime_env.object_store(&key_url) {
        return Ok(store);
    }
    let (store, _) = engine
        .stores
        .open(root.as_str())
        .map_err(|e| e.to_string())?;
    engine
        .runtime_env
        .register_object_store(root, store.clone());
    Ok(store)
}

/// Where an `output.path` writes, as an absolute URL: a directory under the data root
/// (`file:///…`), or an object-store URL under `allow` (`None`: any). Never Rusk's own
/// storage, nor a directory that holds it (`overwrite` would delete it), nor the root itself.
pub(super) fn destination(
    scope: &Scope,
    private: &Private,
    allow: Option<&[String]>,
    path: &str,
) -> Result<String, String> {
    if path.contains(['*', '?', '[']) {
        return Err(format!("{path:?} is a glob; expected one directory"));
    }
    match Location::parse(path)? {
        Location::Job(_) => Err(format!("{path:?}: a job's result cannot be written to")),
        Location::Local(local) => local_destination(scope, private, &local, path),
        Location::Remote { url, key } => {
            let url = normalise_url(&url)?;
            if key.trim_matches('/').is_empty() {
                return Err(format!("{path:?} names a bucket; expected a prefix in it"));
            }
            let holds = |prefix: &String| url_under(&url, prefix) || url_under(prefix, &url);
            if private.urls.iter().any(holds) {
                return Err(format!("{path:?} overlaps Rusk's own result store"));
            }
            match allow {
                Some(allow) if !allow.iter().any(|prefix| url_under(&url, prefix)) => Err(format!(
                    "{path:?} is outside the URLs this caller may write to ({allow:?}: \
                         RUSK_OUTPUT_ALLOW)"
                )),
                _ => Ok(url),
            }
        }
    }
}

fn local_destination(
    scope: &Scope,
    private: &Private,
    local: &Path,
    asked: &str,
) -> Result<String, String> {
    if local
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(format!("{asked:?} may not contain `..`"));
    }
    let full = if local.is_absolute() {
        local.to_path_buf()
    } else {
        scope.root.join(local)
    };
    // The directory may not exist yet: its deepest existing ancestor, links resolved, is
    // what must lie under the root.
    let mut existing = full.as_path();
    while !existing.exists() {
        existing = existing
            .parent()
            .ok_or_else(|| format!("{asked:?} is not under the data root"))?;
    }
    let real = existing
        .canonicalize()
        .map_err(|e| format!("{asked:?}: {e}"))?
        .join(full.strip_prefix(existing).unwrap_or(Path::new("")));
    if !real.starts_with(&scope.root) || real == scope.root {
        return Err(format!(
            "{asked:?} is not a directory below the data root; destinations are confined \
             like sources"
        ));
    }
    if private.holds_file(&real) || private.dirs.iter().any(|dir| dir.starts_with(&real)) {
        return Err(format!("{asked:?} overlaps Rusk's own storage"));
    }
    if real.is_file() {
        return Err(format!("{asked:?} is a file; expected a directory"));
    }
    url::Url::from_directory_path(&real)
        .map(|url| url.to_string().trim_end_matches('/').to_string())
        .map_err(|()| format!("{asked:?} cannot be written as a URL"))
}

/// The objects a URL names: one object, every object under it (a "directory"), or a glob's
/// matches. Registers the bucket's store with the engine on first use.
async fn list_remote(engine: &Engine, url: &str, key: &str) -> Result<Vec<String>, String> {
    let root = store_root(url).map_err(|e| e.to_string())?;
    if matches!(root.scheme(), "http" | "https") {
        refuse_internal_hosts(&root).await?;
    }
    let store = store_for(engine, &root)?;
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
    let base = root.as_str().trim_end_matches('/');
    let found: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{base}/{k}"))
        .filter(|found| !engine.private.holds_url(found))
        .collect();
    if found.is_empty() {
        return Err(format!("no objects match {url:?}"));
    }
    Ok(found)
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
/// partitions follow file order. Every file must lie under `root`, symlinks resolved, and
/// outside Rusk's own storage (which globs and directories skip).
pub(crate) fn resolve(
    root: &Path,
    private: &Private,
    local: &Path,
    path: &str,
) -> Result<Vec<PathBuf>, String> {
    if local.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{path:?}: `..` is not allowed in source paths"));
    }
    let full = root.join(local);
    let has_glob = local.to_string_lossy().contains(['*', '?', '[']);
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
        let file = confine(root, private, &full, path)?;
        return Ok(vec![file]);
    };
    let entries = glob::glob(&pattern).map_err(|e| format!("{path:?} is not a valid glob: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let found = entry.map_err(|e| {
            format!(
                "cannot read {}: {}",
                shown_path(root, e.path()),
                e.error().kind()
            )
        })?;
        if !found.is_file() || is_hidden(&found, &base) {
            continue;
        }
        let real = found
            .canonicalize()
            .map_err(|_| format!("no such file: {path:?} under the data root"))?;
        if private.holds_file(&real) {
            continue;
        }
        files.push(check_confined(root, private, real, path)?);
    }
    if files.is_empty() {
        return Err(format!("no files match {path:?} under the data root"));
    }
    files.sort();
    Ok(files)
}

/// A local path as callers know it: relative to their data root, never the server's layout.
pub(crate) fn shown_path(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).map_or_else(
        |_| "a file outside the data root".into(),
        |p| p.display().to_string(),
    )
}

fn is_hidden(found: &Path, base: &Path) -> bool {
    let relative = found.strip_prefix(base).unwrap_or(found);
    hidden(&relative.display().to_string())
}

fn confine(root: &Path, private: &Private, file: &Path, asked: &str) -> Result<PathBuf, String> {
    let real = file
        .canonicalize()
        .map_err(|_| format!("no such file: {asked:?} under the data root"))?;
    check_confined(root, private, real, asked)
}

/// `real` is canonical: symlinks are resolved.
fn check_confined(
    root: &Path,
    private: &Private,
    real: PathBuf,
    asked: &str,
) -> Result<PathBuf, String> {
    if private.holds_file(&real) {
        return Err(format!("{asked:?} lies in Rusk's own storage"));
    }
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

    fn find(root: &Path, path: &str) -> Result<Vec<PathBuf>, String> {
        let Location::Local(local) = Location::parse(path)? else {
            panic!("{path} is remote");
        };
        resolve(root, &Private::default(), &local, path)
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
        let files = find(&root, "logs/a-*.csv").unwrap();
        assert_eq!(names(files, &root), ["logs/a-1.csv", "logs/a-2.csv"]);
        let files = find(&root, "logs/**/*.csv").unwrap();
        assert_eq!(
            names(files, &root),
            ["logs/a-1.csv", "logs/a-2.csv", "logs/sub/a-3.csv"]
        );
    }

    #[test]
    fn reads_a_directory_without_marker_files() {
        let (_dir, root) = tree();
        let files = find(&root, "logs").unwrap();
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
        assert!(find(&root, "../secret.csv").unwrap_err().contains("`..`"));
        let absolute = dir.path().join("secret.csv").display().to_string();
        assert!(
            find(&root, &absolute)
                .unwrap_err()
                .contains("outside the data root")
        );
        std::os::unix::fs::symlink(dir.path().join("secret.csv"), root.join("link.csv")).unwrap();
        assert!(
            find(&root, "link.csv")
                .unwrap_err()
                .contains("outside the data root")
        );
        assert!(
            find(&root, "*.csv")
                .unwrap_err()
                .contains("outside the data root")
        );
    }

    #[test]
    fn names_missing_files_and_unknown_schemes() {
        let (_dir, root) = tree();
        assert!(
            find(&root, "nope-*.csv")
                .unwrap_err()
                .contains("no files match")
        );
        assert!(
            find(&root, "nope.csv")
                .unwrap_err()
                .contains("no such file")
        );
    }

    #[test]
    fn schemes_are_case_insensitive() {
        for path in [
            "FILE:///etc/passwd",
            "File:///etc/passwd",
            "fIlE:///etc/passwd",
        ] {
            assert_eq!(
                Location::parse(path).unwrap(),
                Location::Local(PathBuf::from("/etc/passwd")),
                "{path}"
            );
        }
        let (_dir, root) = tree();
        assert!(
            find(&root, "FILE:///etc/passwd")
                .unwrap_err()
                .contains("outside the data root")
        );
        assert_eq!(
            Location::parse("S3://Bucket/Logs/*.csv").unwrap(),
            Location::Remote {
                url: "s3://Bucket/Logs/*.csv".into(),
                key: "Logs/*.csv".into()
            }
        );
        assert!(
            Location::parse("ftp://host/x")
                .unwrap_err()
                .contains("unsupported URL scheme")
        );
        assert!(
            Location::parse("LocalFile://x")
                .unwrap_err()
                .contains("unsupported")
        );
    }

    #[test]
    fn object_keys_come_after_the_host() {
        let key = |path: &str| match Location::parse(path).unwrap() {
            Location::Remote { key, .. } => key,
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(
            key("https://user:secret@data.example:8443/a/b.csv"),
            "a/b.csv"
        );
        assert_eq!(key("https://bücher.example/x.csv"), "x.csv");
        assert_eq!(key("s3://bucket"), "");
        assert_eq!(key("s3://bucket/dir/"), "dir/");
        assert_eq!(key("gs://bucket//double"), "double");
        // Prefixes compare by scheme and host in lower case, IDNA hosts in their ASCII form.
        assert_eq!(
            normalise_url("S3://Bucket/Logs").unwrap(),
            "s3://bucket/Logs"
        );
        assert_eq!(
            normalise_url("https://Bücher.Example/x").unwrap(),
            "https://xn--bcher-kva.example/x"
        );
        assert!(url_under("s3://b/rusk/x", "s3://b/rusk"));
        assert!(!url_under("s3://b/rusky", "s3://b/rusk"));
        // `job://` names a job by id, in any case of the scheme.
        let id = "0190c3a4-0000-7000-8000-000000000000";
        assert_eq!(
            Location::parse(&format!("JOB://{id}")).unwrap(),
            Location::Job(uuid::Uuid::parse_str(id).unwrap())
        );
        assert!(
            Location::parse("job://42")
                .unwrap_err()
                .contains("job://{job id}")
        );
    }

    #[test]
    fn never_reads_rusks_own_storage() {
        let (_dir, root) = tree();
        std::fs::create_dir_all(root.join("rusk-data/objects")).unwrap();
        std::fs::write(root.join("rusk-data/objects/part.csv"), "x\n1\n").unwrap();
        let private = Private {
            dirs: vec![root.join("rusk-data")],
            urls: vec!["s3://bucket/rusk".into()],
        };
        let local = |p: &str| PathBuf::from(p);
        let direct = resolve(&root, &private, &local("rusk-data/objects/part.csv"), "p");
        assert!(direct.unwrap_err().contains("Rusk's own storage"));
        let globbed = resolve(&root, &private, &local("**/*.csv"), "p").unwrap();
        assert!(
            globbed
                .iter()
                .all(|f| !f.starts_with(root.join("rusk-data")))
        );
        assert_eq!(globbed.len(), 3);
        assert!(resolve(&root, &private, &local("rusk-data"), "p").is_err());
        assert!(private.holds_url("s3://bucket/rusk/results/x"));
        assert!(private.holds_url("s3://bucket/rusk"));
        assert!(!private.holds_url("s3://bucket/rusky/x"));
        assert_eq!(
            normalise_url("S3://BUCKET/rusk/").unwrap(),
            "s3://bucket/rusk/"
        );
    }
}
