//! `netcheck diagnose`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use super::progress::Progress;
use super::status::{print, print_styled};
use super::table;
use super::triage::{color_wanted, RuleFilter};
use super::{CmdResult, DiagnoseArgs, Failure, ReportFormat, Status};
use crate::config::{self, Inputs};
use crate::pipeline::{analyse_with, RunOptions};
use crate::report::connections::ConnectionsFile;
use crate::report::html::{self, StepCapture};
use crate::report::{json, text, Report};

/// Set to `1`, parse and fold every trace in the main thread (for comparing and measuring).
pub const ONE_THREAD_VAR: &str = "NETCHECK_ONE_THREAD";

/// Where an HTML report goes when `-o` is absent and standard output is a terminal.
pub const DEFAULT_HTML_FILE: &str = "netcheck-report.html";

pub fn run(args: &DiagnoseArgs) -> CmdResult {
    if let Some(dir) = &args.table {
        return run_table(dir);
    }
    if args.input.inputs.is_empty() && args.input.one_host_traces.is_empty() {
        return Err(Failure(
            "nothing to diagnose: give a config file or trace files (see `netcheck diagnose \
             --help`)"
                .into(),
        ));
    }
    let filter = RuleFilter::new(&args.select, &args.ignore)?;
    let inputs = Inputs {
        paths: args.input.inputs.clone(),
        one_host: args.input.one_host_traces.clone(),
    };
    let topology = config::load(&inputs)?;
    let capture = StepCapture::new();
    let observer = (args.format == ReportFormat::Html).then_some(&capture);
    let mut connections = match &args.connections {
        Some(path) => Some(
            ConnectionsFile::create(path)
                .map_err(|e| Failure(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let progress = Progress::start(&topology, args.quiet);
    let options = RunOptions {
        observer: observer.map(|c| c as _),
        sink: connections.as_mut().map(|c| c as _),
        one_thread: std::env::var_os(ONE_THREAD_VAR).is_some_and(|v| v == "1"),
        progress: progress.as_ref().map(|p| std::sync::Arc::clone(&p.counter)),
    };
    let analysis = analyse_with(topology, options);
    if let Some(progress) = progress {
        progress.finish();
    }
    let mut analysis = analysis?;
    if let (Some(file), Some(path)) = (connections, &args.connections) {
        file.finish()
            .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    }
    filter.apply(&mut analysis.findings);
    let report = Report::build(&analysis);
    let color =
        args.format == ReportFormat::Text && args.output.is_none() && color_wanted(args.color);
    let rendered = match args.format {
        ReportFormat::Json => json::render(&report),
        ReportFormat::Text => {
            let style = text::Style { color };
            if args.quiet {
                text::render_findings(&report, style)
            } else {
                text::render(&report, style)
            }
        }
        ReportFormat::Html => {
            let diagram = html::diagram::build(&analysis, &capture.finish());
            html::render(&report, &diagram)
        }
    };
    match output_file(args) {
        Some(path) => {
            std::fs::write(&path, rendered)
                .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            if args.output.is_none() {
                eprintln!("netcheck: wrote {}", path.display());
            }
        }
        None => print_styled(&rendered, color)?,
    }
    Ok(if report.has_problems() {
        Status::ProblemsFound
    } else {
        Status::Clean
    })
}

/// The file the report goes to; `None` for standard output.
fn output_file(args: &DiagnoseArgs) -> Option<PathBuf> {
    match (&args.output, args.format) {
        (Some(path), _) if path.as_os_str() != "-" => Some(path.clone()),
        (Some(_), _) => None,
        (None, ReportFormat::Html) if std::io::stdout().is_terminal() => {
            Some(PathBuf::from(DEFAULT_HTML_FILE))
        }
        (None, _) => None,
    }
}

/// `--table DIR`: exit 1 when a scenario misses its main issue, reports something it must not,
/// or cannot be run.
fn run_table(dir: &Path) -> CmdResult {
    let scenarios =
        table::scenarios(dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    if scenarios.is_empty() {
        return Err(Failure(format!(
            "{}: no scenario directories (with netcheck.conf and expected.json)",
            dir.display()
        )));
    }
    let rows: Vec<table::Row> = scenarios
        .iter()
        .flat_map(|s| table::run_scenario_with_views(s))
        .collect();
    print(&table::render_markdown(&rows))?;
    Ok(if rows.iter().all(table::Row::passed) {
        Status::Clean
    } else {
        Status::ProblemsFound
    })
}
