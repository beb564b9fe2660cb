//! How a program learns the outcome of a nonblocking connect: SO_ERROR, a second connect, or a
//! transfer; a readiness report alone proves nothing. Each test replays recorded lines.

use super::*;
use crate::parse::{Outcome, Syscall};

/// getsockopt(fd, SOL_SOCKET, SO_ERROR, [ERRNO], [4]) = 0, as strace prints it.
fn so_error_named(script: &mut Script, fd: i32, shown: &str) -> Loc {
    script.call(
        Syscall::Getsockopt {
            fd,
            level: "SOL_SOCKET".into(),
            name: "SO_ERROR".into(),
            value: OptValue::Raw(shown.into()),
        },
        Outcome::ok(0),
    )
}

fn failed_connect(v: &Verdict) -> Option<(Errno, SocketAddr, Option<SockId>)> {
    match kind(v) {
        Some(DeviationKind::ConnectFailed {
            errno,
            target,
            listener,
        }) => Some((*errno, *target, *listener)),
        _ => None,
    }
}

fn lab_hosts() -> Topology {
    topology(&[&["10.77.1.10"], &["10.77.1.21"]])
}

/// lab/connect-refused--nc--socat--plain/client.trace:271-273: connect EINPROGRESS, pselect6
/// reports the socket writable, SO_ERROR gives ECONNREFUSED; nothing listens at the target.
#[test]
fn a_refusal_read_through_so_error_after_pselect_is_a_failed_connect() {
    let topo = lab_hosts();
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:7401");
    b.fails(Errno::EINPROGRESS);
    let pselect = b.poll(c, writable(), writable());
    let so_error = so_error_named(&mut b, c, "[ECONNREFUSED]");
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(
        w.upto(pselect),
        Verdict::Accept,
        "writable: the connect ended, somehow"
    );
    assert_eq!(
        failed_connect(&w.upto(so_error)),
        Some((Errno::ECONNREFUSED, addr("10.77.1.10:7401"), None))
    );
    assert!(w.finish().pending_connects.is_empty());
}

/// lab/firewall-drop--socat--socat--record/client.trace:97-103: the SYNs are dropped in front of
/// a traced listener; pselect6 reports the socket writable after 3 s and SO_ERROR ETIMEDOUT.
/// The connect failed: it was neither completed nor left for the listener to accept.
#[test]
fn a_timeout_read_through_so_error_is_a_failed_connect_not_an_unaccepted_one() {
    let topo = lab_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.77.1.10:7001");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:7001");
    b.fails(Errno::EINPROGRESS);
    let pselect = b.poll(c, writable(), writable());
    let so_error = so_error_named(&mut b, c, "[ETIMEDOUT]");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(pselect), Verdict::Accept);
    let (errno, _, listener) = failed_connect(&w.upto(so_error)).expect("a failed connect");
    assert_eq!(errno, Errno::ETIMEDOUT);
    assert_eq!(listener, Some(addr_sock(0, 0)));
    let out = w.finish();
    assert!(out.pending_connects.is_empty());
    assert!(out.tcp.iter().all(|c| c.server.is_none()));
}

/// lab/host-unreachable--curl--none--record/client.trace:175: curl's nonblocking connect to
/// 10.77.1.99, an address of no traced host, ends with SO_ERROR EHOSTUNREACH.
#[test]
fn a_path_error_read_through_so_error_towards_no_traced_host_is_a_failed_connect() {
    let topo = topology(&[&["10.77.1.22"]]);
    let mut a = Script::new(0);
    let c = a.tcp_nonblocking();
    let connect = a.connect(c, "10.77.1.99:7000");
    a.fails(Errno::EINPROGRESS);
    let poll = a.poll(c, writable(), writable());
    let so_error = so_error_named(&mut a, c, "[EHOSTUNREACH]");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(connect), Verdict::NotModelled);
    assert!(!is_retry(&w.upto(poll)));
    assert_eq!(
        failed_connect(&w.upto(so_error)),
        Some((Errno::EHOSTUNREACH, addr("10.77.1.99:7000"), None))
    );
}

