//! `netcheck parse`: the folded socket events of each trace, and how every line was accounted for.

use std::io::{self, BufWriter, Write};

use serde_json::json;

use super::{CmdResult, Format, ParseArgs, Status};
use crate::fold::{FoldStats, Folder, SocketEvent};
use crate::parse::{ParseStats, TraceReader};
use crate::report::terminal::{printable, TerminalWriter};
use crate::source::TraceId;

pub fn run(args: &ParseArgs) -> CmdResult {
    let stdout = io::stdout();
    let mut out = out_for(args.format, BufWriter::new(stdout.lock()));
    let mut status = Status::Clean;
    for (i, path) in args.traces.iter().enumerate() {
        let trace = TraceId(i as u32);
        if let Err(reason) = crate::config::check_trace(path) {
            let message = format!("{}: {reason}", path.display());
            eprintln!("netcheck: {}", printable(&message, false));
            status = Status::Error;
            continue;
        }
        let reader = match TraceReader::open(path, trace) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("netcheck: {}", printable(&e.to_string(), false));
                status = Status::Error;
                continue;
            }
        };
        let mut folder = Folder::new(reader, trace);
        for event in folder.by_ref() {
            if !args.summary {
                write_event(&mut out, args.format, &event)?;
            }
        }
        let fold_stats = folder.stats().clone();
        let parse_stats = folder.into_inner().stats().clone();
        write_summary(
            &mut out,
            args.format,
            trace,
            path,
            &parse_stats,
            &fold_stats,
        )?;
        if parse_stats.unparsed > 0 && status == Status::Clean {
            status = Status::ProblemsFound;
        }
    }
    out.flush()?;
    Ok(status)
}

/// Text goes through the terminal filter; JSON escapes control characters itself.
pub(super) fn out_for<'w>(format: Format, out: impl Write + 'w) -> Box<dyn Write + 'w> {
    match format {
        Format::Text => Box::new(TerminalWriter::new(out, false)),
        Format::Json => Box::new(out),
    }
}

fn write_event(out: &mut impl Write, format: Format, event: &SocketEvent) -> io::Result<()> {
    let c = &event.call;
    match format {
        Format::Text => {
            let time = c.time.map(|t| format!(" {t:.6}")).unwrap_or_default();
            writeln!(
                out,
                "{}:{:<6} pid {:<6}{}  {}",
                c.loc.trace,
                c.loc.line,
                c.pid,
                time,
                event.describe()
            )
        }
        Format::Json => {
            let sockets: Vec<serde_json::Value> = event
                .socks
                .iter()
                .map(|(fd, id)| json!({"fd": fd, "socket": id.to_string()}))
                .collect();
            let doc = json!({
                "type": "event",
                "trace": c.loc.trace.to_string(),
                "file": c.loc.file,
                "line": c.loc.line,
                "pid": c.pid,
                "time": c.time,
                "sockets": sockets,
                "synthetic": event.synthetic,
                "text": event.describe(),
                "call": c,
            });
            writeln!(out, "{doc}")
        }
    }
}

fn write_summary(
    out: &mut impl Write,
    format: Format,
    trace: TraceId,
    path: &std::path::Path,
    parse: &ParseStats,
    fold: &FoldStats,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let doc = json!({
                "type": "summary",
                "trace": trace.to_string(),
                "path": path.to_string_lossy(),
                "parse": parse,
                "fold": fold,
            });
            writeln!(out, "{doc}")
        }
        Format::Text => {
            let ignored: u64 = parse.ignored.values().sum();
            writeln!(out, "-- trace {trace}: {}", path.display())?;
            writeln!(
                out,
                "   {} lines, {} bytes: {} calls ({} merged from unfinished/resumed), {} process events, {} ignored calls, {} skipped lines, {} unparsed lines",
                parse.lines,
                parse.bytes,
                parse.calls,
                parse.merged_unfinished,
                parse.process_events,
                ignored,
                parse.skipped,
                parse.unparsed
            )?;
            writeln!(
                out,
                "   {} sockets, {} socket events ({} implied closes), {} calls on other descriptors, {} closes of duplicates",
                fold.sockets,
                fold.socket_events,
                fold.synthetic_closes,
                fold.non_socket_calls,
                fold.duplicate_closes
            )?;
            if parse.calls_not_read > 0 {
                writeln!(
                    out,
                    "   {} of the calls were on descriptors already known not to be sockets: counted, arguments not read",
                    parse.calls_not_read
                )?;
            }
            if parse.unfinished_at_end > 0 {
                writeln!(
                    out,
                    "   {} calls were still unfinished when the trace ended",
                    parse.unfinished_at_end
                )?;
            }
            for u in &parse.first_unparsed {
                writeln!(
                    out,
                    "   unparsed {}:{}:{}: {}: {}",
                    u.path.display(),
                    u.loc.line,
                    u.column,
                    u.reason,
                    u.text
                )?;
            }
            Ok(())
        }
    }
}
