//! `netcheck order`: print the reconstructed global order, one line per call.

use std::io::{self, Write};

use serde::Serialize;

use super::{CmdResult, Format, Status};
use crate::config::{self, Inputs, Topology};
use crate::fold::{Folder, SocketEvent};
use crate::model::{DeviationKind, Verdict};
use crate::order::{self, Step};
use crate::parse::TraceReader;

/// One line of `--format json` output.
#[derive(Serialize)]
struct StepLine<'s> {
    position: u64,
    trace: String,
    line: u64,
    file: u32,
    call: &'s str,
    verdict: &'s Verdict,
}

#[derive(Serialize)]
struct Footer {
    ordered_calls: u64,
    blocked_points: usize,
    deviations: usize,
    used_timestamps: bool,
}

/// A verdict in a few words for the text view.
pub fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept => "ok".into(),
        Verdict::NotModelled => "not modelled".into(),
        Verdict::RetryLater(reason) => format!("retry: {reason}"),
        Verdict::Deviation(d) => {
            let kind = match &d.kind {
                DeviationKind::Forced => "FORCED".to_string(),
                other => format!("{other:?}"),
            };
            format!("DEVIATION {kind}: {}", d.detail)
        }
    }
}

fn trace_name(topology: &Topology, trace: crate::source::TraceId) -> String {
    topology
        .traces
        .get(trace.0 as usize)
        .map_or_else(|| trace.to_string(), |t| format!("{trace}:{}", t.name))
}

pub fn run(args: &super::OrderArgs) -> CmdResult {
    let inputs = Inputs {
        paths: args.input.inputs.clone(),
        one_host: args.input.one_host_traces.clone(),
    };
    let topology = config::load(&inputs)?;
    let mut traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = Vec::new();
    for spec in &topology.traces {
        let reader = TraceReader::open(&spec.path, spec.id)?;
        traces.push(Box::new(Folder::new(reader, spec.id)));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut write_error: Option<io::Error> = None;
    let format = args.format;
    let mut on_step = |step: &Step| {
        if write_error.is_some() {
            return;
        }
        let result = match format {
            Format::Json => {
                let line = StepLine {
                    position: step.position,
                    trace: step.loc.trace.to_string(),
                    line: step.loc.line,
                    file: step.loc.file,
                    call: &step.call,
                    verdict: &step.verdict,
                };
                serde_json::to_string(&line)
                    .map_err(io::Error::other)
                    .and_then(|json| writeln!(out, "{json}"))
            }
            Format::Text => writeln!(
                out,
                "{:>6}  {:<12} {:>6}  {}  => {}",
                step.position,
                trace_name(&topology, step.loc.trace),
                step.loc.line,
                step.call,
                verdict_text(&step.verdict)
            ),
        };
        if let Err(e) = result {
            write_error = Some(e);
        }
    };
    let outcome = order::replay(&topology, traces, &mut on_step);
    if let Some(e) = write_error {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(Status::Clean);
        }
        return Err(e.into());
    }
    let footer = Footer {
        ordered_calls: outcome.ordered_calls,
        blocked_points: outcome.blocked.len(),
        deviations: outcome.deviations.len(),
        used_timestamps: outcome.used_timestamps,
    };
    match format {
        Format::Json => {
            let json = serde_json::to_string(&serde_json::json!({ "footer": footer }))?;
            writeln!(out, "{json}")?;
        }
        Format::Text => {
            writeln!(out)?;
            writeln!(
                out,
                "{} calls ordered, {} blocked point(s), {} deviation(s), timestamps {}",
                footer.ordered_calls,
                footer.blocked_points,
                footer.deviations,
                if footer.used_timestamps {
                    "used to break ties"
                } else {
                    "not used"
                }
            )?;
            for b in &outcome.blocked {
                writeln!(out, "blocked before position {}:", b.position)?;
                for (loc, reason) in &b.heads {
                    writeln!(out, "  {}:{}  {reason}", loc.trace, loc.line)?;
                }
                if let Some(f) = b.forced {
                    writeln!(out, "  forced {}:{}", f.trace, f.line)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Status::Clean)
}
