//! What the order/model stage hands to *diagnose*: the deviations met while replaying, the points
//! where ordering was blocked, and the final model state. Diagnose reads only this.

use std::net::SocketAddr;

use serde::Serialize;

use crate::fold::ProgramContext;
use crate::parse::{Call, Errno, SyscallName};
use crate::source::{Loc, SockId, TraceId};

/// The model's judgement of one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Verdict {
    /// Consistent with the model: applied.
    Accept,
    /// Not consistent yet (e.g. recv of bytes not yet sent); the model state is unchanged.
    RetryLater(WaitReason),
    /// Consumed, but it contradicts the model: evidence of a problem.
    Deviation(Deviation),
    /// Outside the modelled world (ignored endpoint, unix socket, file...).
    NotModelled,
}

/// Why a call must wait. Put into words only when read (a blocked ordering, `netcheck order`):
/// most receives wait once for their bytes, and formatting each reason cost 2% of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitReason {
    Text(String),
    /// A receive of `wanted` bytes with only `in_flight` sent to `sock` so far.
    Bytes {
        wanted: u64,
        in_flight: u64,
        sock: SockId,
    },
}

impl std::fmt::Display for WaitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitReason::Text(text) => f.write_str(text),
            WaitReason::Bytes {
                wanted,
                in_flight,
                sock,
            } => write!(
                f,
                "waiting for {wanted} bytes, {in_flight} in flight to {sock}"
            ),
        }
    }
}

impl Serialize for WaitReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A contradiction between a trace and the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deviation {
    pub kind: DeviationKind,
    /// The call that shows it.
    pub loc: Loc,
    pub sock: Option<SockId>,
    /// Counterpart calls on other traces (the listener, the peer's close...).
    pub related: Vec<Loc>,
    /// Human detail (addresses, counts), already formatted.
    pub detail: String,
    /// Where the received bytes came from, when the call names it (a datagram's source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SocketAddr>,
}

/// The kinds of deviation. Each maps to one or more diagnosis rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DeviationKind {
    /// connect failed with `errno`. `listener` = a traced socket listening at a matching address
    /// when the failure was replayed (None = nothing listened).
    ConnectFailed {
        errno: Errno,
        target: SocketAddr,
        listener: Option<SockId>,
    },
    /// A call failed with an errno the model had no reason to expect. The call's name and start
    /// time let rules tell a failed bind from a failed accept and measure how long failures went on.
    UnexpectedFailure {
        errno: Errno,
        call: SyscallName,
        time: Option<f64>,
    },
    /// The model predicted a failure but the call succeeded.
    UnexpectedSuccess,
    /// Would-block (EAGAIN) or timeout on a socket in blocking mode.
    UnexpectedBlocking,
    /// Would-block on a socket whose O_NONBLOCK came from the listener it was accepted from.
    NonblockInherited,
    /// send/write into a connection whose peer had closed (EPIPE/ECONNRESET, or success into a
    /// closed connection).
    SendAfterPeerClosed { errno: Option<Errno> },
    /// A connection was reset (ECONNRESET on receive) while both ends were open in the model.
    ConnectionReset,
    /// Received bytes differ from the bytes sent.
    DataMismatch,
    /// Unreceived bytes exceed the sender's buffer capacity.
    BufferOverrun { unreceived: u64, capacity: u64 },
    /// A datagram larger than the socket buffer.
    DatagramTooLarge { len: u64, buffer: u64 },
    /// A datagram was cut to the receive buffer (MSG_TRUNC).
    DatagramTruncated { len: u64, buffer: u64 },
    /// bind failed (or succeeded only thanks to SO_REUSEADDR) on an address in use.
    AddressInUse { reuseaddr: bool },
    /// A socket bound to loopback talks to a non-loopback address.
    LoopbackBoundExternalPeer { local: SocketAddr, peer: SocketAddr },
    /// IPv4 client vs IPv6-only listener, or a v4-mapped address in use.
    IpVersionMismatch,
    /// Broadcast without SO_BROADCAST.
    BroadcastNotPermitted,
    /// A readiness wait timed out (or said nothing) although data was waiting for the socket.
    PollMissedData,
    /// An accept whose peer matches no traced connect (NAT or port forwarding).
    AcceptFromUnknownPeer { peer: SocketAddr, local: SocketAddr },
    /// Received data that no traced call sent.
    UnknownData,
    /// A call or option netcheck does not model.
    Unsupported { what: String },
    /// Ordering was blocked and this head was forced through to continue.
    Forced,
    /// A call blocked (per its `-T` duration) on an accepted socket whose listener was made
    /// nonblocking: accept did not pass O_NONBLOCK on (Linux), where BSD would have, and the call
    /// would have returned EAGAIN there.
    BlockedWithoutInheritedNonblock { blocked_ms: u64 },
}

