//! `buffer-overrun`: more bytes in flight than the path's buffers can hold, or a datagram larger
//! than a socket buffer.

use super::{
    deviation_evidence, deviations, group_by, per_socket_findings, sock_or_trace, subject,
};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "buffer-overrun",
    class: Class::Network,
    title: "Bytes in flight exceed the path's buffers, or a datagram exceeds a socket buffer",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
On a TCP connection, the bytes sent but not yet received exceed the capacity of the buffers between
the two programs (the sender's send buffer plus the receiver's receive buffer). The kernel cannot
accept that much data unless it left the host, so the bytes were in the network and did not reach
the receiver's buffer.

For UDP: a datagram was larger than the sender's send buffer or the receiver's receive buffer, as
the program sized them with SO_SNDBUF / SO_RCVBUF (or failed with EMSGSIZE). The size compared is
the one the program asked for: Linux doubles it, and sends a datagram larger than the buffer
anyway, so the datagram may well have passed here.

## Why it matters
The receiver was not the one holding the data back: the network (or an untraced intermediary)
absorbed or dropped it. This points away from the application.

A datagram that does not fit a socket buffer is dropped (or refused with EMSGSIZE) on systems that
enforce the size the program set, and is at the mercy of the buffer filling up on Linux.

## Evidence
The send that pushed the unreceived total over the capacity; the facts give both numbers. For
UDP, the send or receive of the datagram and the buffer size it exceeded.

## What to do
Check the path for drops (`ss -ti` retransmissions, `netstat -s`), proxies that buffer whole
streams, and MTU problems (see `mtu-black-hole`). For UDP, keep datagrams below the socket buffer
sizes, or raise SO_SNDBUF / SO_RCVBUF above the largest datagram.

Precedence: `mtu-black-hole` claims overruns on a stream it explains; the stream is then not
reported again as `data-unreceived`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let overruns = deviations(cx, claims, |k| {
        matches!(k, DeviationKind::BufferOverrun { .. })
    });
    let groups = group_by(overruns, |(_, d)| sock_or_trace(d));
    let mut findings = Vec::new();
    for ((trace, sock), group) in groups {
        if let Some((index, _, is_client)) = sock.and_then(|s| cx.connection_of(s)) {
            let dir = if is_client {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            claims.claim_stream(index, dir);
        }
        let (unreceived, capacity) = group
            .iter()
            .filter_map(|(_, d)| match d.kind {
                DeviationKind::BufferOverrun {
                    unreceived,
                    capacity,
                } => Some((unreceived, capacity)),
                _ => None,
            })
            .max()
            .unwrap_or((0, 0));
        let mut finding = RULE.finding(format!(
                "{} had up to {unreceived} bytes sent and not received, more than the {capacity} \
                 bytes the buffers on the path hold: the bytes left the host and did not arrive",
                subject(cx, trace, sock)
            ),
            "check the path for drops and buffering middleboxes (ss -ti retransmissions, netstat \
             -s), and the path MTU",
        )
        .with_evidence(
            group
                .iter()
                .flat_map(|(_, d)| deviation_evidence(d, "send beyond the buffer capacity")),
        );
        for (index, d) in &group {
            claims.claim_deviation(*index);
            finding = finding.with_fact(d.detail.clone());
        }
        finding.facts.dedup();
        findings.push(finding);
    }
    findings.extend(oversized_datagrams(cx, claims));
    findings
}

/// UDP: datagrams larger than a socket buffer, one finding per trace.
fn oversized_datagrams(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    per_socket_findings(
        cx,
        claims,
        &RULE,
        |k| matches!(k, DeviationKind::DatagramTooLarge { .. }),
        |who, group| {
            let largest = group
                .iter()
                .filter_map(|(_, d)| match d.kind {
                    DeviationKind::DatagramTooLarge { len, buffer } => Some((len, buffer)),
                    _ => None,
                })
                .max()
                .unwrap_or((0, 0));
            (
                format!(
                    "{who}: {} datagram(s) larger than the socket buffer (up to {} bytes over a \
                     {}-byte buffer); systems that enforce the size set drop or refuse them",
                    group.len(),
                    largest.0,
                    largest.1
                ),
                "keep datagrams below the socket buffer sizes, or raise SO_SNDBUF / SO_RCVBUF \
                 above the largest datagram"
                    .to_string(),
            )
        },
        "datagram larger than the socket buffer",
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_buffer_overrun_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::BufferOverrun {
                unreceived: 500_000,
                capacity: 425_984,
            }),
        );
    }

    #[test]
    fn fires_on_recorded_udp_exceeds_sndbuf() {
        assert_recorded_scenarios_report(&RULE, &["udp-exceeds-sndbuf"]);
    }

    #[test]
    fn buffer_overrun_without_mtu_pattern_suppresses_data_unreceived() {
        let mut outcome = tcp(vec![accepted(600_000, 0, 65536)]);
        outcome.deviations.push(deviation(
            DeviationKind::BufferOverrun {
                unreceived: 600_000,
                capacity: 425_984,
            },
            loc(0, 40),
            Some(sock(0, 0)),
        ));
        assert_eq!(fired(two_hosts(), outcome), ["buffer-overrun"]);
    }
}
