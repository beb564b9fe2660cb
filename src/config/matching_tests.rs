//! Table-driven tests of the matching rules (§2.3 and §2.4 of the original's behaviour, plus the
//! cases it got wrong).

use std::net::IpAddr;

use super::MatchNote::*;
use super::*;
use crate::config::{default_ignores, Endpoint, Host, TraceSpec};

fn ep(text: &str, port: Option<u16>) -> Endpoint {
    Endpoint {
        ip: text.parse().unwrap(),
        port,
    }
}

fn nat(private: Endpoint, public: Endpoint, inferred: bool) -> NatRule {
    NatRule {
        private,
        public,
        inferred,
    }
}

/// Traces: A server; B, C client (one host); D client/server behind a portless declared NAT;
/// E server behind a port forward; F behind an inferred NAT; G with a declared and an inferred
/// rule for one public address.
fn topology() -> Topology {
    let hosts = [
        ("server", vec!["10.0.0.2", "2001:db8::2"], vec![]),
        ("client", vec!["10.0.0.1"], vec![]),
        (
            "natted",
            vec!["192.168.0.8"],
            vec![nat(
                ep("192.168.0.8", None),
                ep("128.238.38.67", None),
                false,
            )],
        ),
        (
            "forwarded",
            vec!["192.168.1.50"],
            vec![nat(
                ep("192.168.1.50", Some(3005)),
                ep("96.250.21.150", Some(3001)),
                false,
            )],
        ),
        (
            "inferred",
            vec!["10.9.0.5"],
            vec![nat(ep("10.9.0.5", None), ep("203.0.113.9", None), true)],
        ),
        (
            "both",
            vec!["192.168.5.5"],
            vec![
                nat(ep("192.168.5.5", None), ep("198.18.0.1", None), true),
                nat(ep("192.168.5.5", None), ep("198.18.0.1", Some(80)), false),
            ],
        ),
    ];
    let trace_hosts = [0, 1, 1, 2, 3, 4, 5];
    let traces: Vec<TraceSpec> = trace_hosts
        .iter()
        .enumerate()
        .map(|(i, &host)| TraceSpec {
            id: TraceId(i as u32),
            name: format!("t{i}"),
            path: format!("t{i}").into(),
            host,
            clock: crate::source::TraceClock::TimeOfDay,
        })
        .collect();
    let hosts = hosts
        .into_iter()
        .enumerate()
        .map(|(h, (name, ips, nats))| Host {
            name: name.into(),
            ips: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
            nats,
            traces: traces
                .iter()
                .filter(|t| t.host == h)
                .map(|t| t.id)
                .collect(),
        })
        .collect();
    let mut ignores = default_ignores();
    ignores.push(ep("8.8.8.8", None));
    ignores.push(ep("10.0.0.1", Some(9999)));
    Topology {
        hosts,
        traces,
        ignores,
        origin: crate::config::TopologyOrigin::ConfigFile,
    }
}

const A: u32 = 0;
const B: u32 = 1;
const C: u32 = 2;
const D: u32 = 3;
const E: u32 = 4;
const F: u32 = 5;
const G: u32 = 6;

use Role::{Client, Server};

/// (local trace, bound address, peer trace, address the peer used, role, matched, notes)
type Case = (
    u32,
    &'static str,
    u32,
    &'static str,
    Role,
    bool,
    &'static [MatchNote],
);

