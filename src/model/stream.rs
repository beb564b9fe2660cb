//! TCP calls: connect (and its asynchronous completion), accept, send and receive.

use std::net::SocketAddr;

use super::options::Nonblock;
use super::socket::{Proto, SockState, Socket};
use super::tcp::{ConnId, Connection};
use super::{DeviationKind, Model, Target, Verdict, WaitKey};
use crate::config::matching::Role;
use crate::fold::SocketEvent;
use crate::parse::{Errno, Fd, MsgFlags, Payload, SockAddr};
use crate::source::SockId;

/// How a connect in progress completes.
enum Completion {
    /// The connection was queued on a listener when the connect started.
    Queued,
    /// A listener exists now.
    To(SockId, SocketAddr),
    /// Forced: nothing traced listens there; treated as an endpoint outside the model.
    Outside,
}

/// A TCP transfer as the model needs it: bytes moved and the content shown.
pub(super) struct Bytes<'a> {
    pub len: u64,
    pub shown: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn of(payload: &'a Payload, len: u64) -> Self {
        let cut = payload
            .shown
            .len()
            .min(usize::try_from(len).unwrap_or(usize::MAX));
        Bytes {
            len,
            shown: &payload.shown[..cut],
        }
    }
}

fn is_loopback_to_external(local: Option<SocketAddr>, target: SocketAddr) -> bool {
    local.is_some_and(|l| l.ip().is_loopback()) && !target.ip().is_loopback()
}

/// An IPv4 view of the target: a v4 address or a v4-mapped v6 one.
fn is_v4_target(target: SocketAddr) -> bool {
    match target {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    }
}

