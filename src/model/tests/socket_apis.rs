//! Less common Linux socket calls, each test following real lines of `tests/fixtures/capi`
//! (recorded by `lab/capi.sh`): TCP Fast Open, connect(AF_UNSPEC) on TCP.

use super::*;
use crate::parse::{Outcome, Payload, SockAddr, Syscall};

/// `sendto(3, "GET /capi\n", 10, MSG_FASTOPEN, {... htons(7600), inet_addr("10.88.0.1")}, 16)`
/// (capi/tfo-healthy--plain, client.trace:32) on a socket never connected, with `outcome`.
fn fastopen_sendto(b: &mut Script, fd: i32, to: &str, outcome: Outcome) -> Loc {
    b.call(
        Syscall::Send {
            fd,
            data: Payload::new(b"GET /capi\n".to_vec(), false),
            flags: MsgFlags {
                fastopen: true,
                ..MsgFlags::default()
            },
            dest: Some(SockAddr::Inet(addr(to))),
            passed_fds: Vec::new(),
        },
        outcome,
    )
}

#[test]
fn a_fast_open_sendto_connects_and_sends() {
    // capi/tfo-healthy--plain: the client's sendto(MSG_FASTOPEN) = 10 is its connect; the
    // server's accept4 takes that connection and reads the 10 bytes.
    let topo = two_hosts();
    let (mut a, l, _) = server();
    let s = a.accept(l, "10.0.0.2:52734");
    let read = a.recv(s, b"GET /capi\n");
    let mut b = Script::new(1);
    let c = b.tcp();
    let send = fastopen_sendto(&mut b, c, "10.0.0.1:80", Outcome::ok(10));
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 3));
    assert_eq!(w.upto(send), Verdict::Accept);
    assert_eq!(w.upto(read), Verdict::Accept);
    assert_eq!(w.model.connections_made(), 1);
    let out = w.finish();
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
}

/// Exim's delivery (coord/exim-healthy--yy, server.trace:1371): `sendto(7<TCP:[64916]>, NULL,
/// 0, MSG_DONTWAIT|MSG_FASTOPEN, {... htons(2525), inet_addr("10.100.2.2")}, 16) = -1
/// EINPROGRESS` on a blocking socket. The call's MSG_DONTWAIT makes the connect nonblocking;
/// without it the same EINPROGRESS on a blocking socket is unexpected.
#[test]
fn a_fast_open_sendto_with_msg_dontwait_may_return_einprogress() {
    for dontwait in [true, false] {
        let topo = two_hosts();
        let (a, _, listen) = server();
        let mut b = Script::new(1);
        let c = b.tcp();
        let send = b.call(
            Syscall::Send {
                fd: c,
                data: Payload::default(),
                flags: MsgFlags {
                    fastopen: true,
                    dontwait,
                    ..MsgFlags::default()
                },
                dest: Some(SockAddr::Inet(addr("10.0.0.1:80"))),
                passed_fds: Vec::new(),
            },
            Outcome::failed(Errno::EINPROGRESS),
        );
        let mut w = World::new(&topo, vec![a, b]);
        w.upto(listen);
        let verdict = w.upto(send);
        if dontwait {
            assert_eq!(verdict, Verdict::Accept);
        } else {
            assert_eq!(kind(&verdict), Some(&DeviationKind::UnexpectedBlocking));
        }
    }
}

#[test]
fn a_refused_fast_open_sendto_is_a_refused_connect() {
    // capi/tfo-refused--plain, client.trace:32: `sendto(3, "GET /capi\n", 10, MSG_FASTOPEN,
    // {... htons(7601) ...}, 16) = -1 ECONNREFUSED`.
    let topo = two_hosts();
    let (a, _, listen) = server();
    let mut b = Script::new(1);
    let c = b.tcp();
    let send = fastopen_sendto(
        &mut b,
        c,
        "10.0.0.1:81",
        Outcome::failed(Errno::ECONNREFUSED),
    );
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert!(matches!(
        kind(&w.upto(send)),
        Some(DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            ..
        })
    ));
}

#[test]
fn a_fast_open_flag_on_a_connected_socket_is_an_ordinary_send() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let read = a.recv(s, b"GET /capi\n");
    let send = fastopen_sendto(&mut b, c, "10.0.0.1:80", Outcome::ok(10));
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(send), Verdict::Accept);
    assert_eq!(w.upto(read), Verdict::Accept);
}

#[test]
fn a_deferred_fast_open_connect_fails_on_its_first_write() {
    // capi/tfoc-refused--plain, client.trace:31-33: setsockopt(TCP_FASTOPEN_CONNECT, [1]),
    // connect(... htons(7601) ...) = 0, then write(...) = -1 ECONNREFUSED: the connect returned
    // before its SYN, which went out with the write.
    let topo = two_hosts();
    let (a, _, listen) = server();
    let mut b = Script::new(1);
    let c = b.tcp();
    b.setsockopt(c, "SOL_TCP", "TCP_FASTOPEN_CONNECT", OptValue::Int(1));
    let connect = b.connect(c, "10.0.0.1:81");
    let write = b.send_fails(c, b"GET /capi\n", Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    assert_eq!(w.upto(connect), Verdict::Accept);
    assert!(matches!(
        kind(&w.upto(write)),
        Some(DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            ..
        })
    ));
}

#[test]
fn a_deferred_fast_open_connect_completes_with_its_first_write() {
    // capi/tfoc-healthy--plain: connect = 0, write = 10, and the server reads the request.
    let topo = two_hosts();
    let (mut a, l, _) = server();
    let s = a.accept(l, "10.0.0.2:40000");
    let read = a.recv(s, b"GET /capi\n");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.setsockopt(c, "SOL_TCP", "TCP_FASTOPEN_CONNECT", OptValue::Int(1));
    b.connect(c, "10.0.0.1:80");
    let write = b.send(c, b"GET /capi\n");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 3));
    assert_eq!(w.upto(write), Verdict::Accept);
    assert_eq!(w.upto(read), Verdict::Accept);
    let out = w.finish();
    assert!(
        out.pending_connects.is_empty(),
        "{:?}",
        out.pending_connects
    );
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
}

#[test]
fn connect_af_unspec_on_tcp_resets_the_connection() {
    // capi/tunspec--plain: the client writes its request, then
    // `connect(3<TCP:[10.88.0.2:...->10.88.0.1:7600]>, {sa_family=AF_UNSPEC, ...}, 16) = 0`;
    // the server, which had read the request, gets `recvfrom(...) = -1 ECONNRESET`.
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let request = b.send(c, b"GET /capi\n");
    let dissolve = b.call(
        Syscall::Connect {
            fd: c,
            addr: SockAddr::Unspec,
        },
        Outcome::ok(0),
    );
    let read = a.recv(s, b"GET /capi\n");
    let reset = a.recv_fails(s, Errno::ECONNRESET);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(request), Verdict::Accept);
    assert_eq!(w.upto(read), Verdict::Accept);
    assert_eq!(w.upto(dissolve), Verdict::Accept);
    match w.upto(reset) {
        Verdict::Deviation(d) => {
            assert_eq!(d.kind, DeviationKind::ConnectionReset);
            assert!(d.detail.contains("abortively"), "{}", d.detail);
            assert_eq!(d.related, vec![dissolve]);
        }
        other => panic!("{other:?}"),
    }
}
