//! A report stays bounded when one host reaches more server endpoints than are listed: the
//! traffic to the endpoints beyond the first 1,000 is summed in one `other` row, while
//! `--connections` still writes every connection.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const LISTED: usize = 1000;
const EXTRA: usize = 10;

/// `n` listeners on ports 10000.., each connected to and accepted once over loopback.
fn listeners_trace(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let (listener, client, port) = (3 + 2 * i, 3 + i, 10_000 + i);
        let addr = format!(
            "{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"127.0.0.1\")}}"
        );
        let peer = format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"127.0.0.1\")}}",
            40_000 + i
        );
        let _ = writeln!(
            t,
            "1 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = {listener}"
        );
        let _ = writeln!(t, "1 bind({listener}, {addr}, 16) = 0");
        let _ = writeln!(t, "1 listen({listener}, 128) = 0");
        let _ = writeln!(t, "2 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = {client}");
        let _ = writeln!(t, "2 connect({client}, {addr}, 16) = 0");
        let _ = writeln!(
            t,
            "1 accept4({listener}, {peer}, [16], SOCK_CLOEXEC) = {}",
            4 + 2 * i
        );
    }
    t
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("netcheck-bounded-{}-{name}", std::process::id()))
}

fn netcheck(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn endpoints_beyond_the_listed_ones_are_summed_in_one_row() {
    let trace = scratch("listeners.trace");
    let connections = scratch("connections.jsonl");
    std::fs::write(&trace, listeners_trace(LISTED + EXTRA)).unwrap();
    let trace_arg = trace.to_string_lossy().into_owned();
    let connections_arg = connections.to_string_lossy().into_owned();

    let json: Value = serde_json::from_str(&netcheck(&[
        "diagnose",
        "--format",
        "json",
        "--connections",
        &connections_arg,
        "--trace",
        &trace_arg,
    ]))
    .unwrap();
    let text = netcheck(&["diagnose", "--color", "never", "--trace", &trace_arg]);
    let written = std::fs::read_to_string(&connections).unwrap();
    let _ = std::fs::remove_file(&trace);
    let _ = std::fs::remove_file(&connections);

    let rows = json["statistics"]["tcp"].as_array().unwrap();
    assert_eq!(rows.len(), LISTED + 1);
    let (other, listed) = rows.split_last().unwrap();
    assert_eq!(other["server_endpoint"], "other");
    assert_eq!(other["connections"], EXTRA as u64);
    assert_eq!(other["states"]["closed_normally"], EXTRA as u64);
    assert!(listed
        .iter()
        .all(|r| r["connections"] == 1 && r["server_endpoint"] != "other"));
    // The first endpoints reached are the ones listed.
    assert!(listed
        .iter()
        .any(|r| r["server_endpoint"] == "127.0.0.1:10000"));
    assert!(!listed
        .iter()
        .any(|r| r["server_endpoint"] == format!("127.0.0.1:{}", 10_000 + LISTED)));

    assert!(text.contains(&format!(
        "other endpoints (beyond the first {LISTED}, summed): {EXTRA} connections"
    )));
    assert_eq!(written.lines().count(), LISTED + EXTRA);
}
