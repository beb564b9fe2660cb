//! Shutting a connection down, and option probes that Linux refuses.

use super::*;

#[test]
fn shutdown_enotconn_waits_until_the_connection_is_gone() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let server_shut = a.shutdown(s, 1);
    let client_shut = b.shutdown(c, 1);
    let late = b.shutdown(c, 2);
    b.fails(Errno::ENOTCONN);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(client_shut);
    assert!(
        is_retry(&w.upto(late)),
        "only the client has shut down: the connection still exists"
    );
    assert_eq!(w.upto(server_shut), Verdict::Accept);
    assert_eq!(w.upto(late), Verdict::Accept, "FIN both ways: ENOTCONN");
}

#[test]
fn shutdown_enotconn_is_consistent_after_the_peer_closed() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let close = a.close(s);
    let shut = b.shutdown(c, 2);
    b.fails(Errno::ENOTCONN);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(shut)));
    w.upto(close);
    assert_eq!(w.upto(shut), Verdict::Accept);
}

#[test]
fn an_ipv6_option_refused_on_an_ipv4_socket_is_expected() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let v4 = a.tcp();
    let probe = a.setsockopt(v4, "SOL_IPV6", "IPV6_V6ONLY", OptValue::Int(0));
    a.fails(Errno::ENOPROTOOPT);
    let v6 = a.tcp6();
    let real = a.setsockopt(v6, "SOL_IPV6", "IPV6_V6ONLY", OptValue::Int(0));
    a.fails(Errno::ENOPROTOOPT);
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(probe), Verdict::Accept);
    assert!(
        kind(&w.upto(real)).is_some(),
        "an IPv6 socket knows IPV6_V6ONLY: the failure is a deviation"
    );
}
