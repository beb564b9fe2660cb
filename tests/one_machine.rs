//! Programs of one machine traced each on its own and diagnosed without a config: the traces
//! that talk over loopback are one host (tests/fixtures/loopback, made by its record.sh:
//! redis-server and two redis-cli runs, `strace -ff -tt`, with untraced `redis-cli ping` probes
//! beside them).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn traces_talking_over_loopback_are_one_host_and_a_healthy_run() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loopback");
    let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(&dir)
        .args(["diagnose", "--format", "json", "server", "set", "get"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = report["configuration"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:#?}");
    assert_eq!(hosts[0]["traces"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{:#}",
        report["findings"]
    );
    assert_eq!(report["replay"]["blocked_points"], 0);
}
