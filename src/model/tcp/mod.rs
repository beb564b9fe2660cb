//! TCP connections: one record per connection, one byte stream per direction.
//!
//! A stream keeps the unreceived bytes as chunks of (length, known prefix): strace shows only
//! part of large or truncated payloads and `sendfile` shows none, so only bytes actually shown on
//! both sides are ever compared. Content is dropped as soon as it is received or the connection
//! is closed on both ends; the counters stay for the outcome.
//!
//! The model's TCP calls live beside it: set-up (connect, its completion, accept) in `connect`,
//! send and receive on the streams in `stream`.

pub mod accept_queue;
pub(super) mod connect;
pub mod load;
pub mod one_sided;
pub mod queue_wait;
pub(super) mod stream;
pub mod table;
mod unknown_port;

use std::collections::VecDeque;

use super::outcome::{ConnectionEnds, Counters, LateAccept, Stream, TcpConnection};
use super::summary::ConnState;
use crate::fold::ProgramContext;
use crate::source::{Loc, SockId};

/// Index of a connection in the model's connection table.
pub type ConnId = usize;

/// Which end of a connection a socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

#[derive(Debug, Clone)]
struct Chunk {
    len: u64,
    /// The first bytes of the chunk whose content is known (all of them for a fully shown send).
    known: Vec<u8>,
}

/// One direction of a connection.
#[derive(Debug, Clone, Default)]
pub struct Direction {
    pub stats: Counters,
    /// What was sent and not yet received. Absent until the first send: a run may hold a
    /// million connections that carry nothing one way, and two empty queues would cost each
    /// of them 64 bytes.
    in_flight: Option<Box<InFlight>>,
    /// Content is no longer compared (after a mismatch or a forced receive); counts still move.
    pub desync: bool,
    pub overrun_reported: bool,
}

/// The unreceived part of a direction.
#[derive(Debug, Clone, Default)]
struct InFlight {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already received.
    front_offset: u64,
    /// Sends with bytes still unreceived, oldest first: (stream offset just past the send,
    /// where, when). Kept even without content, for the timing of unreceived bytes.
    unreceived_sends: VecDeque<(u64, Loc, Option<f64>)>,
    /// The current run of back-to-back sends: its bytes and when its last send started.
    burst: Option<(u64, f64)>,
}

/// Sends that start within this many seconds of the previous one are one burst: a program
/// writing out a buffer in a loop issues its calls microseconds apart, faster than any path
/// acknowledges a segment, so the kernel queues their bytes and cuts full-size segments from
/// them (Nagle's algorithm and autocorking, tcp(7)); a program that waits for anything between
/// two writes takes far longer than a millisecond.
pub const BURST_GAP_S: f64 = 0.001;

impl Direction {
    pub fn unreceived(&self) -> u64 {
        self.stats.unreceived()
    }

    /// Appends `len` bytes of which the first `known.len()` are known, sent at `loc` (at `time`
    /// when the trace has timestamps).
    pub fn push(&mut self, len: u64, known: &[u8], loc: Loc, time: Option<f64>) {
        if len == 0 {
            return;
        }
        self.stats.sent += len;
        let in_flight = self.in_flight.get_or_insert_with(Box::default);
        in_flight
            .unreceived_sends
            .push_back((self.stats.sent, loc, time));
        self.stats.sends += 1;
        self.stats.largest_send = self.stats.largest_send.max(len);
        if let Some(start) = time {
            let run = match in_flight.burst {
                Some((bytes, last)) if (0.0..=BURST_GAP_S).contains(&(start - last)) => bytes + len,
                _ => len,
            };
            in_flight.burst = Some((run, start));
            self.stats.largest_burst = self.stats.largest_burst.max(run);
        }
        self.stats.last_send = Some(loc);
        if !self.desync {
            let shown = known.len().min(usize::try_from(len).unwrap_or(usize::MAX));
            in_flight.chunks.push_back(Chunk {
                len,
                known: known[..shown].to_vec(),
            });
        }
    }

    /// Do the received bytes `shown` agree with the known content at the front of the stream?
    /// Only positions known on both sides are compared.
    pub fn agrees(&self, shown: &[u8]) -> bool {
        if self.desync {
            return true;
        }
        let Some(in_flight) = self.in_flight.as_deref() else {
            return true;
        };
        let mut pos = 0usize;
        let mut offset = in_flight.front_offset;
        for chunk in &in_flight.chunks {
            if pos >= shown.len() {
                break;
            }
            let available = chunk.len.saturating_sub(offset);
            let take = usize::try_from(available)
                .unwrap_or(usize::MAX)
                .min(shown.len() - pos);
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            if start < chunk.known.len() {
                let end = chunk.known.len().min(start + take);
                let known = &chunk.known[start..end];
                if known != &shown[pos..pos + known.len()] {
                    return false;
                }
            }
            pos += take;
            offset = 0;
        }
        true
    }

