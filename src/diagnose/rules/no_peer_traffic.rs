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
connection and no datagram flow has a traced socket at the other end. Runs with a single trace,
and traces whose only traffic went to traced hosts' addresses (a refused connect, say, which
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

Broadcast destinations are not unknown addresses. Precedence: when, besides, a traced server
accepted connections from addresses of no host while a private-address client dialled an address
of no host (positive evidence of a NAT), `nat-undeclared` reports it instead.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    if cx.topology.traces.len() < 2 {
        return Vec::new();
    }
    let isolated: Vec<_> = cx
        .outcome
        .activity
        .iter()
        .filter(|a| a.socket_calls > 0 && a.peer_links == 0 && !a.unknown_peers.is_empty())
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
