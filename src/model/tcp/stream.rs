//! TCP transfers: send and receive on a connection's byte streams.

use std::ops::ControlFlow;

use super::{ConnId, Connection, Side};
use crate::fold::SocketEvent;
use crate::model::exchange::PeerRead;
use crate::model::socket::SockState;
use crate::model::{ended_at, DeviationKind, Model, Verdict, WaitKey, WaitReason, CLOCK_MARGIN_S};
use crate::parse::{Errno, MsgFlags, Payload};
use crate::source::SockId;

/// What a reset caused by the peer's close with SO_LINGER {1, 0} is said to come from.
pub(in crate::model) const ABORTIVE_CLOSE: &str = "the peer closed abortively (SO_LINGER {1, 0})";

/// A transfer lasting this long (by `-T`) really blocked: a call with data at hand returns in
/// microseconds, and scheduling noise stays far below this.
pub(in crate::model) const BLOCKED_LONG_SECS: f64 = 0.2;

/// A TCP transfer as the model needs it: bytes moved and the content shown.
pub(in crate::model) struct Bytes<'a> {
    pub len: u64,
    pub shown: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn of(payload: &'a Payload, len: u64) -> Self {
        let cut = payload
            .shown()
            .len()
            .min(usize::try_from(len).unwrap_or(usize::MAX));
        Bytes {
            len,
            shown: &payload.shown()[..cut],
        }
    }
}

