//! `connection-reset`: a connection was reset while both ends were open.

use super::{deviation_evidence, deviations, group_by, sock_or_trace, subject};
use crate::diagnose::claims::Direction;
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "connection-reset",
    class: Class::Network,
    title: "A connection was reset while both ends still had it open",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A receive or send failed with ECONNRESET although, in the replay, neither traced end had closed or
aborted the connection.

## Why it matters
Neither program reset the connection, so something in between did: a firewall or NAT that dropped
its state for the connection (idle timeout) and answers with a reset, an intrusion-prevention
system, or a load balancer.

## Evidence
The call that saw the reset; the facts give the model's view of both ends.

## What to do
Check idle timeouts of NATs, firewalls and load balancers on the path (enable TCP keepalive or
application heartbeats shorter than them), and logs of middleboxes for resets they sent.

Precedence: unreceived bytes on a reset connection are not reported again as `data-unreceived`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let resets = deviations(cx, claims, |k| matches!(k, DeviationKind::ConnectionReset));
    let groups = group_by(resets, |(_, d)| sock_or_trace(d));
    let mut findings = Vec::new();
    for ((trace, sock), group) in groups {
        if let Some((index, _, _)) = sock.and_then(|s| cx.connection_of(s)) {
            for dir in Direction::BOTH {
                claims.claim_stream(index, dir);
            }
        }
        let mut finding = Finding::new(
            &RULE,
            format!(
                "the connection of {} was reset ({} time(s)) while both traced ends still had it \
                 open",
                subject(cx, trace, sock),
                group.len()
            ),
            "check idle timeouts and reset rules of NATs, firewalls and load balancers on the \
             path; enable keepalives shorter than those timeouts",
        )
        .with_evidence(
            group
                .iter()
                .flat_map(|(_, d)| deviation_evidence(d, "connection reset")),
        );
        for (index, d) in &group {
            claims.claim_deviation(*index);
            finding = finding.with_fact(d.detail.clone());
        }
        finding.facts.dedup();
        findings.push(finding);
    }
    findings
}
