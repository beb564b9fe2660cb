//! Behaviour across rules: a clean outcome, the order of findings, evidence caps, unexplained
//! deviations and the grouping the simple rules share. Each rule's own tests sit in its file
//! under `src/diagnose/rules/`.

use netcheck::model::{DeviationKind, ReplayOutcome};
use netcheck::parse::{Errno, SyscallName};
use netcheck::pipeline::Analysis;
use netcheck::testkit::fixtures::*;
use netcheck::testkit::rules::*;

#[test]
fn a_clean_outcome_has_no_findings() {
    let mut healthy = accepted(120, 120, 120);
    healthy.to_client = stream(4000, 4000, 1448, 3, loc(1, 20));
    let mut outcome = tcp(vec![healthy]);
    outcome.udp = udp(vec![(100, 20, 20), (1472, 5, 5)]).udp;
    outcome.activity = vec![activity(0, 10, 1, &[]), activity(1, 10, 1, &[])];
    assert!(findings(two_hosts(), outcome).is_empty());
}

#[test]
fn findings_are_sorted_by_class_then_rule_then_evidence() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::IpVersionMismatch,
                loc(1, 2),
                Some(sock(1, 0)),
            ),
            deviation(
                DeviationKind::AddressInUse { reuseaddr: false },
                loc(1, 1),
                Some(sock(1, 0)),
            ),
            deviation(DeviationKind::ConnectionReset, loc(0, 9), Some(sock(0, 1))),
            deviation(DeviationKind::ConnectionReset, loc(0, 3), Some(sock(0, 0))),
        ],
        unsupported: vec![("x".into(), 1)],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    let order: Vec<(&str, u64)> = found
        .iter()
        .map(|f| (f.rule, f.evidence.first().map_or(0, |e| e.loc.line)))
        .collect();
    assert_eq!(
        order,
        [
            // Application, then ambiguous (resets of connections no trace shows both ends of),
            // then info.
            ("address-in-use", 1),
            ("connection-reset", 3),
            ("connection-reset", 9),
            ("ip-version-mismatch", 2),
            ("unsupported-call", 0),
        ]
    );
}

#[test]
fn evidence_is_capped_and_the_rest_counted() {
    let deviations = (1..=12)
        .map(|line| {
            deviation(
                DeviationKind::UnexpectedBlocking,
                loc(0, line),
                Some(sock(0, 0)),
            )
        })
        .collect();
    let found = findings(
        two_hosts(),
        ReplayOutcome {
            deviations,
            ..ReplayOutcome::default()
        },
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].evidence.len(), netcheck::diagnose::MAX_EVIDENCE);
    assert!(found[0].facts.iter().any(|f| f.starts_with("4 more")));
}

#[test]
fn deviations_without_a_rule_are_kept_as_unexplained() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::UnexpectedFailure {
                    errno: Errno::EINVAL,
                    call: SyscallName::Listen,
                    time: None,
                },
                loc(0, 4),
                Some(sock(0, 0)),
            ),
            deviation(DeviationKind::ConnectionReset, loc(0, 9), Some(sock(0, 0))),
        ],
        ..ReplayOutcome::default()
    };
    let analysis = Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome);
    assert_eq!(rules_of(&analysis.findings), ["connection-reset"]);
    assert_eq!(analysis.unexplained, [0]);
    let report = netcheck::report::Report::build(&analysis);
    let left = &report.replay.unexplained_deviations;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, "UnexpectedFailure");
    assert_eq!(left[0].line, 4);
}

#[test]
fn simple_rules_group_one_trace_into_one_finding_naming_each_socket() {
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::NonblockInherited,
                loc(1, 4),
                Some(sock(1, 1)),
            ),
            deviation(
                DeviationKind::NonblockInherited,
                loc(1, 9),
                Some(sock(1, 3)),
            ),
            deviation(
                DeviationKind::NonblockInherited,
                loc(0, 2),
                Some(sock(0, 0)),
            ),
        ],
        ..ReplayOutcome::default()
    };
    let found = findings(two_hosts(), outcome);
    assert_eq!(found.len(), 2);
    assert!(found[0].summary.starts_with("socket A0 on host client"));
    assert!(found[1]
        .summary
        .starts_with("sockets B1, B3 on host server (trace B)"));
    assert_eq!(found[1].evidence.len(), 2);
}
