//! `client-finished`: a client exited successfully with its connection open, and its server's
//! reset or late sends followed: the client was done, nothing it needed was lost.

use super::{connection_failures, explained_connection_failures, group_by, sock_or_trace, subject};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::fold::ProgramContext;

pub const RULE: Rule = Rule {
    id: "client-finished",
    class: Class::Info,
    title:
        "A client exited successfully with its connection open; its server's sends were not needed",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A server-side socket that saw a reset, or sent into the connection after its client had closed,
where the client had received an answer on the connection and its end closed as the client
program finished: it exited with status 0 while it still held the connection, or closed it as
its last act before exiting with status 0 (mosquitto_sub after its one message). Leaving a
connection to the kernel at exit is common (command-line clients such as etcdctl, redis-cli or
curl with HTTP/2): bytes the server sends after, or that arrive unread, make Linux answer with a
reset.

## Why it matters
The client received an answer and reported success, so it had what it came for; what the server sent afterwards (a
protocol's closing frames, window updates, keep-alive pings) was not needed. The server sees
ECONNRESET or EPIPE, which a server handles as a client going away. Reported as information so
that a healthy run does not read as a failure. When the client exits with an error or
before receiving anything (it did not wait for the answer), or the server is the one that closed with bytes unread (the client then sees the reset), the other
rules report it (`connection-reset`, `send-after-peer-closed`, `data-unreceived`).

## Evidence
The server's failing or late call, and the client's exit.

## What to do
Nothing. If the server logs these as errors, treat ECONNRESET and EPIPE from a departed client
as routine; a client can avoid them by closing the connection (or sending the protocol's goodbye)
before it exits.

Precedence: runs before the reset and send rules, and claims what it explains.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    // The client received an answer: what it left unread or never got came after it.
    let failures = connection_failures(cx, claims, |c, is_client| {
        !is_client
            && c.ends.client == Some(ProgramContext::Finished)
            && c.to_client.stats.received > 0
    });
    let groups = group_by(failures, |f| sock_or_trace(f.deviation));
    let mut findings = Vec::new();
    for ((trace, sock), group) in groups {
        let finding = RULE
            .finding(
                format!(
                    "{} saw its client finish and exit successfully; the server's {} later \
                     reset(s) or send(s) were not needed",
                    subject(cx, trace, sock),
                    group.len()
                ),
                "nothing to fix: handle ECONNRESET/EPIPE from a departed client as routine; the \
                 client can close its connection before it exits",
            )
            .with_fact(
                "because: the client program exited with status 0 holding the connection, or \
                 right after closing it: it had what it needed",
            );
        findings.push(explained_connection_failures(
            cx,
            claims,
            finding,
            &group,
            "after the client exited",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::fold::ProgramContext;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// The server (B1) sends after its client exited with status 0; the client had received
    /// `received` bytes of answer.
    fn server_sends_after_client_exit(received: u64) -> ReplayOutcome {
        let mut c = accepted(50, 50, 50);
        c.to_client = stream(80, received, 60, 2, loc(1, 20));
        c.ends.client = Some(ProgramContext::Finished);
        let mut outcome = tcp(vec![c]);
        let mut send = deviation(
            DeviationKind::SendAfterPeerClosed {
                errno: Some(Errno::EPIPE),
            },
            loc(1, 30),
            Some(sock(1, 1)),
        );
        send.related = vec![loc(0, 108)];
        outcome.deviations.push(send);
        outcome
    }

    #[test]
    fn fires_alone_on_late_sends_to_a_client_that_finished() {
        assert_fires_on(&RULE, server_sends_after_client_exit(60));
    }

    /// lab/send-after-peer-closed--socat--python: `socat -u` sends its request and exits 0
    /// without reading: it never had an answer, and the lost answer is the fault.
    #[test]
    fn a_client_that_received_nothing_did_not_finish_its_exchange() {
        assert_eq!(
            fired(two_hosts(), server_sends_after_client_exit(0)),
            ["send-after-peer-closed"]
        );
    }

    #[test]
    fn a_client_that_exited_with_an_error_keeps_the_finding() {
        let mut outcome = server_sends_after_client_exit(60);
        outcome.tcp[0].ends.client = Some(ProgramContext::Running);
        assert_eq!(fired(two_hosts(), outcome), ["send-after-peer-closed"]);
    }

    /// apps/etcd-healthy: etcdctl get exits 0 (get.trace:108) while e3 still sends an HTTP/2
    /// frame (e3.trace:780).
    #[test]
    fn fires_on_a_recorded_etcdctl_exit() {
        let analysis = recorded("apps", "etcd-healthy");
        assert!(analysis
            .findings
            .iter()
            .any(|f| f.rule == RULE.id
                && f.evidence.iter().any(|e| e.call.contains("exited with 0"))));
    }

    /// apps/mqtt-subscriber-done: mosquitto_sub closes its connection and exits 0 while the
    /// broker still has messages for it; the broker's next write fails with EPIPE.
    #[test]
    fn fires_on_a_recorded_subscriber_that_closed_and_exited() {
        let analysis = recorded("apps", "mqtt-subscriber-done");
        let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [RULE.id], "{rules:?}");
    }
}
