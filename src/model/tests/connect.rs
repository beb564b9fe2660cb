//! TCP connection set-up: listen, connect (blocking, nonblocking, failing), accept.

use super::*;

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
fn nonblocking_connect_completes_through_so_error_not_pollout() {
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
    let state = |w: &World<'_>| w.model.socket(addr_sock(1, 0)).map(|s| s.state());
    assert_eq!(state(&w), Some(SockState::Connecting));
    // Linux reports a failed connect writable too: writability alone proves nothing.
    assert_eq!(w.upto(poll), Verdict::Accept);
    assert_eq!(state(&w), Some(SockState::Connecting));
    assert!(
        is_retry(&w.upto(so_error)),
        "SO_ERROR 0 before anything listens"
    );
    w.upto(listen);
    assert_eq!(w.upto(so_error), Verdict::Accept);
    assert_eq!(state(&w), Some(SockState::Connected));
    assert_eq!(w.upto(send), Verdict::Accept);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
    assert!(w.finish().pending_connects.is_empty());
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
        w.model.socket(addr_sock(0, 0)).unwrap().state(),
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

#[test]
fn a_dual_stack_listener_accepts_ipv4_clients_seen_as_mapped_addresses() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = a.tcp6();
    a.bind(l, "[::]:80");
    let listen = a.listen(l);
    let accept_loc = a.next_loc();
    let s = a.accept(l, "[::ffff:10.0.0.2]:40000");
    let recv = a.recv(s, b"v4");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.bind(c, "10.0.0.2:40000");
    let connect = b.connect(c, "10.0.0.1:80");
    let send = b.send(c, b"v4");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(connect), Verdict::Accept);
    w.upto(send);
    assert_eq!(w.upto(accept_loc), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn a_failed_bind_points_at_the_holder() {
    let topo = one_host(&["10.0.0.1"], 2);
    let mut a = Script::new(0);
    let s = a.tcp();
    let held = a.bind(s, "0.0.0.0:8080");
    let mut b = Script::new(1);
    let t = b.tcp();
    let refused = b.bind(t, "0.0.0.0:8080");
    b.fails(Errno::EADDRINUSE);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(held);
    match w.upto(refused) {
        Verdict::Deviation(d) => {
            assert_eq!(d.kind, DeviationKind::AddressInUse { reuseaddr: false });
            assert_eq!(d.related, vec![held]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reuseport_listeners_share_the_connections() {
    let topo = {
        let mut t = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
        // Two server processes on host 0.
        t.traces.push(crate::config::TraceSpec {
            id: TraceId(2),
            name: "trace2".into(),
            path: "trace2".into(),
            host: 0,
            clock: crate::source::TraceClock::TimeOfDay,
        });
        t.hosts[0].traces.push(TraceId(2));
        t
    };
    let mut servers = Vec::new();
    let mut accepts = Vec::new();
    for (trace, peer) in [(0u32, "10.0.0.2:40001"), (2, "10.0.0.2:40000")] {
        let mut s = Script::new(trace);
        let l = s.tcp();
        s.setsockopt(l, "SOL_SOCKET", "SO_REUSEPORT", OptValue::Int(1));
        s.bind(l, "0.0.0.0:80");
        s.listen(l);
        accepts.push(s.next_loc());
        s.accept(l, peer);
        servers.push(s);
    }
    let mut b = Script::new(1);
    let mut connects = Vec::new();
    for port in [40000, 40001] {
        let c = b.tcp();
        b.bind(c, &format!("10.0.0.2:{port}"));
        connects.push(b.connect(c, "10.0.0.1:80"));
    }
    let second_server = servers.pop().unwrap();
    let first_server = servers.pop().unwrap();
    let mut w = World::new(&topo, vec![first_server, b, second_server]);
    w.upto(Loc::new(TraceId(0), 4));
    assert_eq!(
        w.upto(Loc::new(TraceId(2), 4)),
        Verdict::Accept,
        "no conflict"
    );
    w.upto(connects[0]);
    w.upto(connects[1]);
    assert_eq!(w.upto(accepts[1]), Verdict::Accept);
    assert_eq!(w.upto(accepts[0]), Verdict::Accept);
    let out = w.finish();
    assert!(out.tcp.iter().all(|c| c.server.is_some()));
}

#[test]
fn a_connect_finds_the_listener_of_its_address_among_others_on_its_port() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    for (i, at) in ["127.0.0.2:80", "[::1]:80"].into_iter().enumerate() {
        let other = if i == 0 { a.tcp() } else { a.tcp6() };
        a.bind(other, at);
        a.listen(other);
    }
    let wanted = a.tcp();
    a.bind(wanted, "127.0.0.1:80");
    let listen = a.listen(wanted);
    let c = a.tcp();
    let connect = a.connect(c, "127.0.0.1:80");
    let mut w = World::new(&topo, vec![a]);
    let listener = w.traces[0]
        .iter()
        .find(|ev| ev.call.loc == listen)
        .and_then(|ev| ev.socks.first())
        .map(|(_, id)| *id);
    assert_eq!(w.upto(connect), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.tcp.len(), 1);
    assert!(listener.is_some());
    assert_eq!(out.tcp[0].listener, listener);
}

/// varnishd's manager first binds a socket to port 0 and listens on it (to read the kernel's
/// keep-alive defaults), closes it, then binds 10.99.1.1:6081, which its cache process listens
/// on. aria2c's connect to 6081 completed while the probe listened (its clock says so here; the
/// replay trusts no clock): the probe's port, chosen by the kernel from the ephemeral range, is
/// no 6081, so the connect waits for the listener that is (`web/varnish-healthy-w3m--r`,
/// cache.trace and client.trace, trimmed, decorations dropped).
#[test]
fn a_connect_to_a_low_port_is_not_taken_by_a_listener_bound_to_port_zero() {
    let cache = r#"14539 1796673547.417974 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3
14539 1796673547.419133 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
14539 1796673547.425463 bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
14539 1796673547.426754 listen(3, 10) = 0
14539 1796673547.433151 getsockopt(3, SOL_TCP, TCP_KEEPIDLE, [7200], [4]) = 0
14539 1796673547.433506 close(3) = 0
14539 1796673547.441692 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3
14539 1796673547.442854 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
14539 1796673547.443997 bind(3, {sa_family=AF_INET, sin_port=htons(6081), sin_addr=inet_addr("10.99.1.1")}, 16) = 0
14539 1796673548.329129 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fbe7bd06450) = 14581
14581 1796673548.381872 listen(3, 1024) = 0
14581 1796673548.469380 accept(3, {sa_family=AF_INET, sin_port=htons(59902), sin_addr=inet_addr("10.99.1.2")}, [128 => 16]) = 15
14581 1796673548.612837 read(15, "GET /a HTTP/1.1\r\n\r\n", 32768) = 19
14581 1796673548.626566 write(15, "HTTP/1.1 200 OK\r\n\r\n", 19) = 19
14581 1796673548.635889 close(15) = 0
"#;
    let client = r#"14614 1796673547.428100 socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_IP) = 4
14614 1796673547.428200 connect(4, {sa_family=AF_INET, sin_port=htons(6081), sin_addr=inet_addr("10.99.1.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
14614 1796673547.428300 poll([{fd=4, events=POLLOUT}], 1, 3000) = 1 ([{fd=4, revents=POLLOUT}])
14614 1796673547.428400 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
14614 1796673547.428500 write(4, "GET /a HTTP/1.1\r\n\r\n", 19) = 19
14614 1796673547.428600 poll([{fd=4, events=POLLIN}], 1, 3000) = 1 ([{fd=4, revents=POLLIN}])
14614 1796673547.428700 read(4, "HTTP/1.1 200 OK\r\n\r\n", 16384) = 19
14614 1796673547.428800 close(4) = 0
"#;
    let out = super::replay_texts(
        "port-zero-probe",
        &[
            ("client", "10.99.1.2", Some(client)),
            ("cache", "10.99.1.1", Some(cache)),
        ],
    );
    assert!(out.deviations.is_empty(), "{:#?}", out.deviations);
    assert!(out.blocked.is_empty(), "{:#?}", out.blocked);
}

/// Varnish's back-end connect lost its SYNs: its 2 s poll for writability timed out and it
/// closed the socket, then connected again. gunicorn's accept returned the second connection
/// (port 43246, which only Varnish's getsockname after connecting shows). A connect whose
/// program's wait saw it unfinished was not in the accept queue then, and once closed never
/// is: the accept takes the second connect, whose request and answer match
/// (`web/backend-loss-w3m--unix`, cache.trace:7600-7690 and backend.trace:4733-4905, trimmed).
#[test]
fn an_accept_does_not_take_a_connect_its_program_saw_time_out_and_closed() {
    let cache = r#"32318 1796674362.136455 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 17
32318 1796674362.136504 ioctl(17, FIONBIO, [1]) = 0
32318 1796674362.136552 connect(17, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("10.99.2.2")}, 16) = -1 EINPROGRESS (Operation now in progress)
32318 1796674362.136588 poll([{fd=17, events=POLLWRNORM}], 1, 2000) = 0 (Timeout)
32318 1796674364.138773 close(17)       = 0
32318 1796674364.140690 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 17
32318 1796674364.140745 ioctl(17, FIONBIO, [1]) = 0
32318 1796674364.140792 connect(17, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("10.99.2.2")}, 16) = -1 EINPROGRESS (Operation now in progress)
32318 1796674364.140959 poll([{fd=17, events=POLLWRNORM}], 1, 2000) = 1 ([{fd=17, revents=POLLWRNORM}])
32318 1796674364.140987 getsockopt(17, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
32318 1796674364.141058 ioctl(17, FIONBIO, [0]) = 0
32318 1796674364.141096 getsockname(17, {sa_family=AF_INET, sin_port=htons(43246), sin_addr=inet_addr("10.99.2.1")}, [28 => 16]) = 0
32318 1796674364.141287 write(17, "GET /e HTTP/1.1\r\n\r\n", 19) = 19
32318 1796674364.141433 poll([{fd=17, events=POLLIN}], 1, 3000) = 1 ([{fd=17, revents=POLLIN}])
32318 1796674364.546253 read(17, "HTTP/1.1 200 OK\r\n\r\n", 32768) = 19
32318 1796674364.546511 close(17) = 0
"#;
    let backend = r#"32264 1796674361.158828 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 5
32264 1796674361.158935 bind(5, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
32264 1796674361.159088 listen(5, 2048) = 0
32270 1796674364.141070 accept4(5, {sa_family=AF_INET, sin_port=htons(43246), sin_addr=inet_addr("10.99.2.1")}, [16], SOCK_CLOEXEC) = 9
32270 1796674364.545528 recvfrom(9, "GET /e HTTP/1.1\r\n\r\n", 8192, 0, NULL, NULL) = 19
32270 1796674364.546022 sendto(9, "HTTP/1.1 200 OK\r\n\r\n", 19, 0, NULL, 0) = 19
32270 1796674364.546600 close(9) = 0
"#;
    let out = super::replay_texts(
        "timed-out-connect",
        &[
            ("cache", "10.99.2.1", Some(cache)),
            ("backend", "10.99.2.2", Some(backend)),
        ],
    );
    assert!(out.deviations.is_empty(), "{:#?}", out.deviations);
    assert!(out.blocked.is_empty(), "{:#?}", out.blocked);
    // The first connect never completed; the accepted connection is the second one's.
    assert_eq!(out.pending_connects.len(), 1, "{:?}", out.pending_connects);
    assert_eq!(out.pending_connects[0].loc.line, 3);
}

/// The same through epoll, with aria2c's calls (`web/varnish-drop-aria2c--T`,
/// client.trace:373-389): its connect to 10.99.1.1:6081 returned EINPROGRESS, it registered
/// the socket for EPOLLOUT, and its `epoll_wait(3, [], 1024, 1000) = 0` timed out while the
/// SYNs were lost; then it closed the socket. Linux reports a connected socket to epoll as
/// writable, so that connect was not in the accept queue when the wait timed out, and once
/// closed never is: the server's accept waits for another connection.
#[test]
fn an_accept_does_not_take_a_connect_an_epoll_wait_saw_time_out_and_closed() {
    let topo = topology(&[&["10.99.1.1"], &["10.99.1.2"]]);
    let run = |epoll_timed_out: bool| {
        let mut a = Script::new(0);
        let l = a.tcp();
        a.bind(l, "10.99.1.1:6081");
        let listen = a.listen(l);
        let accept_loc = a.next_loc();
        a.accept_any(l);
        let mut b = Script::new(1);
        let c = b.tcp_nonblocking();
        b.connect(c, "10.99.1.1:6081");
        b.fails(Errno::EINPROGRESS);
        b.epoll_add(3, c, writable());
        let waited = b.epoll_timeout(3, if epoll_timed_out { 1000 } else { 0 });
        let closed = b.close(c);
        let mut w = World::new(&topo, vec![a, b]);
        w.upto(listen);
        w.upto(waited);
        w.upto(closed);
        w.upto(accept_loc)
    };
    assert!(
        is_retry(&run(true)),
        "the abandoned connect is not accepted"
    );
    // A zero timeout only looked: the handshake may have completed after it.
    assert_eq!(run(false), Verdict::Accept);
}

/// h2load opens two nonblocking connections to nghttpd back to back; `-yy` shows each one's
/// local port only from the calls after its connect (`pool/h2-loss-h2load--yy`,
/// client.trace:207-214 and backend.trace:225-228, trimmed). nghttpd's accepts show the
/// peer ports 42448 then 42458: each accepted socket is paired with the connect whose port
/// that is.
#[test]
fn decorated_client_ports_pair_each_accept_with_its_own_connect() {
    let client = r#"3827  23:40:16.329631 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 4<TCP:[623308]>
3827  23:40:16.331905 connect(4<TCP:[623308]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("10.102.2.2")}, 16) = -1 EINPROGRESS (Operation now in progress)
3827  23:40:16.333159 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 5<TCP:[623309]>
3827  23:40:16.335709 connect(5<TCP:[623309]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("10.102.2.2")}, 16) = -1 EINPROGRESS (Operation now in progress)
3827  23:40:16.337383 epoll_ctl(3<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 4<TCP:[10.102.1.2:42448->10.102.2.2:8080]>, {events=EPOLLOUT, data={u32=4, u64=4294967300}}) = 0
3827  23:40:16.338533 epoll_ctl(3<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 5<TCP:[10.102.1.2:42458->10.102.2.2:8080]>, {events=EPOLLOUT, data={u32=5, u64=4294967301}}) = 0
3827  23:40:16.340370 read(5<TCP:[10.102.1.2:42458->10.102.2.2:8080]>, "\0\0\6\4\0\0\0\0\0\0\3\0\0\0d", 8192) = 15
3827  23:40:16.340672 read(4<TCP:[10.102.1.2:42448->10.102.2.2:8080]>, "\0\0\6\4\0\0\0\0\0\0\3\0\0\0d", 8192) = 15
"#;
    let server = r#"3816  23:40:16.158828 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 11<TCP:[623275]>
3816  23:40:16.158935 bind(11<TCP:[623275]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
3816  23:40:16.159088 listen(11<TCP:[0.0.0.0:8080]>, 1000) = 0
3816  23:40:16.333198 accept4(11<TCP:[0.0.0.0:8080]>, NULL, NULL, SOCK_NONBLOCK) = 13<TCP:[10.102.2.2:8080->10.102.1.2:42448]>
3816  23:40:16.335680 write(13<TCP:[10.102.2.2:8080->10.102.1.2:42448]>, "\0\0\6\4\0\0\0\0\0\0\3\0\0\0d", 15) = 15
3816  23:40:16.336783 accept4(11<TCP:[0.0.0.0:8080]>, NULL, NULL, SOCK_NONBLOCK) = 14<TCP:[10.102.2.2:8080->10.102.1.2:42458]>
3816  23:40:16.337994 write(14<TCP:[10.102.2.2:8080->10.102.1.2:42458]>, "\0\0\6\4\0\0\0\0\0\0\3\0\0\0d", 15) = 15
"#;
    let out = super::replay_texts(
        "decorated-client-ports",
        &[
            ("client", "10.102.1.2", Some(client)),
            ("backend", "10.102.2.2", Some(server)),
        ],
    );
    let mut pairs: Vec<(u32, Option<u32>)> = out
        .tcp
        .iter()
        .map(|c| (c.client.n, c.server.map(|s| s.n)))
        .collect();
    pairs.sort_unstable();
    assert_eq!(pairs, vec![(0, Some(1)), (1, Some(2))], "{:#?}", out.tcp);
}
