//! Address matching: can a socket bound to X on host H be the endpoint a peer on host G knows as
//! Y? And is an endpoint outside the modelled world?
//!
//! The rules (documented in `docs/config.md`) follow the original's `is_addr_match` and
//! `addr_dont_care`, with its order-dependent and buggy corners made explicit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

use super::address::{is_limited_broadcast, is_special};
use super::answer_cache::AnswerCache;
use super::groups::Groups;
use super::{NatRule, Topology};
use crate::int_hash::IntHashBuilder;
use crate::source::TraceId;

/// Maps keyed by IP address: asked about twice per event, so hashed with the seeded integer
/// hasher rather than SipHash (see `int_hash.rs`).
type AddrMap<V> = HashMap<IpAddr, V, IntHashBuilder>;

/// Which side of a connection the local socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// The local socket is the listener / receiver a client addressed.
    Server,
    /// The local socket is the connecting / sending side, seen by a server.
    Client,
}

/// A remark attached to a match decision (these become evidence in findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MatchNote {
    /// The peer used the unspecified address (connect to 0.0.0.0 reaches the own host on Linux,
    /// not portable).
    UnspecifiedPeer,
    /// The peer on another host used a loopback address: it cannot reach this socket.
    LoopbackFromOtherHost,
    /// An IPv4-mapped IPv6 address was compared as IPv4.
    MappedIpv4,
    /// The two addresses are of different IP versions.
    IpVersionMismatch,
    /// Matched through a NAT rule of the local host (`declared` = from the config file).
    ThroughNat {
        declared: bool,
    },
    /// A port is 0 / unknown, so ports were not compared (noted for the server side only).
    PortUnverified,
    /// The local socket is bound to an address its host does not declare.
    AddressNotDeclared,
    Multicast,
    /// Both sockets are on the same host.
    SameHost,
    /// Matched through a NAT that maps the public port to a different private port.
    PortForwarded,
    /// The peer addressed the limited broadcast address 255.255.255.255.
    Broadcast,
    /// The peer's address is unknown (unspecified with port 0): nothing to check.
    PeerAddressUnknown,
}

