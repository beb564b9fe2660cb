//! What every rule reads: the topology, the replay outcome and the per-trace counters, plus the
//! few questions rules ask about them (who is this trace, is this address someone's).

use std::net::{IpAddr, SocketAddr};

use crate::config::matching::Matcher;
use crate::config::Topology;
use crate::fold::FoldStats;
use crate::model::{ReplayOutcome, TcpConnection};
use crate::parse::ParseStats;
use crate::source::{SockId, TraceId};

/// The inputs of one diagnosis.
pub struct Context<'a> {
    pub topology: &'a Topology,
    pub outcome: &'a ReplayOutcome,
    /// Parse counters per trace, indexed by `TraceId` (may be shorter when unknown).
    pub parse: &'a [ParseStats],
    /// Fold counters per trace, indexed by `TraceId` (may be shorter when unknown).
    pub fold: &'a [FoldStats],
}

impl<'a> Context<'a> {
    pub fn new(topology: &'a Topology, outcome: &'a ReplayOutcome) -> Self {
        Context {
            topology,
            outcome,
            parse: &[],
            fold: &[],
        }
    }

    pub fn matcher(&self) -> Matcher<'a> {
        Matcher::new(self.topology)
    }

    /// `host web (trace A)`, `host web (trace A, worker)` when the trace's name differs from
    /// the host's, or `trace A` when the topology does not know the trace.
    pub fn who(&self, trace: TraceId) -> String {
        let name = self.topology.traces.get(trace.0 as usize).map(|t| &t.name);
        match (self.topology.host_of(trace), name) {
            (Some(host), Some(name)) if *name != host.name => {
                format!("host {} (trace {trace}, {name})", host.name)
            }
            (Some(host), _) => format!("host {} (trace {trace})", host.name),
            (None, _) => format!("trace {trace}"),
        }
    }

    /// `socket A3 on host web`.
    pub fn sock(&self, sock: SockId) -> String {
        match self.topology.host_of(sock.trace) {
            Some(host) => format!("socket {sock} on host {}", host.name),
            None => format!("socket {sock}"),
        }
    }

    /// The host that owns `ip` (declared address or NAT public address).
    pub fn host_with_ip(&self, ip: IpAddr) -> Option<&'a str> {
        self.topology
            .hosts
            .iter()
            .find(|h| h.ips.contains(&ip) || h.nats.iter().any(|n| n.public.ip == ip))
            .map(|h| h.name.as_str())
    }

    /// Does a traced client, other than on `server`'s host, use a private (RFC 1918 /
    /// unique-local) address of its own: a client-side socket address, or an address of a host
    /// other than the server's?
    pub fn client_is_private(&self, server: TraceId) -> bool {
        let server_host = self.topology.traces.get(server.0 as usize).map(|t| t.host);
        let own_addresses = self
            .outcome
            .tcp
            .iter()
            .filter_map(|c| c.client_view.0)
            .chain(self.outcome.udp.iter().filter_map(|f| f.sender_addr));
        let other_hosts = self
            .topology
            .hosts
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != server_host)
            .flat_map(|(_, h)| h.ips.iter().copied());
        own_addresses
            .map(|a| a.ip())
            .chain(other_hosts)
            .any(is_private)
    }

    /// Was `trace`'s program stopped from outside during the recording (SIGTERM, SIGINT,
    /// SIGQUIT, SIGKILL, or its trace ended while it held sockets)? Unknown fold counters count
    /// as no.
    pub fn was_stopped(&self, trace: TraceId) -> bool {
        self.fold
            .get(trace.0 as usize)
            .is_some_and(|f| f.stop_requested.is_some())
    }

    /// The connection a socket belongs to, and whether the socket is its client side.
    pub fn connection_of(&self, sock: SockId) -> Option<(usize, &'a TcpConnection, bool)> {
        self.outcome.tcp.iter().enumerate().find_map(|(i, c)| {
            if c.client == sock {
                Some((i, c, true))
            } else if c.server == Some(sock) {
                Some((i, c, false))
            } else {
                None
            }
        })
    }
}

/// Private-use addresses: RFC 1918, carrier-grade NAT (RFC 6598), IPv6 unique-local.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Formats an optional address (`?` when unknown).
pub fn addr_or_unknown(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "?".to_string(), |a| a.to_string())
}

/// `1 connection` / `3 connections`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The file a location points into: the trace's file `loc.file` as the parser listed it, else the
/// trace's path from the topology.
pub fn file_of<'t>(
    topology: &'t Topology,
    parse: &'t [ParseStats],
    loc: crate::source::Loc,
) -> Option<&'t std::path::Path> {
    let listed = parse
        .get(loc.trace.0 as usize)
        .and_then(|stats| stats.files.get(loc.file as usize));
    listed
        .or_else(|| topology.traces.get(loc.trace.0 as usize).map(|t| &t.path))
        .map(|p| p.as_path())
}
