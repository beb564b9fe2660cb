//! The *model* stage: a POSIX socket API and an ideal network (reliable, zero latency). Every
//! socket event is simulated and judged: accept, retry later, deviation, or not modelled.
//!
//! The model keeps one [`Socket`] per traced socket, one [`tcp::Connection`] per TCP connection
//! and one [`udp::Flow`] per UDP flow, each reachable through a hash index (by socket, by
//! (host, protocol, port) for binds, by port for listeners, by datagram identity for flows), so
//! a call costs the same whatever the number of connections. A call that cannot happen yet
//! returns [`Verdict::RetryLater`] *before* touching any state, and names the [`WaitKey`]s whose
//! change could let it through; the ordering uses them to avoid retrying blindly.
//!
//! Call semantics are split by concern: [`setup`] (socket, bind, listen, options, close),
//! [`connect`] (TCP connect, its completion, accept), [`stream`] (TCP send and receive),
//! [`dgram`] (transfer dispatch and UDP), [`wait`] (select, poll, epoll).

mod bind_index;
pub mod endpoint_table;

mod exchange;
pub mod options;
pub mod outcome;
mod retire;
pub mod round_trips;
mod setup;
pub mod socket;
mod socket_table;
pub mod summary;
pub mod tcp;
mod transfer;
pub mod transfer_stalls;
pub mod udp;
mod wait;

pub(crate) use exchange::ended_at;
pub use exchange::UnansweredRequests;
pub use outcome::*;
pub use socket::{Proto, SockState, Socket};
pub use summary::{ConnectionRecord, ConnectionSink, TcpAggregate, UdpAggregate};

use crate::int_hash::IntHashBuilder;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;

use crate::config::matching::{Matcher, Role};
use crate::config::Topology;
use crate::fold::SocketEvent;
use crate::parse::{Errno, Fd, Ready};
use crate::source::{Loc, SockId, TraceId};

use summary::TrafficSummary;

/// How far apart (seconds) calls of two different hosts must be before their timestamps are
/// trusted to order them: clocks of different hosts are only roughly in step. Calls of one host
/// share a clock and need no margin.
pub const CLOCK_MARGIN_S: f64 = 0.5;
use tcp::table::ConnTable;
use tcp::ConnId;
use udp::Flows;

/// Something a retried call waits for. The model reports a key as *touched* whenever the thing
/// it names changes in a way that could let a waiting call through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaitKey {
    /// Anything about this socket or its connection (data, accept, peer close, pending queue).
    Sock(SockId),
    /// Any TCP socket starting to listen.
    AnyListen,
    /// A datagram sent to this port.
    UdpPort(u16),
    /// Any datagram sent (for receivers whose own port is unknown).
    AnyDatagram,
}

/// Which way a call moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Send,
    Receive,
}

/// How many unknown peer addresses are kept per trace.
const UNKNOWN_PEERS_KEPT: usize = 8;

/// The ports Linux picks for a socket bound to port 0, connected or sending unbound: the
/// default `net.ipv4.ip_local_port_range`. See docs/model.md.
pub(in crate::model) const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// Maps keyed by socket ids, ports and descriptors, the model's hottest lookups: hashed with
/// a seeded integer hasher instead of SipHash (see `int_hash.rs`).
type IdMap<K, V> = HashMap<K, V, IntHashBuilder>;

