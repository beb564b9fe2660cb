//! Traffic in aggregate: every TCP connection and UDP flow of the replay, counted per (client
//! host, server endpoint) and (sender host, receiver endpoint), and each connection's own record
//! for whoever wants them all (`diagnose --connections FILE`). The model folds a connection in
//! here when it ends cleanly and then forgets it, so memory follows live state, not trace size.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use super::endpoint_table::{host_of, EndpointTable};
use super::outcome::{Stream, TcpConnection, UdpFlow};
use crate::config::Topology;
use crate::parse::Errno;
use crate::source::{SockId, TraceId};

/// How a TCP connection (or an attempt at one) ended, in the words of connection logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnState {
    /// Accepted, every byte received, both ends closed.
    ClosedNormally,
    /// Accepted and closed on both ends, with bytes never received.
    ClosedWithDataUnreceived,
    /// The listener closed with the connection still in its queue: the kernel reset it.
    Reset,
    /// Queued at a traced listener that never accepted it.
    NotAccepted,
    /// Made to an address where no traced socket listened.
    ToUntracedPeer,
    /// One end or both still open when the traces ended.
    OpenAtEnd,
    /// connect() failed with ECONNREFUSED.
    Refused,
    /// connect() failed with another error.
    Failed,
    /// A connect never seen to complete (no answer to the SYN).
    NeverAnswered,
}

impl ConnState {
    pub fn words(self) -> &'static str {
        match self {
            ConnState::ClosedNormally => "established and closed normally",
            ConnState::ClosedWithDataUnreceived => "closed with bytes never received",
            ConnState::Reset => "reset",
            ConnState::NotAccepted => "never accepted",
            ConnState::ToUntracedPeer => "to an untraced peer",
            ConnState::OpenAtEnd => "still open when the trace ended",
            ConnState::Refused => "refused",
            ConnState::Failed => "failed",
            ConnState::NeverAnswered => "never answered",
        }
    }
}

/// Bytes one way: sent, received (never more than sent), and never received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ByteCounts {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
}

impl ByteCounts {
    pub fn of(stream: &Stream) -> ByteCounts {
        ByteCounts {
            sent: stream.stats.sent,
            received: stream.stats.received.min(stream.stats.sent),
            lost: stream.unreceived(),
        }
    }

    fn add(&mut self, other: ByteCounts) {
        self.sent = self.sent.saturating_add(other.sent);
        self.received = self.received.saturating_add(other.received);
        self.lost = self.lost.saturating_add(other.lost);
    }
}

/// One TCP connection as `--connections` writes it (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionRecord {
    pub client: String,
    /// Empty when no traced socket accepted it.
    pub server: String,
    pub client_host: String,
    /// The client's address as the server saw it (or as the client bound it).
    pub client_address: String,
    /// The address the client dialled.
    pub server_address: String,
    pub state: ConnState,
    pub description: &'static str,
    pub to_server: ByteCounts,
    pub to_client: ByteCounts,
    /// Trace clock of the connect and of the last close, when the traces have timestamps.
    pub opened: Option<f64>,
    pub closed: Option<f64>,
    /// The connect's trace and line.
    pub connect_trace: String,
    pub connect_line: u64,
}

/// Where every connection's record goes as the replay finishes with it.
pub trait ConnectionSink {
    fn record(&mut self, record: &ConnectionRecord);
}

/// TCP connections from one client host to one server endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TcpAggregate {
    pub client_host: String,
    /// The address the clients dialled (`unknown` when not seen).
    pub server_endpoint: String,
    /// Connections and failed or unanswered attempts.
    pub connections: u64,
    /// How many ended each way, in [`ConnState`] order.
    pub states: BTreeMap<ConnState, u64>,
    pub to_server: ByteCounts,
    pub to_client: ByteCounts,
    /// Connections whose connect and last close both carry a timestamp, and their durations.
    pub timed: u64,
    pub total_seconds: f64,
    pub longest_seconds: f64,
}

/// UDP flows from one sender host to one receiver endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UdpAggregate {
    pub sender_host: String,
    pub receiver_endpoint: String,
    /// Sending sockets (one flow per sending socket).
    pub flows: u64,
    /// Flows that no traced socket received on.
    pub flows_without_receiver: u64,
    pub datagrams: ByteCounts,
    pub bytes: ByteCounts,
}

/// Connections from one trace to another that ended cleanly and are no longer listed one by
/// one (the HTML diagram draws them as a band between the two traces).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldedLink {
    pub client: TraceId,
    pub server: TraceId,
    pub connections: u64,
    pub to_server: u64,
    pub to_client: u64,
}

