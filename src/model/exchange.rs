//! Requests and replies with a peer no trace shows: what one side proves by itself.
//!
//! When the peer is unobserved (a host declared without a trace, or an address of no host), the
//! local trace is the only witness of the exchange. A *request* is what a socket sends after its
//! last receive (several sends in a row are one request); it is *answered* when the socket next
//! receives something from the peer (bytes, a datagram, or the end of the stream). It is
//! *unanswered* when the program waited for the answer in vain (a readiness wait that timed out,
//! a receive that timed out or never returned) and then gave up: it sent the next request,
//! closed the socket, or its trace ended. It is unanswered too when the only thing that came
//! back on a TCP connection that never carried anything to the asker was the end of the stream
//! (the peer's program closed its socket, or ended, without a word) to a socket that connected,
//! unless the asker had shut
//! down its own writing first (an upload that ends with both sides closing) or the traced peer
//! was being stopped (a peer whose process died instead, killed or exiting unasked in
//! failure, left the request it read unanswered even after earlier answers). A program that
//! sends without ever waiting for an answer makes no requests in this sense, so one-way traffic
//! is never counted; nor does a wait after the program was asked to stop, which is its
//! shutdown's. Only the side
//! that spoke first asks: a server's answers, sent after it received, are no requests.
//!
//! When the peer *is* traced, the same bookkeeping runs, and the peer's trace adds what one side
//! cannot know: whether the request reached the peer's program (it read it). A request the peer
//! read and never answered is the peer's decision (an access rule, a request it rejects by
//! dropping it), not the network's; a request that never arrived is left to the loss rules.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::round_trips::{RoundTrips, SocketRoundTrips, TimedRoundTrip, MIN_BLOCKED};
use super::socket::{inet_of, Proto};
use super::tcp::{ConnId, Side};
use super::udp::UDP_PATH_ERRNOS;
use super::{DeviationKind, Model, Verdict, Way};
use crate::fold::{ProgramContext, SocketEvent};
use crate::parse::{Errno, Fd};
use crate::source::{Loc, SockId};

/// Linux's least TCP retransmission timeout (`TCP_RTO_MIN`, 200 ms): past it even the kernel
/// counts a segment on a fast link lost, so it is the least delay loss adds to a round trip.
const TCP_RTO_MIN_S: f64 = 0.2;

/// How long after a request a poll that finds no answer shows its program waiting for one.
/// See docs/model.md.
pub(in crate::model) const POLLED_AFTER: f64 = TCP_RTO_MIN_S;

/// How a traced peer's end of a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::model) enum PeerEnd {
    /// Its program closed it, or ended by itself.
    Closed,
    /// Its program had been asked to stop.
    Stopping,
    /// Its process was killed while running (SIGKILL, a crash).
    Killed,
    /// Its process exited with a failure status, unasked, the connection still open.
    Failed,
}

/// Where a traced peer read a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::model) enum PeerRead {
    /// On this TCP connection.
    Stream(ConnId),
    /// On the peer's UDP socket, from the address it saw the request come from.
    Datagram { reader: SockId, from: SocketAddr },
}

/// The shortest wait for room in a full send buffer that counts as waiting in vain: TCP's
/// initial retransmission timeout. A peer that reads and a path that delivers free room within
/// a round trip or two.
const MIN_NO_ROOM_S: f64 = super::tcp::connect::FIRST_SYN_RETRANSMIT;

/// How much later than a connection's quickest answer the end of the stream may arrive after
/// a request and still be a close that crossed it: the least delay loss adds to a round trip.
const CROSSING_CLOSE_SLACK_S: f64 = TCP_RTO_MIN_S;

/// Given-up requests to a traced peer kept per socket until its program reads them: enough for
/// any request/reply program's retries, bounded against a sender that never stops.
const MAX_AWAITING_DELIVERY: usize = 1024;

/// One request: the sends after the socket's last receive.
#[derive(Debug, Clone)]
struct Request {
    /// Where its first send was.
    sent: Loc,
    /// Its sends (datagrams, for UDP) and how many of them the traced peer's program read.
    parts: u32,
    read: u32,
    /// The first wait in vain after it, and whether that wait named this socket itself rather
    /// than an epoll set holding it.
    waited: Option<(Loc, bool)>,
    /// Every wait in vain after it was cut short by a signal (EINTR, ERESTART*), none timed out
    /// or stayed pending to the end.
    only_interrupted: bool,
    /// The program tried to receive on the socket after sending it (and found nothing yet).
    read_tried: bool,
    /// Clocks of the round trip, each on its own host: when this socket's last send of the
    /// request ended; when the traced peer last read it and first answered (peer's clock).
    sent_at: Option<f64>,
    /// The last send of the request (the one the answer's time is measured from).
    last_sent: Loc,
    peer_read_at: Option<f64>,
    peer_answered_at: Option<f64>,
}

