//! Model tests, one dialogue per rule: scripts are written per trace, then played in the order
//! the test chooses with [`World::upto`].

use super::script::{addr, nothing, one_host, readable, topology, writable, Script};
use super::*;
use crate::config::Topology;
use crate::parse::{Errno, MsgFlags, OptValue};

/// Plays scripts against a model in an order chosen by the test.
struct World<'t> {
    model: Model<'t>,
    traces: Vec<Vec<SocketEvent>>,
    cursor: Vec<usize>,
}

impl<'t> World<'t> {
    fn new(topo: &'t Topology, scripts: Vec<Script>) -> Self {
        let traces: Vec<Vec<SocketEvent>> = scripts.into_iter().map(Script::events).collect();
        World {
            model: Model::new(topo),
            cursor: vec![0; traces.len()],
            traces,
        }
    }

    /// Runs the trace of `loc` up to and including `loc`; earlier calls must be accepted.
    /// Returns the verdict of the call at `loc` (a retried call stays next in its trace).
    fn upto(&mut self, loc: Loc) -> Verdict {
        let t = loc.trace.0 as usize;
        loop {
            let ev = &self.traces[t][self.cursor[t]];
            let verdict = self.model.simulate(ev);
            if ev.call.loc == loc {
                if !matches!(verdict, Verdict::RetryLater(_)) {
                    self.cursor[t] += 1;
                }
                return verdict;
            }
            assert!(
                matches!(verdict, Verdict::Accept | Verdict::NotModelled),
                "{:?} at {:?}",
                verdict,
                ev.call.loc
            );
            self.cursor[t] += 1;
        }
    }

    fn force(&mut self, loc: Loc) -> Verdict {
        let t = loc.trace.0 as usize;
        let ev = &self.traces[t][self.cursor[t]];
        assert_eq!(ev.call.loc, loc);
        self.cursor[t] += 1;
        self.model.force(ev)
    }

    fn finish(self) -> ReplayOutcome {
        self.model.finish(0, Vec::new())
    }
}

fn kind(v: &Verdict) -> Option<&DeviationKind> {
    match v {
        Verdict::Deviation(d) => Some(&d.kind),
        _ => None,
    }
}

fn is_retry(v: &Verdict) -> bool {
    matches!(v, Verdict::RetryLater(_))
}

fn two_hosts() -> Topology {
    topology(&[&["10.0.0.1"], &["10.0.0.2"]])
}

/// Server script with a listener on 10.0.0.1:80; returns (script, listener fd, listen loc).
fn server() -> (Script, i32, Loc) {
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen(l);
    (a, l, listen)
}

// ----- connection set-up -------------------------------------------------------------------

#[test]
fn connect_before_listen_retries_then_connects() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:80");
    let mut w = World::new(&topo, vec![a, b]);
    assert!(is_retry(&w.upto(connect)));
    assert_eq!(w.model.wait_keys(), &[WaitKey::AnyListen]);
    assert_eq!(w.model.connection_count(), 0, "a retry changes nothing");
    assert_eq!(w.upto(listen), Verdict::Accept);
    assert!(w.model.take_touched().contains(&WaitKey::AnyListen));
    assert_eq!(w.upto(connect), Verdict::Accept);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.tcp.len(), 1);
    assert!(out.tcp[0].server.is_some());
}

#[test]
fn accept_without_pending_connection_retries() {
    let topo = two_hosts();
    let (mut a, l, _) = server();
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut w = World::new(&topo, vec![a]);
    let v = w.upto(accept_loc);
    assert!(is_retry(&v));
    let listener = w.traces[0][0].socks[0].1;
    assert_eq!(w.model.wait_keys(), &[WaitKey::Sock(listener)]);
}