/// The modelled world.
pub struct Model<'t> {
    topology: &'t Topology,
    matcher: Matcher<'t>,
    sockets: socket_table::SocketTable,
    conns: ConnTable,
    /// Sockets some deviation names: their connections stay in the table to the end.
    deviated: HashSet<SockId, IntHashBuilder>,
    /// Every connection and flow counted, including those no longer held.
    traffic: TrafficSummary,
    /// The first few connections that ended cleanly, kept as examples (reports draw them).
    clean_examples: Vec<(ConnId, TcpConnection)>,
    /// Where each finished connection's record goes (`--connections`).
    sink: Option<&'t mut dyn ConnectionSink>,
    /// Bound sockets by (host, protocol, port): bind conflicts are per host and protocol.
    bound: bind_index::BindIndex,
    /// Listening TCP sockets by port, with the tag of the (canonical) address each listened on
    /// (`bind_index::address_tag`), and all of them (for NAT'd targets on another port).
    listeners_by_port: IdMap<u16, BTreeMap<SockId, u32>>,
    listeners: BTreeSet<SockId>,
    /// Sockets registered with each epoll instance, by (trace, epoll descriptor).
    epoll_interest: IdMap<(TraceId, Fd), BTreeMap<SockId, Ready>>,
    flows: Flows,
    deviations: Vec<Deviation>,
    /// Nonblocking connects never seen to complete before their socket closed.
    pending_at_close: Vec<PendingConnect>,
    activity: Vec<TraceActivity>,
    unsupported: BTreeMap<String, u64>,
    /// Set while a blocked head is pushed through: retry points take their forced path.
    forcing: bool,
    /// The call forced last turned out to be one the model expected to wait for until nothing
    /// else could move (an accept from an untraced program on the server's own host).
    force_expected: bool,
    /// Request/answer exchanges of open sockets with their peers (see `exchange.rs`).
    exchanges: IdMap<SockId, exchange::Exchange>,
    /// TCP sockets with an unobserved peer whose own side shut down writing: Linux answers any
    /// later send with EPIPE, whatever the peer did.
    unobserved_write_shut: HashSet<SockId, IntHashBuilder>,
    /// Exchanges of closed sockets whose last requests a traced peer may still read.
    exchanges_awaiting_delivery: IdMap<SockId, exchange::Exchange>,
    /// Sockets whose program was not looking for input when a request may have reached them:
    /// accepted and not yet seen empty, or taken out of an epoll set's read interest
    /// (EPOLL_CTL_MOD without EPOLLIN, EPOLL_CTL_DEL) since they last sent. A request read there
    /// may have waited for the program (an accept queue, a server throttling a client): when
    /// it arrived is unknown. A receive that finds nothing, a readiness wait that watched the
    /// socket and did not report it readable, or a receive that blocked ends that.
    reading_paused: HashSet<SockId, IntHashBuilder>,
    /// TCP sockets with an unobserved peer that have read the end of the stream: their peer's
    /// close is proven, so a later reset is the peer's answer to bytes sent after it.
    unobserved_peer_ended: HashSet<SockId, IntHashBuilder>,
    /// Timed round trips of closed sockets with traced peers (see `round_trips.rs`).
    round_trips: Vec<round_trips::SocketRoundTrips>,
    /// Each (trace, address) pair's first accepted connect (see `tcp/load.rs`).
    first_connections: IdMap<(TraceId, SocketAddr), Loc>,
    /// The addresses each trace connected a UDP socket to (see `udp/candidates.rs`).
    udp_connect_targets: udp::candidates::UdpConnectTargets,
    /// Connected UDP sockets closed so far, with their peers (see `udp/connected.rs`).
    udp_connected_ends: udp::connected::ConnectedEnds,
    /// Each listener's load (see `tcp/load.rs`).
    listener_loads: IdMap<SockId, tcp::load::ListenerLoad>,
    /// Open connections accepted from unobserved peers, and those of them the server answered
    /// short and closed (see `tcp/one_sided.rs`).
    unobserved_accepts: IdMap<SockId, tcp::one_sided::UnobservedAccept>,
    /// Readiness waits made so far by each (trace, thread), counted while connections from
    /// unobserved peers are open: a refusal is decided without waiting in between.
    thread_waits: std::collections::HashMap<(TraceId, u32), u64>,
    unobserved_answered_short: Vec<tcp::one_sided::UnobservedAccept>,
    /// Each listener's accept queue length (see `tcp/accept_queue.rs`).
    accept_backlogs: IdMap<SockId, u32>,
    /// Connects made while their listener's accept queue was full.
    full_queue_connects: Vec<tcp::accept_queue::FullQueueConnect>,
    /// Receivers waiting for bytes their peer had handed over (see `transfer_stalls.rs`).
    transfer_stalls: transfer_stalls::TransferStallWatch,
    /// Exchanges of closed sockets with unanswered requests, settled at the end.
    closed_exchanges: Vec<(SockId, exchange::Exchange)>,
    /// Sockets that gave up on requests, as they closed.
    unanswered: Vec<UnansweredRequests>,
    wait_keys: Vec<WaitKey>,
    touched: Vec<WaitKey>,
    /// Closes with SO_LINGER {1, 0} (they reset the connection instead of ending it).
    abortive_closes: Vec<Loc>,
    timed_out_waits: Vec<TimedOutWait>,
    /// Every listening period so far (see [`ReplayOutcome::listeners`]).
    listen_history: Vec<ListenerRecord>,
    failed_connect_spans: Vec<CallSpan>,
    loopback_udp_binds: Vec<LoopbackUdpBind>,
    udp_bound_ports: Vec<(TraceId, u16)>,
    /// How the UDP sockets bound to each port of each trace ended (see `udp::PortEnd`).
    udp_port_ends: HashMap<(TraceId, u16), udp::PortEnd>,
    connect_timings: Vec<ConnectTiming>,
    /// Resets a readiness wait reported (POLLERR on a connection whose peer had closed with
    /// unread bytes or abortively), one per socket; kept at the end only for sockets whose
    /// program never saw the reset otherwise (see `wait::resets_seen_only_by_waits`).
    wait_resets: Vec<Deviation>,
}

