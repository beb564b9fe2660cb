//! A client whose trace never showed its own address gets the address a server saw it as, when
//! only that client can have made the connection. Without it, every connection from that client
//! would look like traffic from outside the traced world.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::facts::AcceptFact;
use super::inference::{extend_evidence, Inference, SeenAddress};
use super::world::World;

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
            let mut clients = silent_clients(world, server, first, seen);
            let (Some((client, connect_loc)), None) = (clients.next(), clients.next()) else {
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

/// Clients (with their first such connect) that connected to the server of `accept` and whose
/// trace shows no address of `seen`'s IP version.
fn silent_clients<'w>(
    world: &'w World,
    server: usize,
    accept: &'w AcceptFact,
    seen: IpAddr,
) -> impl Iterator<Item = (usize, crate::source::Loc)> + 'w {
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
                .map(|c| (client, c.loc))
        })
}
