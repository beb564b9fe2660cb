//! One file per rule: its registry entry (`RULE`), its long explanation and its detection
//! function. Helpers shared by several rules live here.

pub mod address_in_use;
pub mod broadcast_not_permitted;
pub mod buffer_overrun;
pub mod connect_filtered;
pub mod connect_never_completed;
pub mod connect_refused;
pub mod connect_refused_while_listening;
pub mod connect_unexpected_failure;
pub mod connection_not_accepted;
pub mod connection_reset;
pub mod data_mismatch;
pub mod data_unreceived;
pub mod data_unreceived_poll_missed;
pub mod datagram_truncated;
pub mod ip_version_mismatch;
pub mod loopback_bound_external_peer;
pub mod mtu_black_hole;
pub mod nat_undeclared;
pub mod no_peer_traffic;
pub mod nonblock_inherited;
pub mod ordering_incomplete;
pub mod port_forwarding;
pub mod send_after_peer_closed;
pub mod udp_all_lost;
pub mod udp_loss;
pub mod unexpected_blocking;
pub mod unparsed_lines;
pub mod unsupported_call;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::claims::{Claims, Direction};
use super::context::Context;
use super::registry::Rule;
use super::{Evidence, Finding};
use crate::model::{Deviation, DeviationKind, Stream, TcpConnection};
use crate::source::{Loc, SockId, TraceId};

/// Unclaimed deviations accepted by `select`, with their index in the outcome.
pub(crate) fn deviations<'a>(
    cx: &Context<'a>,
    claims: &Claims,
    select: impl Fn(&DeviationKind) -> bool,
) -> Vec<(usize, &'a Deviation)> {
    cx.outcome
        .deviations
        .iter()
        .enumerate()
        .filter(|(i, d)| !claims.deviation(*i) && select(&d.kind))
        .collect()
}

/// The call that shows a deviation, then its counterparts on other traces.
pub(crate) fn deviation_evidence(d: &Deviation, note: &str) -> Vec<Evidence> {
    std::iter::once(Evidence::new(d.loc, note))
        .chain(
            d.related
                .iter()
                .map(|&loc| Evidence::new(loc, "counterpart call")),
        )
        .collect()
}

/// Groups items by a key, keeping first-seen order inside each group and key order between
/// groups (deterministic output).
pub(crate) fn group_by<K: Ord, T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, Vec<T>> {
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

/// The socket a deviation is about, with the trace of its call.
pub(crate) fn sock_or_trace(d: &Deviation) -> (TraceId, Option<SockId>) {
    (d.loc.trace, d.sock)
}

/// `socket A3 on host web` or `host web (trace A)` when the socket is unknown.
pub(crate) fn subject(cx: &Context, trace: TraceId, sock: Option<SockId>) -> String {
    match sock {
        Some(sock) => cx.sock(sock),
        None => cx.who(trace),
    }
}

/// One finding per trace for a deviation kind whose meaning is the same on every call (the
/// simple 1:1 rules share this), naming every socket involved.
pub(crate) fn per_socket_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    select: impl Fn(&DeviationKind) -> bool,
    describe: impl Fn(&str, &[(usize, &Deviation)]) -> (String, String),
    note: &str,
) -> Vec<Finding> {
    let selected = deviations(cx, claims, select);
    let groups = group_by(selected, |(_, d)| d.loc.trace);
    let mut findings = Vec::new();
    for (trace, group) in groups {
        let mut socks: Vec<SockId> = group.iter().filter_map(|(_, d)| d.sock).collect();
        socks.sort();
        socks.dedup();
        let who = sockets_of(cx, trace, &socks);
        let (summary, hint) = describe(&who, &group);
        let mut finding = Finding::new(rule, summary, hint)
            .with_evidence(group.iter().flat_map(|(_, d)| deviation_evidence(d, note)));
        for (index, d) in &group {
            claims.claim_deviation(*index);
            finding = finding.with_fact(d.detail.clone());
        }
        finding.facts.dedup();
        findings.push(finding);
    }
    findings
}

/// `socket A3 on host web`, `sockets A1, A3 on host web (trace A)`, or `host web (trace A)`.
pub(crate) fn sockets_of(cx: &Context, trace: TraceId, socks: &[SockId]) -> String {
    match socks {
        [] => cx.who(trace),
        [one] => cx.sock(*one),
        many => {
            let names: Vec<String> = many.iter().map(|s| s.to_string()).collect();
            format!("sockets {} on {}", names.join(", "), cx.who(trace))
        }
    }
}

