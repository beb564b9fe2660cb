//! `data-unreceived-poll-missed`: bytes never received while readiness waits said nothing was
//! readable.

use super::{claim_socket_deviations, unexplained_unreceived, unreceived_findings};
use crate::diagnose::registry::Rule;
use crate::diagnose::{Claims, Class, Context, Finding};
use crate::model::DeviationKind;

pub const RULE: Rule = Rule {
    id: "data-unreceived-poll-missed",
    class: Class::Ambiguous,
    title: "Bytes were never received while select/poll/epoll reported nothing readable",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Bytes sent on a TCP connection were never received, and the receiver waited for them: a select,
poll or epoll wait on the receiving socket timed out (or reported nothing) while, in the replay, the
bytes were already sent.

## Why it matters
The receiver wanted the data and the sender had sent it, yet it never became readable. Either the
network delayed or dropped it (filtering, congestion, an MTU problem too subtle for
`mtu-black-hole`), or the order of events differed from the reconstruction (the wait really ended
before the send). The traces cannot separate the two.

## Evidence
The last unreceived send with the connect and accept of the connection; the facts give the byte
counts.

## What to do
Capture traffic at both ends (`tcpdump`) to see whether the bytes crossed the network; check
timeouts in the receiver (they may be too short for the path's latency) and drops on the path.

Precedence: streams explained by `mtu-black-hole`, `connection-reset`, `send-after-peer-closed` or
`buffer-overrun` are not reported here; streams without readiness evidence are `data-unreceived`.
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let poll_missed_on = |sock| {
        cx.outcome
            .deviations
            .iter()
            .any(|d| d.sock == Some(sock) && d.kind == DeviationKind::PollMissedData)
    };
    let selected: Vec<_> = unexplained_unreceived(cx, claims)
        .into_iter()
        .filter(|s| s.connection.wait_timed_out_with_data || s.receiver.is_some_and(poll_missed_on))
        .collect();
    for s in &selected {
        if let Some(receiver) = s.receiver {
            claim_socket_deviations(cx, claims, receiver, |k| {
                *k == DeviationKind::PollMissedData
            });
        }
    }
    unreceived_findings(cx, claims, &RULE, selected, |g| {
        (
            format!(
                "{}, while a readiness wait on the receiver reported nothing readable",
                g.describe()
            ),
            "capture traffic at both ends to see whether the bytes crossed the network; check \
             the receiver's timeouts and drops on the path"
                .to_string(),
        )
    })
}