impl MatchNote {
    /// One sentence for a report, naming the addresses involved (`local` is the socket's bound
    /// address, `peer` the address its peer used).
    pub fn describe(&self, local: SocketAddr, peer: SocketAddr) -> String {
        match self {
            MatchNote::UnspecifiedPeer => format!(
                "the peer addressed the unspecified address {peer}, which only reaches its own \
                 host and is not portable"
            ),
            MatchNote::LoopbackFromOtherHost => format!(
                "the peer addressed the loopback address {peer}, which never leaves the peer's host"
            ),
            MatchNote::MappedIpv4 => {
                "an IPv4-mapped IPv6 address was compared as the IPv4 address it carries".into()
            }
            MatchNote::IpVersionMismatch => {
                format!("{local} and {peer} are not the same IP version")
            }
            MatchNote::ThroughNat { declared } => format!(
                "{peer} reaches {local} through a NAT {}",
                if *declared {
                    "declared in the configuration"
                } else {
                    "inferred from the traces"
                }
            ),
            MatchNote::PortUnverified => {
                "a port number is unknown, so the ports were not compared".into()
            }
            MatchNote::AddressNotDeclared => format!(
                "the socket is bound to {local}, which is not one of its host's declared addresses"
            ),
            MatchNote::Multicast => {
                format!("a multicast address is involved ({local}, {peer}), which is not portable")
            }
            MatchNote::SameHost => "both sockets are on the same host".into(),
            MatchNote::PortForwarded => format!(
                "the NAT forwards port {} to port {}",
                peer.port(),
                local.port()
            ),
            MatchNote::Broadcast => format!("the peer sent to the broadcast address {peer}"),
            MatchNote::PeerAddressUnknown => {
                "the peer's address is unknown, so it was not checked".into()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    pub matched: bool,
    pub notes: Vec<MatchNote>,
}

/// Facts about the local socket the addresses alone do not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// The local socket set IPV6_V6ONLY: an IPv6 wildcard then does not accept IPv4 peers
    /// (Linux default: dual-stack).
    pub v6only: bool,
}

/// Answers address questions against one topology. Construction indexes the topology so that
/// each question costs a few hash lookups.
pub struct Matcher<'t> {
    pub topology: &'t Topology,
    /// Host index of each trace.
    host_of_trace: Vec<usize>,
    /// Machine of each trace: the lowest index among the hosts that share a declared address
    /// with its host, directly or through others.
    machine_of_trace: Vec<usize>,
    /// Address → hosts that own it (an `ip` line, or the private side of one of its NATs).
    owners: AddrMap<Vec<usize>>,
    /// NAT public address → (host, rule index in that host's `nats`).
    publics: AddrMap<Vec<(usize, usize)>>,
    /// Ignored address → ports (`None` = every port).
    ignored: AddrMap<Vec<Option<u16>>>,
    /// Some host is declared without a trace.
    has_unobserved_host: bool,
    /// Answers of [`Matcher::is_outside`] and [`Matcher::is_unobserved`] already given.
    outside: AnswerCache,
    unobserved: AnswerCache,
}

/// The machine of each host: hosts that declare a common address (`ip` lines, not the private
/// sides of NAT rules) are one machine, named by the lowest host index among them.
fn machines(topology: &Topology) -> Vec<usize> {
    let mut machines = Groups::new(topology.hosts.len());
    let mut first_owner: AddrMap<usize> = AddrMap::default();
    for (h, host) in topology.hosts.iter().enumerate() {
        for ip in &host.ips {
            let owner = *first_owner.entry(ip.to_canonical()).or_insert(h);
            machines.join(owner, h);
        }
    }
    machines.roots()
}

impl<'t> Matcher<'t> {
    pub fn new(topology: &'t Topology) -> Self {
        let mut owners: AddrMap<Vec<usize>> = AddrMap::default();
        let mut publics: AddrMap<Vec<(usize, usize)>> = AddrMap::default();
        for (h, host) in topology.hosts.iter().enumerate() {
            let privates = host.nats.iter().map(|n| n.private.ip);
            for ip in host.ips.iter().copied().chain(privates) {
                let list = owners.entry(ip.to_canonical()).or_default();
                if !list.contains(&h) {
                    list.push(h);
                }
            }
            for (r, rule) in host.nats.iter().enumerate() {
                publics
                    .entry(rule.public.ip.to_canonical())
                    .or_default()
                    .push((h, r));
            }
        }
        let mut ignored: AddrMap<Vec<Option<u16>>> = AddrMap::default();
        for endpoint in &topology.ignores {
            ignored
                .entry(endpoint.ip.to_canonical())
                .or_default()
                .push(endpoint.port);
        }
        let machine_of_host = machines(topology);
        Matcher {
            topology,
            host_of_trace: topology.traces.iter().map(|t| t.host).collect(),
            machine_of_trace: topology
                .traces
                .iter()
                .map(|t| machine_of_host.get(t.host).copied().unwrap_or(t.host))
                .collect(),
            owners,
            publics,
            ignored,
            has_unobserved_host: topology.hosts.iter().any(|h| h.traces.is_empty()),
            outside: AnswerCache::default(),
            unobserved: AnswerCache::default(),
        }
    }

    /// The host index of a trace.
    pub fn host_of(&self, trace: TraceId) -> Option<usize> {
        self.host_of_trace.get(trace.0 as usize).copied()
    }

    /// Are both traces on one machine: one host, or hosts that declare a common address? An
    /// address belongs to one machine's interface, so two stanzas naming it (two programs
    /// recorded on one machine, each with a host name of its own) describe one machine, whose
    /// loopback and clock they share.
    pub fn same_host(&self, a: TraceId, b: TraceId) -> bool {
        let machine = |t: TraceId| self.machine_of_trace.get(t.0 as usize).copied();
        matches!((machine(a), machine(b)), (Some(x), Some(y)) if x == y)
    }

    /// Can the socket of trace `local_trace`, bound to `local`, be the endpoint that a peer in
    /// trace `peer_trace` knows as `known_as`? (IPv6 wildcards are taken as dual-stack.)
    pub fn can_be(
        &self,
        local_trace: TraceId,
        local: SocketAddr,
        peer_trace: TraceId,
        known_as: SocketAddr,
        role: Role,
    ) -> Match {
        self.can_be_with(
            local_trace,
            local,
            peer_trace,
            known_as,
            role,
            MatchOptions::default(),
        )
    }