/// apps/ldap-wrong-port/client.trace:132-135: ldapsearch's nonblocking connect to 10.78.1.10:3389,
/// where nothing listens (slapd, traced, is on 389); poll reports `POLLOUT|POLLERR|POLLHUP`,
/// getpeername says ENOTCONN and a one-byte read returns the refusal the connect left pending.
/// The read is the connect's failure, as SO_ERROR would report it, not a connect left in
/// progress.
#[test]
fn a_refusal_returned_by_a_read_after_poll_is_a_failed_connect() {
    let topo = topology(&[&["10.78.1.10"], &["10.78.1.21"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.78.1.10:389");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.78.1.10:3389");
    b.fails(Errno::EINPROGRESS);
    let error_hangup = Ready {
        write: true,
        error: true,
        hangup: true,
        ..Ready::default()
    };
    let poll = b.poll(c, writable(), error_hangup);
    let read = b.recv_fails(c, Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert!(!is_retry(&w.upto(poll)));
    assert_eq!(
        failed_connect(&w.upto(read)),
        Some((Errno::ECONNREFUSED, addr("10.78.1.10:3389"), None))
    );
    assert!(w.finish().pending_connects.is_empty());
}

/// The same read towards an address of no traced host: the refusal is still the connect's.
#[test]
fn a_refusal_returned_by_a_read_towards_no_traced_host_is_a_failed_connect() {
    let topo = topology(&[&["10.78.1.21"]]);
    let mut a = Script::new(0);
    let c = a.tcp_nonblocking();
    a.connect(c, "10.78.1.10:3389");
    a.fails(Errno::EINPROGRESS);
    let read = a.recv_fails(c, Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(
        failed_connect(&w.upto(read)),
        Some((Errno::ECONNREFUSED, addr("10.78.1.10:3389"), None))
    );
}

/// apps/ha-backend-down/haproxy.trace:591-597: HAProxy's health check connects without
/// blocking, epoll reports EPOLLOUT|EPOLLERR, and a second connect on the same socket returns
/// the refusal. 10.78.1.12 is the backend that is down: no traced host owns it.
#[test]
fn a_second_connect_reports_the_outcome_of_the_first() {
    let topo = topology(&[&["10.78.1.10"], &["10.78.1.11"]]);
    let mut a = Script::new(0);
    let c = a.tcp_nonblocking();
    a.connect(c, "10.78.1.12:80");
    a.fails(Errno::EINPROGRESS);
    let still_pending = a.connect(c, "10.78.1.12:80");
    a.fails(Errno::EALREADY);
    let refused = a.connect(c, "10.78.1.12:80");
    a.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, Script::new(1)]);
    assert_eq!(w.upto(still_pending), Verdict::NotModelled);
    assert_eq!(
        failed_connect(&w.upto(refused)),
        Some((Errno::ECONNREFUSED, addr("10.78.1.12:80"), None))
    );
}

/// The same with a traced target: the second connect's refusal is the connect's failure, and
/// the socket is no longer a connect in progress.
#[test]
fn a_second_connect_refused_by_a_traced_host_ends_the_pending_connect() {
    let topo = lab_hosts();
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:80");
    b.fails(Errno::EINPROGRESS);
    let refused = b.connect(c, "10.77.1.10:80");
    b.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(
        failed_connect(&w.upto(refused)).map(|f| f.0),
        Some(Errno::ECONNREFUSED)
    );
    assert!(w.finish().pending_connects.is_empty());
}

/// A second connect that returns 0 (or EISCONN) tells the first one succeeded.
#[test]
fn a_second_connect_returning_success_completes_the_connect() {
    let topo = lab_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.77.1.10:80");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:80");
    b.fails(Errno::EINPROGRESS);
    let connected = b.connect(c, "10.77.1.10:80");
    b.fails(Errno::EISCONN);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(connected), Verdict::Accept);
    assert_eq!(
        w.model.socket(addr_sock(1, 0)).map(|s| s.state()),
        Some(SockState::Connected)
    );
}

/// Bytes received prove the connect completed, as bytes sent do (a server that speaks first).
#[test]
fn a_receive_completes_a_connect_in_progress() {
    let topo = lab_hosts();
    let (mut a, l, listen) = {
        let mut a = Script::new(0);
        let l = a.tcp();
        a.bind(l, "10.77.1.10:22");
        let listen = a.listen(l);
        (a, l, listen)
    };
    let s = a.accept(l, "10.77.1.21:40000");
    let banner = a.send(s, b"SSH-2.0\r\n");
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:22");
    b.fails(Errno::EINPROGRESS);
    let poll = b.poll(c, writable(), writable());
    let recv = b.recv(c, b"SSH-2.0\r\n");
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    w.upto(poll);
    w.upto(banner);
    assert_eq!(w.upto(recv), Verdict::Accept);
    w.upto(close);
    assert!(w.finish().pending_connects.is_empty());
}

