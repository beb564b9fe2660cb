//! A server whose trace never shows its own address (it listened on a wildcard, and no
//! `getsockname` or `-yy` showed the address a connection reached) gets the address its clients
//! connected to, when only that server can have served it. Without it, a client's connects to
//! that address look like traffic to the outside world, and the server's accepts like
//! connections from nowhere.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::facts::TraceFacts;
use super::inference::{extend_evidence, Inference, SeenAddress};
use crate::source::Loc;

/// Adds to `facts` (and to the matching inferred hosts) the addresses clients reached their
/// silent servers at. Runs before the other inferences, which then see these addresses as the
/// servers' own.
pub fn infer_addresses_reached_by_clients(facts: &mut [TraceFacts], inference: &mut Inference) {
    let known: Vec<IpAddr> = facts.iter().flat_map(|f| f.own.iter().copied()).collect();
    // Per foreign address: the (server trace, evidence) pairs it could belong to.
    let mut candidates: BTreeMap<IpAddr, Vec<(usize, [Loc; 2])>> = BTreeMap::new();
    for (client, client_facts) in facts.iter().enumerate() {
        for connect in client_facts
            .connects
            .iter()
            .chain(&client_facts.failed_connects)
        {
            let target = connect.target;
            if known.contains(&target.ip()) || crate::config::address::is_special(target.ip()) {
                continue;
            }
            for (server, server_facts) in facts.iter().enumerate() {
                if server == client {
                    continue;
                }
                let Some(serving) = serving_loc(server_facts, target, connect.datagram) else {
                    continue;
                };
                let entry = candidates.entry(target.ip()).or_default();
                if !entry.iter().any(|(s, _)| *s == server) {
                    entry.push((server, [connect.loc, serving]));
                }
            }
        }
    }
    for (ip, servers) in candidates {
        // Two traces that could each be the one reached: the traces do not tell which.
        let [(server, evidence)] = servers.as_slice() else {
            continue;
        };
        let (Some(server_facts), Some(host)) =
            (facts.get_mut(*server), inference.hosts.get_mut(*server))
        else {
            continue;
        };
        server_facts.own.insert(ip);
        if !host.ips.contains(&ip) {
            host.ips.push(ip);
        }
        let mut locs = Vec::new();
        extend_evidence(&mut locs, evidence.iter().copied());
        host.seen_by_peers.push(SeenAddress {
            ip,
            reason: format!(
                "a client connected to {ip}, which no trace shows as its own, on a port this \
                 host served on every address; its trace never shows its own address (record \
                 with -yy), so a port forward in between would go unnoticed"
            ),
            evidence: locs,
        });
    }
}

/// Where the server of `facts` served `target`'s port on every address of `target`'s family,
/// provided its trace shows no address of that family: a wildcard listen (TCP), or an exchange
/// answered on a wildcard-bound socket (TCP accept, or a datagram socket's first receive).
fn serving_loc(facts: &TraceFacts, target: SocketAddr, datagram: bool) -> Option<Loc> {
    let target_v4 = target.ip().is_ipv4();
    if facts.own.iter().any(|ip| ip.is_ipv4() == target_v4) {
        return None;
    }
    // An IPv4 wildcard serves IPv4 only; an IPv6 wildcard serves IPv6, and IPv4 too unless
    // IPV6_V6ONLY is set, which the rules judge later from the listener itself.
    let serves = |local: SocketAddr| {
        local.ip().is_unspecified()
            && local.port() == target.port()
            && (local.is_ipv6() || target_v4)
    };
    let listened = (!datagram)
        .then(|| facts.wildcard_listens.iter().find(|l| serves(l.local)))
        .flatten()
        .map(|l| l.loc);
    listened.or_else(|| {
        facts
            .accepts
            .iter()
            .find(|a| a.datagram == datagram && a.local.is_some_and(serves))
            .map(|a| a.loc)
    })
}
