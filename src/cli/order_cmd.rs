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
    let mut out = super::parse_cmd::out_for(args.format, io::BufWriter::new(stdout.lock()));
    match write_order(&topology, traces, args.format, &mut out) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Status::Clean),
        Err(e) => return Err(e.into()),
    }
    Ok(Status::Clean)
}

/// Replays the traces and writes one line per placed call, then the footer.
fn write_order<'a>(
    topology: &Topology,
    traces: Vec<Box<dyn Iterator<Item = SocketEvent> + 'a>>,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut write_error: Option<io::Error> = None;
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
                    call: &step.call(),
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
                trace_name(topology, step.loc.trace),
                step.loc.line,
                step.call(),
                verdict_text(&step.verdict)
            ),
        };
        if let Err(e) = result {
            write_error = Some(e);
        }
    };
    let outcome = order::replay(topology, traces, &mut on_step);
    if let Some(e) = write_error {
        return Err(e);
    }
    let footer = Footer {
        ordered_calls: outcome.ordered_calls,
        blocked_points: outcome.blocked.len(),
        deviations: outcome.deviations.len(),
        used_timestamps: outcome.used_timestamps,
    };
    match format {
        Format::Json => {
            let json = serde_json::to_string(&serde_json::json!({ "footer": footer }))
                .map_err(io::Error::other)?;
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
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Errno;
    use crate::testkit::script::{topology, Script};

    fn scripts() -> Vec<Box<dyn Iterator<Item = SocketEvent>>> {
        let mut a = Script::new(0);
        let l = a.tcp();
        a.bind(l, "10.0.0.1:80");
        a.listen(l);
        let mut b = Script::new(1);
        let c = b.tcp();
        b.connect(c, "10.0.0.1:81");
        b.fails(Errno::ECONNREFUSED);
        [a, b]
            .into_iter()
            .map(|s| Box::new(s.events().into_iter()) as Box<dyn Iterator<Item = SocketEvent>>)
            .collect()
    }

    #[test]
    fn text_lists_every_call_then_the_footer() {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
        let mut out = Vec::new();
        write_order(&topo, scripts(), Format::Text, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[0].contains("A:trace0")
                && lines[0].contains("socket(A0, Inet, Stream) = 3  => ok")
        );
        assert!(text.contains("connect(B0, 10.0.0.1:81) = -1 ECONNREFUSED  => DEVIATION"));
        assert_eq!(
            lines[6],
            "5 calls ordered, 0 blocked point(s), 1 deviation(s), timestamps not used"
        );
    }

    #[test]
    fn json_gives_one_object_per_line() {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
        let mut out = Vec::new();
        write_order(&topo, scripts(), Format::Json, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let values: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(values.len(), 6);
        assert_eq!(values[0]["position"], 1);
        assert_eq!(values[0]["trace"], "A");
        assert_eq!(values[0]["verdict"], "Accept");
        assert_eq!(values[5]["footer"]["ordered_calls"], 5);
    }
}