impl Model<'_> {
    /// The traced listener a connect to `target` from `client` reaches (lowest socket id among
    /// matches, so the choice never depends on hash order).
    pub(super) fn find_listener(&self, client: SockId, target: SocketAddr) -> Option<SockId> {
        self.find_listener_where(client, target, false)
    }

    fn find_listener_where(
        &self,
        client: SockId,
        target: SocketAddr,
        ignore_v6only: bool,
    ) -> Option<SockId> {
        let client_v6 = self.sockets.get(&client).is_some_and(|s| s.ipv6);
        let fits = |id: &SockId| {
            let Some(l) = self.sockets.get(id) else {
                return false;
            };
            if l.state != SockState::Listen || l.external {
                return false;
            }
            let v4_peer = !client_v6 || is_v4_target(target);
            if v4_peer && l.ipv6 && l.options.v6only && !ignore_v6only {
                return false;
            }
            if !l.ipv6 && client_v6 && !is_v4_target(target) {
                return false;
            }
            self.can_be(*id, l.local_or_any(), client.trace, target, Role::Server)
        };
        let by_port = self.listeners_by_port.get(&target.port());
        if let Some(found) = by_port.and_then(|set| set.iter().find(|id| fits(id))) {
            return Some(*found);
        }
        // A NAT or port forward may map the port: try every listener (listeners are few).
        self.listeners.iter().find(|id| fits(id)).copied()
    }

    pub(super) fn connect(&mut self, ev: &SocketEvent, fd: Fd, addr: &SockAddr) -> Verdict {
        let (id, sock) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        let target = match addr {
            SockAddr::Inet(a) => *a,
            SockAddr::Unspec => {
                // AF_UNSPEC dissolves a UDP association.
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.peer = None;
                }
                return Verdict::Accept;
            }
            _ => return Verdict::NotModelled,
        };
        if sock.proto == Proto::Udp {
            return self.udp_connect(ev, id, target);
        }
        if self.matcher.is_outside(target) {
            self.note_unknown_peer(id.trace, target);
            if let Some(s) = self.sockets.get_mut(&id) {
                s.external = true;
                s.peer = Some(target);
            }
            return Verdict::NotModelled;
        }
        let state = sock.state;
        match ev.call.outcome.errno {
            Some(e) if e == Errno::EINPROGRESS || e == Errno::EALREADY || e.is_restart() => {
                if state == SockState::Connecting {
                    return Verdict::Accept;
                }
                // An interrupted blocking connect goes on in the background: not a would-block.
                self.start_connecting(ev, id, target, e.is_restart())
            }
            Some(Errno::EISCONN) => match state {
                SockState::Connected => Verdict::Accept,
                SockState::Connecting => self.complete_connect(ev, id),
                _ => self.unexpected_failure(ev, id, Errno::EISCONN),
            },
            Some(e) if e.is_would_block() => self.would_block(ev, id, false, 0),
            Some(e) => {
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.connect_target = Some((target, ev.call.loc));
                }
                self.connect_failed(ev, id, e)
            }
            None => match state {
                SockState::Connecting => self.complete_connect(ev, id),
                SockState::Connected => self.deviate(
                    DeviationKind::UnexpectedSuccess,
                    ev,
                    id,
                    Vec::new(),
                    format!("{id} was already connected (Linux: EISCONN)"),
                ),
                _ => {
                    if let Some(s) = self.sockets.get_mut(&id) {
                        s.connect_target = Some((target, ev.call.loc));
                    }
                    let verdict = self.complete_connect(ev, id);
                    if matches!(verdict, Verdict::RetryLater(_)) {
                        if let Some(s) = self.sockets.get_mut(&id) {
                            s.connect_target = None;
                        }
                    }
                    verdict
                }
            },
        }
    }

    /// A nonblocking connect started: the kernel sends the SYN now, so the connection is queued
    /// on a listener that exists already; otherwise the outcome comes later (SO_ERROR, POLLOUT).
    fn start_connecting(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        target: SocketAddr,
        interrupted: bool,
    ) -> Verdict {
        let listener = self.find_listener(id, target);
        let local = self.sockets.get(&id).and_then(|s| s.local);
        if let Some(s) = self.sockets.get_mut(&id) {
            s.state = SockState::Connecting;
            s.peer = Some(target);
            s.connect_target = Some((target, ev.call.loc));
        }
        if let Some(listener) = listener {
            self.queue_connection(ev, id, listener, target);
        }
        if is_loopback_to_external(local, target) {
            return self.loopback_deviation(ev, id, local, target);
        }
        if interrupted {
            return Verdict::Accept;
        }
        let timeout = self.sockets.get(&id).map_or(0, |s| s.options.sndtimeo_us);
        self.would_block(ev, id, false, timeout)
    }

    fn loopback_deviation(
        &self,
        ev: &SocketEvent,
        id: SockId,
        local: Option<SocketAddr>,
        peer: SocketAddr,
    ) -> Verdict {
        let local = local.unwrap_or(peer);
        self.deviate(
            DeviationKind::LoopbackBoundExternalPeer { local, peer },
            ev,
            id,
            Vec::new(),
            format!("{id} is bound to {local} but talks to {peer} (Linux: EINVAL)"),
        )
    }

    /// Creates the connection record and queues it on the listener.
    fn queue_connection(
        &mut self,
        ev: &SocketEvent,
        client: SockId,
        listener: SockId,
        target: SocketAddr,
    ) -> ConnId {
        let conn_id = self.conns.len();
        let mut conn = Connection::new(client, Some(listener), ev.call.loc);
        conn.client_view = (
            self.sockets.get(&client).and_then(|s| s.local),
            Some(target),
        );
        conn.server_view.0 = self.sockets.get(&listener).and_then(|s| s.local);
        self.conns.push(conn);
        if let Some(s) = self.sockets.get_mut(&client) {
            s.conn = Some(conn_id);
            s.peer = Some(target);
        }
        if let Some(l) = self.sockets.get_mut(&listener) {
            l.pending.push_back(conn_id);
        }
        self.touch(WaitKey::Sock(listener));
        conn_id
    }

    fn completion(&self, id: SockId) -> Result<Completion, String> {
        let Some(sock) = self.sockets.get(&id) else {
            return Err("socket unknown".into());
        };
        if sock.conn.is_some() {
            return Ok(Completion::Queued);
        }
        let Some((target, _)) = sock.connect_target else {
            return Err(format!("{id} has no connect in progress"));
        };
        match self.find_listener(id, target) {
            Some(listener) => Ok(Completion::To(listener, target)),
            None if self.forcing => Ok(Completion::Outside),
            None => Err(format!("no traced socket listens at {target} yet")),
        }
    }

    /// Evidence that a connect completed (success return, SO_ERROR 0, POLLOUT, EISCONN).
    pub(super) fn complete_connect(&mut self, ev: &SocketEvent, id: SockId) -> Verdict {
        match self.completion(id) {
            Ok(c) => self.apply_completion(ev, id, c),
            Err(reason) => self.wait_for(reason, &[WaitKey::AnyListen]),
        }
    }

    fn apply_completion(&mut self, ev: &SocketEvent, id: SockId, c: Completion) -> Verdict {
        let local = self.sockets.get(&id).and_then(|s| s.local);
        let target = self
            .sockets
            .get(&id)
            .and_then(|s| s.connect_target.map(|t| t.0));
        match c {
            Completion::Queued => {}
            Completion::To(listener, target) => {
                self.queue_connection(ev, id, listener, target);
            }
            Completion::Outside => {
                if let Some(s) = self.sockets.get_mut(&id) {
                    s.external = true;
                }
                let detail = format!(
                    "{id} connected to {} where no traced socket listens; treated as outside",
                    target.map_or("?".into(), |t| t.to_string())
                );
                return self.deviate(DeviationKind::Forced, ev, id, Vec::new(), detail);
            }
        }
        if let Some(s) = self.sockets.get_mut(&id) {
            s.state = SockState::Connected;
        }
        match target {
            Some(t) if is_loopback_to_external(local, t) => {
                self.loopback_deviation(ev, id, local, t)
            }
            _ => Verdict::Accept,
        }
    }

    /// A connect ended with `errno` (returned directly or through SO_ERROR).
    pub(super) fn connect_failed(&mut self, ev: &SocketEvent, id: SockId, errno: Errno) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let Some((target, _)) = sock.connect_target else {
            return self.unexpected_failure(ev, id, errno);
        };
        let local = sock.local;
        let listener = self.find_listener(id, target);
        // The failed attempt leaves the socket as it was before connect.
        let back_to = if local.is_some() {
            SockState::Bound
        } else {
            SockState::Created
        };
        let queued = sock.conn;
        if let Some(s) = self.sockets.get_mut(&id) {
            s.state = back_to;
            s.conn = None;
            s.connect_target = None;
        }
        if let Some(conn) = queued {
            self.drop_queued(conn);
        }
        if is_loopback_to_external(local, target) {
            return self.loopback_deviation(ev, id, local, target);
        }
        if errno == Errno::ECONNREFUSED && listener.is_none() {
            if let Some(v6only) = self.find_listener_where(id, target, true) {
                return self.deviate(
                    DeviationKind::IpVersionMismatch,
                    ev,
                    id,
                    self.sockets
                        .get(&v6only)
                        .and_then(|l| l.listen_loc)
                        .into_iter()
                        .collect(),
                    format!("IPv4 connect to {target}, but {v6only} listens IPv6-only"),
                );
            }
        }
        let known_errors = [
            Errno::ECONNREFUSED,
            Errno::ETIMEDOUT,
            Errno::EHOSTUNREACH,
            Errno::ENETUNREACH,
            Errno::EHOSTDOWN,
            Errno::ENETDOWN,
            Errno::EACCES,
            Errno::EPERM,
            Errno::ECONNRESET,
            Errno::EADDRNOTAVAIL,
            Errno::EINVAL,
        ];
        if !known_errors.contains(&errno) {
            return self.unexpected_failure(ev, id, errno);
        }
        let related = listener
            .and_then(|l| self.sockets.get(&l))
            .and_then(|l| l.listen_loc)
            .into_iter()
            .collect();
        let detail = match listener {
            Some(l) => {
                format!("connect to {target} failed with {errno} although {l} listens there")
            }
            None => {
                format!("connect to {target} failed with {errno}; no traced socket listens there")
            }
        };
        self.deviate(
            DeviationKind::ConnectFailed {
                errno,
                target,
                listener,
            },
            ev,
            id,
            related,
            detail,
        )
    }

    /// Removes a connection that never got established from its listener's queue.
    fn drop_queued(&mut self, conn: ConnId) {
        let Some(listener) = self.conns.get(conn).and_then(|c| c.listener) else {
            return;
        };
        if let Some(l) = self.sockets.get_mut(&listener) {
            l.pending.retain(|c| *c != conn);
        }
    }

    pub(super) fn accept(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        peer: Option<&SockAddr>,
        nonblock: bool,
        new_fd: Option<Fd>,
    ) -> Verdict {
        let (listener_id, listener) = match self.target(ev, fd) {
            Target::Sock(id, s) => (id, s),
            Target::Skip(v) => return v,
        };
        if let Some(errno) = ev.call.outcome.errno {
            return match errno {
                e if e.is_would_block() => {
                    let timeout = listener.options.rcvtimeo_us;
                    self.would_block(ev, listener_id, false, timeout)
                }
                e if e.is_restart() || e == Errno::ECONNABORTED => Verdict::Accept,
                e => self.unexpected_failure(ev, listener_id, e),
            };
        }
        let Some(new_id) = new_fd.and_then(|fd| ev.sock(fd)) else {
            return Verdict::NotModelled;
        };
        let peer = peer.and_then(SockAddr::inet);
        let mut accepted = Socket::new(new_id, listener.host, Proto::Tcp, listener.ipv6);
        accepted.options = listener.options.clone();
        accepted.local = listener.local;
        accepted.peer = peer;
        accepted.state = SockState::Connected;
        // Linux does not pass O_NONBLOCK on to accepted sockets, BSD and Windows do: remember
        // that the flag only came from the listener.
        accepted.nonblock = if nonblock {
            Nonblock::explicit(true)
        } else if listener.nonblock.on {
            Nonblock {
                on: true,
                inherited: true,
            }
        } else {
            Nonblock::default()
        };
        if let Some(p) = peer.filter(|p| self.matcher.is_outside(*p)) {
            self.note_unknown_peer(new_id.trace, p);
            accepted.external = true;
            self.sockets.insert(new_id, accepted);
            return Verdict::NotModelled;
        }
        let position = listener.pending.iter().position(|conn| {
            let Some(c) = self.conns.get(*conn) else {
                return false;
            };
            // The client's address as it was when it connected (the client may be closed).
            match (peer, c.client_view.0) {
                (Some(p), Some(client_local)) if client_local.port() != 0 => {
                    self.can_be(c.client, client_local, listener_id.trace, p, Role::Client)
                }
                // Ephemeral port unknown: at least the peer's IP must be the client host's (or
                // nobody's, e.g. a NAT's public address).
                (Some(p), _) => {
                    let owners = self.traces_behind(p);
                    owners.is_empty() || owners.contains(&c.client.trace)
                }
                (None, _) => true,
            }
        });
        let Some(position) = position else {
            if !self.forcing {
                let reason = match listener.pending.len() {
                    0 => format!("no connection waiting on {listener_id}"),
                    n => format!("none of the {n} connections waiting on {listener_id} is from the accepted peer"),
                };
                return self.wait_for(reason, &[WaitKey::Sock(listener_id)]);
            }
            // Blocked: no traced connect can supply this connection (NAT, port forwarding, or
            // an untraced client).
            let local = listener.local.unwrap_or_else(|| listener.local_or_any());
            accepted.external = true;
            self.sockets.insert(new_id, accepted);
            return match peer {
                Some(p) => {
                    self.note_unknown_peer(new_id.trace, p);
                    self.deviate(
                        DeviationKind::AcceptFromUnknownPeer { peer: p, local },
                        ev,
                        new_id,
                        Vec::new(),
                        format!("{listener_id} accepted {p}, which no traced connect matches"),
                    )
                }
                None => self.deviate(
                    DeviationKind::Forced,
                    ev,
                    new_id,
                    Vec::new(),
                    format!("{listener_id} accepted a connection no traced connect matches"),
                ),
            };
        };
        let Some(conn_id) = self
            .sockets
            .get_mut(&listener_id)
            .and_then(|l| l.pending.remove(position))
        else {
            return Verdict::NotModelled;
        };
        let mut client = None;
        if let Some(c) = self.conns.get_mut(conn_id) {
            c.server = Some(new_id);
            c.accept_loc = Some(ev.call.loc);
            c.server_view = (accepted.local, peer);
            client = Some(c.client);
            if accepted.peer.is_none() {
                accepted.peer = c.client_view.0;
            }
        }
        accepted.conn = Some(conn_id);
        self.sockets.insert(new_id, accepted);
        if let Some(client) = client {
            self.touch(WaitKey::Sock(client));
        }
        Verdict::Accept
    }

    /// The connection of a TCP socket for a transfer: completes a connect in progress when the
    /// transfer proves it finished (never on a retry).
    fn transfer_conn(&self, id: SockId) -> Option<ConnId> {
        let s = self.sockets.get(&id)?;
        match s.state {
            SockState::Connected | SockState::Connecting => s.conn,
            _ => None,
        }
    }

    pub(super) fn tcp_send(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        bytes: Bytes<'_>,
        flags: MsgFlags,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let (state, sndtimeo, send_capacity) = (
            sock.state,
            sock.options.sndtimeo_us,
            sock.options.send_capacity(),
        );
        if let Some(errno) = ev.call.outcome.errno {
            return self.tcp_send_failed(ev, id, errno, flags, sndtimeo);
        }
        if state == SockState::Connecting && sock.conn.is_none() {
            // The send proves the connect completed: complete it, then send.
            match self.completion(id) {
                Ok(c) => {
                    if let Verdict::Deviation(d) = self.apply_completion(ev, id, c) {
                        if d.kind == DeviationKind::Forced {
                            return Verdict::Deviation(d);
                        }
                        self.record_extra(d);
                    }
                }
                Err(reason) => return self.wait_for(reason, &[WaitKey::AnyListen]),
            }
        }
        let Some(conn_id) = self.transfer_conn(id) else {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("send on a {state} socket succeeded (Linux: ENOTCONN/EPIPE)"),
            );
        };
        if let Some(s) = self.sockets.get_mut(&id) {
            s.state = SockState::Connected;
        }
        if flags.oob {
            self.note_unsupported("MSG_OOB".into());
        }
        let peer_rcvbuf = self.peer_rcvbuf(conn_id, id);
        let Some(c) = self.conns.get_mut(conn_id) else {
            return Verdict::NotModelled;
        };
        let side = c.side_of(id);
        let peer_closed = c.peer_closed(side);
        let shut_down = c.outgoing(side).stats.closed_by_sender;
        let peer = c.peer_of(side);
        let dir = c.outgoing_mut(side);
        dir.push(bytes.len, bytes.shown, ev.call.loc);
        let capacity = send_capacity + peer_rcvbuf;
        dir.stats.buffer_capacity = capacity;
        let overrun = !dir.overrun_reported && dir.unreceived() > capacity && peer_closed.is_none();
        if overrun {
            dir.overrun_reported = true;
        }
        let unreceived = dir.unreceived();
        if let Some(peer) = peer {
            self.touch(WaitKey::Sock(peer));
        }
        if shut_down {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("send after {id} shut down writing (Linux: EPIPE)"),
            );
        }
        if let Some(closed) = peer_closed {
            return self.deviate(
                DeviationKind::SendAfterPeerClosed { errno: None },
                ev,
                id,
                vec![closed],
                format!("{} bytes sent after the peer closed", bytes.len),
            );
        }
        if overrun {
            return self.deviate(
                DeviationKind::BufferOverrun {
                    unreceived,
                    capacity,
                },
                ev,
                id,
                Vec::new(),
                format!("{unreceived} bytes unreceived, buffers hold {capacity}"),
            );
        }
        Verdict::Accept
    }

    fn peer_rcvbuf(&self, conn: ConnId, id: SockId) -> u64 {
        let Some(c) = self.conns.get(conn) else {
            return 0;
        };
        let peer = c.peer_of(c.side_of(id)).or(c.listener);
        peer.and_then(|p| self.sockets.get(&p))
            .map_or(super::options::TCP_RCVBUF_AUTOTUNE_MAX, |s| {
                s.options.receive_capacity()
            })
    }

    fn tcp_send_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
        flags: MsgFlags,
        sndtimeo: i64,
    ) -> Verdict {
        if errno.is_would_block() {
            return self.would_block(ev, id, flags.dontwait, sndtimeo);
        }
        if errno.is_restart() {
            return Verdict::Accept;
        }
        let conn = self.sockets.get(&id).and_then(|s| s.conn);
        if !matches!(errno, Errno::EPIPE | Errno::ECONNRESET) {
            if errno == Errno::ENOTCONN && conn.is_none() {
                return Verdict::Accept;
            }
            return self.unexpected_failure(ev, id, errno);
        }
        let Some(c) = conn.and_then(|c| self.conns.get(c)) else {
            return Verdict::Accept; // never connected: EPIPE is what Linux says
        };
        let side = c.side_of(id);
        if let Some(closed) = c.peer_closed(side) {
            return self.deviate(
                DeviationKind::SendAfterPeerClosed { errno: Some(errno) },
                ev,
                id,
                vec![closed],
                format!("send failed with {errno} after the peer closed"),
            );
        }
        if c.outgoing(side).stats.closed_by_sender {
            return Verdict::Accept; // own shutdown(SHUT_WR): EPIPE expected
        }
        if !self.forcing {
            return self.wait_for(
                format!("send failed with {errno} but the peer's close is not ordered yet"),
                &[WaitKey::Sock(id)],
            );
        }
        self.deviate(
            DeviationKind::ConnectionReset,
            ev,
            id,
            Vec::new(),
            format!("send failed with {errno} while both ends were open"),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn tcp_recv(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        bytes: Bytes<'_>,
        buf_len: u64,
        flags: MsgFlags,
        exact_content: bool,
    ) -> Verdict {
        let Some(sock) = self.sockets.get(&id) else {
            return Verdict::NotModelled;
        };
        let rcvtimeo = sock.options.rcvtimeo_us;
        let state = sock.state;
        if let Some(errno) = ev.call.outcome.errno {
            return self.tcp_recv_failed(ev, id, errno, flags, rcvtimeo);
        }
        let Some(conn_id) = self.transfer_conn(id) else {
            if state == SockState::Connecting {
                if self.forcing {
                    if let Some(s) = self.sockets.get_mut(&id) {
                        s.external = true;
                    }
                    return self.deviate(
                        DeviationKind::Forced,
                        ev,
                        id,
                        Vec::new(),
                        "received on a connection no traced listener accepted".into(),
                    );
                }
                return self.wait_for(
                    format!("the connect of {id} has not completed"),
                    &[WaitKey::AnyListen, WaitKey::Sock(id)],
                );
            }
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("receive on a {state} socket succeeded (Linux: ENOTCONN)"),
            );
        };
        let forcing = self.forcing;
        let Some(c) = self.conns.get(conn_id) else {
            return Verdict::NotModelled;
        };
        let side = c.side_of(id);
        let incoming = c.incoming(side);
        let sender_done = c.peer_closed(side).is_some() || incoming.stats.closed_by_sender;
        let unreceived = incoming.unreceived();
        let desync = incoming.desync;
        if bytes.len == 0 && buf_len > 0 {
            // End of stream: only after the sender closed or shut down, with nothing in flight.
            if sender_done && unreceived == 0 {
                return Verdict::Accept;
            }
            if sender_done {
                return self.deviate(
                    DeviationKind::DataMismatch,
                    ev,
                    id,
                    Vec::new(),
                    format!("end of stream with {unreceived} bytes sent but never received"),
                );
            }
            if !forcing {
                return self.wait_for(
                    "end of stream before the peer's close".into(),
                    &[WaitKey::Sock(id)],
                );
            }
            if let Some(c) = self.conns.get_mut(conn_id) {
                c.incoming_mut(side).stats.closed_by_sender = true;
            }
            return self.deviate(
                DeviationKind::Forced,
                ev,
                id,
                Vec::new(),
                "end of stream although the peer never closed".into(),
            );
        }
        if bytes.len > buf_len && buf_len > 0 && !flags.trunc {
            return self.deviate(
                DeviationKind::UnexpectedSuccess,
                ev,
                id,
                Vec::new(),
                format!("received {} bytes into a {buf_len}-byte buffer", bytes.len),
            );
        }
        let missing = bytes.len > unreceived && !desync;
        if missing && !forcing {
            return self.wait_for(
                format!(
                    "waiting for {} bytes, {unreceived} in flight to {id}",
                    bytes.len
                ),
                &[WaitKey::Sock(id)],
            );
        }
        let mismatch = !missing && exact_content && !flags.trunc && !incoming.agrees(bytes.shown);
        let Some(c) = self.conns.get_mut(conn_id) else {
            return Verdict::NotModelled;
        };
        if let Some(s) = self.sockets.get_mut(&id) {
            s.state = SockState::Connected;
        }
        let dir = c.incoming_mut(side);
        if flags.peek && !missing && !mismatch {
            return Verdict::Accept;
        }
        dir.consume(bytes.len);
        if missing {
            dir.forget_content();
            return self.deviate(
                DeviationKind::UnknownData,
                ev,
                id,
                Vec::new(),
                format!(
                    "received {} bytes, only {unreceived} were sent by a traced call",
                    bytes.len
                ),
            );
        }
        if mismatch {
            let last_send = dir.stats.last_send;
            dir.forget_content();
            return self.deviate(
                DeviationKind::DataMismatch,
                ev,
                id,
                last_send.into_iter().collect(),
                "received bytes differ from the bytes sent; content no longer compared".into(),
            );
        }
        Verdict::Accept
    }

    fn tcp_recv_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
        flags: MsgFlags,
        rcvtimeo: i64,
    ) -> Verdict {
        if errno.is_would_block() {
            return self.would_block(ev, id, flags.dontwait, rcvtimeo);
        }
        if errno.is_restart() {
            return Verdict::Accept;
        }
        let conn = self.sockets.get(&id).and_then(|s| s.conn);
        match errno {
            Errno::ENOTCONN if conn.is_none() => Verdict::Accept,
            Errno::ECONNRESET => {
                let Some(c) = conn.and_then(|c| self.conns.get(c)) else {
                    return Verdict::Accept;
                };
                // A reset follows the peer's close with unread data (or SO_LINGER 0).
                if c.peer_closed(c.side_of(id)).is_some() {
                    return Verdict::Accept;
                }
                if !self.forcing {
                    return self.wait_for(
                        "connection reset before the peer's close".into(),
                        &[WaitKey::Sock(id)],
                    );
                }
                self.deviate(
                    DeviationKind::ConnectionReset,
                    ev,
                    id,
                    Vec::new(),
                    "connection reset while both ends were open".into(),
                )
            }
            e => self.unexpected_failure(ev, id, e),
        }
    }
}
