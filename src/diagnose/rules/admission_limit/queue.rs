//! `admission-limit`'s queue forms: connections a server left in its listen queue while it
//! served others, until their clients gave up or until it closed one it held.

use std::collections::BTreeMap;

use super::RULE;
use crate::diagnose::claims::Direction;
use crate::diagnose::context::plural;
use crate::diagnose::rules::claim_socket_deviations;
use crate::diagnose::rules::connection_not_accepted::queued_by_a_connect_never_completed;
use crate::diagnose::rules::network_stall::{syn_retransmissions, MIN_RTO};
use crate::diagnose::{Claims, Context, Evidence, Finding};
use crate::fold::ProgramContext;
use crate::model::tcp::accept_queue::FullQueueConnect;
use crate::model::{ConnectTiming, DeviationKind, TcpConnection};
use crate::source::{Loc, SockId};

/// Connections that waited in the listen queue, while the server held others, until it closed
/// one of them: one finding per listener.
pub(super) fn kept_waiting(cx: &Context) -> Vec<Finding> {
    let mut by_listener: BTreeMap<SockId, Vec<(usize, &TcpConnection, f64)>> = BTreeMap::new();
    for (i, c) in cx.outcome.tcp.iter().enumerate() {
        let Some(wait) = c.queue_wait.filter(|w| *w >= MIN_RTO) else {
            continue;
        };
        if let Some(listener) = c.listener {
            by_listener.entry(listener).or_default().push((i, c, wait));
        }
    }
    let mut findings = Vec::new();
    for (listener, conns) in by_listener {
        let longest = conns.iter().map(|(_, _, w)| *w).fold(0.0, f64::max);
        let mut finding = RULE
            .finding(
                format!(
                    "{} kept {} waiting in the queue of {} until it closed another it held (up \
                     to {longest:.3} s): it serves too few at once",
                    cx.who(listener.trace),
                    plural(conns.len() as u64, "connection", "connections"),
                    cx.sock(listener),
                ),
                "add workers or raise the number served at once (MaxRequestWorkers, \
                 server.max-connections, worker processes), or make the slow requests faster",
            )
            .with_fact(
                "because: the server held other connections of this listener when these were \
                 made and accepted each only after closing one; each client's wait for its \
                 answer exceeds the server's time to answer by the time spent queued",
            );
        for (timing, full) in syns_dropped_at(cx, listener) {
            finding = finding.with_evidence([Evidence::new(
                timing.connect,
                format!(
                    "connect made while the accept queue (backlog {}) was full: its SYNs were \
                     dropped, it completed after {:.3} s",
                    full.backlog, timing.seconds,
                ),
            )]);
        }
        for (_, c, wait) in &conns {
            finding = finding.with_evidence([Evidence::new(
                c.connect_loc,
                format!("connect; {wait:.3} s in the listen queue"),
            )]);
            if let Some(accept) = c.accept_loc {
                finding = finding.with_evidence([Evidence::new(
                    accept,
                    "accepted after the server closed a connection it held",
                )]);
            }
        }
        findings.push(finding);
    }
    findings
}

/// Did the server keep connections waiting in the queue of `listener` (the clients' clocks
/// measured it, see `kept_waiting`)?
fn kept_connections_waiting(cx: &Context, listener: SockId) -> bool {
    cx.outcome
        .tcp
        .iter()
        .any(|c| c.listener == Some(listener) && c.queue_wait.is_some_and(|w| w >= MIN_RTO))
}

/// Connects to `listener` that completed after SYN retransmissions and were made while its
/// accept queue was full. (A fast connect shows its SYN answered: the queue had room, whatever
/// the replay's order put in it.)
fn syns_dropped_at<'a>(
    cx: &'a Context,
    listener: SockId,
) -> impl Iterator<Item = (&'a ConnectTiming, &'a FullQueueConnect)> {
    let slow = cx
        .outcome
        .connect_timings
        .iter()
        .filter(|t| syn_retransmissions(t.seconds).is_some());
    slow.filter_map(move |t| {
        let full = cx
            .outcome
            .full_queue_connects
            .iter()
            .find(|f| f.connect == t.connect && f.listener == listener)?;
        Some((t, full))
    })
}

