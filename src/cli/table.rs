//! The scenario table: run every lab scenario under a directory and compare the reported rules
//! with the scenario's `expected.json` (in the manner of the NetCheck paper's Table 2). A
//! scenario may also name one-sided views (`views`): the same run with only one host's traces,
//! every other host declared but unobserved, judged against what that side can see.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{self, Inputs};
use crate::diagnose::{registry, Finding};
use crate::pipeline::analyse;

/// What a scenario's `expected.json` says.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub scenario: String,
    #[serde(default)]
    pub description: String,
    #[serde(flatten)]
    pub rules: RuleExpectation,
    /// The fault's type as the scenario states it (`network`, `application`...); when absent it
    /// is the class of the first `must_report` rule.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// One-sided views by host name: what the run shows when only that host was traced.
    #[serde(default)]
    pub views: BTreeMap<String, ViewExpected>,
}

/// Which rules a run must and must not report.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleExpectation {
    #[serde(default)]
    pub must_report: Vec<String>,
    /// At least one of these must be reported (when one side may name the fault in more than
    /// one correct way).
    #[serde(default)]
    pub must_report_any: Vec<String>,
    #[serde(default)]
    pub must_not_report: Vec<String>,
    /// Nothing wrong happened (or can be seen): no problem may be reported.
    #[serde(default)]
    pub healthy: bool,
}

/// What one host's traces alone must show.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ViewExpected {
    #[serde(flatten)]
    pub rules: RuleExpectation,
    /// Why this side can tell nothing about the fault although it does not look healthy either:
    /// the view is listed, not scored.
    #[serde(default)]
    pub invisible: Option<String>,
}

impl Expected {
    /// The expectation of the view from `host` alone.
    fn view(&self, host: &str, view: &ViewExpected) -> Expected {
        Expected {
            scenario: view_name(&self.scenario, host),
            description: self.description.clone(),
            rules: view.rules.clone(),
            kind: None,
            views: BTreeMap::new(),
        }
    }
}

/// The table's name for the view of `scenario` from `host` alone.
pub fn view_name(scenario: &str, host: &str) -> String {
    format!("{scenario} @{host}")
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    /// Class of the first expected rule (`network`, `application`...), `healthy`, or `?`.
    pub kind: String,
    pub main_found: bool,
    /// Problem findings whose rule is not in `must_report`.
    pub extra: Vec<&'static str>,
    /// Problem findings whose rule is in `must_not_report`.
    pub incorrect: Vec<&'static str>,
    /// Set when the scenario could not be run.
    pub error: Option<String>,
    /// A one-sided view that cannot show the fault: listed with the reason, not scored.
    pub invisible: Option<String>,
}

impl Row {
    pub fn passed(&self) -> bool {
        self.invisible.is_some()
            || (self.error.is_none() && self.main_found && self.incorrect.is_empty())
    }

    fn scored(&self) -> bool {
        self.invisible.is_none()
    }
}

/// Compares the findings of one scenario with its expectations.
pub fn judge(expected: &Expected, findings: &[Finding]) -> Row {
    let reported: Vec<&'static str> = findings.iter().map(|f| f.rule).collect();
    let problems: Vec<&'static str> = findings
        .iter()
        .filter(|f| f.class.is_problem())
        .map(|f| f.rule)
        .collect();
    let main_found = if expected.rules.healthy {
        problems.is_empty()
    } else {
        expected
            .rules
            .must_report
            .iter()
            .all(|rule| reported.contains(&rule.as_str()))
            && (expected.rules.must_report_any.is_empty()
                || expected
                    .rules
                    .must_report_any
                    .iter()
                    .any(|rule| reported.contains(&rule.as_str())))
    };
    let mut extra: Vec<&'static str> = problems
        .into_iter()
        .filter(|rule| !expected.rules.must_report.iter().any(|m| m == rule))
        .filter(|rule| !expected.rules.must_report_any.iter().any(|m| m == rule))
        .filter(|rule| !expected.rules.must_not_report.iter().any(|m| m == rule))
        .collect();
    extra.sort();
    extra.dedup();
    // A note (class info) is no claim about the run's health: it is never incorrect.
    let mut incorrect: Vec<&'static str> = findings
        .iter()
        .filter(|f| f.class.is_problem())
        .map(|f| f.rule)
        .filter(|rule| expected.rules.must_not_report.iter().any(|m| m == rule))
        .collect();
    incorrect.sort();
    incorrect.dedup();
    Row {
        scenario: expected.scenario.clone(),
        kind: kind_of(expected),
        main_found,
        extra,
        incorrect,
        error: None,
        invisible: None,
    }
}