    /// Marks `n` bytes received (at most what is unreceived).
    pub fn consume(&mut self, n: u64) {
        let n = n.min(self.unreceived());
        self.stats.received += n;
        if self.stats.unreceived() == 0 {
            self.stats.last_send = None;
        }
        let received = self.stats.received;
        let Some(in_flight) = self.in_flight.as_deref_mut() else {
            return;
        };
        while in_flight
            .unreceived_sends
            .front()
            .is_some_and(|(end, _, _)| *end <= received)
        {
            in_flight.unreceived_sends.pop_front();
        }
        let mut left = n;
        while left > 0 {
            let Some(front) = in_flight.chunks.front() else {
                break;
            };
            let available = front.len - in_flight.front_offset;
            if available <= left {
                left -= available;
                in_flight.front_offset = 0;
                in_flight.chunks.pop_front();
            } else {
                in_flight.front_offset += left;
                left = 0;
            }
        }
    }

    /// Stops following content (counts only from now on) and frees it.
    pub fn forget_content(&mut self) {
        self.desync = true;
        if let Some(in_flight) = self.in_flight.as_deref_mut() {
            in_flight.chunks = VecDeque::new();
            in_flight.front_offset = 0;
            if in_flight.unreceived_sends.is_empty() {
                self.in_flight = None;
            }
        }
    }

    /// The stream's counters for the outcome, with the oldest unreceived send.
    pub fn outcome(&self) -> Stream {
        let oldest = self
            .in_flight
            .as_deref()
            .and_then(|f| f.unreceived_sends.front());
        Stream {
            stats: self.stats.clone(),
            first_unreceived_send: oldest.map(|(_, loc, _)| *loc),
            first_unreceived_time: oldest.and_then(|(_, _, time)| *time),
        }
    }

    /// Bytes of content currently held (for memory accounting in tests).
    pub fn held_bytes(&self) -> usize {
        self.in_flight
            .as_deref()
            .map_or(0, |f| f.chunks.iter().map(|c| c.known.len()).sum())
    }
}

/// One TCP connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// What the outcome reports, with the live byte streams.
    pub record: TcpConnection<Direction>,
    pub client_closed: Option<Loc>,
    pub server_closed: Option<Loc>,
    /// The listener closed before accepting: the kernel reset the connection.
    pub reset_by_listener: Option<Loc>,
    /// The server read the client's end of stream (a receive returned 0).
    pub server_read_eof: bool,
    /// Trace clock of the connect and of the latest close, when the traces show them.
    pub opened_at: Option<f64>,
    pub closed_at: Option<f64>,
    /// When the server accepted this connection, it had sent nothing yet on any connection of
    /// the same listener (see [`LateAccept::while_starting`]).
    pub accepted_while_starting: bool,
    /// Trace clock of the server's accept, when the trace shows it.
    pub accepted_at: Option<f64>,
    /// What measures this connection's wait in the listen queue.
    pub queue: queue_wait::QueueWatch,
}

impl Connection {
    pub fn new(client: SockId, listener: Option<SockId>, connect_loc: Loc) -> Self {
        Connection {
            record: TcpConnection {
                client,
                server: None,
                listener,
                client_view: (None, None),
                server_view: (None, None),
                connect_loc,
                accept_loc: None,
                to_server: Direction::default(),
                to_client: Direction::default(),
                wait_timed_out_with_data: false,
                server_close: None,
                server_closed_first: false,
                server_killed: false,
                server_failed: false,
                ends: ConnectionEnds::default(),
                late_accept: None,
                client_held: None,
                queue_wait: None,
                open_at_accept: 0,
            },
            client_closed: None,
            server_closed: None,
            reset_by_listener: None,
            server_read_eof: false,
            opened_at: None,
            closed_at: None,
            accepted_while_starting: false,
            accepted_at: None,
            queue: Default::default(),
        }
    }

    pub fn side_of(&self, sock: SockId) -> Side {
        if sock == self.record.client {
            Side::Client
        } else {
            Side::Server
        }
    }

    pub fn outgoing(&self, side: Side) -> &Direction {
        match side {
            Side::Client => &self.record.to_server,
            Side::Server => &self.record.to_client,
        }
    }

    pub fn outgoing_mut(&mut self, side: Side) -> &mut Direction {
        match side {
            Side::Client => &mut self.record.to_server,
            Side::Server => &mut self.record.to_client,
        }
    }

    pub fn incoming(&self, side: Side) -> &Direction {
        match side {
            Side::Client => &self.record.to_client,
            Side::Server => &self.record.to_server,
        }
    }

    pub fn incoming_mut(&mut self, side: Side) -> &mut Direction {
        match side {
            Side::Client => &mut self.record.to_client,
            Side::Server => &mut self.record.to_server,
        }
    }

    /// The socket at the other end (None while not accepted).
    pub fn peer_of(&self, side: Side) -> Option<SockId> {
        match side {
            Side::Client => self.record.server,
            Side::Server => Some(self.record.client),
        }
    }

    /// Where the other end closed its socket (or the listener dropped the connection).
    pub fn peer_closed(&self, side: Side) -> Option<Loc> {
        match side {
            Side::Client => self.server_closed.or(self.reset_by_listener),
            Side::Server => self.client_closed,
        }
    }

    /// The server accepted the connection after its client had closed it.
    pub fn note_late_accept(&mut self) {
        self.record.late_accept = Some(LateAccept {
            while_starting: self.accepted_while_starting,
        });
    }