#[test]
fn can_be_follows_every_rule() {
    #[rustfmt::skip]
    let cases: &[Case] = &[
        // Equal addresses, wildcards and the host's own addresses.
        (A, "10.0.0.2:80", B, "10.0.0.2:80", Server, true, &[]),
        (A, "0.0.0.0:80", B, "10.0.0.2:80", Server, true, &[]),
        (A, "[::]:80", B, "[2001:db8::2]:80", Server, true, &[]),
        (A, "0.0.0.0:80", B, "10.0.0.1:80", Server, false, &[]),
        (A, "0.0.0.0:81", B, "10.0.0.2:80", Server, false, &[]),
        (A, "10.0.0.2:80", B, "10.0.0.3:80", Server, false, &[]),
        (A, "10.0.0.99:80", B, "10.0.0.99:80", Server, true, &[AddressNotDeclared]),
        (A, "10.0.0.99:80", B, "10.0.0.2:80", Server, false, &[AddressNotDeclared]),
        // Unknown and unspecified peers (steps 1, 3, 7).
        (A, "10.0.0.2:80", B, "0.0.0.0:0", Server, true, &[PeerAddressUnknown]),
        (A, "0.0.0.0:80", B, "0.0.0.0:80", Server, false, &[UnspecifiedPeer]),
        (C, "0.0.0.0:80", B, "0.0.0.0:80", Server, true, &[SameHost, UnspecifiedPeer]),
        (C, "127.0.0.1:80", B, "0.0.0.0:80", Server, true, &[SameHost, UnspecifiedPeer]),
        (C, "10.0.0.1:80", B, "0.0.0.0:80", Server, false, &[SameHost, UnspecifiedPeer]),
        // Loopback stays on its host (step 7); a loopback listener is unreachable remotely.
        (A, "127.0.0.1:80", B, "127.0.0.1:80", Server, false, &[LoopbackFromOtherHost]),
        (A, "0.0.0.0:80", B, "127.0.0.1:80", Server, false, &[LoopbackFromOtherHost]),
        (C, "127.0.0.1:80", B, "127.0.0.1:80", Server, true, &[SameHost]),
        (C, "0.0.0.0:80", B, "127.0.0.1:80", Server, true, &[SameHost]),
        (C, "[::]:80", B, "[::1]:80", Server, true, &[SameHost]),
        (C, "10.0.0.1:80", B, "127.0.0.1:80", Server, false, &[SameHost]),
        (C, "127.0.0.1:81", B, "127.0.0.1:80", Server, false, &[SameHost]),
        (C, "127.0.0.2:80", B, "127.0.0.1:80", Server, false, &[SameHost]),
        (A, "127.0.0.1:80", B, "10.0.0.2:80", Server, false, &[]),
        (C, "127.0.0.1:80", B, "10.0.0.1:80", Server, false, &[SameHost]),
        // Ports (step 4): unknown ports are wildcards, noted for the server side only.
        (A, "10.0.0.2:0", B, "10.0.0.2:80", Server, true, &[PortUnverified]),
        (B, "10.0.0.1:0", A, "10.0.0.1:40000", Client, true, &[]),
        (B, "0.0.0.0:0", A, "10.0.0.1:40000", Client, true, &[]),
        // IPv4-mapped IPv6 and IP versions (steps 5, 6).
        (A, "[::ffff:10.0.0.2]:80", B, "10.0.0.2:80", Server, true, &[MappedIpv4]),
        (A, "10.0.0.2:80", B, "[::ffff:10.0.0.2]:80", Server, true, &[MappedIpv4]),
        (A, "[2001:db8::2]:80", B, "10.0.0.2:80", Server, false, &[IpVersionMismatch]),
        (A, "10.0.0.2:80", B, "[2001:db8::2]:80", Server, false, &[IpVersionMismatch]),
        (A, "[::]:80", B, "10.0.0.2:80", Server, true, &[IpVersionMismatch]),
        (A, "0.0.0.0:80", B, "[2001:db8::2]:80", Server, false, &[IpVersionMismatch]),
        // Multicast and broadcast.
        (A, "239.1.1.1:5000", B, "239.1.1.1:5000", Server, true, &[Multicast]),
        (A, "0.0.0.0:5000", B, "239.1.1.1:5000", Server, true, &[Multicast]),
        (A, "0.0.0.0:5001", B, "239.1.1.1:5000", Server, false, &[Multicast]),
        (B, "239.1.1.1:5000", A, "10.0.0.1:5000", Client, true, &[Multicast]),
        (A, "0.0.0.0:67", B, "255.255.255.255:67", Server, true, &[Broadcast]),
        (A, "10.0.0.2:67", B, "255.255.255.255:67", Server, false, &[Broadcast]),
        // A declared NAT without ports (steps 10-13): server ports are kept, client source
        // ports may be rewritten.
        (D, "192.168.0.8:80", A, "128.238.38.67:80", Server, true, &[ThroughNat { declared: true }]),
        (D, "0.0.0.0:80", A, "128.238.38.67:80", Server, true, &[ThroughNat { declared: true }]),
        (D, "192.168.0.8:80", A, "128.238.38.67:8080", Server, false, &[]),
        (D, "192.168.0.8:40000", A, "128.238.38.67:51234", Client, true, &[ThroughNat { declared: true }]),
        (D, "192.168.0.8:0", A, "128.238.38.67:51234", Client, true, &[ThroughNat { declared: true }]),
        (D, "192.168.0.9:80", A, "128.238.38.67:80", Server, false, &[AddressNotDeclared]),
        (A, "10.0.0.2:80", D, "128.238.38.67:80", Server, false, &[]),
        (A, "0.0.0.0:80", D, "128.238.38.67:80", Server, false, &[]),
        // Port forwarding: the public port differs from the private one.
        (E, "192.168.1.50:3005", B, "96.250.21.150:3001", Server, true, &[ThroughNat { declared: true }, PortForwarded]),
        (E, "0.0.0.0:3005", B, "96.250.21.150:3001", Server, true, &[ThroughNat { declared: true }, PortForwarded]),
        (E, "192.168.1.50:0", B, "96.250.21.150:3001", Server, true, &[PortUnverified, ThroughNat { declared: true }]),
        (E, "192.168.1.50:3005", B, "96.250.21.150:3005", Server, false, &[]),
        (E, "192.168.1.50:22", B, "96.250.21.150:3001", Server, false, &[]),
        // Inferred rules match too, and say so; a declared rule is preferred when both apply.
        (F, "10.9.0.5:40000", A, "203.0.113.9:6000", Client, true, &[ThroughNat { declared: false }]),
        (G, "192.168.5.5:80", A, "198.18.0.1:80", Server, true, &[ThroughNat { declared: true }]),
        (G, "192.168.5.5:81", A, "198.18.0.1:81", Server, true, &[ThroughNat { declared: false }]),
        // A trace the topology does not know: no host, nothing owned, no panic.
        (99, "10.0.0.2:80", B, "10.0.0.2:80", Server, true, &[AddressNotDeclared]),
        (99, "0.0.0.0:80", B, "10.0.0.2:80", Server, false, &[]),
    ];
    let topology = topology();
    let matcher = Matcher::new(&topology);
    for &(local_trace, local, peer_trace, known_as, role, matched, notes) in cases {
        let got = matcher.can_be(
            TraceId(local_trace),
            local.parse().unwrap(),
            TraceId(peer_trace),
            known_as.parse().unwrap(),
            role,
        );
        let expected = Match {
            matched,
            notes: notes.to_vec(),
        };
        assert_eq!(
            got, expected,
            "{local} ({local_trace}) as {known_as} ({peer_trace}), {role:?}"
        );
    }
}

