//! `netcheck record`: trace a program, then print its host's config stanza on stdout.

use super::{CmdResult, Failure, Status};
use crate::record::{record, stanza, RecordRequest};

pub fn run(args: &super::RecordArgs) -> CmdResult {
    let request = RecordRequest {
        output: args.output.clone(),
        string_limit: args.string_limit,
        command: args.command.clone(),
        strace: args.strace.clone().into_os_string(),
    };
    let recorded = record(&request).map_err(|e| Failure(e.to_string()))?;
    eprintln!(
        "netcheck: recorded `{}` into {}; it {}",
        args.command.join(" "),
        args.output.display(),
        recorded.exit
    );
    let host = args.host.clone().unwrap_or_else(local_hostname);
    let text = stanza(&host, &args.output, &recorded.addresses);
    match &args.stanza {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            Failure(format!(
                "cannot write the stanza to {}: {e} (the trace is in {})",
                path.display(),
                args.output.display()
            ))
        })?,
        None => print!("{}", crate::report::terminal::printable(&text, false)),
    }
    Ok(Status::Clean)
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_string())
}
