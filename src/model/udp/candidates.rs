//! The addresses each trace connected a UDP socket to.
//!
//! Connecting a UDP socket sends nothing. A resolver that orders the addresses of a name by RFC
//! 6724 connects one to each of them to learn the source address the kernel would choose
//! (glibc's getaddrinfo, on one socket with `connect(AF_UNSPEC)` in between; Go's resolver, one
//! socket per address, to port 9), and a failed connect (ENETUNREACH) marks an address without
//! a route. So the addresses a client then tries one after another over TCP were all connected
//! to here first: diagnosis tells a program that fell back between the addresses of one name
//! from one that talks to several servers on one port (etcd's peers, named by address).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::source::TraceId;

/// Addresses remembered per trace, at most: a memory bound. A resolver probes a handful of
/// addresses per name; a program that connects UDP sockets to more (a scanner) stops being
/// recorded, and a fallback among the later ones is reported without its recovery.
pub const MAX_PER_TRACE: usize = 4096;

/// One address a trace connected a UDP socket to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UdpConnectTarget {
    pub trace: TraceId,
    pub ip: IpAddr,
}

/// The addresses per trace, while the replay runs.
#[derive(Debug, Default)]
pub(in crate::model) struct UdpConnectTargets {
    by_trace: BTreeMap<TraceId, BTreeSet<IpAddr>>,
}

impl UdpConnectTargets {
    pub(in crate::model) fn note(&mut self, trace: TraceId, ip: IpAddr) {
        let seen = self.by_trace.entry(trace).or_default();
        if seen.len() < MAX_PER_TRACE {
            seen.insert(ip);
        }
    }

    /// Every address, in (trace, address) order.
    pub(in crate::model) fn into_list(self) -> Vec<UdpConnectTarget> {
        self.by_trace
            .into_iter()
            .flat_map(|(trace, ips)| {
                ips.into_iter()
                    .map(move |ip| UdpConnectTarget { trace, ip })
            })
            .collect()
    }
}

/// Whether `trace` connected a UDP socket to `ip`, in a list from [`UdpConnectTargets::into_list`].
pub fn connected_to(list: &[UdpConnectTarget], trace: TraceId, ip: IpAddr) -> bool {
    list.binary_search(&UdpConnectTarget { trace, ip }).is_ok()
}