impl Request {
    /// What the network added to this round trip, answered at `arrived` (requester's clock).
    fn network_time(&self, arrived: f64) -> Option<f64> {
        let handling = self.peer_answered_at? - self.peer_read_at?;
        let waited = arrived - self.sent_at?;
        (handling >= 0.0 && waited >= handling).then_some(waited - handling)
    }

    fn new(sent: Loc) -> Self {
        Request {
            sent,
            parts: 1,
            read: 0,
            waited: None,
            only_interrupted: false,
            read_tried: false,
            sent_at: None,
            last_sent: sent,
            peer_read_at: None,
            peer_answered_at: None,
        }
    }

    /// The traced peer read all of it: every datagram, or (TCP) some of its bytes, the rest
    /// being checked against the connection at the end.
    fn fully_read(&self, proto: Proto) -> bool {
        match proto {
            Proto::Udp => self.read >= self.parts,
            Proto::Tcp => self.read > 0,
        }
    }
}

/// One socket's exchange with its peer.
#[derive(Debug, Clone)]
pub(in crate::model) struct Exchange {
    peer: SocketAddr,
    proto: Proto,
    /// The peer's side is traced: only requests its program read in full are counted.
    peer_traced: bool,
    /// This socket spoke first (its first transfer with the peer was a send).
    asks: bool,
    /// The request waiting for its answer.
    pending: Option<Request>,
    /// Where the last answered request was sent: what a peer killed while the socket still
    /// read from it cut short.
    answered_request: Option<Loc>,
    /// Where the traced peer read the last request it read: what shows at the end whether it
    /// sent anything back (an answer that was lost is no silence).
    read_at: Option<PeerRead>,
    /// Requests to a traced peer given up on before its program was seen reading them in full
    /// (the reads may come later in the replay: datagrams wait in the peer's queue), oldest
    /// first.
    awaiting_delivery: VecDeque<Request>,
    answered: u32,
    unanswered: u32,
    /// The asker shut down its writing: the end of the stream that follows is the peer's
    /// acknowledgement of a finished upload, no refusal to answer.
    write_shut: bool,
    /// The first unanswered request was met by the end of the stream, not by a wait in vain;
    /// with where the traced peer's end closed.
    ended_by_peer: Option<Option<Loc>>,
    /// Unanswered requests whose wait named this socket.
    unanswered_named: u32,
    /// The first unanswered request and the wait that gave up on it.
    first_unanswered: Option<(Loc, Loc)>,
    /// When the last wait that blocked and then reported this socket readable ended.
    ready_at: Option<f64>,
    /// Round trips with a traced peer, timed (see `round_trips.rs`).
    round_trips: RoundTrips,
    /// The socket's send buffer is full: a send since it last drained would have blocked or
    /// moved less than it was given (where the first such send was).
    send_blocked: Option<Loc>,
    /// With the buffer full, a wait for room that ended without it (timed out, never returned,
    /// cut short by a signal: with whether a signal did), or a blocking send that never
    /// returned.
    stuck: Option<(Loc, bool)>,
    /// The first unanswered request never left the send buffer.
    undrained: bool,
    /// The requests went to a UDP port nothing on the traced peer's host had bound when they
    /// were sent (see `Model::udp_port_unbound_when_sent`).
    nothing_bound: bool,
    /// The quickest answer so far, from the end of its request's last send to its arrival
    /// (this socket's clock).
    fastest_answer: Option<f64>,
}

impl Exchange {
    fn new(peer: SocketAddr, proto: Proto, peer_traced: bool, asks: bool) -> Self {
        Exchange {
            peer,
            proto,
            peer_traced,
            asks,
            pending: None,
            answered_request: None,
            read_at: None,
            awaiting_delivery: VecDeque::new(),
            answered: 0,
            unanswered: 0,
            write_shut: false,
            ended_by_peer: None,
            unanswered_named: 0,
            first_unanswered: None,
            ready_at: None,
            round_trips: RoundTrips::default(),
            send_blocked: None,
            stuck: None,
            undrained: false,
            nothing_bound: false,
            fastest_answer: None,
        }
    }

    /// The socket sent (part of) a request; `ended` is when the send returned.
    /// Either side's sends are timed against the answer; only the asking side's unanswered
    /// requests are counted.
    fn sent(&mut self, at: Loc, ended: Option<f64>) {
        self.ready_at = None;
        match &mut self.pending {
            Some(Request {
                waited: Some(_), ..
            }) => {
                self.give_up(false);
                self.pending = Some(Request::new(at));
            }
            Some(request) => request.parts = request.parts.saturating_add(1),
            None => self.pending = Some(Request::new(at)),
        }
        if let Some(request) = &mut self.pending {
            // A part sent untimed (waiting in a backlog) leaves the whole request untimed.
            request.sent_at = if request.parts > 1 && request.sent_at.is_none() {
                None
            } else {
                ended
            };
            request.last_sent = at;
        }
    }

