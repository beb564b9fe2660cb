//! `connection-reset`: a connection was reset while both ends were open.

use super::{
    deviations, ends_share_a_clock, explained_by, group_by, only_closing_message_unread,
    sock_or_trace, subject,
};
use crate::diagnose::claims::Direction;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::{DeviationKind, TcpConnection};
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
Or a readiness wait (poll, select, epoll) reported an error (POLLERR) on a connection whose peer
had closed with bytes it never read, or abortively, and the program never saw the reset in a call
(nc, for one, polls and never reads again).
A send failing after the peer had closed is `send-after-peer-closed` instead, and so is a reset
that follows such a send on the same socket, unless the peer's close was abortive: then the
reset is that close, whichever call (a send or a receive) saw it first.

## Why it matters
When, in the replay, neither traced end had closed or aborted the connection, something in between
reset it: a firewall or NAT that dropped its state for the connection (idle timeout) and answers
with a reset, an intrusion-prevention system, or a load balancer (class network). When the peer
had closed, the cause lies with the peer program: a close with bytes it never read (Linux then
resets instead of ending the connection; class application), or a close with SO_LINGER {1, 0},
an abortive close that sends a reset on purpose. Such a deliberate abort (health checkers such as
HAProxy's close every check this way) is class info when the exchange was complete (nothing
unreceived either way, and the client's request, if any, answered): the closer's choice,
no fault of the network. It is class application when the abort cut the exchange short (bytes
unreceived, or the client's request went unanswered: the client aborted before the answer, or
the server aborted instead of answering). A server whose process was killed while running
(SIGKILL, a crash) left what the client sent unread by its death: its kernel closed the socket
and answered with a reset (class application, the facts say the peer was killed).
A close that left only this side's last short message unread (at most 512 bytes, after the peer
had read everything before it and everything the peer sent was received, both ends closed) is
class info: the exchange was complete, and a protocol's goodbye (the TLS close_notify a tunnel
sends as its backend ends) crossed the peer's close. Not when that message was sent more than
half a second (the clock margin between hosts) after the peer's close, when the two clocks
compare, nor when the peer was killed: a request to a peer gone is no goodbye.
When the peer is not traced, these causes cannot be told apart: the finding is ambiguous and
says so. The finding's facts say which cause applied (`because: ...`).

## Evidence
The call that saw the reset, and the peer's close when there was one.

## What to do
With both ends open: check idle timeouts of NATs, firewalls and load balancers on the path (enable
TCP keepalive or application heartbeats shorter than them), and logs of middleboxes for resets they
sent. After an abortive close: make the peer close gracefully (no SO_LINGER {1, 0}) unless the
protocol wants the reset, and have this side expect it. After a close with unread bytes: make the
peer read the whole request before closing.

Precedence: unreceived bytes on a reset connection are not reported again as `data-unreceived`,
and sends that failed (EPIPE) after the socket reported the reset are part of this finding, not
`send-after-peer-closed`: Linux answers every send on a reset connection so.
";

