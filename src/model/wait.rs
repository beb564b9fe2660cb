//! Readiness waits: select, pselect6, poll, ppoll and the epoll_wait family.
//!
//! A descriptor reported readable must have something to read (bytes, end of stream, a waiting
//! connection, a datagram): otherwise the wait is retried until the peer's action is ordered. A
//! descriptor reported writable while a nonblocking connect is in progress tells only that the
//! connect has ended, successfully or not (Linux reports a failed connect writable too): the
//! program learns which from getsockopt(SO_ERROR), a second connect, or a transfer. A wait that
//! returns nothing although data was waiting for a socket it watched is a deviation (data "in
//! the air" that the network did not deliver).

use super::round_trips::MIN_BLOCKED;
use super::socket::{Proto, SockState};
use super::{DeviationKind, Model, TimedOutWait, Verdict, WaitKey};
use crate::fold::SocketEvent;
use crate::parse::{EpollOp, Fd, Ready, WaitFd};
use crate::source::SockId;

impl Model<'_> {
    /// Is there something for `id` to read (as far as the model knows)?
    fn readable(&self, id: SockId) -> Option<bool> {
        let sock = self.sockets.get(&id)?;
        if sock.external {
            return None;
        }
        match (sock.proto, sock.state()) {
            // A host declared without a trace may connect at any time: an empty queue proves
            // nothing then.
            (Proto::Tcp, SockState::Listen) if sock.pending().is_empty() => {
                (!self.matcher.has_unobserved_host()).then_some(false)
            }
            (Proto::Tcp, SockState::Listen) => Some(true),
            (Proto::Tcp, SockState::Connected) => {
                let c = self.conns.get(sock.conn()?)?;
                let side = c.side_of(id);
                let incoming = c.incoming(side);
                Some(
                    incoming.unreceived() > 0
                        || incoming.desync
                        || incoming.stats.closed_by_sender
                        || c.peer_closed(side).is_some(),
                )
            }
            (Proto::Udp, _) => {
                let port = sock.local.map(|l| l.port()).filter(|p| *p != 0)?;
                let queued = self
                    .flows
                    .anything_for(port, id, |f| self.receives(id, None, f));
                // Likewise a datagram may come from a host declared without a trace.
                (queued || !self.matcher.has_unobserved_host()).then_some(queued)
            }
            // Connecting (readable with an error), created, bound: nothing to judge.
            _ => None,
        }
    }

    /// epoll_ctl: remember which sockets an epoll instance watches, for its timeouts.
    pub(super) fn epoll_ctl(
        &mut self,
        ev: &SocketEvent,
        epfd: Fd,
        op: EpollOp,
        fd: Fd,
        wanted: Ready,
    ) -> Verdict {
        let Some(id) = ev.sock(fd) else {
            return Verdict::NotModelled;
        };
        if !ev.call.outcome.is_success() {
            return Verdict::Accept;
        }
        let interest = self
            .epoll_interest
            .entry((ev.call.loc.trace, epfd))
            .or_default();
        if op == EpollOp::Del {
            interest.remove(&id);
        } else {
            interest.insert(id, wanted);
        }
        if op == EpollOp::Del || !wanted.read {
            self.reading_paused.insert(id);
        }
        Verdict::Accept
    }

    pub(super) fn wait(
        &mut self,
        ev: &SocketEvent,
        fds: &[WaitFd],
        timeout_ms: Option<i64>,
        epoll_fd: Option<Fd>,
    ) -> Verdict {
        if ev.call.outcome.never_returned() {
            return self.wait_never_returned(ev, fds, epoll_fd);
        }
        if !ev.call.outcome.is_success() {
            return Verdict::Accept;
        }
        if let (Some(epfd), Some(0)) = (epoll_fd, ev.call.outcome.value) {
            return self.epoll_timeout(ev, epfd, timeout_ms);
        }
        // A socket watched for reading and not reported readable was empty then: from now on
        // its program is looking for what comes (see `Model::reading_paused`).
        for w in fds.iter().filter(|w| w.wanted.read && !w.got.read) {
            if let Some(id) = ev.sock(w.fd) {
                self.reading_paused.remove(&id);
            }
        }
        let watched = || {
            fds.iter()
                .filter_map(|w| Some((w, ev.sock(w.fd)?)))
                .filter(|(_, id)| self.sockets.get(id).is_some_and(|s| !s.external))
        };
        let nothing_ready = ev.call.outcome.value == Some(0)
            || fds.iter().all(|w| {
                !(w.got.read || w.got.write || w.got.error || w.got.hangup || w.got.other)
            });
        if nothing_ready {
            let all_read_watched: Vec<(SockId, bool)> = fds
                .iter()
                .filter(|w| w.wanted.read)
                .filter_map(|w| Some((ev.sock(w.fd)?, w.wanted.edge_triggered)))
                .collect();
            let read_watched: Vec<SockId> = watched()
                .filter(|(w, _)| w.wanted.read)
                .map(|(_, id)| id)
                .collect();
            if timeout_ms != Some(0) {
                self.exchanges_waited_in_vain(&all_read_watched, ev, epoll_fd.is_none());
                let write_watched: Vec<SockId> = fds
                    .iter()
                    .filter(|w| w.wanted.write)
                    .filter_map(|w| ev.sock(w.fd))
                    .collect();
                self.exchanges_found_no_room(&write_watched, ev);
                self.connects_not_done(&write_watched);
            } else {
                self.exchanges_polled_in_vain(&all_read_watched, ev, epoll_fd.is_none());
            }
            // Timed out: was anything waiting for a socket watched for reading?
            let missed: Vec<SockId> = read_watched
                .iter()
                .copied()
                .filter(|id| self.readable(*id) == Some(true))
                .collect();
            self.note_timed_out_wait(ev, &read_watched);
            if epoll_fd.is_none() {
                // The socket's queue was empty when the wait gave up (on this host's clock).
                self.stall_watch_waited(ev, fds);
            }
            return self.missed(ev, &missed);
        }
        // Ready: check everything before changing anything. A writable report on a connect in
        // progress changes nothing (see the module comment).
        let mut waits = Vec::new();
        let mut resets = Vec::new();
        let mut errored = Vec::new();
        let mut ready = Vec::new();
        for (w, id) in watched() {
            if !self.sockets.contains_key(&id) {
                continue;
            }
            if w.got.read {
                ready.push(id);
            }
            let failed = w.got.error || w.got.hangup;
            if w.got.read && !failed && self.readable(id) == Some(false) {
                waits.push(id);
            }
            if w.got.error {
                errored.push(id);
                if self.reset_by_a_later_close(id) {
                    resets.push(id);
                }
            }
        }
        if !self.forcing {
            if let Some(retry) = self.retry_ready_wait(&resets, &waits) {
                return retry;
            }
        }
        let writable: Vec<SockId> = fds
            .iter()
            .filter(|w| w.got.write)
            .filter_map(|w| ev.sock(w.fd))
            .collect();
        self.exchanges_writable(&writable);
        // A connect in progress reported writable, in error or hung up has ended: from now on
        // SO_ERROR 0 means it succeeded (see `Socket::connect_reported`).
        for w in fds
            .iter()
            .filter(|w| w.got.write || w.got.error || w.got.hangup)
        {
            if let Some(s) = ev.sock(w.fd).and_then(|id| self.sockets.get_mut(&id)) {
                let timed_out = s.connect_timed_out();
                s.note_connect_reported(w.got.error && w.got.hangup);
                // Its connection may be accepted again (see `queued_conn_can_be_from`).
                if let Some(listener) = s
                    .conn()
                    .filter(|_| timed_out)
                    .and_then(|c| self.conns.get(c))
                    .and_then(|c| c.record.listener)
                {
                    self.touch(WaitKey::Sock(listener));
                }
            }
        }
        // An event loop's epoll set multiplexes many streams (HTTP/2, gRPC): only a wait that
        // names the socket shows the program waiting for this answer.
        if epoll_fd.is_none() {
            self.stall_watch_waited(ev, fds);
            // Sockets whose peer no trace shows too: when their answer arrived is this wait's.
            let readable: Vec<SockId> = fds
                .iter()
                .filter(|w| w.got.read)
                .filter_map(|w| ev.sock(w.fd))
                .collect();
            self.exchanges_ready(&readable, ev);
            self.datagram_waits_woken_by_others(ev, fds);
        }
        for id in errored {
            self.note_wait_reset(ev, id);
        }
        let aborted_outside: Vec<SockId> = fds
            .iter()
            .filter(|w| w.got.error && w.got.hangup)
            .filter_map(|w| ev.sock(w.fd))
            .collect();
        for id in aborted_outside {
            self.note_outside_abort(ev, id);
        }
        Verdict::Accept
    }

    /// A wait that named UDP sockets for reading blocked, and returned for another descriptor
    /// with none of them readable: for each, that much waiting brought no answer (nc polls its
    /// input and its socket together; the next line it sends gives up on the last one). Only
    /// datagrams: a stream's answer may still come after the next send, a datagram exchange's
    /// is lost or late by then. Only sockets whose peer has answered before: a relay like nc
    /// watches its socket whether or not anything is to come back (one-way traffic to a sink).
    /// A wait that did not block shows no waiting.
    fn datagram_waits_woken_by_others(&mut self, ev: &SocketEvent, fds: &[WaitFd]) {
        let blocked = ev.call.duration.is_some_and(|d| d >= MIN_BLOCKED);
        if !blocked {
            return;
        }
        let not_ready: Vec<(SockId, bool)> = fds
            .iter()
            .filter(|w| w.wanted.read && !w.got.read && !w.got.error)
            .filter_map(|w| ev.sock(w.fd))
            .filter(|id| self.sockets.get(id).is_some_and(|s| s.proto == Proto::Udp))
            .filter(|id| self.exchanges.get(id).is_some_and(|e| e.has_answers()))
            .map(|id| (id, false))
            .collect();
        if !not_ready.is_empty() {
            self.exchanges_waited_in_vain(&not_ready, ev, true);
        }
    }

    /// A wait reported an error with a hang-up (POLLERR|POLLHUP) on a TCP connection this
    /// program made to a peer no trace shows: Linux reports that pair only when the connection
    /// was aborted (a reset arrived, or its retransmissions timed out), never on an orderly
    /// close. Noted once per socket; which end or what in between aborted it, one side cannot
    /// tell. A server's connection that a client aborts is left alone: clients that leave
    /// abruptly (a command that exits with bytes unread, a health check) are routine for it.
    fn note_outside_abort(&mut self, ev: &SocketEvent, id: SockId) {
        let established_outside = self.sockets.get(&id).is_some_and(|s| {
            s.external && s.proto == Proto::Tcp && s.peer.is_some() && s.connected_as_client()
        });
        if !established_outside || self.wait_resets.iter().any(|d| d.sock == Some(id)) {
            return;
        }
        let dev = self.deviation(
            DeviationKind::ConnectionReset,
            ev,
            Some(id),
            Vec::new(),
            "connection aborted, reported by a wait as an error with a hang-up (POLLERR|POLLHUP)"
                .to_string(),
        );
        self.wait_resets.push(dev);
    }

    /// A wait that never returned (see [`crate::parse::Outcome::never_returned`]) got nothing
    /// for the sockets it watched for reading, like a wait that timed out.
    fn wait_never_returned(
        &mut self,
        ev: &SocketEvent,
        fds: &[WaitFd],
        epoll_fd: Option<Fd>,
    ) -> Verdict {
        let read_watched: Vec<SockId> = match epoll_fd {
            Some(epfd) => self
                .epoll_read_interest(ev, epfd)
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
            None => fds
                .iter()
                .filter(|w| w.wanted.read)
                .filter_map(|w| ev.sock(w.fd))
                .collect(),
        };
        let write_watched: Vec<SockId> = match epoll_fd {
            Some(epfd) => self.epoll_write_interest(ev, epfd),
            None => fds
                .iter()
                .filter(|w| w.wanted.write)
                .filter_map(|w| ev.sock(w.fd))
                .collect(),
        };
        self.exchanges_found_no_room(&write_watched, ev);
        match epoll_fd {
            // A wait naming its sockets tells that an answer was awaited.
            None => {
                let named: Vec<(SockId, bool)> =
                    read_watched.iter().map(|id| (*id, false)).collect();
                self.exchanges_waited_in_vain(&named, ev, true);
            }
            // An epoll wait left at the end of the trace watches a whole set, and event loops
            // always have one pending. An edge-triggered registration (Go's runtime makes one
            // for every socket) counts only once the program tried to receive on the socket
            // since its request, as a blocking read parks on the set (as telling as a wait
            // naming the socket); a level-triggered one, which a loop keeps for every socket it
            // may read some day, says nothing.
            Some(epfd) => {
                let parked: Vec<(SockId, bool)> = self
                    .epoll_read_interest(ev, epfd)
                    .into_iter()
                    .filter(|(_, edge_triggered)| *edge_triggered)
                    .collect();
                self.exchanges_waited_in_vain(&parked, ev, true);
            }
        }
        self.gave_up_waiting(ev, &read_watched)
    }

    /// A blocking receive that never returned (see [`crate::parse::Outcome::never_returned`]):
    /// its program waited for data on the socket and got none. For the request it sent, that
    /// is a wait in vain as a poll's that never returned is: tftp-hpa waits for each answer in
    /// recvfrom until its own SIGALRM cuts the call short, then sends the request again
    /// (`apps/tftp-server-down`).
    pub(super) fn receive_never_returned(&mut self, ev: &SocketEvent, fd: Fd) -> Verdict {
        let Some(id) = ev.sock(fd) else {
            return Verdict::NotModelled;
        };
        if !self.sockets.contains_key(&id) {
            return Verdict::NotModelled;
        }
        self.exchanges_waited_in_vain(&[(id, false)], ev, true);
        self.gave_up_waiting(ev, &[id])
    }

    /// The receiver waited on `socks` until the call ended without data. Only bytes sent and not
    /// received count as missed: a program blocked in a read or wait when it is stopped is
    /// normal, and an end of stream the replay placed before the stop may have come after it.
    fn gave_up_waiting(&mut self, ev: &SocketEvent, socks: &[SockId]) -> Verdict {
        let watched: Vec<SockId> = socks
            .iter()
            .copied()
            .filter(|id| self.sockets.get(id).is_some_and(|s| !s.external))
            .collect();
        let missed: Vec<SockId> = watched
            .iter()
            .copied()
            .filter(|id| self.bytes_waiting(*id))
            .collect();
        self.note_timed_out_wait(ev, &watched);
        self.missed(ev, &missed)
    }

    /// Were bytes sent to `id` and not received yet (a TCP stream's bytes, a datagram)?
    fn bytes_waiting(&self, id: SockId) -> bool {
        let Some(sock) = self.sockets.get(&id) else {
            return false;
        };
        match (sock.proto, sock.state()) {
            (Proto::Tcp, SockState::Connected) => sock
                .conn()
                .and_then(|c| self.conns.get(c))
                .is_some_and(|c| c.incoming(c.side_of(id)).unreceived() > 0),
            (Proto::Udp, _) => self.readable(id) == Some(true),
            _ => false,
        }
    }

    /// A ready wait that cannot have happened yet in the replay: a connect reported complete
    /// before anything listens, an error that is the reset of a peer close still to come, data
    /// reported readable before it was sent. The retry the wait waits for, if any.
    fn retry_ready_wait(&mut self, resets: &[SockId], waits: &[SockId]) -> Option<Verdict> {
        if let Some(first) = resets.first() {
            let keys: Vec<WaitKey> = resets.iter().map(|id| WaitKey::Sock(*id)).collect();
            return Some(self.wait_for(
                format!("{first} reported an error before its peer closed with bytes unread"),
                &keys,
            ));
        }
        if let Some(first) = waits.first() {
            let keys: Vec<WaitKey> = waits.iter().map(|id| self.read_key(*id)).collect();
            return Some(self.wait_for(
                format!("{first} reported readable with nothing to read"),
                &keys,
            ));
        }
        None
    }

    /// A wait returned nothing although data was waiting for the `missed` sockets.
    fn missed(&mut self, ev: &SocketEvent, missed: &[SockId]) -> Verdict {
        let Some(first) = missed.first().copied() else {
            return Verdict::Accept;
        };

        for id in missed {
            if let Some(c) = self
                .sockets
                .get(id)
                .and_then(|s| s.conn())
                .and_then(|c| self.conns.get_mut(c))
            {
                c.record.wait_timed_out_with_data = true;
            }
        }
        let related = self
            .sockets
            .get(&first)
            .and_then(|s| s.conn())
            .and_then(|c| self.conns.get(c))
            .and_then(|c| c.incoming(c.side_of(first)).stats.last_send)
            .into_iter()
            .collect();
        self.deviate(
            DeviationKind::PollMissedData,
            ev,
            first,
            related,
            format!(
                "{} {} although data was waiting for {first}",
                ev.call.name,
                match ev.call.outcome.never_returned() {
                    true => "never returned",
                    false => "timed out",
                }
            ),
        )
    }

    /// Records a wait that returned nothing for the sockets it watched for reading (the
    /// receiver wanted data and did not get it), with the trace's times.
    fn note_timed_out_wait(&mut self, ev: &SocketEvent, socks: &[SockId]) {
        self.timed_out_waits
            .extend(socks.iter().map(|sock| TimedOutWait {
                sock: *sock,
                loc: ev.call.loc,
                start: ev.call.time,
                duration: ev.call.duration,
            }));
    }

    /// The sockets the epoll instance `epfd` of `ev`'s trace watches for reading, each with
    /// whether it is registered edge-triggered.
    fn epoll_read_interest(&self, ev: &SocketEvent, epfd: Fd) -> Vec<(SockId, bool)> {
        self.epoll_interest
            .get(&(ev.call.loc.trace, epfd))
            .into_iter()
            .flatten()
            .filter(|(_, wanted)| wanted.read)
            .map(|(id, wanted)| (*id, wanted.edge_triggered))
            .collect()
    }

    /// The sockets the epoll instance `epfd` of `ev`'s trace watches for writing.
    /// A connect in progress that a blocking wait for writability saw time out had not finished
    /// its handshake then: Linux reports it writable once it has, to poll and select and to
    /// epoll (an edge-triggered registration too, since registering a ready socket reports it).
    fn connects_not_done(&mut self, write_watched: &[SockId]) {
        for id in write_watched {
            if let Some(s) = self.sockets.get_mut(id).filter(|s| s.is_connecting()) {
                s.note_connect_timed_out();
            }
        }
    }

    fn epoll_write_interest(&self, ev: &SocketEvent, epfd: Fd) -> Vec<SockId> {
        self.epoll_interest
            .get(&(ev.call.loc.trace, epfd))
            .into_iter()
            .flatten()
            .filter(|(_, wanted)| wanted.write)
            .map(|(id, _)| *id)
            .collect()
    }

    fn epoll_timeout(&mut self, ev: &SocketEvent, epfd: Fd, timeout_ms: Option<i64>) -> Verdict {
        let all_read_watched = self.epoll_read_interest(ev, epfd);
        // A zero timeout only looks: nothing was waited for.
        if timeout_ms != Some(0) {
            self.exchanges_waited_in_vain(&all_read_watched, ev, false);
            let write_watched = self.epoll_write_interest(ev, epfd);
            self.exchanges_found_no_room(&write_watched, ev);
            self.connects_not_done(&write_watched);
        }
        let read_watched: Vec<SockId> = self
            .epoll_interest
            .get(&(ev.call.loc.trace, epfd))
            .into_iter()
            .flatten()
            .filter(|(id, wanted)| wanted.read && self.sockets.get(id).is_some_and(|s| !s.external))
            // Edge-triggered interest: bytes already signalled are not signalled again, so a
            // timeout proves nothing about them (epoll(7)).
            .filter(|(id, wanted)| !wanted.edge_triggered || !self.ever_received(**id))
            .map(|(id, _)| *id)
            .collect();
        self.note_timed_out_wait(ev, &read_watched);
        let missed: Vec<SockId> = self
            .epoll_interest
            .get(&(ev.call.loc.trace, epfd))
            .into_iter()
            .flatten()
            .filter(|(id, wanted)| !wanted.edge_triggered || !self.ever_received(**id))
            .filter(|(id, wanted)| wanted.read && self.readable(**id) == Some(true))
            .map(|(id, _)| *id)
            .collect();
        self.missed(ev, &missed)
    }

    /// May an edge-triggered instance already have signalled what waits for `id`? Always,
    /// except on a connection that never received a byte: its first bytes would be news.
    fn ever_received(&self, id: SockId) -> bool {
        self.sockets
            .get(&id)
            .and_then(|s| s.conn())
            .and_then(|c| self.conns.get(c))
            .is_none_or(|c| c.incoming(c.side_of(id)).stats.received > 0)
    }

    fn read_key(&self, id: SockId) -> WaitKey {
        match self.sockets.get(&id) {
            Some(s) if s.proto == Proto::Udp => match s.local.map(|l| l.port()) {
                Some(p) if p != 0 => WaitKey::UdpPort(p),
                _ => WaitKey::AnyDatagram,
            },
            _ => WaitKey::Sock(id),
        }
    }

    /// Can a POLLERR on `id` be the reset of a peer close not replayed yet? The peer is traced,
    /// has not closed, and has not read everything `id` sent: closing now would reset the
    /// connection, so the wait is retried until the peer's next step (the global order does not
    /// tie the wait to that close; nothing else in the traces does).
    fn reset_by_a_later_close(&self, id: SockId) -> bool {
        let Some(c) = self
            .sockets
            .get(&id)
            .and_then(|s| s.conn())
            .and_then(|c| self.conns.get(c))
        else {
            return false;
        };
        let side = c.side_of(id);
        c.peer_of(side).is_some()
            && c.peer_closed(side).is_none()
            && c.outgoing(side).unreceived() > 0
    }

    /// A wait reported an error (POLLERR) on a connection whose peer had closed with bytes it
    /// never read, or abortively: the kernel reset the connection, and this wait is where the
    /// program saw it (nc, say, polls and never reads again). Noted once per socket.
    fn note_wait_reset(&mut self, ev: &SocketEvent, id: SockId) {
        if self.wait_resets.iter().any(|d| d.sock == Some(id)) {
            return;
        }
        let Some(c) = self
            .sockets
            .get(&id)
            .and_then(|s| s.conn())
            .and_then(|c| self.conns.get(c))
        else {
            return;
        };
        let side = c.side_of(id);
        let Some(closed) = c.peer_closed(side) else {
            return;
        };
        let unread = c.outgoing(side).unreceived();
        let cause = if self.abortive_closes.contains(&closed) {
            super::tcp::stream::ABORTIVE_CLOSE.to_string()
        } else if unread > 0 {
            format!("the peer closed with {unread} bytes it never read")
        } else {
            return; // an orderly close ends the connection; POLLERR then means something else
        };
        let dev = self.deviation(
            DeviationKind::ConnectionReset,
            ev,
            Some(id),
            vec![closed],
            format!("connection reset, reported by a wait as an error: {cause}"),
        );
        self.wait_resets.push(dev);
    }

    /// Keeps the resets only waits reported: a socket whose program also saw the reset in a
    /// call (ECONNRESET, EPIPE) already has a deviation that says so.
    pub(super) fn keep_resets_seen_only_by_waits(&mut self) {
        let seen_in_calls = |sock: Option<SockId>, deviations: &[super::Deviation]| {
            deviations.iter().any(|d| {
                d.sock == sock
                    && matches!(
                        d.kind,
                        DeviationKind::ConnectionReset | DeviationKind::SendAfterPeerClosed { .. }
                    )
            })
        };
        for dev in std::mem::take(&mut self.wait_resets) {
            if !seen_in_calls(dev.sock, &self.deviations) {
                self.deviations.push(dev);
            }
        }
    }
}