impl DeviationKind {
    /// What the deviation means, in words for people (reports never show the variant's name).
    pub fn plain_words(&self) -> &'static str {
        use DeviationKind as K;
        match self {
            K::ConnectFailed { .. } => "a connect failed",
            K::UnexpectedFailure { .. } => "a call failed where the model expected it to succeed",
            K::UnexpectedSuccess => "a call succeeded where the model expected it to fail",
            K::UnexpectedBlocking => "a blocking socket reported it would block",
            K::NonblockInherited => "an accepted socket was nonblocking only on BSD terms",
            K::SendAfterPeerClosed { .. } => "data was sent after the peer closed",
            K::ConnectionReset => "a connection was reset while both ends were open",
            K::DataMismatch => "received bytes differ from the bytes sent",
            K::BufferOverrun { .. } => "more bytes were unreceived than the sender's buffer holds",
            K::DatagramTooLarge { .. } => "a datagram was larger than the socket buffer",
            K::DatagramTruncated { .. } => "a datagram was cut to the receive buffer",
            K::AddressInUse { .. } => "an address was bound twice",
            K::LoopbackBoundExternalPeer { .. } => "a loopback-bound socket talked to another host",
            K::IpVersionMismatch => "IPv4 and IPv6 ends did not match",
            K::BroadcastNotPermitted => "a broadcast was sent without SO_BROADCAST",
            K::PollMissedData => "a readiness wait reported nothing while data was waiting",
            K::AcceptFromUnknownPeer { .. } => {
                "a connection came from an address no trace connected from"
            }
            K::UnknownData => "bytes arrived that no traced call sent",
            K::Unsupported { .. } => "a call or option the model does not follow",
            K::Forced => "the order was blocked and a call was forced through",
            K::BlockedWithoutInheritedNonblock { .. } => {
                "a call blocked that would not have on BSD (O_NONBLOCK is not inherited on Linux)"
            }
        }
    }
}

/// Every trace head was told to retry: ordering could not go on from here without forcing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedPoint {
    /// Position in the global order at which the block happened.
    pub position: u64,
    /// Each waiting head and why the model could not take it.
    pub heads: Vec<(Loc, String)>,
    /// The head that was forced through to continue.
    pub forced: Option<Loc>,
}

/// One TCP connection at the end of the replay. The model keeps the same record while it runs,
/// with each direction's live byte stream in place of its counters (`S`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcpConnection<S = Stream> {
    pub client: SockId,
    /// None when the connection was never accepted.
    pub server: Option<SockId>,
    pub listener: Option<SockId>,
    /// Addresses as seen by the client (local, peer) and by the server (local, peer).
    pub client_view: (Option<SocketAddr>, Option<SocketAddr>),
    pub server_view: (Option<SocketAddr>, Option<SocketAddr>),
    pub connect_loc: Loc,
    pub accept_loc: Option<Loc>,
    pub to_server: S,
    pub to_client: S,
    /// A readiness wait on the receiving side timed out while bytes were in flight.
    pub wait_timed_out_with_data: bool,
    /// Where the server's side was closed (its last descriptor), when it was.
    pub server_close: Option<Loc>,
    /// The server closed its socket before reading the client's end of stream: it ended the
    /// connection itself rather than answering the client's close.
    pub server_closed_first: bool,
    /// The server's end closed because its process was killed while running (SIGKILL, a
    /// crash), not by any close of its program's nor a stop it was asked for.
    #[serde(skip)]
    pub server_killed: bool,
    /// The server's end closed because its process exited with a failure status, unasked:
    /// its program ended (an error, a lost parent) rather than closing the connection.
    #[serde(skip)]
    pub server_failed: bool,
    /// What each program was doing when it closed its end (None: not closed).
    pub ends: ConnectionEnds,
    /// Set when the server accepted the connection after the client had closed it.
    pub late_accept: Option<LateAccept>,
    /// How long the client held the connection, from its connect to its close (seconds, on
    /// the client's clock): a client that waited for an answer, or one that closed at once.
    pub client_held: Option<f64>,
    /// Seconds the connection waited in the listen queue while the server held others, when
    /// it was accepted after one of them closed (see `model/tcp/queue_wait.rs`).
    pub queue_wait: Option<f64>,
    /// Connections of the same listener the server held open when it accepted this one,
    /// whoever their clients were (traced or not).
    pub open_at_accept: u32,
}

