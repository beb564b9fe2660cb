//! `ip-version-mismatch`: IPv4 and IPv6 endpoints are mixed.

use std::net::SocketAddr;

use super::{
    claim_unmatched_connection, classify_connect_target, classify_refusal, failed_connect_findings,
    group_by, per_socket_findings, FailedConnect, OtherFamily, Refusal,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;
use crate::parse::Errno;
use crate::source::{Loc, SockId, TraceId};

pub const RULE: Rule = Rule {
    id: "ip-version-mismatch",
    class: Class::Portability,
    title: "IPv4 and IPv6 endpoints are mixed",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A client and a server that use different IP families: a connect over IPv6 to a host whose traced
server listens on that port over IPv4 only (an IPv4 address or 0.0.0.0), or a connect over IPv4
to a server that listens on a specific IPv6 address or with IPV6_V6ONLY; also IPv4-mapped IPv6
addresses (::ffff:a.b.c.d) in use between the traced sockets. The server's own bind tells which
family it listens on. A connect counts when it was refused, or never seen to complete, and the
only traced listener on the target's port (whose listening period the timestamps, where present,
do not put clearly at another time) serves the other family only, on the host the target names:
the configuration lists the target for that host, or lists it for no host and gives that host no
address of the target's family (a configuration that declares one family only).

## Why it matters
Whether an IPv6 socket also serves IPv4 depends on the bind address and on the system default
(`net.ipv6.bindv6only`; Windows and the BSDs default differently), and an IPv4 socket never serves
IPv6. A server that works on one host refuses clients on another, and names that resolve to IPv6
first miss IPv4-only servers.

## Evidence
The connect, and the facts name the listener, its bind address and both families. When the
program then connected to another address on the same port that its resolver had weighed with
this one (the next address of a name), the facts and that connect say so: it fell back and
recovered.

Precedence: such refusals are not reported as `connect-refused`, and a trace whose only traffic
is such a connect is not reported as `no-peer-traffic`.

## What to do
Listen on both families explicitly (two sockets, or an IPv6 wildcard socket with IPV6_V6ONLY set
to 0 deliberately), and make clients try every address getaddrinfo returns.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mismatched = mismatched_connects(cx);
    let mut findings = refused_by_other_family(cx, claims);
    findings.extend(unfinished_to_other_family(cx, claims, &mismatched));
    claim_explained_traces(cx, claims, &mismatched);
    findings.extend(per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::IpVersionMismatch),
        |who, group| {
            (
                format!("{who} mixes IPv4 and IPv6 endpoints ({} call(s)): an IPv4 peer against an IPv6-only socket, or an IPv4-mapped address", group.len()),
                "bind dual-stack (IPV6_V6ONLY off) or listen on both families; do not rely on IPv4-mapped addresses".to_string(),
            )
        },
        "IPv4/IPv6 mismatch",
    ));
    findings
}

/// The listener a connect to `target` missed by its family, and why it could not serve it.
struct Mismatch {
    listener: SockId,
    local: Option<SocketAddr>,
    target_declared: bool,
}

fn mismatch_of(refusal: Refusal) -> Option<Mismatch> {
    match refusal {
        Refusal::V6OnlyListener { listener } => Some(Mismatch {
            listener,
            local: None,
            target_declared: true,
        }),
        Refusal::OtherFamilyListener(OtherFamily {
            listener,
            local,
            target_declared,
        }) => Some(Mismatch {
            listener,
            local: Some(local),
            target_declared,
        }),
        _ => None,
    }
}

/// "IPv4" or "IPv6", for the family `addr` is reached over.
fn family(addr: SocketAddr) -> &'static str {
    if addr.ip().to_canonical().is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// Refused connects whose only would-be listener serves the other family.
fn refused_by_other_family(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mismatch = |f: &FailedConnect| mismatch_of(classify_refusal(cx, f));
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| f.errno == Errno::ECONNREFUSED && mismatch(f).is_some(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting over {} to {target} ({count} time(s)): the \
                     only traced socket listening on port {} does not serve {}",
                    family(target),
                    target.port(),
                    family(target)
                ),
                hint(target),
            )
        },
        |f| {
            mismatch(f)
                .map(|m| mismatch_facts(cx, f.target, &m))
                .unwrap_or_default()
        },
    )
}

/// A connect that missed its listener by family (refused, or never seen refused).
struct MissedByFamily {
    loc: Loc,
    trace: TraceId,
    target: SocketAddr,
    /// The connection the replay made of it towards an address of no traced host, if any.
    connection: Option<usize>,
    mismatch: Mismatch,
}

