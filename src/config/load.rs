//! Which topology a run uses: a config file, inference from traces, or one-host mode. All input
//! problems are gathered and reported together, before any trace is processed by later stages.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::file::{self, default_trace_name};
use super::infer::{infer, Inference};
use super::paths::{check_trace, io_reason, looks_like_config};
use super::{default_ignores, ConfigError, Host, Inputs, Topology, TopologyOrigin, TraceSpec};
use crate::input;
use crate::parse::{TraceEvent, TraceReader};
use crate::source::TraceId;

/// A loaded topology, with the inference that produced it (zero-config mode only).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub topology: Topology,
    pub inference: Option<Inference>,
}

/// Like [`super::load`], keeping the inference's reasons and ambiguities for display.
pub fn load_detailed(inputs: &Inputs) -> Result<Loaded, ConfigError> {
    let fail = |problem: String| Err(ConfigError::new(vec![problem]));
    match (inputs.paths.as_slice(), inputs.one_host.as_slice()) {
        ([], []) => fail("no input: give a config file, trace files, or --trace FILES".into()),
        ([_, ..], [_, ..]) => fail(
            "give traces either as arguments (one host each) or with --trace (all on one host), \
             not both"
                .into(),
        ),
        ([], traces) => one_host(traces).map(|topology| Loaded {
            topology,
            inference: None,
        }),
        ([single], []) if looks_like_config(single) => from_config_file(single),
        (traces, []) => {
            if let Some(config) = traces.iter().find(|p| looks_like_config(p)) {
                return fail(format!(
                    "{}: is a config file; give one config file alone, or only trace files",
                    config.display()
                ));
            }
            inferred(traces)
        }
    }
}

fn from_config_file(path: &Path) -> Result<Loaded, ConfigError> {
    let cannot_read = |reason: String| {
        ConfigError::new(vec![format!(
            "{}: cannot read config: {reason}",
            input::shown(path)
        )])
    };
    let mut bytes = Vec::new();
    input::open(path)
        .map_err(|e| cannot_read(e.reason))?
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(io_reason(&e)))?;
    // Trace paths are relative to the config's folder; a config read from a pipe has none, so
    // they are relative to the current folder.
    let base = match path.parent() {
        Some(parent) if !input::is_once_only(path) => parent.to_path_buf(),
        _ => PathBuf::new(),
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let topology = file::parse(text, path, &base).map_err(ConfigError::new)?;
    Ok(Loaded {
        topology,
        inference: None,
    })
}

/// Checks every trace path and builds their specs, all on host `host_of(i)`.
fn trace_specs(
    paths: &[PathBuf],
    host_of: impl Fn(usize) -> usize,
) -> Result<Vec<TraceSpec>, ConfigError> {
    let mut seen: HashMap<(u64, u64), &PathBuf> = HashMap::new();
    let mut names = HashSet::new();
    let problems: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            let first = input::identity(path).and_then(|id| seen.insert(id, path));
            let problem = if let Some(first) = first {
                Err(if first == path {
                    "is given twice".to_string()
                } else {
                    format!("is the same file as {}", first.display())
                })
            } else if !names.insert(default_trace_name(path)) {
                Err(format!(
                    "another trace is also named {}; rename one, or name them in a config",
                    default_trace_name(path)
                ))
            } else if looks_like_config(path) {
                Err("is a config file, not a trace".to_string())
            } else {
                check_trace(path)
            };
            problem
                .err()
                .map(|reason| format!("{}: {reason}", path.display()))
        })
        .collect();
    if !problems.is_empty() {
        return Err(ConfigError::new(problems));
    }
    Ok(paths
        .iter()
        .enumerate()
        .map(|(i, path)| TraceSpec {
            id: TraceId(i as u32),
            name: default_trace_name(path),
            path: path.clone(),
            host: host_of(i),
            clock: crate::parse::clock_of(path),
        })
        .collect())
}

/// The original's `-u`: one host `host0` without addresses holding every trace.
fn one_host(paths: &[PathBuf]) -> Result<Topology, ConfigError> {
    let traces = trace_specs(paths, |_| 0)?;
    Ok(Topology {
        hosts: vec![Host {
            name: "host0".into(),
            ips: Vec::new(),
            nats: Vec::new(),
            traces: traces.iter().map(|t| t.id).collect(),
        }],
        traces,
        ignores: default_ignores(),
        origin: TopologyOrigin::OneHost,
    })
}

/// One host per trace, or per group of traces that talked over loopback; addresses and NATs
/// inferred from the traces' calls.
fn inferred(paths: &[PathBuf]) -> Result<Loaded, ConfigError> {
    let traces = trace_specs(paths, |i| i)?;
    let mut readers = Vec::with_capacity(traces.len());
    let mut problems = Vec::new();
    for spec in &traces {
        match TraceReader::open(&spec.path, spec.id) {
            Ok(reader) => readers.push(reader),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError::new(problems));
    }
    let inference = infer(readers.into_iter().map(|reader| {
        reader.filter_map(|event| match event {
            TraceEvent::Call(call) => Some(call),
            TraceEvent::Process { .. } => None,
        })
    }));
    let names = host_names(&traces);
    let mut traces = traces;
    let mut hosts: Vec<Host> = Vec::new();
    // Host index of each group's first trace, as groups are met in trace order.
    let mut host_index: HashMap<usize, usize> = HashMap::new();
    for (spec, name) in traces.iter_mut().zip(names) {
        let group = inference
            .host_of_trace
            .get(spec.host)
            .copied()
            .unwrap_or(spec.host);
        let found = inference.hosts.get(spec.host);
        let index = *host_index.entry(group).or_insert_with(|| {
            hosts.push(Host {
                name,
                ips: Vec::new(),
                nats: Vec::new(),
                traces: Vec::new(),
            });
            hosts.len() - 1
        });
        spec.host = index;
        if let Some(host) = hosts.get_mut(index) {
            host.traces.push(spec.id);
            for ip in found.into_iter().flat_map(|h| &h.ips) {
                if !host.ips.contains(ip) {
                    host.ips.push(*ip);
                }
            }
            host.nats.extend(
                found
                    .into_iter()
                    .flat_map(|h| h.nats.iter().map(|n| n.rule)),
            );
        }
    }
    Ok(Loaded {
        topology: Topology {
            hosts,
            traces,
            ignores: default_ignores(),
            origin: TopologyOrigin::Inferred,
        },
        inference: Some(inference),
    })
}

/// Hosts are named after their trace file up to the first dot (`client.trace` → `client`), or
/// `hostN` when that is empty or already taken.
fn host_names(traces: &[TraceSpec]) -> Vec<String> {
    let mut taken = HashSet::new();
    traces
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let stem = spec.name.split('.').next().unwrap_or_default();
            let name = if stem.is_empty() || taken.contains(stem) {
                format!("host{i}")
            } else {
                stem.to_string()
            };
            taken.insert(name.clone());
            name
        })
        .collect()
}
