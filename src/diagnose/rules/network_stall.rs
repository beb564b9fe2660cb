//! `network-stall`: connects that completed only after the kernel retransmitted their SYN, and
//! request/answer round trips that the network delayed by a retransmission timeout.

mod transfers;

use super::admission_limit::syn_dropped_by_full_queue;
use super::group_by;
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::round_trips::TimedRoundTrip;
use crate::model::ConnectTiming;

pub const RULE: Rule = Rule {
    id: "network-stall",
    class: Class::Network,
    title: "Connects, round trips or transfers delayed by TCP retransmissions: packets were lost on the way",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A TCP connect that completed after about 1 s, 3 s, 7 s, 15 s... : the times at which Linux
retransmits an unanswered SYN. The initial retransmission timeout is 1 s (RFC 6298, section 2;
the kernel's TCP_TIMEOUT_INIT) and doubles on each retry, so a connect whose first k SYNs (or
their answers) were lost completes 2^k − 1 seconds after it started, plus one round trip. The
server retransmits a lost SYN-ACK on its own timer, also from 1 s and doubling from the SYN it
answered, so a connect whose first SYN and then the answer to the second were lost completes
after 1 + 1 = 2 s; in general after (2^i − 1) + (2^j − 1) s (2, 4, 6, 8... s). The
time is measured on one host only: the connect's own `-T` duration, or the difference between
the connect's timestamp and that of the SO_ERROR or EISCONN call that reported it connected, or
of the first send or receive after a readiness wait reported it writable (the connect had
completed before that wait returned), in the same trace. Clocks of different hosts are never
compared.

With both sides of a connection traced, request/answer round trips are timed too. The requester
measures from the end of its request to the arrival of the answer (the end of a wait that
blocked until it came); the peer measures from reading the request to sending its answer; the
difference is the time the bytes spent between the hosts, each figure a duration on one host's
own clock. A trace without `-T` durations is timed from the calls' start times: the receive
that read the answer started after its bytes arrived. A round trip that took at least 200 ms longer than the fastest one of the same
socket was delayed by a retransmission: Linux never retransmits a segment on an established
connection sooner than 200 ms after sending it (`TCP_RTO_MIN`), and on a path without loss the
round trip varies by far less (delayed acknowledgements, at most 200 ms, are the only other
wait of that size, and they delay no answer the peer wrote at once).

With both sides traced, a transfer is timed inside one answer too. A sender that hands a
whole answer to its socket at once (nginx's `sendfile` of a file) has nothing left to do; the
bytes then arrive as fast as the path carries them, one packet after another. A receiver that
found its queue empty (a short read, a would-block, a poll reporting nothing) and then waited at
least 200 ms for the next bytes of that answer, beyond the time the sender itself took between
offering the bytes before and after the gap (the starts of its send calls, on its own clock;
for bytes its socket refused at first, EAGAIN or a partial `sendfile`, the time of the refusal:
a sender blocked on a full buffer is not pausing), waited for lost segments to be sent again. A sender that paces its writes (a rate limit, an
interactive session) took as long as the gap itself, and a receiver that reads slowly finds its
bytes waiting: neither counts. The receiver's wait runs from the start of its first wait naming
the socket after the empty queue (poll, select) to the start of the receive that got the bytes,
or is the duration of a receive that blocked (its `-T` time, or the time between the
`<unfinished ...>` and `<... resumed>` lines of a split call; a receive on one line of a trace
without `-T` is not timed). An event loop's epoll wait names no socket: its wait runs from the
receive that found the queue empty, or the start of the first epoll wait that then reported the
socket readable if that came later, to that wait's return (its start plus its duration) or,
without a duration, to the start of the receive that got the bytes. Time the loop spent
elsewhere before that wait is not counted: the bytes may have been waiting.

## Why it matters
The connection works, so nothing fails: requests are just slow, by whole seconds, at random.
That is the signature of packet loss (a lossy link, an overloaded queue, a policer, a full listen
backlog dropping SYNs), which no error code reports.

## Evidence
Each slow connect and the call that showed it complete, with the measured duration and the
number of retransmissions it corresponds to; each slow round trip's request and answer, with the
time the network added; for a stalled transfer, the sender's call that offered the bytes, the
receiver's wait and the receive that ended it.

## What to do
Measure the loss: `ss -ti` (retrans counters per connection), `nstat -az TcpRetransSegs
TcpExtTCPSynRetrans`, `ip -s link` (drops and errors per interface) on both hosts and the hops
between them; a server whose listen backlog overflows shows `TcpExtListenOverflows`.
";

/// The initial retransmission timeout (RFC 6298 §2.1; Linux `TCP_TIMEOUT_INIT`), in seconds.
pub const INITIAL_RTO: f64 = 1.0;
/// SYN retransmissions considered (Linux retries a SYN 6 times by default, `tcp_syn_retries`).
pub const MAX_SYN_RETRIES: u32 = 6;
/// How much earlier than a retransmission point a connect may complete and still be taken for
/// it: the timestamps' own granularity and the timer's slack.
pub const EARLY_MARGIN: f64 = 0.05;
/// How much later: the round trip of the retransmitted SYN and its answer, and scheduling under
/// strace.
pub const LATE_MARGIN: f64 = 0.5;

/// SYN-ACK retransmissions (Linux retries a SYN-ACK 5 times by default, `tcp_synack_retries`).
pub const MAX_SYNACK_RETRIES: u32 = 5;

/// The number of retransmissions a connect duration corresponds to, if any. The client's
/// retransmission timeout starts at [`INITIAL_RTO`] and doubles, so its i-th retry leaves
/// 2^i − 1 s after the connect started. The server answers the first SYN that reaches it and,
/// when that SYN-ACK is lost in turn, retransmits it on its own timer, also from 1 s and
/// doubling (each later SYN of the client also gets an answer at once): the connect completes
/// (2^i − 1) + (2^j − 1) s after it started, i SYN and j SYN-ACK retransmissions (2 s: the first
/// SYN lost, then the answer to the second).
pub fn syn_retransmissions(seconds: f64) -> Option<u32> {
    let after = |retries: u32| INITIAL_RTO * f64::from((1u32 << retries) - 1);
    (0..=MAX_SYN_RETRIES)
        .flat_map(|syn| (0..=MAX_SYNACK_RETRIES).map(move |synack| (syn, synack)))
        .filter(|&(syn, synack)| {
            let point = after(syn) + after(synack);
            syn + synack > 0 && seconds >= point - EARLY_MARGIN && seconds <= point + LATE_MARGIN
        })
        .map(|(syn, synack)| syn + synack)
        .min()
}

/// The shortest retransmission timeout on an established Linux connection (`TCP_RTO_MIN`,
/// 200 ms): a lost segment delays its answer at least this long.
pub const MIN_RTO: f64 = 0.2;

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = slow_connects(cx, claims);
    findings.extend(slow_round_trips(cx));
    findings.extend(transfers::stalled_transfers(cx));
    findings
}

/// Round trips with a traced peer that the network delayed by a retransmission timeout.
fn slow_round_trips(cx: &Context) -> Vec<Finding> {
    let slow = cx.outcome.round_trips.iter().filter_map(|r| {
        let slow: Vec<&TimedRoundTrip> = r.trips.slower_by(MIN_RTO).collect();
        (!slow.is_empty()).then_some((r, slow))
    });
    group_by(slow, |(r, _)| r.sock.trace)
        .into_iter()
        .map(|(trace, group)| {
            let trips: u32 = group.iter().map(|(r, _)| r.trips.count).sum();
            let delayed: Vec<&TimedRoundTrip> =
                group.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            let fastest = group
                .iter()
                .filter_map(|(r, _)| r.trips.fastest)
                .fold(f64::INFINITY, f64::min);
            let mut times: Vec<String> = delayed
                .iter()
                .map(|t| format!("{:.3} s", t.network))
                .collect();
            times.truncate(8);
            let summary = format!(
                "{}: {} of {trips} request/answer round trips with its traced peer spent {} between \
                 the hosts, against {:.4} s for the fastest: TCP retransmissions after loss",
                cx.who(trace),
                delayed.len(),
                times.join(", "),
                fastest,
            );
            let evidence = delayed.iter().take(8).flat_map(|t| {
                [
                    Evidence::new(t.request, "request sent"),
                    Evidence::new(
                        t.answer,
                        format!(
                            "answer received: {:.3} s between the hosts, the peer's own handling excluded",
                            t.network
                        ),
                    ),
                ]
            });
            RULE.finding(
                summary,
                "measure the loss: ss -ti (retrans), nstat -az TcpRetransSegs, ip -s link on both hosts and the hops between",
            )
            .with_evidence(evidence)
            .with_fact(format!(
                "Linux waits at least {MIN_RTO} s (TCP_RTO_MIN) before retransmitting a segment of an established connection"
            ))
        })
        .collect()
}

/// Connects that completed only after SYN retransmissions, except those made while their
/// listener's accept queue was full: the server dropped those SYNs (`admission-limit`).
fn slow_connects(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    let slow: Vec<(&ConnectTiming, u32)> = cx
        .outcome
        .connect_timings
        .iter()
        .filter(|t| !syn_dropped_by_full_queue(cx, t.connect))
        .filter_map(|t| syn_retransmissions(t.seconds).map(|k| (t, k)))
        .collect();
    let groups = group_by(slow, |(t, _)| t.connect.trace);
    groups
        .into_iter()
        .map(|(trace, group)| {
            let mut durations: Vec<String> =
                group.iter().map(|(t, _)| format!("{:.3} s", t.seconds)).collect();
            durations.truncate(8);
            let summary = format!(
                "{} waited for {} to complete after SYN retransmissions ({}): packets were lost",
                cx.who(trace),
                plural(group.len() as u64, "connect", "connects"),
                durations.join(", "),
            );
            let evidence = group.iter().flat_map(|(t, k)| {
                let retries = plural(u64::from(*k), "retransmission", "retransmissions");
                let connect = Evidence::new(
                    t.connect,
                    format!(
                        "connect took {:.3} s: about {retries} of its SYN or the server's SYN-ACK",
                        t.seconds
                    ),
                );
                let shown = (t.shown_by != t.connect)
                    .then(|| Evidence::new(t.shown_by, "the connection reported complete"));
                std::iter::once(connect).chain(shown)
            });
            RULE.finding(
                summary,
                "measure the loss: ss -ti (retrans), nstat -az TcpRetransSegs TcpExtTCPSynRetrans, ip -s link on both hosts and the hops between",
            )
            .with_evidence(evidence)
            .with_fact(format!(
                "the retransmission timeout starts at {INITIAL_RTO} s and doubles (RFC 6298), for the client's SYN and the server's SYN-ACK alike: completion after 1, 3, 7... s means 1, 2, 3... SYNs retransmitted, after 2, 4, 6... s a lost SYN-ACK too"
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{syn_retransmissions, RULE};
    use crate::diagnose::Finding;
    use crate::model::round_trips::{RoundTrips, SocketRoundTrips, TimedRoundTrip};
    use crate::model::transfer_stalls::{SocketTransferStalls, TransferStall};
    use crate::model::{ConnectTiming, ReplayOutcome};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    fn timed(seconds: f64) -> ReplayOutcome {
        ReplayOutcome {
            connect_timings: vec![ConnectTiming {
                sock: sock(0, 0),
                connect: loc(0, 5),
                shown_by: loc(0, 9),
                seconds,
            }],
            ..ReplayOutcome::default()
        }
    }

    #[test]
    fn fires_alone_on_a_network_stall_pattern() {
        let found = assert_fires_on(&RULE, timed(3.081));
        assert!(found[0].summary.contains("3.081 s"), "{}", found[0].summary);
        assert!(found[0].evidence[0].note.contains("2 retransmissions"));
    }

    fn round_trips(networks: &[f64]) -> ReplayOutcome {
        let mut trips = RoundTrips::default();
        for (i, network) in networks.iter().enumerate() {
            let line = 10 + 2 * i as u64;
            trips.add(TimedRoundTrip {
                network: *network,
                request: loc(1, line),
                answer: loc(1, line + 1),
            });
        }
        ReplayOutcome {
            round_trips: vec![SocketRoundTrips {
                sock: sock(1, 0),
                trips,
            }],
            ..ReplayOutcome::default()
        }
    }

    #[test]
    fn fires_alone_on_a_round_trip_delayed_by_a_retransmission() {
        let found = assert_fires_on(&RULE, round_trips(&[0.0004, 0.2101, 0.0005]));
        assert!(found[0].summary.contains("1 of 3"), "{}", found[0].summary);
        assert!(found[0].summary.contains("0.210 s"), "{}", found[0].summary);
    }

    #[test]
    fn round_trips_that_vary_by_less_than_the_minimum_timeout_are_silent() {
        // Delayed acknowledgements and scheduling add up to 200 ms, no more.
        let outcome = round_trips(&[0.0004, 0.18, 0.041]);
        assert!(!fired(two_hosts(), outcome).contains(&RULE.id));
    }

    /// telnet through a filter dropping a quarter of the packets: the first line's echo came
    /// back 0.210 s after it was typed, the second's in 0.2 ms (both sides traced).
    #[test]
    fn fires_on_a_recorded_telnet_session_under_loss() {
        let analysis = recorded("apps", "telnet-random-loss");
        let round_trips = analysis
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id && f.summary.contains("round trips"));
        assert_eq!(round_trips.count(), 1, "{:?}", analysis.findings);
    }

    /// lighttpd with a listen backlog of 1: client4's connect completed after 3.074 s because
    /// the accept queue held two connections, not because the link lost its SYNs. With the
    /// server traced the slow connect is `admission-limit`'s evidence; client4 alone cannot
    /// tell, and reports the stall.
    #[test]
    fn a_syn_dropped_by_a_full_accept_queue_is_the_servers_limit() {
        let analysis = recorded("apps", "lighty-backlog-full");
        assert!(
            analysis.findings.iter().all(|f| f.rule != RULE.id),
            "{:?}",
            analysis.findings
        );
        let admission = analysis
            .findings
            .iter()
            .find(|f| f.rule == "admission-limit")
            .expect("admission-limit");
        assert!(
            admission
                .evidence
                .iter()
                .any(|e| e.note.contains("SYNs were dropped") && e.note.contains("3.074 s")),
            "{:?}",
            admission.evidence
        );
        let alone = recorded_view("apps", "lighty-backlog-full", "client4");
        assert!(alone.findings.iter().any(|f| f.rule == RULE.id));
    }

    /// curl's 20 keep-alive requests to nginx traced without `-T`: timed from the calls' start
    /// times, under loss round trips of both hosts spent 0.2 s or more between the hosts;
    /// without loss none did.
    #[test]
    fn round_trips_without_durations_are_timed_from_start_times() {
        let lossy = recorded("apps", "nginx-keepalive-loss-plain");
        let found: Vec<&Finding> = lossy
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id)
            .collect();
        // One finding per host: nginx's answers were late to arrive as well as curl's requests.
        let round_trips = found.iter().filter(|f| f.summary.contains("round trips"));
        assert_eq!(round_trips.count(), 2, "{:?}", lossy.findings);
        // Go's net/http client, reading on an edge-triggered epoll set: the same.
        let go = recorded("apps", "nginx-keepalive-go-loss-plain");
        assert!(
            go.findings
                .iter()
                .any(|f| f.rule == RULE.id && f.summary.contains("round trips")),
            "{:?}",
            go.findings
        );
        let go_healthy = recorded("apps", "nginx-keepalive-go-healthy-plain");
        assert!(go_healthy.findings.iter().all(|f| f.rule != RULE.id));
        let healthy = recorded("apps", "nginx-keepalive-healthy-plain");
        assert!(
            healthy.findings.iter().all(|f| f.rule != RULE.id),
            "{:?}",
            healthy.findings
        );
        // The measurements were there: the round trips were timed, and all were fast.
        assert!(healthy
            .outcome
            .round_trips
            .iter()
            .any(|r| r.trips.count >= 19));
    }

    fn transfer_stall(waited: f64, sender_span: f64) -> ReplayOutcome {
        ReplayOutcome {
            transfer_stalls: vec![SocketTransferStalls {
                receiver: sock(1, 0),
                count: 1,
                slowest: vec![TransferStall {
                    network: waited - sender_span,
                    waited,
                    sender_span,
                    wait: loc(1, 213),
                    receive: loc(1, 218),
                    sent: loc(0, 114),
                }],
            }],
            ..ReplayOutcome::default()
        }
    }

    #[test]
    fn fires_alone_on_a_transfer_that_stalled_between_the_hosts() {
        let found = assert_fires_on(&RULE, transfer_stall(0.224, 0.0));
        assert!(found[0].summary.contains("0.224 s"), "{}", found[0].summary);
        assert_eq!(found[0].evidence.len(), 3);
    }

    #[test]
    fn a_gap_the_sender_made_itself_is_silent() {
        // A rate-limited sender offered the bytes after the gap 0.5 s after those before it.
        assert!(!fired(two_hosts(), transfer_stall(0.51, 0.5)).contains(&RULE.id));
    }

    /// curl downloading a file nginx hands over with one sendfile, through a link dropping a
    /// fifth of the packets, traced with `-T -yy` and plain; wget downloading it from Python's
    /// http.server, which writes it in 64 KiB pieces; a 2 MB file, more than nginx's socket takes
    /// at once, at one packet in twenty lost; Go's net/http and Node.js's http.get, which wait
    /// on epoll sets, downloading the file from nginx, traced both ways; nginx as a reverse proxy
    /// receiving it on its epoll set from Python's http.server, with the loss behind it.
    #[test]
    fn fires_on_recorded_downloads_under_loss() {
        for name in [
            "nginx-download-loss",
            "nginx-download-loss-plain",
            "pyweb-download-loss",
            "nginx-bigfile-loss",
            "nginx-download-go-loss",
            "nginx-download-go-loss-plain",
            "nginx-download-node-loss",
            "nginx-download-node-loss-plain",
            "nginx-proxy-loss",
        ] {
            let analysis = recorded("apps", name);
            assert!(
                analysis
                    .findings
                    .iter()
                    .any(|f| f.rule == RULE.id && f.summary.contains("transfer stalled")),
                "{name}: {:?}",
                analysis.findings
            );
        }
    }

    /// The same downloads without loss, servers that pace their writes (a throttled download)
    /// and clients that read slowly (wget at 512 KB/s while nginx waits for room in its
    /// buffer): no stall.
    #[test]
    fn downloads_without_loss_are_silent() {
        for name in [
            "nginx-download-healthy",
            "nginx-download-healthy-plain",
            "pyweb-download-healthy",
            "nginx-bigfile-healthy",
            "lighty-backlog-wait",
            "apache-backlog-wait",
            "lighty-healthy-plain",
            "apache-healthy",
            "nginx-download-go-healthy",
            "nginx-download-go-healthy-plain",
            "nginx-download-node-healthy",
            "nginx-download-node-healthy-plain",
            "nginx-proxy-healthy",
        ] {
            let analysis = recorded("apps", name);
            assert!(
                analysis.findings.iter().all(|f| f.rule != RULE.id),
                "{name}: {:?}",
                analysis.findings
            );
        }
        // The gaps were measured in the healthy downloads, and none was long (Go's reads never
        // caught up with a healthy download: no gap to measure).
        for name in [
            "nginx-download-healthy-plain",
            "nginx-download-node-healthy",
            "nginx-download-node-healthy-plain",
        ] {
            let healthy = recorded("apps", name);
            assert!(!healthy.outcome.transfer_stalls.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_retransmission_schedule_doubles_from_one_second() {
        assert_eq!(syn_retransmissions(0.002), None);
        assert_eq!(syn_retransmissions(1.004), Some(1));
        assert_eq!(syn_retransmissions(3.2), Some(2));
        assert_eq!(syn_retransmissions(7.01), Some(3));
        assert_eq!(syn_retransmissions(5.0), None);
        assert_eq!(syn_retransmissions(1.7), None);
    }

    /// A Java client through a router dropping 30% of the packets
    /// (java/tcp-random-loss--jblock--jthread--record): `connect(4<TCPv6:[1091346]>, ...) = 0
    /// <2.058427>` and `<2.051406>`: the first SYN lost, the second answered by a SYN-ACK that
    /// was lost too, and the server's own retransmission of it 1 s later.
    #[test]
    fn a_lost_syn_then_a_lost_syn_ack_completes_after_two_seconds() {
        assert_eq!(syn_retransmissions(2.058427), Some(2));
        assert_eq!(syn_retransmissions(2.051406), Some(2));
        assert_eq!(syn_retransmissions(4.1), Some(3));
        let found = findings(two_hosts(), timed(2.058427));
        assert!(rules_of(&found).contains(&RULE.id), "{found:?}");
    }

    #[test]
    fn a_fast_connect_is_silent() {
        assert!(!fired(two_hosts(), timed(0.003)).contains(&RULE.id));
    }

    #[test]
    fn fires_on_recorded_random_loss() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "tcp-random-loss--python--socat--record",
                "tcp-random-loss--python--socat--plain",
                "tcp-random-loss--nc--socat--record",
                "tcp-random-loss--nc--socat--plain",
            ],
        );
    }

    /// (The python client's round trip is timed too, and fast; the plain recording has no `-T`,
    /// so no wait is known to have blocked and nothing is timed.)
    #[test]
    fn the_same_exchanges_without_loss_are_silent() {
        for name in [
            "healthy-tcp-requests--python--socat--record",
            "healthy-tcp-requests--nc--socat--plain",
        ] {
            let analysis = recorded("lab", name);
            assert!(
                analysis.findings.iter().all(|f| f.rule != RULE.id),
                "{name}: {:?}",
                analysis.findings
            );
            // The measurements were there: every connect was timed, and all were fast.
            assert!(!analysis.outcome.connect_timings.is_empty(), "{name}");
        }
    }
}
