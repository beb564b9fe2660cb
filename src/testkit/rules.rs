//! Hand-made outcomes for the rules' tests, and the checks every rule's pattern must pass.

use std::path::Path;

use super::fixtures::*;
use crate::config::{Inputs, Topology};
use crate::diagnose::registry::RULES;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Class, Finding};
use crate::fold::{FoldStats, ProgramContext};
use crate::model::{CallSpan, DeviationKind, ListenerRecord, ReplayOutcome, TcpConnection};
use crate::parse::{Errno, ParseStats};
use crate::pipeline::{run_pipeline, Analysis};

/// A client (10.0.0.1, trace A) and a server (10.0.0.2, trace B).
pub fn two_hosts() -> Topology {
    topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])])
}

/// The findings of `outcome` over `topology`.
pub fn findings(topology: Topology, outcome: ReplayOutcome) -> Vec<Finding> {
    Analysis::new(topology, Vec::new(), Vec::new(), outcome).findings
}

/// The rule of each finding, in report order, repeats removed.
pub fn rules_of(findings: &[Finding]) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = findings.iter().map(|f| f.rule).collect();
    rules.dedup();
    rules
}

/// The rules that fire on `outcome` over `topology`.
pub fn fired(topology: Topology, outcome: ReplayOutcome) -> Vec<&'static str> {
    rules_of(&findings(topology, outcome))
}

/// One deviation of `kind` at A:7 on socket A0.
pub fn with_deviation(kind: DeviationKind) -> ReplayOutcome {
    ReplayOutcome {
        deviations: vec![deviation(kind, loc(0, 7), Some(sock(0, 0)))],
        ..ReplayOutcome::default()
    }
}

/// An accept on the server (trace B) whose peer matches no connect.
pub fn accept_from(peer: &str, local: &str) -> ReplayOutcome {
    let kind = DeviationKind::AcceptFromUnknownPeer {
        peer: addr(peer),
        local: addr(local),
    };
    ReplayOutcome {
        deviations: vec![deviation(kind, loc(1, 7), Some(sock(1, 1)))],
        ..ReplayOutcome::default()
    }
}

/// A connect from A0 to 10.0.0.2:80 that failed with `errno`, while B0 listened or not.
pub fn connect_failed(errno: Errno, listening: bool) -> ReplayOutcome {
    with_deviation(DeviationKind::ConnectFailed {
        errno,
        target: addr("10.0.0.2:80"),
        listener: listening.then(|| sock(1, 0)),
    })
}

/// A call at `line` of `trace` at `time` (start and end).
pub fn span_at(trace: u32, line: u64, time: f64) -> CallSpan {
    CallSpan {
        loc: loc(trace, line),
        start: Some(time),
        end: Some(time),
    }
}

/// A refusal of the client (trace A) to 10.0.0.2:80 at `refused`, where B0 listened from
/// `listen` until `close` (each a line and a time), closed while its program was `context`.
pub fn refused_against(
    refused: (u64, f64),
    listen: (u64, f64),
    close: (u64, f64),
    context: ProgramContext,
) -> ReplayOutcome {
    let kind = DeviationKind::ConnectFailed {
        errno: Errno::ECONNREFUSED,
        target: addr("10.0.0.2:80"),
        listener: None,
    };
    ReplayOutcome {
        deviations: vec![deviation(kind, loc(0, refused.0), Some(sock(0, 0)))],
        failed_connect_spans: vec![span_at(0, refused.0, refused.1)],
        listeners: vec![ListenerRecord {
            sock: sock(1, 0),
            local: addr("10.0.0.2:80"),
            v6only: false,
            listen: span_at(1, listen.0, listen.1),
            close: Some(span_at(1, close.0, close.1)),
            close_context: context,
        }],
        ..ReplayOutcome::default()
    }
}

/// A client → server connection, accepted, with `sent`/`received` bytes towards the server.
pub fn accepted(sent: u64, received: u64, largest: u64) -> TcpConnection {
    let mut c = connection(
        sock(0, 0),
        "10.0.0.1:40000",
        sock(1, 0),
        Some(sock(1, 1)),
        "10.0.0.2:80",
        loc(0, 5),
        Some(loc(1, 9)),
    );
    c.to_server = stream(sent, received, largest, 3, loc(0, 12));
    c
}

/// An outcome with these TCP connections only.
pub fn tcp(connections: Vec<TcpConnection>) -> ReplayOutcome {
    ReplayOutcome {
        tcp: connections,
        ..ReplayOutcome::default()
    }
}

/// One UDP flow from A0 (10.0.0.1:5000) to B0 (10.0.0.2:6000) with datagrams by size.
pub fn udp(by_size: Vec<(u64, u64, u64)>) -> ReplayOutcome {
    ReplayOutcome {
        udp: vec![udp_flow(
            sock(0, 0),
            "10.0.0.1:5000",
            "10.0.0.2:6000",
            vec![sock(1, 0)],
            by_size,
            loc(0, 4),
        )],
        ..ReplayOutcome::default()
    }
}

