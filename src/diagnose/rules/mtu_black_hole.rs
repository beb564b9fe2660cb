//! `mtu-black-hole`: large packets vanish between two endpoints while small ones get through.

use std::collections::{HashMap, HashSet};

use super::{claim_socket_deviations, streams, totals};
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, UdpFlow, SHORT_MESSAGE};
use crate::source::{Loc, SockId};

pub const RULE: Rule = Rule {
    id: "mtu-black-hole",
    class: Class::Network,
    title: "Large packets are lost while small ones pass between the same endpoints",
    explanation: EXPLANATION,
    detect,
};

/// A TCP send at least this large fills a full-size segment on a 1500-byte Ethernet path, which is
/// what a black hole with a smaller path MTU (tunnels, PPPoE, VPNs) drops.
pub const TCP_LARGE_SEND: u64 = 1400;
/// No IPv4 path may have an MTU below 576 bytes, i.e. 548 bytes of UDP payload: losses that start
/// at or below this size are not an MTU problem.
pub const UDP_MIN_BLACK_HOLE_SIZE: u64 = 549;
/// Below the cut, datagrams must arrive this reliably (same threshold as `udp-loss`).
pub const UDP_SMALL_MAX_LOSS: f64 = 0.05;
/// At and above the cut, at least this share must be lost...
pub const UDP_LARGE_MIN_LOSS: f64 = 0.9;
/// ...and at least this many datagrams.
pub const UDP_LARGE_MIN_LOST: u64 = 2;

const EXPLANATION: &str = "\
## What it detects
Two endpoints exchange small packets successfully, but large ones never arrive. For UDP: the
datagrams of a flow split cleanly by size, those below some size (above 548 bytes) arrive (at most
5% lost) and those at or above it are lost (at least 90%, at least 2 datagrams). For TCP: one
direction of an accepted connection stalls with more than 512 bytes unreceived (TCP delivers in
order, so a dropped full-size segment leaves itself and all after it; less fits the 576-byte
datagram every IPv4 path carries), its largest single send, or the largest run of sends written back to back (each within 1 ms of
the one before: the kernel cuts full-size segments from bytes queued that fast), is at least 1400
bytes, smaller exchanges on the same connection were received, and the receiver did
not simply close without waiting for the rest (a readiness wait on the receiving socket that timed
out fits the pattern: the receiver wanted more and waited in vain, wherever the replay placed the
wait relative to the sends).

## Why it matters
A router on the path has a smaller MTU than the endpoints assume and drops packets that do not fit,
while the ICMP \"fragmentation needed\" message that would let the sender adapt is filtered. The
application sees a connection that works for short requests and hangs on the first large one.

## Evidence
The first send of the flow (UDP) or the last send of the stalled direction, with the connect and
accept of the connection (TCP). The facts give the sizes that passed and the sizes that were lost.

## What to do
Check the path MTU between the hosts (`ping -M do -s SIZE`, `tracepath`). Allow ICMP type 3 code 4
(IPv4) / ICMPv6 \"packet too big\" through firewalls, lower the interface MTU or clamp the TCP MSS on
the tunnel (`iptables ... TCPMSS --clamp-mss-to-pmtu`).

