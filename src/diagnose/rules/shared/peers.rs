//! Connects and accepts: failed connects, accepts from unexpected peers, calls to strangers.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use crate::diagnose::claims::{Claims, Direction};
use crate::diagnose::context::Context;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Evidence, Finding};
use crate::model::{Deviation, DeviationKind};
use crate::order::filtered::shows_failed_calls_only;
use crate::parse::ParseStats;
use crate::source::{Loc, SockId, TraceId};

use super::deviations::{deviation_evidence, group_by};

/// Calls of `trace` aimed at its unknown peers: the calls the model recorded for them, else the
/// connects, first datagram sends and pending connects towards those addresses.
pub(crate) fn calls_toward(
    cx: &Context,
    trace: TraceId,
    activity: &crate::model::TraceActivity,
) -> Vec<Evidence> {
    let targets = &activity.unknown_peers;
    let recorded = activity
        .unknown_peer_calls
        .iter()
        .enumerate()
        .map(|(i, &loc)| {
            let peer = targets.get(i).map_or_else(String::new, |a| format!(" {a}"));
            (loc, format!("talks to{peer}, an address of no traced host"))
        });
    let aims = |a: Option<SocketAddr>| a.is_some_and(|a| targets.contains(&a));
    let note = |what: &str, to: SocketAddr| format!("{what} to {to}, an address of no traced host");
    let connects = cx
        .outcome
        .tcp
        .iter()
        .filter(|c| c.client.trace == trace && aims(c.client_view.1))
        .filter_map(|c| {
            c.client_view
                .1
                .map(|to| (c.connect_loc, note("connect", to)))
        });
    let pending = cx
        .outcome
        .pending_connects
        .iter()
        .filter(|p| p.sock.trace == trace && targets.contains(&p.target))
        .map(|p| (p.loc, note("connect", p.target)));
    let datagrams = cx
        .outcome
        .udp
        .iter()
        .filter(|f| f.sender.trace == trace && targets.contains(&f.receiver_addr))
        .map(|f| (f.first_send, note("datagram", f.receiver_addr)));
    let mut calls: Vec<(Loc, String)> = recorded
        .chain(connects)
        .chain(pending)
        .chain(datagrams)
        .collect();
    calls.sort();
    calls.dedup_by_key(|(loc, _)| *loc);
    calls
        .into_iter()
        .map(|(loc, note)| Evidence::new(loc, note))
        .collect()
}

/// An accept whose peer matches no traced connect.
pub(crate) struct UnknownPeerAccept<'a> {
    pub index: usize,
    pub deviation: &'a Deviation,
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

/// Unclaimed `AcceptFromUnknownPeer` deviations whose peer passes `select`, grouped by the
/// accepting trace and local address.
pub(crate) fn unknown_peer_accepts<'a>(
    cx: &Context<'a>,
    claims: &Claims,
    select: impl Fn(SocketAddr) -> bool,
) -> BTreeMap<(TraceId, SocketAddr), Vec<UnknownPeerAccept<'a>>> {
    let accepts = cx
        .outcome
        .deviations
        .iter()
        .enumerate()
        .filter(|(i, _)| !claims.deviation(*i))
        .filter_map(|(index, d)| match d.kind {
            DeviationKind::AcceptFromUnknownPeer { peer, local } if select(peer) => {
                Some(UnknownPeerAccept {
                    index,
                    deviation: d,
                    peer,
                    local,
                })
            }
            _ => None,
        });
    group_by(accepts, |a| (a.deviation.loc.trace, a.local))
}

/// The call that sets up an io_uring: socket operations a program hands to the ring (connect,
/// send, receive, accept) run in the kernel without a system call of their own, so strace shows
/// only the ring's set-up and its `io_uring_enter` submissions (which `netcheck record`'s filter
/// leaves out; the set-up it keeps).
pub(crate) const IO_URING_SETUP: &str = "io_uring_setup";

/// Whether a trace of a host owning `ip` set up an io_uring: its connects, sends and
/// receives may be missing from it (`capi/uring-healthy`: the client's connect to the server
/// went through io_uring, and only its shutdown and close show the socket).
pub(crate) fn io_uring_behind(cx: &Context, ip: std::net::IpAddr) -> bool {
    host_traces_of(cx, ip).any(|p| p.ignored.contains_key(IO_URING_SETUP))
}

/// Were the connects of the host at `ip` hidden from its traces? Each of them shows only calls
/// that failed (`-Z`): a connect that succeeded is not in it.
pub(crate) fn successful_connects_hidden(cx: &Context, ip: std::net::IpAddr) -> bool {
    let mut traces = host_traces_of(cx, ip).peekable();
    traces.peek().is_some() && traces.all(shows_failed_calls_only)
}

