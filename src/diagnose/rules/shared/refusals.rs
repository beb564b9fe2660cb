//! Refused connects judged against every listening period of the replay.
//!
//! The global order never forces a failed connect to come before or after a listen (nothing in
//! either trace depends on the other), so the model's "no listener when the connect was
//! replayed" is one possible order among several. The rules decide instead from the complete
//! list of listeners: their addresses (with the configuration's address matching) and, where the
//! traces have them, their timestamps. Timestamps of two hosts order a listen or a close and a
//! connect when they are more than a margin apart; within it, the refusal itself is evidence (a
//! listening socket refuses nothing), so the clocks as they read decide when they agree with it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::config::matching::{MatchOptions, Matcher, Role};
use crate::diagnose::context::Context;
use crate::fold::ProgramContext;
use crate::model::{CallSpan, ListenerRecord, LoopbackUdpBind};
use crate::source::{Loc, SockId, TraceId};

use super::peers::FailedConnect;

pub(crate) use crate::model::CLOCK_MARGIN_S;

/// Why a connect was refused, as far as the listeners of the replay tell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// No traced socket ever listened at an address matching the target.
    NothingListened,
    /// Sockets listened at a matching address, but the timestamps put every listening period
    /// clearly before or after the connect. `note` says what the timestamps showed.
    ListenedAtOtherTimes { note: String },
    /// A socket listened at a matching address, and nothing shows it was not listening at the
    /// time. `note` says how that was established (model order or timestamps).
    WhileListening { listener: SockId, note: String },
    /// Only an IPv6-only listener, which an IPv4 client cannot reach, would have matched.
    V6OnlyListener { listener: SockId },
    /// Only a listener bound to loopback on the target's host and port, which a client using
    /// a non-loopback address cannot reach, would have matched.
    LoopbackListener { listener: SockId, local: SocketAddr },
    /// A listener on the target's port listens in the other IP family only (see
    /// [`other_family_listener`]).
    OtherFamilyListener(OtherFamily),
}

/// A listener that serves only the IP family the connect did not use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OtherFamily {
    pub listener: SockId,
    pub local: SocketAddr,
    /// Whether the configuration lists the connect's target as an address of the listener's
    /// host; when not, the host has no declared address of the target's family at all.
    pub target_declared: bool,
}

/// Where one listening period lies relative to the connect on the clocks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Timing {
    /// Overlaps, or the timestamps cannot tell.
    Possible,
    /// Closed clearly before the connect started.
    ClosedBefore(f64),
    /// Started listening clearly after the connect ended.
    ListenedAfter(f64),
    /// Closed before the connect started by the clocks as they read, within their margin:
    /// the refusal agrees (see [`timing`]).
    ClosedJustBefore(f64),
    /// Started listening after the connect began (sent its SYN) by the clocks as they read,
    /// within their margin: the refusal agrees.
    ListenedJustAfter(f64),
}

/// How a listener relates to the connect's target by address.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fit {
    Match,
    V6Only,
    /// Listens on the target's port in the other family only; `declared` as in
    /// [`OtherFamily::target_declared`].
    OtherFamily {
        declared: bool,
    },
    LoopbackBound,
    Unrelated,
}

/// Classifies one refused connect.
pub(crate) fn classify_refusal(cx: &Context, failure: &FailedConnect) -> Refusal {
    if super::udp::is_udp_refusal(cx, failure.deviation) {
        return match loopback_udp_bind(cx, failure) {
            Some(bind) => Refusal::LoopbackListener {
                listener: bind.sock,
                local: bind.local,
            },
            None => Refusal::NothingListened,
        };
    }
    if let Some(listener) = replayed_listener(cx, failure) {
        return Refusal::WhileListening {
            listener,
            note: "it was listening when the connect was replayed".into(),
        };
    }
    classify_connect_target(cx, failure.deviation.loc, failure.target)
}

