//! Bulk transfers that stalled on the way: the receiver waited for bytes its traced peer had
//! already handed to its socket.
//!
//! A sender that hands a whole answer to the kernel at once (a `sendfile` of a file, a large
//! `writev`) has nothing left to do: the bytes leave as fast as the path and the receiver's
//! window allow, so the receiver's reads follow each other at the pace of the packets. A
//! receiver that waits a retransmission timeout (at least 200 ms, `TCP_RTO_MIN`) between two
//! pieces of such an answer, with nothing in its queue, waited for bytes that were lost and sent
//! again. Both figures are durations on one host's clock: the receiver's wait (from the first
//! wait that found its queue empty to the receive that got the next bytes) and the sender's span
//! between handing over the bytes before the gap and the bytes after it (the starts of the send
//! calls that held them, the same call for a `sendfile`; for bytes the socket would not take at
//! first, a send that would block or a `sendfile` that moved part of its count, the time of that
//! refusal: the sender was blocked, not pausing). What the first exceeds the second by the
//! network added. A sender that paces its writes (a rate limit, an interactive session) has
//! a span as long as the gap, and is not counted; so is a receiver that reads slowly, since its
//! reads find their bytes waiting.
//!
//! How the receiver shows its wait depends on how it waits. A wait that names the socket (poll,
//! select) starts it; a blocking receive is itself the wait (its `-T` duration, or the time
//! between its `<unfinished ...>` and `<... resumed>` lines). An event loop's epoll wait names
//! no socket, but the first one to report the socket readable after a receive found its queue
//! empty (a would-block, a short read) ends the wait: the bytes arrived while it waited, so at
//! its return when its duration is known (a wait that blocks returns as soon as anything is
//! ready), or by the start of the receive that got them otherwise. Its count starts at that
//! empty receive, or at the wait's own start if later: an event loop busy elsewhere meanwhile
//! may have let the bytes wait in the queue, and time before the wait began is not counted.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::round_trips::MIN_BLOCKED;
use super::socket::Proto;
use super::tcp::{ConnId, Side};
use super::{Model, Verdict};
use crate::fold::SocketEvent;
use crate::parse::{Fd, Syscall, WaitFd};
use crate::source::{Loc, SockId};

/// The slowest stalls kept per receiving socket (a memory bound for the evidence).
const SLOWEST_KEPT: usize = 8;
/// Send calls remembered per direction ahead of the receiver: a memory bound; a receiver that
/// falls further behind is not measured until it catches up.
const SENDS_KEPT: usize = 4096;

/// One send call's share of a byte stream.
#[derive(Debug, Clone, Copy)]
struct SentPart {
    /// Stream offset just past its last byte.
    end: u64,
    /// When the call started (sender's clock): when it offered these bytes.
    started: f64,
    loc: Loc,
    /// Which answer it belongs to: the sender's receives on the connection separate answers.
    answer: u32,
}

/// One direction of a connection, as the receiver waits for it.
#[derive(Debug, Clone, Default)]
struct DirectionWatch {
    sends: VecDeque<SentPart>,
    /// The sender's answers so far (incremented when it receives on the connection).
    answer: u32,
    /// Since when the sender has had bytes its socket would not take yet (a send that would
    /// block, a `sendfile` that moved only part of its count): the bytes it sends next were
    /// offered then (sender's clock).
    offered_since: Option<f64>,
    /// A send had no timestamp, or the sends overflowed [`SENDS_KEPT`]: the span is unknown.
    untimed: bool,
    /// The receiver's last look found its queue empty (a short read, a would-block, a wait
    /// that reported nothing readable).
    drained: bool,
    /// The receive that last found the queue empty: when it returned (receiver's clock), where.
    emptied: Option<(f64, Loc)>,
    /// Since then, the first wait naming the socket for reading: start time and where.
    waiting_since: Option<(f64, Loc)>,
    /// Since `emptied`, the first epoll wait that reported the socket readable.
    reported: Option<ReportedReady>,
}

