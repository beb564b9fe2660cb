//! `data-unreceived-poll-missed`: bytes never received while readiness waits said nothing was
//! readable.

use super::{
    claim_socket_deviations, unexplained_unreceived, unreceived_findings, StreamView,
    UnreceivedText,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, TimedOutWait};
use crate::source::Loc;

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
bytes were already sent. When the replay placed the wait before the send (nothing in the traces
forces another order), the traces' timestamps and `-T` durations are used as supporting evidence:
a timed-out wait on the receiving socket that ended after the oldest unreceived byte was sent
counts too, and the finding says that timestamps were used.

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
    let (by_model, rest): (Vec<_>, Vec<_>) = unexplained_unreceived(cx, claims)
        .into_iter()
        .partition(|s| {
            s.connection.wait_timed_out_with_data || s.receiver.is_some_and(poll_missed_on)
        });
    for s in &by_model {
        if let Some(receiver) = s.receiver {
            claim_socket_deviations(cx, claims, receiver, |k| {
                *k == DeviationKind::PollMissedData
            });
        }
    }
    let by_timestamps: Vec<_> = rest
        .into_iter()
        .filter(|s| wait_spanning_send(cx, s).is_some())
        .collect();
    // Keyed by the connection's connect, which every finding about the stream cites.
    let timings: Vec<(Loc, Evidence, String)> = by_timestamps
        .iter()
        .filter_map(|s| {
            let (wait, sent_at) = wait_spanning_send(cx, s)?;
            Some((
                s.connection.connect_loc,
                Evidence::new(wait.loc, "timed-out wait, by timestamps after the send"),
                format!(
                    "timestamps: the receiver's wait started at {:.6} and lasted {:.3} s; the \
                     oldest unreceived byte was sent at {sent_at:.6}",
                    wait.start.unwrap_or_default(),
                    wait.duration.unwrap_or_default(),
                ),
            ))
        })
        .collect();
    let mut findings = unreceived_findings(cx, claims, &RULE, by_model, |g| UnreceivedText {
        summary: format!(
            "{}, while a readiness wait on the receiver reported nothing readable",
            g.describe()
        ),
        hint: hint(),
        because: None,
    });
    let mut timed = unreceived_findings(cx, claims, &RULE, by_timestamps, |g| UnreceivedText {
        summary: format!(
            "{}, while a readiness wait on the receiver timed out after they were sent \
             (timestamps were used: the replay placed the wait before the send)",
            g.describe()
        ),
        hint: hint(),
        because: None,
    });
    for finding in &mut timed {
        for (connect, evidence, fact) in &timings {
            if finding.evidence.iter().any(|e| e.loc == *connect) {
                finding.evidence.push(evidence.clone());
                finding.facts.push(fact.clone());
            }
        }
    }
    findings.append(&mut timed);
    findings
}

fn hint() -> String {
    "capture traffic at both ends to see whether the bytes crossed the network; check the \
     receiver's timeouts and drops on the path"
        .to_string()
}

/// A timed-out readiness wait on the stream's receiver that, by the traces' timestamps and
/// durations, was still waiting when the oldest unreceived byte had already been sent; with that
/// send's time. Clocks of different hosts may disagree, which is why this only supports an
/// ambiguous conclusion; clocks that cannot be compared (`-r` counts) give none.
fn wait_spanning_send<'a>(cx: &Context<'a>, s: &StreamView) -> Option<(&'a TimedOutWait, f64)> {
    let receiver = s.receiver?;
    if !cx
        .topology
        .clocks_comparable(s.sender.trace, receiver.trace)
    {
        return None;
    }
    let sent_at = s.stream.first_unreceived_time?;
    cx.outcome
        .timed_out_waits
        .iter()
        .find(|w| w.sock == receiver && w.end().is_some_and(|end| end >= sent_at))
        .map(|w| (w, sent_at))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::model::DeviationKind;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    #[test]
    fn fires_alone_on_a_data_unreceived_poll_missed_pattern() {
        let mut poll = accepted(120, 0, 120);
        poll.wait_timed_out_with_data = true;
        assert_fires_on(&RULE, tcp(vec![poll]));
    }

    #[test]
    fn fires_on_recorded_tcp_data_dropped() {
        assert_recorded_scenarios_report(&RULE, &["tcp-data-dropped"]);
    }

    #[test]
    fn poll_missed_data_takes_precedence_over_plain_unreceived() {
        let mut outcome = tcp(vec![accepted(120, 0, 120)]);
        outcome.deviations.push(deviation(
            DeviationKind::PollMissedData,
            loc(1, 14),
            Some(sock(1, 1)),
        ));
        let found = findings(two_hosts(), outcome);
        assert_eq!(rules_of(&found), ["data-unreceived-poll-missed"]);
        assert_eq!(found[0].class, Class::Ambiguous);
    }
}
