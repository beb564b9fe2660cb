//! Running `netcheck diagnose --format json` on a committed fixture directory, for the
//! integration tests that read its report.

use std::path::PathBuf;
use std::process::Command;

/// Runs `netcheck diagnose --format json ARGS` in `tests/fixtures/FIXTURE`; the exit status
/// must be `status`.
pub fn diagnose_in(fixture: &str, args: &[&str], status: i32) -> serde_json::Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(&dir)
        .args(["diagnose", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(status),
        "{fixture} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The rule IDs of a report's findings, in order.
pub fn rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