/// The listener the replay had listening at the target when it replayed the refused connect,
/// unless the clocks put the connect outside each of its listening periods. Nothing orders a
/// refused connect against a listener's close (the scheduler places closes of listeners last),
/// so the replay's "listening" is one possible order; when the clocks as they read put the
/// connect after the close (or before the listen), they and the refusal agree, as for a
/// connect the replay found no listener for.
fn replayed_listener(cx: &Context, failure: &FailedConnect) -> Option<SockId> {
    let listener = failure.listener?;
    let span = connect_span(cx, failure.deviation.loc);
    let margin = clock_margin(cx, listener.trace, failure.deviation.loc.trace);
    let mut periods = cx.outcome.listeners.iter().filter(|l| l.sock == listener);
    let apart = periods.clone().next().is_some()
        && periods.all(|l| timing(l, span, margin) != Timing::Possible);
    (!apart).then_some(listener)
}

/// A UDP socket bound to loopback on the host and port a refused datagram was sent to, at a
/// non-loopback address of that host: the datagram arrived, and the service that would have
/// taken it listens on loopback only. (Which socket was bound when is not judged: UDP refusals
/// carry no span, and a service bound to loopback refuses every external datagram.)
fn loopback_udp_bind<'a>(cx: &Context<'a>, failure: &FailedConnect) -> Option<&'a LoopbackUdpBind> {
    loopback_udp_bind_at(cx, failure.target, failure.deviation.loc.trace)
}

/// A UDP socket bound to loopback on the host and port of `target`, a non-loopback address
/// that trace `client` sent to: Linux delivers a datagram to a socket bound to 127.0.0.1 only
/// when it is addressed to 127.0.0.1, so one sent to the host's external address finds nothing
/// bound there.
pub(crate) fn loopback_udp_bind_at<'a>(
    cx: &Context<'a>,
    target: SocketAddr,
    client: TraceId,
) -> Option<&'a LoopbackUdpBind> {
    if target.ip().is_loopback() {
        return None;
    }
    let matcher = cx.matcher();
    cx.outcome.loopback_udp_binds.iter().find(|b| {
        let wildcard = SocketAddr::new(unspecified_like(b.local.ip()), b.local.port());
        b.local.port() == target.port()
            && matcher
                .can_be_with(
                    b.sock.trace,
                    wildcard,
                    client,
                    target,
                    Role::Server,
                    MatchOptions {
                        v6only: b.local.is_ipv6(),
                    },
                )
                .matched
    })
}

/// Where and when the failed connect at `loc` ran.
fn connect_span<'a>(cx: &Context<'a>, loc: Loc) -> Option<&'a CallSpan> {
    cx.outcome
        .failed_connect_spans
        .iter()
        .find(|s| s.loc == loc)
}

/// How far apart calls of traces `a` and `b` must be before their clocks order them: one host
/// shares one clock. `None` when their times cannot be compared at all (`-r` counts, clocks of
/// two kinds).
fn clock_margin(cx: &Context, a: TraceId, b: TraceId) -> Option<f64> {
    if !cx.topology.clocks_comparable(a, b) {
        None
    } else if cx.matcher().same_host(a, b) {
        Some(0.0)
    } else {
        Some(CLOCK_MARGIN_S)
    }
}

/// Why a connect made at `loc` to `target` found no listener, judged against every listening
/// period of the replay (for refused connects, and for connects the replay never saw end).
pub(crate) fn classify_connect_target(cx: &Context, loc: Loc, target: SocketAddr) -> Refusal {
    let judged = judge_listeners(cx, loc, target);
    let span = connect_span(cx, loc);
    let possible = |wanted: Fit| {
        judged
            .iter()
            .find(|(_, fit, timing)| *fit == wanted && *timing == Timing::Possible)
            .map(|(l, _, _)| *l)
    };
    if let Some(l) = possible(Fit::Match) {
        let note = match (span.and_then(|s| s.start), l.listen.start) {
            (Some(_), Some(_)) => "timestamps used: its listen and close bracket the connect, or are too close to it to \
                 order",
            _ => "the traces cannot tell whether it listened before or after the connect",
        };
        return Refusal::WhileListening {
            listener: l.sock,
            note: note.into(),
        };
    }
    if let Some(l) = possible(Fit::V6Only) {
        return Refusal::V6OnlyListener { listener: l.sock };
    }
    if let Some((l, declared)) = judged.iter().find_map(|(l, fit, timing)| match fit {
        Fit::OtherFamily { declared } if *timing == Timing::Possible => Some((*l, *declared)),
        _ => None,
    }) {
        return Refusal::OtherFamilyListener(OtherFamily {
            listener: l.sock,
            local: l.local,
            target_declared: declared,
        });
    }
    if let Some(l) = possible(Fit::LoopbackBound) {
        return Refusal::LoopbackListener {
            listener: l.sock,
            local: l.local,
        };
    }
    listened_apart(&judged)
}