/// What caused a reset, as far as the peer's side of the replay tells; it sets the finding's
/// class.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cause {
    /// The peer closed with SO_LINGER {1, 0} after the exchange was complete: every byte sent
    /// either way was received, and its request, if it sent one, had an answer.
    DeliberateAbortAfterExchange,
    /// The peer closed with SO_LINGER {1, 0} with bytes unreceived, or before this side
    /// answered what it had sent.
    DeliberateAbortMidExchange,
    /// The peer closed with bytes it never read (Linux then resets).
    PeerClosedUnread,
    /// The server's process was killed while running (SIGKILL, a crash) with this client's
    /// bytes unread, or before they came: its kernel answered them with a reset.
    PeerKilledUnread,
    /// The peer closed after a complete exchange with only this side's last short message
    /// unread (see [`only_closing_message_unread`]): a goodbye crossed its close.
    ClosingMessageUnread,
    /// Neither traced end had closed: something in between reset it.
    BothEndsOpen,
    /// The peer is not traced (or its connection is not modelled): who reset cannot be told.
    PeerUnseen,
}

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
        let first_reset = group.first().map_or(usize::MAX, |(i, _)| *i);
        if !aborted_by_peer && sock.is_some_and(|s| sent_after_peer_closed(cx, s, first_reset)) {
            continue; // the reset answers that send: `send-after-peer-closed` reports both
        }
        if let Some(sock) = sock {
            // After a reset Linux answers every send with EPIPE: sends that failed after the
            // socket reported the reset are its consequence, part of this finding
            // (`capi/linger0`: recv ECONNRESET, then send EPIPE).
            for (i, d) in cx.outcome.deviations.iter().enumerate().skip(first_reset) {
                let failed_send = matches!(
                    d.kind,
                    DeviationKind::SendAfterPeerClosed { errno: Some(_) }
                );
                if d.sock == Some(sock) && failed_send {
                    claims.claim_deviation(i);
                }
            }
        }
        let connection = sock.and_then(|s| cx.connection_of(s));
        if let Some((index, _, _)) = connection {
            for dir in Direction::BOTH {
                claims.claim_stream(index, dir);
            }
        }
        let cause = if aborted_by_peer {
            if connection.is_some_and(|(_, c, _)| abort_cut_the_exchange(c)) {
                Cause::DeliberateAbortMidExchange
            } else {
                Cause::DeliberateAbortAfterExchange
            }
        } else if group.iter().any(|(_, d)| !d.related.is_empty()) {
            // The bytes the peer left unread are the ones this side sent.
            let goodbye = connection.is_some_and(|(_, c, is_client)| {
                let sent = if is_client {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                only_closing_message_unread(c, sent, ends_share_a_clock(cx, c))
            });
            let killed = connection.is_some_and(|(_, c, is_client)| is_client && c.server_killed);
            if goodbye {
                Cause::ClosingMessageUnread
            } else if killed {
                Cause::PeerKilledUnread
            } else {
                Cause::PeerClosedUnread
            }
        } else if connection.is_none() {
            Cause::PeerUnseen
        } else {
            Cause::BothEndsOpen
        };
        let finding = reset_finding(cause, &subject(cx, trace, sock), group.len());
        findings.push(explained_by(finding, &group, "connection reset", claims));
    }
    findings
}

