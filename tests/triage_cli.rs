//! Triage conveniences of the CLI: `--select`/`--ignore`, `--quiet`, `--color`, the caret under
//! the field that matters, shell completions and the man page.

use std::process::{Command, Output};

fn netcheck(args: &[&str], no_color: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netcheck"));
    command.args(args).env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    command.output().expect("the netcheck binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const NAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/lab/nat-undeclared/netcheck.conf"
);

/// Rule IDs of the findings in a JSON report.
fn rules(out: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn select_and_ignore_narrow_the_findings_and_the_exit_status() {
    let all = netcheck(&["diagnose", "--format", "json", NAT], None);
    assert_eq!(rules(&all), ["nat-undeclared", "ordering-incomplete"]);
    let info = netcheck(
        &["diagnose", "--format", "json", "--select", "info", NAT],
        None,
    );
    assert_eq!(rules(&info), ["ordering-incomplete"]);
    // Only an info finding left: nothing to fix, exit 0.
    assert_eq!(info.status.code(), Some(0));
    let ignored = netcheck(
        &[
            "diagnose",
            "--format",
            "json",
            "--ignore",
            "info",
            "--ignore",
            "ambiguous,nat-undeclared",
            NAT,
        ],
        None,
    );
    assert!(rules(&ignored).is_empty());
    assert_eq!(ignored.status.code(), Some(0));
    let both = netcheck(
        &[
            "diagnose",
            "--format",
            "json",
            "--select",
            "network,info",
            "--ignore",
            "ordering-incomplete",
            NAT,
        ],
        None,
    );
    assert_eq!(rules(&both), ["nat-undeclared"]);
    assert_eq!(both.status.code(), Some(1));
}

#[test]
fn an_unknown_rule_is_a_usage_error() {
    let out = netcheck(&["diagnose", "--select", "nat-undeclard", NAT], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `nat-undeclared`"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn quiet_prints_the_findings_only_with_a_caret_under_what_matters() {
    let refused = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab/connect-refused/netcheck.conf"
    );
    let out = netcheck(&["diagnose", "--quiet", refused], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("[application] connect-refused:"), "{text}");
    assert!(!text.contains("Configuration") && !text.contains("TCP connections"));
    let lines: Vec<&str> = text.lines().collect();
    let call = lines
        .iter()
        .position(|l| l.contains("ECONNREFUSED (Connection refused)"))
        .expect("the evidence line");
    let carets = lines[call + 1];
    let column = lines[call].find("ECONNREFUSED (").expect("errno");
    assert_eq!(carets.find('^'), Some(column), "{text}");
    assert_eq!(carets.trim(), "^".repeat("ECONNREFUSED".len()));
}

#[test]
fn color_always_and_never_win_over_no_color_and_the_terminal() {
    let always = netcheck(&["diagnose", "-q", "--color", "always", NAT], Some("1"));
    assert!(stdout(&always).contains("\x1b[1;31m[network]"));
    let never = netcheck(&["diagnose", "--color", "never", NAT], None);
    assert!(!stdout(&never).contains('\x1b'));
    // auto: output is a pipe here, so no colour.
    let auto = netcheck(&["diagnose", NAT], None);
    assert!(!stdout(&auto).contains('\x1b'));
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = netcheck(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(
            script.contains("diagnose") && script.contains("select"),
            "{shell}"
        );
    }
    let bad = netcheck(&["completions", "tcsh"], None);
    assert_eq!(bad.status.code(), Some(2));
    let man = stdout(&netcheck(&["man"], None));
    assert!(man.contains(".TH netcheck 1") && man.contains("netcheck\\-diagnose(1)"));
    let diagnose = stdout(&netcheck(&["man", "diagnose"], None));
    assert!(diagnose.contains(".TH netcheck-diagnose 1"), "{diagnose}");
    assert!(diagnose.contains("\\-\\-select") && diagnose.contains("\\-\\-quiet"));
    assert_eq!(netcheck(&["man", "nope"], None).status.code(), Some(2));
}