/// The listener that had stopped listening at the target before a refused connect because its
/// program was being stopped (see [`ProgramContext::Stopping`]), when every matching listener
/// listened at other times than the connect.
pub(crate) fn listener_stopped_before<'a>(
    cx: &Context<'a>,
    failure: &FailedConnect,
) -> Option<&'a ListenerRecord> {
    if replayed_listener(cx, failure).is_some() || super::udp::is_udp_refusal(cx, failure.deviation)
    {
        return None;
    }
    let judged = judge_listeners(cx, failure.deviation.loc, failure.target);
    let matching = || judged.iter().filter(|(_, fit, _)| *fit == Fit::Match);
    if matching().any(|(_, _, timing)| *timing == Timing::Possible) {
        return None;
    }
    // The latest listening period that ended before the connect is the one that refused it.
    matching()
        .rev()
        .find(|(_, _, timing)| {
            matches!(
                timing,
                Timing::ClosedBefore(_) | Timing::ClosedJustBefore(_)
            )
        })
        .map(|(l, _, _)| *l)
        .filter(|l| l.close_context == ProgramContext::Stopping)
}

/// Every listener related to `target` by address, with how it relates by address and by time
/// to the connect at `loc`.
fn judge_listeners<'a>(
    cx: &Context<'a>,
    loc: Loc,
    target: SocketAddr,
) -> Vec<(&'a ListenerRecord, Fit, Timing)> {
    let matcher = cx.matcher();
    let client = loc.trace;
    let span = connect_span(cx, loc);
    cx.outcome
        .listeners
        .iter()
        .map(|l| {
            let fit = fit(&matcher, l, client, target);
            let margin = clock_margin(cx, l.sock.trace, client);
            (l, fit, timing(l, span, margin))
        })
        .filter(|(_, fit, _)| *fit != Fit::Unrelated)
        .collect()
}

/// The refusal when every matching listener listened at other times than the connect (a note per
/// listener says how that is known), or when none matched at all.
fn listened_apart(judged: &[(&ListenerRecord, Fit, Timing)]) -> Refusal {
    let apart: Vec<String> = judged
        .iter()
        .filter(|(_, fit, _)| *fit == Fit::Match)
        .filter_map(|(l, _, timing)| match timing {
            Timing::ListenedAfter(gap) => Some(format!(
                "{} started listening {gap:.3} s after the connect ended",
                l.sock
            )),
            Timing::ClosedBefore(gap) => Some(format!(
                "{} had stopped listening {gap:.3} s before the connect started",
                l.sock
            )),
            Timing::ClosedJustBefore(gap) => Some(format!(
                "{} had stopped listening {gap:.3} s before the connect started (within the \
                 clocks' margin; the refusal agrees)",
                l.sock
            )),
            Timing::ListenedJustAfter(gap) => Some(format!(
                "{} started listening {gap:.3} s after the connect began (within the clocks' \
                 margin; the refusal agrees)",
                l.sock
            )),
            Timing::Possible => None,
        })
        .collect();
    if apart.is_empty() {
        Refusal::NothingListened
    } else {
        Refusal::ListenedAtOtherTimes {
            note: format!("timestamps used: {}", apart.join("; ")),
        }
    }
}

