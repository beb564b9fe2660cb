//! Requests and replies with a peer no trace shows: what one side proves by itself.
//!
//! When the peer is unobserved (a host declared without a trace, or an address of no host), the
//! local trace is the only witness of the exchange. A *request* is what a socket sends after its
//! last receive (several sends in a row are one request); it is *answered* when the socket next
//! receives something from the peer (bytes, a datagram, or the end of the stream). It is
//! *unanswered* when the program waited for the answer in vain (a readiness wait that timed out,
//! a receive that timed out or never returned) and then gave up: it sent the next request,
//! closed the socket, or its trace ended. A program that sends without ever waiting for an
//! answer makes no requests in this sense, so one-way traffic is never counted. Only the side
//! that spoke first asks: a server's answers, sent after it received, are no requests.

use std::net::SocketAddr;

use super::socket::Proto;
use super::{DeviationKind, Model, Verdict, Way};
use crate::fold::SocketEvent;
use crate::parse::{Errno, Fd};
use crate::source::{Loc, SockId};

/// One socket's exchange with an unobserved peer.
#[derive(Debug, Clone)]
pub(in crate::model) struct Exchange {
    peer: SocketAddr,
    proto: Proto,
    /// This socket spoke first (its first transfer with the peer was a send).
    asks: bool,
    /// The request waiting for its answer: where it was sent, and the first wait in vain (with
    /// whether that wait named this socket itself rather than an epoll set holding it).
    pending: Option<(Loc, Option<(Loc, bool)>)>,
    answered: u32,
    unanswered: u32,
    /// Unanswered requests whose wait named this socket.
    unanswered_named: u32,
    /// The first unanswered request and the wait that gave up on it.
    first_unanswered: Option<(Loc, Loc)>,
}

impl Exchange {
    fn new(peer: SocketAddr, proto: Proto, asks: bool) -> Self {
        Exchange {
            peer,
            proto,
            asks,
            pending: None,
            answered: 0,
            unanswered: 0,
            unanswered_named: 0,
            first_unanswered: None,
        }
    }

    fn sent(&mut self, at: Loc) {
        if !self.asks {
            return;
        }
        match self.pending {
            Some((_, Some(_))) => {
                self.give_up();
                self.pending = Some((at, None));
            }
            Some(_) => {}
            None => self.pending = Some((at, None)),
        }
    }

    fn received(&mut self) {
        if self.pending.take().is_some() {
            self.answered += 1;
        }
    }

    /// The connection ended under the request (a reset): that is reported for itself.
    fn ended(&mut self) {
        self.pending = None;
    }

    fn waited_in_vain(&mut self, at: Loc, named: bool) {
        match &mut self.pending {
            Some((_, waited @ None)) => *waited = Some((at, named)),
            Some((_, Some((_, was_named)))) => *was_named |= named,
            None => {}
        }
    }

    /// The program moved on: a request it waited for in vain stays unanswered.
    fn give_up(&mut self) {
        if let Some((sent, Some((waited, named)))) = self.pending.take() {
            self.unanswered += 1;
            self.unanswered_named += u32::from(named);
            self.first_unanswered.get_or_insert((sent, waited));
        }
    }

    fn summary(&self, sock: SockId) -> Option<UnansweredRequests> {
        let (request, gave_up) = self.first_unanswered?;
        Some(UnansweredRequests {
            sock,
            peer: self.peer,
            udp: self.proto == Proto::Udp,
            answered: self.answered,
            unanswered: self.unanswered,
            unanswered_named: self.unanswered_named,
            request,
            gave_up,
        })
    }
}

/// Requests a socket sent to an unobserved peer that got no answer before the program gave up.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnansweredRequests {
    pub sock: SockId,
    pub peer: SocketAddr,
    pub udp: bool,
    /// Requests answered, and requests the program gave up on.
    pub answered: u32,
    pub unanswered: u32,
    /// Of the unanswered, those whose wait named this socket (poll, select or a receive), not
    /// only an epoll set holding it: the program was waiting for this peer, not for anything.
    pub unanswered_named: u32,
    /// The first unanswered request, and the wait that ended in vain after it.
    pub request: Loc,
    pub gave_up: Loc,
}