/// Everything a poll can report on a connect that failed: POLLIN|POLLOUT|POLLERR|POLLHUP.
fn failed_everything() -> Ready {
    Ready {
        read: true,
        write: true,
        error: true,
        hangup: true,
        ..Ready::default()
    }
}

/// lab/firewall-drop--ruby--ruby--plain/client.trace:477-483: Ruby's TCPSocket reads SO_ERROR
/// right after EINPROGRESS (`[0]`: the SYN is still unanswered), then ppoll reports
/// POLLIN|POLLOUT|POLLERR|POLLHUP after 3 s and SO_ERROR gives ETIMEDOUT. The first 0 is no
/// completion: the connect failed in front of the traced listener.
#[test]
fn so_error_zero_before_any_wait_leaves_the_connect_in_progress() {
    let topo = lab_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.77.1.10:7001");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    b.showing_waits();
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:7001");
    b.fails(Errno::EINPROGRESS);
    let early = b.getsockopt_so_error(c, 0);
    let ppoll = b.poll(
        c,
        Ready {
            read: true,
            write: true,
            ..Ready::default()
        },
        failed_everything(),
    );
    let so_error = so_error_named(&mut b, c, "[ETIMEDOUT]");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(early), Verdict::Accept, "0: no error yet");
    assert!(!is_retry(&w.upto(ppoll)));
    let (errno, _, listener) = failed_connect(&w.upto(so_error)).expect("a failed connect");
    assert_eq!(errno, Errno::ETIMEDOUT);
    assert_eq!(listener, Some(addr_sock(0, 0)));
    let out = w.finish();
    assert!(out.pending_connects.is_empty());
    assert!(out.tcp.iter().all(|c| c.server.is_none()));
}

/// lab/host-unreachable--ruby--none--plain: the same order of calls towards 10.77.1.99, which
/// no traced host owns and nobody answers ARP for; the late SO_ERROR says EHOSTUNREACH.
#[test]
fn so_error_zero_before_any_wait_towards_no_traced_host_waits_for_the_real_answer() {
    let topo = topology(&[&["10.77.1.22"]]);
    let mut a = Script::new(0);
    a.showing_waits();
    let c = a.tcp_nonblocking();
    a.connect(c, "10.77.1.99:7000");
    a.fails(Errno::EINPROGRESS);
    let early = a.getsockopt_so_error(c, 0);
    let ppoll = a.poll(c, writable(), failed_everything());
    let so_error = so_error_named(&mut a, c, "[EHOSTUNREACH]");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(early), Verdict::NotModelled);
    w.upto(ppoll);
    assert_eq!(
        failed_connect(&w.upto(so_error)),
        Some((Errno::EHOSTUNREACH, addr("10.77.1.99:7000"), None))
    );
}

/// apps/redis-healthy-network/replica.trace:15-16, recorded with `-e trace=network`: connect
/// EINPROGRESS, then SO_ERROR `[0]` 0.3 ms later with the epoll wait between them hidden by
/// the filter. In such a trace 0 is the program's answer after a wait: the connect completed.
/// The same calls from a trace that shows its waits leave the connect in progress.
#[test]
fn so_error_zero_in_a_trace_that_hides_its_waits_completes_the_connect() {
    let topo = lab_hosts();
    for shown in [false, true] {
        let mut a = Script::new(0);
        let l = a.tcp();
        a.bind(l, "10.77.1.10:6379");
        let listen = a.listen(l);
        let mut b = Script::new(1);
        if shown {
            b.showing_waits();
        }
        let c = b.tcp_nonblocking();
        b.connect(c, "10.77.1.10:6379");
        b.fails(Errno::EINPROGRESS);
        let so_error = b.getsockopt_so_error(c, 0);
        let close = b.close(c);
        let mut w = World::new(&topo, vec![a, b]);
        w.upto(listen);
        assert_eq!(w.upto(so_error), Verdict::Accept);
        w.upto(close);
        assert_eq!(w.finish().pending_connects.is_empty(), !shown);
    }
}

