//! `loopback-bound-external-peer`: A socket bound to loopback talks to a non-loopback address.

use super::{
    claim_lossy_flow, classify_refusal, failed_connect_findings, per_socket_findings,
    udp_flows_to_loopback_bound, udp_sender, Refusal,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "loopback-bound-external-peer",
    class: Class::Portability,
    title: "A socket bound to loopback talks to a non-loopback address",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A socket bound to a loopback address (127.0.0.0/8, ::1) that connects or sends to, or accepts
from, an address outside loopback; a refused connect to a host's external address when the
only traced listener on that host and port is bound to loopback (and the timestamps, where
present, do not put that listener clearly at another time); and a UDP datagram refused (ICMP
port unreachable, seen as ECONNREFUSED on a connected socket) at a host's external address
whose port a traced UDP socket of that host has bound on loopback; and UDP datagrams sent to
such an address of which none was received (an unconnected sender never sees the ICMP port
unreachable).

## Why it matters
Operating systems disagree: Linux refuses such traffic (EINVAL, or it never arrives), others route
it. Code tested on one system fails on another, and a server bound to 127.0.0.1 is unreachable from
other hosts anywhere.

## Evidence
The call that used the external peer; the facts give the local and peer addresses.

Precedence: such refusals are not reported as `connect-refused`, nor such datagrams as
`udp-all-lost`.

## What to do
Bind to the host address or the wildcard (0.0.0.0 / ::) when the peer is remote; keep loopback
binds for purely local services.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = refused_by_loopback_listener(cx, claims);
    findings.extend(datagrams_to_loopback_bound(cx, claims));
    findings.extend(per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::LoopbackBoundExternalPeer { .. }),
        |who, group| {
            (
                format!("{who} is bound to a loopback address but talks to a non-loopback peer ({} call(s))", group.len()),
                "bind to the host's address (or 0.0.0.0 / ::) when the peer is on another host".to_string(),
            )
        },
        "loopback-bound socket with an external peer",
    ));
    findings
}

/// Refused connects to a host's external address whose only would-be listener there is bound
/// to loopback.
fn refused_by_loopback_listener(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let loopback_listener = |f: &super::FailedConnect| match classify_refusal(cx, f) {
        Refusal::LoopbackListener { listener, local } => Some((listener, local)),
        _ => None,
    };
    failed_connect_findings(
        cx,
        claims,
        &RULE,
        |f| f.errno == Errno::ECONNREFUSED && loopback_listener(f).is_some(),
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} ({count} time(s)): the traced \
                     socket serving that port on that host is bound to loopback"
                ),
                "bind the server to the host's address (or 0.0.0.0 / ::) when clients are on \
                 other hosts"
                    .to_string(),
            )
        },
        |f| {
            loopback_listener(f)
                .map(|(l, local)| format!("{} is bound to {local} only", cx.sock(l)))
                .into_iter()
                .collect()
        },
    )
}

/// UDP flows of which nothing arrived, sent to a host's external address whose port the
/// traced service of that host has bound on loopback only: the datagrams found nothing bound.
fn datagrams_to_loopback_bound(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, flow, sent, bind) in udp_flows_to_loopback_bound(cx, claims) {
        claim_lossy_flow(cx, claims, index);
        findings.push(
            RULE.finding(
                format!(
                    "{} sent {sent} UDP datagram(s) to {} and none was received: the traced \
                     socket serving that port on that host is bound to loopback",
                    udp_sender(cx, flow),
                    flow.receiver_addr
                ),
                "bind the server to the host's address (or 0.0.0.0 / ::) when clients are on \
                 other hosts",
            )
            .with_evidence([Evidence::new(flow.first_send, "first datagram of the flow")])
            .with_fact(format!(
                "{} is bound to {} only",
                cx.sock(bind.sock),
                bind.local
            )),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, LoopbackUdpBind, ReplayOutcome};
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_loopback_bound_external_peer_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::LoopbackBoundExternalPeer {
                local: addr("127.0.0.1:4000"),
                peer: addr("10.0.0.2:80"),
            }),
        );
    }

    /// dig on 10.0.0.1 asks 10.0.0.2:53 over a connected UDP socket and reads ECONNREFUSED
    /// (named-listen-localhost, client.trace:178); named on 10.0.0.2 has bound its UDP socket
    /// to 127.0.0.1:53 (server.trace:278), or not.
    fn udp_refused(server_bound: Option<&str>) -> Vec<&'static str> {
        let outcome = ReplayOutcome {
            deviations: vec![deviation(
                DeviationKind::ConnectFailed {
                    errno: Errno::ECONNREFUSED,
                    target: addr("10.0.0.2:53"),
                    listener: None,
                },
                loc(0, 178),
                Some(sock(0, 0)),
            )],
            udp: vec![udp_flow(
                sock(0, 0),
                "10.0.0.1:55932",
                "10.0.0.2:53",
                Vec::new(),
                vec![(52, 1, 0)],
                loc(0, 175),
            )],
            loopback_udp_binds: server_bound
                .map(|local| LoopbackUdpBind {
                    sock: sock(1, 0),
                    local: addr(local),
                })
                .into_iter()
                .collect(),
            ..ReplayOutcome::default()
        };
        fired(two_hosts(), outcome)
    }

    #[test]
    fn a_udp_refusal_at_a_port_bound_on_loopback_is_this_rule() {
        assert_eq!(udp_refused(Some("127.0.0.1:53")), vec![RULE.id]);
        // Another port on loopback, or none at all: an ordinary refusal.
        assert_eq!(udp_refused(Some("127.0.0.1:953")), vec!["connect-refused"]);
        assert_eq!(udp_refused(None), vec!["connect-refused"]);
        // An IPv6 loopback socket does not serve an IPv4 address.
        assert_eq!(udp_refused(Some("[::1]:53")), vec!["connect-refused"]);
    }

    #[test]
    fn fires_on_recorded_loopback_bound_server() {
        assert_recorded_scenarios_report(&RULE, &["loopback-bound-server"]);
    }
}
