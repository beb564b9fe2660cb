//! Local set-up and tear-down: socket, bind, listen, options, descriptor flags, close, shutdown.

use std::net::SocketAddr;

use super::bind_index::address_tag;
use super::options::{self, Nonblock, OptionEffect};
use super::socket::{Proto, SockState, Socket};
use super::tcp::{ConnId, Side};
use super::{DeviationKind, LoopbackUdpBind, Model, PendingConnect, Target, Verdict, WaitKey};
use crate::fold::{ProgramContext, SocketEvent, SyntheticReason};
use crate::parse::{Domain, Errno, FcntlOp, Fd, IoctlOp, OptValue, Protocol, SockAddr, SockType};
use crate::source::SockId;

/// Do two local addresses claim the same port space? (Equal addresses, or either wildcard; an
/// IPv6 wildcard covers IPv4 unless the socket is v6-only.)
fn addresses_overlap(a: SocketAddr, a_v6only: bool, b: SocketAddr, b_v6only: bool) -> bool {
    if a.ip() == b.ip() {
        return true;
    }
    // A v4 wildcard never covers v6 addresses; a v6-only wildcard never covers v4 ones.
    let covers = |wild: SocketAddr, v6only: bool, other: SocketAddr| {
        wild.ip().is_unspecified()
            && match (wild.is_ipv6(), other.is_ipv6()) {
                (false, true) => false,
                (true, false) => !v6only,
                _ => true,
            }
    };
    covers(a, a_v6only, b) || covers(b, b_v6only, a)
}

