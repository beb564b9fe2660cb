//! A server accepted from an address no host owns, while a client with a private address
//! connected to that server: the client is behind a NAT that shows it as that address.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, SocketAddr};

use super::facts::{AcceptFact, ConnectFact};
use super::inference::{add_nat, Ambiguity, Inference};
use super::world::World;
use crate::config::{Endpoint, NatRule};

/// A client that may be behind the NAT, with the first connect that makes it one.
struct Candidate<'f> {
    client: usize,
    private: IpAddr,
    connect: &'f ConnectFact,
    /// Source ports of all its candidate connects (a NAT that keeps them names the client).
    ports: HashSet<u16>,
}

pub fn infer_clients_behind_nats(world: &World, inference: &mut Inference) {
    for (server, server_facts) in world.facts.iter().enumerate() {
        // Accepts from foreign addresses, grouped by what the client reached and who it
        // appeared as: the candidates are the same within a group.
        let mut groups: BTreeMap<(Option<SocketAddr>, IpAddr), Vec<&AcceptFact>> = BTreeMap::new();
        for accept in &server_facts.accepts {
            if let Some(peer) = accept.peer.filter(|p| world.is_foreign(p.ip())) {
                groups
                    .entry((accept.local, peer.ip()))
                    .or_default()
                    .push(accept);
            }
        }
        let foreign_peers: BTreeSet<IpAddr> = groups.keys().map(|(_, ip)| *ip).collect();
        for ((_, public), accepts) in &groups {
            let Some(first) = accepts.first() else {
                continue;
            };
            let candidates = candidates(world, server, first, *public);
            let mut ambiguous = Vec::new();
            for accept in accepts {
                let Some(peer) = accept.peer else {
                    continue;
                };
                let chosen: Vec<&Candidate> = if candidates.len() <= 1 {
                    candidates.iter().collect()
                } else {
                    let same_port: Vec<&Candidate> = candidates
                        .iter()
                        .filter(|c| c.ports.contains(&peer.port()))
                        .collect();
                    if same_port.len() == 1 {
                        same_port
                    } else if foreign_peers.len() == 1 {
                        // One public address for all: every candidate sits behind it.
                        candidates.iter().collect()
                    } else {
                        ambiguous.push(accept.loc);
                        continue;
                    }
                };
                for candidate in chosen {
                    let rule = NatRule {
                        private: Endpoint {
                            ip: candidate.private,
                            port: None,
                        },
                        public: Endpoint {
                            ip: *public,
                            port: None,
                        },
                        inferred: true,
                    };
                    let reason = format!(
                        "the server accepted a connection from {peer}, which is no traced host's \
                         address, while this host connected to {} from its private address {}",
                        candidate.connect.target, candidate.private
                    );
                    let evidence = [accept.loc, candidate.connect.loc];
                    add_nat(inference, candidate.client, rule, reason, evidence);
                }
            }
            if let Some(loc) = ambiguous.first() {
                inference.ambiguities.push(Ambiguity {
                    loc: *loc,
                    message: format!(
                        "accepted {} connection(s) from {public}, which is no traced host's \
                         address; {} clients with private addresses connected to this server and \
                         the traces do not tell which one is behind that NAT",
                        ambiguous.len(),
                        candidates.len()
                    ),
                });
            }
        }
    }
}

/// Clients (one entry per trace) that connected to the server of `accept` from a private
/// address other than `public`, and that the server never saw directly.
fn candidates<'f>(
    world: &World<'f>,
    server: usize,
    accept: &AcceptFact,
    public: IpAddr,
) -> Vec<Candidate<'f>> {
    let mut found: Vec<Candidate<'f>> = Vec::new();
    for (client, client_facts) in world.facts.iter().enumerate() {
        if client == server {
            continue;
        }
        for connect in &client_facts.connects {
            if !world.reaches(connect, server, accept)
                || world.saw_client_directly(client, connect, server)
            {
                continue;
            }
            let Some(private) = world
                .client_private(client, connect)
                .filter(|ip| *ip != public)
            else {
                continue;
            };
            let port = connect.local.map(|l| l.port()).filter(|p| *p != 0);
            match found.iter_mut().find(|c| c.client == client) {
                Some(existing) => existing.ports.extend(port),
                None => found.push(Candidate {
                    client,
                    private,
                    connect,
                    ports: port.into_iter().collect(),
                }),
            }
        }
    }
    found
}
