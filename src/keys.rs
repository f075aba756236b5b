//! Secrets Rusk makes: API keys (`rusk_<id>_<secret>`, kept only as a SHA-256 hash), tenants'
//! webhook secrets (`whsec_<base64>`, as Standard Webhooks expects) and the key that signs
//! result links.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's random source.
fn random(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    // The OS source failing is not something a server can work around.
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A new API key: its id (shown in lists, used to revoke) and the whole key (shown once).
pub fn new_api_key() -> (String, String) {
    let id = hex::encode(random(6));
    let key = format!("rusk_{id}_{}", URL_SAFE_NO_PAD.encode(random(32)));
    (id, key)
}

/// What is stored of a key: hex SHA-256.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn new_webhook_secret() -> String {
    format!("whsec_{}", STANDARD.encode(random(24)))
}

pub fn new_link_secret() -> String {
    hex::encode(random(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_and_hash_stably() {
        let (id, key) = new_api_key();
        let (other_id, other) = new_api_key();
        assert_ne!(key, other);
        assert_ne!(id, other_id);
        assert!(key.starts_with(&format!("rusk_{id}_")), "{key}");
        assert_eq!(hash_api_key(&key), hash_api_key(&key));
        assert_ne!(hash_api_key(&key), hash_api_key(&other));
        let secret = new_webhook_secret();
        let raw = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 24);
    }
}
