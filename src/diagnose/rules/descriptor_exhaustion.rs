//! `descriptor-exhaustion`: calls that create descriptors failed for lack of descriptors.

use super::{deviation_evidence, deviations, group_by};
use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::DeviationKind;
use crate::parse::{Errno, SyscallName};
use crate::source::TraceId;

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

fn start_time(kind: &DeviationKind) -> Option<f64> {
    match kind {
        DeviationKind::UnexpectedFailure { time, .. } => *time,
        _ => None,
    }
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

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let selected = deviations(cx, claims, out_of_descriptors);
    let groups = group_by(selected, |(_, d)| d.loc.trace);
    let mut findings = Vec::new();
    for (trace, group) in groups {
        let mut errnos: Vec<String> = group
            .iter()
            .filter_map(|(_, d)| match d.kind {
                DeviationKind::UnexpectedFailure { errno, call, .. } => {
                    Some(format!("{call} {errno}"))
                }
                _ => None,
            })
            .collect();
        errnos.sort();
        errnos.dedup();
        let times: Vec<f64> = group
            .iter()
            .filter_map(|(_, d)| start_time(&d.kind))
            .collect();
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
            .flat_map(|(_, d)| deviation_evidence(d, "no descriptor left"))
            .chain(waiting);
        findings.push(
            RULE.finding(
                summary,
                "raise the descriptor limit (ulimit -n, LimitNOFILE=) and look for leaks (ls /proc/PID/fd | wc -l)",
            )
            .with_evidence(evidence)
            .with_fact(waiting_fact.unwrap_or_default()),
        );
        for (i, _) in &group {
            claims.claim_deviation(*i);
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
}