/// The first lines of a handler: the socket a call names, or why the call is not modelled.
enum Target<'a> {
    Sock(SockId, &'a Socket),
    Skip(Verdict),
}

impl<'t> Model<'t> {
    pub fn new(topology: &'t Topology) -> Self {
        Model {
            topology,
            matcher: Matcher::new(topology),
            sockets: Default::default(),
            conns: ConnTable::default(),
            deviated: Default::default(),
            traffic: TrafficSummary::default(),
            clean_examples: Vec::new(),
            sink: None,
            bound: Default::default(),
            listeners_by_port: Default::default(),
            listeners: BTreeSet::new(),
            epoll_interest: Default::default(),
            flows: Flows::default(),
            deviations: Vec::new(),
            pending_at_close: Vec::new(),
            activity: Vec::new(),
            unsupported: BTreeMap::new(),
            forcing: false,
            force_expected: false,
            exchanges: Default::default(),
            unobserved_write_shut: Default::default(),
            exchanges_awaiting_delivery: Default::default(),
            reading_paused: Default::default(),
            unobserved_peer_ended: Default::default(),
            closed_exchanges: Vec::new(),
            listener_loads: Default::default(),
            unobserved_accepts: Default::default(),
            thread_waits: Default::default(),
            unobserved_answered_short: Vec::new(),
            accept_backlogs: Default::default(),
            full_queue_connects: Vec::new(),
            transfer_stalls: Default::default(),
            first_connections: Default::default(),
            udp_connect_targets: Default::default(),
            udp_connected_ends: Default::default(),
            round_trips: Vec::new(),
            unanswered: Vec::new(),
            wait_keys: Vec::new(),
            touched: Vec::new(),
            abortive_closes: Vec::new(),
            timed_out_waits: Vec::new(),
            listen_history: Vec::new(),
            loopback_udp_binds: Vec::new(),
            udp_bound_ports: Vec::new(),
            udp_port_ends: HashMap::new(),
            failed_connect_spans: Vec::new(),
            connect_timings: Vec::new(),
            wait_resets: Vec::new(),
        }
    }

    /// A model that hands every connection's record to `sink` once it is done with it.
    pub fn with_sink(topology: &'t Topology, sink: &'t mut dyn ConnectionSink) -> Self {
        Model {
            sink: Some(sink),
            ..Model::new(topology)
        }
    }

    /// Simulates one call. On [`Verdict::RetryLater`] the state is unchanged and
    /// [`Model::wait_keys`] says what the call waits for.
    pub fn simulate(&mut self, ev: &SocketEvent) -> Verdict {
        self.wait_keys.clear();
        // Facts the kernel printed with the call hold whenever it is placed.
        self.learn_decorated_port(ev);
        let verdict = self.dispatch(ev);
        self.account(ev, &verdict);
        verdict
    }

    /// Pushes a call through although it must wait (ordering is blocked). Never retries: the
    /// call is consumed with the least-assuming interpretation and a deviation saying so — a
    /// specific one where the model has one (`UnknownData`, `AcceptFromUnknownPeer`,
    /// `ConnectionReset`), `Forced` otherwise.
    pub fn force(&mut self, ev: &SocketEvent) -> Verdict {
        self.wait_keys.clear();
        self.learn_decorated_port(ev);
        let reason = match self.dispatch(ev) {
            Verdict::RetryLater(reason) => reason,
            // Nothing to force any more: the call passes as it is.
            other => {
                self.account(ev, &other);
                return other;
            }
        };
        self.wait_keys.clear();
        self.forcing = true;
        self.force_expected = false;
        let verdict = self.dispatch(ev);
        self.forcing = false;
        let verdict = match verdict {
            Verdict::Deviation(d) => Verdict::Deviation(d),
            Verdict::NotModelled if self.force_expected => Verdict::NotModelled,
            _ => {
                let sock = ev.socks.first().map(|(_, s)| *s);
                let dev = self.deviation(
                    DeviationKind::Forced,
                    ev,
                    sock,
                    Vec::new(),
                    reason.to_string(),
                );
                Verdict::Deviation(dev)
            }
        };
        self.account(ev, &verdict);
        verdict
    }

