//! `no-reply`: requests got no answer before the program gave up — to a peer no trace shows
//! (the cause stays open), or read by a traced peer that never answered (the peer's choice) —
//! or were met by the peer closing the connection without a word.

use super::group_by;
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::UnansweredRequests;

pub const RULE: Rule = Rule {
    id: "no-reply",
    class: Class::Ambiguous,
    title: "Requests got no answer",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A socket talking to a peer whose side no trace shows (a host declared without a trace, or an
address of no declared host) sent a request (one or more sends after its last receive), then
waited for the answer in vain (a readiness wait timed out, a receive timed out or never
returned) and gave up: it sent the next request, closed the socket, or its trace ended, and the
peer never answered anything on that socket. A program that only sends, and never waits for an
answer, is never counted; nor is a wait that ran its course after the program was asked to stop
(SIGTERM, SIGINT, SIGQUIT), which belongs to its shutdown (a relay flushing before it exits). On a connection whose peer answered earlier requests, a later request
counts only when the program waited for that very socket (poll, select, a blocking receive), not
merely in an event loop's epoll set: long-lived protocols send status updates and frames that want
no answer.

A TCP request can also stay in the sender's own send buffer: the buffer filled (a send would
have blocked, or took less than it was given), the program waited for room in it for at least a
second (TCP's initial retransmission timeout; a peer that reads and a path that delivers free
room within a round trip) or was stopped inside a blocking send, and then gave up. Either side
of the connection may be the sender. From that side alone, a peer that stopped reading and a
path that drops the segments (a broken link, an MTU black hole) look the same.

A TCP request can also be met by the end of the stream: the only thing that ever came back on
the connection was the peer closing it. Nothing on the network makes that: the peer's own
system closed its end, because its program closed the socket (a request it rejects, a connection
limit, an access rule) or ended (a crash, a kill: the kernel closes every socket of a process
that dies). An asker that shut down its own writing first (an upload acknowledged by the
peer's close) and a traced peer that was being stopped are not counted; neither is a connection
that carried anything to the asker before (a server closing an idle kept-alive connection as
the next request crosses it is a race clients retry), unless the traced peer's process died
while running (killed, or exited unasked with a failure status) with the request it read
unanswered: a death is no goodbye.

When the peer is traced too, its trace settles what one side cannot: a request counts only when
the peer's program read it (a request that never arrived is left to the loss rules, which weigh
both sides), and the finding is then of class application: the request reached the peer's
program, which chose not to answer (an access rule that drops, a malformed request it ignores,
a worker that hung). A UDP answer the peer's program did send, from another address than the
one the requester's connected socket is connected to (a multi-homed server answering from its
first address, or from a second socket bound elsewhere), counts as none: Linux discards a
datagram whose source is not a connected UDP socket's peer, so the requester never sees it; the
finding then names the answer and where it came from. An answer from a socket bound to a
wildcard address (0.0.0.0) on a host with several addresses left Linux to pick its source by
the route, which no call shows: the finding is then ambiguous, since the answers were either
discarded so or lost on the way (unbound or socat bound to 0.0.0.0 on a multi-homed host, asked
at its second address).

UDP requests to a traced host that had nothing bound at their port when they were sent (its
traces never bound it, or every socket bound there had closed by the clocks, as when the server
was killed) found no receiver: Linux answers them with ICMP port unreachable, which an
unconnected socket never sees. That finding is the application's (a wrong port, a server
stopped or dead), and the datagrams are no loss.

## Why it matters
From one side, three causes look the same: the request was lost on the way, the peer received it
and never answered (a silent or overloaded server, a request it rejects by dropping it), or the
answer was lost on the way back. The local trace proves only that no answer arrived in the time
the program was willing to wait. Over UDP, partial loss of request/reply round trips is
`udp-loss` instead.

A failed name-server lookup (port 53) to an address of no declared host is not reported: glibc's
resolver tries every configured server and times out on any that is down, which says nothing
about the traced application.

## Evidence
The first unanswered request and the wait that ended in vain after it (or the receive that found
the end of the stream, and the traced peer's close: a `+++ killed by` line when its process was
killed); with a traced peer, the peer's read of the request is found under the same socket pair
in the connection statistics.

