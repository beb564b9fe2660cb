//! A connect that failed, or never completed, followed by a connection the same program made to
//! another address of the same name on the same port: the program fell back and reached the
//! service there.
//!
//! A name often has several addresses (IPv6 and IPv4, or several of one family), and clients
//! try them in turn (RFC 6724's order from getaddrinfo; wget, Python's
//! `socket.create_connection`) or race them (RFC 8305 Happy Eyeballs: curl, Go, Node.js's
//! `autoSelectFamily`). The failure is still worth reporting (one address of the service is
//! dead, and every client pays its timeout), but the report says the program recovered. Two
//! addresses are taken for one name's when the program's resolver probed both: it connects a
//! UDP socket to each address of a name to order them (`model/udp/candidates.rs`). Servers
//! named by address (etcd's peers on one port) are no fallback of one another.

use std::net::SocketAddr;

use crate::diagnose::context::Context;
use crate::diagnose::{Evidence, Finding};
use crate::model::socket::unmapped;
use crate::model::tcp::load::FirstConnection;
use crate::model::udp::candidates::connected_to;
use crate::source::Loc;

/// The first connection the trace of `failed` made to another address on `target`'s port after
/// the failure, both addresses probed by its resolver: later in the same trace file, or in
/// another file of a `-ff` set (whose lines are not ordered against this one's). The model
/// keeps each trace's first completed connect to each address
/// (`ReplayOutcome::first_connections`), accepted by a traced server or seen complete by the
/// client.
pub(crate) fn fallback_after<'a>(
    cx: &Context<'a>,
    failed: Loc,
    target: SocketAddr,
) -> Option<&'a FirstConnection> {
    let probed = |addr: SocketAddr| {
        connected_to(
            &cx.outcome.udp_connect_targets,
            failed.trace,
            unmapped(addr).ip(),
        )
    };
    if !probed(target) {
        return None;
    }
    cx.outcome
        .first_connections
        .iter()
        .filter(|f| f.connect.trace == failed.trace)
        .filter(|f| f.target.port() == target.port() && !same_ip(f.target, target))
        .filter(|f| probed(f.target))
        .filter(|f| f.connect.file != failed.file || f.connect.line > failed.line)
        .min_by_key(|f| (f.connect.file != failed.file, f.connect.line))
}

/// Adds to `finding` the fallback after the failure at `failed` (if any): a fact and the
/// connect that reached the other address as evidence.
pub(crate) fn with_fallback(
    cx: &Context,
    finding: Finding,
    failed: Loc,
    target: SocketAddr,
) -> Finding {
    let Some(fallback) = fallback_after(cx, failed, target) else {
        return finding;
    };
    let other = fallback.target;
    finding
        .with_fact(format!(
            "the program then connected to {other}, another address on the same port, which \
             its resolver had weighed with {target} (a UDP connect to each, as getaddrinfo \
             orders the addresses of one name): it fell back from {target} and recovered"
        ))
        .with_evidence([Evidence::new(
            fallback.connect,
            format!("connected to {other} instead"),
        )])
}

/// One address seen in both families: an IPv4-mapped IPv6 address is the IPv4 address.
fn same_ip(a: SocketAddr, b: SocketAddr) -> bool {
    unmapped(a).ip() == unmapped(b).ip()
}

#[cfg(test)]
mod tests {
    use crate::model::tcp::load::FirstConnection;
    use crate::model::udp::candidates::UdpConnectTarget;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::parse::Errno;
    use crate::source::TraceId;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// lab/multi.sh, v4-first-drop--python--plain: the name's first address is dropped by the
    /// server's firewall, Python's socket.create_connection gives up on it and connects to the
    /// second (`client.trace.zst`, lines 718 and 722):
    /// `getsockopt(3<TCP:[10.96.0.2:57320->10.96.0.3:8085]>, SOL_SOCKET, SO_ERROR, [ETIMEDOUT], [4]) = 0`
    /// `connect(3<TCP:[1564793]>, {sa_family=AF_INET, sin_port=htons(8085), sin_addr=inet_addr("10.96.0.1")}, 16) = -1 EINPROGRESS`
    /// with the server accepting that connection. Here the client is trace A (10.0.0.1), the
    /// dead address 10.0.0.2, the live one 10.0.0.3.
    fn timed_out_then(connect_line: u64, target: &str) -> ReplayOutcome {
        let mut outcome = with_deviation(DeviationKind::ConnectFailed {
            errno: Errno::ETIMEDOUT,
            target: addr("10.0.0.2:8085"),
            listener: None,
        });
        outcome.deviations[0].loc = loc(0, 718);
        outcome.first_connections = vec![FirstConnection {
            target: addr(target),
            connect: loc(0, connect_line),
        }];
        // getaddrinfo's probes, lines 708 to 711: `connect(3<UDP:[1564725]>, {sa_family=AF_INET,
        // sin_port=htons(8085), sin_addr=inet_addr("10.96.0.3")}, 16) = 0`, `connect(3<UDP:[...]>,
        // {sa_family=AF_UNSPEC, ...}, 16) = 0`, the same to 10.96.0.1.
        outcome.udp_connect_targets = ["10.0.0.2", "10.0.0.3"]
            .map(|a| UdpConnectTarget {
                trace: TraceId(0),
                ip: ip(a),
            })
            .to_vec();
        outcome
    }