/// lab/firewall-reject-icmp--perl--ncat--plain, client.trace:601-603 (Perl's IO::Socket::INET
/// with a Timeout, behind iptables' REJECT with ICMP port unreachable):
/// `connect(3, {... htons(7002), inet_addr("10.77.1.10")}, 16) = -1 EINPROGRESS`,
/// `pselect6(8, NULL, [3], [3], {tv_sec=5, ...}) = 1 (out [3], ...)`,
/// `connect(3, ...) = -1 EALREADY`. The wait reported the socket, so the handshake ended; the
/// second connect says it did not connect: an ICMP error the program never read.
#[test]
fn ealready_after_a_wait_reported_the_socket_is_the_unread_icmp_error() {
    let topo = lab_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.77.1.10:7002");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.77.1.10:7002");
    b.fails(Errno::EINPROGRESS);
    b.poll(c, writable(), writable());
    let second = b.connect(c, "10.77.1.10:7002");
    b.fails(Errno::EALREADY);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    let verdict = w.upto(second);
    assert_eq!(
        failed_connect(&verdict).map(|f| f.0),
        Some(Errno::ECONNREFUSED)
    );
    let Verdict::Deviation(d) = verdict else {
        unreachable!()
    };
    assert!(d.detail.contains("inferred"), "{}", d.detail);
    assert!(w.finish().pending_connects.is_empty());
}

/// The same connect before any wait reported the socket is still in progress, and so is one
/// whose target no trace shows until a wait reports it.
#[test]
fn ealready_before_any_report_is_still_in_progress() {
    let topo = topology(&[&["10.78.1.10"], &["10.78.1.11"]]);
    let mut a = Script::new(0);
    let c = a.tcp_nonblocking();
    a.connect(c, "10.78.1.12:7002");
    a.fails(Errno::EINPROGRESS);
    let early = a.connect(c, "10.78.1.12:7002");
    a.fails(Errno::EALREADY);
    a.poll(c, writable(), writable());
    let after_report = a.connect(c, "10.78.1.12:7002");
    a.fails(Errno::EALREADY);
    let mut w = World::new(&topo, vec![a, Script::new(1)]);
    assert_eq!(w.upto(early), Verdict::NotModelled);
    assert_eq!(
        failed_connect(&w.upto(after_report)),
        Some((Errno::ECONNREFUSED, addr("10.78.1.12:7002"), None))
    );
}

/// rpc/zmq-late--plain/client.trace:1971-1977 (ZeroMQ's I/O thread):
/// `connect(9<TCP:[1539325]>, {... sin_port=htons(7101), sin_addr=inet_addr("10.92.1.1")}, 16)
/// = -1 EINPROGRESS` at 11:35:09.459451 <0.002079>, `epoll_wait(...) = 1` reporting
/// EPOLLOUT|EPOLLERR|EPOLLHUP at 11:35:09.487396, then `getsockopt(9<TCP:[1539325]>,
/// SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0` at 11:35:09.507447 <0.003863>. The server's
/// kernel refused the SYN the connect sent: the failed connect's span starts at the connect,
/// not at the SO_ERROR that reported it (the server listened at 11:35:09.505334, between the
/// two).
#[test]
fn a_refusal_read_later_through_so_error_spans_from_its_connect() {
    let topo = topology(&[&["10.92.1.1"], &["10.92.1.2"]]);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    let start = 9.459_451;
    b.connect(c, "10.92.1.1:7101");
    b.fails(Errno::EINPROGRESS).at(start);
    if let Some(ev) = b.last() {
        ev.call.duration = Some(0.002_079);
    }
    b.poll(c, writable(), writable());
    b.at(9.487_396);
    let so_error = so_error_named(&mut b, c, "[ECONNREFUSED]");
    b.at(9.507_447);
    if let Some(ev) = b.last() {
        ev.call.duration = Some(0.003_863);
    }
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert!(failed_connect(&w.upto(so_error)).is_some());
    let outcome = w.finish();
    let [span] = outcome.failed_connect_spans.as_slice() else {
        panic!("{:?}", outcome.failed_connect_spans);
    };
    assert_eq!(span.loc, so_error);
    assert_eq!(span.start, Some(start));
    let end = span.end.unwrap_or_default();
    assert!((end - (9.507_447 + 0.003_863)).abs() < 1e-9, "{span:?}");
}