## What to do
When the peer closed without answering: look at its logs for a crash, a kill (the OOM killer, a
supervisor, a watchdog), or a request it rejected; a traced peer killed by a signal shows it in
its trace. With the peer traced: look at why its program dropped the request (its logs, access-control
lists such as unbound's `access-control` or memcached's framing of UDP requests, a worker pool
that stopped). Otherwise trace the peer to tell the causes apart (`netcheck record` on that host): if its trace shows the
request arriving, the peer chose not to answer (check its logs and access rules); if not, the
request was lost (check firewalls and packet loss on the path with `ss -ti`, `nstat`, or a capture
on both ends).
";

/// Sockets whose request and wait are shown as evidence; the count covers them all.
const MAX_SOCKETS_SHOWN: usize = 4;

/// Port of the domain name service: lookups to servers of no declared host are resolver noise.
const DNS_PORT: u16 = 53;

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    let unanswered = cx
        .outcome
        .unanswered_requests
        .iter()
        // Once a peer has answered, later unanswered sends are as often messages that want no
        // answer (status updates, protocol frames, a goodbye) as lost requests: only a wait
        // for this very socket (not an event loop's epoll set) shows that an answer was due.
        .filter(|u| u.answered == 0 || (!u.udp && u.unanswered_named > 0))
        .filter(|u| !(u.peer.port() == DNS_PORT && matcher.is_outside(u.peer)));
    // One finding per requesting host and peer: a client retrying from fresh sockets (a
    // resolver, a pool) asked one question.
    group_by(unanswered, |u| (u.sock.trace, u.peer, u.udp, u.peer_traced))
        .into_values()
        .filter_map(|group| finding(cx, &group))
        .collect()
}