#[test]
fn refused_connect_names_the_listener_when_there_is_one() {
    let topo = two_hosts();
    let (a, _, listen) = server();
    let mut b = Script::new(1);
    let c = b.tcp();
    let refused_early = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::ECONNREFUSED);
    let refused_late = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, b]);
    match kind(&w.upto(refused_early)) {
        Some(DeviationKind::ConnectFailed {
            errno, listener, ..
        }) => {
            assert_eq!(*errno, Errno::ECONNREFUSED);
            assert_eq!(*listener, None);
        }
        other => panic!("{other:?}"),
    }
    w.upto(listen);
    match kind(&w.upto(refused_late)) {
        Some(DeviationKind::ConnectFailed { listener, .. }) => assert!(listener.is_some()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn connect_timeouts_and_unreachable_are_failures() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let mut locs = Vec::new();
    for errno in [
        Errno::ETIMEDOUT,
        Errno::EHOSTUNREACH,
        Errno::ENETUNREACH,
        Errno::EACCES,
        Errno::EPERM,
    ] {
        let c = b.tcp();
        locs.push((b.connect(c, "10.0.0.1:80"), errno));
        b.fails(errno);
    }
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    for (loc, errno) in locs {
        match kind(&w.upto(loc)) {
            Some(DeviationKind::ConnectFailed { errno: e, .. }) => assert_eq!(*e, errno),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn connect_to_an_ignored_endpoint_is_not_modelled() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "8.8.8.8:53");
    let send = b.send(c, b"query");
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(w.upto(connect), Verdict::NotModelled);
    assert_eq!(w.upto(send), Verdict::NotModelled);
    assert_eq!(
        w.finish().activity[1].unknown_peers,
        vec![addr("8.8.8.8:53")]
    );
}

#[test]
fn nonblocking_connect_completes_through_pollout_and_so_error() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    let accept_loc = a.next_loc();
    let s = a.accept(l, "10.0.0.2:40000");
    let recv = a.recv(s, b"hi");
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    let connect = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINPROGRESS);
    let poll = b.poll(c, writable(), writable());
    let so_error = b.getsockopt_so_error(c, 0);
    let send = b.send(c, b"hi");
    let mut w = World::new(&topo, vec![a, b]);
    assert_eq!(w.upto(connect), Verdict::Accept);
    assert_eq!(
        w.model.socket(addr_sock(1, 0)).unwrap().state,
        SockState::Connecting
    );
    assert!(is_retry(&w.upto(poll)), "writable before anything listens");
    w.upto(listen);
    assert_eq!(w.upto(poll), Verdict::Accept);
    assert_eq!(
        w.model.socket(addr_sock(1, 0)).unwrap().state,
        SockState::Connected
    );
    assert_eq!(w.upto(so_error), Verdict::Accept);
    assert_eq!(w.upto(send), Verdict::Accept);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
    assert!(w.finish().pending_connects.is_empty());
}

fn addr_sock(trace: u32, n: u32) -> SockId {
    SockId {
        trace: TraceId(trace),
        n,
    }
}

#[test]
fn so_error_reports_a_refused_nonblocking_connect() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINPROGRESS);
    let so_error = b.getsockopt_so_error(c, 111);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    match kind(&w.upto(so_error)) {
        Some(DeviationKind::ConnectFailed { errno, .. }) => {
            assert_eq!(*errno, Errno::ECONNREFUSED)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nonblocking_connect_never_completed_is_pending_at_the_end() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINPROGRESS);
    let close = b.close(c);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    w.upto(close);
    let out = w.finish();
    assert_eq!(out.pending_connects.len(), 1);
    assert_eq!(out.pending_connects[0].target, addr("10.0.0.1:80"));
}

#[test]
fn listen_on_an_unbound_socket_binds_it() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    let listen = a.listen(l);
    a.getsockname(l, "0.0.0.0:40123");
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:50000");
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:40123");
    let mut w = World::new(&topo, vec![a, b]);
    assert_eq!(w.upto(listen), Verdict::Accept);
    assert_eq!(
        w.model.socket(addr_sock(0, 0)).unwrap().state,
        SockState::Listen
    );
    assert_eq!(w.upto(connect), Verdict::Accept);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
}