/// Every connect that missed a listener by family: refused ones, ones never seen to complete,
/// and ones towards an address the configuration lists for no host (which the replay lets
/// succeed against the outside world).
fn mismatched_connects(cx: &Context) -> Vec<MissedByFamily> {
    let matcher = cx.matcher();
    let refused = cx.outcome.deviations.iter().filter_map(|d| match d.kind {
        DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            target,
            listener: None,
        } => Some((d.loc, target, None)),
        _ => None,
    });
    let pending = cx
        .outcome
        .pending_connects
        .iter()
        .map(|p| (p.loc, p.target, None));
    let to_outside = cx.outcome.tcp.iter().enumerate().filter_map(|(i, c)| {
        let target = c.client_view.1?;
        (c.server.is_none() && c.listener.is_none() && matcher.is_outside(target)).then_some((
            c.connect_loc,
            target,
            Some(i),
        ))
    });
    let mut connects: Vec<(Loc, SocketAddr, Option<usize>)> = refused
        .chain(pending)
        .chain(to_outside)
        .chain(unknown_stream_peers(cx))
        .collect();
    // The replay may list one connect both as a connection and as a call to an unknown peer.
    connects.sort_by_key(|(loc, target, connection)| (*loc, *target, connection.is_none()));
    connects.dedup_by_key(|(loc, target, _)| (*loc, *target));
    connects
        .into_iter()
        .filter_map(|(loc, target, connection)| {
            let mismatch = mismatch_of(classify_connect_target(cx, loc, target))?;
            Some(MissedByFamily {
                loc,
                trace: loc.trace,
                target,
                connection,
                mismatch,
            })
        })
        .collect()
}

/// The first call of each trace towards each address of no traced host that is no datagram
/// destination: the connects the replay let go to the outside world.
fn unknown_stream_peers(cx: &Context) -> Vec<(Loc, SocketAddr, Option<usize>)> {
    let sends_datagrams_to = |trace: TraceId, peer: SocketAddr| {
        cx.outcome
            .udp
            .iter()
            .any(|f| f.sender.trace == trace && f.receiver_addr == peer)
    };
    cx.outcome
        .activity
        .iter()
        .filter_map(|a| Some((a.trace?, a)))
        .flat_map(|(trace, a)| {
            a.unknown_peers
                .iter()
                .zip(&a.unknown_peer_calls)
                .filter(move |(peer, _)| !sends_datagrams_to(trace, **peer))
                .map(|(peer, loc)| (*loc, *peer, None))
        })
        .collect()
}

/// Connects the replay never saw refused (still pending, or let through to an address of no
/// traced host) towards a host whose only listener on that port serves the other family.
fn unfinished_to_other_family(
    cx: &Context,
    claims: &mut Claims,
    mismatched: &[MissedByFamily],
) -> Vec<Finding> {
    let refused_locs: Vec<Loc> = cx
        .outcome
        .deviations
        .iter()
        .filter(|d| matches!(d.kind, DeviationKind::ConnectFailed { .. }))
        .map(|d| d.loc)
        .collect();
    let unfinished = mismatched.iter().filter(|c| !refused_locs.contains(&c.loc));
    let groups = group_by(unfinished, |c| (c.trace, c.target));
    let mut findings = Vec::new();
    for ((trace, target), group) in groups {
        let mut finding = RULE
            .finding(
                format!(
                    "{} connected over {} to {target} ({} time(s)) and was never seen connected: \
                     the only traced socket listening on port {} does not serve {}",
                    cx.who(trace),
                    family(target),
                    group.len(),
                    target.port(),
                    family(target)
                ),
                hint(target),
            )
            .with_evidence(
                group
                    .iter()
                    .map(|c| Evidence::new(c.loc, "connect that found no listener of its family")),
            );
        for connect in &group {
            if let Some(index) = connect.connection {
                claim_unmatched_connection(cx, claims, index);
            }
            for fact in mismatch_facts(cx, target, &connect.mismatch) {
                if !finding.facts.contains(&fact) {
                    finding = finding.with_fact(fact);
                }
            }
        }
        findings.push(finding);
    }
    findings
}

/// Claims the traces whose missing peer traffic these connects explain: a client whose only
/// unknown peers are the targets it missed by family, and a listener's trace that no peer
/// reached (its client went to the other family).
fn claim_explained_traces(cx: &Context, claims: &mut Claims, mismatched: &[MissedByFamily]) {
    for activity in &cx.outcome.activity {
        let Some(trace) = activity.trace else {
            continue;
        };
        let missed_by_family = |peer: &SocketAddr| {
            mismatched
                .iter()
                .any(|c| c.trace == trace && c.target == *peer)
        };
        let client_explained = mismatched.iter().any(|c| c.trace == trace)
            && activity.unknown_peers.iter().all(missed_by_family);
        let listener_unreached = activity.peer_links == 0
            && mismatched
                .iter()
                .any(|c| c.mismatch.listener.trace == trace);
        if client_explained || listener_unreached {
            claims.claim_trace(trace);
        }
    }
}

fn hint(target: SocketAddr) -> String {
    let other = if family(target) == "IPv4" {
        "IPv6"
    } else {
        "IPv4"
    };
    format!(
        "make the server listen on both families (an IPv6 wildcard socket with IPV6_V6ONLY off, \
         or one socket per family), or have the client connect over {other}"
    )
}

