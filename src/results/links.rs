//! Result links that work without an API key: `…?expires=<unix s>&signature=<hex HMAC>`,
//! served by the API, or URLs presigned by the object store where it can sign.
//!
//! The signature covers the path and every query parameter before it, so changing the job,
//! the file, the format or the expiry breaks it. It must come last.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has no valid expires/signature parameters")]
    Malformed,
    #[error("the link expired")]
    Expired,
    #[error("the link's signature does not match")]
    BadSignature,
}

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl LinkSigner {
    pub fn new(secret: &str, ttl: Duration) -> LinkSigner {
        LinkSigner {
            key: secret.as_bytes().to_vec(),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// When links made now stop working (whole seconds).
    pub fn expiry(&self) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(1));
        let at = Utc::now() + ttl;
        DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
    }

    /// `path_and_query` (e.g. `/v1/jobs/…/result?format=arrow`) with `expires` and `signature`
    /// appended.
    pub fn sign(&self, path_and_query: &str, expires: DateTime<Utc>) -> String {
        let separator = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let unsigned = format!("{path_and_query}{separator}expires={}", expires.timestamp());
        let signature = self.mac(&unsigned);
        format!("{unsigned}&signature={signature}")
    }

    /// Checks a request's path and raw query against its signature and expiry.
    pub fn verify(&self, path: &str, query: &str, now: DateTime<Utc>) -> Result<(), LinkError> {
        let (signed_query, signature) = query
            .rsplit_once("&signature=")
            .or_else(|| query.strip_prefix("signature=").map(|s| ("", s)))
            .ok_or(LinkError::Malformed)?;
        let expires: i64 = signed_query
            .split('&')
            .find_map(|pair| pair.strip_prefix("expires="))
            .and_then(|t| t.parse().ok())
            .ok_or(LinkError::Malformed)?;
        let expected = hex::decode(signature).map_err(|_| LinkError::BadSignature)?;
        let mut mac = self.hmac();
        mac.update(format!("{path}?{signed_query}").as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| LinkError::BadSignature)?;
        if now.timestamp() > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    fn mac(&self, message: &str) -> String {
        let mut mac = self.hmac();
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(link: &str) -> (&str, &str) {
        link.split_once('?').unwrap()
    }

    #[test]
    fn signed_links_verify_until_they_expire() {
        let signer = LinkSigner::new("secret", Duration::from_secs(60));
        let expires = signer.expiry();
        let link = signer.sign("/v1/jobs/abc/result?format=arrow", expires);
        let (path, query) = split(&link);
        assert_eq!(signer.verify(path, query, Utc::now()), Ok(()));
        let later = expires + chrono::Duration::seconds(1);
        assert_eq!(signer.verify(path, query, later), Err(LinkError::Expired));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let signer = LinkSigner::new("secret", Duration::from_secs(60));
        let link = signer.sign("/v1/jobs/abc/files/0", signer.expiry());
        let (path, query) = split(&link);
        let now = Utc::now();
        assert_eq!(
            signer.verify("/v1/jobs/abd/files/0", query, now),
            Err(LinkError::BadSignature)
        );
        let longer = query.replace("expires=", "expires=9");
        assert_eq!(
            signer.verify(path, &longer, now),
            Err(LinkError::BadSignature)
        );
        let other = LinkSigner::new("other", Duration::from_secs(60));
        assert_eq!(other.verify(path, query, now), Err(LinkError::BadSignature));
        assert_eq!(
            signer.verify(path, "format=arrow", now),
            Err(LinkError::Malformed)
        );
    }
}
