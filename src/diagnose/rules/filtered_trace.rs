//! `filtered-trace`: a trace recorded with a system-call filter (`-e trace=network`) lacks the
//! writes, reads and descriptor flags of its sockets; what only they would show is not checked.
//! One recorded with only its failed calls (`-Z`, `-e status=failed`) lacks nearly everything.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::{deviations, lossy_udp_flows, unexplained_unreceived};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::{DeviationKind, PendingConnect};
use crate::order::filtered::{
    hidden_reader, hidden_sender, hides_connect_ends, hides_generic_calls, hides_mode_calls,
    shows_failed_calls_only,
};
use crate::source::{Loc, TraceId};

pub const RULE: Rule = Rule {
    id: "filtered-trace",
    class: Class::Info,
    title: "A trace was recorded with a filter: some of its sockets' calls are not in it",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A trace whose every system call is a network one (socket, connect, accept, send, recv and the
like, `sendfile` among them): no `close`, no `read` or `write`, no `mmap`, nothing a program
runs without. It was recorded with a filter such as `strace -e trace=network`. Such a trace
hides what programs do to sockets with the generic calls: `write`, `writev`, `read`, `close`,
`dup2`, and `fcntl` or `ioctl` setting O_NONBLOCK; and it hides fork, so its workers appear from
nowhere.

## Why it matters
Bytes sent with `write` reach the peer with no traced send, bytes read with
`read` leave no traced receive, and a socket made nonblocking by `fcntl` looks blocking.
Reported as information, with what it explains: bytes the peer received from this trace that
no traced call sent (for a datagram, one from this trace's host when all its traces are
filtered), bytes sent to this trace that no traced call received, datagrams sent back to the
address such a hidden write came from, and would-block results on this trace's sockets, which
are not faults here. A filter that lets reads, writes and closes through but not `fcntl` and
`ioctl` (`-e trace=%network,read,write,close`: no `fcntl`, `ioctl`, `mmap` or `brk` in the trace)
still hides how its sockets were made nonblocking, and fork: their would-block results, and bytes
sent to it that no traced call received (a child whose fork the filter hid read them on a
descriptor its parent had closed), are explained the same way.

## Evidence
The first call of the trace, and the calls the filter explains.

## What to do
Record without a filter (`netcheck record`, or `strace -f -tt -T -yy -s 256`): the size of a
full trace is what the checks need.

A trace with calls none of which succeeded was recorded with `-Z` or `-e status=failed`: every
program's first call (`execve`) and its loader's `mmap`s succeed. Such a trace lacks the
sockets' creation, their connects, accepts, sends and receives, so nothing it did on the network
can be checked; it is reported whatever it explains, so that a report with no problem is not
taken for a healthy run. The failures it shows (a refused connect) are still real, and the rules
report them.

A filter by name such as `-e trace=connect` hides even the `socket` calls; the connects it shows
are replayed (see docs/model.md). A trace of network calls only, all of which failed, is such a
filter (or `-Z` with one): its failures are checked. When neither a readiness wait nor a
socket-option call is in a trace, or it shows failed calls only, how its nonblocking connects
ended is hidden (the wait or `getsockopt(SO_ERROR)` that told the program): a connect in
progress at the end is reported here rather than as `connect-never-completed`. Bytes sent to a
filtered trace's socket after its close in the replay are explained the same way when the send
met no error: the reads that came before that close are hidden.

Precedence: runs before `data-mismatch`, `unexpected-blocking` and `data-unreceived`, and claims
what it explains.
";

/// Did the filter hide this trace's other calls?
fn filtered(cx: &Context, trace: TraceId) -> bool {
    cx.parse
        .get(trace.0 as usize)
        .is_some_and(hides_generic_calls)
}

/// Did the filter hide the calls that set this trace's descriptors' mode?
fn mode_hidden(cx: &Context, trace: TraceId) -> bool {
    cx.parse.get(trace.0 as usize).is_some_and(hides_mode_calls)
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    // The trace the filter hid a call of, for each deviation it explains.
    let explained = deviations(cx, claims, |k| {
        matches!(
            k,
            DeviationKind::UnknownData
                | DeviationKind::UnexpectedBlocking
                | DeviationKind::SendAfterPeerClosed { errno: None }
        )
    })
    .into_iter()
    .filter_map(|(index, d)| {
        let hidden_in = match d.kind {
            // The bytes came from the peer: its writes may be what the filter hid.
            DeviationKind::UnknownData => hidden_sender(cx.outcome, cx.topology, cx.parse, d)?,
            // The peer closed after reads the filter hid.
            DeviationKind::SendAfterPeerClosed { .. } => hidden_reader(cx.outcome, cx.parse, d)?,
            // The socket's own program may have set O_NONBLOCK with a call the filter hid.
            _ => Some(d.sock?.trace).filter(|&t| mode_hidden(cx, t))?,
        };
        Some((hidden_in, index, d))
    });
    let mut by_trace: BTreeMap<TraceId, Vec<(Option<usize>, Evidence)>> = BTreeMap::new();
    for (trace, index, d) in explained {
        let evidence = Evidence::new(d.loc, "explained by the filter, not checked");
        by_trace
            .entry(trace)
            .or_default()
            .push((Some(index), evidence));
    }
    // Bytes a filtered receiver never received by a traced call: it may have read them with
    // `read` or `readv`, which the filter hid, or in a process whose fork it hid (socat's
    // parent closes the accepted socket right after forking the child that reads it, so the
    // child's reads name a descriptor the trace shows closed).
    for s in unexplained_unreceived(cx, claims) {
        let Some(receiver) = s.receiver.filter(|r| mode_hidden(cx, r.trace)) else {
            continue;
        };
        claims.claim_stream(s.index, s.dir);
        let loc = s.stream.stats.last_send.unwrap_or(s.connection.connect_loc);
        let evidence = Evidence::new(loc, "bytes its peer may have read with hidden calls");
        by_trace
            .entry(receiver.trace)
            .or_default()
            .push((None, evidence));
    }
    // Datagrams back to an address a hidden `write` sent from: the same socket may have read
    // them with a hidden `read` (a request and its answer over UDP).
    let hidden_sources: Vec<(SocketAddr, TraceId)> = cx
        .outcome
        .deviations
        .iter()
        .filter_map(|d| {
            Some((
                d.source?,
                hidden_sender(cx.outcome, cx.topology, cx.parse, d)?,
            ))
        })
        .collect();
    for (index, flow, _, _) in lossy_udp_flows(cx, claims) {
        let Some(&(_, receiver)) = hidden_sources
            .iter()
            .find(|(a, _)| *a == flow.receiver_addr)
        else {
            continue;
        };
        super::claim_lossy_flow(cx, claims, index);
        let evidence = Evidence::new(
            flow.first_send,
            "datagrams its peer may have read with hidden calls",
        );
        by_trace.entry(receiver).or_default().push((None, evidence));
    }
    // Connects in progress whose end the filter hid: the wait that reported it (POLLOUT, or
    // POLLERR for a refusal) and the close are not in a trace without generic calls.
    for p in cx
        .outcome
        .pending_connects
        .iter()
        .filter(|p| end_hidden_by_filter(cx, p))
    {
        let evidence = Evidence::new(p.loc, "connect in progress; the filter hid how it ended");
        by_trace
            .entry(p.sock.trace)
            .or_default()
            .push((None, evidence));
    }
    let mut findings = Vec::new();
    for (trace, finding) in failed_calls_only(cx) {
        // What the filter explains in such a trace is evidence of the same finding.
        let explained = by_trace.remove(&trace).unwrap_or_default();
        let mut finding = finding;
        for (index, evidence) in explained {
            if let Some(index) = index {
                claims.claim_deviation(index);
            }
            finding = finding.with_evidence([evidence]);
        }
        findings.push(finding);
    }
    for (trace, group) in by_trace {
        let (summary, because) = if filtered(cx, trace) {
            (
                format!(
                    "{} holds only network system calls (recorded with a filter such as -e \
                     trace=network): {} check(s) on bytes it wrote or read, sockets it made \
                     nonblocking or connects whose end it hid were left out",
                    cx.who(trace),
                    group.len()
                ),
                "because: a program always makes calls other than network ones; a trace without \
                 any was filtered, and write, read and fcntl on its sockets are not in it",
            )
        } else {
            (
                format!(
                    "{} holds no fcntl, ioctl or memory-mapping call (recorded with a filter such \
                     as -e trace=%network,read,write,close): {} check(s) on sockets it made \
                     nonblocking or bytes it read in processes whose fork the filter hid were \
                     left out",
                    cx.who(trace),
                    group.len()
                ),
                "because: every program maps memory (mmap, brk); a trace without any was \
                 filtered, and the fcntl or ioctl that made its sockets nonblocking, or the fork \
                 of the process that read its bytes, may be what the filter hid",
            )
        };
        let mut finding = RULE
            .finding(
                summary,
                "record without a system-call filter (netcheck record) to check them",
            )
            .with_fact(because);
        for (index, evidence) in group {
            if let Some(index) = index {
                claims.claim_deviation(index);
            }
            finding = finding.with_evidence([evidence]);
        }
        findings.push(finding);
    }
    findings
}

/// Did the filter of `pending`'s trace hide how that connect ended (see
/// [`hides_connect_ends`])?
pub(super) fn end_hidden_by_filter(cx: &Context, pending: &PendingConnect) -> bool {
    cx.parse
        .get(pending.sock.trace.0 as usize)
        .is_some_and(hides_connect_ends)
}

/// One finding per trace that shows only failed calls, evidence its first line.
fn failed_calls_only(cx: &Context) -> Vec<(TraceId, Finding)> {
    (0u32..)
        .zip(cx.parse)
        .filter(|(_, parse)| shows_failed_calls_only(parse))
        .map(|(index, _)| {
            let trace = TraceId(index);
            if filtered(cx, trace) {
                return (trace, only_failed_network_calls(cx, trace));
            }
            let finding = RULE
                .finding(
                    format!(
                        "{} holds only calls that failed (recorded with -Z or -e status=failed): \
                     the sockets it made and every connect, accept, send or receive that worked \
                     are not in it, so what it did on the network is checked only where a call \
                     failed",
                        cx.who(trace)
                    ),
                    "record without -Z and -e status= (netcheck record) to check it",
                )
                .with_fact(
                    "because: a program's first call (execve) and its loader's mmap calls always \
                     succeed; a trace without any success shows its failures only",
                )
                .with_evidence([Evidence::new(Loc::new(trace, 1), "the trace's first line")]);
            (trace, finding)
        })
        .collect()
}

/// A trace of network calls only, every one of which failed: a filter by name let through calls
/// that all failed here (`-e trace=connect` on a program whose connects were refused), or `-Z`
/// with such a filter. The failures it shows are checked; what succeeded is not in it.
fn only_failed_network_calls(cx: &Context, trace: TraceId) -> Finding {
    RULE.finding(
        format!(
            "{} holds only network calls, none of which succeeded (recorded with a filter such \
             as -e trace=connect, or with -Z): the failures it shows are checked, the sockets it \
             made and every call that succeeded or that the filter left out are not",
            cx.who(trace)
        ),
        "record without a system-call filter and without -Z (netcheck record) to check the rest",
    )
    .with_fact(
        "because: a program always makes calls other than network ones, and its first call \
         (execve) succeeds; a trace with neither was filtered",
    )
    .with_evidence([Evidence::new(Loc::new(trace, 1), "the trace's first line")])
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::parse::ParseStats;
    use crate::pipeline::Analysis;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// Parse counters for traces A and B; `filtered` traces show no call but network ones.
    fn parse(client_filtered: bool, server_filtered: bool) -> Vec<ParseStats> {
        [client_filtered, server_filtered]
            .into_iter()
            .map(|filtered| {
                let mut p = ParseStats {
                    calls: 20,
                    successes: crate::parse::Successes::Seen,
                    ..ParseStats::default()
                };
                if !filtered {
                    // A full trace: generic descriptor calls, an fcntl among them, and the
                    // loader's mmaps.
                    p.generic_descriptor_calls = 12;
                    p.mode_calls = 1;
                    p.ignored.insert("mmap".to_string(), 8);
                }
                p
            })
            .collect()
    }

    /// curl (B) under `strace -f -tt -Z` against a server that accepted and never read: the
    /// trace shows the connect's EINPROGRESS and nothing it did after.
    #[test]
    fn a_trace_of_failed_calls_only_is_reported_whatever_it_explains() {
        let mut stats = parse(false, false);
        stats[1].successes = crate::parse::Successes::NoneYet;
        let found = assert_fires_alone(&RULE, two_hosts(), ReplayOutcome::default(), stats);
        assert_eq!(found.len(), 1);
        assert!(found[0].summary.contains("-Z"), "{}", found[0].summary);
        assert_eq!(found[0].evidence[0].loc.line, 1);
    }

    /// lab/healthy-http--curl--nginx--network: curl (A) receives nginx's answer, which nginx (B)
    /// wrote with writev, a call `-e trace=network` leaves out.
    fn answer_from_untraced_writes() -> ReplayOutcome {
        let mut outcome = tcp(vec![accepted(88, 88, 88)]);
        outcome.deviations.push(deviation(
            DeviationKind::UnknownData,
            loc(0, 16),
            Some(sock(0, 0)),
        ));
        outcome
    }

    #[test]
    fn fires_alone_on_bytes_from_a_filtered_trace() {
        let found = assert_fires_alone(
            &RULE,
            two_hosts(),
            answer_from_untraced_writes(),
            parse(true, true),
        );
        assert!(
            found[0].summary.contains("host server"),
            "{}",
            found[0].summary
        );
    }

    /// The server (B) read the client's 40 bytes with `read`, which the filter hid: no traced
    /// receive took them.
    #[test]
    fn explains_bytes_a_filtered_receiver_took_with_hidden_reads() {
        let outcome = tcp(vec![accepted(40, 0, 40)]);
        let found =
            Analysis::new(two_hosts(), parse(false, true), Vec::new(), outcome.clone()).findings;
        assert_eq!(rules_of(&found), ["filtered-trace"]);
        // A full receiving trace keeps the bytes unreceived.
        let found = Analysis::new(two_hosts(), parse(true, false), Vec::new(), outcome).findings;
        assert_eq!(rules_of(&found), ["data-unreceived"]);
    }

    /// apps/ftp-healthy-network: vsftpd's trace keeps its `sendfile` calls under
    /// `-e trace=network` (strace counts them as network calls) and no generic call; its
    /// `write`s and `read`s on the control connection and its `fcntl`s are hidden.
    #[test]
    fn a_trace_that_kept_only_sendfile_is_still_filtered() {
        let analysis = recorded("apps", "ftp-healthy-network");
        let fired = rules_of(&analysis.findings);
        assert!(!fired.is_empty(), "{fired:?}");
        assert!(fired.iter().all(|r| *r == "filtered-trace"), "{fired:?}");
    }

    #[test]
    fn bytes_from_a_full_trace_stay_a_mismatch() {
        let found = Analysis::new(
            two_hosts(),
            parse(true, false),
            Vec::new(),
            answer_from_untraced_writes(),
        )
        .findings;
        assert_eq!(rules_of(&found), ["data-mismatch"]);
    }

    /// Healthy runs of other programs recorded with `strace -f -tt -e trace=network`: Redis
    /// and Mosquitto answer with `write`, memcached reads with `read`, socat sends its UDP get
    /// with `write`, all hidden; only this note is reported.
    #[test]
    fn is_the_only_finding_on_recorded_filtered_healthy_runs() {
        for scenario in [
            "redis-healthy-network",
            "mqtt-healthy-network",
            "mc-healthy-network",
        ] {
            let analysis = crate::testkit::rules::recorded("apps", scenario);
            let rules: std::collections::BTreeSet<_> =
                analysis.findings.iter().map(|f| f.rule).collect();
            assert_eq!(
                rules.into_iter().collect::<Vec<_>>(),
                [RULE.id],
                "{scenario}"
            );
            assert!(analysis.outcome.blocked.is_empty(), "{scenario}");
        }
    }

    /// apps/redis-bind-localhost-network: the refusal of a client by a server bound to loopback
    /// still shows under the filter.
    #[test]
    fn a_filtered_fault_keeps_its_main_finding() {
        let analysis = crate::testkit::rules::recorded("apps", "redis-bind-localhost-network");
        let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&"loopback-bound-external-peer"));
        assert!(rules.contains(&RULE.id));
    }

    /// curl (A) under `strace -f -tt -e trace=connect`: its connect to 10.0.0.2:80 returned
    /// EINPROGRESS, and the poll and getsockopt that told curl how it ended are not in the trace.
    fn connect_left_in_progress() -> ReplayOutcome {
        ReplayOutcome {
            pending_connects: vec![pending(sock(0, 0), "10.0.0.2:80", loc(0, 3))],
            ..ReplayOutcome::default()
        }
    }

    #[test]
    fn a_connect_whose_end_the_filter_hid_is_reported_here_not_as_never_completed() {
        let found = Analysis::new(
            two_hosts(),
            parse(true, false),
            Vec::new(),
            connect_left_in_progress(),
        )
        .findings;
        assert_eq!(rules_of(&found), ["filtered-trace"]);
        assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 3)));
        // A filtered trace that shows socket-option calls (`-e trace=network`) would show the
        // getsockopt that ended the connect: it never completed.
        let mut shows_options = parse(true, false);
        shows_options[0].option_calls = 2;
        let found = Analysis::new(
            two_hosts(),
            shows_options,
            Vec::new(),
            connect_left_in_progress(),
        )
        .findings;
        assert_eq!(rules_of(&found), ["connect-never-completed"]);
    }

    /// filters/refused-curl--conn and drop-curl--conn: curl's connect refused, then dropped, seen
    /// through `-e trace=connect`; filters/refused-curl--cio: the same refusal with getsockopt in
    /// the filter, which shows it.
    #[test]
    fn recorded_connects_under_a_connect_filter() {
        for scenario in ["refused-curl--conn", "drop-curl--conn"] {
            let analysis = recorded("filters", scenario);
            assert_eq!(rules_of(&analysis.findings), [RULE.id], "{scenario}");
        }
        let analysis = recorded("filters", "refused-curl--cio");
        assert!(rules_of(&analysis.findings).contains(&"connect-refused"));
    }

    /// filters/refused-python--conn: a Python client's blocking connect refused, the only call
    /// `-e trace=connect` shows: a filter by name, not `-Z`, whose failure is checked.
    #[test]
    fn a_trace_of_failed_network_calls_only_is_a_filter_by_name() {
        let analysis = recorded("filters", "refused-python--conn");
        let fired = rules_of(&analysis.findings);
        assert!(fired.contains(&"connect-refused"), "{fired:?}");
        let note = analysis
            .findings
            .iter()
            .find(|f| f.rule == RULE.id)
            .expect("the filter is named");
        assert!(
            note.summary.contains("-e trace=connect"),
            "{}",
            note.summary
        );
    }

    /// The server (B) answered after the client (A) had closed in the replay; the client's trace
    /// hides its reads, which came before that close.
    fn answer_after_a_filtered_close() -> ReplayOutcome {
        let mut outcome = tcp(vec![accepted(29, 29, 29)]);
        outcome.deviations.push(deviation(
            DeviationKind::SendAfterPeerClosed { errno: None },
            loc(1, 40),
            Some(sock(1, 1)),
        ));
        outcome
    }

    #[test]
    fn a_send_after_the_close_of_a_peer_whose_reads_were_hidden_is_explained() {
        let found = Analysis::new(
            two_hosts(),
            parse(true, false),
            Vec::new(),
            answer_after_a_filtered_close(),
        )
        .findings;
        assert_eq!(rules_of(&found), ["filtered-trace"]);
        let found = Analysis::new(
            two_hosts(),
            parse(false, false),
            Vec::new(),
            answer_after_a_filtered_close(),
        )
        .findings;
        assert!(rules_of(&found).contains(&"send-after-peer-closed"));
    }
}