/// The parse counters of every trace of the host at `ip`.
fn host_traces_of<'a>(
    cx: &'a Context,
    ip: std::net::IpAddr,
) -> impl Iterator<Item = &'a ParseStats> + 'a {
    let ip = ip.to_canonical();
    cx.topology
        .hosts
        .iter()
        .filter(move |h| h.ips.iter().any(|a| a.to_canonical() == ip))
        .flat_map(|h| &h.traces)
        .filter_map(|t| cx.parse.get(t.0 as usize))
}

/// The distinct peer IPs of a group of accepts, sorted.
pub(crate) fn peer_ips(accepts: &[UnknownPeerAccept]) -> Vec<String> {
    let mut peers: Vec<String> = accepts.iter().map(|a| a.peer.ip().to_string()).collect();
    peers.sort();
    peers.dedup();
    peers
}

/// A failed connect, as the model reported it.
pub(crate) struct FailedConnect<'a> {
    pub index: usize,
    pub deviation: &'a Deviation,
    pub errno: crate::parse::Errno,
    pub target: SocketAddr,
    pub listener: Option<SockId>,
}

/// Unclaimed connect failures accepted by `select`, grouped by (trace, target, errno).
pub(crate) fn failed_connects<'a>(
    cx: &Context<'a>,
    claims: &Claims,
    select: impl Fn(&FailedConnect) -> bool,
) -> BTreeMap<(TraceId, SocketAddr, crate::parse::Errno), Vec<FailedConnect<'a>>> {
    let failures = cx
        .outcome
        .deviations
        .iter()
        .enumerate()
        .filter(|(i, _)| !claims.deviation(*i))
        .filter_map(|(index, d)| match d.kind {
            DeviationKind::ConnectFailed {
                errno,
                target,
                listener,
            } => Some(FailedConnect {
                index,
                deviation: d,
                errno,
                target,
                listener,
            }),
            _ => None,
        })
        .filter(|f| select(f));
    group_by(failures, |f| (f.deviation.loc.trace, f.target, f.errno))
}

/// One finding per (trace, target, errno) group of failed connects; claims them.
pub(crate) fn connect_failure_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    select: impl Fn(crate::parse::Errno, Option<SockId>) -> bool,
    describe: impl Fn(&str, SocketAddr, crate::parse::Errno, usize) -> (String, String),
) -> Vec<Finding> {
    failed_connect_findings(
        cx,
        claims,
        rule,
        |f| select(f.errno, f.listener),
        describe,
        |_| Vec::new(),
    )
}

/// [`connect_failure_findings`] with a selection that sees the whole failure, and extra facts
/// per failure (deduplicated).
pub(crate) fn failed_connect_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    select: impl Fn(&FailedConnect) -> bool,
    describe: impl Fn(&str, SocketAddr, crate::parse::Errno, usize) -> (String, String),
    facts: impl Fn(&FailedConnect) -> Vec<String>,
) -> Vec<Finding> {
    let groups = failed_connects(cx, claims, select);
    let mut findings = Vec::new();
    for ((trace, target, errno), group) in groups {
        let (summary, hint) = describe(&cx.who(trace), target, errno, group.len());
        let mut finding =
            rule.finding(summary, hint)
                .with_evidence(group.iter().flat_map(|f| {
                    deviation_evidence(f.deviation, &format!("connect failed: {errno}"))
                }));
        let mut listeners: Vec<SockId> = group.iter().filter_map(|f| f.listener).collect();
        listeners.sort();
        listeners.dedup();
        for listener in listeners {
            finding = finding.with_fact(format!(
                "{} was listening at an address matching {target} when the connect was replayed",
                cx.sock(listener)
            ));
        }
        claims.claim_connect_target(trace, target);
        for failure in &group {
            claims.claim_deviation(failure.index);
            finding = finding.with_fact(failure.deviation.detail.clone());
            for fact in facts(failure) {
                if !finding.facts.contains(&fact) {
                    finding = finding.with_fact(fact);
                }
            }
        }
        finding.facts.dedup();
        if let Some(first) = group.first() {
            finding = super::fallback::with_fallback(cx, finding, first.deviation.loc, target);
        }
        findings.push(finding);
    }
    findings
}

/// Claims a connection that no traced socket accepted, whose far end a finding explains (a NAT,
/// a forward): both directions, and the client's receipts of bytes no traced call sent, which
/// came from that far end and are no data mismatch.
pub(crate) fn claim_unmatched_connection(cx: &Context, claims: &mut Claims, index: usize) {
    for dir in Direction::BOTH {
        claims.claim_stream(index, dir);
    }
    if let Some(c) = cx.outcome.tcp.get(index) {
        super::deviations::claim_socket_deviations(cx, claims, c.client, |k| {
            *k == DeviationKind::UnknownData
        });
    }
}

