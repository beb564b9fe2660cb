//! `netcheck diagnose`.

use super::status::print;
use super::table;
use super::{CmdResult, DiagnoseArgs, Failure, Format, Status};
use crate::config::Inputs;
use crate::pipeline::run_pipeline;
use crate::report::{json, text, Report};

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
    let inputs = Inputs {
        paths: args.input.inputs.clone(),
        one_host: args.input.one_host_traces.clone(),
    };
    let analysis = run_pipeline(&inputs)?;
    let report = Report::build(&analysis);
    let rendered = match args.format {
        Format::Json => json::render(&report),
        Format::Text => text::render(
            &report,
            text::Style {
                color: text::stdout_color(),
            },
        ),
    };
    print(&rendered)?;
    Ok(if report.has_problems() {
        Status::ProblemsFound
    } else {
        Status::Clean
    })
}

/// `--table DIR`: exit 1 when a scenario misses its main issue, reports something it must not,
/// or cannot be run.
fn run_table(dir: &std::path::Path) -> CmdResult {
    let scenarios =
        table::scenarios(dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    if scenarios.is_empty() {
        return Err(Failure(format!(
            "{}: no scenario directories (with netcheck.conf and expected.json)",
            dir.display()
        )));
    }
    let rows: Vec<table::Row> = scenarios.iter().map(|s| table::run_scenario(s)).collect();
    print(&table::render_markdown(&rows))?;
    Ok(if rows.iter().all(table::Row::passed) {
        Status::Clean
    } else {
        Status::ProblemsFound
    })
}