#[test]
fn ipv4_client_cannot_reach_a_v6_only_listener() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = a.tcp6();
    a.setsockopt(l, "SOL_IPV6", "IPV6_V6ONLY", OptValue::Int(1));
    a.bind(l, "[::]:80");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(
        kind(&w.upto(connect)),
        Some(&DeviationKind::IpVersionMismatch)
    );
}

#[test]
fn loopback_bound_socket_cannot_reach_another_host() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let c = b.tcp();
    b.bind(c, "127.0.0.1:5000");
    let connect = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINVAL);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert!(matches!(
        kind(&w.upto(connect)),
        Some(DeviationKind::LoopbackBoundExternalPeer { .. })
    ));
}

// ----- bind ----------------------------------------------------------------------------------

#[test]
fn bind_conflicts_only_on_the_same_host_and_protocol() {
    // Same host: two traces binding the same TCP port conflict.
    let topo = one_host(&["10.0.0.1"], 2);
    let mut a = Script::new(0);
    let s = a.tcp();
    a.bind(s, "0.0.0.0:8080");
    let mut b = Script::new(1);
    let t = b.tcp();
    let clash = b.bind(t, "10.0.0.1:8080");
    let u = b.udp();
    let udp_same_port = b.bind(u, "10.0.0.1:8080");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 2));
    assert_eq!(
        kind(&w.upto(clash)),
        Some(&DeviationKind::AddressInUse { reuseaddr: false })
    );
    assert_eq!(w.upto(udp_same_port), Verdict::Accept);

    // Different hosts: no conflict.
    let topo = two_hosts();
    let mut a = Script::new(0);
    let s = a.tcp();
    let first = a.bind(s, "0.0.0.0:8080");
    let mut b = Script::new(1);
    let t = b.tcp();
    let second = b.bind(t, "0.0.0.0:8080");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(first);
    assert_eq!(w.upto(second), Verdict::Accept);
}

#[test]
fn reuseaddr_holder_makes_the_conflict_a_portability_issue() {
    let topo = one_host(&["10.0.0.1"], 1);
    let mut a = Script::new(0);
    let s = a.tcp();
    a.setsockopt(s, "SOL_SOCKET", "SO_REUSEADDR", OptValue::Int(1));
    a.bind(s, "0.0.0.0:8080");
    let t = a.tcp();
    a.setsockopt(t, "SOL_SOCKET", "SO_REUSEADDR", OptValue::Int(1));
    let second = a.bind(t, "0.0.0.0:8080");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(
        kind(&w.upto(second)),
        Some(&DeviationKind::AddressInUse { reuseaddr: true })
    );
}

#[test]
fn accepted_sockets_do_not_conflict_with_later_binds() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:80");
    let d = b.tcp();
    let bind_client_port_elsewhere = b.bind(d, "10.0.0.2:80");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    w.upto(connect);
    w.upto(accept_loc);
    assert_eq!(w.upto(bind_client_port_elsewhere), Verdict::Accept);
}

// ----- TCP data --------------------------------------------------------------------------------

/// A connected pair: (server script, client script, server socket fd, client fd) with every
/// set-up call already written.
fn connected() -> (Script, Script, i32, i32) {
    let (mut a, l, _) = server();
    let s = a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    (a, b, s, c)
}

/// Plays the set-up of [`connected`] (server: 5 calls, client: 2).
fn set_up(w: &mut World<'_>) {
    w.upto(Loc::new(TraceId(0), 3));
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(Loc::new(TraceId(0), 4));
}

#[test]
fn recv_before_send_retries_and_changes_nothing() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let recv = a.recv(s, b"hello");
    let send = b.send(c, b"hello");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert!(is_retry(&w.upto(recv)), "still nothing sent");
    assert_eq!(w.upto(send), Verdict::Accept);
    assert!(w
        .model
        .take_touched()
        .contains(&WaitKey::Sock(addr_sock(0, 1))));
    assert_eq!(w.upto(recv), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.tcp[0].to_server.sent, 5);
    assert_eq!(out.tcp[0].to_server.received, 5);
}

