//! Address matching: can a socket bound to X on host H be the endpoint a peer on host G knows as
//! Y? And is an endpoint outside the modelled world?

use std::net::SocketAddr;

use serde::Serialize;

use super::Topology;
use crate::source::TraceId;

/// Which side of a connection the local socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// The local socket is the listener / receiver a client addressed.
    Server,
    /// The local socket is the connecting / sending side, seen by a server.
    Client,
}

/// A remark attached to a match decision (these become evidence in findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MatchNote {
    UnspecifiedPeer,
    LoopbackFromOtherHost,
    MappedIpv4,
    IpVersionMismatch,
    ThroughNat { declared: bool },
    PortUnverified,
    AddressNotDeclared,
    Multicast,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    pub matched: bool,
    pub notes: Vec<MatchNote>,
}

/// Answers address questions against one topology.
pub struct Matcher<'t> {
    pub topology: &'t Topology,
}

impl<'t> Matcher<'t> {
    pub fn new(topology: &'t Topology) -> Self {
        Matcher { topology }
    }

    /// Can the socket of trace `local_trace`, bound to `local`, be the endpoint that a peer in
    /// trace `peer_trace` knows as `known_as`?
    pub fn can_be(
        &self,
        local_trace: TraceId,
        local: SocketAddr,
        peer_trace: TraceId,
        known_as: SocketAddr,
        _role: Role,
    ) -> Match {
        let same_host = self
            .topology
            .traces
            .get(local_trace.0 as usize)
            .map(|t| t.host)
            == self
                .topology
                .traces
                .get(peer_trace.0 as usize)
                .map(|t| t.host);
        let ports_match = local.port() == known_as.port() || local.port() == 0;
        let ip_ok = local.ip() == known_as.ip()
            || (local.ip().is_unspecified() && (same_host || !known_as.ip().is_loopback()));
        Match {
            matched: ports_match && ip_ok,
            notes: Vec::new(),
        }
    }

    /// Is `addr` outside the modelled world (ignored, or the address of no host)?
    pub fn is_outside(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip();
        if self
            .topology
            .ignores
            .iter()
            .any(|e| e.ip == ip && e.port.is_none_or(|p| p == addr.port()))
        {
            return true;
        }
        if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
            return false;
        }
        !self
            .topology
            .hosts
            .iter()
            .any(|h| h.ips.contains(&ip) || h.nats.iter().any(|n| n.public.ip == ip))
    }
}
