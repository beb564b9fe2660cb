//! Connects that reach a listener whose accept queue is full (`tcp/accept_queue.rs`).

use super::*;

/// lighttpd with `server.listen-backlog = 1` (apps/lighty-backlog-full): `listen(3, 1)`, one
/// connection accepted and held, then three more connects while it is served. Linux queues
/// two (more than the backlog of 1 makes the queue full) and drops the third one's SYN.
fn three_connects_behind_one(backlog: i64) -> (ReplayOutcome, Vec<Loc>) {
    let topo = topology(&[
        &["10.0.0.1"],
        &["10.0.0.2"],
        &["10.0.0.3"],
        &["10.0.0.4"],
        &["10.0.0.5"],
    ]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen_backlog(l, backlog);
    let accept1 = a.next_loc();
    a.accept(l, "10.0.0.2:38850");
    let mut scripts = vec![a];
    let mut connects = Vec::new();
    for n in 1..=4u32 {
        let mut c = Script::new(n);
        let fd = c.tcp();
        connects.push(c.connect(fd, "10.0.0.1:80"));
        scripts.push(c);
    }
    let mut w = World::new(&topo, scripts);
    w.upto(listen);
    w.upto(connects[0]);
    w.upto(accept1);
    for at in &connects[1..] {
        w.upto(*at);
    }
    (w.finish(), connects)
}

#[test]
fn a_connect_past_the_backlog_finds_the_queue_full() {
    let (out, connects) = three_connects_behind_one(1);
    let [full] = out.full_queue_connects.as_slice() else {
        panic!("{:?}", out.full_queue_connects)
    };
    assert_eq!(full.connect, connects[3]);
    assert_eq!((full.queued, full.backlog), (2, 1));
}

#[test]
fn a_queue_within_its_backlog_drops_nothing() {
    // nginx's `listen(6, 511)`: three waiting connections are nowhere near the limit.
    let (out, _) = three_connects_behind_one(511);
    assert!(
        out.full_queue_connects.is_empty(),
        "{:?}",
        out.full_queue_connects
    );
}