/// An epoll wait reported the receiving socket readable after its queue was found empty.
#[derive(Debug, Clone, Copy)]
struct ReportedReady {
    /// From when the receiver waited: the empty receive, or the wait's start if later.
    since: f64,
    /// When the wait returned, if its duration is known.
    until: Option<f64>,
    /// Where the counted wait began (the empty receive or the wait).
    loc: Loc,
}

/// A stall inside one answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TransferStall {
    /// Seconds the receiver waited beyond the sender's own span for the same bytes.
    pub network: f64,
    /// The receiver's wait, and the sender's span (each on its own host's clock).
    pub waited: f64,
    pub sender_span: f64,
    /// Where the receiver started waiting, the receive that ended the wait, and the send
    /// call that had offered its bytes.
    pub wait: Loc,
    pub receive: Loc,
    pub sent: Loc,
}

/// The stalls of one receiving socket: how many, and the slowest few (slowest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketTransferStalls {
    pub receiver: SockId,
    pub count: u32,
    pub slowest: Vec<TransferStall>,
}

/// The model's bookkeeping: each watched direction, by connection and receiving side.
#[derive(Debug, Default)]
pub(in crate::model) struct TransferStallWatch {
    directions: HashMap<(ConnId, bool), DirectionWatch>,
    stalls: HashMap<SockId, SocketTransferStalls>,
}

fn key(conn: ConnId, receiver: Side) -> (ConnId, bool) {
    (conn, receiver == Side::Client)
}

impl DirectionWatch {
    /// The send call holding the byte at `offset`.
    fn holding(&self, offset: u64) -> Option<&SentPart> {
        // Offsets only grow: the calls are in stream order.
        let at = self.sends.partition_point(|p| p.end <= offset);
        self.sends.get(at)
    }

    /// The sender's span between offering the byte before `first` and the byte `first`, when
    /// both belong to one answer.
    fn span_before(&self, first: u64) -> Option<(f64, &SentPart)> {
        if self.untimed || first == 0 {
            return None;
        }
        let before = self.holding(first - 1)?;
        let after = self.holding(first)?;
        (before.answer == after.answer).then_some((after.started - before.started, after))
    }

    /// Forgets the sends wholly received, keeping the one that holds the last byte received.
    fn received_up_to(&mut self, end: u64) {
        while self.sends.front().is_some_and(|p| p.end < end) {
            self.sends.pop_front();
        }
    }
}

impl SocketTransferStalls {
    fn add(&mut self, stall: TransferStall) {
        self.count = self.count.saturating_add(1);
        let at = self
            .slowest
            .partition_point(|kept| kept.network >= stall.network);
        if at < SLOWEST_KEPT {
            self.slowest.insert(at, stall);
            self.slowest.truncate(SLOWEST_KEPT);
        }
    }
}