impl Model<'_> {
    pub(super) fn socket_call(
        &mut self,
        ev: &SocketEvent,
        domain: Domain,
        ty: SockType,
        protocol: Protocol,
        nonblock: bool,
        fd: Option<Fd>,
    ) -> Verdict {
        if !ev.call.outcome.is_success() {
            return Verdict::NotModelled;
        }
        let ipv6 = match domain {
            Domain::Inet => false,
            Domain::Inet6 => true,
            // Unix, netlink and packet sockets are outside the modelled network.
            _ => return Verdict::NotModelled,
        };
        let proto = match (ty, protocol) {
            (SockType::Stream, Protocol::Default | Protocol::Tcp) => Proto::Tcp,
            (SockType::Dgram, Protocol::Default | Protocol::Udp) => Proto::Udp,
            (SockType::Raw, _) => return self.unsupported_call(ev, "raw socket"),
            (SockType::Dgram, Protocol::Icmp | Protocol::Icmpv6) => {
                return self.unsupported_call(ev, "ICMP datagram socket")
            }
            _ => return self.unsupported_call(ev, "socket type/protocol"),
        };
        let Some(id) = fd.and_then(|fd| ev.sock(fd)) else {
            return Verdict::NotModelled;
        };
        let host = self
            .topology
            .traces
            .get(id.trace.0 as usize)
            .map(|t| t.host);
        let mut sock = Socket::new(id, host, proto, ipv6);
        // SOCK_NONBLOCK given to socket() is the caller's own choice, whatever the type. A
        // socket adopted from an attached trace may have been made nonblocking before it began.
        sock.nonblock = if ev.synthetic == Some(SyntheticReason::Adopted) {
            Nonblock::unknown()
        } else {
            Nonblock::explicit(nonblock)
        };
        self.sockets.insert(id, Box::new(sock));
        Verdict::Accept
    }

    pub(super) fn bind(&mut self, ev: &SocketEvent, fd: Fd, addr: &SockAddr) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let Some(addr) = addr.inet() else {
            return Verdict::NotModelled;
        };
        let conflict = self.bind_conflict(id, sock, addr);
        let reuseaddr = sock.options().reuseaddr;
        let already_bound = sock.local.is_some();
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                Errno::EADDRINUSE if self.own_dual_stack_holder(id, addr, conflict) => {
                    Verdict::Accept
                }
                Errno::EADDRINUSE => self.deviate(
                    DeviationKind::AddressInUse { reuseaddr },
                    ev,
                    id,
                    conflict
                        .and_then(|(holder, _)| self.sockets.get(&holder))
                        .and_then(|h| h.bind_loc().or(h.listen_loc()))
                        .into_iter()
                        .collect(),
                    match conflict {
                        Some((holder, _)) => format!("{addr} is held by {holder}"),
                        None => format!("{addr} is in use (holder not traced)"),
                    },
                ),
                Errno::EINVAL if already_bound => Verdict::Accept,
                e if e.is_restart() => Verdict::Accept,
                e => self.unexpected_failure(ev, id, e),
            };
        }
        if already_bound {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("{id} was already bound (Linux: EINVAL)"),
            );
        }
        self.set_local(id, addr);
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(SockState::Bound, ev, &mut self.listen_history);
            s.set_bind_loc(ev.call.loc);
            if s.proto == Proto::Udp {
                self.note_udp_bind(id, addr);
            }
        }
        match conflict {
            Some((holder, holder_reuseaddr)) => {
                let related = self
                    .sockets
                    .get(&holder)
                    .and_then(|h| h.bind_loc().or(h.listen_loc()))
                    .into_iter()
                    .collect();
                self.deviate(
                    DeviationKind::AddressInUse {
                        reuseaddr: holder_reuseaddr,
                    },
                    ev,
                    id,
                    related,
                    format!("{addr} is also bound by {holder} on the same host"),
                )
            }
            None => Verdict::Accept,
        }
    }

    /// Whether a failed bind of IPv4 address `addr` by `id` collided only with a dual-stack
    /// IPv6 wildcard socket (no IPV6_V6ONLY) of the same trace. Linux refuses such a bind because
    /// the program's own IPv6 socket already receives IPv4 on that port; programs bind both
    /// families on purpose to learn whether their IPv6 listener is dual-stack (the Erlang VM
    /// does so at start-up), and the address stays served by the program itself.
    fn own_dual_stack_holder(
        &self,
        id: SockId,
        addr: SocketAddr,
        conflict: Option<(SockId, bool)>,
    ) -> bool {
        let Some((holder_id, _)) = conflict else {
            return false;
        };
        let Some(holder) = self.sockets.get(&holder_id) else {
            return false;
        };
        holder_id.trace == id.trace
            && addr.is_ipv4()
            && !holder.options().v6only
            && holder
                .local
                .is_some_and(|l| l.is_ipv6() && l.ip().is_unspecified())
    }

    /// UDP socket `id` was bound to `local`: its port kept once per trace (0: one the kernel
    /// chose, not shown), and a loopback address once per trace and address (see
    /// [`Self::note_loopback_udp_bind`]).
    pub(in crate::model) fn note_udp_bind(&mut self, id: SockId, local: SocketAddr) {
        if local.ip().is_loopback() {
            self.note_loopback_udp_bind(id, local);
        }
        let bound_port = (id.trace, local.port());
        if !self.udp_bound_ports.contains(&bound_port) {
            self.udp_bound_ports.push(bound_port);
        }
    }

    /// UDP socket `id` was bound to loopback address `local`: kept once per trace and address,
    /// so that a program binding one socket per request adds nothing.
    fn note_loopback_udp_bind(&mut self, id: SockId, local: SocketAddr) {
        let known = self
            .loopback_udp_binds
            .iter()
            .any(|b| b.sock.trace == id.trace && b.local == local);
        if !known {
            self.loopback_udp_binds
                .push(LoopbackUdpBind { sock: id, local });
        }
    }

    /// Another live socket of the same host and protocol holding `addr`'s port. UDP sockets that
    /// both set SO_REUSEADDR (multicast receivers) or any sockets that both set SO_REUSEPORT
    /// share the port legitimately.
    fn bind_conflict(&self, id: SockId, sock: &Socket, addr: SocketAddr) -> Option<(SockId, bool)> {
        if addr.port() == 0 {
            return None;
        }
        let key = (self.host_key(id.trace), sock.proto, addr.port());
        let mut holders = self.bound.candidates(key, addr.ip());
        holders.find_map(|other_id| {
            let other = self.sockets.get(other_id)?;
            let other_addr = other.local?;
            if *other_id == id
                || !addresses_overlap(
                    addr,
                    sock.options().v6only,
                    other_addr,
                    other.options().v6only,
                )
                || (sock.options().reuseport && other.options().reuseport)
                || (sock.proto == Proto::Udp
                    && sock.options().reuseaddr
                    && other.options().reuseaddr)
            {
                return None;
            }
            Some((*other_id, other.options().reuseaddr))
        })
    }

    /// Sets a socket's local address and keeps the bind index in step.
    pub(super) fn set_local(&mut self, id: SockId, addr: SocketAddr) {
        let host = self.host_key(id.trace);
        let Some(sock) = self.sockets.get_mut(&id) else {
            return;
        };
        sock.local = Some(addr);
        if !sock.in_bind_index && addr.port() != 0 {
            sock.in_bind_index = true;
            self.bound
                .insert((host, sock.proto, addr.port()), addr.ip(), id);
        }
    }

    pub(in crate::model) fn unbind(&mut self, id: SockId) {
        let host = self.host_key(id.trace);
        let Some(sock) = self.sockets.get(&id) else {
            return;
        };
        if let (true, Some(local)) = (sock.in_bind_index, sock.local) {
            self.bound.remove((host, sock.proto, local.port()), id);
        }
        if sock.is_listening() {
            let port = sock.local.map_or(0, |l| l.port());
            if let Some(set) = self.listeners_by_port.get_mut(&port) {
                set.remove(&id);
            }
            self.listeners.remove(&id);
        }
    }

    pub(super) fn listen(&mut self, ev: &SocketEvent, fd: Fd) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let (proto, state, ipv6) = (sock.proto, sock.state(), sock.ipv6);
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                Errno::EOPNOTSUPP if proto == Proto::Udp => Verdict::Accept,
                Errno::EADDRINUSE => self.deviate(
                    DeviationKind::AddressInUse { reuseaddr: false },
                    ev,
                    id,
                    Vec::new(),
                    "no free port to auto-bind".into(),
                ),
                e => self.unexpected_failure(ev, id, e),
            };
        }
        if proto == Proto::Udp || sock.is_connecting_or_connected() {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("listen on a {state} {proto:?} socket (Linux: EINVAL/EOPNOTSUPP)"),
            );
        }
        if state == SockState::Listen {
            return Verdict::Accept; // listen again only changes the backlog
        }
        // listen(2) on an unbound socket binds it to a wildcard address and ephemeral port.
        let local = sock.local.unwrap_or_else(|| {
            if ipv6 {
                SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
            } else {
                SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
            }
        });
        if sock.local.is_none() {
            self.set_local(id, local);
        }
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(SockState::Listen, ev, &mut self.listen_history);
        }
        self.listeners_by_port
            .entry(local.port())
            .or_default()
            .insert(id, address_tag(local.ip().to_canonical()));
        self.listeners.insert(id);
        self.touch(WaitKey::AnyListen);
        Verdict::Accept
    }

    pub(super) fn close(&mut self, ev: &SocketEvent, fd: Fd) -> Verdict {
        let Some(id) = ev.sock(fd) else {
            return Verdict::NotModelled;
        };
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let external = sock.external;
        let verdict = match ev.call.outcome.errno {
            None => Verdict::Accept,
            // Linux releases the descriptor even when close reports EINTR; EAGAIN comes from a
            // lingering close.
            Some(e) if e.is_restart() || e.is_would_block() => Verdict::Accept,
            Some(e) => self.unexpected_failure(ev, id, e),
        };
        // A connect a wait reported failed, closed without its error read: a failed connect,
        // no connect left in progress.
        let aborted = self
            .connect_aborted_at_close(ev, id)
            .filter(|v| matches!(v, Verdict::Deviation(_)));
        let verdict = match (verdict, aborted) {
            (Verdict::Accept, Some(failed)) => failed,
            (verdict, _) => verdict,
        };
        let loc = ev.call.loc;
        self.close_exchange(id, ev.context == ProgramContext::Finished);
        self.unbind(id);
        // The last close removes the socket from every epoll set (epoll instances are few).
        for (_, interest) in self
            .epoll_interest
            .iter_mut()
            .filter(|((trace, _), _)| *trace == id.trace)
        {
            interest.remove(&id);
        }
        let Some(mut sock) = self.sockets.remove(&id) else {
            return verdict;
        };
        if let (Proto::Udp, Some(local), Some(peer)) = (sock.proto, sock.local, sock.peer) {
            self.udp_connected_ends.note(id, local, peer);
        }
        if sock.proto == Proto::Udp {
            self.note_udp_port_end(&sock, ev);
        }
        // A connect to a peer no trace shows is settled by this trace alone: closed while still
        // in progress, it never completed.
        let outside_in_progress = sock.external && sock.proto == Proto::Tcp;
        // Closed after its wait timed out and with no report since: the handshake never
        // completed, so no accept will ever return this connection.
        if let Some(conn) = sock
            .conn()
            .filter(|_| sock.is_connecting() && sock.connect_timed_out())
        {
            self.drop_queued(conn);
        }
        if sock.is_connecting() || outside_in_progress {
            if let Some((target, at)) = sock.connect_target() {
                self.pending_at_close.push(PendingConnect {
                    sock: id,
                    target,
                    loc: at,
                });
            }
        }
        // Connections still waiting in a closed listener's queue are reset by the kernel.
        for conn in sock.take_pending() {
            if let Some(c) = self.conns.get_mut(conn) {
                c.reset_by_listener = Some(loc);
                c.record.to_client.stats.closed_by_sender = true;
                c.record.to_server.stats.closed_by_receiver = true;
                let client = c.record.client;
                self.touched.push(WaitKey::Sock(client));
            }
        }
        if let Some(conn) = sock.conn() {
            self.end_connection(ev, id, conn);
        }
        sock.set_state(SockState::Closed, ev, &mut self.listen_history);
        if external && !matches!(verdict, Verdict::Deviation(_)) {
            return Verdict::NotModelled;
        }
        verdict
    }

    /// `id`'s end of connection `conn` is closed at `ev` (its last close, or a connect with
    /// AF_UNSPEC that dissolves it): the peer sees the end of the stream, and the connection
    /// retires once clean.
    pub(super) fn end_connection(&mut self, ev: &SocketEvent, id: SockId, conn: ConnId) {
        let loc = ev.call.loc;
        let mut closing_listener = None;
        if let Some(c) = self.conns.get_mut(conn) {
            let side = c.side_of(id);
            let server_closed_now = side == Side::Server && c.server_closed.is_none();
            c.set_closed(side, loc, ev.context);
            if side == Side::Client {
                let client = c.record.client.trace;
                let one_clock = c
                    .record
                    .server
                    .is_some_and(|s| self.topology.clocks_comparable(s.trace, client));
                c.client_closed_at(ev.call.time, one_clock);
            }
            // A server killed by a signal, or whose trace ended, did not end the
            // connection by choice.
            let involuntary = matches!(
                ev.synthetic,
                Some(SyntheticReason::ProcessKilled | SyntheticReason::EndOfTrace)
            );
            if server_closed_now && involuntary {
                c.record.server_closed_first = false;
            }
            // A close the program made (its close, or its exit) ends its reading as SHUT_RD
            // would: what the peer sends after it is refused with a reset, unread by that
            // choice. One made for it (a kill, its trace's end) says nothing of what it wanted.
            if !involuntary {
                c.incoming_mut(side).stats.note_read_shut(ev.call.time);
            }
            c.record.server_killed |= server_closed_now
                && ev.synthetic == Some(SyntheticReason::ProcessKilled)
                && ev.context == ProgramContext::Running;
            // An exit with status 0 is `Finished`; one unasked with another status is a
            // failure (fold keeps such an exit `Running`).
            c.record.server_failed |= server_closed_now
                && ev.synthetic == Some(SyntheticReason::ProcessExit)
                && ev.context == ProgramContext::Running;
            closing_listener = c.record.listener.filter(|_| server_closed_now);
            // The connection's duration runs on the client's clock, from its connect.
            let on_client_clock = self
                .topology
                .clocks_comparable(id.trace, c.record.client.trace);
            c.closed_at = ev.call.time.filter(|_| on_client_clock).or(c.closed_at);
            if let Some(peer) = c.peer_of(side) {
                self.touched.push(WaitKey::Sock(peer));
            }
        }
        if let Some(listener) = closing_listener {
            self.load_server_closed(listener, ev.call.time);
        }
        self.retire_if_clean(conn);
    }

    pub(super) fn shutdown(&mut self, ev: &SocketEvent, fd: Fd, how: i64) -> Verdict {
        if (1..=2).contains(&how) && ev.call.outcome.errno.is_none() {
            self.note_unobserved_write_shut(ev, fd);
            if let Some(id) = ev.sock(fd) {
                self.exchange_write_shut(id);
            }
        }
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let (state, conn) = (sock.state(), sock.conn());
        let connected = state == SockState::Connected && conn.is_some();
        // A connected UDP socket may shut down (Linux: shutdown(2) needs only a peer).
        let udp_connected = sock.proto == Proto::Udp && sock.peer.is_some();
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                Errno::ENOTCONN if !connected => Verdict::Accept,
                Errno::ENOTCONN => self.shutdown_after_peer_left(ev, id, conn),
                Errno::EINVAL if !(0..=2).contains(&how) => Verdict::Accept,
                e => self.unexpected_failure(ev, id, e),
            };
        }
        if !(0..=2).contains(&how) || !(connected || udp_connected || state == SockState::Listen) {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("shutdown(how={how}) on a {state} socket (Linux: ENOTCONN/EINVAL)"),
            );
        }
        if let (Some(conn), true) = (conn, how >= 1) {
            if let Some(c) = self.conns.get_mut(conn) {
                let side = c.side_of(id);
                c.outgoing_mut(side).stats.closed_by_sender = true;
                if let Some(peer) = c.peer_of(side) {
                    self.touched.push(WaitKey::Sock(peer));
                }
            }
        }
        if let (Some(conn), true) = (conn, how == 0 || how == 2) {
            if let Some(c) = self.conns.get_mut(conn) {
                let side = c.side_of(id);
                c.incoming_mut(side).stats.note_read_shut(ev.call.time);
                self.touched.push(WaitKey::Sock(id));
            }
        }
        Verdict::Accept
    }

    /// A TCP socket whose peer no trace shows shut down writing: its later EPIPE is its own.
    fn note_unobserved_write_shut(&mut self, ev: &SocketEvent, fd: Fd) {
        let Some(id) = ev.sock(fd) else { return };
        if self
            .sockets
            .get(&id)
            .is_some_and(|s| s.external && s.proto == Proto::Tcp)
        {
            self.unobserved_write_shut.insert(id);
        }
    }

    /// shutdown() answered ENOTCONN on a connected socket: Linux does so once the connection is
    /// gone (the peer's close reset it, or both sides shut down writing). Consistent once that
    /// is ordered; until then, retry.
    fn shutdown_after_peer_left(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        conn: Option<usize>,
    ) -> Verdict {
        // Either the peer closed, or both sides shut down writing (FIN each way: TIME_WAIT).
        let finished = conn.and_then(|c| self.conns.get(c)).is_some_and(|c| {
            let side = c.side_of(id);
            c.peer_closed(side).is_some()
                || (c.outgoing(side).stats.closed_by_sender
                    && c.incoming(side).stats.closed_by_sender)
        });
        if finished {
            return Verdict::Accept;
        }
        if !self.forcing {
            return self.wait_for(
                "shutdown failed with ENOTCONN but the peer's close is not ordered yet".into(),
                &[WaitKey::Sock(id)],
            );
        }
        self.unexpected_failure(ev, id, Errno::ENOTCONN)
    }

    pub(super) fn setsockopt(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        level: &str,
        name: &str,
        value: &OptValue,
    ) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let ipv6 = sock.ipv6;
        let mut updated = sock.options().clone();
        let effect = options::apply(&mut updated, level, name, value);
        if let Some(errno) = ev.call.outcome.errno {
            return match effect {
                // Probing an option the kernel lacks is ordinary.
                OptionEffect::Unknown | OptionEffect::Irrelevant => Verdict::Accept,
                OptionEffect::NotMulticast(_) if errno == Errno::EINVAL => Verdict::Accept,
                // An IPv6-level option on an IPv4 socket: Linux says ENOPROTOOPT (dual-stack
                // servers try IPV6_V6ONLY on whatever socket they got).
                _ if errno == Errno::ENOPROTOOPT && is_ipv6_level(level) && !ipv6 => {
                    Verdict::Accept
                }
                _ => self.unexpected_failure(ev, id, errno),
            };
        }
        match effect {
            OptionEffect::Applied => {
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.set_options(updated);
                }
                Verdict::Accept
            }
            OptionEffect::Irrelevant => Verdict::Accept,
            OptionEffect::Unknown => {
                self.note_unsupported(format!("setsockopt {level} {name}"));
                Verdict::Accept
            }
            OptionEffect::NotMulticast(group) => self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("{group} is not a multicast group (Linux: EINVAL)"),
            ),
        }
    }

    pub(super) fn getsockopt(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        name: &str,
        value: &OptValue,
    ) -> Verdict {
        let reads_so_error = name == "SO_ERROR" && ev.call.outcome.is_success();
        if let Some(id) = self
            .outside_connect_in_progress(ev, fd)
            .filter(|_| reads_so_error)
        {
            let reported = self.sockets.get(&id).is_some_and(|s| s.connect_reported());
            return match so_error(value) {
                // No error yet, and no wait has said the connect ended: still in progress.
                Some(None) if ev.waits_shown && !reported => Verdict::NotModelled,
                Some(errno) => self.outside_connect_ended(ev, id, errno),
                None => Verdict::NotModelled,
            };
        }
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        if !reads_so_error {
            return Verdict::Accept;
        }
        // SO_ERROR is how a nonblocking connect reports its result.
        if !sock.is_connecting() {
            return Verdict::Accept;
        }
        match so_error(value) {
            // Linux reports 0 while the SYN still waits for an answer: only after a wait said the
            // connect ended does 0 mean it succeeded (Ruby's TCPSocket reads SO_ERROR right
            // after EINPROGRESS, before it polls). A trace filtered to network calls hides its
            // waits, so there 0 is taken as the program's answer after one.
            Some(None) if ev.waits_shown && !sock.connect_reported() => Verdict::Accept,
            Some(None) => self.complete_connect(ev, id),
            Some(Some(errno)) => self.connect_failed(ev, id, errno),
            None => Verdict::Accept,
        }
    }

    pub(super) fn getsockname(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        addr: Option<&SockAddr>,
    ) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let Some(reported) = addr.and_then(SockAddr::inet) else {
            return Verdict::Accept;
        };
        // Port 0 is an unbound socket's answer (Ruby asks before it binds): nothing chosen yet.
        if !ev.call.outcome.is_success() || reported.port() == 0 {
            return Verdict::Accept;
        }
        // Learn what the kernel chose: the ephemeral port, or the address behind a wildcard.
        let learn = match sock.local {
            None => true,
            Some(l) => l.port() == 0 || l.ip().is_unspecified(),
        };
        if learn {
            self.learn_local(id, reported);
        }
        Verdict::Accept
    }

    /// The socket's own address as the kernel reports it (getsockname, a `-yy` decoration).
    fn learn_local(&mut self, id: SockId, reported: SocketAddr) {
        let Some(sock) = self.sockets.get(&id) else {
            return;
        };
        let conn = sock.conn();
        let was_indexed = sock.in_bind_index;
        if let Some(s) = self.sockets.get_mut(&id) {
            s.local = Some(reported);
        }
        if !was_indexed && sock_is_bound_explicitly(self.sockets.get(&id).map(|s| &**s)) {
            self.set_local(id, reported);
        }
        if let Some(c) = conn.and_then(|c| self.conns.get_mut(c)) {
            if c.record.client == id {
                c.record.client_view.0 = Some(reported);
            } else {
                c.record.server_view.0 = Some(reported);
            }
        }
    }

    /// A UDP socket bound to port 0 (or auto-bound) got an ephemeral port that only getsockname
    /// or strace's `-yy` decoration (`3<UDP:[10.78.1.10:58205]>`) shows. Learning it from the
    /// decoration keeps datagrams of two such sockets apart by their source port: tftpd-hpa
    /// answers a retransmitted request from a second child, and the client reads both
    /// children's blocks on one socket (`apps/tftp-random-loss`). Only an unknown port is
    /// learnt: an address the model already holds came from the trace's own calls.
    pub(super) fn learn_decorated_port(&mut self, ev: &SocketEvent) {
        if !ev.call.outcome.is_success() || ev.synthetic.is_some() {
            return;
        }
        for (fd, id) in ev.socks.iter() {
            let Some(sock) = self.sockets.get(id) else {
                continue;
            };
            // strace looks a socket's addresses up once and keeps them by inode: once the
            // socket is dissolved (connect with AF_UNSPEC, which also frees its port) and
            // connected elsewhere, every later call still shows the first association, old
            // port included (`capi/udp-unspec-healthy`: `10.88.0.2:53478->10.88.0.1:7620` after
            // a connect to 7621, whose datagrams left from port 54350). Such a decoration is
            // stale and teaches nothing.
            if sock.dissolved() {
                continue;
            }
            let Some(shown) = ev
                .call
                .fd_info
                .iter()
                .find(|i| i.fd == *fd && matches!(&*i.kind, "UDP" | "UDPv6" | "TCP" | "TCPv6"))
                .and_then(|i| i.local)
                .filter(|l| l.port() != 0)
            else {
                continue;
            };
            // A TCP socket bound to port 0 has the port the kernel chose at bind: a listener's
            // decoration (`3<TCP:[0.0.0.0:40841]>`) tells connects to other ports from its own.
            // A connecting or connected TCP client has the port its connect chose, which
            // only the decoration of a later call shows (`4<TCP:[10.102.1.2:42448->...]>`): it
            // tells which of two connects to one listener an accept returned.
            let unknown = match sock.proto {
                Proto::Udp => sock.local.is_none_or(|l| l.port() == 0),
                _ if sock.peer.is_some() => sock.local.is_none_or(|l| l.port() == 0),
                _ => sock.bind_loc().is_some() && sock.local.is_some_and(|l| l.port() == 0),
            };
            if unknown {
                self.learn_local(*id, shown);
            }
        }
    }

    pub(super) fn getpeername(&mut self, ev: &SocketEvent, fd: Fd) -> Verdict {
        match self.target(ev, fd) {
            Target::Sock(..) => Verdict::Accept,
            Target::Skip(v) => v,
        }
    }

    pub(super) fn fcntl(&mut self, ev: &SocketEvent, fd: Fd, op: &FcntlOp) -> Verdict {
        if let (FcntlOp::SetFl { nonblock }, true) = (op, ev.call.outcome.is_success()) {
            self.set_nonblock(ev, fd, *nonblock);
        }
        match self.target(ev, fd) {
            Target::Sock(..) => Verdict::Accept,
            Target::Skip(v) => v,
        }
    }

    pub(super) fn ioctl(&mut self, ev: &SocketEvent, fd: Fd, op: &IoctlOp) -> Verdict {
        if let (IoctlOp::SetNonblock(on), true) = (op, ev.call.outcome.is_success()) {
            self.set_nonblock(ev, fd, *on);
        }
        match self.target(ev, fd) {
            Target::Sock(..) => Verdict::Accept,
            Target::Skip(v) => v,
        }
    }

    /// The program set the socket's mode itself. Kept for sockets whose peer no trace shows
    /// too: the mode is this host's own fact, and what a later blocking call means rests on it.
    fn set_nonblock(&mut self, ev: &SocketEvent, fd: Fd, on: bool) {
        if let Some(s) = ev.sock(fd).and_then(|id| self.sockets.get_mut(&id)) {
            s.nonblock = Nonblock::explicit(on);
        }
    }
}

