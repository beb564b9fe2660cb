//! Golden reports: hand-built outcomes rendered as text and JSON, compared with the files in
//! `tests/golden/`. Run with `UPDATE_GOLDEN=1` to rewrite them after an intended change.

use std::path::{Path, PathBuf};

use netcheck::fold::FoldStats;
use netcheck::model::{DeviationKind, ReplayOutcome};
use netcheck::parse::{Errno, ParseStats, Unparsed};
use netcheck::pipeline::fill_call_texts;
use netcheck::pipeline::Analysis;
use netcheck::report::{json, text, Report};
use netcheck::testkit::fixtures::*;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the golden file; run with UPDATE_GOLDEN=1 if intended.\n--- \
         expected\n{expected}\n--- actual\n{actual}"
    );
}

/// A client and a server, traced in `tests/golden/traces/`: a refused connect, an upload that
/// stalls on a large send, a lost large datagram, one unparsed line.
fn web_upload() -> Analysis {
    let mut topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    for spec in &mut topology.traces {
        spec.path = PathBuf::from(format!("tests/golden/traces/{}.trace", spec.name));
    }
    let mut upload = connection(
        sock(0, 1),
        "10.0.0.1:40000",
        sock(1, 0),
        Some(sock(1, 1)),
        "10.0.0.2:80",
        loc(0, 5),
        Some(loc(1, 4)),
    );
    upload.to_server = stream(2932, 632, 2900, 2, loc(0, 8));
    upload.to_client = stream(17, 17, 17, 1, loc(1, 6));
    upload.wait_timed_out_with_data = true;
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::ConnectFailed {
                    errno: Errno::ECONNREFUSED,
                    target: addr("10.0.0.2:8080"),
                    listener: None,
                },
                loc(0, 2),
                Some(sock(0, 0)),
            ),
            deviation(DeviationKind::PollMissedData, loc(1, 8), Some(sock(1, 1))),
        ],
        tcp: vec![upload],
        udp: vec![udp_flow(
            sock(0, 2),
            "10.0.0.1:5000",
            "10.0.0.2:6000",
            Vec::new(),
            vec![(1472, 1, 0)],
            loc(0, 11),
        )],
        activity: vec![activity(0, 9, 2, &[]), activity(1, 7, 1, &[])],
        ordered_calls: 20,
        ..ReplayOutcome::default()
    };
    let parse = vec![
        ParseStats {
            lines: 11,
            calls: 11,
            ..ParseStats::default()
        },
        ParseStats {
            lines: 9,
            calls: 8,
            unparsed: 1,
            first_unparsed: vec![Unparsed {
                loc: loc(1, 9),
                path: "tests/golden/traces/server.trace".into(),
                column: 24,
                reason: "expected a call name".into(),
                text: "2301  10:00:11.500000 this line is not strace output".into(),
            }],
            ..ParseStats::default()
        },
    ];
    let fold = vec![
        FoldStats {
            sockets: 3,
            socket_events: 11,
            ..FoldStats::default()
        },
        FoldStats {
            sockets: 2,
            socket_events: 8,
            ..FoldStats::default()
        },
    ];
    let outcome = outcome.with_traffic_counted(&topology);
    let mut analysis = Analysis::new(topology, parse, fold, outcome);
    fill_call_texts(&analysis.topology, &analysis.parse, &mut analysis.findings);
    analysis
}

/// Zero-config run with an inferred NAT and a blocked ordering; no trace files.
fn inferred_nat() -> Analysis {
    let mut topology = topology(&[("laptop", &["192.168.1.10"]), ("web", &["198.51.100.2"])]);
    topology.origin = netcheck::config::TopologyOrigin::Inferred;
    add_nat(&mut topology, 0, "192.168.1.10", "203.0.113.7", true);
    topology.ignores.push(netcheck::config::Endpoint {
        ip: ip("127.0.0.53"),
        port: Some(53),
    });
    let mut c = connection(
        sock(0, 0),
        "192.168.1.10:51000",
        sock(1, 0),
        Some(sock(1, 1)),
        "198.51.100.2:443",
        loc(0, 3),
        Some(loc(1, 5)),
    );
    c.server_view.1 = Some(addr("203.0.113.7:51000"));
    c.to_server = stream(517, 517, 517, 1, loc(0, 4));
    let outcome = ReplayOutcome {
        tcp: vec![c],
        blocked: vec![netcheck::model::BlockedPoint {
            position: 6,
            heads: vec![(loc(0, 9), "recv of bytes not sent yet".into())],
            forced: Some(loc(0, 9)),
        }],
        unsupported: vec![("setsockopt(TCP_FASTOPEN)".into(), 2)],
        ordered_calls: 14,
        used_timestamps: true,
        ..ReplayOutcome::default()
    }
    .with_traffic_counted(&topology);
    Analysis::new(topology, Vec::new(), Vec::new(), outcome)
}

fn check(name: &str, analysis: &Analysis) {
    let report = Report::build(analysis);
    check_golden(
        &format!("{name}.txt"),
        &text::render(&report, text::Style { color: false }),
    );
    check_golden(&format!("{name}.json"), &json::render(&report));
}

#[test]
fn web_upload_report() {
    check("web-upload", &web_upload());
}

#[test]
fn inferred_nat_report() {
    check("inferred-nat", &inferred_nat());
}

#[test]
fn evidence_calls_are_read_from_the_trace_files() {
    let analysis = web_upload();
    let refused = analysis
        .findings
        .iter()
        .find(|f| f.rule == "connect-refused")
        .unwrap();
    assert!(refused.evidence[0].call.contains("ECONNREFUSED"));
    assert!(refused.evidence[0].call.contains("htons(8080)"));
}

#[test]
fn rendering_is_deterministic() {
    let a = json::render(&Report::build(&web_upload()));
    let b = json::render(&Report::build(&web_upload()));
    assert_eq!(a, b);
}

#[test]
fn many_connections_are_listed_in_aggregate_and_the_cited_one_alone() {
    let topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    let mut outcome = ReplayOutcome::default();
    for n in 0..40u32 {
        let mut c = connection(
            sock(0, n),
            &format!("10.0.0.1:{}", 40000 + n),
            sock(1, 0),
            Some(sock(1, n + 1)),
            "10.0.0.2:80",
            loc(0, u64::from(n) + 1),
            Some(loc(1, u64::from(n) + 1)),
        );
        let received = if n == 7 { 10 } else { 100 };
        c.to_server = stream(100, received, 100, 1, loc(0, 100 + u64::from(n)));
        outcome.tcp.push(c);
    }
    let outcome = outcome.with_traffic_counted(&topology);
    let report = Report::build(&Analysis::new(topology, Vec::new(), Vec::new(), outcome));
    let rendered = text::render(&report, text::Style { color: false });
    assert!(rendered.contains("client -> 10.0.0.2:80: 40 connections"));
    assert!(rendered.contains("A7 (10.0.0.1:40007) -> B8"));
    assert!(!rendered.contains("A8 (10.0.0.1:40008)"));
    let stats = &report.statistics;
    assert_eq!((stats.tcp.len(), stats.cited_tcp.len()), (1, 1));
    assert_eq!(stats.tcp[0].to_server.lost, 90);
}