/// No parse statistics.
pub fn none() -> Vec<ParseStats> {
    Vec::new()
}

/// Checks that `outcome` makes `rule` fire and no other rule, in the rule's class, with a one-line
/// summary and hint; returns the findings.
pub fn assert_only_rule(
    rule: &Rule,
    topology: Topology,
    outcome: ReplayOutcome,
    parse: Vec<ParseStats>,
) -> Vec<Finding> {
    only_rule_in(
        rule,
        Analysis::new(topology, parse, Vec::new(), outcome).findings,
    )
}

/// The checks of [`assert_only_rule`] on findings already made.
fn only_rule_in(rule: &Rule, found: Vec<Finding>) -> Vec<Finding> {
    assert_eq!(
        rules_of(&found),
        vec![rule.id],
        "pattern for {}: {found:#?}",
        rule.id
    );
    let class = RULES.iter().find(|r| r.id == rule.id).map(|r| r.class);
    assert!(found.iter().all(|f| Some(f.class) == class));
    for f in &found {
        for text in [&f.summary, &f.hint] {
            assert!(!text.is_empty(), "{}: empty summary or hint", rule.id);
            assert!(
                !text.contains("  ") && !text.contains('\n'),
                "{}: {text:?}",
                rule.id
            );
        }
        assert!(f.evidence.iter().all(|e| e.loc.line > 0));
    }
    found
}

/// [`assert_only_rule`], and every finding but an informational one points at a call.
pub fn assert_fires_alone(
    rule: &Rule,
    topology: Topology,
    outcome: ReplayOutcome,
    parse: Vec<ParseStats>,
) -> Vec<Finding> {
    let found = assert_only_rule(rule, topology, outcome, parse);
    for f in &found {
        if f.class != Class::Info {
            assert!(!f.evidence.is_empty(), "{} without evidence", f.rule);
        }
    }
    found
}

/// [`assert_fires_on`], with fold counters per trace (where programs were asked to stop).
pub fn assert_fires_on_traces(
    rule: &Rule,
    outcome: ReplayOutcome,
    fold: Vec<FoldStats>,
) -> Vec<Finding> {
    only_rule_in(
        rule,
        Analysis::new(two_hosts(), none(), fold, outcome).findings,
    )
}

/// Fold counters for traces A and B, each asked to stop at the line given (None: never).
pub fn stopped_at(client: Option<u64>, server: Option<u64>) -> Vec<FoldStats> {
    [client, server]
        .into_iter()
        .enumerate()
        .map(|(trace, line)| FoldStats {
            stop_requested: line.map(|l| loc(trace as u32, l)),
            ..FoldStats::default()
        })
        .collect()
}

/// [`assert_fires_alone`] between [`two_hosts`], without parse statistics.
pub fn assert_fires_on(rule: &Rule, outcome: ReplayOutcome) -> Vec<Finding> {
    assert_fires_alone(rule, two_hosts(), outcome, none())
}

/// Diagnoses the recorded scenario `tests/fixtures/CORPUS/NAME` (CORPUS: `lab` or `apps`).
pub fn recorded(corpus: &str, name: &str) -> crate::pipeline::Analysis {
    run_pipeline(&recorded_inputs(corpus, name)).unwrap_or_else(|e| panic!("{corpus}/{name}: {e}"))
}

/// The configuration of the recorded scenario `tests/fixtures/CORPUS/NAME`.
fn recorded_inputs(corpus: &str, name: &str) -> Inputs {
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(corpus)
        .join(name)
        .join("netcheck.conf");
    Inputs {
        paths: vec![config],
        one_host: Vec::new(),
    }
}

/// Diagnoses the recorded scenario with only `host`'s traces, the other hosts declared without
/// one (a one-sided view).
pub fn recorded_view(corpus: &str, name: &str, host: &str) -> crate::pipeline::Analysis {
    let topology = crate::config::load(&recorded_inputs(corpus, name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let seen = topology
        .seen_only_from(host)
        .unwrap_or_else(|| panic!("{name}: no traced host {host}"));
    crate::pipeline::analyse(seen).unwrap_or_else(|e| panic!("{name} @{host}: {e}"))
}

/// Checks that each recorded lab scenario named (`tests/fixtures/lab/NAME`) makes `rule` fire.
pub fn assert_recorded_scenarios_report(rule: &Rule, names: &[&str]) {
    for name in names {
        assert_recorded_scenario_reports(rule, name);
    }
}

/// Checks that the recorded lab scenario `name` (`tests/fixtures/lab/NAME`) makes `rule` fire.
pub fn assert_recorded_scenario_reports(rule: &Rule, name: &str) {
    let analysis = recorded("lab", name);
    let found: Vec<&str> = analysis.findings.iter().map(|f| f.rule).collect();
    assert!(
        found.contains(&rule.id),
        "{name}: {} not in {found:?}",
        rule.id
    );
}