#[test]
fn partial_receives_and_truncated_content_match() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send_shown(c, b"abc", 10); // strace showed 3 of 10 bytes
    let first = a.recv(s, b"abcd");
    let rest = a.recv_into(s, b"efghij", 6, 4096, MsgFlags::default(), None);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(w.upto(first), Verdict::Accept);
    assert_eq!(w.upto(rest), Verdict::Accept);
}

#[test]
fn different_bytes_are_a_data_mismatch() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send(c, b"hello");
    let recv = a.recv(s, b"hellx");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(kind(&w.upto(recv)), Some(&DeviationKind::DataMismatch));
}

#[test]
fn peek_does_not_consume() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send(c, b"hello");
    let peek = a.recv_into(
        s,
        b"he",
        2,
        2,
        MsgFlags {
            peek: true,
            ..MsgFlags::default()
        },
        None,
    );
    let recv = a.recv(s, b"hello");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(w.upto(peek), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn end_of_stream_waits_for_the_peers_close() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let eof = a.recv_eof(s);
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(eof)));
    assert_eq!(w.upto(close), Verdict::Accept);
    assert_eq!(w.upto(eof), Verdict::Accept);
}

#[test]
fn end_of_stream_after_shutdown_write() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let shut = b.shutdown(c, 1);
    let eof = a.recv_eof(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(shut);
    assert_eq!(w.upto(eof), Verdict::Accept);
}

#[test]
fn epipe_waits_for_the_peers_close_then_is_a_deviation() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let close = a.close(s);
    let send = b.send_fails(c, b"late", Errno::EPIPE);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(send)));
    w.upto(close);
    assert_eq!(
        kind(&w.upto(send)),
        Some(&DeviationKind::SendAfterPeerClosed {
            errno: Some(Errno::EPIPE)
        })
    );
}

#[test]
fn reset_with_both_ends_open_is_forced_as_a_reset() {
    let topo = two_hosts();
    let (a, mut b, _, c) = connected();
    let recv = b.recv_fails(c, Errno::ECONNRESET);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::ConnectionReset));
}

#[test]
fn data_nobody_sent_is_forced_as_unknown_data() {
    let topo = two_hosts();
    let (mut a, b, s, _) = connected();
    let recv = a.recv(s, b"from nowhere");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::UnknownData));
}

#[test]
fn sendfile_moves_counts_without_content() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let file_fd = 99;
    let sendfile = b.call(
        crate::parse::Syscall::CopyFile {
            out_fd: c,
            in_fd: file_fd,
            count: 1000,
        },
        crate::parse::Outcome::ok(1000),
    );
    let recv = a.recv_into(
        s,
        b"any bytes at all",
        1000,
        4096,
        MsgFlags::default(),
        None,
    );
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(sendfile), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
    assert_eq!(w.finish().tcp[0].to_server.received, 1000);
}

// ----- blocking and nonblocking --------------------------------------------------------------

#[test]
fn eagain_depends_on_how_the_socket_became_nonblocking() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    a.call(
        crate::parse::Syscall::Fcntl {
            fd: l,
            op: crate::parse::FcntlOp::SetFl { nonblock: true },
        },
        crate::parse::Outcome::ok(0),
    );
    let first_accept = a.next_loc();
    let inherited = a.accept(l, "10.0.0.2:40000");
    let inherited_eagain = a.recv_fails(inherited, Errno::EAGAIN);
    let second_accept = a.next_loc();
    let explicit = a.accept4_nonblock(l, "10.0.0.2:40001");
    let explicit_eagain = a.recv_fails(explicit, Errno::EAGAIN);
    let blocking = a.tcp();
    let blocking_eagain = a.recv_fails(blocking, Errno::EAGAIN);
    let mut b = Script::new(1);
    let c1 = b.tcp();
    b.bind(c1, "10.0.0.2:40000");
    let connect1 = b.connect(c1, "10.0.0.1:80");
    let c2 = b.tcp();
    b.bind(c2, "10.0.0.2:40001");
    let connect2 = b.connect(c2, "10.0.0.1:80");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    w.upto(connect1);
    w.upto(connect2);
    w.upto(first_accept);
    assert_eq!(
        kind(&w.upto(inherited_eagain)),
        Some(&DeviationKind::NonblockInherited)
    );
    w.upto(second_accept);
    assert_eq!(w.upto(explicit_eagain), Verdict::Accept);
    // A blocking socket that is not connected: EAGAIN still means "would have blocked".
    assert_eq!(
        kind(&w.upto(blocking_eagain)),
        Some(&DeviationKind::UnexpectedBlocking)
    );
}

