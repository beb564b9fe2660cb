//! How many connections each listener's server held at once. A server at its connection limit
//! answers the connection past the limit with one short message and closes it, and does so only
//! there; a short answer given at any load (a health check, HTTP/1.0) is no limit. The counts
//! are kept per listener as connections come and go, so they stay right after finished
//! connections are forgotten (`retire.rs`).

use serde::Serialize;

use super::ConnId;
use crate::model::{Model, TcpConnection};
use std::net::SocketAddr;

use crate::source::{Loc, SockId, TraceId};

/// The first connect of a trace to an address that a traced server accepted, or that the client
/// saw complete when no trace serves the address: what tells a refusal before the server
/// listened (start-up order) from one that left the client without its server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FirstConnection {
    pub target: std::net::SocketAddr,
    pub connect: Loc,
}

/// One listener's load over the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerLoad {
    pub listener: SockId,
    /// Connections accepted and not yet closed by the server.
    #[serde(skip)]
    pub open: u32,
    /// Accepted connections the server has sent something on: once there is one, the server
    /// is serving, no longer starting.
    pub answered: u32,
    /// Connections of the listener the server has closed, and when it closed the last one
    /// (server's clock).
    #[serde(skip)]
    pub closes: u32,
    #[serde(skip)]
    pub last_close_at: Option<f64>,
    /// The most connections the server held when it accepted one more.
    pub most_open_at_accept: u32,
    /// Connections answered short and closed by the server
    /// ([`TcpConnection::answered_short`]), and the fewest held when one of them was accepted.
    pub answered_short: u32,
    pub fewest_open_at_short: Option<u32>,
}

impl ListenerLoad {
    /// Were the short answers given only at the most connections the server ever held, and
    /// that most at least `min_ceiling`? Then they are rejections at a limit.
    pub fn short_only_at_ceiling(&self, min_ceiling: u32) -> bool {
        self.most_open_at_accept >= min_ceiling
            && self.fewest_open_at_short == Some(self.most_open_at_accept)
    }
}

impl ListenerLoad {
    fn new(listener: SockId) -> Self {
        ListenerLoad {
            listener,
            open: 0,
            answered: 0,
            closes: 0,
            last_close_at: None,
            most_open_at_accept: 0,
            answered_short: 0,
            fewest_open_at_short: None,
        }
    }
}

impl Model<'_> {
    /// `listener` accepted a connection no traced connect made (its client is unobserved):
    /// counted like any other. Returns how many the server held open when it accepted it.
    pub(in crate::model) fn load_accepted_alone(&mut self, listener: SockId) -> u32 {
        let load = self
            .listener_loads
            .entry(listener)
            .or_insert_with(|| ListenerLoad::new(listener));
        let open = load.open;
        load.most_open_at_accept = load.most_open_at_accept.max(open);
        load.open = load.open.saturating_add(1);
        open
    }

    /// `listener` accepted connection `conn`.
    pub(in crate::model) fn load_accepted(&mut self, listener: SockId, conn: ConnId) {
        let load = self
            .listener_loads
            .entry(listener)
            .or_insert_with(|| ListenerLoad::new(listener));
        let mut reached = None;
        let (closes, mut last_close_at) = (load.closes, load.last_close_at);
        if let Some(c) = self.conns.get_mut(conn) {
            c.record.open_at_accept = load.open;
            c.accepted_while_starting = load.answered == 0;
            if !self
                .topology
                .clocks_comparable(listener.trace, c.record.client.trace)
            {
                last_close_at = None;
            }
            if c.client_closed.is_some() {
                c.note_late_accept();
            }
            reached = c
                .record
                .client_view
                .1
                .map(|t| ((c.record.client.trace, t), c.record.connect_loc));
        }
        load.most_open_at_accept = load.most_open_at_accept.max(load.open);
        load.open = load.open.saturating_add(1);
        if let Some(((trace, target), connect)) = reached {
            self.note_first_connection(trace, target, connect);
        }
        self.queue_watch_accepted(conn, closes, last_close_at);
    }

    /// `trace` reached `target` with the connect at `connect`: a traced server accepted it, or
    /// the client saw it complete to an address no trace serves.
    pub(in crate::model) fn note_first_connection(
        &mut self,
        trace: TraceId,
        target: SocketAddr,
        connect: Loc,
    ) {
        let first = self
            .first_connections
            .entry((trace, target))
            .or_insert(connect);
        if (connect.file, connect.line) < (first.file, first.line) {
            *first = connect;
        }
    }

    /// The server sent its first bytes on a connection `listener` accepted.
    pub(in crate::model) fn load_answered(&mut self, listener: SockId) {
        if let Some(load) = self.listener_loads.get_mut(&listener) {
            load.answered = load.answered.saturating_add(1);
        }
    }

    /// Where each trace first reached each address it connected to, in (trace, address) order.
    pub(in crate::model) fn take_first_connections(&mut self) -> Vec<FirstConnection> {
        let mut firsts: Vec<FirstConnection> = std::mem::take(&mut self.first_connections)
            .into_iter()
            .map(|((_, target), connect)| FirstConnection { target, connect })
            .collect();
        firsts.sort_by_key(|f| (f.connect.trace, f.target, f.connect));
        firsts
    }

    /// The server closed its side of a connection `listener` accepted.
    pub(in crate::model) fn load_server_closed(&mut self, listener: SockId, time: Option<f64>) {
        if let Some(load) = self.listener_loads.get_mut(&listener) {
            load.open = load.open.saturating_sub(1);
            load.closes = load.closes.saturating_add(1);
            load.last_close_at = time.or(load.last_close_at);
        }
    }

    /// A connection's record is final (it was retired, or the run ended).
    pub(in crate::model) fn load_ended(&mut self, record: &TcpConnection) {
        let (Some(listener), true) = (record.listener, record.answered_short()) else {
            return;
        };
        self.load_answered_short(listener, record.open_at_accept);
    }

    /// A connection `listener` accepted with `open_at_accept` others open was answered short.
    pub(in crate::model) fn load_answered_short(&mut self, listener: SockId, open_at_accept: u32) {
        if let Some(load) = self.listener_loads.get_mut(&listener) {
            load.answered_short = load.answered_short.saturating_add(1);
            load.fewest_open_at_short = Some(
                load.fewest_open_at_short
                    .map_or(open_at_accept, |f| f.min(open_at_accept)),
            );
        }
    }

    /// Every listener's load, in listener order.
    pub(in crate::model) fn take_listener_loads(&mut self) -> Vec<ListenerLoad> {
        let mut loads: Vec<ListenerLoad> = std::mem::take(&mut self.listener_loads)
            .into_values()
            .collect();
        loads.sort_by_key(|l| l.listener);
        loads
    }
}
