//! How long a connection waited in its listener's queue behind the connections the server held.
//!
//! A server that serves a fixed number of connections at a time leaves the next one in the
//! listen queue (the kernel completed its handshake) until it closes one it holds. The client's
//! connect completes at once, and its answer comes late. Two facts show it, each on one host's
//! clock: the client waited from its request to the answer's first byte; the server took from its
//! accept to its first byte of answer. What the first adds to the second, less one round trip
//! (the client's connect took one), the connection spent queued (or on the network: the rule
//! asks for more than a retransmission's worth). That the
//! server held another connection when this one was made, and accepted it only after closing
//! that one, comes from the replay's order, or, as the replay may run the server's trace ahead
//! of a client's, from the clocks as they read (the client's connect before the server's close):
//! clocks of two hosts alone would not do, but they only confirm what the client's own clock
//! measured, a wait the server's handling does not explain.

use super::{ConnId, Side};
use crate::model::Model;
use crate::source::SockId;

/// What one connection needs to measure its wait in the queue.
#[derive(Debug, Clone, Default)]
pub struct QueueWatch {
    /// Connections the listener's server held, and had closed, when this one was made.
    open_at_connect: u32,
    closes_at_connect: u32,
    /// The server closed a connection of the listener between this one's connect and its
    /// accept, having held at least one when it was made.
    waited_for_a_close: bool,
    /// Trace clocks of the client's first send and the server's first send.
    client_first_send_at: Option<f64>,
    server_first_send_at: Option<f64>,
    /// How long the client's connect took (its clock): one round trip on the path, which the
    /// client's wait for the answer includes too and the queue does not.
    connect_seconds: Option<f64>,
}

impl Model<'_> {
    /// Connection `conn` was made to `listener`.
    pub(in crate::model) fn queue_watch_connected(&mut self, conn: ConnId, listener: SockId) {
        let (open, closes) = self
            .listener_loads
            .get(&listener)
            .map_or((0, 0), |l| (l.open, l.closes));
        self.accept_queue_connecting(conn, listener);
        if let Some(c) = self.conns.get_mut(conn) {
            c.queue.open_at_connect = open;
            c.queue.closes_at_connect = closes;
        }
    }

    /// Connection `conn` was accepted while its listener's server had closed `closes`
    /// connections of the listener so far, the last at `last_close_at` (server's clock; `None`
    /// also when the client's clock cannot be set against it).
    pub(in crate::model) fn queue_watch_accepted(
        &mut self,
        conn: ConnId,
        closes: u32,
        last_close_at: Option<f64>,
    ) {
        if let Some(c) = self.conns.get_mut(conn) {
            let by_order = c.queue.open_at_connect > 0 && closes > c.queue.closes_at_connect;
            let by_clocks = match (c.opened_at, last_close_at) {
                (Some(connected), Some(closed)) => connected < closed,
                _ => false,
            };
            c.queue.waited_for_a_close = by_order || by_clocks;
        }
    }

    /// `side` of `conn` sent its first bytes at `time`.
    pub(in crate::model) fn queue_watch_sent(
        &mut self,
        conn: ConnId,
        side: Side,
        time: Option<f64>,
    ) {
        if let Some(c) = self.conns.get_mut(conn) {
            let first = match side {
                Side::Client => &mut c.queue.client_first_send_at,
                Side::Server => &mut c.queue.server_first_send_at,
            };
            if first.is_none() {
                *first = time;
            }
        }
    }

    /// The client's connect of `conn` took `seconds` (its clock).
    pub(in crate::model) fn queue_watch_connect_took(&mut self, conn: ConnId, seconds: f64) {
        if let Some(c) = self.conns.get_mut(conn) {
            c.queue.connect_seconds = Some(seconds);
        }
    }

    /// The client of `conn` received its first bytes at `time` (the end of the receive).
    pub(in crate::model) fn queue_watch_answered(&mut self, conn: ConnId, time: Option<f64>) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if !c.queue.waited_for_a_close || c.record.queue_wait.is_some() {
            return;
        }
        let watch = &c.queue;
        let (Some(asked), Some(answered), Some(accepted), Some(served)) = (
            watch.client_first_send_at,
            time,
            c.accepted_at,
            watch.server_first_send_at,
        ) else {
            return;
        };
        let waited = answered - asked;
        let handled = served - accepted;
        let round_trip = watch.connect_seconds.unwrap_or(0.0);
        if waited >= 0.0 && handled >= 0.0 && waited >= handled + round_trip {
            c.record.queue_wait = Some(waited - handled - round_trip);
        }
    }
}