    /// Whether the call forced last was one the model expected to wait for until nothing else
    /// could move: no gap in the order, so not a blocked point.
    pub fn last_force_expected(&self) -> bool {
        self.force_expected
    }

    /// What the last retried call waits for.
    pub fn wait_keys(&self) -> &[WaitKey] {
        &self.wait_keys
    }

    /// Keys touched since the last call (drained).
    pub fn take_touched(&mut self) -> Vec<WaitKey> {
        std::mem::take(&mut self.touched)
    }

    /// Moves the keys touched since the last call into `into` (cleared first), keeping both
    /// buffers' memory for the next calls.
    pub fn drain_touched(&mut self, into: &mut Vec<WaitKey>) {
        into.clear();
        std::mem::swap(&mut self.touched, into);
    }

    /// Forgets the keys touched since the last call.
    pub fn clear_touched(&mut self) {
        self.touched.clear();
    }

    /// Is `addr` beyond the traces (an ignored endpoint, nobody's address, or the address of a
    /// host declared without a trace)?
    pub fn is_outside(&self, addr: SocketAddr) -> bool {
        addr.ip() != std::net::IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
            && self.matcher.is_unobserved(addr)
    }

    /// The traces that could have sent from (or connected from) `addr`: those of the hosts that
    /// own the IP or show it as a NAT's public side.
    pub fn traces_behind(&self, addr: SocketAddr) -> Vec<TraceId> {
        let ip = addr.ip();
        self.topology
            .hosts
            .iter()
            .filter(|h| h.ips.contains(&ip) || h.nats.iter().any(|n| n.public.ip == ip))
            .flat_map(|h| h.traces.iter().copied())
            .collect()
    }

    /// A text rendering of the whole model state, for checking that a retried call changed
    /// nothing (tests) and for debugging. Not a stable format.
    pub fn state_snapshot(&self) -> String {
        let mut sockets: Vec<&Socket> = self.sockets.values().map(|s| &**s).collect();
        sockets.sort_by_key(|s| s.id);
        let bound = self.bound.snapshot();
        let mut listeners: Vec<_> = self.listeners_by_port.iter().collect();
        listeners.sort();
        let mut epoll: Vec<_> = self.epoll_interest.iter().collect();
        epoll.sort_by_key(|(k, _)| **k);
        let mut exchanges: Vec<_> = self.exchanges.iter().collect();
        exchanges.sort_by_key(|(k, _)| **k);
        format!(
            "{sockets:?}\n{:?}\n{bound:?}\n{listeners:?}\n{:?}\n{epoll:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{exchanges:?}",
            self.conns,
            self.listeners,
            self.flows.snapshot(),
            self.deviations,
            self.activity,
            self.unsupported
        )
    }

    /// The socket record, if the model follows it.
    pub fn socket(&self, id: SockId) -> Option<&Socket> {
        self.sockets.get(&id).map(|s| &**s)
    }

    /// Connections held (live, or kept for diagnose).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Connections ever made, held or folded into the summary.
    pub fn connections_made(&self) -> usize {
        self.conns.created()
    }

    /// Bytes of TCP content held for comparison (everything unreceived whose content is known).
    pub fn held_content_bytes(&self) -> usize {
        self.conns
            .iter()
            .map(|(_, c)| c.record.to_server.held_bytes() + c.record.to_client.held_bytes())
            .sum()
    }

    fn account(&mut self, ev: &SocketEvent, verdict: &Verdict) {
        if matches!(verdict, Verdict::RetryLater(_)) {
            return;
        }
        if let Verdict::Deviation(d) = verdict {
            self.deviated.extend(d.sock);
            self.deviations.push(d.clone());
        }
        self.record_failed_connect(ev, verdict);
        self.note_transfers(ev);
        self.note_unobserved_accept_call(ev);
        self.watch_transfer_stalls(ev, verdict);
        if !matches!(verdict, Verdict::NotModelled) {
            self.activity_mut(ev.call.loc.trace).socket_calls += 1;
        }
    }

