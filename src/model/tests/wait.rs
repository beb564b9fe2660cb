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