    /// The client closed at `time`: when the replay placed the accept first but the clocks,
    /// as they read, put the accept later, the accept was late as far as the traces tell (the
    /// two orders differ by less than clocks of two hosts can settle; the rules weigh it with
    /// what the client received). `one_clock`: the server's times can be set against the
    /// client's.
    pub fn client_closed_at(&mut self, time: Option<f64>, one_clock: bool) {
        self.record.client_held = match (self.opened_at, time) {
            (Some(connected), Some(closed)) if closed >= connected => Some(closed - connected),
            _ => None,
        };
        let accepted_later = match (time, self.accepted_at) {
            (Some(closed), Some(accepted)) => one_clock && accepted > closed,
            _ => false,
        };
        if accepted_later && self.record.late_accept.is_none() {
            self.note_late_accept();
        }
    }

    pub fn set_closed(&mut self, side: Side, loc: Loc, context: ProgramContext) {
        match side {
            Side::Client => {
                self.client_closed = Some(loc);
                self.record.ends.client = Some(context);
            }
            Side::Server => {
                self.record.ends.server = Some(context);
                self.server_closed = Some(loc);
                self.record.server_close = Some(loc);
                self.record.server_closed_first = !self.server_read_eof;
            }
        }
        self.outgoing_mut(side).stats.closed_by_sender = true;
        self.incoming_mut(side).stats.closed_by_receiver = true;
        if self.both_closed() {
            self.record.to_server.forget_content();
            self.record.to_client.forget_content();
        }
    }

    pub fn both_closed(&self) -> bool {
        let server_done = self.server_closed.is_some() || self.reset_by_listener.is_some();
        self.client_closed.is_some() && server_done
    }

    pub fn to_outcome(&self) -> TcpConnection {
        self.record.map_streams(Direction::outcome)
    }

    /// How the connection stands: how it ended, or that it is still open.
    pub fn state(&self) -> ConnState {
        let record = &self.record;
        if record.server.is_none() {
            return match (record.listener, self.reset_by_listener) {
                (None, _) => ConnState::ToUntracedPeer,
                (Some(_), Some(_)) => ConnState::Reset,
                (Some(_), None) => ConnState::NotAccepted,
            };
        }
        if !self.both_closed() {
            return ConnState::OpenAtEnd;
        }
        let lost = record.to_server.unreceived() + record.to_client.unreceived();
        if lost > 0 {
            ConnState::ClosedWithDataUnreceived
        } else {
            ConnState::ClosedNormally
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    fn loc() -> Loc {
        Loc::new(TraceId(0), 1)
    }

    #[test]
    fn only_shown_bytes_are_compared() {
        let mut d = Direction::default();
        d.push(5, b"hel", loc(), None); // truncated send: 2 unknown bytes
        d.push(3, b"abc", loc(), None);
        assert!(d.agrees(b"helXYab"));
        assert!(!d.agrees(b"hex"));
        assert!(!d.agrees(b"hel__abd"));
    }

    #[test]
    fn consuming_moves_through_chunks() {
        let mut d = Direction::default();
        d.push(4, b"abcd", loc(), None);
        d.push(4, b"efgh", loc(), None);
        d.consume(3);
        assert!(d.agrees(b"def"));
        d.consume(3);
        assert!(d.agrees(b"gh"));
        assert_eq!(d.unreceived(), 2);
        d.consume(2);
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn the_oldest_unreceived_send_follows_the_receiver() {
        let mut d = Direction::default();
        let (first, second) = (Loc::new(TraceId(0), 1), Loc::new(TraceId(0), 2));
        d.push(4, b"abcd", first, Some(1.0));
        d.push(4, b"efgh", second, Some(2.0));
        assert_eq!(d.outcome().first_unreceived_send, Some(first));
        d.consume(5); // the first send is fully received, the second only partly
        assert_eq!(d.outcome().first_unreceived_send, Some(second));
        assert_eq!(d.outcome().first_unreceived_time, Some(2.0));
        d.forget_content();
        d.consume(3);
        assert_eq!(d.outcome().first_unreceived_send, None);
    }

    /// The start times of java/mtu-black-hole-tcp--jbulk--jsink--record's client writes
    /// (client.trace.zst:414-416: 1024 bytes each at .341281, .341321, .341445), then one a
    /// second later.
    #[test]
    fn writes_microseconds_apart_are_one_burst() {
        let mut d = Direction::default();
        for start in [
            1_796_635_649.341_281,
            1_796_635_649.341_321,
            1_796_635_649.341_445,
        ] {
            d.push(1024, b"", loc(), Some(start));
        }
        assert_eq!(d.stats.largest_burst, 3072);
        d.push(1024, b"", loc(), Some(1_796_635_650.341_445));
        assert_eq!(d.stats.largest_burst, 3072);
        assert_eq!(d.stats.largest_send, 1024);
    }

    #[test]
    fn content_unknown_sends_never_mismatch() {
        let mut d = Direction::default();
        d.push(10, b"", loc(), None);
        assert!(d.agrees(b"anything!!"));
    }
}