/// svc/krb5-down--record, client.trace:205-210: kinit's nonblocking TCP connect to a KDC that
/// does not run; poll reports POLLOUT|POLLERR|POLLHUP 2 ms later and kinit closes the socket
/// without reading SO_ERROR. The error and hang-up came long before Linux's first SYN
/// retransmission, so an answer ended the attempt: a failed connect, not one left in progress.
/// The same close 3 s after the connect could be retries running out: left in progress.
#[test]
fn a_connect_a_wait_reported_failed_and_closed_at_once_failed() {
    let kinit = |close_at: &str| {
        format!(
            r#"14713 1796663161.671729 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<TCP:[35611]> <0.000015>
14713 1796663161.678451 ioctl(3<TCP:[35611]>, FIONBIO, [1]) = 0 <0.000018>
14713 1796663161.681771 connect(3<TCP:[35611]>, {{sa_family=AF_INET, sin_port=htons(88), sin_addr=inet_addr("10.98.1.1")}}, 16) = -1 EINPROGRESS (Operation now in progress) <0.000097>
14713 1796663161.683528 poll([{{fd=3<TCP:[35611]>, events=POLLOUT}}], 1, 1000) = 1 ([{{fd=3, revents=POLLOUT|POLLERR|POLLHUP}}]) <0.000018>
14713 {close_at} close(3<TCP:[35611]>) = 0 <0.000027>
"#
        )
    };
    let replay = |name: &str, close_at: &str| {
        super::replay_texts(
            name,
            &[
                ("client", "10.98.1.2", Some(&kinit(close_at))),
                ("server", "10.98.1.1", None),
            ],
        )
    };
    let out = replay("aborted-at-once", "1796663161.685150");
    assert!(
        out.pending_connects.is_empty(),
        "{:?}",
        out.pending_connects
    );
    let failed: Vec<_> = out
        .deviations
        .iter()
        .filter_map(|d| match d.kind {
            DeviationKind::ConnectFailed { errno, target, .. } => Some((errno, target)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![(Errno::ECONNREFUSED, addr("10.98.1.1:88"))]);
    let out = replay("aborted-late", "1796663164.685150");
    assert_eq!(out.pending_connects.len(), 1, "{:?}", out.deviations);
}

/// coord/gearman-loss--ttt, client.trace:420-428 (`-f -ttt`, no `-T`): libgearman's
/// nonblocking connect, a poll that reports it writable, then the request; the first SYN was
/// lost on the way to gearmand, whose accept4 comes 1.03 s after the connect. The poll's end
/// is not shown, but the send that follows it starts after the connect completed: the connect
/// is timed to that start. Without the writable report a send says nothing of when the
/// connect completed.
#[test]
fn a_send_after_a_writable_report_times_the_connect() {
    let client = |poll: &str| {
        format!(
            r#"17168 1796673595.721395 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3
17168 1796673595.721552 connect(3, {{sa_family=AF_INET, sin_port=htons(4730), sin_addr=inet_addr("10.100.1.1")}}, 16) = -1 EINPROGRESS (Operation now in progress)
{poll}17168 1796673596.749581 sendto(3, "\0REQ\0\0\0\7\0\0\0002reverse\0c60202b8-f278-11f1-a7fc-42bdcfb2b32a\0job 3", 62, MSG_NOSIGNAL, NULL, 0) = 62
"#
        )
    };
    let server = r#"17137 1796673595.183000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 9
17137 1796673595.183281 bind(9, {sa_family=AF_INET, sin_port=htons(4730), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
17137 1796673595.183316 listen(9, 32)   = 0
17137 1796673596.749781 accept4(9, {sa_family=AF_INET, sin_port=htons(39338), sin_addr=inet_addr("10.100.1.2")}, [16], SOCK_NONBLOCK) = 20
17140 1796673596.750088 recvfrom(20, "\0REQ\0\0\0\7\0\0\0002reverse\0c60202b8-f278-11f1-a7fc-42bdcfb2b32a\0job 3", 8192, MSG_DONTWAIT, NULL, NULL) = 62
"#;
    let replay = |name: &str, poll: &str| {
        super::replay_texts(
            name,
            &[
                ("client", "10.100.1.2", Some(&client(poll))),
                ("server", "10.100.1.1", Some(server)),
            ],
        )
    };
    let out = replay(
        "writable",
        "17168 1796673595.721608 poll([{fd=3, events=POLLOUT}], 1, 9000) = 1 ([{fd=3, revents=POLLOUT}])\n",
    );
    let [timing] = out.connect_timings.as_slice() else {
        panic!("{:?}", out.connect_timings)
    };
    assert!((timing.seconds - 1.028_029).abs() < 1e-6, "{timing:?}");
    let out = replay("unreported", "");
    assert!(out.connect_timings.is_empty(), "{:?}", out.connect_timings);
}
