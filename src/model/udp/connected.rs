//! Connected UDP sockets and the one peer each accepts datagrams from.
//!
//! Linux delivers a datagram to a connected UDP socket only when its source is the socket's
//! peer (`udp4_lib_lookup`'s score rejects any other source, and with no other socket bound at
//! that port the host answers ICMP port unreachable). A server that answers a connected client
//! from another address than the one the client asked (a multi-homed host answering from its
//! first address, a second socket bound elsewhere) has its answers discarded by the client's
//! host: they reached it, so they are no network loss. The model keeps each connected socket's
//! ends as it closes, and at the end marks the flows that never reached such a socket although
//! they were addressed to it from another source. A sender bound to a wildcard address sends
//! from whichever address the route prefers, which no call shows: on a host with several
//! addresses its flows are marked as maybe discarded so (unbound or socat bound to 0.0.0.0 on a
//! multi-homed host, asked at its second address).

use std::net::SocketAddr;

use serde::Serialize;

use crate::source::SockId;

/// Connected sockets remembered, at most: a memory bound. A resolver connects one socket per
/// query; past the bound, answers from the wrong address are reported as lost, never invented.
pub const MAX_KEPT: usize = 4096;

/// A flow's destination socket, connected to another peer than the flow's source, or maybe so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConnectedElsewhere {
    /// The socket bound at the flow's destination.
    pub sock: SockId,
    /// The only source it accepted datagrams from.
    pub peer: SocketAddr,
    /// The flow's source is known to be another address (its socket was bound to one). When
    /// false, the sender's socket was bound to a wildcard address at `peer`'s port on a host
    /// that owns `peer` and other addresses of its family: Linux sent from the address its
    /// route prefers, which no call shows and which may not be `peer`.
    pub certain: bool,
}

/// One connected UDP socket: its own address and its peer.
#[derive(Debug, Clone, Copy)]
pub(in crate::model) struct ConnectedEnd {
    pub sock: SockId,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// The connected UDP sockets closed so far, while the replay runs.
#[derive(Debug, Default)]
pub(in crate::model) struct ConnectedEnds {
    ends: Vec<ConnectedEnd>,
}

impl ConnectedEnds {
    /// Notes a connected socket at its last close; one whose own port is unknown (never shown)
    /// cannot be found as a destination and is not kept.
    pub(in crate::model) fn note(&mut self, sock: SockId, local: SocketAddr, peer: SocketAddr) {
        if local.port() != 0 && self.ends.len() < MAX_KEPT {
            self.ends.push(ConnectedEnd { sock, local, peer });
        }
    }

    /// The sockets whose own address is `dest` (same port, and the same address unless the
    /// socket's is a wildcard).
    pub(in crate::model) fn at(&self, dest: SocketAddr) -> impl Iterator<Item = &ConnectedEnd> {
        self.ends.iter().filter(move |e| {
            e.local.port() == dest.port()
                && (e.local.ip() == dest.ip() || e.local.ip().is_unspecified())
        })
    }
}
