//! The pipeline around the rules: evidence read back from trace files, and the whole run.

use std::path::PathBuf;

use netcheck::model::{DeviationKind, ReplayOutcome};
use netcheck::parse::ParseStats;
use netcheck::pipeline::fill_call_texts;
use netcheck::pipeline::Analysis;
use netcheck::testkit::fixtures::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcheck-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn evidence_of_a_ff_set_points_at_the_per_process_file() {
    let dir = scratch("ff");
    let first = dir.join("out.100");
    let second = dir.join("out.101");
    std::fs::write(&first, "socket(AF_INET, SOCK_STREAM, 0) = 3\n").unwrap();
    std::fs::write(
        &second,
        "socket(AF_INET, SOCK_STREAM, 0) = 3\nconnect(3, ...) = -1 ETIMEDOUT (Connection timed out)\n",
    )
    .unwrap();
    let mut topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    topology.traces[0].path = dir.join("out");
    let mut at = loc(0, 2);
    at.file = 1;
    let outcome = ReplayOutcome {
        deviations: vec![deviation(
            DeviationKind::ConnectFailed {
                errno: netcheck::parse::Errno::ETIMEDOUT,
                target: addr("10.0.0.2:80"),
                listener: None,
            },
            at,
            Some(sock(0, 0)),
        )],
        ..ReplayOutcome::default()
    };
    let parse = vec![
        ParseStats {
            files: vec![first, second.clone()],
            ..ParseStats::default()
        },
        ParseStats::default(),
    ];
    let mut analysis = Analysis::new(topology, parse, Vec::new(), outcome);
    fill_call_texts(&analysis.topology, &analysis.parse, &mut analysis.findings);
    let evidence = &analysis.findings[0].evidence[0];
    assert!(evidence.call.starts_with("connect(3"), "{evidence:?}");
    let report = netcheck::report::Report::build(&analysis);
    assert_eq!(
        report.findings[0].evidence[0].file,
        second.display().to_string()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreadable_trace_files_leave_the_call_empty() {
    let topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    let outcome = ReplayOutcome {
        deviations: vec![deviation(
            DeviationKind::ConnectionReset,
            loc(0, 3),
            Some(sock(0, 0)),
        )],
        ..ReplayOutcome::default()
    };
    let mut analysis = Analysis::new(topology, Vec::new(), Vec::new(), outcome);
    fill_call_texts(&analysis.topology, &analysis.parse, &mut analysis.findings);
    assert_eq!(analysis.findings[0].evidence[0].call, "");
}

#[test]
fn long_lines_are_cut() {
    let dir = scratch("long");
    let path = dir.join("client.trace");
    std::fs::write(
        &path,
        format!("x\nsendto(3, \"{}\") = 5000\n", "a".repeat(5000)),
    )
    .unwrap();
    let mut topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    topology.traces[0].path = path;
    let outcome = ReplayOutcome {
        deviations: vec![deviation(
            DeviationKind::DataMismatch,
            loc(0, 2),
            Some(sock(0, 0)),
        )],
        ..ReplayOutcome::default()
    };
    let mut analysis = Analysis::new(topology, Vec::new(), Vec::new(), outcome);
    fill_call_texts(&analysis.topology, &analysis.parse, &mut analysis.findings);
    let call = &analysis.findings[0].evidence[0].call;
    assert_eq!(call.chars().count(), netcheck::parse::EXCERPT_CHARS);
    assert!(call.ends_with('…'));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refused_connect_through_the_whole_pipeline() {
    let dir = scratch("pipeline");
    let client = dir.join("client.trace");
    std::fs::write(
        &client,
        "100 10:00:00.000001 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
         100 10:00:00.000002 connect(3, {sa_family=AF_INET, sin_port=htons(8080), \
         sin_addr=inet_addr(\"10.0.0.2\")}, 16) = -1 ECONNREFUSED (Connection refused)\n\
         100 10:00:00.000003 close(3) = 0\n",
    )
    .unwrap();
    let server = dir.join("server.trace");
    std::fs::write(
        &server,
        "200 10:00:00.000001 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
         200 10:00:00.000002 close(3) = 0\n",
    )
    .unwrap();
    let config = dir.join("netcheck.conf");
    std::fs::write(
        &config,
        format!(
            "host client\nip 10.0.0.1\ntrace {}\nhost server\nip 10.0.0.2\ntrace {}\n",
            client.display(),
            server.display()
        ),
    )
    .unwrap();
    let inputs = netcheck::config::Inputs {
        paths: vec![config],
        one_host: Vec::new(),
    };
    let analysis = netcheck::pipeline::run_pipeline(&inputs).unwrap();
    let refused = analysis
        .findings
        .iter()
        .find(|f| f.rule == "connect-refused")
        .expect("connect-refused reported");
    assert_eq!(refused.evidence[0].loc.line, 2);
    assert!(refused.evidence[0].call.contains("ECONNREFUSED"));
    std::fs::remove_dir_all(&dir).unwrap();
}