This rule takes precedence over `data-unreceived`, `data-unreceived-poll-missed`, `buffer-overrun`,
`udp-loss` and `udp-all-lost` for the stream or flow it explains.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Each stream asks about its receiver: index the replay's facts by socket once, so the rule
    // stays linear in the number of connections.
    let missed_data: HashSet<SockId> = cx
        .outcome
        .deviations
        .iter()
        .filter(|d| d.kind == DeviationKind::PollMissedData)
        .filter_map(|d| d.sock)
        .collect();
    let mut first_timeout: HashMap<SockId, Loc> = HashMap::new();
    for w in &cx.outcome.timed_out_waits {
        first_timeout.entry(w.sock).or_insert(w.loc);
    }
    for s in streams(cx) {
        let Some(receiver) = s.receiver else { continue };
        let unreceived = s.stream.unreceived();
        let small_exchanges_passed = s.stream.stats.received > 0 || s.reverse().stats.received > 0;
        // TCP delivers in order: a black hole that swallowed a full-size segment leaves it and
        // everything after it unreceived. What is missing when at most a short message is
        // missing fits in the 576-byte datagram every IPv4 path carries (RFC 791), which no
        // black hole drops (a TLS close_notify crossing the receiver's close, under loss:
        // `rpc/tls-loss--plain`).
        // A loop of small writes sends full-size segments as one big write does.
        let largest_segment = s
            .stream
            .stats
            .largest_send
            .max(s.stream.stats.largest_burst);
        if unreceived <= SHORT_MESSAGE
            || largest_segment < TCP_LARGE_SEND
            || !small_exchanges_passed
        {
            continue;
        }
        // A receiver that closed without waiting for the rest did not want it (application);
        // one that waited in vain and then gave up is what a black hole looks like.
        let receiver_waited = s.connection.wait_timed_out_with_data
            || missed_data.contains(&receiver)
            || first_timeout.contains_key(&receiver);
        if s.stream.stats.closed_by_receiver && !receiver_waited {
            continue;
        }
        claims.claim_stream(s.index, s.dir);
        let related = |k: &DeviationKind| {
            matches!(
                k,
                DeviationKind::BufferOverrun { .. } | DeviationKind::PollMissedData
            )
        };
        claim_socket_deviations(cx, claims, s.sender, related);
        claim_socket_deviations(cx, claims, receiver, related);
        let largest = if s.stream.stats.largest_burst > s.stream.stats.largest_send {
            format!(
                "the largest send was {} bytes, in {} bytes written back to back",
                s.stream.stats.largest_send, s.stream.stats.largest_burst
            )
        } else {
            format!("the largest send was {} bytes", s.stream.stats.largest_send)
        };
        let summary = format!(
            "TCP stream from {} to {} stalled: {unreceived} of {} bytes never arrived, after the \
             connection had carried smaller exchanges; {largest}",
            cx.sock(s.sender),
            cx.sock(receiver),
            s.stream.stats.sent,
        );
        findings.push(
            RULE.finding(summary, hint())
                .with_evidence(s.evidence("last send before the stall"))
                .with_evidence(
                    first_timeout
                        .get(&receiver)
                        .map(|loc| Evidence::new(*loc, "the receiver's wait timed out")),
                )
                .with_fact(format!(
                    "bytes received: {} in this direction, {} in the other",
                    s.stream.stats.received,
                    s.reverse().stats.received
                ))
                .with_fact(format!(
                    "{} in this direction, largest {} bytes (threshold {TCP_LARGE_SEND})",
                    plural(s.stream.stats.sends, "send", "sends"),
                    s.stream.stats.largest_send
                )),
        );
    }
    for (index, flow) in cx.outcome.udp.iter().enumerate() {
        let Some(cut) = udp_size_cut(flow) else {
            continue;
        };
        super::claim_lossy_flow(cx, claims, index);
        let (small_sent, small_received) = totals(flow, |len| len < cut.size);
        let (large_sent, large_received) = totals(flow, |len| len >= cut.size);
        let summary = format!(
            "UDP datagrams from {} ({}) to {}: {} of {large_sent} datagrams of {} bytes or more \
             were lost, while {small_received} of {small_sent} smaller ones arrived",
            cx.sock(flow.sender),
            crate::diagnose::context::addr_or_unknown(flow.sender_addr),
            flow.receiver_addr,
            large_sent - large_received,
            cut.size
        );
        findings.push(
            RULE.finding(summary, hint())
                .with_evidence([Evidence::new(flow.first_send, "first datagram of the flow")])
                .with_fact(format!(
                    "largest datagram that arrived: {} bytes; smallest lost size: {} bytes",
                    cut.largest_passed, cut.size
                )),
        );
    }
    findings
}

