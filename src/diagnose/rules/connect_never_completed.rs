//! `connect-never-completed`: a nonblocking connect never seen to complete.

use super::connection_not_accepted::queued_by_a_connect_never_completed;
use super::filtered_trace::end_hidden_by_filter;
use super::{group_by, with_fallback};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};

pub const RULE: Rule = Rule {
    id: "connect-never-completed",
    class: Class::Network,
    title: "A nonblocking connect was never seen to complete",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A nonblocking connect (EINPROGRESS) after which the trace never shows the connection completing:
no successful getsockopt(SO_ERROR), no readiness for writing, no data exchanged. The client's
trace alone shows this, so a target that is the address of no host counts too (a client traced
alone, with no configuration); targets listed under `ignore` are left out, as the user asked.
When other connects of the same trace to the same target failed and an earlier finding reports
them (`connect-filtered`, `connect-refused`...), the abandoned ones are that path too, and are
not reported again.

## Why it matters
The handshake probably never finished: the SYN or its answer was dropped on the way, as a firewall
that drops silently would do. The application may have given up after a timeout of its own without
any error reaching the trace.

## Evidence
The connect call that returned EINPROGRESS. When the program then connected to another address
on the same port that its resolver had weighed with this one (the next address of a name), the
facts and that connect say so: it gave up on this one and recovered.

## What to do
Check whether the target is reachable from the client (`nc -vz TARGET PORT`), and firewalls that
drop rather than reject. If the application abandons connections on purpose (happy eyeballs,
parallel attempts), this finding can be ignored for the losing attempts.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    // The connection such a connect queued on a listener is this fact too.
    for (index, _) in cx
        .outcome
        .tcp
        .iter()
        .enumerate()
        .filter(|(_, c)| c.server.is_none() && queued_by_a_connect_never_completed(cx, c))
    {
        for dir in Direction::BOTH {
            claims.claim_stream(index, dir);
        }
    }
    let pending = cx
        .outcome
        .pending_connects
        .iter()
        .filter(|p| !matcher.is_ignored(p.target))
        // A filter hid how it ended: `filtered-trace` says so.
        .filter(|p| !end_hidden_by_filter(cx, p))
        // Other connects of the trace to the target failed, and a finding says why: one path,
        // one finding (zmq's ETIMEDOUT, then a retry it abandoned).
        .filter(|p| !claims.connect_target(p.sock.trace, p.target));
    let groups = group_by(pending, |p| (p.sock.trace, p.target));
    groups
        .into_iter()
        .map(|((trace, target), group)| {
            let sockets: Vec<String> = group.iter().map(|p| p.sock.to_string()).collect();
            let finding = RULE
                .finding(
                    format!(
                    "{} started {} nonblocking connect(s) to {target} (socket(s) {}) that were \
                     never seen to complete",
                    cx.who(trace),
                    group.len(),
                    sockets.join(", ")
                ),
                    format!(
                        "check that {target} is reachable from this host (nc -vz) and look for \
                     firewalls that silently drop"
                    ),
                )
                .with_evidence(
                    group
                        .iter()
                        .map(|p| Evidence::new(p.loc, "connect in progress, never completed")),
                );
            match group.first() {
                Some(first) => with_fallback(cx, finding, first.loc, target),
                None => finding,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::config::Endpoint;
    use crate::model::ReplayOutcome;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connect_never_completed_pattern() {
        assert_fires_on(
            &RULE,
            ReplayOutcome {
                pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 3))],
                ..ReplayOutcome::default()
            },
        );
    }

    #[test]
    fn fires_on_recorded_nonblocking_connect_never_completes() {
        assert_recorded_scenarios_report(&RULE, &["nonblocking-connect-never-completes"]);
    }

    #[test]
    fn pending_connects_to_ignored_endpoints_are_silent() {
        let mut topology = two_hosts();
        topology.ignores.push(Endpoint {
            ip: ip("10.0.0.2"),
            port: Some(80),
        });
        let outcome = ReplayOutcome {
            pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 3))],
            ..ReplayOutcome::default()
        };
        assert!(fired(topology, outcome).is_empty());
    }

    /// curl traced alone with no configuration (`strace -f -tt -T -s 64`), SYNs to
    /// 10.213.9.2:7395 dropped: `connect(5, {... sin_port=htons(7395),
    /// sin_addr=inet_addr("10.213.9.2")}, 16) = -1 EINPROGRESS`, then polls until curl gave up.
    /// The client's trace alone shows the connect never completed, wherever it went.
    #[test]
    fn pending_connects_to_addresses_of_no_host_are_reported() {
        let outcome = ReplayOutcome {
            pending_connects: vec![pending(sock(0, 0), "10.213.9.2:7395", loc(0, 3))],
            ..ReplayOutcome::default()
        };
        assert_eq!(fired(two_hosts(), outcome), ["connect-never-completed"]);
    }

    /// zmq's first connect to a dropped port timed out (ETIMEDOUT), and the retry it abandoned
    /// is the same path: connect-filtered reports it once (rpc/zmq-drop--plain).
    #[test]
    fn an_abandoned_retry_to_a_target_already_reported_is_not_reported_again() {
        let analysis = recorded("rpc", "zmq-drop--plain");
        assert_eq!(rules_of(&analysis.findings), ["connect-filtered"]);
        assert!(!analysis.outcome.pending_connects.is_empty());
    }
}
