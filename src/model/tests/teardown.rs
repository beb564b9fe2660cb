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

/// apps/maria-replication-healthy/replica.trace:1238-1252: the stopping replica shuts its
/// connection to the primary down both ways (`shutdown(48, SHUT_RDWR)`, from another thread),
/// and its I/O thread's receives then return 0 at once although the primary never closed; the
/// primary's next heartbeat (server.trace:1055) arrives after that and is never read. Linux
/// answers a receive with the end of the stream once the socket's own reading is shut down; what
/// the primary sent after it, the replica chose not to read.
#[test]
fn end_of_stream_after_the_receivers_own_shut_down_of_reading() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let shut = b.shutdown(c, 2);
    let eof = b.recv_eof(c);
    b.recv_eof(c);
    b.close(c);
    let heartbeat = a.send(s, &[b'*'; 46]);
    a.close(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(shut), Verdict::Accept);
    assert_eq!(
        w.upto(eof),
        Verdict::Accept,
        "no wait for the primary's close"
    );
    w.upto(heartbeat);
    let out = w.finish();
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
    let to_replica = &out.tcp[0].to_client;
    assert_eq!(to_replica.stats.shut_by_receiver.map(|s| s.sent), Some(0));
    assert_eq!(to_replica.unreceived(), 46);
}

/// lab/tcp-data-dropped--curl--socat--record: curl's request (client.trace:175) is dropped on
/// the way; socat, stopped 3 s later, shuts the connection down both ways (server.trace:97).
/// The request was sent before that shutdown: it stays bytes that never arrived.
#[test]
fn bytes_sent_before_the_receivers_shut_down_of_reading_still_count_as_unreceived() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let request = b.send(c, b"GET /dropped-request HTTP/1.1\r\n\r\n");
    let shut = a.shutdown(s, 2);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(request);
    w.upto(shut);
    let out = w.finish();
    let to_server = &out.tcp[0].to_server;
    assert_eq!(to_server.stats.shut_by_receiver.map(|s| s.sent), Some(33));
    assert_eq!(to_server.unreceived(), 33);
}
