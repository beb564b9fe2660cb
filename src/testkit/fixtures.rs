//! Hand-built topologies and replay outcomes, for tests and documentation examples of the rules
//! and the report (the real ones come from the model).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::config::{Endpoint, Host, NatRule, Topology, TopologyOrigin, TraceSpec};
use crate::model::{
    Counters, Deviation, DeviationKind, PendingConnect, Stream, TcpConnection, TraceActivity,
    UdpFlow,
};
use crate::source::{Loc, SockId, TraceId};

/// A location in trace `trace` (0 = A).
pub fn loc(trace: u32, line: u64) -> Loc {
    Loc::new(TraceId(trace), line)
}

/// Socket `n` of trace `trace` (`sock(1, 0)` = B0).
pub fn sock(trace: u32, n: u32) -> SockId {
    SockId {
        trace: TraceId(trace),
        n,
    }
}

/// Parses `"10.0.0.1:80"`; panics on a malformed literal (test input only).
pub fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("bad address literal {text}"))
}

/// Parses `"10.0.0.1"`; panics on a malformed literal (test input only).
pub fn ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("bad address literal {text}"))
}

/// One host per trace: `hosts[i] = (name, addresses)`; trace `i` is `NAME.trace`.
pub fn topology(hosts: &[(&str, &[&str])]) -> Topology {
    let mut topology = Topology {
        origin: TopologyOrigin::ConfigFile,
        ..Topology::default()
    };
    for (index, (name, ips)) in hosts.iter().enumerate() {
        let id = TraceId(index as u32);
        topology.hosts.push(Host {
            name: name.to_string(),
            ips: ips.iter().map(|a| ip(a)).collect(),
            nats: Vec::new(),
            traces: vec![id],
        });
        topology.traces.push(TraceSpec {
            id,
            name: name.to_string(),
            path: PathBuf::from(format!("{name}.trace")),
            host: index,
            clock: crate::source::TraceClock::TimeOfDay,
        });
    }
    topology
}

/// A NAT rule (`inferred` as given) added to host `host`.
pub fn add_nat(topology: &mut Topology, host: usize, private: &str, public: &str, inferred: bool) {
    if let Some(h) = topology.hosts.get_mut(host) {
        h.nats.push(NatRule {
            private: Endpoint {
                ip: ip(private),
                port: None,
            },
            public: Endpoint {
                ip: ip(public),
                port: None,
            },
            inferred,
        });
    }
}

/// A deviation with no counterpart and a generic detail.
pub fn deviation(kind: DeviationKind, at: Loc, on: Option<SockId>) -> Deviation {
    Deviation {
        detail: format!("{kind:?}"),
        kind,
        loc: at,
        sock: on,
        related: Vec::new(),
        source: None,
    }
}

/// A stream with `sent` bytes of which `received` arrived, in `sends` sends of at most `largest`.
pub fn stream(sent: u64, received: u64, largest: u64, sends: u64, last_send: Loc) -> Stream {
    Stream {
        stats: Counters {
            sent,
            received,
            buffer_capacity: 425_984,
            last_send: (sent > received).then_some(last_send),
            closed_by_sender: false,
            closed_by_receiver: false,
            shut_by_receiver: None,
            largest_send: largest,
            sends,
            largest_burst: 0,
        },
        ..Stream::default()
    }
}

/// An accepted connection from `client` (at `client_addr`) to `server` accepted from `listener`
/// at `server_addr`, with empty streams.
pub fn connection(
    client: SockId,
    client_addr: &str,
    listener: SockId,
    server: Option<SockId>,
    server_addr: &str,
    connect_loc: Loc,
    accept_loc: Option<Loc>,
) -> TcpConnection {
    let client_addr = addr(client_addr);
    let server_addr = addr(server_addr);
    TcpConnection {
        client,
        server,
        listener: Some(listener),
        client_view: (Some(client_addr), Some(server_addr)),
        server_view: (Some(server_addr), Some(client_addr)),
        connect_loc,
        accept_loc,
        to_server: Stream::default(),
        to_client: Stream::default(),
        wait_timed_out_with_data: false,
        server_close: None,
        server_closed_first: false,
        server_killed: false,
        server_failed: false,
        ends: Default::default(),
        late_accept: None,
        client_held: None,
        queue_wait: None,
        open_at_accept: 0,
    }
}

/// A UDP flow with datagram groups `(length, sent, received)`.
pub fn udp_flow(
    sender: SockId,
    sender_addr: &str,
    receiver_addr: &str,
    receivers: Vec<SockId>,
    by_size: Vec<(u64, u64, u64)>,
    first_send: Loc,
) -> UdpFlow {
    UdpFlow {
        sender,
        sender_addr: Some(addr(sender_addr)),
        receiver_addr: addr(receiver_addr),
        receivers,
        by_size,
        first_send,
        receiver_connected_elsewhere: None,
        nothing_bound_at_receiver: false,
    }
}

/// A pending nonblocking connect.
pub fn pending(on: SockId, target: &str, at: Loc) -> PendingConnect {
    PendingConnect {
        sock: on,
        target: addr(target),
        loc: at,
    }
}

/// A trace's activity summary; the unknown peers were first talked to at lines 2, 3, ...
pub fn activity(trace: u32, socket_calls: u64, peer_links: u64, unknown: &[&str]) -> TraceActivity {
    TraceActivity {
        trace: Some(TraceId(trace)),
        socket_calls,
        peer_links,
        unknown_peers: unknown.iter().map(|a| addr(a)).collect(),
        unknown_peer_calls: (0..unknown.len() as u64)
            .map(|i| loc(trace, i + 2))
            .collect(),
        ..TraceActivity::default()
    }
}

/// A trace that accepted connections from the given addresses of no host (and reaches no traced
/// peer): what a server sees from the far side of a NAT.
pub fn accepted_strangers(trace: u32, socket_calls: u64, peers: &[&str]) -> TraceActivity {
    TraceActivity {
        inbound_unknown_peers: peers.iter().map(|a| addr(a)).collect(),
        ..activity(trace, socket_calls, 0, peers)
    }
}