fn fit(matcher: &Matcher, l: &ListenerRecord, client: TraceId, target: SocketAddr) -> Fit {
    let reaches = |local: SocketAddr, v6only: bool| {
        matcher
            .can_be_with(
                l.sock.trace,
                local,
                client,
                target,
                Role::Server,
                MatchOptions { v6only },
            )
            .matched
    };
    // Port 0: a listener whose port no call showed (opened before its trace began, or bound by
    // listen alone) and none of its connections told. It proves nothing about this port.
    if l.local.port() == 0 {
        return Fit::Unrelated;
    }
    if reaches(l.local, l.v6only) {
        return Fit::Match;
    }
    if l.v6only && is_v4(target) && reaches(l.local, false) {
        return Fit::V6Only;
    }
    if let Some(declared) = other_family_fit(matcher, l, client, target) {
        return Fit::OtherFamily { declared };
    }
    let wildcard = SocketAddr::new(unspecified_like(l.local.ip()), l.local.port());
    let same_port = l.local.port() == target.port();
    if l.local.ip().is_loopback()
        && !target.ip().is_loopback()
        && same_port
        && reaches(wildcard, l.v6only)
    {
        return Fit::LoopbackBound;
    }
    Fit::Unrelated
}

/// Does `l` listen on `target`'s port in the other IP family only, on the host `target` names?
/// An IPv4 socket never accepts IPv6 peers; an IPv6 socket accepts IPv4 peers only when bound
/// to the wildcard without IPV6_V6ONLY. The target names the listener's host when the
/// configuration lists it there (`Some(true)`), or when the configuration lists it for no host
/// and gives the listener's host no address of the target's family (`Some(false)`): an address
/// of that family the configuration does not know, which is what the other family of a
/// single-family configuration looks like.
fn other_family_fit(
    matcher: &Matcher,
    l: &ListenerRecord,
    client: TraceId,
    target: SocketAddr,
) -> Option<bool> {
    let listens_v4 = is_v4(l.local);
    let target_v4 = is_v4(target);
    let serves_target_family = if target_v4 {
        listens_v4 || (l.local.ip().is_unspecified() && !l.v6only)
    } else {
        !listens_v4
    };
    // A loopback-bound listener misses every non-loopback target whatever its family: that
    // is the loopback case, not this one.
    let loopback = target.ip().is_loopback() || l.local.ip().to_canonical().is_loopback();
    if serves_target_family || l.local.port() != target.port() || loopback {
        return None;
    }
    let target_family_wildcard = SocketAddr::new(unspecified_like(target.ip()), target.port());
    let declared = matcher
        .can_be(
            l.sock.trace,
            target_family_wildcard,
            client,
            target,
            Role::Server,
        )
        .matched;
    if declared {
        return Some(true);
    }
    let host_has_target_family = matcher
        .host_of(l.sock.trace)
        .and_then(|h| matcher.topology.hosts.get(h))
        .is_some_and(|host| {
            host.ips
                .iter()
                .any(|ip| ip.to_canonical().is_ipv4() == target_v4)
        });
    (matcher.is_outside(target) && !host_has_target_family).then_some(false)
}

fn timing(l: &ListenerRecord, connect: Option<&CallSpan>, margin: Option<f64>) -> Timing {
    let (Some(connect), Some(margin)) = (connect, margin) else {
        return Timing::Possible;
    };
    let connect_start = connect.start;
    let connect_end = connect.end.or(connect.start);
    if let (Some(listened), Some(end)) = (l.listen.start, connect_end) {
        if listened - end > margin {
            return Timing::ListenedAfter(listened - end);
        }
    }
    let closed = l.close.as_ref().and_then(|c| c.end.or(c.start));
    if let (Some(closed), Some(start)) = (closed, connect_start) {
        if start - closed > margin {
            return Timing::ClosedBefore(start - closed);
        }
    }
    // Within the margin the clocks alone cannot order the two, but the refusal is evidence too:
    // a listening socket refuses nothing. The server's kernel refused the SYN the connect sent
    // at its start (the span's end is only where the program learnt of it: the connect's
    // return, or a later SO_ERROR). When the clocks, as they read, put the listen after that
    // start, or the listener's stop (its close, or its process's death: a killed process's
    // descriptors close with it) before it, both say the same and the refusal is an ordinary
    // one.
    if let (Some(listened), Some(start)) = (l.listen.start, connect_start) {
        if listened > start {
            return Timing::ListenedJustAfter(listened - start);
        }
    }
    if let (Some(closed), Some(start)) = (closed, connect_start) {
        if start > closed {
            return Timing::ClosedJustBefore(start - closed);
        }
    }
    Timing::Possible
}

fn is_v4(addr: SocketAddr) -> bool {
    addr.ip().to_canonical().is_ipv4()
}

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}