/// The connect at `connect` found its listener's accept queue full (more connections waiting
/// than its backlog) while the server, by its clients' clocks, kept connections waiting there:
/// Linux dropped its SYNs at the server, and a slow completion is the server's admission, not
/// loss on the network.
pub fn syn_dropped_by_full_queue(cx: &Context, connect: Loc) -> bool {
    cx.outcome
        .full_queue_connects
        .iter()
        .any(|f| f.connect == connect && kept_connections_waiting(cx, f.listener))
}

/// Connections the server took from its queue only after their clients had given up waiting,
/// while it was serving others: one finding per listener.
pub(super) fn queued_past_patience(cx: &Context, claims: &mut Claims) -> Vec<Finding> {
    let waited = |c: &TcpConnection| c.client_held.is_some_and(|held| held >= MIN_RTO);
    // Taken from the queue after the client left, when the server was serving already.
    let taken_late = |c: &TcpConnection| {
        c.server.is_some()
            && c.to_client.stats.received == 0
            && c.late_accept.is_some_and(|late| !late.while_starting)
    };
    // Never taken at all, by a server that answered other connections of the listener: a
    // listen queue hands connections out in order, so the server accepted nothing after this
    // one arrived. The client closed by itself, after waiting, on a connection that was made
    // (a connect never seen to complete is dropped SYNs: `connect-never-completed`).
    let never_taken = |c: &TcpConnection, listener: SockId| {
        c.server.is_none()
            && c.ends.client == Some(ProgramContext::Running)
            && !queued_by_a_connect_never_completed(cx, c)
            && cx
                .outcome
                .listener_loads
                .iter()
                .any(|l| l.listener == listener && l.answered > 0)
    };
    let gave_up = |c: &TcpConnection| {
        waited(c)
            && c.listener
                .is_some_and(|l| taken_late(c) || never_taken(c, l))
    };
    let mut by_listener: BTreeMap<SockId, Vec<(usize, &TcpConnection)>> = BTreeMap::new();
    for (i, c) in cx.outcome.tcp.iter().enumerate() {
        if let Some(listener) = c.listener.filter(|_| gave_up(c)) {
            by_listener.entry(listener).or_default().push((i, c));
        }
    }
    let mut findings = Vec::new();
    for (listener, conns) in by_listener {
        let taken = conns.iter().filter(|(_, c)| c.server.is_some()).count() as u64;
        let never = conns.len() as u64 - taken;
        let connections = |n| plural(n, "connection", "connections");
        let queue = cx.sock(listener);
        let what = match (taken, never) {
            (_, 0) => format!(
                "took {} from the queue of {queue} only after the client(s) had given up waiting",
                connections(taken)
            ),
            (0, _) => format!(
                "never took {} from the queue of {queue}; the client(s) gave up waiting",
                connections(never)
            ),
            _ => format!(
                "took {} from the queue of {queue} only after the client(s) had given up \
                 waiting, and never took {} more",
                connections(taken),
                never
            ),
        };
        let mut finding = RULE
            .finding(
                format!(
                    "{} {what}, while it was serving other connections: it serves too few at once",
                    cx.who(listener.trace),
                ),
                "add workers or raise the number served at once (MaxRequestWorkers, \
                     server.max-connections, worker processes), or make the slow requests faster",
            )
            .with_fact(
                "because: the server had already answered other connections of this listener, \
                     and each client waited before closing: the queue, not start-up, kept them",
            );
        for (i, c) in conns {
            let held = c.client_held.unwrap_or_default();
            finding = finding.with_evidence([Evidence::new(
                c.connect_loc,
                format!("connect; the client waited {held:.3} s and closed"),
            )]);
            if let Some(accept) = c.accept_loc {
                finding = finding.with_evidence([Evidence::new(
                    accept,
                    "accepted after the client had closed",
                )]);
            }
            claims.claim_stream(i, Direction::ToServer);
            claims.claim_stream(i, Direction::ToClient);
            if let Some(server) = c.server {
                claim_socket_deviations(cx, claims, server, |k| {
                    matches!(
                        k,
                        DeviationKind::SendAfterPeerClosed { .. } | DeviationKind::ConnectionReset
                    )
                });
            }
        }
        findings.push(finding);
    }
    findings
}
