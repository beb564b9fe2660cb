//! `shutdown-order`: refusals, resets and sends into closed connections between programs that
//! were both being stopped: the order in which a run's programs were stopped, not a fault.

use std::collections::BTreeSet;

use super::{
    connection_failures, explained_connection_failures, failed_connect_findings, group_by,
    listener_stopped_before, ConnectionFailure, FailedConnect,
};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::fold::ProgramContext;
use crate::parse::Errno;
use crate::source::TraceId;

pub const RULE: Rule = Rule {
    id: "shutdown-order",
    class: Class::Info,
    title: "Connections failed while the programs were being stopped",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
A failure between two traced programs that were both stopped during the recording. The
program that ended the connection, or stopped listening, did so after it had received SIGTERM,
SIGINT or SIGQUIT, or when it was killed by one of them, or when its trace ended; the program
that saw the failure was stopped too, before or after (by one of those signals, by SIGKILL, or
by the end of its trace). A peer killed by SIGKILL without being asked to stop first does not
count: the OOM killer and `kill -9` end a program that way, and what its peers suffer after is a
fault (`connect-refused`). The failures are connects refused once the
server had stopped listening, resets, and sends into a connection the stopping peer had closed.

## Why it matters
Stopping a cluster, or ending a recording, stops its members one after the other. The members
still running see their peers go away, retry, and fail until they are stopped in turn: the order
of the stop, not a fault. A program that was not asked to stop and saw its peer go away, such as
a client that failed and exited by itself because its server was killed, is a fault, and the
other rules report it (`connect-refused`, `connection-reset`, `send-after-peer-closed`).

## Evidence
The failing calls with the peer's close or its process's death, and where each program received
its stop signal.

## What to do
Nothing, unless the programs should not have been stopped. To record a run without these, stop
the clients before their servers.

Precedence: runs before the refusal, reset and send rules, and claims what it explains (with the
bytes left unreceived on those connections).
";

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let mut findings = refusals(cx, claims);
    findings.extend(connection_findings(cx, claims));
    findings
}

/// Connects refused after the server's listener closed while its program was being stopped.
fn refusals(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let select = |f: &FailedConnect| {
        f.errno == Errno::ECONNREFUSED
            && cx.was_stopped(f.deviation.loc.trace)
            && listener_stopped_before(cx, f).is_some()
    };
    let findings = failed_connect_findings(
        cx,
        claims,
        &RULE,
        select,
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} {count} time(s) after its server \
                     had been stopped, while it was going to be stopped too (shutdown order)"
                ),
                "nothing to fix unless the server should not have stopped; stop clients before \
                 their servers to record a run without these"
                    .to_string(),
            )
        },
        |f| {
            listener_stopped_before(cx, f)
                .map(|l| {
                    vec![format!(
                        "{} stopped listening when its program was being stopped",
                        cx.sock(l.sock)
                    )]
                })
                .unwrap_or_default()
        },
    );
    findings
        .into_iter()
        .map(|f| with_stop_requests(cx, f))
        .collect()
}

/// Resets and sends into closed connections whose peer closed while being stopped, seen by a
/// program that was stopped too; one finding per (failing trace, peer trace).
fn connection_findings(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let failures = connection_failures(cx, claims, |c, is_client| {
        let peer_end = if is_client {
            c.ends.server
        } else {
            c.ends.client
        };
        peer_end == Some(ProgramContext::Stopping)
    });
    let failures = failures
        .into_iter()
        .filter(|f| cx.was_stopped(f.deviation.loc.trace));
    let groups = group_by(failures, |f| (f.deviation.loc.trace, peer_trace(f)));
    let mut findings = Vec::new();
    for ((trace, peer), group) in groups {
        let socks: BTreeSet<String> = group
            .iter()
            .filter_map(|f| f.deviation.sock.map(|s| s.to_string()))
            .collect();
        let peer_who = peer.map_or_else(|| "its peer".to_string(), |p| cx.who(p));
        let finding = RULE
            .finding(
                format!(
                    "{} saw {} reset(s) or send(s) into closed connections (socket(s) {}) after \
                     {peer_who} had been stopped, while it was going to be stopped too (shutdown \
                     order)",
                    cx.who(trace),
                    group.len(),
                    socks.into_iter().collect::<Vec<_>>().join(", ")
                ),
                "nothing to fix unless the peer should not have stopped; stop clients before \
                 their servers to record a run without these",
            )
            .with_fact(
                "because: the peer closed these connections while it was being stopped (a stop \
                 signal, or its process's death), and this program was asked to stop as well",
            );
        let finding = explained_connection_failures(
            cx,
            claims,
            finding,
            &group,
            "failure after the peer was stopped",
        );
        findings.push(with_stop_requests(cx, finding));
    }
    findings
}

/// The trace at the other end of the failure's connection.
fn peer_trace(f: &ConnectionFailure) -> Option<TraceId> {
    if f.is_client {
        f.record.server.map(|s| s.trace)
    } else {
        Some(f.record.client.trace)
    }
}