#[test]
fn a_v6only_wildcard_does_not_accept_ipv4() {
    let topology = topology();
    let matcher = Matcher::new(&topology);
    let ask = |v6only| {
        matcher.can_be_with(
            TraceId(A),
            "[::]:80".parse().unwrap(),
            TraceId(B),
            "10.0.0.2:80".parse().unwrap(),
            Server,
            MatchOptions { v6only },
        )
    };
    assert!(ask(false).matched);
    let strict = ask(true);
    assert!(!strict.matched);
    assert_eq!(strict.notes, vec![IpVersionMismatch]);
}

#[test]
fn is_outside_follows_ignores_hosts_and_nats() {
    let cases = [
        // Ignored endpoints, with a port or for every port; mapped addresses normalised.
        ("127.0.0.1:53", true),
        ("127.0.0.53:53", true),
        ("[::ffff:127.0.0.1]:53", true),
        ("8.8.8.8:53", true),
        ("8.8.8.8:443", true),
        ("10.0.0.1:9999", true),
        ("10.0.0.1:80", false),
        // Special addresses are never outside.
        ("127.0.0.1:80", false),
        ("[::1]:80", false),
        ("0.0.0.0:80", false),
        ("239.1.1.1:5000", false),
        ("255.255.255.255:67", false),
        // Host addresses and NAT private addresses are inside.
        ("10.0.0.2:80", false),
        ("[2001:db8::2]:80", false),
        ("[::ffff:10.0.0.2]:80", false),
        ("192.168.0.8:1", false),
        // NAT publics are inside for their ports.
        ("128.238.38.67:5", false),
        ("96.250.21.150:3001", false),
        ("96.250.21.150:0", false),
        ("96.250.21.150:22", true),
        // Everything else is outside.
        ("93.184.216.34:80", true),
        ("[2001:db8::99]:80", true),
    ];
    let topology = topology();
    let matcher = Matcher::new(&topology);
    for (addr, outside) in cases {
        assert_eq!(matcher.is_outside(addr.parse().unwrap()), outside, "{addr}");
    }
}