#[test]
fn receive_timeouts_and_dontwait_make_eagain_expected() {
    let topo = two_hosts();
    let (mut a, b, s, _) = connected();
    let dontwait = a.call(
        crate::parse::Syscall::Recv {
            fd: s,
            data: crate::parse::Payload::default(),
            buf_len: 10,
            flags: MsgFlags {
                dontwait: true,
                ..MsgFlags::default()
            },
            src: None,
            truncated_datagram: false,
        },
        crate::parse::Outcome::failed(Errno::EAGAIN),
    );
    a.setsockopt(
        s,
        "SOL_SOCKET",
        "SO_RCVTIMEO",
        OptValue::Timeout { micros: 500_000 },
    );
    let timed_out = a.recv_fails(s, Errno::EAGAIN);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(dontwait), Verdict::Accept);
    assert_eq!(w.upto(timed_out), Verdict::Accept);
}

// ----- readiness waits -----------------------------------------------------------------------

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

// ----- UDP -----------------------------------------------------------------------------------

#[test]
fn lost_datagrams_are_counted_by_size() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv1 = a.recvfrom(r, b"one", "10.0.0.2:6000");
    let recv3 = a.recvfrom(r, b"thr", "10.0.0.2:6000");
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    b.sendto(s, b"one", "10.0.0.1:5000");
    b.sendto(s, b"two", "10.0.0.1:5000");
    let last = b.sendto(s, b"thr", "10.0.0.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    assert!(is_retry(&w.upto(recv1)));
    w.upto(last);
    assert_eq!(w.upto(recv1), Verdict::Accept);
    assert_eq!(w.upto(recv3), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.udp.len(), 1);
    assert_eq!(out.udp[0].by_size, vec![(3, 3, 2)]);
    assert_eq!(out.udp[0].receivers, vec![addr_sock(0, 0)]);
}

#[test]
fn a_datagram_cut_to_the_buffer_is_truncated() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv = a.recv_into(
        r,
        b"0123456789",
        10,
        10,
        MsgFlags::default(),
        Some("10.0.0.2:6000"),
    );
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    let big = vec![b'0'; 0]
        .into_iter()
        .chain(b"0123456789abcdefghij".iter().copied())
        .collect::<Vec<u8>>();
    let send = b.sendto(s, &big, "10.0.0.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(
        kind(&w.upto(recv)),
        Some(&DeviationKind::DatagramTruncated {
            len: 20,
            buffer: 10
        })
    );
}

#[test]
fn broadcast_needs_so_broadcast() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let s = b.udp();
    let denied = b.sendto(s, b"hello", "255.255.255.255:9");
    let t = b.udp();
    b.setsockopt(t, "SOL_SOCKET", "SO_BROADCAST", OptValue::Int(1));
    let allowed = b.sendto(t, b"hello", "255.255.255.255:9");
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(
        kind(&w.upto(denied)),
        Some(&DeviationKind::BroadcastNotPermitted)
    );
    assert_eq!(w.upto(allowed), Verdict::Accept);
}

