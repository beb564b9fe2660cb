//! Address syntax of the config format (`IP` or `IP,PORT`) and the address classes the matching
//! rules and the inference reason about.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::Endpoint;

/// Why an address token was rejected. The text names the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    NotAnIp(String),
    BadPort {
        port: String,
        token: String,
    },
    /// `1.2.3.4:80`: the format separates the port with a comma.
    ColonPort(String),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::NotAnIp(token) => {
                write!(f, "bad address '{token}': expected an IPv4 or IPv6 address")
            }
            AddressError::BadPort { port, token } => {
                write!(
                    f,
                    "bad port '{port}' in '{token}': expected a number from 0 to 65535"
                )
            }
            AddressError::ColonPort(token) => write!(
                f,
                "bad address '{token}': separate the port with a comma (IP,PORT)"
            ),
        }
    }
}

/// Parses `IP`, `IP,PORT`, `[IPv6]` or `[IPv6],PORT`. Port 0 means "any port" (`None`), as in
/// the original format. IPv4-mapped IPv6 addresses are stored as IPv4.
pub fn parse_endpoint(token: &str) -> Result<Endpoint, AddressError> {
    let (ip_text, port_text) = split_port(token)?;
    let ip = parse_ip(ip_text).ok_or_else(|| {
        if looks_like_colon_port(ip_text) {
            AddressError::ColonPort(token.to_string())
        } else {
            AddressError::NotAnIp(token.to_string())
        }
    })?;
    let port = match port_text {
        None => None,
        Some(text) => {
            let port: u16 = text.parse().map_err(|_| AddressError::BadPort {
                port: text.to_string(),
                token: token.to_string(),
            })?;
            (port != 0).then_some(port)
        }
    };
    Ok(Endpoint { ip, port })
}

/// Splits `IP,PORT` / `[IP],PORT` into its address and optional port text.
fn split_port(token: &str) -> Result<(&str, Option<&str>), AddressError> {
    if let Some(rest) = token.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return Err(AddressError::NotAnIp(token.to_string()));
        };
        return match after {
            "" => Ok((ip, None)),
            _ => match after.strip_prefix(',') {
                Some(port) => Ok((ip, Some(port))),
                None if after.starts_with(':') => Err(AddressError::ColonPort(token.to_string())),
                None => Err(AddressError::NotAnIp(token.to_string())),
            },
        };
    }
    Ok(match token.split_once(',') {
        Some((ip, port)) => (ip, Some(port)),
        None => (token, None),
    })
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// `10.0.0.1:80` (one colon, IPv4 before it).
fn looks_like_colon_port(text: &str) -> bool {
    text.split_once(':')
        .is_some_and(|(ip, port)| ip.parse::<Ipv4Addr>().is_ok() && port.parse::<u16>().is_ok())
}

/// Writes an endpoint in config syntax (`IP` or `IP,PORT`).
pub fn format_endpoint(endpoint: &Endpoint) -> String {
    match endpoint.port {
        Some(port) => format!("{},{port}", endpoint.ip),
        None => endpoint.ip.to_string(),
    }
}

/// An address that can only be reached from behind a NAT: RFC 1918, carrier-grade NAT
/// (100.64.0.0/10, RFC 6598) and IPv6 unique-local (fc00::/7).
pub fn is_private(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => v6.is_unique_local(),
    }
}

/// The IPv4 limited broadcast address.
pub fn is_limited_broadcast(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::BROADCAST)
}

/// Loopback, unspecified, multicast or broadcast: never one host's own interface address.
pub fn is_special(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || is_limited_broadcast(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: &str, port: Option<u16>) -> Endpoint {
        Endpoint {
            ip: ip.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn endpoints_parse_in_every_accepted_spelling() {
        let cases = [
            ("10.0.0.1", ep("10.0.0.1", None)),
            ("10.0.0.1,80", ep("10.0.0.1", Some(80))),
            ("10.0.0.1,0", ep("10.0.0.1", None)),
            ("fd00::1", ep("fd00::1", None)),
            ("fd00::1,53", ep("fd00::1", Some(53))),
            ("[fd00::1],53", ep("fd00::1", Some(53))),
            ("[fd00::1]", ep("fd00::1", None)),
            ("::ffff:10.1.2.3,8080", ep("10.1.2.3", Some(8080))),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_endpoint(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn bad_endpoints_say_what_is_wrong() {
        let cases = [
            (
                "10.0.0.256",
                "bad address '10.0.0.256': expected an IPv4 or IPv6 address",
            ),
            (
                "10.0.0.1,http",
                "bad port 'http' in '10.0.0.1,http': expected a number from 0 to 65535",
            ),
            (
                "10.0.0.1,70000",
                "bad port '70000' in '10.0.0.1,70000': expected a number from 0 to 65535",
            ),
            (
                "10.0.0.1:80",
                "bad address '10.0.0.1:80': separate the port with a comma (IP,PORT)",
            ),
            (
                "[::1]:53",
                "bad address '[::1]:53': separate the port with a comma (IP,PORT)",
            ),
            (
                "[::1",
                "bad address '[::1': expected an IPv4 or IPv6 address",
            ),
            ("", "bad address '': expected an IPv4 or IPv6 address"),
        ];
        for (text, message) in cases {
            let error = parse_endpoint(text).expect_err(text);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn private_ranges_cover_rfc1918_cgnat_and_ula() {
        let cases = [
            ("10.1.2.3", true),
            ("172.16.0.1", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("100.128.0.1", false),
            ("8.8.8.8", false),
            ("fd12::1", true),
            ("2001:db8::1", false),
            ("::ffff:192.168.0.1", true),
        ];
        for (ip, private) in cases {
            assert_eq!(is_private(ip.parse().unwrap()), private, "{ip}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["10.0.0.1", "10.0.0.1,80", "fd00::1,53", "fd00::1"] {
            let endpoint = parse_endpoint(text).unwrap();
            assert_eq!(format_endpoint(&endpoint), text);
        }
    }
}
