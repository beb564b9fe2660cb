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