#[test]
fn note_texts_name_the_bound_address() {
    let local: SocketAddr = "10.0.0.99:80".parse().unwrap();
    let peer: SocketAddr = "10.0.0.99:80".parse().unwrap();
    let text = AddressNotDeclared.describe(local, peer);
    assert_eq!(
        text,
        "the socket is bound to 10.0.0.99:80, which is not one of its host's declared addresses"
    );
}

#[test]
fn answers_do_not_depend_on_rule_order() {
    let mut topology = topology();
    let first = Matcher::new(&topology).can_be(
        TraceId(G),
        "192.168.5.5:80".parse().unwrap(),
        TraceId(A),
        "198.18.0.1:80".parse().unwrap(),
        Server,
    );
    topology.hosts[5].nats.reverse();
    let second = Matcher::new(&topology).can_be(
        TraceId(G),
        "192.168.5.5:80".parse().unwrap(),
        TraceId(A),
        "198.18.0.1:80".parse().unwrap(),
        Server,
    );
    assert_eq!(first, second);
}

fn mapped(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), addr.port()),
        IpAddr::V6(_) => addr,
    }
}

proptest::proptest! {
    /// Writing an IPv4 address as IPv4-mapped IPv6 never changes an answer.
    #[test]
    fn mapped_spellings_get_the_same_answers(
        local_trace in 0u32..8,
        peer_trace in 0u32..8,
        local_ip in proptest::sample::select(vec![
            "0.0.0.0", "127.0.0.1", "10.0.0.2", "10.0.0.1", "192.168.0.8", "192.168.1.50",
            "10.9.0.5", "239.1.1.1",
        ]),
        peer_ip in proptest::sample::select(vec![
            "0.0.0.0", "127.0.0.1", "10.0.0.2", "128.238.38.67", "96.250.21.150",
            "203.0.113.9", "255.255.255.255", "8.8.8.8",
        ]),
        local_port in proptest::sample::select(vec![0u16, 80, 3005, 40000]),
        peer_port in proptest::sample::select(vec![0u16, 80, 3001, 51234]),
        server in proptest::bool::ANY,
    ) {
        let topology = topology();
        let matcher = Matcher::new(&topology);
        let local = SocketAddr::new(local_ip.parse().unwrap(), local_port);
        let peer = SocketAddr::new(peer_ip.parse().unwrap(), peer_port);
        let role = if server { Server } else { Client };
        let plain = matcher.can_be(TraceId(local_trace), local, TraceId(peer_trace), peer, role);
        let spelled = matcher.can_be(
            TraceId(local_trace), mapped(local), TraceId(peer_trace), mapped(peer), role,
        );
        proptest::prop_assert_eq!(plain.matched, spelled.matched);
        proptest::prop_assert!(spelled.notes.contains(&MappedIpv4));
        proptest::prop_assert_eq!(matcher.is_outside(peer), matcher.is_outside(mapped(peer)));
    }
}

#[test]
fn inferred_rules_are_listed_with_their_hosts() {
    let topology = topology();
    let listed: Vec<(&str, String)> = topology
        .inferred_nats()
        .map(|(host, rule)| (host.name.as_str(), rule.public.ip.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            ("inferred", "203.0.113.9".to_string()),
            ("both", "198.18.0.1".to_string())
        ]
    );
}

#[test]
fn an_address_of_a_host_declared_without_a_trace_is_unobserved_not_outside() {
    // Every host of `topology()` has a trace; the server's is dropped (the config declares it
    // with `ip` lines only).
    let mut topo = topology();
    let server = topo.hosts.iter().position(|h| h.name == "server").unwrap();
    topo.hosts[server].traces.clear();
    let m = Matcher::new(&topo);
    let server = "10.0.0.2:80".parse().unwrap();
    assert!(!m.is_outside(server));
    assert!(m.is_unobserved(server));
    assert!(m.has_unobserved_host());
    let client = "10.0.0.1:5000".parse().unwrap();
    assert!(!m.is_unobserved(client));
    assert!(m.is_unobserved("192.0.2.7:80".parse().unwrap()));
}
