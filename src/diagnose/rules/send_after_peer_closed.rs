//! `send-after-peer-closed`: a program wrote into a connection its peer had closed.

use super::{claim_socket_deviations, deviations, explained_by, group_by, sock_or_trace, subject};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;
use crate::order::filtered::hidden_reader;

pub const RULE: Rule = Rule {
    id: "send-after-peer-closed",
    class: Class::Application,
    title: "A program sent into a connection its peer had already closed",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A send or write on a TCP connection whose peer had already closed it: the call failed with EPIPE or
ECONNRESET, or succeeded into a connection that, in the replay, was already closed at the other
end.

## Why it matters
The two programs disagree on the connection's lifetime: typically a client reuses a keep-alive
connection the server has timed out and closed, or a server closes before reading the whole
request. The data sent is lost and the sender sees an error (or SIGPIPE) only afterwards.

## Evidence
The failing or late send, and the peer's close as its counterpart. A `because: ...` fact says why
the finding is an application's doing: the peer program closed first.

## What to do
Make both sides agree on who closes and when (keep-alive timeouts, `Connection: close`), retry
idempotent requests on a fresh connection after EPIPE/ECONNRESET, and read the peer's shutdown
before sending more.

Precedence: the bytes this sender left unreceived are not reported again as `data-unreceived`,
and a reset this socket saw after such a send is part of this finding, not `connection-reset`
(unless the peer closed abortively).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let sends: Vec<_> = deviations(cx, claims, |k| {
        matches!(k, DeviationKind::SendAfterPeerClosed { .. })
    })
    .into_iter()
    // The peer may have read them with calls its filter hid, before it closed:
    // `filtered-trace` says so.
    .filter(|(_, d)| hidden_reader(cx.outcome, cx.parse, d).is_none())
    .collect();
    let groups = group_by(sends, |(_, d)| sock_or_trace(d));
    let mut findings = Vec::new();
    for ((trace, sock), group) in groups {
        if let Some((index, _, is_client)) = sock.and_then(|s| cx.connection_of(s)) {
            let sent_by_this_side = if is_client {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            claims.claim_stream(index, sent_by_this_side);
        }
        if let Some(sock) = sock {
            // The reset that answers a send after the peer's close is part of this finding.
            claim_socket_deviations(cx, claims, sock, |k| *k == DeviationKind::ConnectionReset);
        }
        let errors: Vec<String> = group
            .iter()
            .filter_map(|(_, d)| match d.kind {
                DeviationKind::SendAfterPeerClosed { errno: Some(e) } => Some(e.to_string()),
                _ => None,
            })
            .collect();
        let outcome = if errors.is_empty() {
            "the data was lost".to_string()
        } else {
            format!("failing with {}", dedup_join(errors))
        };
        let finding = RULE.finding(
            format!(
                "{} sent {} time(s) into a connection its peer had already closed, {outcome}",
                subject(cx, trace, sock),
                group.len()
            ),
            "make both ends agree on when the connection closes (keep-alive timeouts), and retry \
             on a fresh connection after EPIPE/ECONNRESET",
        )
        .with_fact(
            "because: the peer program had closed the connection (its close is the counterpart) \
             before this program sent: the two programs disagree on when the connection ends",
        );
        findings.push(explained_by(
            finding,
            &group,
            "send after the peer closed",
            claims,
        ));
    }
    findings
}

fn dedup_join(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_send_after_peer_closed_pattern() {
        assert_fires_on(
            &RULE,
            with_deviation(DeviationKind::SendAfterPeerClosed {
                errno: Some(Errno::EPIPE),
            }),
        );
    }

    #[test]
    fn fires_on_recorded_send_after_peer_closed() {
        assert_recorded_scenarios_report(&RULE, &["send-after-peer-closed"]);
    }

    #[test]
    fn send_after_close_leaves_the_other_direction_reported() {
        let mut c = accepted(120, 0, 120);
        c.to_client = stream(50, 0, 50, 1, loc(1, 22));
        let mut outcome = tcp(vec![c]);
        outcome.deviations.push(deviation(
            DeviationKind::SendAfterPeerClosed {
                errno: Some(Errno::EPIPE),
            },
            loc(0, 20),
            Some(sock(0, 0)),
        ));
        let found = findings(two_hosts(), outcome);
        assert_eq!(
            rules_of(&found),
            ["data-unreceived", "send-after-peer-closed"]
        );
        let unreceived = &found[0];
        assert!(unreceived.summary.contains("server → client"));
    }
}
