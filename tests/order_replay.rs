//! Ordering: whole traces replayed through `order::replay`.

use std::cell::Cell;
use std::rc::Rc;

use netcheck::config::Topology;
use netcheck::fold::{ProgramContext, SocketEvent};
use netcheck::model::{DeviationKind, ReplayOutcome, Verdict};
use netcheck::order::{replay, Step};
use netcheck::parse::Errno;
use netcheck::source::{Loc, TraceId};
use netcheck::testkit::script::{nothing, readable, topology, Script};

/// A placed step as the tests keep it (a [`Step`] borrows its event for the call only).
struct Placed {
    position: u64,
    loc: Loc,
    call: String,
    verdict: Verdict,
}

fn run(topo: &Topology, scripts: Vec<Script>) -> (Vec<Placed>, ReplayOutcome) {
    let traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = scripts
        .into_iter()
        .map(|s| Box::new(s.events().into_iter()) as Box<dyn Iterator<Item = SocketEvent>>)
        .collect();
    let mut steps = Vec::new();
    let outcome = replay(topo, traces, &mut |s: &Step| {
        steps.push(Placed {
            position: s.position,
            loc: s.loc,
            call: s.call(),
            verdict: s.verdict.clone(),
        })
    });
    (steps, outcome)
}

fn position_of(steps: &[Placed], loc: Loc) -> u64 {
    steps
        .iter()
        .find(|s| s.loc == loc)
        .map(|s| s.position)
        .unwrap_or_else(|| panic!("{loc:?} never placed"))
}

/// An HTTP-like exchange: server listens, accepts, reads a request, answers, reads EOF, closes.
fn http_exchange() -> (Vec<Script>, Loc, Loc, Loc) {
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    a.recv(s, b"GET / HTTP/1.0\r\n\r\n");
    a.send(s, b"HTTP/1.0 200 OK\r\n\r\nhello");
    let eof = a.recv_eof(s);
    a.close(s);
    a.close(l);
    let mut b = Script::new(1);
    let c = b.tcp();
    let connect = b.connect(c, "10.0.0.1:80");
    b.send(c, b"GET / HTTP/1.0\r\n\r\n");
    b.recv(c, b"HTTP/1.0 200 OK\r\n\r\nhello");
    b.close(c);
    (vec![a, b], listen, connect, eof)
}

#[test]
fn a_request_and_answer_are_ordered_completely() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let (scripts, listen, connect, eof) = http_exchange();
    let total: usize = scripts.iter().map(Script::len).sum();
    let (steps, out) = run(&topo, scripts);
    assert_eq!(steps.len(), total);
    assert_eq!(out.ordered_calls, total as u64);
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
    assert!(out.blocked.is_empty());
    assert!(position_of(&steps, listen) < position_of(&steps, connect));
    let client_close = Loc::new(TraceId(1), 5);
    assert!(position_of(&steps, client_close) < position_of(&steps, eof));
    assert!(steps.iter().all(|s| s.verdict == Verdict::Accept));
    assert_eq!(out.tcp.len(), 1);
    assert_eq!(out.tcp[0].to_client.stats.received, 24);
    assert!(!out.used_timestamps);
}

#[test]
fn the_same_input_gives_the_same_order() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let (first, _) = run(&topo, http_exchange().0);
    let (second, _) = run(&topo, http_exchange().0);
    let key = |s: &Placed| {
        (
            s.position,
            s.loc,
            s.call.clone(),
            format!("{:?}", s.verdict),
        )
    };
    assert_eq!(
        first.iter().map(key).collect::<Vec<_>>(),
        second.iter().map(key).collect::<Vec<_>>()
    );
}

#[test]
fn a_refused_connect_is_placed_before_the_listen() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen(l);
    let mut b = Script::new(1);
    let c = b.tcp();
    let refused = b.connect(c, "10.0.0.1:80");
    b.fails(Errno::ECONNREFUSED);
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(position_of(&steps, refused) < position_of(&steps, listen));
    assert_eq!(out.deviations.len(), 1);
    assert!(matches!(
        out.deviations[0].kind,
        DeviationKind::ConnectFailed { listener: None, .. }
    ));
}