    /// [`Matcher::can_be`] with facts about the local socket.
    pub fn can_be_with(
        &self,
        local_trace: TraceId,
        local: SocketAddr,
        peer_trace: TraceId,
        known_as: SocketAddr,
        role: Role,
        options: MatchOptions,
    ) -> Match {
        let host = self.host_of(local_trace);
        let same_host = self.same_host(local_trace, peer_trace);
        let mut notes = Notes::default();
        if same_host {
            notes.add(MatchNote::SameHost);
        }
        let local_ip = notes.canonical(local.ip());
        let peer_ip = notes.canonical(known_as.ip());
        let (local_port, peer_port) = (local.port(), known_as.port());

        if peer_ip.is_unspecified() && peer_port == 0 {
            notes.add(MatchNote::PeerAddressUnknown);
            return notes.verdict(true);
        }
        if peer_ip.is_unspecified() {
            notes.add(MatchNote::UnspecifiedPeer);
        }
        if local_ip.is_multicast() || peer_ip.is_multicast() {
            notes.add(MatchNote::Multicast);
        }
        if is_limited_broadcast(peer_ip) {
            notes.add(MatchNote::Broadcast);
        }
        if !is_special(local_ip) && !self.owns(host, local_ip) {
            notes.add(MatchNote::AddressNotDeclared);
        }
        let ports_unverified = local_port == 0 || peer_port == 0;
        if ports_unverified && role == Role::Server {
            notes.add(MatchNote::PortUnverified);
        }
        let ports_equal = ports_unverified || local_port == peer_port;

        // A sender bound to a multicast group sends from one of its host's addresses.
        let local_ip = if local_ip.is_multicast() && role == Role::Client {
            unspecified_like(local_ip)
        } else {
            local_ip
        };
        let wildcard = local_ip.is_unspecified();
        let reaches_family = |ip: IpAddr| {
            ip.is_ipv4() == local_ip.is_ipv4()
                || (wildcard && local_ip.is_ipv6() && ip.is_ipv4() && !options.v6only)
        };
        if local_ip.is_ipv4() != peer_ip.is_ipv4() {
            notes.add(MatchNote::IpVersionMismatch);
        }

        // Loopback and unspecified destinations never leave their host; connecting to the
        // unspecified address reaches the loopback address of its family.
        if peer_ip.is_loopback() || peer_ip.is_unspecified() {
            if !same_host {
                if peer_ip.is_loopback() {
                    notes.add(MatchNote::LoopbackFromOtherHost);
                }
                return notes.verdict(false);
            }
            let target = if peer_ip.is_unspecified() {
                loopback_like(peer_ip)
            } else {
                peer_ip
            };
            let matched = ports_equal && reaches_family(target) && (wildcard || local_ip == target);
            return notes.verdict(matched);
        }
        // A socket bound to loopback is reachable through loopback only.
        if local_ip.is_loopback() {
            return notes.verdict(false);
        }
        if ports_equal && reaches_family(peer_ip) {
            let direct = local_ip == peer_ip
                || (wildcard
                    && (self.owns(host, peer_ip)
                        || peer_ip.is_multicast()
                        || is_limited_broadcast(peer_ip)));
            if direct {
                return notes.verdict(true);
            }
        }
        let through_nat = host.and_then(|h| {
            self.nat_rules_for(h, peer_ip).find(|rule| {
                rule_applies(rule, local_ip, local_port, peer_port, role, &reaches_family)
            })
        });
        match through_nat {
            Some(rule) => {
                notes.add(MatchNote::ThroughNat {
                    declared: !rule.inferred,
                });
                let forwarded = local_port != 0 && peer_port != 0 && local_port != peer_port;
                if forwarded && role == Role::Server {
                    notes.add(MatchNote::PortForwarded);
                }
                notes.verdict(true)
            }
            None => notes.verdict(false),
        }
    }

    /// Is `ip` (canonical) the public side of some NAT rule? Only then can a socket bound to
    /// another specific address be reached at it.
    pub fn is_nat_public(&self, ip: IpAddr) -> bool {
        self.publics.contains_key(&ip)
    }

    /// Is `addr` an endpoint the configuration says to ignore?
    pub fn is_ignored(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        let port = addr.port();
        self.ignored
            .get(&ip)
            .is_some_and(|ports| ports.iter().any(|p| p.is_none_or(|p| p == port)))
    }

    /// Is `addr` outside the modelled world (ignored, or the address of no host)?
    pub fn is_outside(&self, addr: SocketAddr) -> bool {
        self.outside.get_or(addr, || self.find_outside(addr))
    }

    fn find_outside(&self, addr: SocketAddr) -> bool {
        if self.is_ignored(addr) {
            return true;
        }
        let ip = addr.ip().to_canonical();
        let port = addr.port();
        if is_special(ip) || self.owners.contains_key(&ip) {
            return false;
        }
        let behind_nat = self.publics.get(&ip).is_some_and(|rules| {
            rules.iter().any(|&(h, r)| {
                self.rule(h, r)
                    .is_some_and(|rule| port == 0 || rule.public.port.is_none_or(|p| p == port))
            })
        });
        !behind_nat
    }

