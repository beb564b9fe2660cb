//! Connects made while their listener's accept queue was full.
//!
//! Linux keeps a listener's completed-but-not-accepted connections in its accept queue, whose
//! length is the `listen()` backlog capped at `net.core.somaxconn`. While the queue holds more
//! than the backlog (`sk_acceptq_is_full`), the kernel drops every SYN that reaches the listener
//! (with `tcp_abort_on_overflow` at its default 0), so the client retransmits it after 1 s, 3 s...
//! until the server accepts one of the waiting connections: a slow connect that the server's
//! admission explains, not the network.

use serde::Serialize;

use super::ConnId;
use crate::fold::SocketEvent;
use crate::model::Model;
use crate::parse::Fd;
use crate::source::{Loc, SockId};

/// `net.core.somaxconn` on a stock kernel since Linux 5.4: `listen()` caps its backlog there.
pub const SOMAXCONN: u32 = 4096;

/// A connect made while its listener's accept queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FullQueueConnect {
    /// The connect call.
    pub connect: Loc,
    pub listener: SockId,
    /// Connections waiting in the queue, and the listener's backlog.
    pub queued: u32,
    pub backlog: u32,
}

/// The backlog a `listen()` call gives its socket: negative values mean the largest, and the
/// kernel caps every value at [`SOMAXCONN`].
pub fn effective_backlog(asked: i64) -> u32 {
    if asked < 0 {
        return SOMAXCONN;
    }
    u32::try_from(asked).map_or(SOMAXCONN, |b| b.min(SOMAXCONN))
}

impl Model<'_> {
    /// The listen call `ev` on `fd` asked for a `backlog`.
    pub(in crate::model) fn accept_queue_listened(
        &mut self,
        ev: &SocketEvent,
        fd: Fd,
        backlog: i64,
    ) {
        if !ev.call.outcome.is_success() {
            return;
        }
        if let Some(id) = ev.sock(fd) {
            self.accept_backlogs.insert(id, effective_backlog(backlog));
        }
    }

    /// Connection `conn` reaches `listener`, before it joins the queue: is the queue full?
    pub(in crate::model) fn accept_queue_connecting(&mut self, conn: ConnId, listener: SockId) {
        let Some(&backlog) = self.accept_backlogs.get(&listener) else {
            return;
        };
        let Some(client) = self
            .conns
            .get(conn)
            .map(|c| (c.record.client, c.record.connect_loc))
        else {
            return;
        };
        // A nonblocking connect joins the queue when its completion is seen: its SYN left with
        // the connect call itself.
        let connect = self
            .sockets
            .get(&client.0)
            .and_then(|s| s.connect_target())
            .map_or(client.1, |(_, at)| at);
        let queued = self
            .sockets
            .get(&listener)
            .map_or(0, |l| u32::try_from(l.pending().len()).unwrap_or(u32::MAX));
        if queued > backlog {
            self.full_queue_connects.push(FullQueueConnect {
                connect,
                listener,
                queued,
                backlog,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_caps_the_backlog_at_somaxconn() {
        assert_eq!(effective_backlog(1), 1);
        assert_eq!(effective_backlog(511), 511);
        assert_eq!(effective_backlog(65535), SOMAXCONN);
        // A negative backlog asks for the largest (Python's `listen()` without argument
        // passes `SOMAXCONN` itself; some programs pass -1).
        assert_eq!(effective_backlog(-1), SOMAXCONN);
    }
}