    fn dispatch(&mut self, ev: &SocketEvent) -> Verdict {
        use crate::parse::Syscall as S;
        match &ev.call.syscall {
            S::Socket {
                domain,
                ty,
                nonblock,
                protocol,
                fd,
                ..
            } => self.socket_call(ev, *domain, *ty, *protocol, *nonblock, *fd),
            S::Socketpair { .. } => self.unsupported_call(ev, "socketpair"),
            S::Bind { fd, addr } => self.bind(ev, *fd, addr),
            S::Listen { fd, backlog } => {
                self.accept_queue_listened(ev, *fd, *backlog);
                self.listen(ev, *fd)
            }
            S::Accept {
                fd,
                peer,
                nonblock,
                new_fd,
                ..
            } => self.accept(ev, *fd, peer.as_ref(), *nonblock, *new_fd),
            S::Connect { fd, addr } => self.connect(ev, *fd, addr),
            S::Send {
                fd,
                data,
                flags,
                dest,
                ..
            } => self.send(ev, *fd, data, *flags, dest.as_ref()),
            // An error-queue read returns the socket's own timestamps or ICMP errors, no peer data.
            S::Recv { flags, .. } | S::RecvMany { flags, .. } if flags.errqueue => Verdict::Accept,
            S::Recv { fd, .. } if ev.call.outcome.never_returned() => {
                self.receive_never_returned(ev, *fd)
            }
            S::Recv {
                fd,
                data,
                buf_len,
                flags,
                src,
                truncated_datagram,
                ..
            } => self.recv(
                ev,
                *fd,
                data,
                *buf_len,
                *flags,
                src.as_ref(),
                *truncated_datagram,
            ),
            S::SendMany { fd, msgs, flags } => self.transfer_many(ev, *fd, msgs, *flags, Way::Send),
            S::RecvMany { fd, msgs, flags } => {
                self.transfer_many(ev, *fd, msgs, *flags, Way::Receive)
            }
            S::CopyFile { out_fd, in_fd, .. } => self.copy_file(ev, *out_fd, *in_fd),
            S::Close { fd } => {
                self.note_abortive_close(ev, *fd);
                self.close(ev, *fd)
            }
            S::Shutdown { fd, how } => self.shutdown(ev, *fd, *how),
            S::Setsockopt {
                fd,
                level,
                name,
                value,
            } => self.setsockopt(ev, *fd, level, name, value),
            S::Getsockopt {
                fd, name, value, ..
            } => self.getsockopt(ev, *fd, name, value),
            S::Getsockname { fd, addr } => self.getsockname(ev, *fd, addr.as_ref()),
            S::Getpeername { fd, .. } => self.getpeername(ev, *fd),
            S::Fcntl { fd, op } => self.fcntl(ev, *fd, op),
            S::Ioctl { fd, op } => self.ioctl(ev, *fd, op),
            S::Wait {
                fds,
                timeout_ms,
                epoll_fd,
            } => self.wait(ev, fds, *timeout_ms, *epoll_fd),
            S::EpollCtl {
                epfd,
                op,
                fd,
                wanted,
            } => self.epoll_ctl(ev, *epfd, *op, *fd, *wanted),
            // Descriptor bookkeeping is fold's business; nothing to judge here.
            S::Dup { .. }
            | S::CloseRange { .. }
            | S::Spawn { .. }
            | S::Execve
            | S::Exit { .. }
            | S::EpollCreate { .. } => Verdict::Accept,
        }
    }

    // ----- shared helpers -------------------------------------------------------------------

