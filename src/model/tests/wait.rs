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
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let epfd = 50;
    a.epoll_add(epfd, s, readable());
    let timeout = a.epoll_timeout(epfd, 100);
    let quiet_timeout = a.epoll_timeout(epfd, 100);
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

/// A receive that never returned, as `recvfrom(4<TCP:[...]>,  <unfinished ...>` whose
/// process exited in it (`<... recvfrom resumed> <unfinished ...>) = ?`).
fn recv_never_returned(script: &mut Script, fd: i32) -> Loc {
    use crate::parse::{MsgFlags, Outcome, Payload, Syscall};
    script.call(
        Syscall::Recv {
            fd,
            data: Payload::default(),
            buf_len: 0,
            flags: MsgFlags::default(),
            src: None,
            truncated_datagram: None,
            passed_fds: Vec::new(),
        },
        Outcome {
            value: None,
            errno: None,
        },
    )
}

/// tcp-data-dropped--curl--pyhttp: the server's recvfrom never returned while the request the
/// client sent never arrived: the receiver was waiting, so the wait missed the data.
#[test]
fn a_receive_that_never_returned_with_bytes_unreceived_missed_them() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let stuck = recv_never_returned(&mut a, s);
    let send = b.send(c, b"GET / HTTP/1.1\r\n\r\n");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(kind(&w.upto(stuck)), Some(&DeviationKind::PollMissedData));
    let outcome = w.finish();
    assert!(outcome.tcp[0].wait_timed_out_with_data);
    assert_eq!(outcome.timed_out_waits.len(), 1);
}

/// A server blocked in a read when it is stopped, with nothing sent to it, is healthy.
#[test]
fn a_receive_that_never_returned_with_nothing_sent_is_not_a_deviation() {
    let topo = two_hosts();
    let (mut a, b, s, _) = connected();
    let stuck = recv_never_returned(&mut a, s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(stuck), Verdict::Accept);
    assert!(w.finish().deviations.is_empty());
}

/// tcp-data-dropped--nc--socat: `pselect6(7, [5<pipe:[314007]> 6<TCP:[...]>], [], [], NULL,
/// NULL <unfinished ...>` resumed `= ? ERESTARTNOHAND` by SIGINT, the client's bytes never
/// arrived: a wait that got nothing while data was waiting.
#[test]
fn a_wait_interrupted_by_a_signal_with_bytes_unreceived_missed_them() {
    use crate::parse::{Errno, Outcome, Syscall, WaitFd};
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let interrupted = a.call(
        Syscall::Wait {
            fds: vec![WaitFd {
                fd: s,
                wanted: readable(),
                got: nothing(),
            }],
            timeout_ms: None,
            epoll_fd: None,
        },
        Outcome {
            value: None,
            errno: Some(Errno::ERESTARTNOHAND),
        },
    );
    let send = b.send(c, b"hello\n");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    let verdict = w.upto(interrupted);
    assert_eq!(kind(&verdict), Some(&DeviationKind::PollMissedData));
    let Verdict::Deviation(deviation) = verdict else {
        return;
    };
    assert!(deviation.detail.contains("never returned"));
}

/// Go registers sockets edge-triggered (`EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET`): once bytes were
/// signalled, later timeouts of the same instance say nothing about them (epoll(7)); on a
/// connection that never received a byte, a timeout with data waiting is still a miss.
#[test]
fn an_edge_triggered_timeout_proves_nothing_about_bytes_already_signalled() {
    use crate::parse::{EpollOp, Outcome, Syscall};
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let epfd = 50;
    let edge = Ready {
        read: true,
        edge_triggered: true,
        ..nothing()
    };
    a.call(
        Syscall::EpollCtl {
            epfd,
            op: EpollOp::Add,
            fd: s,
            wanted: edge,
        },
        Outcome::ok(0),
    );
    let epoll_timeout = |a: &mut Script| a.epoll_timeout(epfd, 100);
    let first_miss = epoll_timeout(&mut a);
    let read = a.recv(s, b"ab");
    let quiet = epoll_timeout(&mut a);
    let send = b.send(c, b"abcd");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(Loc::new(TraceId(0), 5));
    w.upto(send);
    assert_eq!(
        kind(&w.upto(first_miss)),
        Some(&DeviationKind::PollMissedData)
    );
    w.upto(read);
    assert_eq!(w.upto(quiet), Verdict::Accept);
}