fn hint() -> &'static str {
    "check the path MTU between these hosts (tracepath, ping -M do -s SIZE) and let ICMP \
     'fragmentation needed' / 'packet too big' through; or lower the MTU / clamp the TCP MSS"
}

/// Where a flow's datagrams split into "arrive" and "lost" by size.
struct SizeCut {
    /// Smallest size of the lost group.
    size: u64,
    largest_passed: u64,
}

/// Finds the smallest size `c` such that datagrams below `c` arrive and those at or above are lost.
fn udp_size_cut(flow: &UdpFlow) -> Option<SizeCut> {
    let sizes: Vec<u64> = flow
        .by_size
        .iter()
        .filter(|(_, sent, _)| *sent > 0)
        .map(|(len, _, _)| *len)
        .collect();
    sizes.iter().copied().find_map(|cut| {
        let (small_sent, small_received) = totals(flow, |len| len < cut);
        let (large_sent, large_received) = totals(flow, |len| len >= cut);
        let large_lost = large_sent - large_received;
        let small_ok = small_received > 0
            && (small_sent - small_received) as f64 <= UDP_SMALL_MAX_LOSS * small_sent as f64;
        let large_lost_enough = large_lost >= UDP_LARGE_MIN_LOST
            && large_lost as f64 >= UDP_LARGE_MIN_LOSS * large_sent as f64;
        (cut >= UDP_MIN_BLACK_HOLE_SIZE && small_ok && large_lost_enough).then(|| SizeCut {
            size: cut,
            largest_passed: flow
                .by_size
                .iter()
                .filter(|(_, _, received)| *received > 0)
                .map(|(len, _, _)| *len)
                .max()
                .unwrap_or(0),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_on_a_stalled_stream() {
        let mut mtu = accepted(5000, 600, 2900);
        mtu.to_client = stream(300, 300, 300, 1, loc(1, 20));
        assert_fires_on(&RULE, tcp(vec![mtu]));
    }

    /// rpc/tls-loss--plain: stunnel sent 102049 bytes to the client in 11 writes, the largest
    /// 16406; the client read 102025 and closed, its poll having timed out once under loss; the
    /// 24 bytes left are the close_notify (proxy.trace:683, `write(3<TCP:[10.92.1.1:7443->
    /// 10.92.1.2:45104]>, "\27\3\3\0\23...", 24) = 24`). A black hole drops full-size
    /// segments and, TCP delivering in order, everything after them: not 24 bytes.
    #[test]
    fn a_short_tail_left_unread_is_no_black_hole() {
        let mut c = accepted(100_751, 100_751, 16_406);
        c.to_client = stream(102_049, 102_025, 16_406, 11, loc(1, 683));
        c.to_client.stats.closed_by_receiver = true;
        c.wait_timed_out_with_data = true;
        assert!(!fired(two_hosts(), tcp(vec![c.clone()])).contains(&"mtu-black-hole"));
        // The same stream with a full-size segment and more missing is one.
        c.to_client.stats.received = 90_000;
        assert_eq!(fired(two_hosts(), tcp(vec![c])), ["mtu-black-hole"]);
    }

    /// java/mtu-black-hole-tcp--jbulk--jsink--record: the Java client writes its 200 kB upload
    /// 1024 bytes at a time, microseconds apart (client.trace.zst:414-420, `write(4<TCPv6:...>,
    /// "jjj"..., 1024) = 1024`); after its 6-byte hello was echoed, none of it arrives.
    #[test]
    fn small_writes_back_to_back_are_full_size_segments() {
        let mut c = accepted(79_222, 6, 1024);
        c.to_server.stats.largest_burst = 79_216;
        c.to_client = stream(6, 6, 6, 1, loc(1, 20));
        c.wait_timed_out_with_data = true;
        assert_eq!(fired(two_hosts(), tcp(vec![c.clone()])), ["mtu-black-hole"]);
        // The same writes spread out (a program pausing between them): segments stay small.
        c.to_server.stats.largest_burst = 1024;
        assert!(!fired(two_hosts(), tcp(vec![c])).contains(&"mtu-black-hole"));
    }

    #[test]
    fn fires_on_lost_large_datagrams() {
        assert_fires_on(&RULE, udp(vec![(200, 10, 10), (1472, 10, 0)]));
    }

    #[test]
    fn fires_on_recorded_mtu_black_hole_tcp_and_mtu_black_hole_udp() {
        assert_recorded_scenarios_report(&RULE, &["mtu-black-hole-tcp", "mtu-black-hole-udp"]);
    }

    #[test]
    fn mtu_black_hole_explains_a_stalled_stream_once() {
        let mut c = accepted(5000, 600, 2900);
        c.to_client = stream(300, 300, 300, 1, loc(1, 20));
        c.wait_timed_out_with_data = true;
        let mut outcome = tcp(vec![c]);
        outcome.deviations.push(deviation(
            DeviationKind::BufferOverrun {
                unreceived: 500_000,
                capacity: 425_984,
            },
            loc(0, 40),
            Some(sock(0, 0)),
        ));
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["mtu-black-hole"]);
        assert!(found[0].summary.contains("4400 of 5000"));
    }

    #[test]
    fn small_sends_or_no_prior_exchange_are_not_mtu() {
        // Largest send below the threshold: plain unreceived data.
        assert_eq!(
            fired(two_hosts(), tcp(vec![accepted(1000, 400, 600)])),
            ["data-unreceived"]
        );
        // Nothing ever got through on the connection: not a size effect.
        assert_eq!(
            fired(two_hosts(), tcp(vec![accepted(3000, 0, 3000)])),
            ["data-unreceived"]
        );
        // The receiver closed without reading: application, not MTU.
        let mut closed = accepted(5000, 600, 2900);
        closed.to_server.stats.closed_by_receiver = true;
        let found = findings(two_hosts(), tcp(vec![closed]));
        assert_eq!(rules_of(&found), ["data-unreceived"]);
        assert!(found[0].facts.iter().any(|f| f.contains("closed")));
    }

    #[test]
    fn udp_mtu_needs_a_clean_split_above_the_minimum_mtu() {
        // Losses starting at 300 bytes cannot be an MTU effect.
        assert_eq!(
            fired(two_hosts(), udp(vec![(100, 10, 10), (300, 10, 0)])),
            ["udp-loss"]
        );
        // Small ones lost too: not a size effect.
        assert_eq!(
            fired(two_hosts(), udp(vec![(100, 10, 5), (1472, 10, 0)])),
            ["udp-loss"]
        );
        // Everything lost: all lost, not MTU.
        assert_eq!(
            fired(two_hosts(), udp(vec![(100, 10, 0), (1472, 10, 0)])),
            ["udp-all-lost"]
        );
        // A clean split at 1400.
        let found = findings(
            two_hosts(),
            udp(vec![
                (100, 30, 30),
                (1000, 5, 5),
                (1400, 6, 0),
                (1472, 4, 0),
            ]),
        );
        assert_eq!(rules_of(&found), ["mtu-black-hole"]);
        assert!(found[0].summary.contains("1400 bytes or more"));
    }

    #[test]
    fn a_receiver_that_waited_in_vain_then_closed_still_fits_mtu() {
        let mut c = accepted(3003, 603, 3000);
        c.to_client = stream(2, 2, 2, 1, loc(1, 20));
        c.to_server.stats.closed_by_receiver = true;
        c.wait_timed_out_with_data = true;
        assert_eq!(fired(two_hosts(), tcp(vec![c])), ["mtu-black-hole"]);
    }
}
