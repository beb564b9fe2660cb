//! `netcheck record`: trace a program, then print its host's config stanza on stdout.

use std::path::{Path, PathBuf};

use super::{CmdResult, Failure, Status};
use crate::record::{record, stanza, RecordRequest, Traced};

pub fn run(args: &super::RecordArgs) -> CmdResult {
    let (traced, what) = match args.pid {
        Some(pid) => (Traced::Process(pid), format!("process {pid}")),
        None => (
            Traced::Command(args.command.clone()),
            format!("`{}`", args.command.join(" ")),
        ),
    };
    let request = RecordRequest {
        output: args.output.clone(),
        string_limit: args.string_limit,
        traced,
        strace: args.strace.clone().into_os_string(),
    };
    let stop_effect = match args.pid {
        Some(_) => "strace detaches and the process keeps running",
        None => "netcheck passes the signal on",
    };
    eprintln!(
        "netcheck: recording {what} into {}; stop it with Ctrl-C, or `kill -INT {pid}` / `kill \
         -TERM {pid}` ({stop_effect}), and the config stanza follows",
        args.output.display(),
        pid = std::process::id()
    );
    let recorded = record(&request).map_err(|e| Failure(e.to_string()))?;
    eprintln!(
        "netcheck: recorded {what} into {}; it {}",
        args.output.display(),
        recorded.exit
    );
    let host = args.host.clone().unwrap_or_else(local_hostname);
    let trace = trace_path_for(&args.output, args.stanza.as_deref());
    let text = stanza(&host, &trace, &recorded.addresses);
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

/// The trace path as the config will name it. Config paths are relative to the config file, so:
/// relative to the stanza file's directory when the trace is under it, else absolute (a stanza
/// on stdout may be pasted into a config anywhere).
fn trace_path_for(trace: &Path, stanza_file: Option<&Path>) -> PathBuf {
    let Ok(absolute) = std::path::absolute(trace) else {
        return trace.to_path_buf();
    };
    let config_dir = stanza_file
        .and_then(|file| std::path::absolute(file).ok())
        .and_then(|file| file.parent().map(Path::to_path_buf));
    match config_dir.and_then(|dir| absolute.strip_prefix(dir).ok().map(Path::to_path_buf)) {
        Some(relative) if !relative.as_os_str().is_empty() => relative,
        _ => absolute,
    }
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_paths_work_from_where_the_config_goes() {
        let cwd = std::env::current_dir().unwrap();
        // On stdout: absolute.
        assert_eq!(
            trace_path_for(Path::new("out/server.trace"), None),
            cwd.join("out/server.trace")
        );
        // Next to the stanza file: relative to its directory.
        assert_eq!(
            trace_path_for(
                Path::new("out/traces/server.trace"),
                Some(Path::new("out/netcheck.conf"))
            ),
            PathBuf::from("traces/server.trace")
        );
        // Elsewhere: absolute.
        assert_eq!(
            trace_path_for(
                Path::new("/tmp/a.trace"),
                Some(Path::new("conf/netcheck.conf"))
            ),
            PathBuf::from("/tmp/a.trace")
        );
    }
}