/// The aggregates as the replay builds them.
#[derive(Debug, Clone, Default)]
pub struct TrafficSummary {
    tcp: EndpointTable<TcpAggregate>,
    udp: EndpointTable<UdpAggregate>,
    folded: BTreeMap<(TraceId, TraceId), FoldedLink>,
}

/// A finished connection's figures, as the model hands them over.
pub struct FinishedConnection<'a> {
    pub connection: &'a TcpConnection,
    pub state: ConnState,
    pub opened: Option<f64>,
    pub closed: Option<f64>,
}

fn addr_text(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

/// `done`'s record, as `--connections` writes it.
pub fn connection_record(topology: &Topology, done: &FinishedConnection) -> ConnectionRecord {
    let c = done.connection;
    ConnectionRecord {
        client: c.client.to_string(),
        server: c.server.map_or_else(String::new, |s| s.to_string()),
        client_host: host_of(topology, c.client.trace),
        client_address: addr_text(c.server_view.1.or(c.client_view.0)),
        server_address: addr_text(c.client_view.1),
        state: done.state,
        description: done.state.words(),
        to_server: ByteCounts::of(&c.to_server),
        to_client: ByteCounts::of(&c.to_client),
        opened: done.opened,
        closed: done.closed,
        connect_trace: c.connect_loc.trace.to_string(),
        connect_line: c.connect_loc.line,
    }
}

impl TrafficSummary {
    /// Counts `done`.
    pub fn add_connection(&mut self, topology: &Topology, done: &FinishedConnection) {
        let c = done.connection;
        let duration = done.opened.zip(done.closed).map(|(o, c)| (c - o).max(0.0));
        let aggregate = self.tcp.entry(topology, c.client.trace, c.client_view.1);
        aggregate.to_server.add(ByteCounts::of(&c.to_server));
        aggregate.to_client.add(ByteCounts::of(&c.to_client));
        if let Some(seconds) = duration {
            aggregate.timed += 1;
            aggregate.total_seconds += seconds;
            aggregate.longest_seconds = aggregate.longest_seconds.max(seconds);
        }
        aggregate.count(done.state);
    }

    /// Counts a connect that made no connection (refused, failed, never answered).
    pub fn add_attempt(
        &mut self,
        topology: &Topology,
        sock: SockId,
        target: SocketAddr,
        state: ConnState,
    ) {
        self.tcp
            .entry(topology, sock.trace, Some(target))
            .count(state);
    }

    /// Counts a UDP flow.
    pub fn add_flow(&mut self, topology: &Topology, flow: &UdpFlow) {
        let aggregate = self
            .udp
            .entry(topology, flow.sender.trace, Some(flow.receiver_addr));
        aggregate.flows += 1;
        if flow.receivers.is_empty() {
            aggregate.flows_without_receiver += 1;
        }
        for &(len, sent, received) in &flow.by_size {
            let received = received.min(sent);
            aggregate.datagrams.add(ByteCounts {
                sent,
                received,
                lost: sent - received,
            });
            let bytes = |n: u64| n.saturating_mul(len);
            aggregate.bytes.add(ByteCounts {
                sent: bytes(sent),
                received: bytes(received),
                lost: bytes(sent - received),
            });
        }
    }

    /// Counts a connection dropped from the list (after [`TrafficSummary::add_connection`]).
    pub fn add_folded(&mut self, c: &TcpConnection, server: SockId) {
        let key = (c.client.trace, server.trace);
        let link = self.folded.entry(key).or_insert_with(|| FoldedLink {
            client: key.0,
            server: key.1,
            connections: 0,
            to_server: 0,
            to_client: 0,
        });
        link.connections += 1;
        link.to_server = link.to_server.saturating_add(c.to_server.stats.sent);
        link.to_client = link.to_client.saturating_add(c.to_client.stats.sent);
    }

    /// The connections dropped from the list, per pair of traces.
    pub fn take_folded(&mut self) -> Vec<FoldedLink> {
        std::mem::take(&mut self.folded).into_values().collect()
    }

    /// The aggregates, sorted by host then endpoint.
    pub fn into_lists(self) -> (Vec<TcpAggregate>, Vec<UdpAggregate>) {
        let tcp = self
            .tcp
            .into_rows()
            .into_iter()
            .map(|(host, endpoint, a)| TcpAggregate {
                client_host: host,
                server_endpoint: endpoint,
                ..a
            });
        let udp = self
            .udp
            .into_rows()
            .into_iter()
            .map(|(host, endpoint, a)| UdpAggregate {
                sender_host: host,
                receiver_endpoint: endpoint,
                ..a
            });
        (tcp.collect(), udp.collect())
    }
}

impl TcpAggregate {
    fn count(&mut self, state: ConnState) {
        self.connections += 1;
        *self.states.entry(state).or_default() += 1;
    }
}

/// The state a failed connect's errno means.
pub fn failed_connect_state(errno: Errno) -> ConnState {
    match errno {
        Errno::ECONNREFUSED => ConnState::Refused,
        // The kernel gave up retransmitting the SYN: nothing answered.
        Errno::ETIMEDOUT => ConnState::NeverAnswered,
        _ => ConnState::Failed,
    }
}

/// How a connection stands, judged from its outcome record alone (where the model's own
/// bookkeeping is not at hand: outcomes built by hand).
pub fn state_of_record(c: &TcpConnection) -> ConnState {
    if c.server.is_none() {
        return match c.listener {
            None => ConnState::ToUntracedPeer,
            Some(_) if c.to_client.stats.closed_by_sender => ConnState::Reset,
            Some(_) => ConnState::NotAccepted,
        };
    }
    let closed = |s: &Stream| s.stats.closed_by_sender && s.stats.closed_by_receiver;
    if !(closed(&c.to_server) && closed(&c.to_client)) {
        ConnState::OpenAtEnd
    } else if c.to_server.unreceived() + c.to_client.unreceived() > 0 {
        ConnState::ClosedWithDataUnreceived
    } else {
        ConnState::ClosedNormally
    }
}

/// The aggregates of connections and flows listed whole (an outcome built by hand).
pub fn traffic_of(
    topology: &Topology,
    tcp: &[TcpConnection],
    udp: &[UdpFlow],
) -> (Vec<TcpAggregate>, Vec<UdpAggregate>) {
    let mut summary = TrafficSummary::default();
    for c in tcp {
        let done = FinishedConnection {
            connection: c,
            state: state_of_record(c),
            opened: None,
            closed: None,
        };
        summary.add_connection(topology, &done);
    }
    for f in udp {
        summary.add_flow(topology, f);
    }
    summary.into_lists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixtures::{connection, loc, sock, stream, topology};

    #[test]
    fn connections_are_counted_per_client_host_and_server_endpoint() {
        let topology = topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])]);
        let mut done = connection(
            sock(0, 0),
            "10.0.0.1:40000",
            sock(1, 0),
            Some(sock(1, 1)),
            "10.0.0.2:80",
            loc(0, 1),
            Some(loc(1, 1)),
        );
        done.to_server = stream(100, 100, 100, 1, loc(0, 2));
        for s in [&mut done.to_server, &mut done.to_client] {
            s.stats.closed_by_sender = true;
            s.stats.closed_by_receiver = true;
        }
        let mut lossy = done.clone();
        lossy.client = sock(0, 1);
        lossy.to_server = stream(100, 40, 100, 1, loc(0, 5));
        lossy.to_server.stats.closed_by_sender = true;
        lossy.to_server.stats.closed_by_receiver = true;
        let open = connection(
            sock(0, 2),
            "10.0.0.1:40002",
            sock(1, 0),
            None,
            "10.0.0.2:80",
            loc(0, 9),
            None,
        );
        let (tcp, udp) = traffic_of(&topology, &[done, lossy, open], &[]);
        assert!(udp.is_empty());
        let [only] = tcp.as_slice() else {
            panic!("one aggregate expected, got {tcp:?}");
        };
        assert_eq!(
            (only.client_host.as_str(), only.server_endpoint.as_str()),
            ("client", "10.0.0.2:80")
        );
        assert_eq!(only.connections, 3);
        let states: Vec<(ConnState, u64)> = only.states.iter().map(|(s, n)| (*s, *n)).collect();
        assert_eq!(
            states,
            vec![
                (ConnState::ClosedNormally, 1),
                (ConnState::ClosedWithDataUnreceived, 1),
                (ConnState::NotAccepted, 1)
            ]
        );
        assert_eq!(
            only.to_server,
            ByteCounts {
                sent: 200,
                received: 140,
                lost: 60
            }
        );
    }

    #[test]
    fn refused_connects_count_beside_connections() {
        let topology = topology(&[("client", &["10.0.0.1"])]);
        let mut summary = TrafficSummary::default();
        let target: SocketAddr = "10.0.0.2:80".parse().unwrap_or_else(|_| unreachable!());
        summary.add_attempt(
            &topology,
            sock(0, 0),
            target,
            failed_connect_state(Errno::ECONNREFUSED),
        );
        summary.add_attempt(&topology, sock(0, 1), target, ConnState::NeverAnswered);
        let (tcp, _) = summary.into_lists();
        assert_eq!(tcp.len(), 1);
        assert_eq!(tcp[0].states.get(&ConnState::Refused), Some(&1));
        assert_eq!(tcp[0].states.get(&ConnState::NeverAnswered), Some(&1));
    }
}