/// Only explicitly bound or listening sockets belong in the bind index: ephemeral ports of
/// client sockets cannot conflict with anyone's bind (§8.4 #18 of the original's bugs).
fn sock_is_bound_explicitly(sock: Option<&Socket>) -> bool {
    sock.is_some_and(Socket::is_bound_or_listening)
}

/// Decodes getsockopt(SO_ERROR): `Some(None)` = no error, `Some(Some(e))` = the pending error.
fn so_error(value: &OptValue) -> Option<Option<Errno>> {
    match value {
        OptValue::Int(0) => Some(None),
        OptValue::Int(n) => Some(Some(errno_from_number(*n))),
        OptValue::Raw(text) => {
            let name = text.trim().trim_start_matches('[').trim_end_matches(']');
            match Errno::from_bytes(name.as_bytes()) {
                Some(e) => Some(Some(e)),
                None => name.parse::<i64>().ok().map(|n| match n {
                    0 => None,
                    n => Some(errno_from_number(n)),
                }),
            }
        }
        _ => None,
    }
}

/// Linux errno numbers of the errors a connect can end with.
fn errno_from_number(n: i64) -> Errno {
    match n {
        1 => Errno::EPERM,
        13 => Errno::EACCES,
        22 => Errno::EINVAL,
        99 => Errno::EADDRNOTAVAIL,
        100 => Errno::ENETDOWN,
        101 => Errno::ENETUNREACH,
        104 => Errno::ECONNRESET,
        110 => Errno::ETIMEDOUT,
        111 => Errno::ECONNREFUSED,
        112 => Errno::EHOSTDOWN,
        113 => Errno::EHOSTUNREACH,
        _ => Errno::OTHER,
    }
}

fn is_ipv6_level(level: &str) -> bool {
    matches!(level, "SOL_IPV6" | "IPPROTO_IPV6")
}
