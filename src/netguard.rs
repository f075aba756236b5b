//! The SSRF guard: which addresses the server may be made to connect to on a caller's behalf
//! (http(s) sources, webhook receivers). Internal and special-purpose ranges are refused unless
//! an operator allows them by CIDR.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// An address range such as `127.0.0.1/32` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("{text:?} is not a CIDR range such as 127.0.0.1/32 or fd00::/8");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A list of CIDR ranges, comma-separated, e.g. `RUSK_WEBHOOK_ALLOW=127.0.0.1/32,10.0.0.0/8`.
pub fn parse_allow_list(text: &str) -> Result<Vec<Cidr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(Cidr::from_str)
        .collect()
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Loopback, private, link-local (the cloud metadata address), CGNAT, unique-local,
/// documentation, benchmarking, reserved, multicast, broadcast and unspecified addresses;
/// IPv4-mapped IPv6 addresses of any kind (a public server has no reason to be named so);
/// and IPv6 outside global unicast.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => true,
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

/// Only global unicast (`2000::/3`) is public; inside it, the IETF's special-purpose
/// blocks are not.
fn internal_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    let first = segments[0];
    (first & 0xe000) != 0x2000 // outside 2000::/3: loopback, ULA, link-local, 100::/64, 5f00::/16, …
        || (first == 0x2001 && segments[1] < 0x0200) // 2001::/23: Teredo, benchmarking, ORCHID
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || first == 0x2002 // 6to4: an IPv4 address inside
        || (first & 0xfff0) == 0x3ff0 // 3fff::/20: documentation
}

/// Which addresses may be reached: the public internet, plus what the operator allowed.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<Cidr>,
}

impl Guard {
    pub fn new(allow: Vec<Cidr>) -> Guard {
        Guard { allow }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allow.iter().any(|range| range.contains(ip))
    }

    /// Resolves `host` and returns its addresses if every one of them is permitted; an error
    /// naming the first refused address otherwise.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_matches(['[', ']']);
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if addresses.is_empty() {
            return Err(format!("{host} has no addresses"));
        }
        if let Some(refused) = addresses.iter().find(|a| !self.permits(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, an internal or reserved address",
                refused.ip()
            ));
        }
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_internal_and_special_addresses() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::127.0.0.1",
            "::ffff:8.8.8.8",
            "::ffff:0:127.0.0.1",
            "2001::1",
            "2001:2::1",
            "100::1",
            "5f00::1",
            "3fff::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_internal(ip), "{ip} should be internal");
            assert!(!Guard::default().permits(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:4860:4860::8888",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_internal(ip), "{ip} should be public");
            assert!(Guard::default().permits(ip), "{ip}");
        }
    }

    #[test]
    fn allow_list_opens_only_its_ranges() {
        let guard = Guard::new(parse_allow_list("127.0.0.1/32, 10.0.0.0/8").unwrap());
        assert!(guard.permits("127.0.0.1".parse().unwrap()));
        assert!(guard.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(guard.permits("10.200.1.1".parse().unwrap()));
        assert!(!guard.permits("127.0.0.2".parse().unwrap()));
        assert!(!guard.permits("169.254.169.254".parse().unwrap()));
        assert!(!guard.permits("::1".parse().unwrap()));
        let v6 = Guard::new(parse_allow_list("fd00::/8").unwrap());
        assert!(v6.permits("fd12::1".parse().unwrap()));
        assert!(!v6.permits("fe80::1".parse().unwrap()));
    }

    #[test]
    fn bad_ranges_are_named() {
        for bad in ["10.0.0.0/33", "nonsense", "::/129", "1.2.3.4/x"] {
            let error = parse_allow_list(bad).unwrap_err();
            assert!(error.contains(bad.split('/').next().unwrap()), "{error}");
        }
    }

    #[tokio::test]
    async fn resolution_is_checked() {
        let error = Guard::default().resolve("localhost", 80).await.unwrap_err();
        assert!(error.contains("internal"), "{error}");
        let allowed = Guard::new(parse_allow_list("127.0.0.0/8,::1/128").unwrap());
        assert!(!allowed.resolve("localhost", 80).await.unwrap().is_empty());
    }
}