    /// The answer came, at `answer`; `arrived` is when, if a wait that blocked showed it.
    /// `returned` is when the receive returned: no answer arrived later, so it bounds the
    /// quickest answer when nothing showed the arrival itself.
    fn received(&mut self, answer: Loc, arrived: Option<f64>, returned: Option<f64>) {
        let arrived = arrived.or(self.ready_at.take());
        if let Some(request) = self.pending.take() {
            self.answered += 1;
            self.answered_request = Some(request.sent);
            let latest = arrived.or(returned);
            if let Some(took) = latest.zip(request.sent_at).map(|(a, s)| a - s) {
                if took >= 0.0 && self.fastest_answer.is_none_or(|f| took < f) {
                    self.fastest_answer = Some(took);
                }
            }
            if let Some(network) = arrived.and_then(|t| request.network_time(t)) {
                self.round_trips.add(TimedRoundTrip {
                    network,
                    request: request.last_sent,
                    answer,
                });
            }
        }
    }

    /// The end of the stream came, at `at`; `peer_close` is where the traced peer's end closed
    /// and how. On a connection that never carried
    /// anything to this socket, a request the peer read (or, untraced, sent to it) was met by
    /// the peer closing without a word; anything else is the answer it always was. Only a
    /// connecting socket (`client`) counts: a client leaving after a server's greeting (a
    /// health check, a port scan) is the client's business.
    fn end_of_stream(
        &mut self,
        at: Loc,
        peer_close: Option<(Loc, PeerEnd)>,
        client: bool,
        arrived: Option<f64>,
    ) {
        let end = peer_close.map(|(_, end)| end);
        // A death is no protocol's goodbye: after a handshake (ZeroMQ's greetings, in which
        // the server speaks first; HTTP/2's settings) the request the killed peer read still
        // went unanswered.
        let killed = end == Some(PeerEnd::Killed);
        // A program that ended in failure with a request it had read still unanswered (a
        // PostgreSQL back end exiting when its postmaster died) left it as a kill would; only
        // the request it read counts, not one it had answered before.
        let died = killed || end == Some(PeerEnd::Failed);
        let arrived = arrived.or(self.ready_at);
        let refused = client
            && (self.asks || died || self.closed_long_after_the_request(arrived))
            && self.proto == Proto::Tcp
            && (self.answered == 0 || died || self.closed_long_after_the_request(arrived))
            && !self.write_shut
            && end != Some(PeerEnd::Stopping);
        if !refused {
            self.received(at, None, None);
            return;
        }
        let mut request = match (self.pending.take(), self.answered_request) {
            (Some(request), _) => request,
            // Killed after it had begun to answer (a job server's "job created" before the
            // result): the socket still read from it, and its death ended the exchange.
            (None, Some(sent)) if killed => Request {
                read: 1,
                ..Request::new(sent)
            },
            _ => return,
        };
        if self.peer_traced && !request.fully_read(self.proto) {
            // The peer closed with the request unread: the loss and close rules weigh that.
            return;
        }
        if self.first_unanswered.is_none() {
            self.ended_by_peer = Some(peer_close.map(|(loc, _)| loc));
        }
        request.waited = Some((at, true));
        self.count_unanswered(&request);
    }

    /// Did the end of the stream, arriving at `arrived`, come so long after the pending
    /// request (from a peer no trace shows) that the peer's program had it and closed without
    /// answering? A server closing an idle kept-alive connection as the next request crosses
    /// it is a race clients retry, but its end of stream arrives within a round trip of that
    /// request; one that came later than this connection's quickest answer by a retransmission
    /// timeout (200 ms, `TCP_RTO_MIN`) did not cross it.
    fn closed_long_after_the_request(&self, arrived: Option<f64>) -> bool {
        let (Some(arrived), Some(fastest)) = (arrived, self.fastest_answer) else {
            return false;
        };
        !self.peer_traced
            && self
                .pending
                .as_ref()
                .and_then(|r| r.sent_at)
                .is_some_and(|sent| arrived - sent > fastest + CROSSING_CLOSE_SLACK_S)
    }

    /// The asker shut down its writing (see `write_shut`).
    fn shut_write(&mut self) {
        self.write_shut = true;
    }

    /// The traced peer sent its first bytes after reading the pending request, at `at` (its
    /// clock).
    fn answered(&mut self, at: Option<f64>) {
        if let Some(request) = &mut self.pending {
            if request.peer_read_at.is_some() && request.peer_answered_at.is_none() {
                request.peer_answered_at = at;
            }
        }
    }