/// `finding` with, as evidence, where each program it names was asked to stop.
fn with_stop_requests(cx: &Context, finding: Finding) -> Finding {
    let traces: BTreeSet<TraceId> = finding.evidence.iter().map(|e| e.loc.trace).collect();
    let stops: Vec<Evidence> = traces
        .into_iter()
        .filter_map(|t| cx.fold.get(t.0 as usize)?.stop_requested)
        .map(|loc| Evidence::new(loc, "the program was asked to stop here"))
        .collect();
    finding.with_evidence(stops)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::fold::ProgramContext;
    use crate::model::{DeviationKind, ReplayOutcome};
    use crate::pipeline::Analysis;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// The client (A) saw a reset on A0 after the server (B) closed its end while stopping.
    fn reset_after_server_stopped() -> ReplayOutcome {
        let mut c = accepted(100, 100, 100);
        c.ends.server = Some(ProgramContext::Stopping);
        let mut outcome = tcp(vec![c]);
        let mut reset = deviation(DeviationKind::ConnectionReset, loc(0, 30), Some(sock(0, 0)));
        reset.related = vec![loc(1, 40)];
        outcome.deviations.push(reset);
        outcome
    }

    #[test]
    fn fires_alone_when_both_programs_were_stopped() {
        let found = assert_fires_on_traces(
            &RULE,
            reset_after_server_stopped(),
            stopped_at(Some(50), Some(35)),
        );
        let stops: Vec<_> = found[0]
            .evidence
            .iter()
            .filter(|e| e.note.contains("asked to stop"))
            .map(|e| e.loc)
            .collect();
        assert_eq!(stops, [loc(0, 50), loc(1, 35)]);
    }

    /// A client that was not stopped and lost its server is a fault, whatever stopped the
    /// server.
    #[test]
    fn a_program_that_was_not_stopped_keeps_its_fault() {
        let found = Analysis::new(
            two_hosts(),
            none(),
            stopped_at(None, Some(35)),
            reset_after_server_stopped(),
        )
        .findings;
        assert_eq!(rules_of(&found), ["connection-reset"]);
    }

    #[test]
    fn a_peer_that_closed_while_running_keeps_the_fault() {
        let mut outcome = reset_after_server_stopped();
        outcome.tcp[0].ends.server = Some(ProgramContext::Running);
        let found =
            Analysis::new(two_hosts(), none(), stopped_at(Some(50), Some(35)), outcome).findings;
        assert_eq!(rules_of(&found), ["connection-reset"]);
    }

    /// apps/etcd-healthy, e3.trace:890 against e1.trace: e1 received SIGTERM (:695) and was
    /// killed by it (:833, …838.447643), closing its peer listener; e3, stopped itself later
    /// (:957), was refused reconnecting at …838.488022.
    fn refused_after_listener_stopped(context: ProgramContext) -> ReplayOutcome {
        refused_against(
            (890, 838.488022),
            (120, 836.118758),
            (833, 838.447643),
            context,
        )
    }

    #[test]
    fn a_refusal_after_a_stopped_listener_is_shutdown_order() {
        assert_fires_on_traces(
            &RULE,
            refused_after_listener_stopped(ProgramContext::Stopping),
            stopped_at(Some(957), Some(695)),
        );
    }

    /// apps/ha-backends-stopped-first: nginx's master closes its listener while being stopped
    /// (web2.trace:163, …324.191536); HAProxy's health check is refused at …324.673374
    /// (haproxy.trace:787), and HAProxy is stopped later (:838). The replay had the listener
    /// still open (closes of listeners go last), but nothing orders the two, and the clocks as
    /// they read agree with the refusal.
    #[test]
    fn a_refusal_the_replay_placed_before_a_stopped_listener_closed_is_shutdown_order() {
        let mut outcome = refused_against(
            (787, 1796601324.673374),
            (66, 1796601322.090631),
            (163, 1796601324.191536),
            ProgramContext::Stopping,
        );
        if let Some(DeviationKind::ConnectFailed { listener, .. }) =
            outcome.deviations.first_mut().map(|d| &mut d.kind)
        {
            *listener = Some(sock(1, 0));
        }
        assert_fires_on_traces(&RULE, outcome, stopped_at(Some(838), Some(150)));
    }

    /// lab/killed-listener: the server is killed, the client is refused and exits by itself
    /// with an error: that is the fault.
    #[test]
    fn a_client_that_was_not_stopped_is_refused_for_real() {
        let found = Analysis::new(
            two_hosts(),
            none(),
            stopped_at(None, Some(695)),
            refused_after_listener_stopped(ProgramContext::Stopping),
        )
        .findings;
        assert_eq!(rules_of(&found), ["connect-refused"]);
    }

    #[test]
    fn fires_on_a_recorded_etcd_cluster_stop() {
        let analysis = recorded("apps", "etcd-healthy");
        let found: Vec<_> = analysis
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id)
            .collect();
        assert!(found.iter().any(|f| f.summary.contains("refused")));
        assert!(found
            .iter()
            .any(|f| f.summary.contains("reset(s) or send(s)")));
    }

    /// apps/redis-primary-stopped-first: the primary is stopped (SIGTERM) before its replica,
    /// whose reconnects once a second are refused (replica.trace:537) until it is stopped
    /// itself (:685); nothing else is reported.
    #[test]
    fn fires_alone_on_a_recorded_redis_primary_stopped_first() {
        let analysis = recorded("apps", "redis-primary-stopped-first");
        let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [RULE.id]);
        assert!(analysis.findings[0].summary.contains("refused"));
    }
}