/// The finding for one socket's resets; its class follows the cause, and a `because` fact
/// says why.
fn reset_finding(cause: Cause, subject: &str, count: usize) -> Finding {
    let (class, summary, hint, because) = match cause {
        Cause::DeliberateAbortAfterExchange | Cause::DeliberateAbortMidExchange => (
            if cause == Cause::DeliberateAbortAfterExchange {
                Class::Info
            } else {
                Class::Application
            },
            format!(
                "the connection of {subject} was reset ({count} time(s)): the peer closed it \
                 abortively (SO_LINGER {{1, 0}}), the peer program's own choice"
            ),
            "make the peer close gracefully (no SO_LINGER {1, 0}) unless the protocol wants a \
             reset, and handle ECONNRESET on this side",
            if cause == Cause::DeliberateAbortAfterExchange {
                "because: the peer program chose an abortive close (SO_LINGER {1, 0}) after the \
                 exchange was complete; no network device was involved, and nothing was lost"
            } else {
                "because: the peer program chose an abortive close (SO_LINGER {1, 0}) before the \
                 exchange was complete (bytes unreceived, or its request unanswered); no network \
                 device was involved"
            },
        ),
        Cause::PeerClosedUnread => (
            Class::Application,
            format!(
                "the connection of {subject} was reset ({count} time(s)) when its peer closed it \
                 with bytes it never read"
            ),
            "make the peer read everything it was sent before closing, and handle ECONNRESET \
             on this side",
            "because: the peer program closed the connection with unread bytes, and the \
             kernel answers that with a reset",
        ),
        Cause::PeerKilledUnread => (
            Class::Application,
            format!(
                "the connection of {subject} was reset ({count} time(s)): its peer's process \
                 was killed with bytes it never read"
            ),
            "find out why the peer's process died (its logs, the kernel log for the OOM killer, \
             a supervisor's kill -9), and handle ECONNRESET on this side (reconnect, retry)",
            "because: the peer's process was killed while running (SIGKILL, a crash), not \
             closed by its program; the kernel closed its sockets and answered the bytes that \
             reached them with a reset",
        ),
        Cause::ClosingMessageUnread => (
            Class::Info,
            format!(
                "the connection of {subject} was reset ({count} time(s)) when its peer closed it \
                 after the exchange, with only this side's last short message unread"
            ),
            "nothing to fix: the peer had everything it needed; handle ECONNRESET at the end of \
             a connection as routine",
            "because: the peer program read everything before this side's last short message (a \
             protocol's goodbye, such as a TLS close_notify) and closed, and the kernel answers a \
             close with unread bytes with a reset; nothing the exchange needed was lost",
        ),
        Cause::PeerUnseen => (
            Class::Ambiguous,
            format!(
                "the connection of {subject} was reset ({count} time(s)); its peer was not \
                 traced, so a peer that closed with unread bytes or aborted, and a middlebox that \
                 reset the connection, look the same from this side"
            ),
            "trace the peer to tell them apart (`netcheck record` there); meanwhile check idle \
             timeouts of NATs and firewalls on the path, and handle ECONNRESET on this side",
            "because: only this end of the connection is in the traces",
        ),
        Cause::BothEndsOpen => (
            Class::Network,
            format!(
                "the connection of {subject} was reset ({count} time(s)) while both traced ends \
                 still had it open"
            ),
            "check idle timeouts and reset rules of NATs, firewalls and load balancers on the \
             path; enable keepalives shorter than those timeouts",
            "because: neither traced end had closed or aborted the connection, so something \
             between them reset it",
        ),
    };
    let mut finding = RULE.finding(summary, hint).with_fact(because);
    finding.class = class;
    finding
}

/// Did the peer's abortive close cut the exchange short? Yes when bytes were still unreceived
/// either way, or when the client had sent bytes and the server had answered nothing: a request
/// went unanswered, whether the client gave up waiting or the server aborted instead of
/// answering. The same connection is judged the same from either end. A health checker that
/// reads the whole answer and then aborts (or connects and aborts without a word) cuts nothing.
fn abort_cut_the_exchange(c: &TcpConnection) -> bool {
    let lost = c.to_server.unreceived() > 0 || c.to_client.unreceived() > 0;
    lost || (c.to_server.stats.sent > 0 && c.to_client.stats.sent == 0)
}