    /// The traced peer's program read (part of) a request: the oldest one given up on before,
    /// or else the pending one.
    fn delivered(&mut self, read_at: PeerRead, read_ended: Option<f64>) {
        self.read_at = Some(read_at);
        if let Some(oldest) = self.awaiting_delivery.front_mut() {
            oldest.read = oldest.read.saturating_add(1);
            if oldest.fully_read(self.proto) {
                if let Some(request) = self.awaiting_delivery.pop_front() {
                    self.count_unanswered(&request);
                }
            }
        } else if let Some(request) = &mut self.pending {
            request.read = request.read.saturating_add(1);
            if request.peer_answered_at.is_none() {
                request.peer_read_at = read_ended;
            }
        }
    }

    /// The peer has answered a request of this socket at least once: the two talk in requests
    /// and answers, not one way.
    pub(in crate::model) fn has_answers(&self) -> bool {
        self.answered > 0
    }

    /// The connection ended under the request (a reset), or an ICMP error answered a UDP
    /// request: that is reported for itself.
    fn ended(&mut self) {
        self.pending = None;
    }

    /// A wait for reading ended with nothing. `generic` when the socket is in the wait's set
    /// only through an edge-triggered epoll registration, which runtimes such as Go's make for
    /// every socket they open: such a wait shows the program waiting for this socket only once
    /// it has tried to receive on it since the request.
    /// `interrupted` when a signal cut the wait short.
    fn waited_in_vain(&mut self, at: Loc, named: bool, generic: bool, interrupted: bool) {
        let Some(request) = &mut self.pending else {
            return;
        };
        if generic && !request.read_tried {
            return;
        }
        match &mut request.waited {
            waited @ None => {
                *waited = Some((at, named));
                request.only_interrupted = interrupted;
            }
            Some((_, was_named)) => {
                *was_named |= named;
                request.only_interrupted &= interrupted;
            }
        }
    }

    /// A receive found nothing yet: the program wants the answer.
    fn tried_to_read(&mut self) {
        if let Some(request) = &mut self.pending {
            request.read_tried = true;
        }
    }

    /// The program moved on: a request it waited for in vain stays unanswered. `finished` when
    /// the socket ended with its program's successful exit: a wait a signal cut short was then
    /// part of that end (a process stopping its own reader), not a wait in vain.
    fn give_up(&mut self, finished: bool) {
        if let Some(stuck) = self.stuck.take() {
            if self.give_up_undrained(stuck, finished) {
                return;
            }
        }
        let Some(request) = self.pending.take() else {
            return;
        };
        if request.waited.is_none() || !self.asks || (finished && request.only_interrupted) {
            return;
        }
        if self.peer_traced && !request.fully_read(self.proto) {
            // Counted once the peer has read it all; what never arrives was lost on the way,
            // which the loss rules weigh with both sides' evidence.
            if self.awaiting_delivery.len() < MAX_AWAITING_DELIVERY {
                self.awaiting_delivery.push_back(request);
            }
            return;
        }
        self.count_unanswered(&request);
    }

    /// The program gave up with its last bytes still in the send buffer, after a wait for room
    /// ended in vain (or a send that never returned) at `at`. Only a peer no trace shows: a
    /// traced receiver's reads settle what arrived. Whichever side spoke first, the bytes never
    /// left. Returns whether that was counted.
    fn give_up_undrained(&mut self, (at, interrupted): (Loc, bool), finished: bool) -> bool {
        if self.peer_traced || (finished && interrupted) || self.proto != Proto::Tcp {
            return false;
        }
        let Some(mut request) = self.pending.take() else {
            return false;
        };
        request.waited = Some((at, true));
        if self.first_unanswered.is_none() {
            self.undrained = true;
        }
        self.count_unanswered(&request);
        true
    }

    /// A send would have blocked, or moved less than it was given: the send buffer is full.
    fn send_refused(&mut self, at: Loc) {
        self.send_blocked.get_or_insert(at);
    }

    /// With the send buffer full, a wait for room ended without it, or a blocking send never
    /// returned (`at`; `interrupted` when a signal cut it short).
    fn no_room(&mut self, at: Loc, interrupted: bool) {
        if self.send_blocked.is_some() {
            self.stuck = Some((at, interrupted));
        }
    }

    /// The send buffer took bytes again, or a wait reported room in it.
    fn drained(&mut self) {
        self.send_blocked = None;
        self.stuck = None;
    }

    fn count_unanswered(&mut self, request: &Request) {
        let Some((waited, named)) = request.waited else {
            return;
        };
        self.unanswered += 1;
        self.unanswered_named += u32::from(named);
        self.first_unanswered.get_or_insert((request.sent, waited));
    }