/// A direction of a connection: the stream, its sender and its receiver.
pub(crate) struct StreamView<'a> {
    pub index: usize,
    pub dir: Direction,
    pub connection: &'a TcpConnection,
    pub stream: &'a Stream,
    pub sender: SockId,
    /// None when the connection was never accepted.
    pub receiver: Option<SockId>,
}

impl<'a> StreamView<'a> {
    /// The stream flowing the other way.
    pub fn reverse(&self) -> &'a Stream {
        match self.dir {
            Direction::ToServer => &self.connection.to_client,
            Direction::ToClient => &self.connection.to_server,
        }
    }

    /// The address the client dialled (the server's public address).
    pub fn server_address(&self) -> Option<SocketAddr> {
        self.connection.client_view.1
    }

    /// Where the bytes were sent, else where the connection was set up.
    pub fn evidence(&self, note: &str) -> Vec<Evidence> {
        let mut evidence = Vec::new();
        if let Some(loc) = self.stream.last_send {
            evidence.push(Evidence::new(loc, note));
        }
        evidence.push(Evidence::new(self.connection.connect_loc, "connect"));
        if let Some(loc) = self.connection.accept_loc {
            evidence.push(Evidence::new(loc, "accept"));
        }
        evidence
    }
}

/// Every direction of every connection, in outcome order.
pub(crate) fn streams<'a>(cx: &Context<'a>) -> impl Iterator<Item = StreamView<'a>> {
    cx.outcome.tcp.iter().enumerate().flat_map(|(index, c)| {
        Direction::BOTH.into_iter().map(move |dir| match dir {
            Direction::ToServer => StreamView {
                index,
                dir,
                connection: c,
                stream: &c.to_server,
                sender: c.client,
                receiver: c.server,
            },
            Direction::ToClient => StreamView {
                index,
                dir,
                connection: c,
                stream: &c.to_client,
                sender: c.server.unwrap_or(c.client),
                receiver: c.server.map(|_| c.client),
            },
        })
    })
}

/// Accepted streams with bytes that never arrived and no earlier rule explaining them.
pub(crate) fn unexplained_unreceived<'a>(cx: &Context<'a>, claims: &Claims) -> Vec<StreamView<'a>> {
    streams(cx)
        .filter(|s| s.receiver.is_some() && s.stream.unreceived() > 0)
        .filter(|s| !claims.stream(s.index, s.dir))
        .collect()
}

