//! The *config* stage: which traces belong to which host, each host's addresses and NATs, and the
//! endpoints to ignore. Read from the original NetCheck config format or inferred from traces.

pub mod matching;

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::source::TraceId;

/// The modelled world: hosts, their traces, addresses and NATs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Topology {
    pub hosts: Vec<Host>,
    /// Traces in declaration order; `traces[i].id == TraceId(i)`.
    pub traces: Vec<TraceSpec>,
    /// Endpoints outside the modelled world (127.0.0.1:53 is always included).
    pub ignores: Vec<Endpoint>,
    /// Where the topology came from.
    pub origin: TopologyOrigin,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum TopologyOrigin {
    #[default]
    ConfigFile,
    /// One host per trace, addresses and NATs inferred from the traces.
    Inferred,
    /// All traces on one host (`--trace`).
    OneHost,
}

#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub name: String,
    pub ips: Vec<IpAddr>,
    pub nats: Vec<NatRule>,
    pub traces: Vec<TraceId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceSpec {
    pub id: TraceId,
    /// Display name (`trace FILE NAME`), defaulting to the file name.
    pub name: String,
    pub path: PathBuf,
    /// Index into [`Topology::hosts`].
    pub host: usize,
}

/// An address with an optional port (`None` = any port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

/// `nat PRIVATE[,PORT] PUBLIC[,PORT]`: the host is reachable at / appears as `public` for traffic
/// from `private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NatRule {
    pub private: Endpoint,
    pub public: Endpoint,
    /// Inferred from the traces rather than declared.
    pub inferred: bool,
}

impl Topology {
    pub fn host_of(&self, trace: TraceId) -> Option<&Host> {
        let spec = self.traces.get(trace.0 as usize)?;
        self.hosts.get(spec.host)
    }
}

/// What the user named on the command line.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// One config file, or trace files (one host per trace, topology inferred).
    pub paths: Vec<PathBuf>,
    /// Traces that all belong to one host (`--trace`).
    pub one_host: Vec<PathBuf>,
}

/// A config problem, with file and line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

/// Builds the topology for a run (config file, inference, or one-host mode). Every error is
/// reported before any trace is processed.
pub fn load(_inputs: &Inputs) -> Result<Topology, ConfigError> {
    Err(ConfigError {
        message: "configuration loading is not available yet".into(),
    })
}