    fn summary(&self, sock: SockId) -> Option<UnansweredRequests> {
        let (request, gave_up) = self.first_unanswered?;
        Some(UnansweredRequests {
            sock,
            peer: self.peer,
            udp: self.proto == Proto::Udp,
            peer_traced: self.peer_traced,
            answered: self.answered,
            unanswered: self.unanswered,
            unanswered_named: self.unanswered_named,
            request,
            gave_up,
            ended_by_peer: self.ended_by_peer.is_some(),
            peer_close: self.ended_by_peer.flatten(),
            undrained: self.undrained,
            nothing_bound: self.nothing_bound,
        })
    }
}

/// Requests a socket sent to an unobserved peer that got no answer before the program gave up.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnansweredRequests {
    pub sock: SockId,
    pub peer: SocketAddr,
    pub udp: bool,
    /// The peer is traced, and its program read every request counted as unanswered.
    pub peer_traced: bool,
    /// Requests answered, and requests the program gave up on.
    pub answered: u32,
    pub unanswered: u32,
    /// Of the unanswered, those whose wait named this socket (poll, select or a receive), not
    /// only an epoll set holding it: the program was waiting for this peer, not for anything.
    pub unanswered_named: u32,
    /// The first unanswered request, and the wait that ended in vain after it (or the receive
    /// that found the end of the stream).
    pub request: Loc,
    pub gave_up: Loc,
    /// The first unanswered request was met by the peer closing the connection without a word,
    /// not by a wait in vain; `peer_close` is where the traced peer's end closed.
    pub ended_by_peer: bool,
    pub peer_close: Option<Loc>,
    /// The first unanswered request never left the send buffer: the program waited for room in
    /// it in vain (or was stopped inside a blocking send) and then gave up.
    pub undrained: bool,
    /// The requests went to a UDP port nothing on the traced peer's host had bound when they
    /// were sent: the host's traces never bound it, or every socket bound there had closed.
    pub nothing_bound: bool,
}

