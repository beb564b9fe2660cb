//! The config file format of the original NetCheck, read line by line. Every problem in the file
//! is collected (with file and line) before the caller gives up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::address::parse_endpoint;
use super::paths::check_trace;
use super::{Host, NatRule, Topology, TopologyOrigin, TraceSpec};
use crate::source::TraceId;

/// Parses config `text` read from `source`. Trace paths are resolved against `base` (the folder
/// of `source`) and checked on disk. Returns every problem found, each as `FILE:LINE: message`.
pub fn parse(text: &str, source: &Path, base: &Path) -> Result<Topology, Vec<String>> {
    let mut reader = Reader::new(source, base);
    for (index, line) in text.lines().enumerate() {
        let tokens: Vec<&str> = line
            .split_whitespace()
            .take_while(|token| !token.starts_with('#'))
            .collect();
        if let Some((command, args)) = tokens.split_first() {
            let line_no = index + 1;
            if let Err(message) = reader.command(command, args, line_no) {
                reader.problem(line_no, message);
            }
        }
    }
    reader.finish()
}

struct Reader<'s> {
    source: &'s Path,
    base: PathBuf,
    topology: Topology,
    /// Where each host name and trace path was declared, to report duplicates.
    host_lines: HashMap<String, usize>,
    trace_lines: HashMap<PathBuf, usize>,
    /// The same, by file identity: one file under two spellings is still one trace.
    trace_files: HashMap<(u64, u64), usize>,
    problems: Vec<String>,
}

impl<'s> Reader<'s> {
    fn new(source: &'s Path, base: &Path) -> Self {
        Reader {
            source,
            base: base.to_path_buf(),
            topology: Topology {
                ignores: super::default_ignores(),
                origin: TopologyOrigin::ConfigFile,
                ..Topology::default()
            },
            host_lines: HashMap::new(),
            trace_lines: HashMap::new(),
            trace_files: HashMap::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, line_no: usize, message: String) {
        self.problems
            .push(format!("{}:{line_no}: {message}", self.source.display()));
    }

    fn command(&mut self, command: &str, args: &[&str], line_no: usize) -> Result<(), String> {
        match command.to_ascii_lowercase().as_str() {
            "host" => self.host(args, line_no),
            "ignore" => self.ignore(args),
            "trace" => self.trace(args, line_no),
            "ip" => self.ip(args),
            "nat" => self.nat(args),
            _ => Err(format!(
                "unknown command '{command}' (expected host, trace, ip, nat or ignore)"
            )),
        }
    }

    fn host(&mut self, args: &[&str], line_no: usize) -> Result<(), String> {
        let index = self.topology.hosts.len();
        let name = if args.is_empty() {
            format!("host{index}")
        } else {
            args.join(" ")
        };
        if let Some(first) = self.host_lines.get(&name) {
            return Err(format!("host '{name}' is already declared at line {first}"));
        }
        self.host_lines.insert(name.clone(), line_no);
        self.topology.hosts.push(Host {
            name,
            ips: Vec::new(),
            nats: Vec::new(),
            traces: Vec::new(),
        });
        Ok(())
    }

    /// The host that `trace`, `ip` and `nat` lines add to.
    fn current_host(&mut self, command: &str) -> Result<&mut Host, String> {
        self.topology
            .hosts
            .last_mut()
            .ok_or_else(|| format!("'{command}' before any 'host' line"))
    }

    fn ignore(&mut self, args: &[&str]) -> Result<(), String> {
        let [token] = args else {
            return Err(arg_count("ignore", "one address (IP or IP,PORT)", args));
        };
        let endpoint = parse_endpoint(token).map_err(|e| e.to_string())?;
        if !self.topology.ignores.contains(&endpoint) {
            self.topology.ignores.push(endpoint);
        }
        Ok(())
    }

    fn trace(&mut self, args: &[&str], line_no: usize) -> Result<(), String> {
        self.current_host("trace")?;
        let Some((file, name_words)) = args.split_first() else {
            return Err(arg_count("trace", "a file name and an optional name", args));
        };
        let path = self.base.join(file);
        check_trace(&path).map_err(|reason| format!("trace '{file}': {reason}"))?;
        if let Some(first) = self.trace_lines.get(&path) {
            return Err(format!(
                "trace '{file}' is already declared at line {first}"
            ));
        }
        if let Some(identity) = crate::input::identity(&path) {
            if let Some(first) = self.trace_files.insert(identity, line_no) {
                return Err(format!(
                    "trace '{file}' is the file already declared at line {first}"
                ));
            }
        }
        self.trace_lines.insert(path.clone(), line_no);
        let name = if name_words.is_empty() {
            default_trace_name(&path)
        } else {
            name_words.join(" ")
        };
        if let Some(same) = self.topology.traces.iter().find(|t| t.name == name) {
            return Err(format!(
                "trace name '{name}' is already used by '{}'; name one of them: trace FILE NAME",
                same.path.display()
            ));
        }
        let id = TraceId(self.topology.traces.len() as u32);
        let host = self.topology.hosts.len() - 1;
        let clock = crate::parse::clock_of(&path);
        self.topology.traces.push(TraceSpec {
            id,
            name,
            path,
            host,
            clock,
        });
        self.current_host("trace")?.traces.push(id);
        Ok(())
    }

    fn ip(&mut self, args: &[&str]) -> Result<(), String> {
        let host = self.current_host("ip")?;
        let [token] = args else {
            return Err(arg_count("ip", "one address", args));
        };
        let endpoint = parse_endpoint(token).map_err(|e| e.to_string())?;
        if endpoint.port.is_some() || token.contains(',') {
            return Err(format!(
                "'ip' takes an address without a port, got '{token}'"
            ));
        }
        if endpoint.ip.is_unspecified() {
            return Err(format!(
                "'ip {token}' is the unspecified address; declare the host's real address"
            ));
        }
        if !host.ips.contains(&endpoint.ip) {
            host.ips.push(endpoint.ip);
        }
        Ok(())
    }

    fn nat(&mut self, args: &[&str]) -> Result<(), String> {
        let host = self.current_host("nat")?;
        let [private, public] = args else {
            return Err(arg_count(
                "nat",
                "two addresses (PRIVATE[,PORT] PUBLIC[,PORT])",
                args,
            ));
        };
        // Both sides are checked so that one line reports both bad addresses at once.
        let (private, public) = match (parse_endpoint(private), parse_endpoint(public)) {
            (Ok(private), Ok(public)) => (private, public),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e.to_string()),
            (Err(a), Err(b)) => return Err(format!("{a}; {b}")),
        };
        let rule = NatRule {
            private,
            public,
            inferred: false,
        };
        if !host.nats.contains(&rule) {
            host.nats.push(rule);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Topology, Vec<String>> {
        if self.topology.traces.is_empty() {
            self.problems.push(format!(
                "{}: no traces declared (a config needs at least one 'host' with a 'trace FILE' line)",
                self.source.display()
            ));
        }
        if self.problems.is_empty() {
            Ok(self.topology)
        } else {
            Err(self.problems)
        }
    }
}

/// `'nat' takes two addresses (...), got 1`.
fn arg_count(command: &str, wanted: &str, args: &[&str]) -> String {
    format!("'{command}' takes {wanted}, got {}", args.len())
}

/// A trace is named after its file unless the config names it.
pub fn default_trace_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