/// Facts that say why the listener could not serve `target`'s family.
fn mismatch_facts(cx: &Context, target: SocketAddr, m: &Mismatch) -> Vec<String> {
    let listener = cx.sock(m.listener);
    let mut facts = vec![match m.local {
        None => format!(
            "because: {listener} listens with IPV6_V6ONLY set, so it serves IPv6 peers only; \
             the client used {}",
            family(target)
        ),
        Some(local) if family(local) == "IPv4" => format!(
            "because: {listener} is bound to {local}, an IPv4 address: it serves IPv4 peers \
             only, and the client used IPv6"
        ),
        Some(local) => format!(
            "because: {listener} is bound to {local}, a specific IPv6 address (only the IPv6 \
             wildcard without IPV6_V6ONLY also serves IPv4): it serves IPv6 peers only, and the \
             client used IPv4"
        ),
    }];
    if !m.target_declared {
        facts.push(format!(
            "the configuration lists {} for no host and no {} address for the listener's host: \
             taken as that host's address of the other family",
            target.ip(),
            family(target)
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{CallSpan, DeviationKind, ListenerRecord, ReplayOutcome};
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_ip_version_mismatch_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::IpVersionMismatch));
    }

    #[test]
    fn fires_on_recorded_ipv6_only_server() {
        assert_recorded_scenarios_report(&RULE, &["ipv6-only-server"]);
    }

    /// socat's `bind(5<TCP:[101548]>, {sa_family=AF_INET, sin_port=htons(7710),
    /// sin_addr=inet_addr("10.77.1.10")}, 16) = 0` and listen, then node's `connect(19<TCPv6:
    /// [101610]>, {... inet_pton(AF_INET6, "fd77::10", ...)}, 28) = -1 EINPROGRESS` refused.
    fn v6_client_v4_listener(server_ips: &[&str]) -> (crate::config::Topology, ReplayOutcome) {
        let topology = topology(&[
            ("server", server_ips),
            ("client", &["10.77.1.21", "fd77::21"]),
        ]);
        let outcome = ReplayOutcome {
            deviations: vec![deviation(
                DeviationKind::ConnectFailed {
                    errno: Errno::ECONNREFUSED,
                    target: addr("[fd77::10]:7710"),
                    listener: None,
                },
                loc(1, 157),
                Some(sock(1, 0)),
            )],
            listeners: vec![ListenerRecord {
                sock: sock(0, 0),
                local: addr("10.77.1.10:7710"),
                v6only: false,
                listen: CallSpan {
                    loc: loc(0, 51),
                    start: None,
                    end: None,
                },
                close: None,
                close_context: Default::default(),
            }],
            ..ReplayOutcome::default()
        };
        (topology, outcome)
    }

    #[test]
    fn a_v6_connect_refused_by_a_v4_only_listener_is_a_family_mismatch() {
        let (topology, outcome) = v6_client_v4_listener(&["10.77.1.10", "fd77::10"]);
        let found = findings(topology, outcome);
        assert_eq!(rules_of(&found), ["ip-version-mismatch"]);
        assert!(found[0].summary.contains("over IPv6"));
        assert!(found[0]
            .facts
            .iter()
            .any(|f| f.starts_with("because:") && f.contains("10.77.1.10:7710")));
    }

    #[test]
    fn an_undeclared_other_family_address_counts_only_when_the_host_has_none_of_it() {
        let (topology, outcome) = v6_client_v4_listener(&["10.77.1.10"]);
        assert_eq!(fired(topology, outcome), ["ip-version-mismatch"]);
        let (topology, outcome) = v6_client_v4_listener(&["10.77.1.10", "fd77::99"]);
        assert!(!fired(topology, outcome).contains(&"ip-version-mismatch"));
    }

    /// socat's `bind(5<TCPv6:[102323]>, {... "fd77::10" ...}, 28) = 0`; curl's connect to
    /// 10.77.1.10:7711 never seen to complete (its SO_ERROR says ECONNREFUSED).
    #[test]
    fn a_v4_connect_to_a_specific_v6_listener_is_a_family_mismatch() {
        let topology = topology(&[
            ("server", &["10.77.1.10", "fd77::10"]),
            ("client", &["10.77.1.21"]),
        ]);
        let outcome = ReplayOutcome {
            pending_connects: vec![pending(sock(1, 0), "10.77.1.10:7711", loc(1, 166))],
            listeners: vec![ListenerRecord {
                sock: sock(0, 0),
                local: addr("[fd77::10]:7711"),
                v6only: false,
                listen: CallSpan {
                    loc: loc(0, 51),
                    start: None,
                    end: None,
                },
                close: None,
                close_context: Default::default(),
            }],
            ..ReplayOutcome::default()
        };
        let found = findings(topology, outcome);
        assert!(rules_of(&found).contains(&"ip-version-mismatch"));
    }

    #[test]
    fn fires_on_recorded_family_mismatches() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "ipv6-client-ipv4-server--node--socat--record",
                "ipv6-client-ipv4-server-v4conf--nc--socat--record",
                "ipv4-client-ipv6-server--curl--socat--record",
                "ipv4-client-ipv6-server-v6conf--go--socat--record",
            ],
        );
    }
}
