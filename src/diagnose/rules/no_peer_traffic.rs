//! `no-peer-traffic`: a trace is active on the network but reaches no other traced host.

use super::calls_toward;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};

pub const RULE: Rule = Rule {
    id: "no-peer-traffic",
    class: Class::Network,
    title: "A trace has network activity but none of it reaches another traced host",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A trace that talks to addresses of no traced host and never to a socket of another trace: no
connection and no datagram flow has a traced socket at the other end, and it never addressed a
host declared without a trace either. Runs with a single trace are left out unless the
configuration declares other hosts without a trace (then talking only to undeclared addresses is
as telling as with every host traced); traces whose only traffic went to traced hosts' addresses (a refused connect, say, which
other rules report), are left out.

## Why it matters
The hosts were expected to talk to each other and did not, at least not directly. The traffic may
go through a proxy or relay, or reach the peer under an address the configuration does not list
(an undeclared NAT), or the host talks to the wrong server altogether.

## Evidence
The connects and sends of the trace that go to addresses of no traced host.

## What to do
Check which addresses the trace talks to (facts) and whether they are a proxy, a NAT's public
address, or a wrong server name; declare the missing addresses or NATs in the configuration.

Broadcast destinations are not unknown addresses. A trace that received datagrams from hosts
without an address yet (source 0.0.0.0: a DHCP server's clients) is left out: the addresses it
answered are the ones it handed out. Precedence: when, besides, a traced server
accepted connections from addresses of no host while a private-address client dialled an address
of no host (positive evidence of a NAT), `nat-undeclared` reports it instead.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    // One trace alone is isolated only against hosts declared without a trace.
    if cx.topology.traces.len() < 2 && !cx.matcher().has_unobserved_host() {
        return Vec::new();
    }
    let isolated: Vec<_> = cx
        .outcome
        .activity
        .iter()
        .filter(|a| a.socket_calls > 0 && a.peer_links == 0 && a.unobserved_peer_contacts == 0)
        // A host without an address asked it (a DHCP server's clients): the unknown addresses
        // it answered are the ones it gave them.
        .filter(|a| a.addressless_peer_contacts == 0)
        .filter(|a| !a.unknown_peers.is_empty())
        .filter_map(|a| a.trace.map(|t| (t, a)))
        .filter(|(t, _)| !claims.trace(*t))
        .collect();
    isolated
        .into_iter()
        .map(|(trace, activity)| {
            claims.claim_trace(trace);
            let peers: Vec<String> = activity
                .unknown_peers
                .iter()
                .map(|a| a.to_string())
                .collect();
            let talks_to = format!("; it talks to {}", peers.join(", "));
            RULE.finding(
                format!(
                    "{} made {} socket call(s) but none reached another traced host{talks_to}",
                    cx.who(trace),
                    activity.socket_calls
                ),
                "check whether these addresses are a proxy, a NAT's public address or a wrong \
                 server, and declare missing addresses or NATs in the configuration",
            )
            .with_evidence(calls_toward(cx, trace, activity))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::ReplayOutcome;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_no_peer_traffic_pattern() {
        assert_fires_alone(
            &RULE,
            topology(&[
                ("client", &["10.0.0.1"]),
                ("server", &["10.0.0.2"]),
                ("other", &["10.0.0.3"]),
            ]),
            ReplayOutcome {
                activity: vec![
                    activity(0, 10, 1, &[]),
                    activity(1, 10, 1, &[]),
                    activity(2, 6, 0, &["198.51.100.1:3128"]),
                ],
                ..ReplayOutcome::default()
            },
            none(),
        );
    }

    #[test]
    fn fires_on_recorded_wrong_server_address() {
        assert_recorded_scenarios_report(&RULE, &["wrong-server-address"]);
    }

    #[test]
    fn talking_to_strangers_without_an_accepting_server_is_isolation_not_nat() {
        // Every trace dials addresses of no host, but no traced server saw a stranger: a wrong
        // server address looks exactly like this, so there is no evidence of a NAT.
        let outcome = ReplayOutcome {
            activity: vec![
                activity(0, 10, 0, &["198.51.100.1:80"]),
                activity(1, 10, 0, &["198.51.100.2:80"]),
            ],
            ..ReplayOutcome::default()
        };
        assert_eq!(fired(two_hosts(), outcome), ["no-peer-traffic"]);
    }

    #[test]
    fn a_single_trace_is_never_isolated() {
        let outcome = ReplayOutcome {
            activity: vec![activity(0, 10, 0, &[])],
            ..ReplayOutcome::default()
        };
        assert!(fired(topology(&[("solo", &["10.0.0.1"])]), outcome).is_empty());
    }

    #[test]
    fn isolation_needs_traffic_to_strangers() {
        // A refused connect to a traced host is not "talking to nobody".
        let mut outcome = connect_failed(Errno::ECONNREFUSED, false);
        outcome.activity = vec![activity(0, 2, 0, &[]), activity(1, 0, 0, &[])];
        assert_eq!(fired(two_hosts(), outcome), ["connect-refused"]);
    }
}
