//! Rules about data on established connections and datagram sizes: resets after the peer's close,
//! datagrams over a socket buffer, timed-out waits backed by timestamps, the TCP MTU pattern with
//! a receiver that gave up waiting, and blocking on sockets accepted from a nonblocking listener.

use netcheck::config::Topology;
use netcheck::diagnose::Finding;
use netcheck::model::{DeviationKind, ReplayOutcome, TimedOutWait};
use netcheck::parse::Errno;
use netcheck::pipeline::Analysis;
use netcheck::testkit::fixtures::*;
use netcheck::testkit::rules::accepted;

fn two_hosts() -> Topology {
    topology(&[("client", &["10.0.0.1"]), ("server", &["10.0.0.2"])])
}

fn findings(outcome: ReplayOutcome) -> Vec<Finding> {
    Analysis::new(two_hosts(), Vec::new(), Vec::new(), outcome).findings
}

fn rules(found: &[Finding]) -> Vec<&'static str> {
    found.iter().map(|f| f.rule).collect()
}

fn timed_out_wait(start: f64, duration: f64) -> TimedOutWait {
    TimedOutWait {
        sock: sock(1, 1),
        loc: loc(1, 20),
        start: Some(start),
        duration: Some(duration),
    }
}

#[test]
fn a_reset_after_an_abortive_close_says_it_was_the_peers_choice() {
    let close = loc(0, 30);
    let mut reset = deviation(DeviationKind::ConnectionReset, loc(1, 31), Some(sock(1, 1)));
    reset.related = vec![close];
    let found = findings(ReplayOutcome {
        deviations: vec![reset.clone()],
        tcp: vec![accepted(6, 6, 6)],
        abortive_closes: vec![close],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["connection-reset"]);
    assert!(
        found[0].summary.contains("SO_LINGER"),
        "{}",
        found[0].summary
    );
    assert!(found[0].hint.contains("SO_LINGER"), "{}", found[0].hint);

    let found = findings(ReplayOutcome {
        deviations: vec![reset],
        tcp: vec![accepted(6, 6, 6)],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["connection-reset"]);
    assert!(
        !found[0].summary.contains("SO_LINGER"),
        "{}",
        found[0].summary
    );
}

#[test]
fn a_reset_answering_a_send_after_the_peers_close_is_not_reported_twice() {
    let sender = sock(1, 1);
    let send = deviation(
        DeviationKind::SendAfterPeerClosed {
            errno: Some(Errno::EPIPE),
        },
        loc(1, 40),
        Some(sender),
    );
    let mut reset = deviation(DeviationKind::ConnectionReset, loc(1, 41), Some(sender));
    reset.related = vec![loc(0, 30)];
    let found = findings(ReplayOutcome {
        deviations: vec![send, reset],
        tcp: vec![accepted(6, 6, 6)],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["send-after-peer-closed"]);
}

#[test]
fn a_datagram_over_the_socket_buffer_is_a_buffer_overrun_not_a_truncation() {
    let too_large = deviation(
        DeviationKind::DatagramTooLarge {
            len: 4000,
            buffer: 2048,
        },
        loc(0, 7),
        Some(sock(0, 0)),
    );
    let found = findings(ReplayOutcome {
        deviations: vec![too_large],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["buffer-overrun"]);
    assert!(found[0].summary.contains("4000"), "{}", found[0].summary);

    let cut = deviation(
        DeviationKind::DatagramTruncated {
            len: 4000,
            buffer: 1024,
        },
        loc(1, 7),
        Some(sock(1, 0)),
    );
    let found = findings(ReplayOutcome {
        deviations: vec![cut],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["datagram-truncated"]);
}

/// 16 bytes sent at t = 100.0 and never received; the receiver closed.
fn dropped_request(wait: TimedOutWait) -> ReplayOutcome {
    let mut c = accepted(16, 0, 16);
    c.to_server.first_unreceived_send = Some(loc(0, 12));
    c.to_server.first_unreceived_time = Some(100.0);
    c.to_server.stats.closed_by_receiver = true;
    ReplayOutcome {
        tcp: vec![c],
        timed_out_waits: vec![wait],
        ..ReplayOutcome::default()
    }
}

#[test]
fn a_wait_that_timestamps_place_after_the_send_makes_it_poll_missed() {
    let found = findings(dropped_request(timed_out_wait(100.001, 2.0)));
    assert_eq!(rules(&found), vec!["data-unreceived-poll-missed"]);
    assert!(
        found[0].summary.contains("timestamps were used"),
        "{}",
        found[0].summary
    );
    assert!(found[0].evidence.iter().any(|e| e.loc == loc(1, 20)));
}

#[test]
fn a_wait_that_ended_before_the_send_leaves_it_unreceived() {
    let found = findings(dropped_request(timed_out_wait(97.0, 2.0)));
    assert_eq!(rules(&found), vec!["data-unreceived"]);
}

#[test]
fn a_stalled_bulk_transfer_whose_receiver_gave_up_waiting_is_an_mtu_black_hole() {
    let mut c = accepted(21_006, 6, 1400);
    c.to_client = stream(6, 6, 6, 1, loc(1, 15));
    c.to_server.stats.closed_by_receiver = true;
    let outcome = |waits: Vec<TimedOutWait>| ReplayOutcome {
        tcp: vec![c.clone()],
        timed_out_waits: waits,
        ..ReplayOutcome::default()
    };
    // The wait's place in the replay does not matter: the receiver wanted more and gave up.
    let found = findings(outcome(vec![timed_out_wait(50.0, 5.0)]));
    assert_eq!(rules(&found), vec!["mtu-black-hole"]);
    assert!(found[0].evidence.iter().any(|e| e.loc == loc(1, 20)));
    // A receiver that closed without waiting did not want the rest.
    let found = findings(outcome(Vec::new()));
    assert_eq!(rules(&found), vec!["data-unreceived"]);
}

#[test]
fn blocking_on_a_socket_accepted_from_a_nonblocking_listener_is_nonblock_inherited() {
    let blocked = deviation(
        DeviationKind::BlockedWithoutInheritedNonblock { blocked_ms: 1000 },
        loc(1, 103),
        Some(sock(1, 1)),
    );
    let found = findings(ReplayOutcome {
        deviations: vec![blocked],
        ..ReplayOutcome::default()
    });
    assert_eq!(rules(&found), vec!["nonblock-inherited"]);
    assert!(found[0].summary.contains("1.000 s"), "{}", found[0].summary);
}
