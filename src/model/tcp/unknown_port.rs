//! Listeners whose port the traces never showed: one that was listening before its trace began
//! (adopted, see fold's `adopt.rs`: `strace -p` attached to a running server), or one that
//! listened without binding (the kernel picked a port no call printed). Such a listener is kept
//! under port 0, which matches any port: a connect to its host may reach it. Its first accepted
//! connection tells its port; from then on it is found by port like any other, and connects to
//! other ports of its host no longer reach it.

use std::net::SocketAddr;

use crate::model::{bind_index::address_tag, Model};
use crate::source::SockId;

impl Model<'_> {
    /// Is `listener` a listening socket whose port is not known yet?
    pub(in crate::model) fn port_unknown(&self, listener: SockId) -> bool {
        self.sockets
            .get(&listener)
            .is_some_and(|l| l.is_listening() && l.local.is_none_or(|a| a.port() == 0))
    }

    /// For `listener` of unknown port, the other listeners of its host: a connection the replay
    /// queued on one of them (nothing told the listeners apart yet) may be the one accepted on
    /// `listener`, and a change to any of them may let an accept there go on.
    pub(in crate::model) fn unknown_port_siblings(&self, listener: SockId) -> Vec<SockId> {
        if !self.port_unknown(listener) {
            return Vec::new();
        }
        let host = self.host_key(listener.trace);
        self.listeners
            .iter()
            .copied()
            .filter(|other| *other != listener && self.host_key(other.trace) == host)
            .collect()
    }

    /// For `listener` of unknown port, a connection from `peer` the replay queued on another
    /// listener of its host: one of unknown port too, or one that has since learnt a port other
    /// than the one the connection was made to. Returns that listener and the position.
    pub(in crate::model) fn queued_elsewhere(
        &self,
        listener: SockId,
        peer: Option<SocketAddr>,
        returned_at: Option<f64>,
    ) -> Option<(SockId, usize)> {
        self.unknown_port_siblings(listener)
            .into_iter()
            .find_map(|owner| {
                let sock = self.sockets.get(&owner)?;
                let own_port = sock.local.map_or(0, |a| a.port());
                let position = sock.pending().iter().position(|conn| {
                    let made_to = self
                        .conns
                        .get(*conn)
                        .and_then(|c| c.record.client_view.1)
                        .map_or(0, |t| t.port());
                    let misplaced = own_port == 0 || (made_to != 0 && made_to != own_port);
                    misplaced && self.queued_conn_can_be_from(owner, *conn, peer, returned_at)
                })?;
                Some((owner, position))
            })
    }

    /// `listener`, of unknown port, accepted a connection made to `target`: when `target` is an
    /// address of the listener's own host, its port is the listener's (through a NAT or a port
    /// forward it need not be, and nothing is learnt). Returns the listener's address as learnt
    /// (its own address stays a wildcard if it was one).
    pub(in crate::model) fn learn_listener_port(
        &mut self,
        listener: SockId,
        target: SocketAddr,
    ) -> Option<SocketAddr> {
        if !self.port_unknown(listener) || target.port() == 0 {
            return None;
        }
        let own_host = self.topology.hosts.iter().any(|h| {
            h.ips.contains(&target.ip().to_canonical()) && h.traces.contains(&listener.trace)
        });
        if !own_host {
            return None;
        }
        let local = {
            let l = self.sockets.get(&listener)?;
            let ip = l.local.map_or(target.ip(), |a| {
                if a.ip().is_unspecified() {
                    a.ip()
                } else {
                    target.ip()
                }
            });
            SocketAddr::new(ip, target.port())
        };
        if let Some(set) = self.listeners_by_port.get_mut(&0) {
            set.remove(&listener);
            if set.is_empty() {
                self.listeners_by_port.remove(&0);
            }
        }
        self.set_local(listener, local);
        self.listeners_by_port
            .entry(local.port())
            .or_default()
            .insert(listener, address_tag(local.ip().to_canonical()));
        let period = self.sockets.get(&listener).and_then(|l| l.listen_period());
        if let Some(record) = period.and_then(|i| self.listen_history.get_mut(i)) {
            record.local = local;
        }
        Some(local)
    }
}
