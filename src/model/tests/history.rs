//! What the outcome keeps for the refused-connect rules (listening periods, failed connects'
//! times), path errors towards addresses of no host, broadcasts, and strangers that reached a
//! server.

use super::*;

#[test]
fn listening_periods_and_failed_connect_times_are_kept() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen(l);
    a.at(10.0);
    let close = a.close(l);
    a.at(12.0);
    let mut b = Script::new(1);
    let c = b.tcp();
    let refused = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::ECONNREFUSED).at(11.0);
    if let Some(ev) = b.last() {
        ev.call.duration = Some(0.5);
    }
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(refused);
    w.upto(close);
    let outcome = w.finish();
    let [record] = outcome.listeners.as_slice() else {
        panic!("{:?}", outcome.listeners);
    };
    assert_eq!(record.sock, addr_sock(0, 0));
    assert_eq!(record.local, addr("10.0.0.1:80"));
    assert_eq!(
        (record.listen.loc, record.listen.start),
        (listen, Some(10.0))
    );
    assert_eq!(
        record.close.map(|c| (c.loc, c.start)),
        Some((close, Some(12.0)))
    );
    let [span] = outcome.failed_connect_spans.as_slice() else {
        panic!("{:?}", outcome.failed_connect_spans);
    };
    assert_eq!(
        (span.loc, span.start, span.end),
        (refused, Some(11.0), Some(11.5))
    );
}

#[test]
fn a_repeated_listen_keeps_one_period_and_v6only_is_recorded() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = a.tcp6();
    a.setsockopt(l, "SOL_IPV6", "IPV6_V6ONLY", OptValue::Int(1));
    a.bind(l, "[::]:80");
    a.listen(l);
    let again = a.listen(l);
    let mut w = World::new(&topo, vec![a]);
    w.upto(again);
    let outcome = w.finish();
    assert_eq!(outcome.listeners.len(), 1);
    assert!(outcome.listeners[0].v6only);
    assert_eq!(outcome.listeners[0].close, None);
}

#[test]
fn a_path_error_towards_an_address_of_no_host_is_a_failed_connect() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let c = b.tcp();
    let unreachable = b.connect(c, "10.0.0.99:7000");
    b.fails(Errno::EHOSTUNREACH);
    let d = b.tcp();
    let refused = b.connect(d, "10.0.0.99:7000");
    b.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    match kind(&w.upto(unreachable)) {
        Some(DeviationKind::ConnectFailed {
            errno,
            target,
            listener,
        }) => {
            assert_eq!(*errno, Errno::EHOSTUNREACH);
            assert_eq!(*target, addr("10.0.0.99:7000"));
            assert_eq!(*listener, None);
        }
        other => panic!("{other:?}"),
    }
    // A refusal is the answer of the host that owns the address (HAProxy's health check of a
    // backend that is down, apps/ha-backend-down/haproxy.trace:597).
    match kind(&w.upto(refused)) {
        Some(DeviationKind::ConnectFailed {
            errno, listener, ..
        }) => {
            assert_eq!(*errno, Errno::ECONNREFUSED);
            assert_eq!(*listener, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn eacces_without_so_broadcast_is_a_broadcast_whatever_the_address() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let s = b.udp();
    let subnet = b.sendto(s, b"hello", "10.0.0.255:7703");
    b.fails(Errno::EACCES);
    let limited = b.sendto(s, b"hello", "255.255.255.255:7703");
    b.fails(Errno::EACCES);
    let other = b.sendto(s, b"hello", "192.0.2.255:7703");
    b.fails(Errno::EACCES);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    let mut details = Vec::new();
    for loc in [subnet, limited, other] {
        match w.upto(loc) {
            Verdict::Deviation(d) if d.kind == DeviationKind::BroadcastNotPermitted => {
                details.push(d.detail)
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(details[0].contains("/24"), "{}", details[0]);
    assert!(details[1].contains("limited broadcast"), "{}", details[1]);
    assert!(details[2].contains("only sign"), "{}", details[2]);
    // Broadcast destinations are nobody's address, but no unknown peers either.
    assert!(w.finish().activity[1].unknown_peers.is_empty());
}

#[test]
fn a_directed_broadcast_reaches_receivers_on_the_subnet() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "0.0.0.0:7703");
    let got = a.recvfrom(r, b"hello", "10.0.0.2:5000");
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:5000");
    b.setsockopt(s, "SOL_SOCKET", "SO_BROADCAST", OptValue::Int(1));
    let sent = b.sendto(s, b"hello", "10.0.0.255:7703");
    let mut w = World::new(&topo, vec![a, b]);
    assert_eq!(w.upto(sent), Verdict::Accept);
    assert_eq!(w.upto(got), Verdict::Accept);
    let outcome = w.finish();
    assert!(outcome.activity[1].unknown_peers.is_empty());
    assert_eq!(outcome.udp[0].receivers, vec![addr_sock(0, 0)]);
}

#[test]
fn a_stranger_accepted_by_a_server_is_inbound() {
    let topo = two_hosts();
    let (mut a, l, _) = server();
    let accepted = a.accept(l, "203.0.113.7:40000");
    a.send(accepted, b"hi");
    let mut b = Script::new(1);
    let c = b.tcp();
    let dialled = b.connect(c, "198.51.100.1:80");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 5));
    w.upto(dialled);
    let outcome = w.finish();
    assert_eq!(
        outcome.activity[0].inbound_unknown_peers,
        vec![addr("203.0.113.7:40000")]
    );
    assert_eq!(outcome.activity[0].unknown_peer_calls.len(), 1);
    assert!(outcome.activity[1].inbound_unknown_peers.is_empty());
    assert_eq!(outcome.activity[1].unknown_peer_calls, vec![dialled]);
}
