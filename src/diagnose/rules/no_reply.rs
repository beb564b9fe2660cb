//! `no-reply`: requests to a peer no trace shows got no answer before the program gave up.

use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::UnansweredRequests;

pub const RULE: Rule = Rule {
    id: "no-reply",
    class: Class::Ambiguous,
    title: "Requests to a peer that was not traced got no answer before the program gave up",
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
answer, is never counted. On a connection whose peer answered earlier requests, a later request
counts only when the program waited for that very socket (poll, select, a blocking receive), not
merely in an event loop's epoll set: long-lived protocols send status updates and frames that want
no answer.

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
The first unanswered request and the wait that ended in vain after it.

## What to do
Trace the peer to tell the causes apart (`netcheck record` on that host): if its trace shows the
request arriving, the peer chose not to answer (check its logs and access rules); if not, the
request was lost (check firewalls and packet loss on the path with `ss -ti`, `nstat`, or a capture
on both ends).
";

/// Port of the domain name service: lookups to servers of no declared host are resolver noise.
const DNS_PORT: u16 = 53;

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    let matcher = cx.matcher();
    cx.outcome
        .unanswered_requests
        .iter()
        // Once a peer has answered, later unanswered sends are as often messages that want no
        // answer (status updates, protocol frames, a goodbye) as lost requests: only a wait
        // for this very socket (not an event loop's epoll set) shows that an answer was due.
        .filter(|u| u.answered == 0 || (!u.udp && u.unanswered_named > 0))
        .filter(|u| !(u.peer.port() == DNS_PORT && matcher.is_outside(u.peer)))
        .map(|u| finding(cx, u))
        .collect()
}

fn finding(cx: &Context, u: &UnansweredRequests) -> Finding {
    let transport = if u.udp { "UDP" } else { "TCP" };
    RULE.finding(
        format!(
            "{}: {} {transport} request(s) to {} got no answer before the program gave up; from \
             this side a lost request, a silent peer and a lost answer look the same",
            cx.who(u.sock.trace),
            u.unanswered,
            u.peer,
        ),
        "trace the peer to tell them apart: if it received the request, it chose not to answer; \
         if not, look for loss or a firewall on the path (ss -ti, nstat)",
    )
    .with_evidence([
        Evidence {
            loc: u.request,
            call: String::new(),
            note: format!("request to {}", u.peer),
        },
        Evidence {
            loc: u.gave_up,
            call: String::new(),
            note: "waited for the answer in vain".into(),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{ReplayOutcome, UnansweredRequests};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_on_an_unanswered_request() {
        let outcome = ReplayOutcome {
            unanswered_requests: vec![UnansweredRequests {
                sock: sock(0, 0),
                peer: addr("10.0.0.2:7000"),
                udp: false,
                answered: 0,
                unanswered: 1,
                unanswered_named: 1,
                request: loc(0, 4),
                gave_up: loc(0, 5),
            }],
            ..ReplayOutcome::default()
        };
        assert_fires_on(&RULE, outcome);
    }
}
