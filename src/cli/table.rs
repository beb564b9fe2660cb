//! The scenario table: run every lab scenario under a directory and compare the reported rules
//! with the scenario's `expected.json` (in the manner of the NetCheck paper's Table 2).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::Inputs;
use crate::diagnose::{registry, Finding};
use crate::pipeline::run_pipeline;

/// What a scenario's `expected.json` says.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub scenario: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub must_report: Vec<String>,
    #[serde(default)]
    pub must_not_report: Vec<String>,
    #[serde(default)]
    pub healthy: bool,
    /// The fault's type as the scenario states it (`network`, `application`...); when absent it
    /// is the class of the first `must_report` rule.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
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
    /// Findings whose rule is in `must_not_report`.
    pub incorrect: Vec<&'static str>,
    /// Set when the scenario could not be run.
    pub error: Option<String>,
}

impl Row {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.main_found && self.incorrect.is_empty()
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
    let main_found = if expected.healthy {
        problems.is_empty()
    } else {
        expected
            .must_report
            .iter()
            .all(|rule| reported.contains(&rule.as_str()))
    };
    let mut extra: Vec<&'static str> = problems
        .into_iter()
        .filter(|rule| !expected.must_report.iter().any(|m| m == rule))
        .filter(|rule| !expected.must_not_report.iter().any(|m| m == rule))
        .collect();
    extra.sort();
    extra.dedup();
    let mut incorrect: Vec<&'static str> = reported
        .into_iter()
        .filter(|rule| expected.must_not_report.iter().any(|m| m == rule))
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
    }
}

fn kind_of(expected: &Expected) -> String {
    if let Some(kind) = &expected.kind {
        return kind.clone();
    }
    if expected.healthy {
        return "healthy".into();
    }
    expected
        .must_report
        .first()
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
        Err(error) => return error_row(fallback_name, error),
    };
    let inputs = Inputs {
        paths: vec![dir.join("netcheck.conf")],
        one_host: Vec::new(),
    };
    match run_pipeline(&inputs) {
        Ok(analysis) => judge(&expected, &analysis.findings),
        Err(error) => error_row(expected.scenario, error.to_string()),
    }
}

fn error_row(scenario: String, error: String) -> Row {
    Row {
        scenario,
        kind: "?".into(),
        main_found: false,
        extra: Vec::new(),
        incorrect: Vec::new(),
        error: Some(error),
    }
}

/// The Markdown table, with a totals line.
pub fn render_markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Scenario | Type | Main issue found | Extra | Incorrect |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let found = match &row.error {
            Some(error) => format!("error: {}", error.replace('|', "\\|")),
            None if row.main_found => "yes".into(),
            None => "**no**".into(),
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
    let found = rows
        .iter()
        .filter(|r| r.error.is_none() && r.main_found)
        .count();
    let extra: usize = rows.iter().map(|r| r.extra.len()).sum();
    let incorrect: usize = rows.iter().map(|r| r.incorrect.len()).sum();
    let _ = writeln!(
        out,
        "\n{found} of {} scenario(s) found their main issue; {extra} extra, {incorrect} incorrect.",
        rows.len()
    );
    out
}

fn count_with_rules(rules: &[&str]) -> String {
    if rules.is_empty() {
        "0".into()
    } else {
        format!("{} ({})", rules.len(), rules.join(", "))
    }
}
