//! `udp-loss`: a significant share, but not all, of a flow's datagrams was lost.

use super::{lossy_udp_flows, udp_sender};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};

pub const RULE: Rule = Rule {
    id: "udp-loss",
    class: Class::Network,
    title: "A significant share of the datagrams between two endpoints was lost",
    explanation: EXPLANATION,
    detect,
};

/// Loss below this share of a flow's datagrams is not reported.
pub const MIN_LOSS_RATE: f64 = 0.05;
/// Nor is the loss of a single datagram.
pub const MIN_LOST_DATAGRAMS: u64 = 2;

const EXPLANATION: &str = "\
## What it detects
A UDP flow to an address of a traced host in which some datagrams arrived and some did not, with
at least 5% of the datagrams and at least 2 datagrams lost.

## Why it matters
UDP does not retransmit, so the application sees the loss directly. Partial loss points at
congestion, a rate limit, receive buffers that overflow (the receiver is too slow or its
SO_RCVBUF too small), or a lossy link.

## Evidence
The first datagram of the flow; the summary gives the loss rate.

## What to do
Compare the receiver's drop counters (`netstat -su`: receive buffer errors) with the sender's rate;
raise SO_RCVBUF or read faster if the receiver drops; otherwise look for rate limits and congestion
on the path.

Precedence: flows explained by `mtu-black-hole` or `udp-all-lost` are not reported here.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, flow, sent, received) in lossy_udp_flows(cx, claims) {
        let lost = sent - received;
        let rate = lost as f64 / sent as f64;
        if received == 0 || lost < MIN_LOST_DATAGRAMS || rate < MIN_LOSS_RATE {
            continue;
        }
        super::claim_lossy_flow(cx, claims, index);
        findings.push(
            RULE.finding(
                format!(
                    "{lost} of {sent} UDP datagrams ({:.1}%) sent from {} to {} were lost",
                    rate * 100.0,
                    udp_sender(cx, flow),
                    flow.receiver_addr
                ),
                "compare the receiver's drop counters (netstat -su) with the sending rate; raise \
                 SO_RCVBUF or read faster, or look for rate limits on the path",
            )
            .with_evidence([Evidence::new(flow.first_send, "first datagram of the flow")])
            .with_fact(format!(
                "thresholds: at least {:.0}% and at least {MIN_LOST_DATAGRAMS} datagrams",
                MIN_LOSS_RATE * 100.0
            )),
        );
    }
    findings.extend(round_trip_losses(cx));
    findings
}

/// Seen from one side only: request/reply round trips with a peer no trace shows, some answered
/// and some given up on. Each unanswered round trip lost its request or its reply; which one, only
/// the peer's trace could tell.
fn round_trip_losses<'c>(cx: &'c Context<'c>) -> impl Iterator<Item = Finding> + 'c {
    cx.outcome
        .unanswered_requests
        .iter()
        .filter(|u| u.udp && u.answered > 0 && !u.peer_traced)
        .filter_map(|u| {
            let trips = u64::from(u.answered) + u64::from(u.unanswered);
            let lost = u64::from(u.unanswered);
            let rate = lost as f64 / trips as f64;
            if lost < MIN_LOST_DATAGRAMS || rate < MIN_LOSS_RATE {
                return None;
            }
            let finding = RULE
                .finding(
                    format!(
                        "{}: {lost} of {trips} UDP round trips with {} ({:.1}%) got no answer; \
                         the request or the answer was lost (the peer was not traced, so which \
                         one cannot be told)",
                        cx.who(u.sock.trace),
                        u.peer,
                        rate * 100.0
                    ),
                    "trace the peer to tell lost requests from lost answers; then look for rate \
                     limits or a lossy link on that way",
                )
                .with_evidence([
                    Evidence::new(u.request, "first request without an answer"),
                    Evidence::new(u.gave_up, "waited for the answer in vain"),
                ])
                .with_fact(format!(
                    "thresholds: at least {:.0}% and at least {MIN_LOST_DATAGRAMS} round trips",
                    MIN_LOSS_RATE * 100.0
                ));
            Some(finding)
        })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, ReplayOutcome, UnansweredRequests};
    use crate::pipeline::Analysis;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_udp_loss_pattern() {
        assert_fires_on(&RULE, udp(vec![(100, 20, 17)]));
    }

    #[test]
    fn fires_on_recorded_udp_partial_loss() {
        assert_recorded_scenarios_report(&RULE, &["udp-partial-loss"]);
    }

    #[test]
    fn udp_loss_thresholds() {
        // 1 of 20 lost: below the 2-datagram minimum.
        assert!(fired(two_hosts(), udp(vec![(100, 20, 19)])).is_empty());
        // 4 of 100 lost: below 5%.
        assert!(fired(two_hosts(), udp(vec![(100, 100, 96)])).is_empty());
        // 5 of 100: exactly 5%.
        let found = findings(two_hosts(), udp(vec![(100, 100, 95)]));
        assert_eq!(rules_of(&found), ["udp-loss"]);
        assert!(found[0].summary.contains("5.0%"));
    }

    #[test]
    fn udp_loss_explains_the_receivers_waits_that_timed_out() {
        let mut outcome = udp(vec![(100, 20, 13)]);
        outcome.deviations = vec![
            deviation(DeviationKind::PollMissedData, loc(1, 30), Some(sock(1, 0))),
            deviation(DeviationKind::PollMissedData, loc(1, 31), Some(sock(1, 7))),
        ];
        let analysis = Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome);
        assert_eq!(rules_of(&analysis.findings), ["udp-loss"]);
        // The wait on the flow's receiver is explained; one on an unrelated socket is not.
        assert_eq!(analysis.unexplained, vec![1]);
    }

    #[test]
    fn round_trips_with_an_unobserved_peer_are_judged_from_one_side() {
        let outcome = ReplayOutcome {
            unanswered_requests: vec![UnansweredRequests {
                sock: sock(0, 0),
                peer: addr("10.0.0.2:7101"),
                udp: true,
                answered: 14,
                unanswered: 6,
                unanswered_named: 6,
                peer_traced: false,
                request: loc(0, 40),
                gave_up: loc(0, 41),
                ended_by_peer: false,
                peer_close: None,
                undrained: false,
                nothing_bound: false,
            }],
            ..ReplayOutcome::default()
        };
        let found = findings(two_hosts(), outcome.clone());
        assert_eq!(rules_of(&found), ["udp-loss"]);
        assert!(found[0].summary.contains("6 of 20"), "{}", found[0].summary);
        let mut one_lost = outcome;
        one_lost.unanswered_requests[0].unanswered = 1;
        assert!(fired(two_hosts(), one_lost).is_empty());
    }

    #[test]
    fn datagrams_to_addresses_of_no_host_are_not_judged() {
        let mut outcome = udp(vec![(100, 4, 0)]);
        outcome.udp[0].receiver_addr = addr("198.51.100.9:53");
        assert!(fired(two_hosts(), outcome).is_empty());
    }
}
