//! Listeners opened before their trace began (`strace -p`): fold announces them with synthetic
//! socket and listen calls and no port; their first accepted connection tells the port.

use super::*;
use crate::fold::SyntheticReason;

/// A listener the trace never showed created, announced where an accept revealed it.
fn adopted_listener(a: &mut Script) -> Fd {
    let fd = a.tcp();
    mark_adopted(a);
    a.listen(fd);
    mark_adopted(a);
    fd
}

fn mark_adopted(a: &mut Script) {
    if let Some(ev) = a.last() {
        ev.synthetic = Some(SyntheticReason::Adopted);
    }
}

fn three_hosts() -> Topology {
    topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]])
}

#[test]
fn listeners_of_unknown_port_learn_it_from_the_connections_they_accept() {
    let topo = three_hosts();
    // nginx's worker, attached: two listeners (8080 and 80), neither shows its port.
    let mut a = Script::new(0);
    let port_8080 = adopted_listener(&mut a);
    let port_80 = adopted_listener(&mut a);
    let first = a.accept(port_8080, "10.0.0.2:40000");
    a.close(first);
    let second = a.accept(port_80, "10.0.0.3:40001");
    a.close(second);
    let mut b = Script::new(1);
    let c1 = b.tcp();
    b.connect(c1, "10.0.0.1:8080");
    b.close(c1);
    let mut c = Script::new(2);
    let c2 = c.tcp();
    c.connect(c2, "10.0.0.1:80");
    c.close(c2);
    let mut w = World::new(&topo, vec![a, b, c]);
    w.upto(Loc::new(TraceId(0), 4));
    // Both connects come before any accept: nothing tells the two listeners apart yet.
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(Loc::new(TraceId(2), 2));
    assert_eq!(w.upto(Loc::new(TraceId(0), 5)), Verdict::Accept);
    assert_eq!(w.upto(Loc::new(TraceId(0), 7)), Verdict::Accept);
    w.upto(Loc::new(TraceId(0), 8));
    w.upto(Loc::new(TraceId(1), 3));
    w.upto(Loc::new(TraceId(2), 3));
    let outcome = w.finish();
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
    let mut ports: Vec<u16> = outcome.listeners.iter().map(|l| l.local.port()).collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![80, 8080]);
    assert!(
        outcome.listeners.iter().all(|l| l.listen.start.is_none()),
        "when they began listening is unknown"
    );
    for conn in &outcome.tcp {
        assert!(conn.server.is_some(), "{conn:?}");
    }
}

#[test]
fn a_listener_of_unknown_port_is_no_evidence_for_a_refused_connect() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    adopted_listener(&mut a);
    let mut b = Script::new(1);
    let c = b.tcp();
    let refused = b.connect(c, "10.0.0.1:8081");
    b.fails(Errno::ECONNREFUSED);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 2));
    match kind(&w.upto(refused)) {
        Some(DeviationKind::ConnectFailed { listener, .. }) => assert_eq!(*listener, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn once_its_port_is_known_a_listener_no_longer_takes_connects_to_other_ports() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let l = adopted_listener(&mut a);
    let s = a.accept(l, "10.0.0.2:40000");
    a.close(s);
    let mut b = Script::new(1);
    let first = b.tcp();
    b.connect(first, "10.0.0.1:80");
    b.close(first);
    let other = b.tcp();
    let to_other_port = b.connect(other, "10.0.0.1:81");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 2));
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(Loc::new(TraceId(0), 3));
    w.upto(Loc::new(TraceId(0), 4));
    w.upto(Loc::new(TraceId(1), 4));
    assert!(
        is_retry(&w.upto(to_other_port)),
        "port 81 has no traced listener: the connect waits for one"
    );
}

/// apps/maria-healthy-plain/server.trace:17-23: mariadbd, attached after start-up, accepts a
/// connection on descriptor 18 (which adopts it as a listener), then its next `accept4` returns
/// EAGAIN: the server made the listener nonblocking before the trace began. That is no socket
/// in blocking mode giving up.
#[test]
fn a_would_block_on_an_adopted_listener_is_its_own_nonblocking_mode() {
    let topo = topology(&[&["10.78.1.10"], &["10.78.1.21"]]);
    let mut a = Script::new(0);
    let l = adopted_listener(&mut a);
    let conn = a.accept(l, "10.78.1.21:45856");
    let again = a.accept_fails(l, Errno::EAGAIN);
    a.close(conn);
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.78.1.10:3306");
    b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 2));
    w.upto(Loc::new(TraceId(1), 2));
    assert_eq!(w.upto(again), Verdict::Accept);
    let outcome = w.finish();
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
}

/// A socket the trace created in blocking mode still shows a would-block as a fault.
#[test]
fn a_would_block_on_a_listener_created_blocking_is_still_unexpected() {
    let topo = topology(&[&["10.78.1.10"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.78.1.10:3306");
    a.listen(l);
    let again = a.accept_fails(l, Errno::EAGAIN);
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(
        kind(&w.upto(again)),
        Some(&DeviationKind::UnexpectedBlocking)
    );
}

/// curl traced with `strace -f -tt -e trace=?connect,sendto` fetching from a server of its own
/// host that no trace shows: the connect's socket is adopted (its `socket` call filtered out),
/// the wait that reported it writable is not in the trace, and the send proves it connected.
const CURL_CONNECT_SENDTO_ONLY: &str = "\
27415 22:46:58.169844 connect(3, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT (No such file or directory)
27415 22:46:58.170682 connect(5, {sa_family=AF_INET, sin_port=htons(18080), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EINPROGRESS (Operation now in progress)
27415 22:46:58.171244 sendto(5, \"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:\"..., 79, MSG_NOSIGNAL, NULL, 0) = 79
27415 22:46:58.173138 +++ exited with 0 +++
";

#[test]
fn a_send_that_completes_a_connect_to_an_untraced_program_of_its_own_host_leaves_the_model() {
    let outcome = replay_texts(
        "curl-own-host",
        &[("client", "10.0.0.1", Some(CURL_CONNECT_SENDTO_ONLY))],
    );
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
    assert!(outcome.pending_connects.is_empty());
}
