//! Waits a system-call filter explains. A trace recorded with `strace -e trace=network` hides
//! `write`, `writev` and `sendfile`: its peer receives bytes no traced call sent, and the order
//! can only place that receive by forcing it. The wait was for a send the trace cannot show, not
//! a gap in the order, so it is no blocked point (the `filtered-trace` note tells the reader).

use crate::config::Topology;
use crate::model::{Deviation, DeviationKind, ReplayOutcome};
use crate::parse::{ParseStats, Successes};
use crate::source::{Loc, SockId, TraceId};

/// Did a filter hide this trace's other calls? Every program reads, writes or closes some
/// descriptor (the loader alone reads and closes the libraries it maps), so a trace with calls
/// and none of those was filtered, whatever else the filter let through (`%process`).
pub fn hides_generic_calls(parse: &ParseStats) -> bool {
    parse.calls > 0 && parse.generic_descriptor_calls == 0
}

/// Did a filter hide the calls that set a descriptor's mode (`fcntl`, `ioctl`), though it let
/// reads, writes or closes through (`-e trace=%network,read,write,close`)? Every program maps
/// memory (the loader maps the libraries, allocators call `mmap` or `brk`), so a trace with calls
/// and none of those, and no `fcntl` or `ioctl`, was filtered: a socket its program made
/// nonblocking looks blocking in it. A trace that hides the generic calls hides these too.
pub fn hides_mode_calls(parse: &ParseStats) -> bool {
    const MEMORY_CALLS: [&str; 3] = ["mmap", "mmap2", "brk"];
    let maps_memory = MEMORY_CALLS
        .iter()
        .any(|name| parse.ignored.contains_key(*name));
    hides_generic_calls(parse) || (parse.calls > 0 && parse.mode_calls == 0 && !maps_memory)
}

/// Did a filter hide how this trace's nonblocking connects ended? A program learns it from a
/// readiness wait (a generic call) and, nearly always, `getsockopt(SO_ERROR)`; a trace with
/// neither generic nor socket-option calls (`-e trace=connect`) shows neither. A trace that
/// shows option calls (`-e trace=network`) would show the `getsockopt` of a connect's end. A
/// trace of failed calls only hides both: the wait and the `getsockopt` succeed, even when the
/// error they report is the connect's.
pub fn hides_connect_ends(parse: &ParseStats) -> bool {
    shows_failed_calls_only(parse) || (hides_generic_calls(parse) && parse.option_calls == 0)
}

/// Did a filter leave out every call that succeeded (`-Z`, `-e status=failed`)? Every program's
/// first call (`execve`) and its loader's `mmap`s succeed, so a trace with calls and no success
/// shows only the failures: its sockets' creation, connects, accepts and transfers are not in it.
pub fn shows_failed_calls_only(parse: &ParseStats) -> bool {
    parse.successes == Successes::NoneYet
}

/// The filtered trace whose hidden call sent the bytes of an `UnknownData` deviation: the TCP
/// peer's trace, or for a datagram the host its source address belongs to, when every trace of
/// that host was filtered.
pub fn hidden_sender(
    outcome: &ReplayOutcome,
    topology: &Topology,
    parse: &[ParseStats],
    deviation: &Deviation,
) -> Option<TraceId> {
    if deviation.kind != DeviationKind::UnknownData {
        return None;
    }
    let filtered = |trace: &TraceId| parse.get(trace.0 as usize).is_some_and(hides_generic_calls);
    let sock = deviation.sock?;
    if let Some(peer) = tcp_peer_trace(outcome, sock) {
        return filtered(&peer).then_some(peer);
    }
    let source = deviation.source?.ip();
    let host = topology.hosts.iter().find(|h| h.ips.contains(&source))?;
    let first = *host.traces.first()?;
    host.traces.iter().all(filtered).then_some(first)
}

/// The trace of the traced socket at the other end of `sock`'s TCP connection.
fn tcp_peer_trace(outcome: &ReplayOutcome, sock: SockId) -> Option<TraceId> {
    outcome.tcp.iter().find_map(|c| {
        if c.client == sock {
            c.server.map(|s| s.trace)
        } else if c.server == Some(sock) {
            Some(c.client.trace)
        } else {
            None
        }
    })
}