    /// Is some host declared without a trace? Then a listener or a UDP socket may hear from a
    /// peer no trace shows.
    pub fn has_unobserved_host(&self) -> bool {
        self.has_unobserved_host
    }

    /// Is `addr` beyond what the traces can show: outside the modelled world, or an address
    /// whose every owner (and every NAT that maps it) is a host declared without a trace? Such a
    /// peer is *unobserved*, not absent: the local trace alone settles what happened to the
    /// calls that address it.
    pub fn is_unobserved(&self, addr: SocketAddr) -> bool {
        self.unobserved.get_or(addr, || self.find_unobserved(addr))
    }

    fn find_unobserved(&self, addr: SocketAddr) -> bool {
        if self.is_outside(addr) {
            return true;
        }
        let ip = addr.ip().to_canonical();
        if is_special(ip) {
            return false;
        }
        let traced = |h: usize| {
            self.topology
                .hosts
                .get(h)
                .is_some_and(|h| !h.traces.is_empty())
        };
        let owned_by_traced = self
            .owners
            .get(&ip)
            .is_some_and(|hosts| hosts.iter().any(|&h| traced(h)));
        let mapped_to_traced = self.publics.get(&ip).is_some_and(|rules| {
            rules.iter().any(|&(h, r)| {
                traced(h)
                    && self.rule(h, r).is_some_and(|rule| {
                        addr.port() == 0 || rule.public.port.is_none_or(|p| p == addr.port())
                    })
            })
        });
        !owned_by_traced && !mapped_to_traced
    }

    fn owns(&self, host: Option<usize>, ip: IpAddr) -> bool {
        host.is_some_and(|h| self.owners.get(&ip).is_some_and(|hosts| hosts.contains(&h)))
    }

    fn rule(&self, host: usize, index: usize) -> Option<&'t NatRule> {
        self.topology.hosts.get(host)?.nats.get(index)
    }

    /// NAT rules of `host` whose public address is `ip`: declared before inferred, exact public
    /// ports before any-port rules, then in declaration order (so the reported rule is stable).
    fn nat_rules_for(&self, host: usize, ip: IpAddr) -> impl Iterator<Item = &'t NatRule> + '_ {
        let mut rules: Vec<&'t NatRule> = self
            .publics
            .get(&ip)
            .into_iter()
            .flatten()
            .filter(|(h, _)| *h == host)
            .filter_map(|&(h, r)| self.rule(h, r))
            .collect();
        rules.sort_by_key(|rule| (rule.inferred, rule.public.port.is_none()));
        rules.into_iter()
    }
}

/// Does `rule` (already known to have the peer's address as its public side) lead to the local
/// socket? A port on one side only is a wildcard on the other; a rule without ports keeps the
/// server's port unchanged and may rewrite a client's source port.
fn rule_applies(
    rule: &NatRule,
    local_ip: IpAddr,
    local_port: u16,
    peer_port: u16,
    role: Role,
    reaches_family: &dyn Fn(IpAddr) -> bool,
) -> bool {
    let private_ip = rule.private.ip.to_canonical();
    let ip_ok = private_ip == local_ip || (local_ip.is_unspecified() && reaches_family(private_ip));
    let public_port_ok = rule
        .public
        .port
        .is_none_or(|p| peer_port == 0 || p == peer_port);
    let private_port_ok = match (rule.private.port, rule.public.port) {
        (Some(q), _) => local_port == 0 || q == local_port,
        (None, Some(_)) => true,
        (None, None) => {
            role == Role::Client || local_port == 0 || peer_port == 0 || local_port == peer_port
        }
    };
    ip_ok && public_port_ok && private_port_ok
}

/// Notes in the order they were found, each once.
#[derive(Default)]
struct Notes(Vec<MatchNote>);

impl Notes {
    fn add(&mut self, note: MatchNote) {
        if !self.0.contains(&note) {
            self.0.push(note);
        }
    }

    /// IPv4-mapped IPv6 becomes IPv4 (noted).
    fn canonical(&mut self, ip: IpAddr) -> IpAddr {
        let canonical = ip.to_canonical();
        if canonical != ip {
            self.add(MatchNote::MappedIpv4);
        }
        canonical
    }

    fn verdict(self, matched: bool) -> Match {
        Match {
            matched,
            notes: self.0,
        }
    }
}

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn loopback_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
