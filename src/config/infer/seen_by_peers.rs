//! A client whose trace never showed its own address gets the address a server saw it as, when
//! only that client can have made the connection. Without it, every connection from that client
//! would look like traffic from outside the traced world.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::facts::AcceptFact;
use super::inference::{extend_evidence, Inference, SeenAddress};
use super::world::World;
use crate::source::Loc;

pub fn infer_addresses_seen_by_peers(world: &World, inference: &mut Inference) {
    for (server, server_facts) in world.facts.iter().enumerate() {
        let mut groups: BTreeMap<(Option<SocketAddr>, IpAddr), Vec<&AcceptFact>> = BTreeMap::new();
        for accept in &server_facts.accepts {
            if let Some(peer) = accept.peer.filter(|p| world.is_foreign(p.ip())) {
                groups
                    .entry((accept.local, peer.ip()))
                    .or_default()
                    .push(accept);
            }
        }
        for ((_, seen), accepts) in groups {
            let Some(first) = accepts.first() else {
                continue;
            };
            let clients: Vec<(usize, Loc, Option<u16>)> =
                silent_clients(world, server, first, seen).collect();
            let Some((client, connect_loc)) = only_client(&clients, &accepts) else {
                continue;
            };
            let Some(host) = inference.hosts.get_mut(client) else {
                continue;
            };
            if !host.ips.contains(&seen) {
                host.ips.push(seen);
            }
            let locs = accepts.iter().map(|a| a.loc).chain([connect_loc]);
            match host.seen_by_peers.iter_mut().find(|s| s.ip == seen) {
                Some(existing) => extend_evidence(&mut existing.evidence, locs),
                None => {
                    let mut evidence = Vec::new();
                    extend_evidence(&mut evidence, locs);
                    host.seen_by_peers.push(SeenAddress {
                        ip: seen,
                        reason: format!(
                            "a server saw this host as {seen}; its trace never shows its own \
                             address (record with -yy), so a NAT in between would go unnoticed"
                        ),
                        evidence,
                    });
                }
            }
        }
    }
}

/// The one client that can have made the connections (flows) `accepts` saw: the only
/// candidate, or else the only one whose own port is a source port the server saw (without a
/// NAT in between, a server sees the client's own port: two UDP clients of one server are told
/// apart by it when their traces show it, `-yy` or getsockname).
fn only_client(
    clients: &[(usize, Loc, Option<u16>)],
    accepts: &[&AcceptFact],
) -> Option<(usize, Loc)> {
    if let [(client, loc, _)] = clients {
        return Some((*client, *loc));
    }
    let seen_port = |port: Option<u16>| {
        port.is_some_and(|p| {
            accepts
                .iter()
                .any(|a| a.peer.is_some_and(|peer| peer.port() == p))
        })
    };
    let mut by_port = clients.iter().filter(|(_, _, port)| seen_port(*port));
    match (by_port.next(), by_port.next()) {
        (Some((client, loc, _)), None) => Some((*client, *loc)),
        _ => None,
    }
}

/// Clients (with their first such connect and its own port) that connected to the server of
/// `accept` and whose trace shows no address of `seen`'s IP version.
fn silent_clients<'w>(
    world: &'w World,
    server: usize,
    accept: &'w AcceptFact,
    seen: IpAddr,
) -> impl Iterator<Item = (usize, Loc, Option<u16>)> + 'w {
    world
        .facts
        .iter()
        .enumerate()
        .filter(move |(client, _)| {
            *client != server && !world.own(*client).any(|ip| ip.is_ipv4() == seen.is_ipv4())
        })
        .filter_map(move |(client, facts)| {
            facts
                .connects
                .iter()
                .find(|c| world.reaches(c, server, accept))
                .map(|c| (client, c.loc, c.port))
        })
}
