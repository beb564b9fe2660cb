//! `connection-reset`: a connection was reset while both ends were open.

use super::{deviations, explained_by, group_by, sock_or_trace, subject};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;
use crate::source::SockId;

pub const RULE: Rule = Rule {
    id: "connection-reset",
    class: Class::Network,
    title: "A connection was reset while both ends still had it open",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A receive or send failed with ECONNRESET: the connection was reset, which the program saw directly.
A send failing after the peer had closed is `send-after-peer-closed` instead, and so is a reset
that follows such a send on the same socket.

## Why it matters
When, in the replay, neither traced end had closed or aborted the connection, something in between
reset it: a firewall or NAT that dropped its state for the connection (idle timeout) and answers
with a reset, an intrusion-prevention system, or a load balancer. When the peer had closed, the
facts say how: a close with SO_LINGER {1, 0} (an abortive close, which sends a reset on purpose),
or a close with bytes it never read (Linux then resets instead of ending the connection). The
finding keeps this rule's class either way, and its summary and hint say when the reset was the
peer program's own choice.

## Evidence
The call that saw the reset, and the peer's close when there was one.

## What to do
With both ends open: check idle timeouts of NATs, firewalls and load balancers on the path (enable
TCP keepalive or application heartbeats shorter than them), and logs of middleboxes for resets they
sent. After an abortive close: make the peer close gracefully (no SO_LINGER {1, 0}) unless the
protocol wants the reset, and have this side expect it. After a close with unread bytes: make the
peer read the whole request before closing.

Precedence: unreceived bytes on a reset connection are not reported again as `data-unreceived`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let resets = deviations(cx, claims, |k| matches!(k, DeviationKind::ConnectionReset));
    let groups = group_by(resets, |(_, d)| sock_or_trace(d));
    let mut findings = Vec::new();
    for ((trace, sock), group) in groups {
        let aborted_by_peer = group.iter().any(|(_, d)| {
            d.related
                .iter()
                .any(|loc| cx.outcome.abortive_closes.contains(loc))
        });
        if !aborted_by_peer && sock.is_some_and(|s| sent_after_peer_closed(cx, s)) {
            continue; // the reset answers that send: `send-after-peer-closed` reports both
        }
        if let Some((index, _, _)) = sock.and_then(|s| cx.connection_of(s)) {
            for dir in Direction::BOTH {
                claims.claim_stream(index, dir);
            }
        }
        let peer_closed = group.iter().any(|(_, d)| !d.related.is_empty());
        let (summary, hint) = if aborted_by_peer {
            (
                format!(
                    "the connection of {} was reset ({} time(s)): the peer closed it abortively \
                     (SO_LINGER {{1, 0}}), the peer program's own choice",
                    subject(cx, trace, sock),
                    group.len()
                ),
                "make the peer close gracefully (no SO_LINGER {1, 0}) unless the protocol wants \
                 a reset, and handle ECONNRESET on this side",
            )
        } else if peer_closed {
            (
                format!(
                    "the connection of {} was reset ({} time(s)) when its peer closed it",
                    subject(cx, trace, sock),
                    group.len()
                ),
                "make the peer read everything it was sent before closing, and handle \
                 ECONNRESET on this side",
            )
        } else {
            (
                format!(
                    "the connection of {} was reset ({} time(s)) while both traced ends still \
                     had it open",
                    subject(cx, trace, sock),
                    group.len()
                ),
                "check idle timeouts and reset rules of NATs, firewalls and load balancers on \
                 the path; enable keepalives shorter than those timeouts",
            )
        };
        findings.push(explained_by(
            RULE.finding(summary, hint),
            &group,
            "connection reset",
            claims,
        ));
    }
    findings
}

/// Did `sock` send into the connection after its peer had closed it?
fn sent_after_peer_closed(cx: &Context, sock: SockId) -> bool {
    cx.outcome.deviations.iter().any(|d| {
        d.sock == Some(sock) && matches!(d.kind, DeviationKind::SendAfterPeerClosed { .. })
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_connection_reset_pattern() {
        assert_fires_on(&RULE, with_deviation(DeviationKind::ConnectionReset));
    }

    #[test]
    fn fires_on_recorded_connection_reset() {
        assert_recorded_scenarios_report(&RULE, &["connection-reset"]);
    }

    #[test]
    fn reset_and_send_after_close_explain_the_unreceived_bytes() {
        let mut outcome = tcp(vec![accepted(120, 0, 120)]);
        outcome.deviations.push(deviation(
            DeviationKind::ConnectionReset,
            loc(0, 20),
            Some(sock(0, 0)),
        ));
        assert_eq!(fired(two_hosts(), outcome), ["connection-reset"]);

        let mut outcome = tcp(vec![accepted(120, 0, 120)]);
        outcome.deviations.push(deviation(
            DeviationKind::SendAfterPeerClosed { errno: None },
            loc(0, 20),
            Some(sock(0, 0)),
        ));
        assert_eq!(fired(two_hosts(), outcome), ["send-after-peer-closed"]);
    }
}