    /// Resolves the socket a call names; untracked, closed or external sockets are not modelled.
    fn target(&self, ev: &SocketEvent, fd: Fd) -> Target<'_> {
        let Some(id) = ev.sock(fd) else {
            return Target::Skip(Verdict::NotModelled);
        };
        match self.sockets.get(&id) {
            Some(s) if !s.external => Target::Sock(id, s),
            _ => Target::Skip(Verdict::NotModelled),
        }
    }

    fn host_key(&self, trace: TraceId) -> u64 {
        match self.topology.traces.get(trace.0 as usize) {
            Some(spec) => spec.host as u64,
            // Traces without a declared host are hosts of their own.
            None => (1u64 << 32) + u64::from(trace.0),
        }
    }

    fn activity_mut(&mut self, trace: TraceId) -> &mut TraceActivity {
        let i = trace.0 as usize;
        if self.activity.len() <= i {
            self.activity.resize_with(i + 1, TraceActivity::default);
        }
        let a = &mut self.activity[i];
        a.trace = Some(trace);
        a
    }

    /// `ev`'s trace talks to `addr`, an address of no host; the first call per address is kept
    /// as evidence.
    fn note_unknown_peer(&mut self, ev: &SocketEvent, addr: SocketAddr) {
        if self.matcher.is_ignored(addr) {
            // The configuration put it out of scope: no evidence either way.
            return;
        }
        if addr.ip().is_unspecified() {
            // A host without an address yet (a DHCP client): no address to declare.
            self.activity_mut(ev.call.loc.trace)
                .addressless_peer_contacts += 1;
            return;
        }
        if !self.matcher.is_outside(addr) {
            // A declared host's address, only untraced: known, merely unobserved.
            self.activity_mut(ev.call.loc.trace)
                .unobserved_peer_contacts += 1;
            return;
        }
        let a = self.activity_mut(ev.call.loc.trace);
        if a.unknown_peers.len() < UNKNOWN_PEERS_KEPT && !a.unknown_peers.contains(&addr) {
            a.unknown_peers.push(addr);
            a.unknown_peer_calls.push(ev.call.loc);
        }
    }

    /// An unknown peer that reached `trace` (see [`TraceActivity::inbound_unknown_peers`]).
    fn note_inbound_unknown_peer(&mut self, trace: TraceId, addr: SocketAddr) {
        let addressless = addr.ip().is_unspecified();
        if addressless || !self.matcher.is_outside(addr) || self.matcher.is_ignored(addr) {
            return;
        }
        let a = self.activity_mut(trace);
        if a.inbound_unknown_peers.len() < UNKNOWN_PEERS_KEPT
            && !a.inbound_unknown_peers.contains(&addr)
        {
            a.inbound_unknown_peers.push(addr);
        }
    }

    fn note_unsupported(&mut self, what: String) {
        *self.unsupported.entry(what).or_insert(0) += 1;
    }

    fn unsupported_call(&mut self, _ev: &SocketEvent, what: &str) -> Verdict {
        self.note_unsupported(what.to_string());
        Verdict::NotModelled
    }

    /// Returns a retry verdict, remembering what the call waits for.
    fn wait_for(&mut self, reason: String, keys: &[WaitKey]) -> Verdict {
        self.wait_with(WaitReason::Text(reason), keys)
    }

    fn wait_with(&mut self, reason: WaitReason, keys: &[WaitKey]) -> Verdict {
        self.wait_keys.extend_from_slice(keys);
        Verdict::RetryLater(reason)
    }

    fn touch(&mut self, key: WaitKey) {
        self.touched.push(key);
    }

    fn deviation(
        &self,
        kind: DeviationKind,
        ev: &SocketEvent,
        sock: Option<SockId>,
        related: Vec<Loc>,
        detail: String,
    ) -> Deviation {
        Deviation {
            kind,
            loc: ev.call.loc,
            sock,
            related,
            detail,
            source: None,
        }
    }

    fn deviate(
        &self,
        kind: DeviationKind,
        ev: &SocketEvent,
        sock: SockId,
        related: Vec<Loc>,
        detail: String,
    ) -> Verdict {
        Verdict::Deviation(self.deviation(kind, ev, Some(sock), related, detail))
    }

    /// Records a deviation that accompanies the call's main verdict.
    fn record_extra(&mut self, dev: Deviation) {
        self.deviated.extend(dev.sock);
        self.deviations.push(dev);
    }

    /// Judges a would-block result (EAGAIN, EINPROGRESS, a timeout): expected on a nonblocking
    /// socket or with MSG_DONTWAIT / a SO_RCVTIMEO-style timeout; a portability trap when
    /// O_NONBLOCK was only inherited from the listener; otherwise the network failed to deliver.
    fn would_block(
        &self,
        ev: &SocketEvent,
        sock: SockId,
        dontwait: bool,
        timeout_us: i64,
    ) -> Verdict {
        let Some(s) = self.sockets.get(&sock) else {
            return Verdict::NotModelled;
        };
        if dontwait || timeout_us > 0 || (s.nonblock.on && !s.nonblock.inherited) {
            return Verdict::Accept;
        }
        if s.nonblock.unknown {
            // Made nonblocking before the trace began: the would-block shows it.
            return Verdict::Accept;
        }
        if s.nonblock.on {
            return self.deviate(
                DeviationKind::NonblockInherited,
                ev,
                sock,
                Vec::new(),
                format!("{sock} is nonblocking only because its listener was"),
            );
        }
        self.deviate(
            DeviationKind::UnexpectedBlocking,
            ev,
            sock,
            Vec::new(),
            format!("{sock} is in blocking mode"),
        )
    }

    fn unexpected_failure(&self, ev: &SocketEvent, sock: SockId, errno: Errno) -> Verdict {
        self.deviate(
            DeviationKind::UnexpectedFailure {
                errno,
                call: ev.call.name,
                time: ev.call.time,
            },
            ev,
            sock,
            Vec::new(),
            format!("{} failed with {errno}", ev.call.name),
        )
    }

    /// Could the socket `local_sock`, bound to `local`, be what a peer in `peer_trace` knows as
    /// `known_as`?
    fn can_be(
        &self,
        local_sock: SockId,
        local: SocketAddr,
        peer_trace: TraceId,
        known_as: SocketAddr,
        role: Role,
    ) -> bool {
        self.matcher
            .can_be(local_sock.trace, local, peer_trace, known_as, role)
            .matched
    }

    /// Builds what diagnose reads.
    pub fn finish(mut self, ordered_calls: u64, blocked: Vec<BlockedPoint>) -> ReplayOutcome {
        self.keep_resets_seen_only_by_waits();
        self.settle_exchanges();
        let tcp = self.held_connections_to_summary();
        let listener_loads = self.take_listener_loads();
        let transfer_stalls = self.take_transfer_stalls();
        let first_connections = self.take_first_connections();
        let links: Vec<TraceId> = self
            .flows
            .all()
            .iter()
            .filter(|f| !f.receivers.is_empty())
            .map(|f| f.sender.trace)
            .collect();
        for trace in links {
            self.activity_mut(trace).peer_links += 1;
        }
        let mut udp: Vec<UdpFlow> = self.flows.all().iter().map(udp::Flow::to_outcome).collect();
        for (flow, sent) in udp.iter_mut().zip(self.flows.all()) {
            flow.receiver_connected_elsewhere = self.receiver_connected_elsewhere(flow);
            flow.nothing_bound_at_receiver =
                self.udp_port_unbound_when_sent(sent.dest, sent.sender.trace, sent.first_send_at);
        }
        for flow in &udp {
            self.traffic.add_flow(self.topology, flow);
        }
        // One activity record per declared trace, even a silent one.
        for spec in &self.topology.traces {
            self.activity_mut(spec.id);
        }
        let mut pending: Vec<PendingConnect> = self
            .sockets
            .values()
            .filter(|s| s.is_connecting() && !s.external)
            .filter_map(|s| {
                let (target, loc) = s.connect_target()?;
                Some(PendingConnect {
                    sock: s.id,
                    target,
                    loc,
                })
            })
            .collect();
        pending.append(&mut self.pending_at_close);
        pending.sort_by_key(|p| p.sock);
        self.count_attempts(&tcp, &pending);
        let folded_tcp = self.traffic.take_folded();
        let (tcp_traffic, udp_traffic) = std::mem::take(&mut self.traffic).into_lists();
        ReplayOutcome {
            deviations: self.deviations,
            blocked,
            tcp,
            udp,
            pending_connects: pending,
            activity: self.activity,
            unsupported: self.unsupported.into_iter().collect(),
            ordered_calls,
            used_timestamps: false,
            timed_out_waits: self.timed_out_waits,
            abortive_closes: self.abortive_closes,
            unanswered_requests: self.unanswered,
            listeners: self.listen_history,
            failed_connect_spans: self.failed_connect_spans,
            loopback_udp_binds: self.loopback_udp_binds,
            connect_timings: self.connect_timings,
            tcp_traffic,
            udp_traffic,
            folded_tcp,
            listener_loads,
            first_connections,
            udp_connect_targets: self.udp_connect_targets.into_list(),
            round_trips: self.round_trips,
            unobserved_short_answers: self.unobserved_answered_short,
            full_queue_connects: self.full_queue_connects,
            transfer_stalls,
        }
    }
}

#[cfg(test)]
mod tests;