/// An accept that came after the client had closed its end, in the replay or, where the replay
/// could place them either way, by the clocks as they read: the connection waited in the listen
/// queue longer than the client was willing to wait.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LateAccept {
    /// When the server accepted it, it had answered no connection of the same listener yet:
    /// it was still starting, not busy serving others. Both are facts of the server's own
    /// trace, in its own order.
    pub while_starting: bool,
}

/// What each end's program was doing when it closed its socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionEnds {
    pub client: Option<ProgramContext>,
    pub server: Option<ProgramContext>,
}

/// The most bytes a server's message turning a client away takes, in one or two writes: 512
/// bytes is what every IP path carries in one piece (RFC 791's 576-byte datagram less its
/// headers; the bound RFC 1035 sets on DNS messages): one error line or packet, not a response.
pub const SHORT_MESSAGE: u64 = 512;

impl TcpConnection {
    /// Accepted, answered with one short message (at most [`SHORT_MESSAGE`] bytes in at most two
    /// writes), and closed by the server first: a rejection, or any brief exchange.
    pub fn answered_short(&self) -> bool {
        self.server.is_some()
            && self.server_closed_first
            && (1..=SHORT_MESSAGE).contains(&self.to_client.stats.sent)
            && self.to_client.stats.sends <= 2
    }

    /// Accepted, then closed by the server first with nothing sent and nothing read of the
    /// request the client had sent: a refusal without a word (Mosquitto at `max_connections`,
    /// a TCP wrapper's deny).
    pub fn refused_in_silence(&self) -> bool {
        self.server.is_some()
            && self.server_closed_first
            && self.to_client.stats.sent == 0
            && self.to_server.stats.sent > 0
            && self.to_server.stats.received == 0
    }
}

impl<S> TcpConnection<S> {
    /// The same connection with each direction turned into `T` by `f`.
    pub fn map_streams<T>(&self, f: impl Fn(&S) -> T) -> TcpConnection<T> {
        TcpConnection {
            client: self.client,
            server: self.server,
            listener: self.listener,
            client_view: self.client_view,
            server_view: self.server_view,
            connect_loc: self.connect_loc,
            accept_loc: self.accept_loc,
            to_server: f(&self.to_server),
            to_client: f(&self.to_client),
            wait_timed_out_with_data: self.wait_timed_out_with_data,
            ends: self.ends,
            late_accept: self.late_accept,
            client_held: self.client_held,
            queue_wait: self.queue_wait,
            open_at_accept: self.open_at_accept,
            server_close: self.server_close,
            server_closed_first: self.server_closed_first,
            server_killed: self.server_killed,
            server_failed: self.server_failed,
        }
    }
}

/// The counters of one direction of a TCP connection: all the model keeps of it while the
/// connection lives, beside the bytes in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counters {
    pub sent: u64,
    pub received: u64,
    /// Capacity of the path's buffers (sender's SO_SNDBUF + receiver's SO_RCVBUF).
    pub buffer_capacity: u64,
    /// Where the last unreceived send happened.
    pub last_send: Option<Loc>,
    /// The sending side shut down or closed this direction.
    pub closed_by_sender: bool,
    /// The receiving side closed its socket.
    pub closed_by_receiver: bool,
    /// The receiving side shut down reading (SHUT_RD, SHUT_RDWR) or closed its socket: it chose
    /// to read no more, and Linux answers its receives with the end of the stream once the
    /// queue is empty (after a close, what arrives with a reset). What was sent after it stays
    /// unread by that choice. The earliest of the two counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shut_by_receiver: Option<ReadShut>,
    /// Largest single send, and how many sends there were (for the MTU heuristic).
    pub largest_send: u64,
    pub sends: u64,
    /// Most bytes written back to back (see `model::tcp::BURST_GAP_S`): Linux merges bytes
    /// queued behind unacknowledged ones into full-size segments, so a loop of small writes
    /// sends segments as large as one big write would.
    #[serde(skip)]
    pub largest_burst: u64,
}

/// Where a receiver shut down reading: how many bytes the sender had sent then, in the replay's
/// order, and when the shutdown was called, on the receiver's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReadShut {
    pub sent: u64,
    pub at: Option<f64>,
}

impl Counters {
    pub fn unreceived(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }

    /// The receiver chose to read no more at `at` (its clock): a shutdown of reading or a
    /// close. An earlier choice stands.
    pub fn note_read_shut(&mut self, at: Option<f64>) {
        self.shut_by_receiver = self.shut_by_receiver.or(Some(ReadShut {
            sent: self.sent,
            at,
        }));
    }
}