#[test]
fn an_accept_no_traced_connect_supplies_is_forced_after_blocking() {
    // Host C (10.0.0.3) is declared and traced but never connects: the accepted peer is unknown.
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"], &["10.0.0.3"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let accept = a.next_loc();
    let s = a.accept(l, "10.0.0.3:5555");
    let recv = a.recv(s, b"hello");
    let mut c = Script::new(2);
    let u = c.udp();
    c.close(u);
    let (steps, out) = run(&topo, vec![a, Script::new(1), c]);
    assert_eq!(out.blocked.len(), 1);
    assert_eq!(out.blocked[0].forced, Some(accept));
    assert_eq!(out.blocked[0].heads.len(), 1);
    assert!(matches!(
        out.deviations[0].kind,
        DeviationKind::AcceptFromUnknownPeer { .. }
    ));
    // The rest of the trace goes on: the accepted socket's traffic is outside the model.
    let recv_step = steps.iter().find(|s| s.loc == recv).unwrap();
    assert_eq!(recv_step.verdict, Verdict::NotModelled);
}

#[test]
fn a_blocked_point_does_not_hide_later_findings() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    a.recv(s, b"never sent");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    let d = b.tcp();
    let refused = b.connect(d, "10.0.0.1:81");
    b.fails(Errno::ECONNREFUSED);
    let (_, out) = run(&topo, vec![a, b]);
    assert_eq!(out.blocked.len(), 1);
    assert!(out
        .deviations
        .iter()
        .any(|d| d.kind == DeviationKind::UnknownData));
    assert!(out.deviations.iter().any(|d| d.loc == refused));
}

#[test]
fn timestamps_break_ties_between_equal_priorities_only() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    a.udp();
    a.at(20.0);
    let mut b = Script::new(1);
    b.udp();
    b.at(10.0);
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(out.used_timestamps);
    assert_eq!(steps[0].loc.trace, TraceId(1), "earlier timestamp first");

    // Without timestamps, trace order decides.
    let mut a = Script::new(0);
    a.udp();
    let mut b = Script::new(1);
    b.udp();
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(!out.used_timestamps);
    assert_eq!(steps[0].loc.trace, TraceId(0));
}

#[test]
fn heads_are_pulled_lazily() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let (scripts, ..) = http_exchange();
    let pulled = Rc::new(Cell::new(0u64));
    let traces: Vec<Box<dyn Iterator<Item = SocketEvent>>> = scripts
        .into_iter()
        .map(|s| {
            let pulled = Rc::clone(&pulled);
            Box::new(s.events().into_iter().inspect(move |_| {
                pulled.set(pulled.get() + 1);
            })) as Box<dyn Iterator<Item = SocketEvent>>
        })
        .collect();
    let mut worst_lead = 0;
    replay(&topo, traces, &mut |s: &Step| {
        worst_lead = worst_lead.max(pulled.get() - s.position);
    });
    assert!(
        worst_lead <= 2,
        "at most one head per trace ahead, saw {worst_lead}"
    );
}

#[test]
fn a_nonblocking_client_with_poll_is_ordered_without_deviation() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    a.recv(s, b"ping");
    a.send(s, b"pong");
    a.close(s);
    let mut b = Script::new(1);
    let c = b.tcp_nonblocking();
    b.connect(c, "10.0.0.1:80");
    b.fails(Errno::EINPROGRESS);
    b.poll(
        c,
        netcheck::testkit::script::writable(),
        netcheck::testkit::script::writable(),
    );
    b.getsockopt_so_error(c, 0);
    b.send(c, b"ping");
    b.poll(
        c,
        netcheck::testkit::script::readable(),
        netcheck::testkit::script::readable(),
    );
    b.recv(c, b"pong");
    b.close(c);
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
    assert!(out.blocked.is_empty());
    assert_eq!(steps.len() as u64, out.ordered_calls);
}

#[test]
fn a_forced_wait_is_recorded_as_forced() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    let poll = a.poll(
        s,
        netcheck::testkit::script::readable(),
        netcheck::testkit::script::readable(),
    );
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    let (_, out) = run(&topo, vec![a, b]);
    assert_eq!(out.blocked.len(), 1);
    assert_eq!(out.blocked[0].forced, Some(poll));
    assert_eq!(out.deviations.len(), 1);
    assert_eq!(out.deviations[0].kind, DeviationKind::Forced);
    assert!(out.deviations[0].detail.contains("readable"));
}

