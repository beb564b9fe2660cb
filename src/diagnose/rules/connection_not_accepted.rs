//! `connection-not-accepted`: a connect succeeded to a traced listener that never accepted it.

use super::group_by;
use crate::diagnose::claims::Direction;
use crate::diagnose::context::addr_or_unknown;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, TcpConnection};

pub const RULE: Rule = Rule {
    id: "connection-not-accepted",
    class: Class::Network,
    title: "A connect succeeded to a traced listener that never accepted the connection",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connect that succeeded, matched to a traced listening socket, which never returned the
connection from accept before the traces ended.

## Why it matters
The client believes it is connected, but the server never saw the connection. Either the
connection reached some other machine answering at the same address (a NAT, proxy or load balancer
that completed the handshake itself), or the server stopped accepting (overload, a full backlog, a
single-client server busy with another client).

## Evidence
The connects that were never accepted. The facts name the listener they were matched to.

## What to do
Check whether the listener's host is really the one the client reaches (NAT, proxy, duplicate
address), and whether the server keeps calling accept (thread pool size, connection limits).

Precedence: a connect never seen to complete (its SYNs dropped) is `connect-never-completed`,
not a connection the listener failed to accept; one whose result was an error in the end
(refused, timed out) made no connection, and the connect rules report it. When `nat-undeclared` or `port-forwarding` explain accepts from unexpected peers on
the same listener, they take these connects too. The bytes sent on such a connection are not
reported again as `data-unreceived`.
";

/// Whether the connect that queued `c` failed in the end (a nonblocking connect whose result,
/// read with `SO_ERROR` or a second `connect`, was an error): the handshake never completed, so
/// there was no connection to accept, and the failure is the connect rules' to report.
fn ended_by_a_failed_connect(cx: &Context, c: &TcpConnection) -> bool {
    cx.outcome.deviations.iter().any(|d| {
        d.sock == Some(c.client)
            && matches!(d.kind, DeviationKind::ConnectFailed { .. })
            && (d.loc.file, d.loc.line) > (c.connect_loc.file, c.connect_loc.line)
    })
}

/// Whether the connect that queued `c` is one the replay never saw complete.
pub(super) fn queued_by_a_connect_never_completed(cx: &Context, c: &TcpConnection) -> bool {
    cx.outcome
        .pending_connects
        .iter()
        .any(|p| p.sock == c.client && p.loc == c.connect_loc)
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let unaccepted = cx
        .outcome
        .tcp
        .iter()
        .enumerate()
        .filter(|(i, c)| c.server.is_none() && !claims.stream(*i, Direction::ToServer))
        // A connect never seen to complete never made a connection to accept: that is
        // `connect-never-completed`'s fact (dropped SYNs), reported once.
        .filter(|(_, c)| !queued_by_a_connect_never_completed(cx, c))
        .filter(|(_, c)| !ended_by_a_failed_connect(cx, c))
        .filter_map(|(i, c)| c.listener.map(|l| (i, c, l)));
    let groups = group_by(unaccepted, |(_, c, listener)| (*listener, c.client.trace));
    let mut findings = Vec::new();
    for ((listener, client_trace), group) in groups {
        let target = addr_or_unknown(group.first().and_then(|(_, c, _)| c.client_view.1));
        for (index, _, _) in &group {
            for dir in Direction::BOTH {
                claims.claim_stream(*index, dir);
            }
        }
        let unsent: u64 = group.iter().map(|(_, c, _)| c.to_server.stats.sent).sum();
        let mut finding = RULE
            .finding(
                format!(
                    "{} connected {} time(s) to {target}, matched to listening {}, which never \
                 accepted the connection(s)",
                    cx.who(client_trace),
                    group.len(),
                    cx.sock(listener)
                ),
                "check that the client really reaches this server (NAT, proxy, duplicate address) \
             and that the server keeps accepting (backlog, connection limit, busy worker)",
            )
            .with_evidence(
                group
                    .iter()
                    .map(|(_, c, _)| Evidence::new(c.connect_loc, "connect never accepted")),
            );
        if unsent > 0 {
            finding = finding.with_fact(format!(
                "{unsent} byte(s) were sent on these connections and never received"
            ));
        }
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// apps/ha-backends-stopped-first, haproxy.trace:784 and :787: a health check's nonblocking
    /// connect, queued at nginx's listener in the replay, then read back as ECONNREFUSED.
    #[test]
    fn a_connect_refused_in_the_end_made_no_connection_to_accept() {
        let mut queued = accepted(0, 0, 0);
        queued.server = None;
        queued.accept_loc = None;
        queued.connect_loc = loc(0, 784);
        let mut outcome = tcp(vec![queued]);
        let refused = DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            target: addr("10.0.0.2:80"),
            listener: Some(sock(1, 0)),
        };
        outcome
            .deviations
            .push(deviation(refused, loc(0, 787), Some(sock(0, 0))));
        assert!(!fired(two_hosts(), outcome).contains(&RULE.id));
    }

    #[test]
    fn fires_alone_on_a_connection_not_accepted_pattern() {
        let mut unaccepted = accepted(0, 0, 0);
        unaccepted.server = None;
        unaccepted.accept_loc = None;
        assert_fires_on(&RULE, tcp(vec![unaccepted]));
    }

    #[test]
    fn fires_on_recorded_listen_never_accepts() {
        assert_recorded_scenarios_report(&RULE, &["listen-never-accepts"]);
    }

    /// apps/ha-backend-firewalled/haproxy.trace:593: HAProxy's health check to a firewalled
    /// backend starts a nonblocking connect (queued on the traced listener) that never
    /// completes: one fact, reported once, as connect-never-completed.
    #[test]
    fn a_connect_never_completed_is_not_also_a_connection_not_accepted() {
        use crate::model::ReplayOutcome;
        use crate::testkit::fixtures::{loc, pending, sock};
        let mut dropped = accepted(0, 0, 0);
        dropped.server = None;
        dropped.accept_loc = None;
        let outcome = ReplayOutcome {
            pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 5))],
            ..tcp(vec![dropped])
        };
        assert_eq!(fired(two_hosts(), outcome), ["connect-never-completed"]);
    }

    #[test]
    fn unaccepted_connections_do_not_also_report_unreceived_data() {
        let mut c = accepted(300, 0, 300);
        c.server = None;
        c.accept_loc = None;
        let found = findings(two_hosts(), tcp(vec![c]));
        assert_eq!(rules_of(&found), ["connection-not-accepted"]);
        assert!(found[0].facts.iter().any(|f| f.contains("300 byte")));
    }
}