/// One direction of a TCP connection at the end of the replay: its counters, and what only the
/// outcome has (the oldest unreceived send, found in the live stream's queue when asked), so
/// that a million live connections do not each carry two fields that are always empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stream {
    /// Written as the stream's own fields: the output keeps one flat object per direction.
    #[serde(flatten)]
    pub stats: Counters,
    /// The oldest send with bytes still unreceived, and its timestamp (when the trace has one).
    pub first_unreceived_send: Option<Loc>,
    pub first_unreceived_time: Option<f64>,
}

impl Stream {
    pub fn unreceived(&self) -> u64 {
        self.stats.unreceived()
    }
}

/// One UDP flow (sender endpoint → receiver address) at the end of the replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UdpFlow {
    pub sender: SockId,
    pub sender_addr: Option<SocketAddr>,
    pub receiver_addr: SocketAddr,
    /// Receiving sockets seen (none when nothing traced received on that address).
    pub receivers: Vec<SockId>,
    /// Datagrams grouped by size: `(length, sent, received)`, sorted by length.
    pub by_size: Vec<(u64, u64, u64)>,
    pub first_send: Loc,
    /// Nothing of the flow arrived, and a traced socket bound at its destination was connected
    /// to another address than the flow's source: the receiver's host discarded the datagrams
    /// (`model/udp/connected.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_connected_elsewhere: Option<super::udp::connected::ConnectedElsewhere>,
    /// Its destination is an address of a traced host none of whose traces had that UDP port
    /// bound when the flow began (never, or no longer by the clocks: see
    /// `Model::udp_port_unbound_when_sent`): the datagrams found nothing there.
    #[serde(skip_serializing_if = "is_false")]
    pub nothing_bound_at_receiver: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A connect that was never seen to complete (nonblocking, no completion observed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingConnect {
    pub sock: SockId,
    pub target: SocketAddr,
    pub loc: Loc,
}

/// Per-trace activity, for "this trace talks to nobody we know".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceActivity {
    pub trace: Option<TraceId>,
    /// Modelled socket calls.
    pub socket_calls: u64,
    /// Connections or flows whose other end is a traced socket.
    pub peer_links: u64,
    /// Connects and datagrams to addresses of hosts declared without a trace.
    pub unobserved_peer_contacts: u64,
    /// Datagrams received from hosts that had no address yet (source 0.0.0.0, as a DHCP
    /// client's requests come): another host, one no configuration can name.
    pub addressless_peer_contacts: u64,
    /// Remote addresses that are no host's (first few).
    pub unknown_peers: Vec<SocketAddr>,
    /// Where the trace first talked to each of `unknown_peers` (same order; evidence for
    /// `no-peer-traffic` and `nat-undeclared`).
    pub unknown_peer_calls: Vec<Loc>,
    /// The subset of `unknown_peers` that reached this trace (an accepted connection or a
    /// datagram received from them) rather than being contacted by it: what a server behind
    /// the far side of a NAT sees.
    pub inbound_unknown_peers: Vec<SocketAddr>,
}

/// A readiness wait that returned nothing readable for a socket it watched for reading: the
/// receiver wanted data and gave up (or looped). Times come from the trace (`-t`/`-T`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimedOutWait {
    pub sock: SockId,
    pub loc: Loc,
    /// When the wait started (seconds) and how long it lasted, when the trace shows them.
    pub start: Option<f64>,
    pub duration: Option<f64>,
}

impl TimedOutWait {
    /// When the wait ended, if the trace shows both its start and its duration.
    pub fn end(&self) -> Option<f64> {
        Some(self.start? + self.duration?)
    }
}

