//! The JSON report follows docs/report-schema.md: parse it back and check every documented field.

use netcheck::model::{DeviationKind, ReplayOutcome};
use netcheck::parse::Errno;
use netcheck::pipeline::Analysis;
use netcheck::report::{json, Report, SCHEMA_VERSION};
use netcheck::testkit::fixtures::*;
use serde_json::Value;

fn sample() -> Analysis {
    let topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    let mut c = connection(
        sock(0, 0),
        "10.0.0.1:40000",
        sock(1, 0),
        Some(sock(1, 1)),
        "10.0.0.2:80",
        loc(0, 5),
        Some(loc(1, 9)),
    );
    c.to_server = stream(120, 0, 120, 1, loc(0, 6));
    let outcome = ReplayOutcome {
        deviations: vec![deviation(
            DeviationKind::ConnectFailed {
                errno: Errno::EHOSTUNREACH,
                target: addr("10.0.0.2:22"),
                listener: None,
            },
            loc(0, 2),
            Some(sock(0, 1)),
        )],
        tcp: vec![c],
        udp: vec![udp_flow(
            sock(0, 2),
            "10.0.0.1:5000",
            "10.0.0.2:6000",
            vec![sock(1, 2)],
            vec![(100, 10, 10), (200, 5, 3)],
            loc(0, 11),
        )],
        unsupported: vec![("ioctl(FIONREAD)".into(), 1)],
        ..ReplayOutcome::default()
    }
    .with_traffic_counted(&topology);
    Analysis::new(topology, Vec::new(), Vec::new(), outcome)
}

fn document() -> Value {
    serde_json::from_str(&json::render(&Report::build(&sample()))).unwrap()
}

#[test]
fn top_level_keys_in_documented_order() {
    let doc = document();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json without preserve_order sorts keys; check presence, and the order in the text.
    for key in [
        "schema_version",
        "configuration",
        "traces",
        "replay",
        "statistics",
        "findings",
        "summary",
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
    let text = json::render(&Report::build(&sample()));
    let positions: Vec<usize> = [
        "\"schema_version\"",
        "\"configuration\"",
        "\"findings\"",
        "\"summary\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(doc["schema_version"], SCHEMA_VERSION);
}

#[test]
fn findings_have_rule_class_summary_hint_and_evidence() {
    let doc = document();
    let findings = doc["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // Class severity first (network before application), then rule ID.
    assert_eq!(
        rules,
        [
            "connect-filtered",
            "udp-loss",
            "data-unreceived",
            "unsupported-call"
        ]
    );
    for f in findings {
        for key in ["rule", "class", "summary", "hint", "evidence", "facts"] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    let filtered = &findings[0];
    assert_eq!(filtered["class"], "network");
    let evidence = &filtered["evidence"][0];
    assert_eq!(evidence["trace"], "client");
    assert_eq!(evidence["trace_id"], "A");
    assert_eq!(evidence["file"], "client.trace");
    assert_eq!(evidence["line"], 2);
    assert!(evidence["call"].is_string());
    assert!(evidence["note"].as_str().unwrap().contains("EHOSTUNREACH"));
    assert_eq!(findings[1]["class"], "network");
    assert_eq!(findings[2]["class"], "application");
    assert_eq!(findings[3]["class"], "info");
}

#[test]
fn statistics_count_bytes_and_datagrams() {
    let doc = document();
    let stats = &doc["statistics"];
    let tcp = &stats["tcp"][0];
    assert_eq!(tcp["client_host"], "client");
    assert_eq!(tcp["server_endpoint"], "10.0.0.2:80");
    assert_eq!(tcp["connections"], 1);
    assert_eq!(tcp["states"]["open_at_end"], 1);
    assert_eq!(tcp["to_server"]["sent"], 120);
    assert_eq!(tcp["to_server"]["lost"], 120);
    let udp = &stats["udp"][0];
    assert_eq!(udp["sender_host"], "client");
    assert_eq!(udp["receiver_endpoint"], "10.0.0.2:6000");
    assert_eq!(udp["flows"], 1);
    assert_eq!(udp["datagrams"]["sent"], 15);
    assert_eq!(udp["datagrams"]["lost"], 2);
    assert_eq!(udp["bytes"]["received"], 1600);
    // The findings cite the connection whose bytes never arrived and the lossy flow.
    let cited = &stats["cited_tcp"][0];
    assert_eq!(cited["client"], "A0");
    assert_eq!(cited["server"], "B1");
    assert_eq!(cited["server_address"], "10.0.0.2:80");
    assert_eq!(cited["to_server"]["received"], 0);
    assert_eq!(cited["to_server"]["lost"], 120);
    let flow = &stats["cited_udp"][0];
    assert_eq!(flow["datagrams_sent"], 15);
    assert_eq!(flow["datagrams_received"], 13);
    assert_eq!(flow["datagrams_lost"], 2);
    assert_eq!(flow["bytes_sent"], 2000);
    assert_eq!(flow["bytes_lost"], 400);
    assert_eq!(flow["receivers"][0], "B2");
}

#[test]
fn configuration_and_summary() {
    let doc = document();
    let hosts = doc["configuration"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[1]["name"], "server");
    assert_eq!(hosts[1]["ips"][0], "10.0.0.2");
    assert_eq!(doc["configuration"]["origin"], "config-file");
    assert_eq!(doc["traces"][0]["id"], "A");
    let summary = &doc["summary"];
    assert_eq!(summary["network"], 2);
    assert_eq!(summary["application"], 1);
    assert_eq!(summary["info"], 1);
    assert_eq!(summary["exit_status"], 1);
}

#[test]
fn info_only_reports_exit_zero() {
    let topology = topology(&[("solo", &["10.0.0.1"])]);
    let outcome = ReplayOutcome {
        unsupported: vec![("ioctl(FIONREAD)".into(), 1)],
        ..ReplayOutcome::default()
    };
    let report = Report::build(&Analysis::new(topology, Vec::new(), Vec::new(), outcome));
    assert!(!report.has_problems());
    assert_eq!(report.summary.exit_status, 0);
    assert_eq!(report.summary.info, 1);
}
