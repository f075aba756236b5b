//! Which web pages may drive the API. A browser sends any page's request to Rusk, and a page
//! can reach a local Rusk through DNS rebinding, so on `/v1` routes: a request from another
//! origin (its `Origin` header) is refused unless that origin is in the CORS allow-list, and a
//! request with a body must say it is JSON (browsers send `text/plain` across origins without
//! asking first). The `Host` names a keyless Rusk accepts are checked in `auth`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{ApiError, AppState};

/// Origins (`https://app.example.com`) whose pages may call the API; from `RUSK_CORS_ORIGINS`.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    pub cors_origins: Vec<String>,
    /// Host names (without port) a keyless Rusk answers to besides loopback ones; from
    /// `RUSK_ALLOWED_HOSTS` and `RUSK_PUBLIC_URL`.
    pub hosts: Vec<String>,
}

impl OriginPolicy {
    fn allows_origin(&self, origin: &str, headers: &HeaderMap) -> bool {
        if self.cors_origins.iter().any(|o| o == origin) {
            return true;
        }
        // The same origin: Swagger UI at /docs posting to its own server. (Whether the host
        // itself is acceptable is decided with the access mode, in `auth`.)
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        host.is_some_and(|host| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        })
    }

    /// Whether a keyless Rusk answers requests addressed to `host` (a `Host` header).
    pub fn allows_host(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let loopback = name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback());
        loopback || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(&name))
    }
}

/// A `Host` header's name, without its port.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(v6, _)| &host[..=v6.len()]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

pub async fn check_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !request.uri().path().starts_with("/v1/") {
        return Ok(next.run(request).await);
    }
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !state.origins.allows_origin(origin, headers) {
            return Err(ApiError::Forbidden(format!(
                "requests from the web page origin {origin:?} are refused; an operator can \
                 allow it with RUSK_CORS_ORIGINS"
            )));
        }
    }
    if request.method() == Method::POST && has_body(headers) && !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "a request body must be JSON: send Content-Type: application/json".into(),
        ));
    }
    Ok(next.run(request).await)
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(length) => length > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(kind, suffix)| kind.contains('/') && suffix.eq_ignore_ascii_case("json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_only_unless_configured() {
        let policy = OriginPolicy {
            cors_origins: Vec::new(),
            hosts: vec!["rusk.internal".into()],
        };
        for host in [
            "localhost:8080",
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:8080",
            "app.localhost",
            "rusk.internal:80",
        ] {
            assert!(policy.allows_host(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "10.0.0.1:8080",
            "[2001:db8::1]",
        ] {
            assert!(!policy.allows_host(host), "{host}");
        }
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), json, "{value}");
        }
    }
}