impl Model<'_> {
    /// Notes a transfer on the socket `fd` names, when its peer (`addr`, or the socket's own
    /// peer) is unobserved. `moved` is whether bytes (or the end of the stream) moved.
    pub(in crate::model) fn note_exchange(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        way: Way,
        addr: Option<SocketAddr>,
    ) {
        let Some(id) = ev.sock(fd) else {
            return;
        };
        let Some(sock) = self.sockets.get(&id) else {
            return;
        };
        let (proto, external, blocking) = (sock.proto, sock.external, !sock.nonblock.on);
        let peer = addr
            .or(sock.peer)
            .or_else(|| self.exchanges.get(&id).map(|e| e.peer));
        let Some(peer) = peer.filter(|p| self.is_unobserved_peer(*p)) else {
            return;
        };
        let outcome = &ev.call.outcome;
        let moved = outcome.is_success()
            && (outcome.value.is_some_and(|v| v > 0)
                || (way == Way::Receive && proto == Proto::Tcp));
        let gave_up = outcome.never_returned()
            || outcome
                .errno
                .is_some_and(|e| e.is_would_block() || e == Errno::ETIMEDOUT);
        if moved && external {
            // Bytes moved: a nonblocking connect to this peer has completed.
            if let Some(s) = self.sockets.get_mut(&id) {
                s.set_connect_target(None);
            }
        }
        let reset = outcome
            .errno
            .is_some_and(|e| e == Errno::ECONNRESET || e == Errno::EPIPE);
        let loc = ev.call.loc;
        if reset {
            if let Some(exchange) = self.exchanges.get_mut(&id) {
                exchange.ended();
            }
            return;
        }
        if !moved && !self.exchanges.contains_key(&id) {
            return;
        }
        let exchange = self
            .exchanges
            .entry(id)
            .or_insert_with(|| Exchange::new(peer, proto, way == Way::Send));
        match way {
            Way::Send if moved => exchange.sent(loc),
            Way::Receive if moved => exchange.received(),
            // A nonblocking receive that finds nothing is how event loops poll: no give-up.
            Way::Receive if gave_up && (blocking || outcome.never_returned()) => {
                exchange.waited_in_vain(loc, true);
            }
            _ => {}
        }
    }

    /// A readiness wait watching `socks` for reading ended with nothing (timed out, or never
    /// returned); `named` when the wait listed them itself (poll, select), not an epoll set.
    pub(in crate::model) fn exchanges_waited_in_vain(
        &mut self,
        socks: &[SockId],
        at: Loc,
        named: bool,
    ) {
        for id in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                exchange.waited_in_vain(at, named);
            }
        }
    }

    /// The socket is closed (or its trace ended): a request waited for in vain stays
    /// unanswered.
    pub(in crate::model) fn close_exchange(&mut self, id: SockId) {
        if let Some(mut exchange) = self.exchanges.remove(&id) {
            exchange.give_up();
            if let Some(summary) = exchange.summary(id) {
                self.unanswered.push(summary);
            }
        }
    }

    /// A transfer on a TCP socket whose peer no trace shows failed with an error that proves by
    /// itself what happened to the connection: a reset (ECONNRESET) or a send after the peer's
    /// end was gone (EPIPE). `None` for anything else.
    pub(in crate::model) fn unobserved_peer_error(
        &self,
        ev: &SocketEvent,
        fd: Fd,
        way: Way,
    ) -> Option<Verdict> {
        let id = ev.sock(fd)?;
        let sock = self.sockets.get(&id)?;
        if !sock.external || sock.proto != Proto::Tcp {
            return None;
        }
        let errno = ev.call.outcome.errno?;
        let peer = sock
            .peer
            .map_or_else(|| "its peer".to_string(), |p| p.to_string());
        let (kind, detail) = match (way, errno) {
            (Way::Send, Errno::EPIPE | Errno::ECONNRESET) => (
                DeviationKind::SendAfterPeerClosed { errno: Some(errno) },
                format!("{id} sent to {peer}, which no trace shows, after the connection ended ({errno})"),
            ),
            (Way::Receive, Errno::ECONNRESET) => (
                DeviationKind::ConnectionReset,
                format!("the connection of {id} to {peer}, which no trace shows, was reset"),
            ),
            _ => return None,
        };
        Some(self.deviate(kind, ev, id, Vec::new(), detail))
    }

    /// The unobserved peer `id` exchanges with, if any.
    pub(in crate::model) fn exchange_peer(&self, id: SockId) -> Option<SocketAddr> {
        self.exchanges.get(&id).map(|e| e.peer)
    }

    /// Peers whose side no trace shows, except endpoints the configuration ignores.
    fn is_unobserved_peer(&self, peer: SocketAddr) -> bool {
        !self.matcher.is_ignored(peer) && self.is_outside(peer)
    }
}
