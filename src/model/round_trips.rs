//! Request/answer round trips timed on each host's own clock, with the peer traced: what the
//! network added to an exchange. The requester measures from its request to the answer's
//! arrival; the peer measures from reading the request to sending the answer; the difference is
//! the time the bytes spent between the hosts (both figures are durations within one trace, so
//! no clocks of different hosts are compared). On a path without loss it stays near the round
//! trip time; a lost segment adds at least the retransmission timeout.

use serde::Serialize;

use crate::source::{Loc, SockId};

/// A call that took this long waited: one that finds its data already there returns within
/// microseconds, even under strace. Only a wait that blocked until the answer came tells when
/// it arrived.
pub const MIN_BLOCKED: f64 = 0.001;

/// The slowest round trips kept per exchange.
const SLOWEST_KEPT: usize = 8;

/// One timed round trip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimedRoundTrip {
    /// Time between the hosts: the requester's wait less the peer's own handling, in seconds.
    pub network: f64,
    pub request: Loc,
    pub answer: Loc,
}

/// The round trips of one requesting socket: how many, the fastest, and the slowest few.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoundTrips {
    pub count: u32,
    pub fastest: Option<f64>,
    /// Slowest first.
    pub slowest: Vec<TimedRoundTrip>,
}

impl RoundTrips {
    pub fn add(&mut self, trip: TimedRoundTrip) {
        self.count = self.count.saturating_add(1);
        self.fastest = Some(self.fastest.map_or(trip.network, |f| f.min(trip.network)));
        let at = self
            .slowest
            .partition_point(|kept| kept.network >= trip.network);
        if at < SLOWEST_KEPT {
            self.slowest.insert(at, trip);
            self.slowest.truncate(SLOWEST_KEPT);
        }
    }

    /// Round trips that took at least `extra` seconds longer than the fastest.
    pub fn slower_by(&self, extra: f64) -> impl Iterator<Item = &TimedRoundTrip> {
        let fastest = self.fastest.unwrap_or(f64::INFINITY);
        self.slowest
            .iter()
            .filter(move |t| t.network - fastest >= extra)
    }
}

/// The timed round trips of one socket with its traced peer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketRoundTrips {
    pub sock: SockId,
    pub trips: RoundTrips,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TraceId;

    fn trip(network: f64, line: u64) -> TimedRoundTrip {
        TimedRoundTrip {
            network,
            request: Loc::new(TraceId(0), line),
            answer: Loc::new(TraceId(0), line + 1),
        }
    }

    #[test]
    fn keeps_the_fastest_and_the_slowest_few() {
        let mut trips = RoundTrips::default();
        for (i, n) in [0.0004, 0.21, 0.0006, 0.61, 0.0005].into_iter().enumerate() {
            trips.add(trip(n, i as u64 * 10 + 1));
        }
        for i in 0..20 {
            trips.add(trip(0.0005, 100 + i));
        }
        assert_eq!(trips.count, 25);
        assert_eq!(trips.fastest, Some(0.0004));
        assert_eq!(trips.slowest.len(), SLOWEST_KEPT);
        let slow: Vec<f64> = trips.slower_by(0.2).map(|t| t.network).collect();
        assert_eq!(slow, vec![0.61, 0.21]);
    }
}
