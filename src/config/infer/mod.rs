//! Zero-config inference: one host per trace, its addresses, and the NATs that explain address
//! mismatches between connects and accepts. Inferred NAT rules carry `inferred = true` and their
//! evidence, so that they are reported, never silently applied.

mod facts;

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::address::{is_private, is_special};
use super::{Endpoint, NatRule};
use crate::parse::Call;
use crate::source::Loc;

pub use facts::{AcceptFact, ConnectFact, TraceFacts};

/// What the traces say about the hosts (index = trace index, one host per trace).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inference {
    pub hosts: Vec<InferredHost>,
    /// Mismatches that a NAT could explain but where the traces do not tell which host is
    /// behind it. Nothing is inferred for these.
    pub ambiguities: Vec<Ambiguity>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InferredHost {
    pub ips: Vec<IpAddr>,
    pub nats: Vec<InferredNat>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InferredNat {
    pub rule: NatRule,
    /// Why the rule was inferred (one sentence, addresses included).
    pub reason: String,
    /// The accept and connect calls that show the mismatch.
    pub evidence: Vec<Loc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ambiguity {
    pub loc: Loc,
    pub message: String,
}

/// Infers hosts from each trace's calls (one iterator per trace, in trace order).
pub fn infer<C, I>(traces: impl IntoIterator<Item = I>) -> Inference
where
    C: Borrow<Call>,
    I: IntoIterator<Item = C>,
{
    let facts: Vec<TraceFacts> = traces.into_iter().map(TraceFacts::gather).collect();
    infer_from_facts(&facts)
}

/// Inference over already gathered facts.
pub fn infer_from_facts(facts: &[TraceFacts]) -> Inference {
    let mut inference = Inference {
        hosts: facts
            .iter()
            .map(|f| InferredHost {
                ips: f.own.iter().copied().collect(),
                nats: Vec::new(),
            })
            .collect(),
        ambiguities: Vec::new(),
    };
    let world = World::new(facts);
    world.client_nats(&mut inference);
    world.port_forwards(&mut inference);
    inference
}

struct World<'f> {
    facts: &'f [TraceFacts],
    /// Every address some traced host owns.
    known: HashSet<IpAddr>,
}

impl<'f> World<'f> {
    fn new(facts: &'f [TraceFacts]) -> Self {
        let known = facts.iter().flat_map(|f| f.own.iter().copied()).collect();
        World { facts, known }
    }

    /// An address of no traced host, and not a special one: what a NAT would show.
    fn is_foreign(&self, ip: IpAddr) -> bool {
        !is_special(ip) && !self.known.contains(&ip)
    }

    /// Does `target` name the server of `accept` in trace `server`?
    fn reaches(&self, target: SocketAddr, server: usize, accept: &AcceptFact) -> bool {
        let owns = self
            .facts
            .get(server)
            .is_some_and(|f| f.own.contains(&target.ip()));
        let named = accept.local.is_some_and(|l| l.ip() == target.ip());
        let port_ok = accept
            .local
            .is_none_or(|l| l.port() == 0 || l.port() == target.port());
        (owns || named) && port_ok
    }

    /// The private address a client connected from: the socket's own address when the trace
    /// showed it, else the host's only private address.
    fn client_private(&self, client: usize, connect: &ConnectFact) -> Option<IpAddr> {
        if let Some(local) = connect.local {
            return is_private(local.ip()).then_some(local.ip());
        }
        let mut private = self
            .facts
            .get(client)?
            .own
            .iter()
            .filter(|ip| is_private(**ip));
        match (private.next(), private.next()) {
            (Some(ip), None) => Some(*ip),
            _ => None,
        }
    }

    /// A connect the server saw directly (from the client's own address): no NAT in between.
    fn seen_directly(&self, client: usize, connect: &ConnectFact, server: usize) -> bool {
        let Some(server_facts) = self.facts.get(server) else {
            return false;
        };
        let client_own = self.facts.get(client).map(|f| &f.own);
        server_facts.accepts.iter().any(|a| {
            a.peer.is_some_and(|peer| match connect.local {
                Some(local) if local.port() != 0 => peer == local,
                _ => client_own.is_some_and(|own| own.contains(&peer.ip())),
            }) && self.reaches(connect.target, server, a)
        })
    }

    /// A server accepted from an address no host owns, while a client with a private address
    /// connected to that server: the client is behind a NAT that shows it as that address.
    fn client_nats(&self, inference: &mut Inference) {
        for (server, server_facts) in self.facts.iter().enumerate() {
            let foreign_peers: BTreeSet<IpAddr> = server_facts
                .accepts
                .iter()
                .filter_map(|a| a.peer)
                .map(|p| p.ip())
                .filter(|ip| self.is_foreign(*ip))
                .collect();
            for accept in &server_facts.accepts {
                let Some(peer) = accept.peer.filter(|p| self.is_foreign(p.ip())) else {
                    continue;
                };
                let candidates = self.nat_client_candidates(server, accept, peer);
                let mut traces: BTreeSet<usize> = candidates.iter().map(|c| c.client).collect();
                if traces.len() > 1 {
                    // A NAT that keeps source ports identifies the client exactly.
                    let same_port: BTreeSet<usize> = candidates
                        .iter()
                        .filter(|c| c.connect.local.is_some_and(|l| l.port() == peer.port()))
                        .map(|c| c.client)
                        .collect();
                    if same_port.len() == 1 {
                        traces = same_port;
                    } else if foreign_peers.len() > 1 {
                        inference.ambiguities.push(Ambiguity {
                            loc: accept.loc,
                            message: format!(
                                "accepted a connection from {peer}, which is no traced host's \
                                 address; {} clients with private addresses connected to this \
                                 server and the traces do not tell which one is behind that NAT",
                                traces.len()
                            ),
                        });
                        continue;
                    }
                    // Otherwise every candidate sits behind the one public address seen.
                }
                for client in traces {
                    let Some(candidate) = candidates.iter().find(|c| c.client == client) else {
                        continue;
                    };
                    let rule = NatRule {
                        private: Endpoint {
                            ip: candidate.private,
                            port: None,
                        },
                        public: Endpoint {
                            ip: peer.ip(),
                            port: None,
                        },
                        inferred: true,
                    };
                    let reason = format!(
                        "the server accepted a connection from {peer}, which is no traced host's \
                         address, while this host connected to {} from its private address {}",
                        candidate.connect.target, candidate.private
                    );
                    add_nat(
                        inference,
                        client,
                        rule,
                        reason,
                        [accept.loc, candidate.connect.loc],
                    );
                }
            }
        }
    }

    fn nat_client_candidates(
        &self,
        server: usize,
        accept: &'f AcceptFact,
        peer: SocketAddr,
    ) -> Vec<ClientCandidate<'f>> {
        let mut found = Vec::new();
        for (client, client_facts) in self.facts.iter().enumerate() {
            if client == server {
                continue;
            }
            for connect in &client_facts.connects {
                if !self.reaches(connect.target, server, accept)
                    || self.seen_directly(client, connect, server)
                {
                    continue;
                }
                if let Some(private) = self.client_private(client, connect) {
                    if private != peer.ip() {
                        found.push(ClientCandidate {
                            client,
                            private,
                            connect,
                        });
                    }
                }
            }
        }
        found
    }

    /// A client connected to an address no host owns, and a server accepted that very client on
    /// its own address: the server is reachable through a NAT that forwards the public address.
    fn port_forwards(&self, inference: &mut Inference) {
        for (client, client_facts) in self.facts.iter().enumerate() {
            for connect in &client_facts.connects {
                if !self.is_foreign(connect.target.ip()) {
                    continue;
                }
                let servers = self.forward_candidates(client, connect);
                let distinct: BTreeSet<(usize, Endpoint)> =
                    servers.iter().map(|(s, e, _)| (*s, *e)).collect();
                match (distinct.len(), servers.first()) {
                    (1, Some((server, private, accept_loc))) => {
                        let rule = NatRule {
                            private: *private,
                            public: Endpoint {
                                ip: connect.target.ip(),
                                port: Some(connect.target.port()),
                            },
                            inferred: true,
                        };
                        let reason = format!(
                            "a client connected to {}, which is no traced host's address, and \
                             this host accepted that client on {}",
                            connect.target,
                            super::format_endpoint(private)
                        );
                        add_nat(inference, *server, rule, reason, [connect.loc, *accept_loc]);
                    }
                    (0, _) | (_, None) => {}
                    (n, _) => inference.ambiguities.push(Ambiguity {
                        loc: connect.loc,
                        message: format!(
                            "connected to {}, which is no traced host's address; {n} accepts \
                             on other hosts could be this connection behind a forwarding NAT",
                            connect.target
                        ),
                    }),
                }
            }
        }
    }

    /// Accepts on other traces that took `connect`: (server, server's private endpoint, accept).
    fn forward_candidates(
        &self,
        client: usize,
        connect: &ConnectFact,
    ) -> Vec<(usize, Endpoint, Loc)> {
        let client_own = self.facts.get(client).map(|f| &f.own);
        let exact_local = connect
            .local
            .filter(|l| l.port() != 0 && !l.ip().is_unspecified());
        let mut found = Vec::new();
        for (server, server_facts) in self.facts.iter().enumerate() {
            if server == client {
                continue;
            }
            for accept in &server_facts.accepts {
                let (Some(peer), Some(local)) = (accept.peer, accept.local) else {
                    continue;
                };
                let from_client = match exact_local {
                    Some(exact) => peer == exact,
                    // Weaker: only the address is known, so an accept that a direct connect
                    // from this client explains is not taken.
                    None => {
                        client_own.is_some_and(|own| own.contains(&peer.ip()))
                            && !self.explained_by_direct_connect(client, server, accept)
                    }
                };
                if !from_client || local.port() == 0 {
                    continue;
                }
                let private_ip = if local.ip().is_unspecified() {
                    let mut own = server_facts.own.iter();
                    match (own.next(), own.next()) {
                        (Some(ip), None) => *ip,
                        _ => continue,
                    }
                } else {
                    local.ip()
                };
                let private = Endpoint {
                    ip: private_ip,
                    port: Some(local.port()),
                };
                found.push((server, private, accept.loc));
            }
        }
        found
    }

    fn explained_by_direct_connect(
        &self,
        client: usize,
        server: usize,
        accept: &AcceptFact,
    ) -> bool {
        self.facts.get(client).is_some_and(|f| {
            f.connects
                .iter()
                .any(|c| !self.is_foreign(c.target.ip()) && self.reaches(c.target, server, accept))
        })
    }
}

struct ClientCandidate<'f> {
    client: usize,
    private: IpAddr,
    connect: &'f ConnectFact,
}

/// Calls kept as evidence of one inferred rule (the first ones seen).
const MAX_EVIDENCE: usize = 6;

/// Adds a rule to a host once; a rule seen again only gains evidence.
fn add_nat(
    inference: &mut Inference,
    host: usize,
    rule: NatRule,
    reason: String,
    evidence: [Loc; 2],
) {
    let Some(host) = inference.hosts.get_mut(host) else {
        return;
    };
    match host.nats.iter_mut().find(|n| n.rule == rule) {
        Some(existing) => {
            for loc in evidence {
                if existing.evidence.len() < MAX_EVIDENCE && !existing.evidence.contains(&loc) {
                    existing.evidence.push(loc);
                }
            }
        }
        None => host.nats.push(InferredNat {
            rule,
            reason,
            evidence: evidence.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests;
