//! `refused-before-listening`: connects refused until the server listened, then one succeeded:
//! start-up order, not a fault.

use super::{failed_connect_findings, failed_connects, FailedConnect};
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::model::tcp::load::FirstConnection;
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "refused-before-listening",
    class: Class::Info,
    title: "Connects were refused until the server listened; a later connect succeeded",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
Connects from one trace to one address that failed with ECONNREFUSED, followed, later in the
same trace file, by a connect to the same address that a traced server accepted (or, when no
trace serves that address, that the client saw complete). The client
retried until its server was up: members of a cluster starting together (etcd, a database and
its replicas, a service and its dependencies) dial each other before every one listens.

## Why it matters
Nothing is broken: the client's retries did their job. Reported as information, so that a run
recorded from start-up does not read as a failure; the count shows how long the client waited
for its server.

## Evidence
The refused connects and the first connect to the same address that succeeded.

## What to do
Nothing, unless start-up takes too long: then start the servers first, or have the clients wait
for them (readiness checks, `systemd` ordering).

Precedence: runs before `connect-refused`, which reports refusals never followed by a success
(the client gave up, or the server went away for good).
";

/// The first connect of `trace` to `target` accepted by a traced server, if it came after `at`
/// in the same trace file.
fn success_after(
    firsts: &[FirstConnection],
    at: crate::source::Loc,
    target: std::net::SocketAddr,
) -> Option<&FirstConnection> {
    firsts.iter().find(|f| {
        f.target == target
            && f.connect.trace == at.trace
            && f.connect.file == at.file
            && f.connect.line > at.line
    })
}

fn detect(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let firsts = &cx.outcome.first_connections;
    let select = |f: &FailedConnect| {
        f.errno == Errno::ECONNREFUSED && success_after(firsts, f.deviation.loc, f.target).is_some()
    };
    // The groups in the order their findings come out, for the success each one ended with.
    let successes: Vec<Option<&FirstConnection>> = failed_connects(cx, claims, select)
        .into_values()
        .map(|group| {
            let last = group.iter().map(|f| f.deviation.loc).max()?;
            success_after(firsts, last, group.first()?.target)
        })
        .collect();
    let findings = failed_connect_findings(
        cx,
        claims,
        &RULE,
        select,
        |who, target, _, count| {
            (
                format!(
                    "{who} was refused connecting to {target} {count} time(s) before its server \
                     listened; a later connect succeeded (start-up order)"
                ),
                "nothing to fix unless start-up is slow: start the server first, or make the \
                 client wait for it"
                    .to_string(),
            )
        },
        |_| Vec::new(),
    );
    findings
        .into_iter()
        .zip(successes)
        .map(|(finding, success)| match success {
            Some(first) => finding.with_evidence([Evidence::new(
                first.connect,
                "the first connect that succeeded",
            )]),
            None => finding,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::tcp::load::FirstConnection;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    fn refused_then(connected_line: u64) -> crate::model::ReplayOutcome {
        let mut outcome = connect_failed(Errno::ECONNREFUSED, false);
        outcome.first_connections = vec![FirstConnection {
            target: addr("10.0.0.2:80"),
            connect: loc(0, connected_line),
        }];
        outcome
    }

    /// etcd members starting together: a peer's refusals end once it listens.
    #[test]
    fn fires_alone_on_a_refusal_followed_by_a_success() {
        let found = assert_fires_on(&RULE, refused_then(20));
        assert!(found[0].evidence.iter().any(|e| e.loc == loc(0, 20)));
    }

    #[test]
    fn a_refusal_after_the_last_success_is_left_to_connect_refused() {
        assert_eq!(
            rules_of(&findings(two_hosts(), refused_then(3))),
            ["connect-refused"]
        );
    }

    /// etcd-healthy seen from e2 alone: its refusal by e1 (e2.trace:150) is followed by a
    /// connect to e1 it saw complete (SO_ERROR 0), which is all one side can show.
    #[test]
    fn a_connect_the_client_saw_complete_is_the_success_from_one_side() {
        let analysis = recorded_view("apps", "etcd-healthy", "e2");
        let rules: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&RULE.id), "{rules:?}");
        assert!(!rules.contains(&"connect-refused"), "{rules:?}");
    }

    /// A three-member etcd cluster started together: e2 and e3 dial e1's peer port before it
    /// listens, and connect once it does.
    #[test]
    fn fires_on_a_recorded_etcd_cluster_start() {
        let analysis = recorded("apps", "etcd-healthy");
        let found: Vec<_> = analysis
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id)
            .collect();
        assert!(!found.is_empty(), "{:?}", analysis.findings);
        assert!(found.iter().all(|f| f
            .evidence
            .iter()
            .any(|e| e.note == "the first connect that succeeded")));
    }
}
