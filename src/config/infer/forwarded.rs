//! A client connected to an address no host owns, and a server accepted that very client on its
//! own address: the server is reachable through a NAT that forwards the public address to it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use super::facts::ConnectFact;
use super::inference::{add_nat, Ambiguity, Inference};
use super::world::{AcceptRef, World};
use crate::config::{format_endpoint, Endpoint, NatRule};
use crate::source::Loc;

/// A server that took the connection: (trace, its private endpoint, the accept).
type Taker = (usize, Endpoint, Loc);

pub fn infer_forwarded_servers(world: &World, inference: &mut Inference) {
    for (client, client_facts) in world.facts.iter().enumerate() {
        let foreign: Vec<&ConnectFact> = client_facts
            .connects
            .iter()
            .filter(|c| world.is_foreign(c.target.ip()))
            .collect();
        let targets: BTreeSet<SocketAddr> = foreign.iter().map(|c| c.target).collect();
        // Accepts from the client's address when its port is unknown. They can only be tied to
        // a connect when the client went to one foreign address alone.
        let mut ambiguous: BTreeMap<SocketAddr, Loc> = BTreeMap::new();
        for connect in foreign {
            let takers = match exact_local(connect) {
                Some(local) => takers(world, client, world.accepts_from(local), connect.datagram),
                None if targets.len() == 1 => loose_takers(world, client, connect.datagram),
                None => {
                    if !loose_takers(world, client, connect.datagram).is_empty() {
                        ambiguous.entry(connect.target).or_insert(connect.loc);
                    }
                    continue;
                }
            };
            let distinct: BTreeSet<(usize, Endpoint)> =
                takers.iter().map(|(s, e, _)| (*s, *e)).collect();
            match (distinct.len(), takers.first()) {
                (1, Some(&(server, private, accept_loc))) => {
                    let rule = NatRule {
                        private,
                        public: Endpoint {
                            ip: connect.target.ip(),
                            port: Some(connect.target.port()),
                        },
                        inferred: true,
                    };
                    let reason = format!(
                        "a client connected to {}, which is no traced host's address, and this \
                         host accepted that client on {}",
                        connect.target,
                        format_endpoint(&private)
                    );
                    add_nat(inference, server, rule, reason, [connect.loc, accept_loc]);
                }
                (0, _) | (_, None) => {}
                _ => {
                    ambiguous.entry(connect.target).or_insert(connect.loc);
                }
            }
        }
        for (target, loc) in ambiguous {
            inference.ambiguities.push(Ambiguity {
                loc,
                message: format!(
                    "connected to {target}, which is no traced host's address; the traces do \
                     not tell which accept on another host, if any, took that connection"
                ),
            });
        }
    }
}

/// The client socket's own address, when both address and port are known.
fn exact_local(connect: &ConnectFact) -> Option<SocketAddr> {
    connect
        .local
        .filter(|l| l.port() != 0 && !l.ip().is_unspecified())
}

/// Accepts on other hosts from the client's own addresses that no direct connect explains.
fn loose_takers(world: &World, client: usize, datagram: bool) -> Vec<Taker> {
    let refs: Vec<AcceptRef> = world
        .own(client)
        .flat_map(|ip| world.accepts_from_ip(*ip).iter().copied())
        .filter(|&(server, index)| {
            server != client
                && world
                    .accept((server, index))
                    .is_some_and(|a| !world.explained_by_direct_connect(client, server, a))
        })
        .collect();
    takers(world, client, &refs, datagram)
}

/// The server side of each accept: the accepted socket's own address, or the server's only
/// address when it listened on the wildcard. Accepts with unknown ports, and of the other
/// protocol (TCP accept vs first datagram received), are skipped.
fn takers(world: &World, client: usize, refs: &[AcceptRef], datagram: bool) -> Vec<Taker> {
    refs.iter()
        .filter(|(server, _)| *server != client)
        .filter_map(|&(server, index)| {
            let accept = world.accept((server, index))?;
            if accept.datagram != datagram {
                return None;
            }
            let local = accept.local.filter(|l| l.port() != 0)?;
            let ip = if local.ip().is_unspecified() {
                world.only_own(server, |_| true)?
            } else {
                local.ip()
            };
            let private = Endpoint {
                ip,
                port: Some(local.port()),
            };
            Some((server, private, accept.loc))
        })
        .collect()
}
