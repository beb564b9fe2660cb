//! Traces of one machine: a connection over loopback joins the traces of its two ends into one
//! host, since loopback traffic never leaves the machine.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use super::facts::TraceFacts;
use crate::config::groups::Groups;

/// The host of each trace, numbered by its first trace: traces whose programs talked over
/// loopback (a connect or datagram to a loopback port that another trace accepted or received
/// on from a loopback peer) share one; every other trace is a host of its own.
pub fn hosts_by_loopback(facts: &[TraceFacts]) -> Vec<usize> {
    // Loopback ports each trace served: accepted, or first received on, from a loopback peer.
    let mut served: BTreeMap<(u16, bool), BTreeSet<usize>> = BTreeMap::new();
    for (trace, f) in facts.iter().enumerate() {
        for accept in &f.accepts {
            let from_loopback = accept.peer.is_some_and(|p| p.ip().is_loopback());
            if let Some(local) = accept.local.filter(|_| from_loopback) {
                served
                    .entry((local.port(), accept.datagram))
                    .or_default()
                    .insert(trace);
            }
        }
    }
    let mut hosts = Groups::new(facts.len());
    for (trace, f) in facts.iter().enumerate() {
        for connect in f.connects.iter().filter(|c| is_loopback(c.target)) {
            let servers = served.get(&(connect.target.port(), connect.datagram));
            for &server in servers.into_iter().flatten().filter(|s| **s != trace) {
                hosts.join(trace, server);
            }
        }
    }
    hosts.roots()
}

fn is_loopback(addr: SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::infer::facts::{AcceptFact, ConnectFact};
    use crate::source::{Loc, TraceId};

    fn loc(trace: u32) -> Loc {
        Loc::new(TraceId(trace), 1)
    }

    fn connects_to(target: &str) -> TraceFacts {
        TraceFacts {
            connects: vec![ConnectFact {
                loc: loc(0),
                target: target.parse().unwrap(),
                local: None,
                datagram: false,
                port: None,
            }],
            ..TraceFacts::default()
        }
    }

    fn serves(local: &str, peer: &str) -> TraceFacts {
        TraceFacts {
            accepts: vec![AcceptFact {
                loc: loc(1),
                local: Some(local.parse().unwrap()),
                peer: Some(peer.parse().unwrap()),
                datagram: false,
            }],
            ..TraceFacts::default()
        }
    }

    /// `redis-server --bind 127.0.0.1 --port 6390` and two `redis-cli -p 6390`, each traced on
    /// its own: `connect(3, {... sin_port=htons(6390), sin_addr=inet_addr("127.0.0.1")}, 16)`,
    /// `accept(... {sin_port=htons(52710), sin_addr=inet_addr("127.0.0.1")} ...)`.
    #[test]
    fn traces_talking_over_loopback_are_one_host() {
        let facts = [
            serves("127.0.0.1:6390", "127.0.0.1:52710"),
            connects_to("127.0.0.1:6390"),
            connects_to("127.0.0.1:6390"),
            connects_to("10.0.0.2:80"),
        ];
        assert_eq!(hosts_by_loopback(&facts), [0, 0, 0, 3]);
    }

    #[test]
    fn a_loopback_connect_no_trace_served_joins_nothing() {
        let facts = [
            serves("0.0.0.0:80", "10.0.0.9:4000"),
            connects_to("127.0.0.1:80"),
        ];
        assert_eq!(hosts_by_loopback(&facts), [0, 1]);
    }
}
