//! Connections a traced server accepted from peers no trace shows (clients unobserved, or
//! outside the configuration). The server's side is all there is, so such a socket is not
//! replayed; what its program did with it is still counted here, because a server's load and the
//! way it turns clients away are its own to show: how many connections it held when it took
//! this one, what it sent, whether it read anything, who closed first. They count in the
//! listener's load (connections held, closes), not in what it answered: an answered connection
//! there says the server was serving the traced clients' peers, and a connection from an
//! unknown address may be a traced client's seen through a NAT.

use std::net::SocketAddr;

use serde::Serialize;

use crate::fold::{ProgramContext, SocketEvent, SyntheticReason};
use crate::model::SHORT_MESSAGE;
use crate::model::{Model, Verdict};
use crate::parse::{EpollOp, Syscall};
use crate::source::{Loc, SockId, TraceId};

/// What the server did with one connection accepted from an unobserved peer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnobservedAccept {
    pub listener: SockId,
    pub server: SockId,
    pub accept_loc: Loc,
    /// Connections of the listener the server held open when it accepted this one.
    pub open_at_accept: u32,
    /// Bytes the server sent, in how many sends.
    pub sent: u64,
    pub sends: u32,
    /// The server read bytes from it.
    pub read_bytes: bool,
    /// The server read the end of the stream: the client closed first.
    pub read_end: bool,
    /// The server tried to read it, sent on it, or watched it for readiness, or the thread
    /// that accepted it waited for anything before closing it: it took the connection on,
    /// whatever it did with it next.
    pub engaged: bool,
    /// The accepting thread and its count of waits at the accept.
    #[serde(skip)]
    accepted_by: (u32, u64),
    /// Where the server closed it.
    pub close_loc: Option<Loc>,
    /// The program closed it itself (or exited holding it), not stopped: no kill, no stop
    /// signal before, not the trace's end.
    pub closed_by_program: bool,
}

impl UnobservedAccept {
    /// Answered with one short message (see [`SHORT_MESSAGE`]) and closed by the server program,
    /// running, before the client closed: a rejection, or any brief exchange.
    pub fn answered_short(&self) -> bool {
        self.closed_by_program
            && !self.read_end
            && (1..=SHORT_MESSAGE).contains(&self.sent)
            && self.sends <= 2
    }

    /// Closed by the server program, running, with nothing read, nothing sent and never
    /// watched: refused without a word (Mosquitto at `max_connections`, a TCP wrapper's deny).
    /// A connection dropped for being idle was watched first.
    pub fn refused_in_silence(&self) -> bool {
        self.closed_by_program
            && !self.engaged
            && self.sends == 0
            && !self.read_bytes
            && !self.read_end
    }

    /// Turned away at once: answered short or refused in silence.
    pub fn turned_away(&self) -> bool {
        self.answered_short() || self.refused_in_silence()
    }
}