/// Claims every deviation about `sock` of the given kinds (the finding that explains the socket's
/// stream also explains them).
pub(crate) fn claim_socket_deviations(
    cx: &Context,
    claims: &mut Claims,
    sock: SockId,
    select: impl Fn(&DeviationKind) -> bool,
) {
    for (i, d) in cx.outcome.deviations.iter().enumerate() {
        if d.sock == Some(sock) && select(&d.kind) {
            claims.claim_deviation(i);
        }
    }
}

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
    select: impl Fn(crate::parse::Errno, Option<SockId>) -> bool,
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
            } if select(errno, listener) => Some(FailedConnect {
                index,
                deviation: d,
                errno,
                target,
                listener,
            }),
            _ => None,
        });
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
    let groups = failed_connects(cx, claims, select);
    let mut findings = Vec::new();
    for ((trace, target, errno), group) in groups {
        let (summary, hint) = describe(&cx.who(trace), target, errno, group.len());
        let mut finding =
            Finding::new(rule, summary, hint).with_evidence(group.iter().flat_map(|f| {
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
        for failure in &group {
            claims.claim_deviation(failure.index);
            finding = finding.with_fact(failure.deviation.detail.clone());
        }
        finding.facts.dedup();
        findings.push(finding);
    }
    findings
}

/// One finding per (sender trace, receiver trace, dialled address, direction) over streams with
/// unreceived bytes; claims the streams.
pub(crate) fn unreceived_findings(
    cx: &Context,
    claims: &mut Claims,
    rule: &'static Rule,
    selected: Vec<StreamView>,
    describe: impl Fn(&UnreceivedGroup) -> (String, String),
) -> Vec<Finding> {
    let groups = group_by(selected, |s| {
        (
            s.sender.trace,
            s.receiver.map(|r| r.trace),
            s.server_address(),
            s.dir,
        )
    });
    let mut findings = Vec::new();
    for ((sender_trace, receiver_trace, server_address, dir), group) in groups {
        for s in &group {
            claims.claim_stream(s.index, s.dir);
        }
        let summary_of = UnreceivedGroup {
            sender: cx.who(sender_trace),
            receiver: receiver_trace.map_or_else(|| "?".to_string(), |t| cx.who(t)),
            server_address: super::context::addr_or_unknown(server_address),
            direction: dir,
            connections: group.len(),
            sent: group.iter().map(|s| s.stream.sent).sum(),
            unreceived: group.iter().map(|s| s.stream.unreceived()).sum(),
            receiver_closed: group.iter().filter(|s| s.stream.closed_by_receiver).count(),
        };
        let (summary, hint) = describe(&summary_of);
        let mut finding = Finding::new(rule, summary, hint).with_evidence(
            group
                .iter()
                .flat_map(|s| s.evidence("last unreceived send")),
        );
        for s in &group {
            finding = finding.with_fact(format!(
                "{} → {}: {} bytes sent, {} received",
                s.sender,
                s.receiver
                    .map_or_else(|| "?".to_string(), |r| r.to_string()),
                s.stream.sent,
                s.stream.received
            ));
        }
        if summary_of.receiver_closed > 0 {
            finding = finding.with_fact(format!(
                "the receiver closed {} of these connection(s) with the bytes unread",
                summary_of.receiver_closed
            ));
        }
        findings.push(finding);
    }
    findings
}

/// What the unreceived-data rules say about a group of streams.
pub(crate) struct UnreceivedGroup {
    pub sender: String,
    pub receiver: String,
    pub server_address: String,
    pub direction: Direction,
    pub connections: usize,
    pub sent: u64,
    pub unreceived: u64,
    pub receiver_closed: usize,
}

impl UnreceivedGroup {
    /// `host a (trace A) sent 120 bytes ... to host b (trace B) on 1 connection to 10.0.0.2:80`.
    pub fn describe(&self) -> String {
        let side = match self.direction {
            Direction::ToServer => "client → server",
            Direction::ToClient => "server → client",
        };
        format!(
            "{} of {} bytes sent by {} were never received by {} ({} TCP connection(s) to {}, \
             {side})",
            self.unreceived,
            self.sent,
            self.sender,
            self.receiver,
            self.connections,
            self.server_address
        )
    }
}

/// A UDP flow to a modelled receiver with datagrams lost and no earlier rule explaining it:
/// `(index, flow, sent, received)`.
pub(crate) fn lossy_udp_flows<'a>(
    cx: &Context<'a>,
    claims: &Claims,
) -> Vec<(usize, &'a crate::model::UdpFlow, u64, u64)> {
    let matcher = cx.matcher();
    cx.outcome
        .udp
        .iter()
        .enumerate()
        .filter(|(i, f)| !claims.udp_flow(*i) && !matcher.is_outside(f.receiver_addr))
        .map(|(i, f)| {
            let (sent, received) = mtu_black_hole::totals(f, |_| true);
            (i, f, sent, received)
        })
        .filter(|(_, _, sent, received)| sent > received)
        .collect()
}

/// `socket A0 on host a (10.0.0.1:5000)`.
pub(crate) fn udp_sender(cx: &Context, flow: &crate::model::UdpFlow) -> String {
    match flow.sender_addr {
        Some(addr) => format!("{} ({addr})", cx.sock(flow.sender)),
        None => cx.sock(flow.sender),
    }
}

/// Claims the never-accepted connections matched to a listener of `trace` on `local`'s port:
/// when a server accepted connections from unexpected peers there, these connects are the other
/// half of the same story. Returns their connects as evidence.
pub(crate) fn claim_unaccepted_at(
    cx: &Context,
    claims: &mut Claims,
    trace: TraceId,
    local: SocketAddr,
) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    for (index, c) in cx.outcome.tcp.iter().enumerate() {
        let to_this_listener = c.server.is_none()
            && c.listener.is_some_and(|l| l.trace == trace)
            && c.client_view.1.is_none_or(|a| a.port() == local.port());
        if to_this_listener && !claims.stream(index, Direction::ToServer) {
            for dir in Direction::BOTH {
                claims.claim_stream(index, dir);
            }
            evidence.push(Evidence::new(
                c.connect_loc,
                "connect matched to this listener but never accepted",
            ));
        }
    }
    evidence
}