/// Connections whose target is unknown (any port matches), and those by target port.
type TargetsOfTrace = (Vec<usize>, HashMap<u16, Vec<usize>>);

/// The TCP connections never accepted although matched to a listener, by the listener's trace
/// and the port the client aimed at: each group of accepts from unknown peers looks up its own
/// listener instead of scanning every connection (a run may have as many groups as listeners).
pub(crate) struct UnacceptedIndex {
    /// Per trace: connections whose client target is unknown (any port matches), and those
    /// by target port. Indexes into `outcome.tcp`, ascending.
    by_trace: HashMap<TraceId, TargetsOfTrace>,
    /// Deviations of unknown data, by socket: what [`claim_unmatched_connection`] claims with
    /// a connection, without a scan of every deviation per connection.
    unknown_data: HashMap<SockId, Vec<usize>>,
}

impl UnacceptedIndex {
    pub(crate) fn new(cx: &Context) -> Self {
        let mut by_trace: HashMap<TraceId, TargetsOfTrace> = HashMap::new();
        for (index, c) in cx.outcome.tcp.iter().enumerate() {
            let Some(listener) = c.listener.filter(|_| c.server.is_none()) else {
                continue;
            };
            let (any_port, by_port) = by_trace.entry(listener.trace).or_default();
            match c.client_view.1 {
                None => any_port.push(index),
                Some(target) => by_port.entry(target.port()).or_default().push(index),
            }
        }
        let mut unknown_data: HashMap<SockId, Vec<usize>> = HashMap::new();
        for (index, d) in cx.outcome.deviations.iter().enumerate() {
            if let Some(sock) = d.sock.filter(|_| d.kind == DeviationKind::UnknownData) {
                unknown_data.entry(sock).or_default().push(index);
            }
        }
        UnacceptedIndex {
            by_trace,
            unknown_data,
        }
    }

    /// [`claim_unmatched_connection`] for one of the indexed connections.
    fn claim_connection(&self, cx: &Context, claims: &mut Claims, index: usize) {
        for dir in Direction::BOTH {
            claims.claim_stream(index, dir);
        }
        let Some(c) = cx.outcome.tcp.get(index) else {
            return;
        };
        for &deviation in self.unknown_data.get(&c.client).into_iter().flatten() {
            claims.claim_deviation(deviation);
        }
    }

    /// Indexes of the connections matched to a listener of `trace` on `port`, ascending.
    fn at(&self, trace: TraceId, port: u16) -> Vec<usize> {
        let Some((any_port, by_port)) = self.by_trace.get(&trace) else {
            return Vec::new();
        };
        let mut indexes = any_port.clone();
        indexes.extend(by_port.get(&port).into_iter().flatten().copied());
        indexes.sort_unstable();
        indexes
    }
}

/// Claims a group of accepts from unknown peers and the never-accepted connects at the same
/// listener (see [`claim_unaccepted_at`]), adding them to `finding` as facts and evidence.
pub(crate) fn claim_accepts_and_unaccepted(
    cx: &Context,
    claims: &mut Claims,
    mut finding: Finding,
    group: &[UnknownPeerAccept<'_>],
    unaccepted: &UnacceptedIndex,
    (trace, local): (TraceId, SocketAddr),
) -> Finding {
    for accept in group {
        claims.claim_deviation(accept.index);
        finding = finding.with_fact(accept.deviation.detail.clone());
    }
    let unaccepted = claim_unaccepted_at(cx, claims, unaccepted, trace, local);
    if !unaccepted.is_empty() {
        finding = finding.with_fact(format!(
            "{} traced connect(s) matched to this listener were never accepted: probably the \
             same connections, seen under another address",
            unaccepted.len()
        ));
        let mut evidence = std::mem::take(&mut finding.evidence);
        evidence.extend(unaccepted);
        finding = finding.with_evidence(evidence);
    }
    finding
}

/// Claims the never-accepted connections matched to a listener of `trace` on `local`'s port:
/// when a server accepted connections from unexpected peers there, these connects are the other
/// half of the same story. Returns their connects as evidence.
pub(crate) fn claim_unaccepted_at(
    cx: &Context,
    claims: &mut Claims,
    unaccepted: &UnacceptedIndex,
    trace: TraceId,
    local: SocketAddr,
) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    for index in unaccepted.at(trace, local.port()) {
        let Some(c) = cx.outcome.tcp.get(index) else {
            continue;
        };
        if !claims.stream(index, Direction::ToServer) {
            unaccepted.claim_connection(cx, claims, index);
            evidence.push(Evidence::new(
                c.connect_loc,
                "connect matched to this listener but never accepted",
            ));
        }
    }
    evidence
}