fn finding(cx: &Context, group: &[&UnansweredRequests]) -> Option<Finding> {
    let first = group.first()?;
    let transport = if first.udp { "UDP" } else { "TCP" };
    let requests: u64 = group.iter().map(|u| u64::from(u.unanswered)).sum();
    let requests = plural(
        requests,
        &format!("{transport} request"),
        &format!("{transport} requests"),
    );
    let sockets = match group.len() {
        1 => String::new(),
        n => format!(" (from {n} sockets)"),
    };
    let who = cx.who(first.sock.trace);
    let peer = first.peer;
    let (summary, hint, sent_note) = if first.ended_by_peer {
        closed_texts(first, &who, &requests, &sockets)
    } else if first.undrained {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} never left the send buffer: the program \
                 waited for room in it in vain and gave up; from this side a peer that stopped \
                 reading and a path that drops the segments (a broken link, an MTU black hole) \
                 look the same"
            ),
            "trace the peer to tell them apart: if its program stopped reading, look there; if \
             not, look for loss, a firewall or a smaller MTU on the path (ss -ti shows the \
             retransmissions, ping -M do -s SIZE the path MTU)"
                .to_owned(),
            format!("request to {peer}"),
        )
    } else if first.nothing_bound {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} got no answer: nothing on that host had \
                 the port bound when they were sent (its traces never bound it, or every socket \
                 bound there had closed), and Linux answers such datagrams with ICMP port \
                 unreachable, which an unconnected socket never sees"
            ),
            format!(
                "check that the service runs and is bound at {peer} (ss -lunp on that host): a \
                 wrong port in the client's configuration, or a server that had stopped or died"
            ),
            format!("request to {peer}, where nothing was bound"),
        )
    } else if first.peer_traced {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} read by the peer's program and never \
                 answered; the requester gave up"
            ),
            "the peer received the request and chose not to answer: check its access rules, \
             its logs, and whether the request is well-formed for it"
                .to_owned(),
            format!("request to {peer}, read by the peer"),
        )
    } else {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} got no answer before the program gave up; \
                 from this side a lost request, a silent peer and a lost answer look the same"
            ),
            "trace the peer to tell them apart: if it received the request, it chose not to \
             answer; if not, look for loss or a firewall on the path (ss -ti, nstat)"
                .to_owned(),
            format!("request to {peer}"),
        )
    };
    let gave_up_note = if first.ended_by_peer {
        "the end of the stream: the peer closed without answering"
    } else if first.undrained {
        "waited for room in the send buffer in vain"
    } else {
        "waited for the answer in vain"
    };
    let evidence = group.iter().take(MAX_SOCKETS_SHOWN).flat_map(|u| {
        [
            Evidence::new(u.request, sent_note.clone()),
            Evidence::new(u.gave_up, gave_up_note),
        ]
    });
    let peer_close = first
        .peer_close
        .map(|at| Evidence::new(at, "the peer's end of the connection closed here"));
    let evidence = evidence.chain(peer_close);
    // An answer sent from another address than the one asked: the requester's host discarded
    // it (a connected UDP socket accepts only its peer), so the program never saw it.
    let answered_elsewhere = cx.outcome.udp.iter().find(|f| {
        f.receiver_connected_elsewhere
            .is_some_and(|c| group.iter().any(|u| u.sock == c.sock))
    });
    let mut finding = RULE.finding(summary, hint).with_evidence(evidence);
    let elsewhere = answered_elsewhere.and_then(|f| Some((f, f.receiver_connected_elsewhere?)));
    if let Some((flow, how)) = elsewhere.filter(|_| first.peer_traced) {
        // A port no call showed (bound to port 0) is left out.
        let from = match flow.sender_addr {
            Some(a) if a.port() == 0 => a.ip().to_string(),
            Some(a) => a.to_string(),
            None => cx.sock(flow.sender),
        };
        let answered = if how.certain {
            format!("answered from {from}")
        } else {
            format!("answered from its socket bound to {from}")
        };
        finding.summary = format!(
            "{who}: {requests}{sockets} to {peer} read by the peer's program, which {answered}; \
             the requester's connected socket never got the answers"
        );
        finding = finding.with_evidence([Evidence::new(
            flow.first_send,
            format!("the answer, sent from {from}"),
        )]);
        let only_peer = "Linux discards a datagram from any other source than a connected UDP \
                         socket's peer";
        if how.certain {
            finding.class = Class::Application;
            finding = finding.with_fact(format!(
                "the peer's program answered from {from}, not from {peer}, the address the \
                 requester's socket is connected to: {only_peer}"
            ));
        } else {
            // The source the route chose shows in no call: the answers were discarded as from
            // a stranger, or lost on the way.
            finding.class = Class::Ambiguous;
            finding = finding.with_fact(format!(
                "the peer's program answered from a socket bound to {from} on a host with \
                 several addresses: Linux sent from the address its route prefers, which no \
                 call shows; if that is not {peer}, the address the requester's socket is \
                 connected to, the requester's host discarded the answers ({only_peer}), \
                 otherwise they were lost on the way"
            ));
        }
        finding.hint = format!(
            "make the server answer from the address it was asked at ({peer}): bind a socket \
             to each address, or read the destination with IP_PKTINFO and send from it \
             (unbound: interface-automatic); `ip route get` on the server shows the source it \
             picks"
        );
    } else if first.peer_traced {
        // The peer's own trace settles the cause: its program read the request and chose.
        finding.class = Class::Application;
        finding = finding.with_fact(
            "the peer's trace shows it read the request and sent nothing back to the requester",
        );
    } else if first.ended_by_peer {
        // Only the peer's own system closes its end in order: no loss explains it.
        finding.class = Class::Application;
    } else if first.nothing_bound {
        // The peer host's own traces show no receiver at the port: no path lost the requests.
        finding.class = Class::Application;
    }
    Some(finding)
}

