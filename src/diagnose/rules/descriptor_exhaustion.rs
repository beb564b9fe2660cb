//! `descriptor-exhaustion`: calls that create descriptors failed for lack of descriptors.

use super::{deviations, group_by};
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;
use crate::parse::{Errno, SyscallName};
use crate::source::{Loc, TraceId};

pub const RULE: Rule = Rule {
    id: "descriptor-exhaustion",
    class: Class::Application,
    title: "Calls that create descriptors failed because the process or system ran out of them",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
accept, accept4, socket or socketpair failing with EMFILE (the process reached its descriptor
limit, RLIMIT_NOFILE), ENFILE (the system-wide file table is full) or ENOBUFS (the kernel could
not allocate the socket). The finding counts the failures and, when the trace has timestamps,
how long they went on, measured on that one trace's clock.

## Why it matters
A server out of descriptors cannot take new connections: the kernel still completes the clients'
handshakes, so they sit in the listen backlog, connected but unserved, and time out or hang. Many
servers also stop calling accept until a descriptor is freed. The network looks at fault; the
cause is the server's limit or a descriptor leak.

## Evidence
The failing calls, with their errno; the facts name the clients whose connections were never
accepted by that server meanwhile, when they were traced.

## What to do
Raise the limit (`ulimit -n`, `LimitNOFILE=` in a systemd unit) or lower the server's own
connection limit below it; look for descriptor leaks (`ls /proc/PID/fd | wc -l` over time).
";

/// Calls that create a descriptor, whose failure for lack of one this rule explains.
fn creates_descriptor(call: SyscallName) -> bool {
    matches!(
        call,
        SyscallName::Accept | SyscallName::Accept4 | SyscallName::Socket | SyscallName::Socketpair
    )
}

fn out_of_descriptors(kind: &DeviationKind) -> bool {
    matches!(
        kind,
        DeviationKind::UnexpectedFailure { errno: Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS, call, .. }
            if creates_descriptor(*call)
    )
}

/// `over 2.350 s (first to last failure)` from the failures' own timestamps, when the trace has
/// them and there is more than one failure.
fn span_text(times: &[f64]) -> Option<String> {
    if times.len() < 2 {
        return None;
    }
    let first = times.iter().copied().reduce(f64::min)?;
    let last = times.iter().copied().reduce(f64::max)?;
    Some(format!(
        "over {:.3} s (first to last failure, on this trace's clock)",
        last - first
    ))
}

/// The clients whose connections to a listener on `server` were never accepted: connects the
/// kernel completed into the backlog, and connects never seen to complete towards its address.
fn waiting_clients(cx: &Context, server: TraceId) -> Vec<Evidence> {
    let listens_at = |target: std::net::SocketAddr| {
        cx.outcome.listeners.iter().any(|l| {
            l.sock.trace == server
                && l.local.port() == target.port()
                && (l.local.ip().is_unspecified() || l.local.ip() == target.ip())
        })
    };
    let queued = cx
        .outcome
        .tcp
        .iter()
        .filter(|c| c.server.is_none() && c.listener.is_some_and(|l| l.trace == server))
        .map(|c| (c.connect_loc, c.client.trace));
    let pending = cx
        .outcome
        .pending_connects
        .iter()
        .filter(|p| p.sock.trace != server && listens_at(p.target))
        .map(|p| (p.loc, p.sock.trace));
    let mut all: Vec<_> = queued.chain(pending).collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .map(|(loc, client)| {
            Evidence::new(loc, format!("{} waited, never accepted", cx.who(client)))
        })
        .collect()
}

/// One failed call: where, which call, its errno and start time, and the deviation that carries
/// it (none for a failed socket(), which fold reports directly).
struct Failure {
    loc: Loc,
    call: SyscallName,
    errno: Errno,
    time: Option<f64>,
    deviation: Option<usize>,
}

fn is_exhaustion(errno: Errno) -> bool {
    matches!(errno, Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS)
}

/// Failed accepts (model deviations) and failed socket calls (fold), for lack of descriptors.
fn failures(cx: &Context, claims: &Claims) -> Vec<Failure> {
    let accepts = deviations(cx, claims, out_of_descriptors)
        .into_iter()
        .filter_map(|(i, d)| match d.kind {
            DeviationKind::UnexpectedFailure { errno, call, time } => Some(Failure {
                loc: d.loc,
                call,
                errno,
                time,
                deviation: Some(i),
            }),
            _ => None,
        });
    let sockets = cx
        .fold
        .iter()
        .flat_map(|stats| &stats.failed_socket_calls)
        .filter(|f| is_exhaustion(f.errno))
        .map(|f| Failure {
            loc: f.loc,
            call: f.call,
            errno: f.errno,
            time: f.time,
            deviation: None,
        });
    accepts.chain(sockets).collect()
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let groups = group_by(failures(cx, claims), |f| f.loc.trace);
    let mut findings = Vec::new();
    for (trace, group) in groups {
        let mut errnos: Vec<String> = group
            .iter()
            .map(|f| format!("{} {}", f.call, f.errno))
            .collect();
        errnos.sort();
        errnos.dedup();
        let times: Vec<f64> = group.iter().filter_map(|f| f.time).collect();
        let mut summary = format!(
            "{} ran out of descriptors: {} failed ({})",
            cx.who(trace),
            plural(group.len() as u64, "call", "calls"),
            errnos.join(", "),
        );
        if let Some(span) = span_text(&times) {
            summary.push(' ');
            summary.push_str(&span);
        }
        let waiting = waiting_clients(cx, trace);
        let waiting_fact = (!waiting.is_empty()).then(|| {
            format!(
                "never accepted by this server meanwhile: {}",
                plural(waiting.len() as u64, "traced connect", "traced connects")
            )
        });
        let evidence = group
            .iter()
            .map(|f| Evidence::new(f.loc, format!("no descriptor left ({})", f.errno)))
            .chain(waiting);
        findings.push(
            RULE.finding(
                summary,
                "raise the descriptor limit (ulimit -n, LimitNOFILE=) and look for leaks (ls /proc/PID/fd | wc -l)",
            )
            .with_evidence(evidence)
            .with_fact(waiting_fact.unwrap_or_default()),
        );
        for i in group.iter().filter_map(|f| f.deviation) {
            claims.claim_deviation(i);
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::parse::{Errno, SyscallName};
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    fn failed(call: SyscallName, errno: Errno, time: f64) -> DeviationKind {
        DeviationKind::UnexpectedFailure {
            errno,
            call,
            time: Some(time),
        }
    }

    #[test]
    fn fires_alone_on_a_descriptor_exhaustion_pattern() {
        let outcome = ReplayOutcome {
            deviations: vec![
                deviation(
                    failed(SyscallName::Accept4, Errno::EMFILE, 10.0),
                    loc(1, 7),
                    Some(sock(1, 0)),
                ),
                deviation(
                    failed(SyscallName::Accept4, Errno::EMFILE, 12.5),
                    loc(1, 9),
                    Some(sock(1, 0)),
                ),
            ],
            ..ReplayOutcome::default()
        };
        let found = assert_fires_on(&RULE, outcome);
        assert!(found[0].summary.contains("2 calls"), "{}", found[0].summary);
        assert!(
            found[0].summary.contains("over 2.500 s"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn other_failures_are_not_exhaustion() {
        for kind in [
            failed(SyscallName::Accept, Errno::EINVAL, 1.0),
            failed(SyscallName::Bind, Errno::ENOBUFS, 1.0),
        ] {
            assert!(!fired(two_hosts(), with_deviation(kind)).contains(&RULE.id));
        }
    }

    #[test]
    fn fires_on_recorded_descriptor_exhaustion() {
        assert_recorded_scenarios_report(
            &RULE,
            &[
                "fd-exhaustion--nc--python--record",
                "fd-exhaustion--nc--python--plain",
                "fd-exhaustion--python--go--record",
                "fd-exhaustion--python--go--plain",
            ],
        );
    }

    /// A python3 process under `prlimit --nofile=12` creating sockets until socket() fails
    /// (strace -f -tt -T -e trace=socket,close).
    const SOCKETS_UNTIL_EMFILE: &str = "\
12502 13:45:19.325475 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 8 <0.000046>
12502 13:45:19.325566 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 9 <0.000037>
12502 13:45:19.325647 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 11 <0.000037>
12502 13:45:19.330729 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = -1 EMFILE (Too many open files) <0.000096>
12502 13:45:19.331813 close(11)         = 0 <0.002982>
12502 13:45:19.334936 close(9)          = 0 <0.000045>
12502 13:45:19.335043 close(8)          = 0 <0.000038>
12502 13:45:19.338259 +++ exited with 0 +++
";

    #[test]
    fn a_socket_call_out_of_descriptors_fires_too() {
        let path = std::env::temp_dir().join(format!(
            "netcheck-descriptor-exhaustion-{}.trace",
            std::process::id()
        ));
        std::fs::write(&path, SOCKETS_UNTIL_EMFILE).expect("temporary trace");
        let inputs = crate::config::Inputs {
            paths: vec![path.clone()],
            one_host: Vec::new(),
        };
        let analysis = crate::pipeline::run_pipeline(&inputs);
        let _ = std::fs::remove_file(&path);
        let analysis = analysis.expect("pipeline");
        let found: Vec<_> = analysis
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id)
            .collect();
        assert_eq!(found.len(), 1, "{:#?}", analysis.findings);
        assert!(
            found[0].summary.contains("socket EMFILE"),
            "{}",
            found[0].summary
        );
        assert_eq!(found[0].evidence[0].loc.line, 4);
    }
}