#[test]
fn multicast_members_receive_group_datagrams() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.setsockopt(r, "SOL_SOCKET", "SO_REUSEADDR", OptValue::Int(1));
    a.bind(r, "0.0.0.0:5000");
    a.setsockopt(
        r,
        "SOL_IP",
        "IP_ADD_MEMBERSHIP",
        OptValue::Membership {
            group: "239.1.1.1".parse().unwrap(),
            interface: None,
        },
    );
    let recv = a.recvfrom(r, b"tick", "10.0.0.2:6000");
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    let send = b.sendto(s, b"tick", "239.1.1.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn ipv6_datagrams_flow() {
    let topo = topology(&[&["fd00::1"], &["fd00::2"]]);
    let mut a = Script::new(0);
    let r = a.udp6();
    a.bind(r, "[::]:5353");
    let recv = a.recvfrom(r, b"q", "[fd00::2]:7000");
    let mut b = Script::new(1);
    let s = b.udp6();
    b.bind(s, "[fd00::2]:7000");
    let send = b.sendto(s, b"q", "[fd00::1]:5353");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn a_datagram_nobody_sent_is_forced_as_unknown_data() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv = a.recvfrom(r, b"?", "10.0.0.2:6000");
    let mut w = World::new(&topo, vec![a]);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(w.model.wait_keys()[0], WaitKey::UdpPort(5000));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::UnknownData));
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

#[test]
fn accept_pairs_by_host_when_the_client_port_is_unknown() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
    let (mut a, l, listen) = server();
    let accept_loc = a.next_loc();
    let s = a.accept(l, "10.0.0.3:51000");
    let recv = a.recv(s, b"from C");
    let mut b = Script::new(1);
    let cb = b.tcp();
    let connect_b = b.connect(cb, "10.0.0.1:80");
    let mut c = Script::new(2);
    let cc = c.tcp();
    let connect_c = c.connect(cc, "10.0.0.1:80");
    let send_c = c.send(cc, b"from C");
    let mut w = World::new(&topo, vec![a, b, c]);
    w.upto(listen);
    w.upto(connect_b);
    w.upto(connect_c);
    w.upto(send_c);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
    assert_eq!(
        w.upto(recv),
        Verdict::Accept,
        "paired with C's connection, not B's"
    );
    let out = w.finish();
    assert_eq!(out.activity.len(), 3);
}

#[test]
fn unread_bytes_beyond_the_sized_buffers_overrun_once() {
    let topo = two_hosts();
    let (a, mut b, _, c) = connected();
    b.setsockopt(c, "SOL_SOCKET", "SO_SNDBUF", OptValue::Int(4096));
    let big = vec![b'x'; 4000];
    let first = b.send(c, &big);
    let second = b.send(c, &big);
    let third = b.send(c, &big);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    // Capacity: 8192 (4096 doubled) + the receiver's auto-tuned maximum: large sends fit.
    assert_eq!(w.upto(first), Verdict::Accept);
    assert_eq!(w.upto(second), Verdict::Accept);
    assert_eq!(w.upto(third), Verdict::Accept);
}

#[test]
fn explicitly_small_buffers_on_both_ends_overrun() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    a.setsockopt(l, "SOL_SOCKET", "SO_RCVBUF", OptValue::Int(2048));
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.setsockopt(c, "SOL_SOCKET", "SO_SNDBUF", OptValue::Int(4096));
    b.connect(c, "10.0.0.1:80");
    let big = vec![b'x'; 10_000];
    let send = b.send(c, &big);
    let overrun = b.send(c, &big);
    let again = b.send(c, &big);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    w.upto(Loc::new(TraceId(0), 4));
    w.upto(Loc::new(TraceId(1), 3));
    w.upto(accept_loc);
    assert_eq!(w.upto(send), Verdict::Accept, "10000 bytes fit in 12288");
    assert_eq!(
        kind(&w.upto(overrun)),
        Some(&DeviationKind::BufferOverrun {
            unreceived: 20_000,
            capacity: 8192 + 4096
        })
    );
    assert_eq!(
        w.upto(again),
        Verdict::Accept,
        "reported once per direction"
    );
}

#[test]
fn an_interrupted_blocking_connect_completes_later() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINTR);
    let send = b.send(c, b"x");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(connect), Verdict::Accept);
    assert_eq!(w.upto(send), Verdict::Accept);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
}