impl Model<'_> {
    /// The connection of a TCP socket for a transfer: completes a connect in progress when the
    /// transfer proves it finished (never on a retry).
    fn transfer_conn(&self, id: SockId) -> Option<ConnId> {
        self.sockets.get(&id)?.conn()
    }

    /// A transfer on a socket whose connect is in progress proves the connect completed:
    /// completes it, or returns the verdict that stops the transfer (a retry while nothing
    /// listens yet, or the forced completion towards the outside).
    fn complete_by_transfer(&mut self, ev: &SocketEvent, id: SockId) -> Option<Verdict> {
        match self.completion(id) {
            Ok(c) => match self.apply_completion(ev, id, c) {
                Verdict::Deviation(d) if d.kind == DeviationKind::Forced => {
                    Some(Verdict::Deviation(d))
                }
                Verdict::Deviation(d) => {
                    self.record_extra(d);
                    None
                }
                // Completed towards a program of its own host that no trace shows: from now
                // on the socket is outside the model, this transfer included.
                other if self.sockets.get(&id).is_some_and(|s| s.external) => Some(other),
                _ => None,
            },
            Err(reason) => Some(self.wait_for(reason, &[WaitKey::AnyListen])),
        }
    }

    /// A receive on a socket whose connect is in progress: bytes received prove the connect
    /// completed, as a send does; a connection already queued on a listener is established on
    /// an ideal network, so the connect is over whatever this receive gets. Returns the verdict
    /// that stops the receive, if any.
    fn complete_by_receive(&mut self, ev: &SocketEvent, id: SockId) -> Option<Verdict> {
        let queued = self.sockets.get(&id)?.conn().is_some();
        if !queued && !self.forcing {
            if let Some(stop) = self.complete_by_transfer(ev, id) {
                return Some(stop);
            }
        }
        if queued && self.sockets.get(&id).is_some_and(|s| s.is_connecting()) {
            // Queued on a listener at the connect: this receive ends the connect in progress.
            self.note_connect_timing(ev, id);
        }
        if let Some(s) = self.sockets.get_mut(&id).filter(|s| s.conn().is_some()) {
            s.set_state(SockState::Connected, ev, &mut self.listen_history);
        }
        None
    }

    pub(in crate::model) fn tcp_send(
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
            sock.state(),
            sock.options().sndtimeo_us,
            sock.options().send_capacity(),
        );
        if let Some(errno) = ev.call.outcome.errno {
            return self.tcp_send_failed(ev, id, errno, flags, sndtimeo);
        }
        if sock.is_connecting() && sock.conn().is_none() {
            // The send proves the connect completed: complete it, then send.
            if let Some(stop) = self.complete_by_transfer(ev, id) {
                return stop;
            }
        } else if sock.is_connecting() {
            // Queued on a listener at the connect: this send ends the connect in progress.
            self.note_connect_timing(ev, id);
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
            s.set_state(SockState::Connected, ev, &mut self.listen_history);
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
        let first_send = c.outgoing(side).stats.sent == 0 && bytes.len > 0;
        let first_answer = (side == Side::Server && first_send)
            .then_some(c.record.listener)
            .flatten();
        let dir = c.outgoing_mut(side);
        dir.push(bytes.len, bytes.shown, ev.call.loc, ev.call.time);
        let capacity = send_capacity + peer_rcvbuf;
        dir.stats.buffer_capacity = capacity;
        let overrun = !dir.overrun_reported && dir.unreceived() > capacity && peer_closed.is_none();
        if overrun {
            dir.overrun_reported = true;
        }
        let unreceived = dir.unreceived();
        if let Some(listener) = first_answer {
            self.load_answered(listener);
        }
        if first_send {
            self.queue_watch_sent(conn_id, side, ev.call.time);
        }
        if bytes.len > 0 {
            self.reading_paused.remove(&id);
        }
        if let Some(peer) = peer {
            self.touch(WaitKey::Sock(peer));
            if bytes.len > 0 {
                self.exchange_answered(peer, ev);
            }
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
        self.blocked_without_inherited_nonblock(ev, id)
    }

    /// A transfer that blocked (per `-T`) on a socket whose O_NONBLOCK a BSD accept would have
    /// passed on from its listener: the call would have returned EAGAIN there.
    pub(in crate::model) fn blocked_without_inherited_nonblock(
        &self,
        ev: &SocketEvent,
        id: SockId,
    ) -> Verdict {
        let inherited = self
            .sockets
            .get(&id)
            .is_some_and(|s| s.nonblock.on && s.nonblock.inherited);
        let Some(seconds) = ev.call.duration.filter(|d| *d >= BLOCKED_LONG_SECS) else {
            return Verdict::Accept;
        };
        if !inherited {
            return Verdict::Accept;
        }
        let blocked_ms = (seconds * 1000.0).round() as u64;
        self.deviate(
            DeviationKind::BlockedWithoutInheritedNonblock { blocked_ms },
            ev,
            id,
            Vec::new(),
            format!(
                "{} blocked {seconds:.3} s on {id}, accepted without O_NONBLOCK from a \
                 nonblocking listener (where accept passes the flag on, it returns EAGAIN)",
                ev.call.name
            ),
        )
    }

    /// Remembers a close of a connected TCP socket with SO_LINGER {1, 0}: the kernel resets the
    /// connection instead of ending it, so the peer's ECONNRESET is that program's choice.
    pub(in crate::model) fn note_abortive_close(&mut self, ev: &SocketEvent, fd: crate::parse::Fd) {
        let abortive = ev
            .sock(fd)
            .and_then(|id| self.sockets.get(&id))
            .is_some_and(|s| s.conn().is_some() && s.options().linger == Some(0));
        if abortive {
            self.abortive_closes.push(ev.call.loc);
        }
    }

    fn peer_rcvbuf(&self, conn: ConnId, id: SockId) -> u64 {
        let Some(c) = self.conns.get(conn) else {
            return 0;
        };
        let peer = c.peer_of(c.side_of(id)).or(c.record.listener);
        peer.and_then(|p| self.sockets.get(&p))
            .map_or(crate::model::options::TCP_RCVBUF_AUTOTUNE_MAX, |s| {
                s.options().receive_capacity()
            })
    }

    /// What a failed send and a failed receive decide alike: a would-block result is judged by
    /// the socket's blocking mode (`timeout` is its SO_SNDTIMEO or SO_RCVTIMEO), an interrupted
    /// call changes nothing. Otherwise the socket's connection, for the rules of each errno.
    fn tcp_failure_first(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
        flags: MsgFlags,
        timeout: i64,
    ) -> ControlFlow<Verdict, Option<ConnId>> {
        if errno.is_would_block() {
            return ControlFlow::Break(self.would_block(ev, id, flags.dontwait, timeout));
        }
        if errno.is_restart() {
            return ControlFlow::Break(Verdict::Accept);
        }
        ControlFlow::Continue(self.sockets.get(&id).and_then(|s| s.conn()))
    }

    /// How long after the end of `ev` (a call that saw a reset) the peer of `side` closed, when
    /// the clocks show it closing more than [`CLOCK_MARGIN_S`] later: a close that late cannot
    /// have caused the reset, which came from the path while both ends were open (a firewall's
    /// `REJECT --reject-with tcp-reset`, a middlebox). The peer's close time is when it chose to
    /// read no more (`Counters::shut_by_receiver`), kept only for a close it made.
    fn peer_closed_after(&self, ev: &SocketEvent, c: &Connection, side: Side) -> Option<f64> {
        c.peer_closed(side)?;
        let peer = c.peer_of(side)?;
        if !self
            .topology
            .clocks_comparable(ev.call.loc.trace, peer.trace)
        {
            return None;
        }
        let closed_at = c.outgoing(side).stats.shut_by_receiver?.at?;
        // Without `-T`, the next line bounds when the call returned: a blocking read that
        // waited for the close that reset it ended after that close, whatever its start says.
        let returned = match ev.call.duration {
            Some(_) => ended_at(ev)?,
            None => ev.returned_by.or(ev.call.time)?,
        };
        let later = closed_at - returned;
        (later > CLOCK_MARGIN_S).then_some(later)
    }

    /// A reset the peer's close, `later` seconds after it by the clocks, did not cause.
    fn reset_by_the_path(&mut self, ev: &SocketEvent, id: SockId, later: f64) -> Verdict {
        self.deviate(
            DeviationKind::ConnectionReset,
            ev,
            id,
            Vec::new(),
            format!(
                "connection reset while both ends were open (the peer closed {later:.3} s \
                 later by the clocks)"
            ),
        )
    }

    /// EPIPE or ECONNRESET while the peer's close is not ordered: retry (`waiting` says why)
    /// until it is; forced, a reset while both ends were open (`detail`).
    fn reset_before_peer_close(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        waiting: String,
        detail: String,
    ) -> Verdict {
        if !self.forcing {
            return self.wait_for(waiting, &[WaitKey::Sock(id)]);
        }
        self.deviate(DeviationKind::ConnectionReset, ev, id, Vec::new(), detail)
    }

    fn tcp_send_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
        flags: MsgFlags,
        sndtimeo: i64,
    ) -> Verdict {
        let conn = match self.tcp_failure_first(ev, id, errno, flags, sndtimeo) {
            ControlFlow::Break(verdict) => return verdict,
            ControlFlow::Continue(conn) => conn,
        };
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
        if errno == Errno::EPIPE && c.outgoing(side).stats.closed_by_sender {
            // Linux answers EPIPE after its own shutdown(SHUT_WR), whatever the peer did.
            return Verdict::Accept;
        }
        if errno == Errno::ECONNRESET {
            if let Some(later) = self.peer_closed_after(ev, c, side) {
                // As for a receive: a send sees the reset that came first, and the peer's
                // close came too late by the clocks to be that reset.
                return self.reset_by_the_path(ev, id, later);
            }
        }
        if let Some(closed) = c.peer_closed(side) {
            if errno == Errno::ECONNRESET && self.abortive_closes.contains(&closed) {
                // Linux fails the first call after a reset arrives with ECONNRESET, a send as a
                // receive. After an abortive close that reset is the close itself, sent at once,
                // not the peer's answer to this send: the connection was reset, whichever call
                // happened to see it first.
                return self.deviate(
                    DeviationKind::ConnectionReset,
                    ev,
                    id,
                    vec![closed],
                    format!("connection reset: {ABORTIVE_CLOSE}"),
                );
            }
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
        self.reset_before_peer_close(
            ev,
            id,
            format!("send failed with {errno} but the peer's close is not ordered yet"),
            format!("send failed with {errno} while both ends were open"),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(in crate::model) fn tcp_recv(
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
        let rcvtimeo = sock.options().rcvtimeo_us;
        let state = sock.state();
        if let Some(errno) = ev.call.outcome.errno {
            return self.tcp_recv_failed(ev, id, errno, flags, rcvtimeo);
        }
        if state == SockState::Connecting {
            if let Some(stop) = self.complete_by_receive(ev, id) {
                return stop;
            }
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
            // End of stream: only after the sender closed or shut down, with nothing in flight,
            // or after this side's own shutdown of reading (whatever the peer does).
            if incoming.stats.shut_by_receiver.is_some() {
                return Verdict::Accept;
            }
            if sender_done && unreceived == 0 {
                if side == Side::Server {
                    if let Some(c) = self.conns.get_mut(conn_id) {
                        c.server_read_eof = true;
                    }
                }
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
            let reason = WaitReason::Bytes {
                wanted: bytes.len,
                in_flight: unreceived,
                sock: id,
            };
            return self.wait_with(reason, &[WaitKey::Sock(id)]);
        }
        let mismatch = !missing && exact_content && !flags.trunc && !incoming.agrees(bytes.shown);
        if let Some(sender) = self.conns.get(conn_id).and_then(|c| c.peer_of(side)) {
            if bytes.len > 0 && !flags.peek {
                self.exchange_delivered(sender, id, PeerRead::Stream(conn_id), ev);
            }
        }
        let Some(c) = self.conns.get_mut(conn_id) else {
            return Verdict::NotModelled;
        };
        if let Some(s) = self.sockets.get_mut(&id) {
            s.set_state(SockState::Connected, ev, &mut self.listen_history);
        }
        let first_answer =
            side == Side::Client && bytes.len > 0 && c.incoming(side).stats.received == 0;
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
        if first_answer {
            self.queue_watch_answered(conn_id, ended_at(ev));
        }
        self.blocked_without_inherited_nonblock(ev, id)
    }

    fn tcp_recv_failed(
        &mut self,
        ev: &SocketEvent,
        id: SockId,
        errno: Errno,
        flags: MsgFlags,
        rcvtimeo: i64,
    ) -> Verdict {
        let conn = match self.tcp_failure_first(ev, id, errno, flags, rcvtimeo) {
            ControlFlow::Break(verdict) => return verdict,
            ControlFlow::Continue(conn) => conn,
        };
        match errno {
            Errno::ENOTCONN if conn.is_none() => Verdict::Accept,
            Errno::ECONNRESET => {
                let Some(c) = conn.and_then(|c| self.conns.get(c)) else {
                    return Verdict::Accept;
                };
                let side = c.side_of(id);
                if let Some(later) = self.peer_closed_after(ev, c, side) {
                    // The replay may place the peer's close first (the receive waited for it),
                    // but the clocks put it after the reset: the close did not cause it.
                    return self.reset_by_the_path(ev, id, later);
                }
                if let Some(closed) = c.peer_closed(side) {
                    // Still a reset the program saw; the detail says what the peer did to cause it.
                    let unread = c.outgoing(side).unreceived();
                    let cause = if self.abortive_closes.contains(&closed) {
                        ABORTIVE_CLOSE.to_string()
                    } else if c.reset_by_listener == Some(closed) {
                        "the listener closed before accepting the connection".to_string()
                    } else if unread > 0 {
                        format!("the peer closed with {unread} bytes it never read")
                    } else {
                        "the peer had closed".to_string()
                    };
                    return self.deviate(
                        DeviationKind::ConnectionReset,
                        ev,
                        id,
                        vec![closed],
                        format!("connection reset: {cause}"),
                    );
                }
                self.reset_before_peer_close(
                    ev,
                    id,
                    "connection reset before the peer's close".into(),
                    "connection reset while both ends were open".into(),
                )
            }
            e => self.unexpected_failure(ev, id, e),
        }
    }
}
