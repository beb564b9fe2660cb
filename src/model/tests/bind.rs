//! bind conflicts.

use super::*;

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

#[test]
fn udp_sockets_bound_to_loopback_are_kept_once_per_address() {
    // named with `listen-on { 127.0.0.1; }`: its UDP socket bound to 127.0.0.1:53, closed and
    // bound again on a reload; a resolver binding one ephemeral wildcard socket per query adds
    // nothing.
    let topo = one_host(&["10.0.0.1"], 1);
    let mut a = Script::new(0);
    let served = a.udp();
    a.bind(served, "127.0.0.1:53");
    a.close(served);
    let again = a.udp();
    a.bind(again, "127.0.0.1:53");
    let v6 = a.udp6();
    a.bind(v6, "[::1]:53");
    let query = a.udp();
    a.bind(query, "0.0.0.0:0");
    let tcp = a.tcp();
    let last = a.bind(tcp, "127.0.0.1:953");
    let mut w = World::new(&topo, vec![a]);
    w.upto(last);
    let outcome = w.finish();
    let binds: Vec<(TraceId, SocketAddr)> = outcome
        .loopback_udp_binds
        .iter()
        .map(|b| (b.sock.trace, b.local))
        .collect();
    assert_eq!(
        binds,
        vec![
            (TraceId(0), addr("127.0.0.1:53")),
            (TraceId(0), addr("[::1]:53"))
        ]
    );
}

/// lab/udp-partial-loss--perl--ruby--record/server.trace:128-130: Ruby's UDPSocket#bind asks
/// getsockname first, which an unbound socket answers with 0.0.0.0:0, then binds 10.77.1.10:7101.
/// Port 0 says nothing was chosen yet: the bind is the socket's first.
#[test]
fn getsockname_of_an_unbound_socket_does_not_bind_it() {
    let topo = topology(&[&["10.77.1.10"]]);
    let mut a = Script::new(0);
    let u = a.udp();
    let ask = a.getsockname(u, "0.0.0.0:0");
    let bind = a.bind(u, "10.77.1.10:7101");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(ask), Verdict::Accept);
    assert_eq!(w.upto(bind), Verdict::Accept);
}