/// Everything diagnose needs from the replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayOutcome {
    pub deviations: Vec<Deviation>,
    pub blocked: Vec<BlockedPoint>,
    pub tcp: Vec<TcpConnection>,
    pub udp: Vec<UdpFlow>,
    pub pending_connects: Vec<PendingConnect>,
    pub activity: Vec<TraceActivity>,
    /// Calls/options not modelled, with counts.
    pub unsupported: Vec<(String, u64)>,
    /// Number of calls placed in the global order, and whether timestamps broke ties.
    pub ordered_calls: u64,
    pub used_timestamps: bool,
    /// Readiness waits that timed out with nothing readable, per watched socket, in order.
    pub timed_out_waits: Vec<TimedOutWait>,
    /// Closes of TCP sockets with SO_LINGER {1, 0}: abortive closes that send a reset.
    pub abortive_closes: Vec<Loc>,
    /// Every TCP socket that listened at some point of the replay, in the order of their
    /// listen calls: the refused-connect rules compare them with the connect's target and
    /// times, because the global order does not place a failed connect against the listen.
    pub listeners: Vec<ListenerRecord>,
    /// Where and when each failed TCP connect (a `ConnectFailed` deviation) ran.
    pub failed_connect_spans: Vec<CallSpan>,
    /// UDP sockets bound to a loopback address, one per (trace, address): the refusal rules
    /// set datagrams refused at a host's other addresses against them.
    pub loopback_udp_binds: Vec<LoopbackUdpBind>,
    /// Per socket, the requests to an unobserved peer that went unanswered before the program
    /// gave up (what one side proves by itself), in the order of the first such request.
    pub unanswered_requests: Vec<super::UnansweredRequests>,
    /// How long each TCP connect that completed took, measured on its own trace's clock.
    pub connect_timings: Vec<ConnectTiming>,
    /// Every connection and connect attempt, per (client host, server endpoint): `tcp` holds
    /// only the connections diagnose may still need (see `model::retire`).
    pub tcp_traffic: Vec<super::TcpAggregate>,
    /// Every UDP flow, per (sender host, receiver endpoint).
    pub udp_traffic: Vec<super::UdpAggregate>,
    /// The connections that ended cleanly and are not in `tcp`, per pair of traces.
    pub folded_tcp: Vec<super::summary::FoldedLink>,
    /// How many connections each listener's server held at once (see `tcp/load.rs`).
    pub listener_loads: Vec<super::tcp::load::ListenerLoad>,
    /// Connections accepted from unobserved peers that the server answered with one short
    /// message and closed (see `tcp/one_sided.rs`): what its side alone shows of rejections.
    pub unobserved_short_answers: Vec<super::tcp::one_sided::UnobservedAccept>,
    /// Each trace's first accepted connect to each address (see `tcp/load.rs`).
    pub first_connections: Vec<super::tcp::load::FirstConnection>,
    /// The addresses each trace connected a UDP socket to, in (trace, address) order: the
    /// candidates a resolver probed (see `udp/candidates.rs`).
    pub udp_connect_targets: Vec<super::udp::candidates::UdpConnectTarget>,
    /// Request/answer round trips with traced peers, timed per host (see `round_trips.rs`).
    pub round_trips: Vec<super::round_trips::SocketRoundTrips>,
    /// Connects made while their listener's accept queue was full (see `tcp/accept_queue.rs`).
    pub full_queue_connects: Vec<super::tcp::accept_queue::FullQueueConnect>,
    /// Receivers that waited for bytes their traced peer had handed over at once (see
    /// `transfer_stalls.rs`).
    pub transfer_stalls: Vec<super::transfer_stalls::SocketTransferStalls>,
}

impl ReplayOutcome {
    /// Fills the traffic aggregates from the connections and flows listed whole: for outcomes
    /// built by hand, where no replay counted them.
    pub fn with_traffic_counted(mut self, topology: &crate::config::Topology) -> Self {
        let (tcp, udp) = super::summary::traffic_of(topology, &self.tcp, &self.udp);
        self.tcp_traffic = tcp;
        self.udp_traffic = udp;
        self
    }
}

/// How long one TCP connect took: its own `-T` duration when it returned connected, or the time
/// from the connect to the call that showed it connected (SO_ERROR 0, EISCONN).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectTiming {
    pub sock: SockId,
    /// The connect call.
    pub connect: Loc,
    /// The call that showed the connection complete (the connect itself when it blocked).
    pub shown_by: Loc,
    /// Seconds from the start of the connect to its completion.
    pub seconds: f64,
}

/// A UDP socket bound to a loopback address (127.0.0.0/8, ::1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoopbackUdpBind {
    pub sock: SockId,
    pub local: SocketAddr,
}

/// A call's place in its trace and on its trace's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CallSpan {
    pub loc: Loc,
    /// Start time, when the trace has timestamps.
    pub start: Option<f64>,
    /// End time (start plus the `-T` duration), when both are known.
    pub end: Option<f64>,
}

impl CallSpan {
    /// The span of `call`.
    pub fn of(call: &Call) -> CallSpan {
        CallSpan {
            loc: call.loc,
            start: call.time,
            end: call.time.zip(call.duration).map(|(t, d)| t + d),
        }
    }
}

/// A TCP socket's listening period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerRecord {
    pub sock: SockId,
    /// The address it listened on (wildcard and port 0 when the bind was not seen).
    pub local: SocketAddr,
    /// IPV6_V6ONLY was set when it started listening.
    pub v6only: bool,
    pub listen: CallSpan,
    /// The close that ended the listening (None: still listening when the trace ended).
    pub close: Option<CallSpan>,
    /// What the server program was doing when that close happened.
    pub close_context: ProgramContext,
}
