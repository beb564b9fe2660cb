//! The scenario table: judging findings against `expected.json`, and its Markdown.

use netcheck::cli::table::{judge, render_markdown, Expected, Row};
use netcheck::diagnose::Finding;
use netcheck::model::{DeviationKind, ReplayOutcome};
use netcheck::parse::Errno;
use netcheck::pipeline::Analysis;
use netcheck::testkit::fixtures::*;

fn expected(json: &str) -> Expected {
    serde_json::from_str(json).unwrap()
}

/// Findings: connect-refused (application), unexpected-blocking (network), unsupported-call (info).
fn findings() -> Vec<Finding> {
    let topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
    let outcome = ReplayOutcome {
        deviations: vec![
            deviation(
                DeviationKind::ConnectFailed {
                    errno: Errno::ECONNREFUSED,
                    target: addr("10.0.0.2:80"),
                    listener: None,
                },
                loc(0, 2),
                Some(sock(0, 0)),
            ),
            deviation(
                DeviationKind::UnexpectedBlocking,
                loc(0, 5),
                Some(sock(0, 1)),
            ),
        ],
        unsupported: vec![("ioctl(FIONBIO)".into(), 1)],
        ..ReplayOutcome::default()
    };
    Analysis::new(topology, Vec::new(), Vec::new(), outcome).findings
}

#[test]
fn main_issue_extra_and_incorrect() {
    let row = judge(
        &expected(
            r#"{"scenario":"refused","description":"server down","must_report":["connect-refused"],
                "must_not_report":["unexpected-blocking","udp-loss"],"healthy":false}"#,
        ),
        &findings(),
    );
    assert!(row.main_found);
    assert_eq!(row.kind, "application");
    assert!(row.extra.is_empty());
    assert_eq!(row.incorrect, ["unexpected-blocking"]);
    assert!(!row.passed());
}

#[test]
fn info_findings_are_never_extra() {
    let row = judge(
        &expected(r#"{"scenario":"s","must_report":["connect-refused"],"must_not_report":[]}"#),
        &findings(),
    );
    assert_eq!(row.extra, ["unexpected-blocking"]);
    assert!(row.passed());
}

#[test]
fn missing_main_issue() {
    let row = judge(
        &expected(r#"{"scenario":"s","must_report":["connect-refused","mtu-black-hole"]}"#),
        &findings(),
    );
    assert!(!row.main_found);
    assert_eq!(row.kind, "application");
}

#[test]
fn healthy_scenarios_pass_only_without_problems() {
    let healthy = expected(r#"{"scenario":"ok","must_report":[],"healthy":true}"#);
    let row = judge(&healthy, &findings());
    assert!(!row.main_found);
    assert_eq!(row.kind, "healthy");
    assert_eq!(row.extra, ["connect-refused", "unexpected-blocking"]);
    let info_only: Vec<Finding> = findings()
        .into_iter()
        .filter(|f| !f.class.is_problem())
        .collect();
    assert!(judge(&healthy, &info_only).main_found);
}

#[test]
fn markdown_has_one_row_per_scenario_and_totals() {
    let rows = vec![
        Row {
            scenario: "refused".into(),
            kind: "application".into(),
            main_found: true,
            extra: vec!["udp-loss"],
            incorrect: Vec::new(),
            error: None,
            invisible: None,
        },
        Row {
            scenario: "mtu".into(),
            kind: "network".into(),
            main_found: false,
            extra: Vec::new(),
            incorrect: vec!["data-unreceived"],
            error: None,
            invisible: None,
        },
        Row {
            scenario: "broken".into(),
            kind: "?".into(),
            main_found: false,
            extra: Vec::new(),
            incorrect: Vec::new(),
            error: Some("cannot read a|b".into()),
            invisible: None,
        },
        Row {
            scenario: "refused @server".into(),
            kind: "invisible".into(),
            main_found: false,
            extra: Vec::new(),
            incorrect: Vec::new(),
            error: None,
            invisible: Some("the server never hears of it".into()),
        },
    ];
    let text = render_markdown(&rows);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "| Scenario | Type | Main issue found | Extra | Incorrect |"
    );
    assert_eq!(
        lines[2],
        "| refused | application | yes | 1 (udp-loss) | 0 |"
    );
    assert_eq!(
        lines[3],
        "| mtu | network | **no** | 0 | 1 (data-unreceived) |"
    );
    assert_eq!(
        lines[4],
        "| broken | ? | error: cannot read a\\|b | 0 | 0 |"
    );
    assert_eq!(
        lines[5],
        "| refused @server | invisible | not scored: the server never hears of it | 0 | 0 |"
    );
    assert!(text.contains(
        "1 of 3 scenario(s) found their main issue; 1 extra, 1 incorrect. 1 one-sided view(s) \
         cannot show their fault and are not scored."
    ));
    assert!(rows[3].passed());
}

#[test]
fn a_stated_type_overrides_the_rule_class() {
    let row = judge(
        &expected(r#"{"scenario":"s","type":"network","must_report":["connect-refused"]}"#),
        &findings(),
    );
    assert_eq!(row.kind, "network");
}

#[test]
fn any_of_several_rules_may_name_the_main_issue() {
    let seen =
        expected(r#"{"scenario":"s","must_report_any":["connect-filtered","connect-refused"]}"#);
    let row = judge(&seen, &findings());
    assert!(row.main_found);
    assert_eq!(row.kind, "network");
    let unseen = expected(r#"{"scenario":"s","must_report_any":["udp-loss","udp-all-lost"]}"#);
    assert!(!judge(&unseen, &findings()).main_found);
}
