//! What a report rests on: hosts declared without a trace are named up front, and every finding
//! says from which hosts' traces it comes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// The connect-refused lab scenario with `conf` for its config.
fn diagnose(conf: &str, format: &str) -> Output {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab/connect-refused");
    let dir = tempfile::tempdir().expect("dir");
    for file in ["client.trace", "server.trace"] {
        fs::copy(lab.join(file), dir.path().join(file)).expect("copied");
    }
    fs::write(dir.path().join("netcheck.conf"), conf).expect("written");
    Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(["diagnose", "--format", format, "netcheck.conf"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn refused(out: &Output) -> (serde_json::Value, serde_json::Value) {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let finding = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "connect-refused"))
        .cloned()
        .expect("connect-refused");
    (
        doc["configuration"]["untraced_hosts"].clone(),
        finding["seen_from"].clone(),
    )
}

#[test]
fn a_finding_about_a_traced_peer_rests_on_both_ends() {
    let conf = "host server\n trace server.trace\n ip 10.77.1.10\nhost client\n trace client.trace\n ip 10.77.1.21\nhost db\n ip 10.77.1.99\n";
    let (untraced, seen) = refused(&diagnose(conf, "json"));
    assert_eq!(untraced, serde_json::json!(["db"]));
    assert_eq!(seen, serde_json::json!(["server", "client"]));
    let text = String::from_utf8_lossy(&diagnose(conf, "text").stdout).into_owned();
    assert!(
        text.contains("untraced: db (declared without a trace"),
        "{text}"
    );
    assert!(text.contains("seen from: server and client"), "{text}");
    assert!(
        text.contains("host db: 10.77.1.99; trace(s) none (unobserved)"),
        "{text}"
    );
}

#[test]
fn with_the_server_untraced_the_refusal_rests_on_the_client_alone() {
    let conf = "host server\n ip 10.77.1.10\nhost client\n trace client.trace\n ip 10.77.1.21\n";
    let (untraced, seen) = refused(&diagnose(conf, "json"));
    assert_eq!(untraced, serde_json::json!(["server"]));
    assert_eq!(seen, serde_json::json!(["client"]));
    let text = String::from_utf8_lossy(&diagnose(conf, "text").stdout).into_owned();
    assert!(text.contains("seen from: client only"), "{text}");
}