/// Summary, hint and the request's note of requests met by the peer's close.
fn closed_texts(
    first: &UnansweredRequests,
    who: &str,
    requests: &str,
    sockets: &str,
) -> (String, String, String) {
    let peer = first.peer;
    if first.peer_traced {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} read by the peer's program, whose end then \
                 closed the connection without answering"
            ),
            "the peer's program closed the connection, or ended, after reading the request: if \
             its trace ends killed by a signal it died mid-request (check the OOM killer, its \
             supervisor, its logs); otherwise check why it rejects the request"
                .to_owned(),
            format!("request to {peer}, read by the peer"),
        )
    } else {
        (
            format!(
                "{who}: {requests}{sockets} to {peer} met only by the end of the stream: the \
                 peer closed the connection without answering"
            ),
            "the peer's program closed the connection (a rejected request, a connection limit, \
             an access rule) or ended (a crash, a kill): check its logs, or trace it (netcheck \
             record) to see which"
                .to_owned(),
            format!("request to {peer}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::model::{ReplayOutcome, UnansweredRequests};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    fn unanswered(socket: u32, peer_traced: bool) -> UnansweredRequests {
        UnansweredRequests {
            sock: sock(1, socket),
            peer: addr("10.0.0.1:53"),
            udp: true,
            peer_traced,
            answered: 0,
            unanswered: 1,
            unanswered_named: 0,
            request: loc(1, 4 + 10 * socket as u64),
            gave_up: loc(1, 5 + 10 * socket as u64),
            ended_by_peer: false,
            peer_close: None,
            undrained: false,
            nothing_bound: false,
        }
    }

    #[test]
    fn fires_on_an_unanswered_request() {
        let outcome = ReplayOutcome {
            unanswered_requests: vec![unanswered(0, false)],
            ..ReplayOutcome::default()
        };
        let findings = assert_fires_on(&RULE, outcome);
        assert_eq!(findings[0].class, Class::Ambiguous);
    }

    /// Requests to a port nothing on the traced peer's host had bound (svc/sip-killed--T:
    /// OPTIONS sent after Kamailio was killed) are the application's, not a loss.
    #[test]
    fn requests_to_a_port_nothing_had_bound_are_the_applications() {
        let mut request = unanswered(0, false);
        request.nothing_bound = true;
        let outcome = ReplayOutcome {
            unanswered_requests: vec![request],
            ..ReplayOutcome::default()
        };
        let findings = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&findings), ["no-reply"]);
        assert_eq!(findings[0].class, Class::Application);
        assert!(
            findings[0]
                .summary
                .contains("nothing on that host had the port bound"),
            "{}",
            findings[0].summary
        );
    }

    /// dig retrying from a fresh socket behind unbound's `access-control: deny`: one finding,
    /// of class application, since the server's trace shows it read both queries.
    #[test]
    fn requests_a_traced_peer_read_are_its_decision_one_finding_per_peer() {
        let outcome = ReplayOutcome {
            unanswered_requests: vec![unanswered(0, true), unanswered(1, true)],
            ..ReplayOutcome::default()
        };
        let findings = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&findings), ["no-reply"]);
        assert_eq!(findings[0].class, Class::Application);
        assert!(findings[0]
            .summary
            .contains("2 UDP requests (from 2 sockets)"));
        assert_eq!(findings[0].evidence.len(), 4);
    }

    /// A server killed mid-request: the client's request met only by the end of the stream.
    /// The peer's own system closed its end, so the finding is the application's, from either
    /// side; with the peer traced its close is shown.
    #[test]
    fn a_request_met_by_the_peers_close_is_the_applications() {
        let mut closed = UnansweredRequests {
            udp: false,
            ended_by_peer: true,
            ..unanswered(0, false)
        };
        let one_side = findings(
            two_hosts(),
            ReplayOutcome {
                unanswered_requests: vec![closed.clone()],
                ..ReplayOutcome::default()
            },
        );
        assert_eq!(one_side[0].class, Class::Application);
        assert!(one_side[0]
            .summary
            .contains("met only by the end of the stream"));
        assert_eq!(one_side[0].evidence.len(), 2);
        closed.peer_traced = true;
        closed.peer_close = Some(loc(0, 9));
        let both = findings(
            two_hosts(),
            ReplayOutcome {
                unanswered_requests: vec![closed],
                ..ReplayOutcome::default()
            },
        );
        assert!(both[0]
            .summary
            .contains("closed the connection without answering"));
        assert_eq!(both[0].evidence.len(), 3);
    }
}
