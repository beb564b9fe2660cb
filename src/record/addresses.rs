//! The addresses of the network namespace netcheck runs in, as the config's `ip` lines need them.
//!
//! `ip -o addr` is asked first; without it, `/proc/net/fib_trie` (IPv4) and `/proc/net/if_inet6`
//! (IPv6) give the same answer. Both describe the caller's network namespace, so under
//! `ip netns exec` they list that namespace's interfaces. Loopback, host-scoped and link-local
//! addresses are left out: peers never reach a host through them, and link-local addresses change
//! with every interface, which would make the printed stanza unstable.

use std::net::{IpAddr, Ipv6Addr};
use std::process::Command;

/// The non-loopback, non-link-local addresses of this namespace, in interface order, without
/// duplicates.
pub fn host_addresses() -> Vec<IpAddr> {
    let from_ip_command = Command::new("ip")
        .args(["-o", "addr", "show"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| parse_ip_addr_output(&String::from_utf8_lossy(&out.stdout)));
    if let Some(addresses) = from_ip_command {
        return addresses;
    }
    let mut addresses = std::fs::read_to_string("/proc/net/fib_trie")
        .map(|text| parse_fib_trie(&text))
        .unwrap_or_default();
    let ipv6 = std::fs::read_to_string("/proc/net/if_inet6")
        .map(|text| parse_if_inet6(&text))
        .unwrap_or_default();
    push_unique(&mut addresses, ipv6);
    addresses
}

/// The addresses of the network namespace process `pid` runs in, read from its own view of
/// `/proc/net` (`/proc/PID/net/...`), which is its namespace's whatever namespace netcheck runs in.
pub fn process_addresses(pid: u32) -> Vec<IpAddr> {
    let read = |name: &str| std::fs::read_to_string(format!("/proc/{pid}/net/{name}"));
    let mut addresses = read("fib_trie")
        .map(|text| parse_fib_trie(&text))
        .unwrap_or_default();
    let ipv6 = read("if_inet6")
        .map(|text| parse_if_inet6(&text))
        .unwrap_or_default();
    push_unique(&mut addresses, ipv6);
    addresses
}

/// Addresses from `ip -o addr show` output (one address per line).
pub fn parse_ip_addr_output(text: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(family_at) = tokens.iter().position(|t| *t == "inet" || *t == "inet6") else {
            continue;
        };
        let Some(address) = tokens
            .get(family_at + 1)
            .and_then(|cidr| cidr.split('/').next())
            .and_then(|a| a.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let scope = tokens
            .iter()
            .position(|t| *t == "scope")
            .and_then(|at| tokens.get(at + 1))
            .copied();
        if matches!(scope, Some("host") | Some("link")) {
            continue;
        }
        push_unique(&mut found, [address]);
    }
    found.retain(is_reachable_by_peers);
    found
}

/// Local IPv4 addresses from `/proc/net/fib_trie`: an address line (`|-- A.B.C.D`) followed by a
/// `/32 host LOCAL` leaf.
pub fn parse_fib_trie(text: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut last_address: Option<IpAddr> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("|--") {
            last_address = rest.trim().parse().ok();
        } else if line.starts_with("/32 host LOCAL") {
            if let Some(address) = last_address {
                push_unique(&mut found, [address]);
            }
        }
    }
    found.retain(is_reachable_by_peers);
    found
}

/// IPv6 addresses from `/proc/net/if_inet6`: 32 hex digits, interface index, prefix length, scope,
/// flags, interface name. Scopes 0x10 (host) and 0x20 (link) are left out.
pub fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    const HOST_SCOPE: u8 = 0x10;
    const LINK_SCOPE: u8 = 0x20;
    let mut found = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(hex), Some(_index), Some(_prefix), Some(scope)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(scope) = u8::from_str_radix(scope, 16) else {
            continue;
        };
        if scope == HOST_SCOPE || scope == LINK_SCOPE {
            continue;
        }
        let Some(address) = parse_hex_ipv6(hex) else {
            continue;
        };
        push_unique(&mut found, [IpAddr::V6(address)]);
    }
    found.retain(is_reachable_by_peers);
    found
}

fn parse_hex_ipv6(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
}

fn is_reachable_by_peers(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(v6) => {
            // fe80::/10, which `Ipv6Addr::is_unicast_link_local` covers only on newer toolchains.
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !v6.is_loopback() && !v6.is_unspecified() && !link_local
        }
    }
}

fn push_unique(into: &mut Vec<IpAddr>, addresses: impl IntoIterator<Item = IpAddr>) {
    for address in addresses {
        if !into.contains(&address) {
            into.push(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().expect("literal")).collect()
    }

    const IP_ADDR: &str = "\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
2: eth0    inet 10.77.1.10/24 brd 10.77.1.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.77.1.11/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet6 fd77::10/64 scope global \\       valid_lft forever preferred_lft forever
2: eth0    inet6 fe80::5c1a:2bff:fe3c:4d5e/64 scope link \\       valid_lft forever preferred_lft forever
";

    #[test]
    fn ip_command_output_keeps_global_addresses_in_order() {
        assert_eq!(
            parse_ip_addr_output(IP_ADDR),
            ips(&["10.77.1.10", "10.77.1.11", "fd77::10"])
        );
    }

    #[test]
    fn ip_command_output_ignores_garbage_lines() {
        assert_eq!(
            parse_ip_addr_output("nonsense\n3: x inet not-an-ip/24 scope global\n"),
            ips(&[])
        );
    }

    #[test]
    fn fib_trie_yields_local_host_routes_once() {
        let text = "\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.77.1.0
        /24 link UNICAST
     |-- 10.77.1.10
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.77.1.10
        /32 host LOCAL
     |-- 10.77.1.255
        /32 link BROADCAST
";
        assert_eq!(parse_fib_trie(text), ips(&["10.77.1.10"]));
    }

    #[test]
    fn if_inet6_skips_host_and_link_scopes() {
        let text = "\
00000000000000000000000000000001 01 80 10 80       lo
fd770000000000000000000000000010 02 40 00 80     eth0
fe800000000000005c1a2bfffe3c4d5e 02 40 20 80     eth0
short 02 40 00 80 eth0
";
        assert_eq!(parse_if_inet6(text), ips(&["fd77::10"]));
    }
}
