//! Waits a system-call filter explains. A trace recorded with `strace -e trace=network` hides
//! `write`, `writev` and `sendfile`: its peer receives bytes no traced call sent, and the order
//! can only place that receive by forcing it. The wait was for a send the trace cannot show, not
//! a gap in the order, so it is no blocked point (the `filtered-trace` note tells the reader).

use crate::model::{DeviationKind, ReplayOutcome};
use crate::parse::ParseStats;
use crate::source::{Loc, TraceId};

/// Did a filter hide this trace's other calls? Every program reads, writes or closes some
/// descriptor (the loader alone reads and closes the libraries it maps), so a trace with calls
/// and none of those was filtered, whatever else the filter let through (`%process`).
pub fn hides_generic_calls(parse: &ParseStats) -> bool {
    parse.calls > 0 && parse.generic_descriptor_calls == 0
}

/// Drops the blocked points whose forced call received bytes from a peer whose trace was
/// filtered.
pub fn drop_waits_for_hidden_sends(outcome: &mut ReplayOutcome, parse: &[ParseStats]) {
    let filtered = |trace: TraceId| parse.get(trace.0 as usize).is_some_and(hides_generic_calls);
    let explained: Vec<Loc> = outcome
        .deviations
        .iter()
        .filter(|d| d.kind == DeviationKind::UnknownData)
        .filter_map(|d| {
            let sock = d.sock?;
            let sender = outcome.tcp.iter().find_map(|c| {
                if c.client == sock {
                    c.server.map(|s| s.trace)
                } else if c.server == Some(sock) {
                    Some(c.client.trace)
                } else {
                    None
                }
            })?;
            filtered(sender).then_some(d.loc)
        })
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
        drop_waits_for_hidden_sends(&mut outcome, &[stats(0), stats(0)]);
        assert!(outcome.blocked.is_empty());
    }

    #[test]
    fn a_wait_for_a_full_trace_stays_blocked() {
        let mut outcome = answer_written_by_hidden_call();
        drop_waits_for_hidden_sends(&mut outcome, &[stats(0), stats(12)]);
        assert_eq!(outcome.blocked.len(), 1);
    }
}