impl Model<'_> {
    /// Is `peer` an address of the host `trace` runs on: loopback, one of the host's declared
    /// addresses, or the address the socket itself is bound to?
    pub(in crate::model) fn is_own_host_peer(
        &self,
        trace: TraceId,
        bound_to: SocketAddr,
        peer: SocketAddr,
    ) -> bool {
        let ip = peer.ip();
        ip.is_loopback()
            || (!ip.is_unspecified() && ip == bound_to.ip())
            || self
                .topology
                .host_of(trace)
                .is_some_and(|h| h.ips.contains(&ip))
    }

    /// A connection from the server's own host that no traced connect supplies, accepted once
    /// nothing else could move: a trace shows one program, not every process of its host, and
    /// local health checks, monitoring agents and command-line clients connect this way. The
    /// connection is one from an unobserved peer, and the wait for it was no gap in the order.
    pub(in crate::model) fn accept_from_untraced_neighbour(
        &mut self,
        listener: SockId,
        server: SockId,
        at: (Loc, u32),
    ) -> Verdict {
        self.track_unobserved_accept(listener, server, at);
        self.force_expected = true;
        Verdict::NotModelled
    }

    /// A connect to the client's own host that no traced listener took, let through once
    /// nothing else could move: the service is another program of that host, one no trace
    /// shows (a local database, a cache, a resolver's TCP port).
    pub(in crate::model) fn connected_to_untraced_neighbour(&mut self) -> Verdict {
        self.force_expected = true;
        Verdict::NotModelled
    }

    /// `listener` accepted `server` from an unobserved peer at `loc`, in thread `pid`.
    pub(in crate::model) fn track_unobserved_accept(
        &mut self,
        listener: SockId,
        server: SockId,
        (loc, pid): (Loc, u32),
    ) {
        let open_at_accept = self.load_accepted_alone(listener);
        let waits = self
            .thread_waits
            .get(&(loc.trace, pid))
            .copied()
            .unwrap_or(0);
        self.unobserved_accepts.insert(
            server,
            UnobservedAccept {
                listener,
                server,
                accept_loc: loc,
                open_at_accept,
                sent: 0,
                sends: 0,
                read_bytes: false,
                read_end: false,
                engaged: false,
                accepted_by: (pid, waits),
                close_loc: None,
                closed_by_program: false,
            },
        );
    }

    /// Counts what `ev` did on a connection accepted from an unobserved peer, and settles the
    /// connection when the server closes it.
    pub(in crate::model) fn note_unobserved_accept_call(&mut self, ev: &SocketEvent) {
        if self.unobserved_accepts.is_empty() {
            return;
        }
        if matches!(ev.call.syscall, Syscall::Wait { .. }) {
            let waits = self
                .thread_waits
                .entry((ev.call.loc.trace, ev.call.pid))
                .or_default();
            *waits = waits.saturating_add(1);
        }
        let Some(&(_, id)) = ev.socks.first() else {
            return;
        };
        let Some(record) = self.unobserved_accepts.get_mut(&id) else {
            return;
        };
        let moved = ev
            .call
            .outcome
            .value
            .filter(|_| ev.call.outcome.is_success());
        if matches!(
            ev.call.syscall,
            Syscall::Recv { .. } | Syscall::RecvMany { .. }
        ) {
            record.engaged = true;
        }
        match &ev.call.syscall {
            Syscall::Send { .. } | Syscall::SendMany { .. } | Syscall::CopyFile { .. } => {
                record.engaged = true;
                if let Some(n) = moved.filter(|n| *n > 0) {
                    record.sent = record.sent.saturating_add(n.unsigned_abs());
                    record.sends = record.sends.saturating_add(1);
                }
            }
            Syscall::EpollCtl { op, .. } if *op != EpollOp::Del => record.engaged = true,
            Syscall::Wait { .. } => record.engaged = true,
            Syscall::Recv { .. } | Syscall::RecvMany { .. } => match moved {
                Some(0) if matches!(ev.call.syscall, Syscall::Recv { .. }) => {
                    record.read_end = true
                }
                Some(n) if n > 0 => record.read_bytes = true,
                _ => {}
            },
            Syscall::Close { .. } if ev.call.outcome.is_success() || ev.synthetic.is_some() => {
                record.close_loc = Some(ev.call.loc);
                let (pid, waits_then) = record.accepted_by;
                let waits_now = self.thread_waits.get(&(ev.call.loc.trace, pid)).copied();
                if ev.call.pid != pid || waits_now.unwrap_or(0) > waits_then {
                    record.engaged = true;
                }
                // Its own close or its own exit (a forked handler that refuses and exits, as
                // PostgreSQL's does); not a kill, the trace's end, or anything after a stop.
                let own = !matches!(
                    ev.synthetic,
                    Some(SyntheticReason::ProcessKilled | SyntheticReason::EndOfTrace)
                );
                record.closed_by_program = own && ev.context != ProgramContext::Stopping;
                let listener = record.listener;
                if let Some(done) = self.unobserved_accepts.remove(&id) {
                    self.load_server_closed(listener, ev.call.time);
                    if done.turned_away() {
                        self.load_answered_short(listener, done.open_at_accept);
                        self.unobserved_answered_short.push(done);
                    }
                }
            }
            _ => {}
        }
    }
}