/// Did `sock` send into the connection after its peer had closed it?
/// Whether `sock` sent after its peer's close before the reset at deviation `first_reset` (the
/// outcome lists deviations in the replay's order).
fn sent_after_peer_closed(cx: &Context, sock: SockId, first_reset: usize) -> bool {
    cx.outcome.deviations.iter().take(first_reset).any(|d| {
        d.sock == Some(sock) && matches!(d.kind, DeviationKind::SendAfterPeerClosed { .. })
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// A reset seen by the client A0 of a modelled connection whose ends were both open.
    fn reset_on_open_connection() -> crate::model::ReplayOutcome {
        let mut outcome = tcp(vec![accepted(20, 20, 20)]);
        outcome.deviations.push(deviation(
            DeviationKind::ConnectionReset,
            loc(0, 20),
            Some(sock(0, 0)),
        ));
        outcome
    }

    #[test]
    fn fires_alone_on_a_connection_reset_pattern() {
        assert_fires_on(&RULE, reset_on_open_connection());
    }

    /// rpc/tls-healthy--plain, the first connection through stunnel: stunnel wrote its 24-byte
    /// close_notify as the backend ended (proxy.trace:483, `write(3<TCP:[10.92.1.1:7443->
    /// 10.92.1.2:33964]>, "\27\3\3\0\23...", 24) = 24`); the client, which had its echo,
    /// closed without reading it (client.trace:888, `close(3<TCP:[10.92.1.2:33964->
    /// 10.92.1.1:7443]>) = 0`), and stunnel's next poll reported the reset (proxy.trace:484,
    /// then :485 `getsockopt(3<...>, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0`).
    #[test]
    fn a_reset_for_an_unread_goodbye_after_the_exchange_is_a_note() {
        let mut c = accepted(3619, 3619, 3022);
        c.to_client = stream(4917, 4893, 3022, 9, loc(1, 483));
        for s in [&mut c.to_server, &mut c.to_client] {
            s.stats.closed_by_sender = true;
            s.stats.closed_by_receiver = true;
        }
        let mut outcome = tcp(vec![c]);
        let mut reset = deviation(
            DeviationKind::ConnectionReset,
            loc(1, 484),
            Some(sock(1, 1)),
        );
        reset.related = vec![loc(0, 888)];
        outcome.deviations.push(reset);
        let found = findings(two_hosts(), outcome.clone());
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert_eq!(found[0].class, Class::Info);
        // A request cut short (2000 bytes sent, 16 read: lab/reset-unread) stays the peer's
        // doing.
        outcome.tcp[0].to_client = stream(2000, 16, 2000, 1, loc(1, 483));
        outcome.tcp[0].to_client.stats.closed_by_sender = true;
        outcome.tcp[0].to_client.stats.closed_by_receiver = true;
        let found = findings(two_hosts(), outcome);
        assert_eq!(found[0].class, Class::Application);
    }

    /// coord/prosody-killed--xx: Prosody killed (server.trace:1775 `+++ killed by SIGKILL +++`)
    /// and the client's 77-byte ping, sent two seconds later, answered with a reset
    /// (client.trace:718 `poll([{fd=3, events=POLLIN}], 1, 8000) = 1 ([{fd=3,
    /// revents=POLLIN|POLLERR|POLLHUP}])`): the death, not the peer's program, left it unread.
    #[test]
    fn a_reset_after_the_server_was_killed_says_so() {
        let mut c = accepted(500, 423, 77);
        c.to_client = stream(400, 400, 200, 4, loc(1, 700));
        for s in [&mut c.to_server, &mut c.to_client] {
            s.stats.closed_by_sender = true;
            s.stats.closed_by_receiver = true;
        }
        c.server_killed = true;
        let mut outcome = tcp(vec![c]);
        let mut reset = deviation(
            DeviationKind::ConnectionReset,
            loc(0, 718),
            Some(sock(0, 0)),
        );
        reset.related = vec![loc(1, 1775)];
        outcome.deviations.push(reset);
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert_eq!(found[0].class, Class::Application);
        assert!(found[0].summary.contains("killed"), "{}", found[0].summary);
    }

    #[test]
    fn a_reset_from_an_untraced_peer_is_ambiguous() {
        // No modelled connection: the peer is not in the traces.
        let found = findings(two_hosts(), with_deviation(DeviationKind::ConnectionReset));
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert_eq!(found[0].class, Class::Ambiguous);
        assert!(
            found[0].summary.contains("not traced"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn sends_failing_after_the_reset_are_part_of_it() {
        // capi/linger0--plain, server.trace:40-41: `recvfrom(4<TCP:...>, ...) = -1 ECONNRESET`,
        // then `sendto(4<TCP:...>, "got 10\n", 7, MSG_NOSIGNAL, NULL, 0) = -1 EPIPE`: the send
        // failed because of the reset the program had just read, not after an orderly close.
        let mut outcome = tcp(vec![accepted(20, 20, 20)]);
        outcome.deviations.push(deviation(
            DeviationKind::ConnectionReset,
            loc(0, 40),
            Some(sock(0, 0)),
        ));
        outcome.deviations.push(deviation(
            DeviationKind::SendAfterPeerClosed {
                errno: Some(crate::parse::Errno::EPIPE),
            },
            loc(0, 41),
            Some(sock(0, 0)),
        ));
        let found = findings(two_hosts(), outcome.clone());
        assert_eq!(rules_of(&found), ["connection-reset"]);
        // The other way round, the reset answers the send: `send-after-peer-closed` alone.
        outcome.deviations.reverse();
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["send-after-peer-closed"]);
    }

    #[test]
    fn fires_on_recorded_connection_reset() {
        assert_recorded_scenarios_report(&RULE, &["connection-reset"]);
    }

    /// A reset seen on B1 (the server's socket) whose peer's close is at A line 40; the client
    /// sent 120 bytes (`unread` of them never read) and was answered `answer` bytes.
    fn reset_after_peer_close(abortive: bool, unread: u64) -> crate::model::ReplayOutcome {
        reset_after_exchange(abortive, unread, 40)
    }

    fn reset_after_exchange(
        abortive: bool,
        unread: u64,
        answer: u64,
    ) -> crate::model::ReplayOutcome {
        let mut reset = deviation(DeviationKind::ConnectionReset, loc(1, 68), Some(sock(1, 1)));
        reset.related.push(loc(0, 40));
        let mut outcome = tcp(vec![accepted(120, 120 - unread, 120)]);
        outcome.tcp[0].to_client = stream(answer, answer, answer, 1, loc(1, 60));
        outcome.deviations.push(reset);
        if abortive {
            outcome.abortive_closes.push(loc(0, 40));
        }
        outcome
    }

    /// python's server reads 16 bytes of the request and closes; curl's `recvfrom(5, ...) = -1
    /// ECONNRESET`: the peer program's doing.
    #[test]
    fn a_reset_after_the_peer_closed_unread_bytes_is_an_application_fault() {
        let found = findings(two_hosts(), reset_after_peer_close(false, 104));
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert_eq!(found[0].class, Class::Application);
        assert!(found[0].facts.iter().any(|f| f.starts_with("because:")));
    }

    /// HAProxy's `setsockopt(11, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0` and
    /// `close(11)` after a health check; lighttpd's `recvfrom(8, ...) = -1 ECONNRESET`.
    #[test]
    fn a_deliberate_abortive_close_that_lost_nothing_is_no_problem() {
        let found = findings(two_hosts(), reset_after_peer_close(true, 0));
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert!(found.iter().all(|f| !f.class.is_problem()), "{found:?}");
        let found = findings(two_hosts(), reset_after_peer_close(true, 20));
        assert_eq!(found[0].class, Class::Application);
    }

    /// The lab client's `sendto(3, "abort\n", 6, ...)`, SO_LINGER {1, 0} and close before the
    /// server answered: the abort cut the exchange short.
    #[test]
    fn a_deliberate_abort_before_the_answer_is_an_application_fault() {
        let found = findings(two_hosts(), reset_after_exchange(true, 0, 0));
        assert_eq!(found[0].class, Class::Application);
    }

    /// A Java server (java/reset-unread--jblock--jreset--record) reads the client's request,
    /// `setsockopt(5<TCPv6:[...]>, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0` and
    /// `close(5<TCPv6:[...]>)` without an answer; the Java client's `read(4<TCPv6:[...]>,
    /// 0x7fa2680f1ff0, 8192) = -1 ECONNRESET` waited for it: the request went unanswered, seen
    /// from the client as from the server.
    #[test]
    fn a_server_that_aborts_instead_of_answering_cut_the_exchange() {
        let mut reset = deviation(
            DeviationKind::ConnectionReset,
            loc(0, 326),
            Some(sock(0, 0)),
        );
        reset.related.push(loc(1, 334));
        let mut outcome = tcp(vec![accepted(7, 7, 7)]);
        outcome.deviations.push(reset);
        outcome.abortive_closes.push(loc(1, 334));
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["connection-reset"]);
        assert_eq!(found[0].class, Class::Application);
    }

    #[test]
    fn a_reset_with_both_ends_open_is_a_network_fault() {
        let found = assert_fires_on(&RULE, reset_on_open_connection());
        assert_eq!(found[0].class, Class::Network);
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
