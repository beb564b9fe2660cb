//! The binary's exit codes and output for `rules`, `explain` and `diagnose`, and colour choice.

use std::process::{Command, Output};

use netcheck::diagnose::Class;
use netcheck::report::text::{use_color, Style};

fn netcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn rules_lists_every_rule_and_exits_zero() {
    let out = netcheck(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(
        text.lines().count(),
        netcheck::diagnose::registry::RULES.len()
    );
    assert!(text
        .lines()
        .any(|l| l.starts_with("nat-undeclared") && l.contains("network")));
    assert!(!text.contains('\x1b'));
}

#[test]
fn rules_json_is_a_list_of_id_class_title() {
    let out = netcheck(&["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), netcheck::diagnose::registry::RULES.len());
    assert!(list
        .iter()
        .all(|r| r["id"].is_string() && r["class"].is_string() && r["title"].is_string()));
}

#[test]
fn explain_prints_the_explanation() {
    let out = netcheck(&["explain", "connect-refused"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("# connect-refused (application)"));
    assert!(text.contains("## What to do"));
    let out = netcheck(&["explain", "udp-loss", "--format", "json"]);
    let rule: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rule["id"], "udp-loss");
    assert!(rule["explanation"]
        .as_str()
        .unwrap()
        .contains("## Evidence"));
}

#[test]
fn explain_unknown_rule_exits_two_with_close_matches() {
    let out = netcheck(&["explain", "connect-refusd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean: connect-refused"));
    let out = netcheck(&["explain", "qqqqqqqqqq"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("netcheck rules"));
}

#[test]
fn diagnose_without_inputs_is_a_usage_error() {
    let out = netcheck(&["diagnose"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to diagnose"));
}

#[test]
fn diagnose_of_a_missing_config_exits_two() {
    let out = netcheck(&["diagnose", "/nonexistent/netcheck.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("netcheck: "));
}

#[test]
fn table_of_an_empty_directory_exits_two() {
    let dir = std::env::temp_dir().join(format!("netcheck-table-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = netcheck(&["diagnose", "--table", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn table_reports_scenarios_that_cannot_run() {
    let dir = std::env::temp_dir().join(format!("netcheck-table-bad-{}", std::process::id()));
    let scenario = dir.join("broken");
    std::fs::create_dir_all(&scenario).unwrap();
    std::fs::write(scenario.join("netcheck.conf"), "host h\n").unwrap();
    std::fs::write(
        scenario.join("expected.json"),
        r#"{"scenario":"broken","description":"x","must_report":["connect-refused"],"must_not_report":[],"healthy":false}"#,
    )
    .unwrap();
    let out = netcheck(&["diagnose", "--table", dir.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.starts_with("| Scenario | Type | Main issue found | Extra | Incorrect |"));
    assert!(text.contains("| broken |"));
    assert_eq!(out.status.code(), Some(1), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    use std::ffi::OsStr;
    assert!(use_color(true, None));
    assert!(!use_color(false, None));
    assert!(!use_color(true, Some(OsStr::new("1"))));
    assert!(!use_color(true, Some(OsStr::new("yes"))));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(use_color(true, Some(OsStr::new(""))));
    assert!(Style { color: true }.class(Class::Network).contains('\x1b'));
    assert_eq!(Style { color: false }.class(Class::Network), "[network]");
}

#[test]
fn piped_output_has_no_colour_even_without_no_color() {
    let out = netcheck(&["explain", "mtu-black-hole"]);
    assert!(!stdout(&out).contains('\x1b'));
}

#[test]
fn connections_file_holds_one_record_per_connection_of_the_report() {
    let file = std::env::temp_dir().join(format!("netcheck-conns-{}.jsonl", std::process::id()));
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/healthy-http/netcheck.conf"
    );
    let path = file.to_string_lossy().into_owned();
    let out = netcheck(&[
        "diagnose",
        "--format",
        "json",
        "--connections",
        &path,
        config,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let counted = report["statistics"]["tcp"][0]["connections"].as_u64();
    assert_eq!(Some(records.len() as u64), counted);
    let sent: u64 = records
        .iter()
        .filter_map(|r| r["to_server"]["sent"].as_u64())
        .sum();
    assert_eq!(
        Some(sent),
        report["statistics"]["tcp"][0]["to_server"]["sent"].as_u64()
    );
    assert!(records.iter().all(|r| r["state"] == "closed_normally"));
}

#[test]
fn an_unwritable_connections_file_is_an_input_error() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/healthy-http/netcheck.conf"
    );
    let out = netcheck(&[
        "diagnose",
        "--connections",
        "/nonexistent-dir/connections.jsonl",
        config,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent-dir/connections.jsonl"));
}
