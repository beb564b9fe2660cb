//! The gathered facts of all traces, indexed for the inference rules, and the predicates the
//! rules share.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use super::facts::{AcceptFact, ConnectFact, TraceFacts};
use crate::config::address::{is_private, is_special};

/// An accept, by trace and position.
pub type AcceptRef = (usize, usize);

pub struct World<'f> {
    pub facts: &'f [TraceFacts],
    /// Every address some traced host owns.
    known: HashSet<IpAddr>,
    /// Accepts by the exact peer address they reported, and by its IP alone.
    by_peer: HashMap<SocketAddr, Vec<AcceptRef>>,
    by_peer_ip: HashMap<IpAddr, Vec<AcceptRef>>,
    /// Per trace: where it connected to addresses of traced hosts.
    direct_targets: Vec<HashSet<SocketAddr>>,
}

impl<'f> World<'f> {
    pub fn new(facts: &'f [TraceFacts]) -> Self {
        let known: HashSet<IpAddr> = facts.iter().flat_map(|f| f.own.iter().copied()).collect();
        let mut by_peer: HashMap<SocketAddr, Vec<AcceptRef>> = HashMap::new();
        let mut by_peer_ip: HashMap<IpAddr, Vec<AcceptRef>> = HashMap::new();
        for (server, server_facts) in facts.iter().enumerate() {
            for (index, accept) in server_facts.accepts.iter().enumerate() {
                if let Some(peer) = accept.peer {
                    by_peer.entry(peer).or_default().push((server, index));
                    by_peer_ip
                        .entry(peer.ip())
                        .or_default()
                        .push((server, index));
                }
            }
        }
        let direct_targets = facts
            .iter()
            .map(|f| {
                f.connects
                    .iter()
                    .map(|c| c.target)
                    .filter(|t| known.contains(&t.ip()))
                    .collect()
            })
            .collect();
        World {
            facts,
            known,
            by_peer,
            by_peer_ip,
            direct_targets,
        }
    }

    pub fn accept(&self, (trace, index): AcceptRef) -> Option<&'f AcceptFact> {
        self.facts.get(trace)?.accepts.get(index)
    }

    pub fn own(&self, trace: usize) -> impl Iterator<Item = &'f IpAddr> {
        self.facts.get(trace).into_iter().flat_map(|f| f.own.iter())
    }

    /// The trace's only address satisfying `keep`, if it has exactly one.
    pub fn only_own(&self, trace: usize, keep: impl Fn(IpAddr) -> bool) -> Option<IpAddr> {
        let mut found = self.own(trace).copied().filter(|ip| keep(*ip));
        match (found.next(), found.next()) {
            (Some(ip), None) => Some(ip),
            _ => None,
        }
    }

    /// An address of no traced host, and not a special one: what a NAT would show.
    pub fn is_foreign(&self, ip: IpAddr) -> bool {
        !is_special(ip) && !self.known.contains(&ip)
    }

    /// Does `target` name the server socket of `accept` in trace `server`?
    pub fn reaches(&self, connect: &ConnectFact, server: usize, accept: &AcceptFact) -> bool {
        if connect.datagram != accept.datagram {
            return false;
        }
        let target = connect.target;
        let owns = self.own(server).any(|ip| *ip == target.ip());
        let named = accept.local.is_some_and(|l| l.ip() == target.ip());
        let port_ok = accept
            .local
            .is_none_or(|l| l.port() == 0 || l.port() == target.port());
        (owns || named) && port_ok
    }

    /// The private address a client connected from: the socket's own address when the trace
    /// showed it, else the host's only private address.
    pub fn client_private(&self, client: usize, connect: &ConnectFact) -> Option<IpAddr> {
        match connect.local {
            Some(local) => is_private(local.ip()).then_some(local.ip()),
            None => self.only_own(client, is_private),
        }
    }

    /// Did `server` ever see this client's own address as a peer? Then there is no NAT
    /// between them.
    pub fn saw_client_directly(&self, client: usize, connect: &ConnectFact, server: usize) -> bool {
        let at_server = |refs: Option<&Vec<AcceptRef>>| {
            refs.is_some_and(|refs| refs.iter().any(|(s, _)| *s == server))
        };
        match connect.local {
            Some(local) if local.port() != 0 => at_server(self.by_peer.get(&local)),
            _ => self
                .own(client)
                .any(|ip| at_server(self.by_peer_ip.get(ip))),
        }
    }

    /// Accepts whose peer is exactly `addr`.
    pub fn accepts_from(&self, addr: SocketAddr) -> &[AcceptRef] {
        self.by_peer
            .get(&addr)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Accepts whose peer has address `ip`, any port.
    pub fn accepts_from_ip(&self, ip: IpAddr) -> &[AcceptRef] {
        self.by_peer_ip
            .get(&ip)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Is `accept` (in `server`) explained by a connect of `client` straight to the server's
    /// address and port?
    pub fn explained_by_direct_connect(
        &self,
        client: usize,
        server: usize,
        accept: &AcceptFact,
    ) -> bool {
        let (Some(targets), Some(local)) = (self.direct_targets.get(client), accept.local) else {
            return false;
        };
        let named = (!local.ip().is_unspecified()).then_some(local.ip());
        self.own(server)
            .copied()
            .chain(named)
            .any(|ip| targets.contains(&SocketAddr::new(ip, local.port())))
    }
}
