//! UDP flows with losses, and datagram totals by size.

use std::collections::HashSet;
use std::net::SocketAddr;

use crate::config::is_limited_broadcast;
use crate::diagnose::claims::Claims;
use crate::diagnose::context::Context;
use crate::model::udp::UDP_PATH_ERRNOS;
use crate::model::{DeviationKind, LoopbackUdpBind, UdpFlow};
use crate::source::SockId;

use super::loopback_udp_bind_at;

/// UDP flows to a modelled receiver that no earlier rule claimed, whose sender was not refused
/// on a connected socket and whose receiver was not connected to another source: `(index,
/// flow, sent, received)`.
fn unexplained_udp_flows<'a>(
    cx: &Context<'a>,
    claims: &Claims,
) -> Vec<(usize, &'a UdpFlow, u64, u64)> {
    let matcher = cx.matcher();
    let refused = refused_udp_senders(cx);
    cx.outcome
        .udp
        .iter()
        .enumerate()
        .filter(|(i, f)| !claims.udp_flow(*i) && !matcher.is_outside(f.receiver_addr))
        .filter(|(_, f)| !refused.contains(&(f.sender, f.receiver_addr)))
        // Its receiver's host discarded it (the socket there accepts only its connected peer):
        // it arrived, and the exchange rules judge the answer that never came back.
        .filter(|(_, f)| f.receiver_connected_elsewhere.is_none())
        // A group or broadcast datagram no traced socket heard: every host hears those, so a
        // host declared without a trace may have been its only member.
        .filter(|(_, f)| {
            let ip = f.receiver_addr.ip();
            let to_all = ip.is_multicast() || is_limited_broadcast(ip);
            !(to_all && f.receivers.is_empty() && matcher.has_unobserved_host())
        })
        .map(|(i, f)| {
            let (sent, received) = totals(f, |_| true);
            (i, f, sent, received)
        })
        .collect()
}

/// A UDP flow to a modelled receiver with datagrams lost and no earlier rule explaining it:
/// `(index, flow, sent, received)`.
pub(crate) fn lossy_udp_flows<'a>(
    cx: &Context<'a>,
    claims: &Claims,
) -> Vec<(usize, &'a UdpFlow, u64, u64)> {
    unexplained_udp_flows(cx, claims)
        .into_iter()
        .filter(|(_, _, sent, received)| sent > received)
        // Nothing arrived where the only traced socket for that port is bound to loopback:
        // the datagrams found nothing bound, `loopback-bound-external-peer` reports them.
        .filter(|(_, f, _, received)| {
            *received > 0 || loopback_udp_bind_at(cx, f.receiver_addr, f.sender.trace).is_none()
        })
        // Nothing arrived at a port no socket of the traced destination host ever bound: the
        // datagrams found nothing there (its ICMP port unreachable goes unseen by an
        // unconnected sender), which `no-reply` reports from the sender's side; no path lost
        // them.
        .filter(|(_, f, _, received)| *received > 0 || !f.nothing_bound_at_receiver)
        .collect()
}

/// UDP flows (not yet claimed, not refused on a connected socket) of which nothing was
/// received, sent to a host's external address whose port a traced UDP socket of that host
/// has bound on loopback only: `(index, flow, datagrams sent, that socket)`. An unconnected
/// sender never sees the ICMP port unreachable its datagrams draw (snmpget to an snmpd with
/// `agentAddress udp:127.0.0.1:161`, `apps/snmp-listen-localhost`).
pub(crate) fn udp_flows_to_loopback_bound<'a>(
    cx: &Context<'a>,
    claims: &Claims,
) -> Vec<(usize, &'a UdpFlow, u64, &'a LoopbackUdpBind)> {
    unexplained_udp_flows(cx, claims)
        .into_iter()
        .filter(|(_, _, sent, received)| *sent > 0 && *received == 0)
        .filter_map(|(i, f, sent, _)| {
            let bind = loopback_udp_bind_at(cx, f.receiver_addr, f.sender.trace)?;
            Some((i, f, sent, bind))
        })
        .collect()
}

/// UDP senders refused by the host they sent to (ECONNREFUSED, its ICMP port unreachable) or
/// turned back on the way (EHOSTUNREACH, ENETUNREACH: a router's or a firewall's ICMP
/// destination unreachable), with that address: their datagrams met an answer, which is no loss
/// (`connect-refused` and `connect-filtered` report them).
pub(crate) fn refused_udp_senders(cx: &Context) -> HashSet<(SockId, SocketAddr)> {
    let udp_senders: HashSet<SockId> = cx.outcome.udp.iter().map(|f| f.sender).collect();
    cx.outcome
        .deviations
        .iter()
        .filter_map(|d| match d.kind {
            DeviationKind::ConnectFailed { errno, target, .. }
                if UDP_PATH_ERRNOS.contains(&errno) =>
            {
                d.sock
                    .filter(|s| udp_senders.contains(s))
                    .map(|s| (s, target))
            }
            _ => None,
        })
        .collect()
}

/// Whether a failed connect is a UDP socket's refusal (see [`refused_udp_senders`]): TCP
/// listeners say nothing about it.
pub(crate) fn is_udp_refusal(cx: &Context, deviation: &crate::model::Deviation) -> bool {
    deviation
        .sock
        .is_some_and(|s| cx.outcome.udp.iter().any(|f| f.sender == s))
}

/// `socket A0 on host a (10.0.0.1:5000)`.
pub(crate) fn udp_sender(cx: &Context, flow: &UdpFlow) -> String {
    match flow.sender_addr {
        Some(addr) => format!("{} ({addr})", cx.sock(flow.sender)),
        None => cx.sock(flow.sender),
    }
}

/// Claims a flow whose losses a rule explains, with the readiness waits on its receivers that
/// timed out while lost datagrams counted as in flight: the loss explains those waits too.
pub(crate) fn claim_lossy_flow(cx: &Context, claims: &mut Claims, index: usize) {
    claims.claim_udp_flow(index);
    let Some(flow) = cx.outcome.udp.get(index) else {
        return;
    };
    for (i, deviation) in cx.outcome.deviations.iter().enumerate() {
        let on_receiver = deviation
            .sock
            .is_some_and(|sock| flow.receivers.contains(&sock));
        if on_receiver && deviation.kind == crate::model::DeviationKind::PollMissedData {
            claims.claim_deviation(i);
        }
    }
}

/// Datagrams sent and received (never more than sent) over the sizes accepted by `select`.
pub(crate) fn totals(flow: &UdpFlow, select: impl Fn(u64) -> bool) -> (u64, u64) {
    flow.by_size
        .iter()
        .filter(|(len, _, _)| select(*len))
        .fold((0, 0), |(s, r), (_, sent, received)| {
            (s + sent, r + (*received).min(*sent))
        })
}
