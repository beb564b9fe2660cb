//! `udp-all-lost`: every datagram from one endpoint to another was lost.

use super::{lossy_udp_flows, udp_sender};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};

pub const RULE: Rule = Rule {
    id: "udp-all-lost",
    class: Class::Network,
    title: "Every datagram sent from one endpoint to another was lost",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A UDP flow (one sending socket to one destination address that belongs to a traced host) in which
not a single datagram was received by a traced socket.

## Why it matters
Nothing got through, so this is not congestion: the destination is unreachable for UDP. A firewall
dropping the port, a NAT without a mapping for the reply direction, a wrong destination address, or
a receiver bound to another address or port are the usual causes.

## Evidence
The first datagram of the flow; the facts give the counts.

## What to do
Check that the receiver is bound to the destination address and port (`ss -lunp`), firewall rules
for the UDP port in both directions, and NAT mappings for replies.

Precedence: flows explained by `mtu-black-hole` are not reported here, nor flows whose sender was
refused by the destination's host (ECONNREFUSED on a connected socket: the datagrams arrived and
found nothing bound; `connect-refused` reports that), nor flows turned back on the way (EHOSTUNREACH or
ENETUNREACH on a connected socket, or a send without a route: `connect-filtered`), nor flows addressed
to a traced socket connected to another address than their source (Linux discards them on
arrival; `no-reply` reports the answer the requester never got), nor flows to a port no socket
of the traced destination host ever had, bound or as its own source (the datagrams found
nothing there and drew ICMP port unreachable, which an unconnected sender never sees; `no-reply`
reports the requests nobody could answer).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, flow, sent, received) in lossy_udp_flows(cx, claims) {
        if received > 0 {
            continue;
        }
        super::claim_lossy_flow(cx, claims, index);
        let receivers = if flow.receivers.is_empty() {
            "no traced socket received anything at that address".to_string()
        } else {
            let names: Vec<String> = flow.receivers.iter().map(|r| r.to_string()).collect();
            format!("receiving socket(s): {}", names.join(", "))
        };
        findings.push(
            RULE.finding(
                format!(
                    "all {sent} UDP datagram(s) sent from {} to {} were lost",
                    udp_sender(cx, flow),
                    flow.receiver_addr
                ),
                format!(
                    "check that a receiver is bound to {} (ss -lunp) and that firewalls and NATs \
                     let this UDP port through in both directions",
                    flow.receiver_addr
                ),
            )
            .with_evidence([Evidence::new(flow.first_send, "first datagram of the flow")])
            .with_fact(receivers),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_udp_all_lost_pattern() {
        assert_fires_on(&RULE, udp(vec![(100, 4, 0)]));
    }

    /// dig's UDP queries to a named listening on 127.0.0.1 only: each receive fails with
    /// ECONNREFUSED (the ICMP port unreachable of the server's host). The datagrams arrived and
    /// found nothing bound at that address (named's socket is bound to loopback): a refusal,
    /// not a loss.
    #[test]
    fn datagrams_refused_by_their_destination_are_not_lost() {
        let analysis = recorded("apps", "named-listen-localhost");
        let fired = rules_of(&analysis.findings);
        assert!(!fired.contains(&"udp-all-lost"), "{fired:?}");
        assert!(fired.contains(&"loopback-bound-external-peer"), "{fired:?}");
    }

    #[test]
    fn fires_on_recorded_udp_all_lost() {
        assert_recorded_scenarios_report(&RULE, &["udp-all-lost"]);
    }
}
