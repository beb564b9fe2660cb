//! The modelled world: hosts, their traces, addresses and NATs, and the endpoints to ignore.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use serde::Serialize;

use crate::source::{TraceClock, TraceId};

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
    /// What its timestamps count from (read from the trace's head when it is declared).
    #[serde(skip)]
    pub clock: TraceClock,
}

/// An address with an optional port (`None` = any port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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

    /// Can times of traces `a` and `b` be set against each other? Within one trace always;
    /// across traces only when both read a wall clock of one kind (never `-r` counts, which
    /// each trace starts from its own first line).
    pub fn clocks_comparable(&self, a: TraceId, b: TraceId) -> bool {
        if a == b {
            return true;
        }
        let clock = |t: TraceId| self.traces.get(t.0 as usize).map(|spec| spec.clock);
        matches!((clock(a), clock(b)), (Some(x), Some(y)) if x.comparable_with(y))
    }

    /// NAT rules inferred from the traces rather than declared, with their host: each one is a
    /// finding to report, never a silent assumption.
    pub fn inferred_nats(&self) -> impl Iterator<Item = (&Host, &NatRule)> {
        self.hosts
            .iter()
            .flat_map(|h| h.nats.iter().filter(|n| n.inferred).map(move |n| (h, n)))
    }

    /// The same world as only `host` saw it: every other host keeps its addresses and NATs but
    /// loses its traces (it becomes unobserved). `None` when no host has that name or it has no
    /// trace.
    pub fn seen_only_from(&self, host: &str) -> Option<Topology> {
        let keep = self.hosts.iter().position(|h| h.name == host)?;
        let kept: Vec<&TraceSpec> = self.traces.iter().filter(|t| t.host == keep).collect();
        if kept.is_empty() {
            return None;
        }
        let traces: Vec<TraceSpec> = kept
            .into_iter()
            .enumerate()
            .map(|(i, t)| TraceSpec {
                id: TraceId(i as u32),
                ..t.clone()
            })
            .collect();
        let hosts = self
            .hosts
            .iter()
            .enumerate()
            .map(|(h, host)| Host {
                traces: if h == keep {
                    traces.iter().map(|t| t.id).collect()
                } else {
                    Vec::new()
                },
                ..host.clone()
            })
            .collect();
        Some(Topology {
            hosts,
            traces,
            ignores: self.ignores.clone(),
            origin: self.origin,
        })
    }
}

/// Endpoints ignored in every topology: local DNS resolvers (the classic 127.0.0.1:53 and the
/// systemd-resolved stub 127.0.0.53:53).
pub fn default_ignores() -> Vec<Endpoint> {
    [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 53)]
        .into_iter()
        .map(|ip| Endpoint {
            ip: IpAddr::V4(ip),
            port: Some(53),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(clocks: &[TraceClock]) -> Topology {
        Topology {
            hosts: Vec::new(),
            traces: clocks
                .iter()
                .enumerate()
                .map(|(i, &clock)| TraceSpec {
                    id: TraceId(i as u32),
                    name: format!("t{i}"),
                    path: format!("t{i}").into(),
                    host: 0,
                    clock,
                })
                .collect(),
            ignores: Vec::new(),
            origin: TopologyOrigin::ConfigFile,
        }
    }

    #[test]
    fn only_wall_clocks_of_one_kind_compare_across_traces() {
        use TraceClock::*;
        let t = traces(&[TimeOfDay, TimeOfDay, Epoch, SinceStart, SinceStart, Untimed]);
        let comparable = |a: u32, b: u32| t.clocks_comparable(TraceId(a), TraceId(b));
        assert!(comparable(0, 1));
        assert!(!comparable(0, 2), "a time of day is no epoch time");
        assert!(
            !comparable(3, 4),
            "each -r count starts at its own trace's first line"
        );
        assert!(comparable(3, 3), "within one trace a -r count is one clock");
        assert!(!comparable(0, 5));
        assert!(!comparable(0, 9), "no such trace");
    }
}
