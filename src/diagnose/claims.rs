//! What earlier rules already explained, so later rules do not report it again.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use crate::source::TraceId;

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Client → server (`TcpConnection::to_server`).
    ToServer,
    /// Server → client (`TcpConnection::to_client`).
    ToClient,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::ToServer, Direction::ToClient];
}

/// Subjects already explained by a finding. Indices refer to the vectors of the
/// [`ReplayOutcome`](crate::model::ReplayOutcome).
#[derive(Debug, Default)]
pub struct Claims {
    streams: BTreeSet<(usize, Direction)>,
    udp_flows: BTreeSet<usize>,
    deviations: BTreeSet<usize>,
    traces: BTreeSet<TraceId>,
    connect_targets: BTreeSet<(TraceId, SocketAddr)>,
}

impl Claims {
    pub fn claim_stream(&mut self, connection: usize, dir: Direction) {
        self.streams.insert((connection, dir));
    }
    pub fn stream(&self, connection: usize, dir: Direction) -> bool {
        self.streams.contains(&(connection, dir))
    }
    pub fn claim_udp_flow(&mut self, flow: usize) {
        self.udp_flows.insert(flow);
    }
    pub fn udp_flow(&self, flow: usize) -> bool {
        self.udp_flows.contains(&flow)
    }
    pub fn claim_deviation(&mut self, index: usize) {
        self.deviations.insert(index);
    }
    pub fn deviation(&self, index: usize) -> bool {
        self.deviations.contains(&index)
    }
    /// Indices below `count` of deviations no rule claimed.
    pub fn unclaimed_deviations(&self, count: usize) -> Vec<usize> {
        (0..count)
            .filter(|i| !self.deviations.contains(i))
            .collect()
    }
    /// The connects of `trace` to `target` fail for a reason a finding gives: its abandoned
    /// connects to the same target are that path too.
    pub fn claim_connect_target(&mut self, trace: TraceId, target: SocketAddr) {
        self.connect_targets.insert((trace, target));
    }
    pub fn connect_target(&self, trace: TraceId, target: SocketAddr) -> bool {
        self.connect_targets.contains(&(trace, target))
    }
    pub fn claim_trace(&mut self, trace: TraceId) {
        self.traces.insert(trace);
    }
    pub fn trace(&self, trace: TraceId) -> bool {
        self.traces.contains(&trace)
    }
}