impl Model<'_> {
    /// Notes the transfers of a call that was placed (a retried call has not happened yet) in
    /// the request/answer bookkeeping.
    pub(in crate::model) fn note_transfers(&mut self, ev: &SocketEvent) {
        use crate::parse::Syscall as S;
        match &ev.call.syscall {
            S::Recv { flags, .. } | S::RecvMany { flags, .. } if flags.errqueue => {}
            S::Recv { .. } if ev.call.outcome.never_returned() => {}
            S::Send { fd, dest, .. } => {
                self.note_exchange(ev, *fd, Way::Send, dest.as_ref().and_then(inet_of));
            }
            S::Recv { fd, src, .. } => {
                self.note_exchange(ev, *fd, Way::Receive, src.as_ref().and_then(inet_of));
            }
            S::SendMany { fd, msgs, .. } | S::RecvMany { fd, msgs, .. } => {
                let way = match ev.call.syscall {
                    S::SendMany { .. } => Way::Send,
                    _ => Way::Receive,
                };
                let first = Self::transferred_messages(ev, msgs)
                    .first()
                    .and_then(|d| d.addr);
                self.note_exchange(ev, *fd, way, first);
            }
            S::CopyFile { out_fd, in_fd, .. } => {
                self.note_exchange(ev, *out_fd, Way::Send, None);
                self.note_exchange(ev, *in_fd, Way::Receive, None);
            }
            _ => {}
        }
    }

    /// Notes a transfer on the socket `fd` names with its peer (`addr`, or the socket's own
    /// peer), unless the configuration ignores that peer.
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
        let client = !sock.accepted;
        // Bytes sent on a connection no traced accept has taken yet wait in the backlog: their
        // round trip includes that wait, which is no network time.
        let before_accept = sock
            .conn()
            .and_then(|c| self.conns.get(c))
            .is_some_and(|c| c.record.server.is_none() && c.record.listener.is_some());
        // Where the traced peer's end closed, and how: while being stopped, or killed.
        let peer_close = sock.conn().and_then(|c| self.conns.get(c)).and_then(|c| {
            let side = c.side_of(id);
            let (context, killed, failed) = match side {
                Side::Client => (
                    c.record.ends.server,
                    c.record.server_killed,
                    c.record.server_failed,
                ),
                Side::Server => (c.record.ends.client, false, false),
            };
            let end = if killed {
                PeerEnd::Killed
            } else if failed {
                PeerEnd::Failed
            } else if context == Some(ProgramContext::Stopping) {
                PeerEnd::Stopping
            } else {
                PeerEnd::Closed
            };
            c.peer_closed(side).map(|loc| (loc, end))
        });
        let peer = addr
            .or(sock.peer)
            .or_else(|| self.exchanges.get(&id).map(|e| e.peer));
        let Some(peer) = peer.filter(|p| !self.matcher.is_ignored(*p)) else {
            return;
        };
        // An external socket has no traced socket at its other end, whatever its peer's
        // address: also a connect to the program's own host that no traced listener took (a
        // service of that host no trace shows), where the address is a traced host's.
        let peer_traced = !external && !self.is_outside(peer);
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
        // A reset ends a connection under its request; on UDP, an ICMP destination
        // unreachable the request drew (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH on the socket's
        // next call) is the answer it got: both are reported for themselves
        // (`connect-refused`, `connect-filtered`), not as a request left unanswered.
        let reset = outcome.errno.is_some_and(|e| {
            e == Errno::ECONNRESET
                || e == Errno::EPIPE
                || (proto == Proto::Udp && UDP_PATH_ERRNOS.contains(&e))
        });
        let loc = ev.call.loc;
        if reset {
            if let Some(exchange) = self.exchanges.get_mut(&id) {
                exchange.ended();
            }
            return;
        }
        if way == Way::Receive && outcome.errno.is_some_and(|e| e.is_would_block()) {
            // Nothing there yet: from now on the program is looking for what comes.
            self.reading_paused.remove(&id);
        }
        if !moved && !self.exchanges.contains_key(&id) {
            return;
        }
        let exchange = self
            .exchanges
            .entry(id)
            .or_insert_with(|| Exchange::new(peer, proto, peer_traced, way == Way::Send));
        let ended = ended_at(ev);
        let end_of_stream = proto == Proto::Tcp && outcome.value == Some(0);
        if way == Way::Send && proto == Proto::Tcp {
            let asked = whole_send_len(&ev.call.syscall);
            let took = outcome
                .value
                .filter(|_| moved)
                .and_then(|v| u64::try_from(v).ok());
            match took {
                Some(took) if asked.is_some_and(|asked| took < asked) => {
                    exchange.drained();
                    exchange.send_refused(loc);
                }
                Some(_) => exchange.drained(),
                None if outcome.never_returned() => {
                    // A blocking send the program never got back from: its bytes wait in the
                    // buffer, as a request of their own if nothing was pending.
                    exchange.send_refused(loc);
                    exchange.pending.get_or_insert_with(|| Request::new(loc));
                    exchange.no_room(loc, interrupted(outcome));
                }
                None if gave_up => exchange.send_refused(loc),
                None => {}
            }
        }
        if external && end_of_stream && way == Way::Receive && moved {
            self.unobserved_peer_ended.insert(id);
        }
        match way {
            Way::Send if moved => exchange.sent(loc, ended.filter(|_| !before_accept)),
            Way::Receive if moved && end_of_stream => {
                exchange.end_of_stream(loc, peer_close, client, arrival(ev))
            }
            Way::Receive if moved => {
                // Bytes read after the program stopped watching the socket for input may have
                // waited there: when they arrived is unknown.
                let paused = self.reading_paused.remove(&id) && !blocked(ev);
                exchange.received(loc, arrival(ev).filter(|_| !paused), ended_at(ev));
            }
            // A nonblocking receive that finds nothing is how event loops poll: no give-up,
            // but the program is after the answer.
            Way::Receive if gave_up && (blocking || outcome.never_returned()) => {
                exchange.waited_in_vain(loc, true, false, interrupted(outcome));
            }
            Way::Receive if gave_up => exchange.tried_to_read(),
            _ => {}
        }
    }

    /// A readiness wait watching `socks` for reading ended with nothing (timed out, or never
    /// returned); `named` when the wait listed them itself (poll, select), not an epoll set;
    /// each socket with whether it is watched only by an edge-triggered registration.
    pub(in crate::model) fn exchanges_waited_in_vain(
        &mut self,
        socks: &[(SockId, bool)],
        ev: &SocketEvent,
        named: bool,
    ) {
        let cut_short = interrupted(&ev.call.outcome);
        if shutdown_wait(ev) {
            return;
        }
        for (id, generic) in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                exchange.waited_in_vain(ev.call.loc, named, *generic, cut_short);
            }
        }
    }

    /// A readiness wait watching `socks` for writing ended without room in them (timed out,
    /// never returned, cut short by a signal).
    pub(in crate::model) fn exchanges_found_no_room(&mut self, socks: &[SockId], ev: &SocketEvent) {
        // A buffer a working path and a reading peer drain frees room within a round trip; a
        // wait measured shorter than a retransmission timeout proves nothing.
        if ev.call.duration.is_some_and(|d| d < MIN_NO_ROOM_S) {
            return;
        }
        let cut_short = interrupted(&ev.call.outcome);
        for id in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                exchange.no_room(ev.call.loc, cut_short);
            }
        }
    }

    /// A wait that did not block (a zero timeout) found none of `socks` readable. One such
    /// poll shows no waiting, but a program that keeps polling in a loop long after its
    /// request (radclient spins on pselect6 with a zero timeout until its own timer resends)
    /// waits all the same: a poll at least [`POLLED_AFTER`] after the request's last send is
    /// a wait in vain for it.
    pub(in crate::model) fn exchanges_polled_in_vain(
        &mut self,
        socks: &[(SockId, bool)],
        ev: &SocketEvent,
        named: bool,
    ) {
        let Some(now) = ev.call.time else {
            return;
        };
        if shutdown_wait(ev) {
            return;
        }
        for (id, generic) in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                let long_after = exchange
                    .pending
                    .as_ref()
                    .and_then(|r| r.sent_at)
                    .is_some_and(|sent| now - sent >= POLLED_AFTER);
                if long_after {
                    exchange.waited_in_vain(ev.call.loc, named, *generic, false);
                }
            }
        }
    }

    /// A wait reported room in the send buffers of `socks`.
    pub(in crate::model) fn exchanges_writable(&mut self, socks: &[SockId]) {
        for id in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                exchange.drained();
            }
        }
    }

    /// The traced socket `sender`'s request was read by its peer's program on `reader`
    /// (possibly after `sender` gave up on it and was closed). A read after the program had
    /// stopped watching `reader` for input tells nothing of when the request arrived: the
    /// round trip is left untimed.
    pub(in crate::model) fn exchange_delivered(
        &mut self,
        sender: SockId,
        reader: SockId,
        read_at: PeerRead,
        ev: &SocketEvent,
    ) {
        let paused = self.reading_paused.contains(&reader) && !blocked(ev);
        let ended = ended_at(ev).filter(|_| !paused);
        if let Some(exchange) = self.exchanges.get_mut(&sender) {
            exchange.delivered(read_at, ended);
        } else if let Some(exchange) = self.exchanges_awaiting_delivery.get_mut(&sender) {
            exchange.delivered(read_at, ended);
        }
    }

    /// The socket shut down its writing: what it sent was all it had to say.
    pub(in crate::model) fn exchange_write_shut(&mut self, id: SockId) {
        if let Some(exchange) = self.exchanges.get_mut(&id) {
            exchange.shut_write();
        }
    }

    /// The traced peer of `asker` sent it bytes (`ev`): the answer, if a request was read.
    pub(in crate::model) fn exchange_answered(&mut self, asker: SockId, ev: &SocketEvent) {
        if let Some(exchange) = self.exchanges.get_mut(&asker) {
            exchange.answered(ev.call.time);
        }
    }

    /// A wait naming `socks` (`ev`: poll, select) reported them readable. When it blocked, it
    /// ended as the data came.
    pub(in crate::model) fn exchanges_ready(&mut self, socks: &[SockId], ev: &SocketEvent) {
        let Some(ended) = ended_at(ev).filter(|_| blocked(ev)) else {
            return;
        };
        for id in socks {
            if let Some(exchange) = self.exchanges.get_mut(id) {
                exchange.ready_at = Some(ended);
            }
        }
    }

    /// Did bytes or datagrams go missing between the requester and its traced peer: an answer
    /// the peer sent back, or (TCP) the rest of the request? That is loss, which the loss rules
    /// report with both sides' evidence, not silence.
    fn lost_on_the_way(&self, exchange: &Exchange, requester: SockId) -> bool {
        match exchange.read_at {
            // An answer its receiver's host discarded, or may have (sent from another address
            // than the one the requester's socket is connected to), reached that host.
            Some(PeerRead::Datagram { reader, from }) => self
                .flows
                .flow_between(reader, from)
                .is_some_and(|f| self.receiver_connected_elsewhere(&f.to_outcome()).is_none()),
            Some(PeerRead::Stream(conn)) => self.conns.get(conn).is_some_and(|c| {
                let side = c.side_of(requester);
                c.incoming(side).unreceived() > 0 || c.outgoing(side).unreceived() > 0
            }),
            None => false,
        }
    }

    /// The socket is closed (or its trace ended): a request waited for in vain stays
    /// unanswered.
    pub(in crate::model) fn close_exchange(&mut self, id: SockId, finished: bool) {
        self.reading_paused.remove(&id);
        self.unobserved_peer_ended.remove(&id);
        if let Some(mut exchange) = self.exchanges.remove(&id) {
            exchange.give_up(finished);
            if !exchange.awaiting_delivery.is_empty() {
                self.exchanges_awaiting_delivery.insert(id, exchange);
            } else if exchange.first_unanswered.is_some() || exchange.round_trips.count > 0 {
                // Settled at the end: whether a traced peer sent anything back shows only then.
                self.closed_exchanges.push((id, exchange));
            }
        }
    }

    /// At the end of the replay: requests the traced peer read are settled; the others were
    /// lost on the way and are left to the loss rules.
    pub(in crate::model) fn settle_exchanges(&mut self) {
        let mut open: Vec<SockId> = self.exchanges.keys().copied().collect();
        open.sort();
        for id in open {
            self.close_exchange(id, false);
        }
        let mut awaiting: Vec<(SockId, Exchange)> =
            self.exchanges_awaiting_delivery.drain().collect();
        awaiting.sort_by_key(|(id, _)| *id);
        // Datagrams to a port no socket of the traced peer's host had bound when they were
        // sent found nothing there: no loss for the loss rules, requests nobody could answer,
        // as to a peer no trace shows.
        for (id, exchange) in &mut awaiting {
            if exchange.proto != Proto::Udp {
                continue;
            }
            let first_sent = exchange.awaiting_delivery.front().map(|r| r.sent_at);
            if first_sent
                .is_some_and(|at| self.udp_port_unbound_when_sent(exchange.peer, id.trace, at))
            {
                exchange.peer_traced = false;
                exchange.nothing_bound = true;
                for request in std::mem::take(&mut exchange.awaiting_delivery) {
                    exchange.count_unanswered(&request);
                }
            }
        }
        self.closed_exchanges.extend(awaiting);
        let closed = std::mem::take(&mut self.closed_exchanges);
        let settled = closed
            .iter()
            .filter(|(id, e)| !(e.peer_traced && self.lost_on_the_way(e, *id)))
            .filter_map(|(id, e)| e.summary(*id));
        let settled: Vec<UnansweredRequests> = settled.collect();
        self.unanswered.extend(settled);
        self.unanswered.sort_by_key(|u| u.request);
        self.round_trips = closed
            .into_iter()
            .filter(|(_, e)| e.peer_traced && e.round_trips.count > 0)
            .map(|(sock, e)| SocketRoundTrips {
                sock,
                trips: e.round_trips,
            })
            .collect();
        self.round_trips.sort_by_key(|r| r.sock);
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
        if way == Way::Send && errno == Errno::EPIPE && self.unobserved_write_shut.contains(&id) {
            return None; // its own shutdown(SHUT_WR) ended the sending direction
        }
        let peer = sock
            .peer
            .map_or_else(|| "its peer".to_string(), |p| p.to_string());
        // ECONNRESET says a reset arrived, not who sent it: only a peer seen closing (the end
        // of its stream read first) makes it the answer to bytes sent after that close. EPIPE
        // says the connection was over before the send.
        let peer_seen_closing = self.unobserved_peer_ended.contains(&id);
        let (kind, detail) = match (way, errno) {
            (Way::Send, Errno::ECONNRESET) if !peer_seen_closing => (
                DeviationKind::ConnectionReset,
                format!(
                    "the connection of {id} to {peer}, which no trace shows, was reset before \
                     {id} read an end of stream from it (a send failed with ECONNRESET)"
                ),
            ),
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
        self.exchanges
            .get(&id)
            .filter(|e| !e.peer_traced)
            .map(|e| e.peer)
    }
}