/// socat's child blocked in `pselect6` until it was killed (`= ? ERESTARTNOHAND`): the wait
/// never returned, so it waited for everything the client did, and the request the client sent
/// is a byte the server waited for and never got.
#[test]
fn a_wait_that_never_returned_is_placed_after_what_the_peer_could_still_do() {
    use netcheck::parse::{Outcome, Syscall, WaitFd};
    use netcheck::testkit::script::{nothing, readable};
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    let wait = a.call(
        Syscall::Wait {
            fds: vec![WaitFd {
                fd: s,
                wanted: readable(),
                got: nothing(),
            }],
            timeout_ms: None,
            epoll_fd: None,
        },
        Outcome {
            value: None,
            errno: Some(Errno::ERESTARTNOHAND),
        },
    );
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    let request = b.send(c, b"GET /dropped HTTP/1.1\r\n\r\n");
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(position_of(&steps, request) < position_of(&steps, wait));
    let missed: Vec<&DeviationKind> = out.deviations.iter().map(|d| &d.kind).collect();
    assert_eq!(missed, [&DeviationKind::PollMissedData]);
}

#[test]
fn an_accept_from_the_servers_own_host_is_an_untraced_neighbour_not_a_gap() {
    // A trace shows one program, not its whole host: redis-cli health checks run beside a
    // traced redis-server (apps/redis-healthy, replica.trace:362:
    // `accept4(6<TCP:[10.78.1.11:6379]>, {sa_family=AF_INET, sin_port=htons(53040),
    // sin_addr=inet_addr("10.78.1.11")}, [128 => 16], SOCK_CLOEXEC|SOCK_NONBLOCK) = 8<...>`).
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:6379");
    a.listen(l);
    let local = a.accept(l, "10.0.0.1:53040");
    let recv = a.recv(local, b"PING\r\n");
    a.close(local);
    let lo = a.accept(l, "127.0.0.1:40000");
    a.close(lo);
    let (steps, out) = run(&topo, vec![a, Script::new(1)]);
    assert!(out.blocked.is_empty(), "{:?}", out.blocked);
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
    let recv_step = steps.iter().find(|s| s.loc == recv).unwrap();
    assert_eq!(recv_step.verdict, Verdict::NotModelled);
}

#[test]
fn a_connect_to_an_untraced_service_of_the_clients_own_host_is_no_gap() {
    // A local database or cache the config does not list: its program is not traced.
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "127.0.0.1:5432");
    a.send(c, b"query");
    let answer = a.recv(c, b"rows");
    a.close(c);
    let d = a.tcp();
    a.connect(d, "10.0.0.1:6379");
    a.close(d);
    let (steps, out) = run(&topo, vec![a, Script::new(1)]);
    assert!(out.blocked.is_empty(), "{:?}", out.blocked);
    assert!(out.deviations.is_empty(), "{:?}", out.deviations);
    let step = steps.iter().find(|s| s.loc == answer).unwrap();
    assert_eq!(step.verdict, Verdict::NotModelled);
}

/// A server waits for a request a firewall dropped until Ctrl-C interrupts the wait (EINTR,
/// then SIGINT: tcp-data-dropped--go--go--ry); no clock orders it against the client's send.
/// It was still waiting when the program was asked to stop, so it is placed after the send,
/// and the model sees a wait that returned nothing while the request was there.
#[test]
fn a_wait_the_stop_request_interrupted_goes_after_what_the_peer_could_still_do() {
    let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:7501");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    let wait = a.poll(s, readable(), nothing());
    a.fails(Errno::EINTR);
    if let Some(ev) = a.last() {
        ev.context = ProgramContext::Stopping;
    }
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:7501");
    let send = b.send(c, b"dropped-request\n");
    let (steps, out) = run(&topo, vec![a, b]);
    assert!(position_of(&steps, send) < position_of(&steps, wait));
    assert!(out
        .deviations
        .iter()
        .any(|d| d.kind == DeviationKind::PollMissedData));
}