impl Model<'_> {
    /// The TCP connection and side of the socket `fd` names in `ev`.
    fn stall_side(&self, ev: &SocketEvent, fd: Fd) -> Option<(SockId, ConnId, Side)> {
        let id = ev.sock(fd)?;
        let sock = self.sockets.get(&id)?;
        if sock.proto != Proto::Tcp {
            return None;
        }
        let conn = sock.conn()?;
        let side = self.conns.get(conn)?.side_of(id);
        Some((id, conn, side))
    }

    /// Notes a placed transfer call in the stall bookkeeping. Only calls the model accepted
    /// move its streams as they say.
    pub(in crate::model) fn watch_transfer_stalls(&mut self, ev: &SocketEvent, verdict: &Verdict) {
        let outcome = &ev.call.outcome;
        if !matches!(verdict, Verdict::Accept) {
            return;
        }
        match &ev.call.syscall {
            Syscall::Send { fd, .. } | Syscall::CopyFile { out_fd: fd, .. }
                if outcome.is_success() && outcome.value.is_some_and(|v| v > 0) =>
            {
                self.stall_sent(ev, *fd);
                let partial = match ev.call.syscall {
                    Syscall::CopyFile { count, .. } => outcome
                        .value
                        .is_some_and(|v| u64::try_from(v).is_ok_and(|v| v < count)),
                    _ => false,
                };
                if partial {
                    self.stall_send_held_back(ev, *fd);
                }
            }
            Syscall::Send { fd, .. } | Syscall::CopyFile { out_fd: fd, .. }
                if outcome.errno.is_some_and(|e| e.is_would_block()) =>
            {
                self.stall_send_held_back(ev, *fd);
            }
            Syscall::Recv {
                fd, buf_len, flags, ..
            } if !flags.peek && !flags.errqueue => {
                let got = outcome
                    .value
                    .filter(|_| outcome.is_success())
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or(0);
                if got > 0 {
                    self.stall_received(ev, *fd, got, *buf_len);
                } else if outcome.errno.is_some_and(|e| e.is_would_block()) {
                    let emptied = returned_at(ev).map(|t| (t, ev.call.loc));
                    if let Some(w) = self.stall_incoming(ev, *fd) {
                        w.drained = true;
                        w.emptied = emptied;
                        // Still empty: an earlier report was not of the bytes to come.
                        w.reported = None;
                    }
                }
            }
            Syscall::Wait {
                fds,
                epoll_fd: Some(_),
                ..
            } if outcome.is_success() => self.stall_epoll_reported(ev, fds),
            _ => {}
        }
    }

    /// An epoll wait returned: for each socket it reported readable whose queue a receive
    /// found empty since its last bytes, the bytes came while it waited (see the module
    /// comment).
    fn stall_epoll_reported(&mut self, ev: &SocketEvent, fds: &[WaitFd]) {
        let Some(start) = ev.call.time else {
            return;
        };
        let until = ev.call.duration.map(|d| start + d);
        for w in fds.iter().filter(|w| w.got.read) {
            let Some(watch) = self.stall_incoming(ev, w.fd) else {
                continue;
            };
            let Some((emptied_at, emptied_loc)) = watch.emptied else {
                continue;
            };
            if watch.reported.is_some() || watch.waiting_since.is_some() {
                continue;
            }
            let (since, loc) = if start > emptied_at {
                (start, ev.call.loc)
            } else {
                (emptied_at, emptied_loc)
            };
            watch.reported = Some(ReportedReady { since, until, loc });
        }
    }

    /// The watch of the direction `fd`'s socket receives.
    fn stall_incoming(&mut self, ev: &SocketEvent, fd: Fd) -> Option<&mut DirectionWatch> {
        let (_, conn, side) = self.stall_side(ev, fd)?;
        Some(
            self.transfer_stalls
                .directions
                .entry(key(conn, side))
                .or_default(),
        )
    }

    fn stall_sent(&mut self, ev: &SocketEvent, fd: Fd) {
        let Some((_, conn, side)) = self.stall_side(ev, fd) else {
            return;
        };
        let receiver = other_side(side);
        let Some(end) = self.conns.get(conn).map(|c| c.outgoing(side).stats.sent) else {
            return;
        };
        let watch = self
            .transfer_stalls
            .directions
            .entry(key(conn, receiver))
            .or_default();
        let Some(started) = ev.call.time else {
            watch.untimed = true;
            return;
        };
        if watch.sends.len() >= SENDS_KEPT {
            watch.untimed = true;
            return;
        }
        let answer = watch.answer;
        // Bytes the socket would not take earlier were offered when it refused them.
        let offered = watch
            .offered_since
            .take()
            .map_or(started, |t| t.min(started));
        watch.sends.push_back(SentPart {
            end,
            started: offered,
            loc: ev.call.loc,
            answer,
        });
    }

    /// The sender's socket would not take all it was given (`ev`): what it sends next it
    /// offered from now on.
    fn stall_send_held_back(&mut self, ev: &SocketEvent, fd: Fd) {
        let Some((_, conn, side)) = self.stall_side(ev, fd) else {
            return;
        };
        let Some(time) = ev.call.time else {
            return;
        };
        let watch = self
            .transfer_stalls
            .directions
            .entry(key(conn, other_side(side)))
            .or_default();
        watch.offered_since.get_or_insert(time);
    }

    fn stall_received(&mut self, ev: &SocketEvent, fd: Fd, got: u64, asked: u64) {
        let Some((id, conn, side)) = self.stall_side(ev, fd) else {
            return;
        };
        let Some(end) = self
            .conns
            .get(conn)
            .map(|c| c.incoming(side).stats.received)
        else {
            return;
        };
        // This side speaks next: what it sends after this is another answer.
        let watches = &mut self.transfer_stalls.directions;
        let other = watches.entry(key(conn, other_side(side))).or_default();
        other.answer = other.answer.saturating_add(1);
        let watch = watches.entry(key(conn, side)).or_default();
        let first = end.saturating_sub(got);
        let waited = match (watch.waiting_since, watch.reported, ev.call.time) {
            (Some((since, at)), _, Some(now)) => Some((now - since, at)),
            (None, Some(r), Some(now)) => Some((r.until.unwrap_or(now) - r.since, r.loc)),
            // A blocking receive that was itself the wait.
            (None, None, Some(_)) if watch.drained => ev
                .call
                .duration
                .filter(|d| *d >= MIN_BLOCKED)
                .map(|d| (d, ev.call.loc)),
            _ => None,
        };
        let stall = waited.and_then(|(waited, wait)| {
            let (span, sent) = watch.span_before(first)?;
            (span >= 0.0).then_some(TransferStall {
                network: waited - span,
                waited,
                sender_span: span,
                wait,
                receive: ev.call.loc,
                sent: sent.loc,
            })
        });
        watch.drained = got < asked;
        watch.emptied = returned_at(ev)
            .filter(|_| watch.drained)
            .map(|t| (t, ev.call.loc));
        watch.waiting_since = None;
        watch.reported = None;
        watch.received_up_to(end);
        if let Some(stall) = stall.filter(|s| s.network > 0.0) {
            self.transfer_stalls
                .stalls
                .entry(id)
                .or_insert_with(|| SocketTransferStalls {
                    receiver: id,
                    count: 0,
                    slowest: Vec::new(),
                })
                .add(stall);
        }
    }

    /// A readiness wait that names its descriptors (poll, select) watched `fds`: for a socket
    /// it watched for reading, it starts the receiver's wait once the queue is known empty, and
    /// shows the queue empty when it reported nothing to read.
    pub(in crate::model) fn stall_watch_waited(&mut self, ev: &SocketEvent, fds: &[WaitFd]) {
        let Some(time) = ev.call.time else {
            return;
        };
        for w in fds.iter().filter(|w| w.wanted.read) {
            let nothing = !w.got.read && !w.got.error && !w.got.hangup;
            let Some(watch) = self.stall_incoming(ev, w.fd) else {
                continue;
            };
            if nothing && ev.call.outcome.is_success() {
                watch.drained = true;
            }
            if watch.drained && watch.waiting_since.is_none() {
                watch.waiting_since = Some((time, ev.call.loc));
            }
        }
    }

    /// Connection `conn` is forgotten (it ended cleanly): so is its bookkeeping.
    pub(in crate::model) fn transfer_stalls_forget(&mut self, conn: ConnId) {
        let watches = &mut self.transfer_stalls.directions;
        watches.remove(&(conn, true));
        watches.remove(&(conn, false));
    }

    /// Every receiving socket's stalls, in socket order.
    pub(in crate::model) fn take_transfer_stalls(&mut self) -> Vec<SocketTransferStalls> {
        let watch = std::mem::take(&mut self.transfer_stalls);
        let mut stalls: Vec<SocketTransferStalls> = watch.stalls.into_values().collect();
        stalls.sort_by_key(|s| s.receiver);
        stalls
    }
}

/// When the call returned, on its trace's clock: its start plus its duration when known.
fn returned_at(ev: &SocketEvent) -> Option<f64> {
    ev.call
        .time
        .map(|t| t + ev.call.duration.unwrap_or(0.0).max(0.0))
}

fn other_side(side: Side) -> Side {
    match side {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}
