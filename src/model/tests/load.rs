//! Listener load: how many connections the server held when it accepted each one, and where it
//! answered short (a limit that reads the request before refusing, like PostgreSQL's).

use super::*;
use crate::fold::SyntheticReason;

fn five_hosts() -> Topology {
    topology(&[
        &["10.0.0.1"],
        &["10.0.0.2"],
        &["10.0.0.3"],
        &["10.0.0.4"],
        &["10.0.0.5"],
    ])
}

/// Three clients held by the server, then a fourth whose request is read and answered short
/// before the server closes it; `killed`: the server's side of the fourth ends because the
/// process was killed, not by a close.
fn fourth_answered_short(killed: bool) -> ReplayOutcome {
    let topo = five_hosts();
    let (mut a, l, listen) = server();
    let mut clients = Vec::new();
    let mut accepts = Vec::new();
    for n in 1..=4u32 {
        let peer = format!("10.0.0.{}:4000{n}", n + 1);
        let at = a.next_loc();
        let s = a.accept(l, &peer);
        accepts.push((s, at));
        let mut c = Script::new(n);
        let fd = c.tcp();
        let connect = c.connect(fd, "10.0.0.1:80");
        clients.push((c, fd, connect));
    }
    let (s4, _) = accepts[3];
    a.recv(s4, b"startup");
    a.send(s4, b"FATAL: too many clients");
    let end = a.close(s4);
    if killed {
        if let Some(close) = a.last() {
            close.synthetic = Some(SyntheticReason::ProcessKilled);
        }
    }
    let Some((mut c4, fd4, connect4)) = clients.pop() else {
        unreachable!("four clients were built")
    };
    let request = c4.send(fd4, b"startup");
    let last = c4.recv(fd4, b"FATAL: too many clients");
    let connects: Vec<Loc> = clients.iter().map(|(_, _, at)| *at).collect();
    let mut scripts = vec![a];
    scripts.extend(clients.into_iter().map(|(c, _, _)| c));
    scripts.push(c4);
    let mut w = World::new(&topo, scripts);
    w.upto(listen);
    for (n, at) in connects.iter().chain([&connect4]).enumerate() {
        w.upto(*at);
        w.upto(accepts[n].1);
    }
    w.upto(request);
    w.upto(end);
    w.upto(last);
    w.finish()
}

#[test]
fn a_short_answer_at_the_most_connections_held_is_counted_there() {
    let out = fourth_answered_short(false);
    let [load] = out.listener_loads.as_slice() else {
        panic!("{:?}", out.listener_loads)
    };
    assert_eq!(load.most_open_at_accept, 3);
    assert_eq!(load.fewest_open_at_short, Some(3));
    assert!(load.short_only_at_ceiling(2));
}

#[test]
fn a_server_killed_by_a_signal_did_not_close_by_choice() {
    let out = fourth_answered_short(true);
    let [load] = out.listener_loads.as_slice() else {
        panic!("{:?}", out.listener_loads)
    };
    assert_eq!(load.answered_short, 0);
}

/// One connection at a time (apps/lighty-backlog-wait, times of its traces): client1 fetches a
/// file; client2 connects at 9.607 while it is served, sends at once, and gets its answer at
/// 11.748; the server closes client1 at 10.75, accepts client2 at 11.746 and answers at 11.747.
/// `second_connects_at` moves client2's connect (and request) after the close: clients one
/// after the other.
fn second_client_behind_first(second_connects_at: f64) -> ReplayOutcome {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
    let (mut a, l, listen) = server();
    let accept1 = a.next_loc();
    let first = a.accept(l, "10.0.0.2:40001");
    a.at(9.0);
    let recv1 = a.recv(first, b"GET /big");
    let send1 = a.send(first, b"HTTP/1.1 200 OK big");
    a.at(9.01);
    let close1 = a.close(first);
    a.at(10.75);
    let accept2 = a.next_loc();
    let second = a.accept(l, "10.0.0.3:40002");
    a.at(11.746);
    let recv2 = a.recv(second, b"GET /");
    let send2 = a.send(second, b"HTTP/1.1 200 OK");
    a.at(11.747);
    let mut c1 = Script::new(1);
    let fd1 = c1.tcp();
    let connect1 = c1.connect(fd1, "10.0.0.1:80");
    c1.at(8.99);
    let req1 = c1.send(fd1, b"GET /big");
    let got1 = c1.recv(fd1, b"HTTP/1.1 200 OK big");
    let mut c2 = Script::new(2);
    let fd2 = c2.tcp();
    let connect2 = c2.connect(fd2, "10.0.0.1:80");
    c2.at(second_connects_at);
    let req2 = c2.send(fd2, b"GET /");
    c2.at(second_connects_at + 0.001);
    let got2 = c2.recv(fd2, b"HTTP/1.1 200 OK");
    c2.at(11.748);
    let mut w = World::new(&topo, vec![a, c1, c2]);
    // The server's trace runs ahead of client2's, as the replay may run it: its close of the
    // first connection is placed before client2's connect.
    for at in [
        listen, connect1, accept1, req1, recv1, send1, got1, close1, connect2, req2, accept2,
        recv2, send2, got2,
    ] {
        w.upto(at);
    }
    w.finish()
}

#[test]
fn a_connection_queued_behind_another_waits_what_its_client_saw_beyond_the_answer() {
    let out = second_client_behind_first(9.607);
    let waits: Vec<Option<f64>> = out.tcp.iter().map(|c| c.queue_wait).collect();
    let second = waits.iter().flatten().next().copied().unwrap_or_default();
    // 11.748 - 9.608 (the client's wait) less 11.747 - 11.746 (the server's handling).
    assert!((second - 2.139).abs() < 0.001, "{waits:?}");
    assert_eq!(waits.iter().flatten().count(), 1, "{waits:?}");
}

#[test]
fn a_client_that_connects_after_the_close_waited_in_no_queue() {
    let out = second_client_behind_first(11.7);
    assert!(
        out.tcp.iter().all(|c| c.queue_wait.is_none()),
        "{:?}",
        out.tcp
    );
}