    fn facts(outcome: ReplayOutcome) -> Vec<String> {
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["connect-filtered"]);
        found.into_iter().flat_map(|f| f.facts).collect()
    }

    #[test]
    fn a_failed_connect_then_a_connection_to_another_address_on_its_port_is_a_fallback() {
        let facts = facts(timed_out_then(722, "10.0.0.3:8085"));
        assert!(
            facts.iter().any(|f| f.contains(
                "connected to 10.0.0.3:8085, another address on the same port, which its \
                 resolver had weighed with 10.0.0.2:8085"
            )),
            "{facts:?}"
        );
    }

    /// Servers named by address, as etcd's peers on port 2380 (`apps/etcd-healthy`: a peer
    /// refused while it starts, the others reached): no resolver weighed them together, so
    /// reaching one is no fallback from another.
    #[test]
    fn addresses_no_resolver_weighed_together_are_no_fallback() {
        for probed in [&[][..], &["10.0.0.2"][..], &["10.0.0.3"][..]] {
            let mut outcome = timed_out_then(722, "10.0.0.3:8085");
            outcome.udp_connect_targets = probed
                .iter()
                .map(|a| UdpConnectTarget {
                    trace: TraceId(0),
                    ip: ip(a),
                })
                .collect();
            let facts = facts(outcome);
            assert!(!facts.iter().any(|f| f.contains("fell back")), "{facts:?}");
        }
        let etcd = recorded("apps", "etcd-healthy");
        let facts: Vec<&String> = etcd.findings.iter().flat_map(|f| &f.facts).collect();
        assert!(!facts.iter().any(|f| f.contains("fell back")), "{facts:?}");
    }

    #[test]
    fn a_connection_before_the_failure_or_to_another_port_or_the_same_address_is_no_fallback() {
        for (line, target) in [
            (700, "10.0.0.3:8085"),
            (722, "10.0.0.3:80"),
            (722, "[::ffff:10.0.0.2]:8085"),
        ] {
            let facts = facts(timed_out_then(line, target));
            assert!(
                !facts.iter().any(|f| f.contains("fell back")),
                "{line} {target}: {facts:?}"
            );
        }
    }

    /// lab/multi.sh, v6-drop--curl--plain: curl's Happy Eyeballs starts an IPv6 connect
    /// (`connect(5<TCPv6:[1547309]>, {sa_family=AF_INET6, sin6_port=htons(8081), ...
    /// inet_pton(AF_INET6, "fd7a::1", &sin6_addr), ...}, 28) = -1 EINPROGRESS`), whose SYNs
    /// the server's firewall drops; 200 ms later the IPv4 one, which connects, and closes the
    /// IPv6 socket still in progress. Both views say the program fell back.
    #[test]
    fn a_recorded_happy_eyeballs_race_lost_to_a_dropped_path_says_the_program_recovered() {
        let full = recorded("multi", "v6-drop--curl--plain");
        let client = recorded_view("multi", "v6-drop--curl--plain", "client");
        for analysis in [full, client] {
            let [finding] = analysis.findings.as_slice() else {
                panic!("{:?}", rules_of(&analysis.findings));
            };
            assert_eq!(finding.rule, "connect-never-completed");
            assert!(
                finding.facts.iter().any(|f| f.contains(
                    "connected to 10.96.0.1:8081, another address on the same port, which its \
                     resolver had weighed with [fd7a::1]:8081"
                )),
                "{:?}",
                finding.facts
            );
        }
    }
}
