//! Object stores (S3, GCS, Azure, HTTP) from URLs, configured by the server's environment:
//! the standard `AWS_*`, `GOOGLE_*` and `AZURE_*` variables (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`
//! for S3-compatible stores). Never from a request.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::signer::Signer;
use url::Url;

#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// Builder options as `(key, value)`, keys lower-case (`aws_endpoint`, …).
    options: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{0:?} is not a valid URL: {1}")]
    Url(String, url::ParseError),
    #[error("cannot open {0}: {1}")]
    Open(String, object_store::Error),
}

impl StoreConfig {
    /// The `AWS_*`, `GOOGLE_*` and `AZURE_*` variables of this process.
    pub fn from_env() -> StoreConfig {
        StoreConfig::from_pairs(std::env::vars())
    }

    /// Options as environment-style pairs, e.g. `("AWS_ENDPOINT", "http://127.0.0.1:9000")`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> StoreConfig {
        let options = pairs
            .into_iter()
            .filter(|(key, _)| {
                ["AWS_", "GOOGLE_", "AZURE_"]
                    .iter()
                    .any(|p| key.starts_with(p))
            })
            .map(|(key, value)| (key.to_ascii_lowercase(), value))
            .collect();
        StoreConfig { options }
    }

    /// The store behind a URL (one per bucket or host) and the path within it.
    pub fn open(&self, url: &str) -> Result<(Arc<dyn ObjectStore>, Path), ObjectsError> {
        let parsed = Url::parse(url).map_err(|e| ObjectsError::Url(url.to_string(), e))?;
        let (store, path) = object_store::parse_url_opts(&parsed, self.options.iter().cloned())
            .map_err(|e| ObjectsError::Open(url.to_string(), e))?;
        Ok((Arc::from(store), path))
    }
}

impl StoreConfig {
    /// Something that presigns URLs for the store behind `url`, where the store can (S3, GCS,
    /// Azure); `None` for others (local files, HTTP).
    pub fn signer(&self, url: &str) -> Result<Option<Arc<dyn Signer>>, ObjectsError> {
        let open = |e| ObjectsError::Open(url.to_string(), e);
        let options = self.options.iter();
        let signer: Arc<dyn Signer> = match url.split_once("://").map(|(s, _)| s) {
            Some("s3" | "s3a") => Arc::new(
                options
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                    .fold(AmazonS3Builder::new().with_url(url), |b, (k, v)| {
                        b.with_config(k, v)
                    })
                    .build()
                    .map_err(open)?,
            ),
            Some("gs") => Arc::new(
                options
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                    .fold(
                        GoogleCloudStorageBuilder::new().with_url(url),
                        |b, (k, v)| b.with_config(k, v),
                    )
                    .build()
                    .map_err(open)?,
            ),
            Some("az" | "abfs" | "abfss") => Arc::new(
                options
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                    .fold(MicrosoftAzureBuilder::new().with_url(url), |b, (k, v)| {
                        b.with_config(k, v)
                    })
                    .build()
                    .map_err(open)?,
            ),
            _ => return Ok(None),
        };
        Ok(Some(signer))
    }
}

/// `scheme://host` of a URL: the key under which its store is registered.
pub fn store_root(url: &str) -> Result<Url, ObjectsError> {
    let parsed = Url::parse(url).map_err(|e| ObjectsError::Url(url.to_string(), e))?;
    let root = format!(
        "{}://{}",
        parsed.scheme(),
        &parsed[url::Position::BeforeHost..url::Position::AfterPort]
    );
    Url::parse(&root).map_err(|e| ObjectsError::Url(root.clone(), e))
}
