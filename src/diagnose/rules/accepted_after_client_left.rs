//! `accepted-after-client-left`: a server starting up accepted connections whose clients had
//! already given up on them, and served its clients after that: start-up lag, not a fault.

use super::network_stall::MIN_RTO;
use super::{claim_socket_deviations, group_by};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, TcpConnection};
use crate::source::SockId;

pub const RULE: Rule = Rule {
    id: "accepted-after-client-left",
    class: Class::Info,
    title: "A server starting up accepted connections its clients had already given up on",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A connection the server accepted only after its client had closed it, at a time when the server
had not yet answered any connection of that listener: the server listened (so the kernel
completed the handshake and queued the connection) but its program was still starting, and took
the connection from the queue only after the client's own timeout. Both conditions on the server
are read in the server's own trace, in its own order. What the server then sent
went into a closed connection. The client must have waited before closing: it held the
connection at least 0.2 s (Linux's minimum retransmission timeout, the least a program waiting
for a network answer gives it); a client that closes right after sending did not wait for an
answer, and the other rules report what it lost. Members of a cluster starting together (etcd
probing its peers with a one-second timeout) do this on every start.

## Why it matters
The client's request timed out, but only because the server was still starting; the clients
retry, and the listener serves connections afterwards. Reported as information so that a run
recorded from start-up does not read as a failure. A connection that waited in the queue while
the server was busy with others is not this: that is the server's capacity (`admission-limit`).

## Evidence
The client's connect and close, and the server's accept.

## What to do
Nothing unless start-up takes too long: have the clients wait for their server to be ready
(readiness checks, `systemd` ordering), or give the first requests a longer timeout.

Precedence: runs before the send and reset rules, and claims the late answers it explains.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let late: Vec<(usize, &TcpConnection)> = cx
        .outcome
        .tcp
        .iter()
        .enumerate()
        .filter(|(_, c)| gave_up_waiting(c))
        // The client's close came first only if nothing of the answer reached it.
        .filter(|(_, c)| c.server.is_some() && c.to_client.stats.received == 0)
        .collect();
    let groups = group_by(late, |(_, c)| c.listener);
    let mut findings = Vec::new();
    for (listener, group) in groups {
        let server_trace = group.iter().find_map(|(_, c)| c.server).map(|s| s.trace);
        let Some(server_trace) = server_trace else {
            continue;
        };
        let listener_name = listener.map_or_else(|| "its listener".to_string(), |l| l.to_string());
        let mut finding = RULE
            .finding(
                format!(
                    "{} accepted {} connection(s) on {listener_name} only after their clients had \
                     given up on them, before it had answered any connection there (start-up)",
                    cx.who(server_trace),
                    group.len()
                ),
                "nothing to fix unless start-up is slow: make clients wait for the server to be \
                 ready, or give first requests a longer timeout",
            )
            .with_fact(
                "because: the server had answered no connection of this listener yet when it \
                 accepted these, and each client had waited and closed before the accept",
            );
        for (index, c) in &group {
            for dir in Direction::BOTH {
                claims.claim_stream(*index, dir);
            }
            let evidence = [
                Some(Evidence::new(c.connect_loc, "connect")),
                c.accept_loc
                    .map(|l| Evidence::new(l, "accepted after the client closed")),
            ];
            finding = finding.with_evidence(evidence.into_iter().flatten());
            for sock in [Some(c.client), c.server].into_iter().flatten() {
                claim_failures_of(cx, claims, sock);
            }
        }
        findings.push(finding);
    }
    findings
}

/// The client waited for its server before it closed: it held the connection at least as long
/// as Linux waits before a first retransmission ([`MIN_RTO`]). A client that closes sooner
/// did not wait for an answer at all: it closed right after sending, which is its own doing.
fn gave_up_waiting(c: &TcpConnection) -> bool {
    c.late_accept.is_some_and(|late| late.while_starting)
        && c.client_held.is_some_and(|held| held >= MIN_RTO)
}

fn claim_failures_of(cx: &Context, claims: &mut Claims, sock: SockId) {
    claim_socket_deviations(cx, claims, sock, |k| {
        matches!(
            k,
            DeviationKind::ConnectionReset | DeviationKind::SendAfterPeerClosed { .. }
        )
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, LateAccept, ReplayOutcome};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// A connection the server (B) accepted after its client closed it, the server's answer
    /// sent into the closed connection.
    fn accepted_late(while_starting: bool, client_held: f64) -> ReplayOutcome {
        let mut c = accepted(103, 103, 103);
        c.to_client = stream(381, 0, 381, 1, loc(1, 291));
        c.late_accept = Some(LateAccept { while_starting });
        c.client_held = Some(client_held);
        let mut outcome = tcp(vec![c]);
        let mut send = deviation(
            DeviationKind::SendAfterPeerClosed { errno: None },
            loc(1, 291),
            Some(sock(1, 1)),
        );
        send.related = vec![loc(0, 223)];
        outcome.deviations.push(send);
        outcome
    }

    /// apps/etcd-healthy: e2 asks e3 for its members with a one-second timeout
    /// (e2.trace:161–223, 0.997 s); e3, still starting, accepts it after (e3.trace:281).
    #[test]
    fn fires_alone_on_a_client_that_gave_up_before_the_first_accept() {
        assert_fires_on(&RULE, accepted_late(true, 0.997));
    }

    /// lab/send-after-peer-closed: the client closes 20 ms after connecting, without waiting
    /// for an answer.
    #[test]
    fn a_client_that_closed_at_once_did_not_wait() {
        assert_eq!(
            fired(two_hosts(), accepted_late(true, 0.020)),
            ["send-after-peer-closed"]
        );
    }

    /// A server busy with other connections is not starting up: it is at its limit
    /// (apps/apache-backlog-give-up: Apache's one worker serves client1's download, then
    /// accepts client2, which gave up 0.46 s before).
    #[test]
    fn a_busy_server_is_not_starting_up() {
        assert_eq!(
            fired(two_hosts(), accepted_late(false, 0.997)),
            ["admission-limit"]
        );
    }

    #[test]
    fn fires_on_a_recorded_etcd_cluster_start() {
        let analysis = recorded("apps", "etcd-healthy");
        assert!(analysis.findings.iter().any(|f| f.rule == RULE.id));
    }
}