fn kind_of(expected: &Expected) -> String {
    if let Some(kind) = &expected.kind {
        return kind.clone();
    }
    if expected.rules.healthy {
        return "healthy".into();
    }
    expected
        .rules
        .must_report
        .first()
        .or(expected.rules.must_report_any.first())
        .and_then(|id| registry::find(id))
        .map_or_else(|| "?".into(), |rule| rule.class.to_string())
}

/// Scenario directories under `dir` (those holding both `netcheck.conf` and `expected.json`),
/// sorted by name.
pub fn scenarios(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.join("netcheck.conf").is_file() && p.join("expected.json").is_file())
        .collect();
    found.sort();
    Ok(found)
}

/// Runs one scenario directory; failures become a row with `error` set.
pub fn run_scenario(dir: &Path) -> Row {
    run_scenario_and_views(dir, false).swap_remove(0)
}

/// Runs one scenario directory and, after its row, one row per one-sided view its
/// `expected.json` names (in host-name order).
pub fn run_scenario_with_views(dir: &Path) -> Vec<Row> {
    run_scenario_and_views(dir, true)
}

fn run_scenario_and_views(dir: &Path, with_views: bool) -> Vec<Row> {
    let fallback_name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let expected_path = dir.join("expected.json");
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))
        .and_then(|text| {
            serde_json::from_str::<Expected>(&text)
                .map_err(|e| format!("{}: {e}", expected_path.display()))
        });
    let expected = match expected {
        Ok(expected) => expected,
        Err(error) => return vec![error_row(fallback_name, error)],
    };
    let inputs = Inputs {
        paths: vec![dir.join("netcheck.conf")],
        one_host: Vec::new(),
    };
    let topology = match config::load(&inputs) {
        Ok(topology) => topology,
        Err(error) => return vec![error_row(expected.scenario, error.to_string())],
    };
    let mut rows = Vec::new();
    let views = if with_views {
        expected
            .views
            .iter()
            .map(|(host, view)| (host.clone(), view.clone(), topology.seen_only_from(host)))
            .collect()
    } else {
        Vec::new()
    };
    rows.push(match analyse(topology) {
        Ok(analysis) => judge(&expected, &analysis.findings),
        Err(error) => error_row(expected.scenario.clone(), error.to_string()),
    });
    for (host, view, seen) in views {
        let name = view_name(&expected.scenario, &host);
        let Some(seen) = seen else {
            rows.push(error_row(name, format!("no traced host {host}")));
            continue;
        };
        let mut row = match analyse(seen) {
            Ok(analysis) => judge(&expected.view(&host, &view), &analysis.findings),
            Err(error) => error_row(name, error.to_string()),
        };
        if let Some(reason) = view.invisible {
            row.kind = "invisible".into();
            row.invisible = Some(reason);
        }
        rows.push(row);
    }
    rows
}

fn error_row(scenario: String, error: String) -> Row {
    Row {
        scenario,
        kind: "?".into(),
        main_found: false,
        extra: Vec::new(),
        incorrect: Vec::new(),
        error: Some(error),
        invisible: None,
    }
}

/// The Markdown table, with a totals line.
pub fn render_markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Scenario | Type | Main issue found | Extra | Incorrect |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let found = match (&row.error, &row.invisible) {
            (_, Some(reason)) => format!("not scored: {}", reason.replace('|', "\\|")),
            (Some(error), None) => format!("error: {}", error.replace('|', "\\|")),
            (None, None) if row.main_found => "yes".into(),
            (None, None) => "**no**".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {found} | {} | {} |",
            row.scenario,
            row.kind,
            count_with_rules(&row.extra),
            count_with_rules(&row.incorrect)
        );
    }
    let scored: Vec<&Row> = rows.iter().filter(|r| r.scored()).collect();
    let found = scored
        .iter()
        .filter(|r| r.error.is_none() && r.main_found)
        .count();
    let extra: usize = scored.iter().map(|r| r.extra.len()).sum();
    let incorrect: usize = scored.iter().map(|r| r.incorrect.len()).sum();
    let _ = write!(
        out,
        "\n{found} of {} scenario(s) found their main issue; {extra} extra, {incorrect} incorrect.",
        scored.len()
    );
    let not_scored = rows.len() - scored.len();
    if not_scored > 0 {
        let _ = write!(
            out,
            " {not_scored} one-sided view(s) cannot show their fault and are not scored."
        );
    }
    out.push('\n');
    out
}

fn count_with_rules(rules: &[&str]) -> String {
    if rules.is_empty() {
        "0".into()
    } else {
        format!("{} ({})", rules.len(), rules.join(", "))
    }
}
