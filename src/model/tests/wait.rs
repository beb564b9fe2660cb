//! Readiness waits: poll, select, epoll.

use super::*;

#[test]
fn readable_with_nothing_to_read_retries_and_timeout_with_data_deviates() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let ready = a.poll(s, readable(), readable());
    let recv = a.recv(s, b"x");
    let timeout = a.poll(s, readable(), nothing());
    let send = b.send(c, b"x");
    let send_again = b.send(c, b"y");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(ready)));
    w.upto(send);
    assert_eq!(w.upto(ready), Verdict::Accept);
    w.upto(recv);
    w.upto(send_again);
    assert_eq!(kind(&w.upto(timeout)), Some(&DeviationKind::PollMissedData));
    assert!(w.finish().tcp[0].wait_timed_out_with_data);
}

#[test]
fn epoll_timeout_with_data_waiting_deviates() {
    use crate::parse::{EpollOp, Outcome, Syscall};
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let epfd = 50;
    a.call(
        Syscall::EpollCtl {
            epfd,
            op: EpollOp::Add,
            fd: s,
            wanted: readable(),
        },
        Outcome::ok(0),
    );
    let timeout = a.call(
        Syscall::Wait {
            fds: Vec::new(),
            timeout_ms: Some(100),
            epoll_fd: Some(epfd),
        },
        Outcome::ok(0),
    );
    let quiet_timeout = a.call(
        Syscall::Wait {
            fds: Vec::new(),
            timeout_ms: Some(100),
            epoll_fd: Some(epfd),
        },
        Outcome::ok(0),
    );
    let send = b.send(c, b"data");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(Loc::new(TraceId(0), 5));
    w.upto(send);
    assert_eq!(kind(&w.upto(timeout)), Some(&DeviationKind::PollMissedData));
    // Still unread: a second timeout is a second miss; nothing is retried.
    assert_eq!(
        kind(&w.upto(quiet_timeout)),
        Some(&DeviationKind::PollMissedData)
    );
}

/// nc's `poll([{fd=3, events=POLLIN}], ...) = 1 ([{fd=3, revents=POLLIN|POLLERR|POLLHUP}])`
/// after python read 16 of its 2000 bytes and closed: the wait waits for that close, and the
/// reset it reports is a deviation, as nc never reads again.
#[test]
fn an_error_on_a_wait_after_the_peer_closed_unread_bytes_is_a_reset() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    a.send(s, b"never read");
    let err = Ready {
        read: true,
        error: true,
        hangup: true,
        ..nothing()
    };
    let poll = a.poll(s, readable(), err);
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(Loc::new(TraceId(0), 6));
    assert!(
        is_retry(&w.upto(poll)),
        "the error waits for the peer's close"
    );
    w.upto(close);
    assert_eq!(w.upto(poll), Verdict::Accept);
    let outcome = w.finish();
    let resets: Vec<_> = outcome
        .deviations
        .iter()
        .filter(|d| d.kind == DeviationKind::ConnectionReset)
        .collect();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].related, vec![close]);
    assert!(resets[0].detail.contains("10 bytes it never read"));
}