/// When a call returned, on its trace's clock (its start plus its `-T` duration).
pub(crate) fn ended_at(ev: &SocketEvent) -> Option<f64> {
    Some(ev.call.time? + ev.call.duration.unwrap_or(0.0))
}

/// When the bytes a receive returned had arrived, as far as its own trace tells: with `-T`, the
/// end of a receive that blocked until they came (one that did not block says nothing, the
/// readiness wait before it may); without durations, the start of the receive, which came after
/// they arrived (a bound that adds the program's own wake-up, far below a retransmission
/// timeout).
fn arrival(ev: &SocketEvent) -> Option<f64> {
    match ev.call.duration {
        Some(_) => ended_at(ev).filter(|_| blocked(ev)),
        None => ev.call.time,
    }
}

/// The call blocked until what it reports happened (see [`MIN_BLOCKED`]).
fn blocked(ev: &SocketEvent) -> bool {
    ev.call.duration.is_some_and(|d| d >= MIN_BLOCKED)
}

/// How many bytes a send was given, when its whole buffer is shown (strace prints a send's
/// buffer up to the count it was given, cut only at its `-s` limit).
fn whole_send_len(call: &crate::parse::Syscall) -> Option<u64> {
    match call {
        crate::parse::Syscall::Send { data, .. } if !data.truncated => {
            u64::try_from(data.shown_len()).ok()
        }
        _ => None,
    }
}

/// A readiness wait that ran its course after the program was asked to stop (SIGTERM, SIGINT,
/// SIGQUIT): a shutdown's own wait (syslog-ng flushing for 100 ms before it exits), not a wait
/// for an answer. Whatever the program gives up after it, it gives up because it was told to
/// stop. A wait the stop request cut short, or one still pending at the end, began before the
/// request and still counts (see `Request::only_interrupted`).
fn shutdown_wait(ev: &SocketEvent) -> bool {
    ev.context == ProgramContext::Stopping
        && !interrupted(&ev.call.outcome)
        && !ev.call.outcome.never_returned()
}

/// A signal cut the call short (EINTR, or `?` with ERESTART* when it was to be restarted).
fn interrupted(outcome: &crate::parse::Outcome) -> bool {
    outcome
        .errno
        .is_some_and(|e| e == Errno::EINTR || e.is_restart())
}