/// The filtered trace that may have read, with hidden calls, the bytes of a
/// `SendAfterPeerClosed` deviation that met no error: the order put the peer's close before
/// the send only because the reads that came before that close are not in its trace. A send
/// that failed (EPIPE, ECONNRESET) proves the close came first whatever the filter hid.
pub fn hidden_reader(
    outcome: &ReplayOutcome,
    parse: &[ParseStats],
    deviation: &Deviation,
) -> Option<TraceId> {
    if deviation.kind != (DeviationKind::SendAfterPeerClosed { errno: None }) {
        return None;
    }
    let peer = tcp_peer_trace(outcome, deviation.sock?)?;
    parse
        .get(peer.0 as usize)
        .is_some_and(hides_generic_calls)
        .then_some(peer)
}

/// Drops the blocked points whose forced call received bytes a filtered trace sent with hidden
/// calls.
pub fn drop_waits_for_hidden_sends(
    outcome: &mut ReplayOutcome,
    topology: &Topology,
    parse: &[ParseStats],
) {
    let explained: Vec<Loc> = outcome
        .deviations
        .iter()
        .filter(|d| hidden_sender(outcome, topology, parse, d).is_some())
        .map(|d| d.loc)
        .collect();
    outcome
        .blocked
        .retain(|b| b.forced.is_none_or(|loc| !explained.contains(&loc)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BlockedPoint;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    /// apps/redis-healthy-network: redis-cli (A) waits at client.trace:10 in
    /// `recvfrom(3, "+OK\r\n", 16384, 0, NULL, NULL) = 5` for the answer redis-server (B)
    /// wrote with `write`, which `-e trace=network` leaves out; the order forces it through.
    fn answer_written_by_hidden_call() -> ReplayOutcome {
        let mut outcome = tcp(vec![accepted(38, 38, 38)]);
        outcome.deviations.push(deviation(
            DeviationKind::UnknownData,
            loc(0, 10),
            Some(sock(0, 0)),
        ));
        outcome.blocked.push(BlockedPoint {
            position: 69,
            heads: vec![(loc(0, 10), "waiting for 5 bytes, 0 in flight to A0".into())],
            forced: Some(loc(0, 10)),
        });
        outcome
    }

    fn stats(generic_descriptor_calls: u64) -> ParseStats {
        ParseStats {
            calls: 30,
            generic_descriptor_calls,
            ..ParseStats::default()
        }
    }

    #[test]
    fn a_wait_for_a_filtered_peer_is_no_blocked_point() {
        let mut outcome = answer_written_by_hidden_call();
        drop_waits_for_hidden_sends(&mut outcome, &two_hosts(), &[stats(0), stats(0)]);
        assert!(outcome.blocked.is_empty());
    }

    #[test]
    fn a_wait_for_a_full_trace_stays_blocked() {
        let mut outcome = answer_written_by_hidden_call();
        drop_waits_for_hidden_sends(&mut outcome, &two_hosts(), &[stats(0), stats(12)]);
        assert_eq!(outcome.blocked.len(), 1);
    }

    /// apps/mc-healthy-network: memcached (A) reads at server.trace:47
    /// `recvfrom(12, "\0\1\0\0\0\1\0\0get greeting\r\n", …, {… sin_port=htons(51037),
    /// sin_addr=inet_addr("10.78.1.22")}, …) = 22`, the datagram socat (B, on 10.0.0.1 here)
    /// sent with `write`, hidden by the filter.
    #[test]
    fn a_datagram_from_a_filtered_host_is_no_blocked_point() {
        let mut outcome = ReplayOutcome::default();
        let mut datagram = deviation(DeviationKind::UnknownData, loc(1, 47), Some(sock(1, 1)));
        datagram.source = "10.0.0.1:51037".parse().ok();
        outcome.deviations.push(datagram);
        outcome.blocked.push(BlockedPoint {
            position: 52,
            heads: vec![(loc(1, 47), "datagram not sent yet (or not to B1)".into())],
            forced: Some(loc(1, 47)),
        });
        let mut full_sender = outcome.clone();
        drop_waits_for_hidden_sends(&mut outcome, &two_hosts(), &[stats(0), stats(12)]);
        assert!(outcome.blocked.is_empty());
        drop_waits_for_hidden_sends(&mut full_sender, &two_hosts(), &[stats(12), stats(12)]);
        assert_eq!(full_sender.blocked.len(), 1);
    }
}
