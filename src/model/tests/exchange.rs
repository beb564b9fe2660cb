//! Requests to a traced peer: counted as unanswered only when the peer's program read them all
//! and sent nothing back (the dialogues of a resolver behind an access rule that drops, and of a
//! memcached UDP request without its frame header).

use super::*;

/// Client (host 1) asks the traced server (host 0) over UDP and waits in vain.
fn asked_and_waited() -> (Script, Fd, Loc, Loc, Loc) {
    let mut b = Script::new(1);
    let c = b.udp();
    b.bind(c, "10.0.0.2:6000");
    let request = b.sendto(c, b"query", "10.0.0.1:53");
    let waited = b.poll(c, readable(), nothing());
    let closed = b.close(c);
    (b, c, request, waited, closed)
}

fn listening_server() -> (Script, Fd) {
    let mut a = Script::new(0);
    let s = a.udp();
    a.bind(s, "10.0.0.1:53");
    (a, s)
}

#[test]
fn a_request_the_traced_peer_read_and_never_answered_is_unanswered() {
    let topo = two_hosts();
    let (mut a, s) = listening_server();
    let read = a.recvfrom(s, b"query", "10.0.0.2:6000");
    let (b, _, request, waited, closed) = asked_and_waited();
    let mut w = World::new(&topo, vec![a, b]);
    // The client gives up and closes before the server's read is replayed: the datagram
    // waits in the server's queue.
    w.upto(closed);
    assert_eq!(w.upto(read), Verdict::Accept);
    let out = w.finish();
    let [u] = out.unanswered_requests.as_slice() else {
        panic!("{:?}", out.unanswered_requests)
    };
    assert!(u.peer_traced);
    assert_eq!((u.answered, u.unanswered), (0, 1));
    assert_eq!((u.request, u.gave_up), (request, waited));
}

#[test]
fn a_request_the_traced_peer_never_read_is_left_to_the_loss_rules() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let s = a.udp();
    let bound = a.bind(s, "10.0.0.1:53");
    let (b, _, _, _, closed) = asked_and_waited();
    let mut w = World::new(&topo, vec![a, b]);
    // The server's socket held the port: what never reached it was lost on the way.
    w.upto(bound);
    w.upto(closed);
    assert!(w.finish().unanswered_requests.is_empty());
}

#[test]
fn an_answer_the_traced_peer_sent_and_that_was_lost_is_no_silence() {
    let topo = two_hosts();
    let (mut a, s) = listening_server();
    a.recvfrom(s, b"query", "10.0.0.2:6000");
    let answer = a.sendto(s, b"answer", "10.0.0.2:6000");
    let (b, _, _, _, closed) = asked_and_waited();
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(closed);
    w.upto(answer);
    assert!(w.finish().unanswered_requests.is_empty());
}

#[test]
fn a_request_read_only_in_part_was_lost_in_part() {
    let topo = two_hosts();
    let (mut a, s) = listening_server();
    let read = a.recvfrom(s, b"small", "10.0.0.2:6000");
    let mut b = Script::new(1);
    let c = b.udp();
    b.bind(c, "10.0.0.2:6000");
    b.sendto(c, b"small", "10.0.0.1:53");
    b.sendto(c, &[b'x'; 1400], "10.0.0.1:53");
    b.poll(c, readable(), nothing());
    let closed = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(closed);
    w.upto(read);
    assert!(w.finish().unanswered_requests.is_empty());
}

/// Go registers every socket it opens edge-triggered in its poller and sleeps in the same
/// epoll set: a timed-out wait there shows a program waiting for a socket's answer only once it
/// tried to receive on it (a pacing sender never does).
#[test]
fn an_edge_triggered_registration_alone_is_no_wait_for_an_answer() {
    use crate::parse::{Domain, EpollOp, Outcome, SockType, Syscall};
    let topo = two_hosts();
    let epfd = 50;
    let run = |try_to_read: bool| {
        let (mut a, s) = listening_server();
        let read = a.recvfrom(s, b"tick", "10.0.0.2:6000");
        let mut b = Script::new(1);
        let c = b.socket(Domain::Inet, SockType::Dgram, true);
        b.bind(c, "10.0.0.2:6000");
        let edge = Ready {
            read: true,
            write: true,
            edge_triggered: true,
            ..nothing()
        };
        b.call(
            Syscall::EpollCtl {
                epfd,
                op: EpollOp::Add,
                fd: c,
                wanted: edge,
            },
            Outcome::ok(0),
        );
        b.sendto(c, b"tick", "10.0.0.1:53");
        if try_to_read {
            b.recv_fails(c, Errno::EAGAIN);
        }
        b.call(
            Syscall::Wait {
                fds: Vec::new(),
                timeout_ms: Some(100),
                epoll_fd: Some(epfd),
            },
            Outcome::ok(0),
        );
        let closed = b.close(c);
        let mut w = World::new(&topo, vec![a, b]);
        w.upto(closed);
        w.upto(read);
        w.finish().unanswered_requests.len()
    };
    assert_eq!(run(false), 0, "a pacing sender asks nothing");
    assert_eq!(
        run(true),
        1,
        "a receiver that found nothing yet waits for the answer"
    );
}

/// Gives the last call of `script` a start time and a `-T` duration (its host's clock).
fn timed(script: &mut Script, start: f64, duration: f64) {
    if let Some(ev) = script.last() {
        ev.call.time = Some(start);
        ev.call.duration = Some(duration);
    }
}

/// The telnet echo under random loss: the client's poll blocks 0.21 s for an answer the server
/// wrote 1 ms after reading the line. The server's clock is far from the client's: only each
/// host's own durations count.
#[test]
fn a_round_trip_is_timed_on_each_host_s_own_clock() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    // The server waits for the first line on the connection it accepted: it looks from then on.
    a.poll(s, readable(), nothing());
    let mut lines = Vec::new();
    for (i, (client_wait, line)) in [(0.0015, &b"one"[..]), (0.2105, &b"two"[..])]
        .into_iter()
        .enumerate()
    {
        let t = 10.0 + i as f64;
        let server_t = 500.0 + i as f64;
        let send = b.send(c, line);
        timed(&mut b, t, 0.0001);
        b.poll(c, readable(), readable());
        timed(&mut b, t + 0.0002, client_wait);
        let recv = b.recv(c, line);
        timed(&mut b, t + 0.0003 + client_wait, 0.00001);
        let read = a.recv(s, line);
        timed(&mut a, server_t, 0.0001);
        let echo = a.send(s, line);
        timed(&mut a, server_t + 0.0011, 0.00002);
        lines.push((send, read, echo, recv));
    }
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(Loc::new(TraceId(0), 5));
    for (send, read, echo, recv) in &lines {
        w.upto(*send);
        w.upto(*read);
        w.upto(*echo);
        w.upto(*recv);
    }
    w.upto(close);
    let out = w.finish();
    let [r] = out.round_trips.as_slice() else {
        panic!("{:?}", out.round_trips)
    };
    assert_eq!(r.trips.count, 2);
    let slow: Vec<_> = r.trips.slower_by(0.2).collect();
    let [slow] = slow.as_slice() else {
        panic!("{:?}", r.trips)
    };
    // Sent until t + 0.0001, the poll that blocked ended at t + 0.2107: 0.2106 s waited, less
    // the server's 1 ms between the end of its read and its echo.
    assert!((slow.network - 0.2096).abs() < 1e-6, "{}", slow.network);
    assert_eq!(slow.request, lines[1].0);
}

/// Without `-T` (plain `strace -f -tt`), a receive's start bounds when its bytes arrived. curl's
/// keep-alive requests 18 and 19 to nginx under loss (apps/nginx-keepalive-loss-plain, times of
/// its traces): nginx's answer to 18 (sent at 36.254836) lost its body segment, which curl read
/// only at 36.519242, and request 19, sent at once, reached nginx's read at 36.726983 after a
/// second retransmission. Request 18 itself took 0.2 ms.
#[test]
fn a_round_trip_is_timed_from_the_starts_of_calls_without_durations() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    // nginx waits for the request on the connection it accepted: it looks for it from then on.
    a.poll(s, readable(), nothing());
    let req18 = b.send(c, b"GET /?n=18");
    b.at(36.254254);
    let read18 = a.recv(s, b"GET /?n=18");
    a.at(36.254457);
    let answer18 = a.send(s, b"HTTP/1.1 200 OK");
    a.at(36.254750);
    let body18 = a.send(s, b"hello");
    a.at(36.254836);
    let head = b.recv(c, b"HTTP/1.1 200 OK");
    b.at(36.255043);
    let body = b.recv(c, b"hello");
    b.at(36.519242);
    let req19 = b.send(c, b"GET /?n=19");
    b.at(36.519500);
    let read19 = a.recv(s, b"GET /?n=19");
    a.at(36.726983);
    let answer19 = a.send(s, b"HTTP/1.1 200 OK");
    a.at(36.727249);
    let got19 = b.recv(c, b"HTTP/1.1 200 OK");
    b.at(36.727600);
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(Loc::new(TraceId(0), 5));
    for at in [
        req18, read18, answer18, body18, head, body, req19, read19, answer19, got19, close,
    ] {
        w.upto(at);
    }
    let out = w.finish();
    let server = out
        .round_trips
        .iter()
        .find(|r| r.sock.trace == TraceId(0))
        .expect("the server's answers are timed against the next request");
    let [slow] = server.trips.slowest.as_slice() else {
        panic!("{:?}", server.trips)
    };
    // Sent at 36.254836, the next request read at 36.726983: 0.472147 s, less curl's own
    // 0.258 ms from reading the body to sending request 19.
    assert!((slow.network - 0.471889).abs() < 1e-6, "{}", slow.network);
    assert_eq!(slow.request, body18);
    let client = out
        .round_trips
        .iter()
        .find(|r| r.sock.trace == TraceId(1))
        .expect("the client's requests are timed");
    // Request 18: sent at 36.254254, the answer's first bytes read at 36.255043, less nginx's
    // 0.293 ms between reading the request and answering.
    assert!(
        client
            .trips
            .fastest
            .is_some_and(|f| (f - 0.000496).abs() < 1e-6),
        "{:?}",
        client.trips
    );
}

/// A request sent before the server accepted the connection waited in the backlog: its round
/// trip is not network time (a one-worker server busy with another client).
#[test]
fn a_request_sent_before_the_accept_is_not_timed() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send(c, b"GET");
    timed(&mut b, 10.0, 0.0001);
    b.poll(c, readable(), readable());
    timed(&mut b, 10.0002, 1.5);
    let recv = b.recv(c, b"200");
    timed(&mut b, 11.5003, 0.00001);
    let close = b.close(c);
    let read = a.recv(s, b"GET");
    timed(&mut a, 500.0, 0.0001);
    let answer = a.send(s, b"200");
    timed(&mut a, 500.001, 0.00002);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(0), 3));
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(send);
    w.upto(Loc::new(TraceId(0), 4));
    w.upto(read);
    w.upto(answer);
    w.upto(recv);
    w.upto(close);
    assert!(w.finish().round_trips.is_empty());
}

/// The traced server read the request and its end closed (its process was killed, or it
/// closed) before it sent anything: the client's end of the stream is the peer's refusal, and
/// the peer's close is kept as evidence.
#[test]
fn a_request_the_traced_peer_read_then_closed_on_is_unanswered() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let request = b.send(c, b"GET /capi\n");
    let end = b.recv_eof(c);
    let read = a.recv(s, b"GET /capi\n");
    let closed = a.close(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(request);
    w.upto(read);
    w.upto(closed);
    assert_eq!(w.upto(end), Verdict::Accept);
    let out = w.finish();
    let [u] = out.unanswered_requests.as_slice() else {
        panic!("{:?}", out.unanswered_requests)
    };
    assert!(u.peer_traced && u.ended_by_peer);
    assert_eq!(
        (u.request, u.gave_up, u.peer_close),
        (request, end, Some(closed))
    );
}

/// A peer that closed with the request unread did not refuse it: its close resets the
/// connection, which the close rules report.
#[test]
fn a_request_the_traced_peer_closed_on_unread_is_no_refusal() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let request = b.send(c, b"GET /capi\n");
    let end = b.recv_eof(c);
    let closed = a.close(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(request);
    w.upto(closed);
    w.upto(end);
    assert!(w.finish().unanswered_requests.is_empty());
}

/// ZeroMQ's REP server greets first and reads the REQ client's request, then is killed by
/// SIGKILL (rpc/zmq-killed--plain): after that handshake the client's end of stream is still
/// the peer's silence, since a death is no protocol's goodbye. The same close by the server's
/// own program, after a conversation, is not counted (a kept-alive connection closing as the
/// next request crosses it).
#[test]
fn a_request_read_by_a_peer_killed_after_a_handshake_is_unanswered() {
    for killed in [true, false] {
        let topo = two_hosts();
        let (mut a, mut b, s, c) = connected();
        let greeting = a.send(s, b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f");
        let greeted = b.recv(c, b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f");
        let request = b.send(c, b"\x01\x00\x00\x09request 0");
        let end = b.recv_eof(c);
        let read = a.recv(s, b"\x01\x00\x00\x09request 0");
        let closed = a.close(s);
        if killed {
            killed_at_last_call(&mut a);
        }
        let mut w = World::new(&topo, vec![a, b]);
        set_up(&mut w);
        for at in [greeting, greeted, request, read, closed, end] {
            w.upto(at);
        }
        assert_unanswered_only_if_killed(&w.finish(), killed, (request, end, closed));
    }
}

/// gearmand answers the client's SUBMIT_JOB with JOB_CREATED at once and owes the result until
/// a worker has done the job; killed (SIGKILL) meanwhile, its end closes under the client
/// still reading (coord/gearman-killed--ff: client.trace.17115 `recvfrom(3, "\0RES\0\0\0\10...",
/// 8192, ...) = 18`, then `recvfrom(3, "", 8192, ...) = 0`; server.trace.17103 `+++ killed by
/// SIGKILL +++`). The answer the death cut short leaves the request unanswered; the same close
/// by the server's own program is an ordinary end of the connection.
#[test]
fn a_request_partly_answered_by_a_peer_then_killed_is_unanswered() {
    for killed in [true, false] {
        let topo = two_hosts();
        let (mut a, mut b, s, c) = connected();
        let request = b.send(c, b"\0REQ\0\0\0\x07\0\0\0\x12reverse\0hello");
        let read = a.recv(s, b"\0REQ\0\0\0\x07\0\0\0\x12reverse\0hello");
        let created = a.send(s, b"\0RES\0\0\0\x08\0\0\0\x06H:vm:1");
        let got = b.recv(c, b"\0RES\0\0\0\x08\0\0\0\x06H:vm:1");
        let end = b.recv_eof(c);
        let closed = a.close(s);
        if killed {
            killed_at_last_call(&mut a);
        }
        let mut w = World::new(&topo, vec![a, b]);
        set_up(&mut w);
        for at in [request, read, created, got, closed, end] {
            w.upto(at);
        }
        assert_unanswered_only_if_killed(&w.finish(), killed, (request, end, closed));
    }
}

/// ngIRCd throttles a client after registering it: it takes the connection out of its epoll
/// set's read interest (EPOLL_CTL_MOD with events=0) for a second, then reads the JOIN the
/// client sent at once (tcpd ngircd-healthy--i, `-f -tt -i`: server.trace:351-357,
/// client.trace). The JOIN sat in the server's socket while its program did not look: neither
/// the client's JOIN nor the server's welcome, answered by that JOIN, is a round trip the
/// network slowed.
#[test]
fn a_read_after_the_program_stopped_watching_the_socket_is_not_timed() {
    use crate::parse::{EpollOp, Outcome, Syscall};
    let topo = two_hosts();
    let epfd = 3;
    let run = |paused: bool| {
        let (mut a, mut b, s, c) = connected();
        let nick = b.send(c, b"NICK tester\r\n");
        b.at(0.091709);
        let read_nick = a.recv(s, b"NICK tester\r\n");
        a.at(0.092142);
        let welcome = a.send(s, b":irc.lab.example 001 tester\r\n");
        a.at(0.092428);
        let events = if paused { nothing() } else { readable() };
        let pause = a.call(
            Syscall::EpollCtl {
                epfd,
                op: EpollOp::Mod,
                fd: s,
                wanted: events,
            },
            Outcome::ok(0),
        );
        a.at(0.092616);
        let resume = a.call(
            Syscall::EpollCtl {
                epfd,
                op: EpollOp::Mod,
                fd: s,
                wanted: readable(),
            },
            Outcome::ok(0),
        );
        a.at(1.093837);
        let got_welcome = b.recv(c, b":irc.lab.example 001 tester\r\n");
        b.at(0.092513);
        let join = b.send(c, b"JOIN #lab\r\n");
        b.at(0.092703);
        let read_join = a.recv(s, b"JOIN #lab\r\n");
        a.at(1.093961);
        let joined = a.send(s, b":tester JOIN :#lab\r\n");
        a.at(1.094103);
        let got_joined = b.recv(c, b":tester JOIN :#lab\r\n");
        b.at(1.094261);
        let close = b.close(c);
        let mut w = World::new(&topo, vec![a, b]);
        set_up(&mut w);
        for at in [
            nick,
            read_nick,
            welcome,
            pause,
            resume,
            got_welcome,
            join,
            read_join,
            joined,
            got_joined,
            close,
        ] {
            w.upto(at);
        }
        let out = w.finish();
        out.round_trips
            .iter()
            .flat_map(|r| r.trips.slowest.iter())
            .map(|t| t.network)
            .fold(0.0, f64::max)
    };
    assert!(
        run(false) > 1.0,
        "a program that kept watching the socket read the JOIN as it came"
    );
    assert!(run(true) < 0.01, "{}", run(true));
}

/// Dante's mother process accepts a SOCKS client a second after it connected (busy starting
/// its children) and a child reads the greeting at once (tcpd dante-healthy--X: the client
/// sends it at 17.280653 and reads the answer at 18.249920; the server reads at 18.248004 and
/// answers at 18.248061). The greeting waited in the socket before any program looked for it:
/// untimed. A server seen looking first (a wait that found the socket empty) dates it.
#[test]
fn a_request_read_before_the_accepted_socket_was_seen_empty_is_not_timed() {
    let topo = two_hosts();
    let run = |looked_first: bool| {
        let (mut a, mut b, s, c) = connected();
        let mut looked = None;
        if looked_first {
            looked = Some(a.poll(s, readable(), nothing()));
        }
        let greeting = b.send(c, b"\x05\x02\x00\x01");
        b.at(17.280653);
        let read = a.recv(s, b"\x05\x02\x00\x01");
        a.at(18.248004);
        let answer = a.send(s, b"\x05\x00");
        a.at(18.248061);
        let got = b.recv(c, b"\x05\x00");
        b.at(18.249920);
        let close = b.close(c);
        let mut w = World::new(&topo, vec![a, b]);
        set_up(&mut w);
        if let Some(looked) = looked {
            w.upto(looked);
        }
        for at in [greeting, read, answer, got, close] {
            w.upto(at);
        }
        w.finish()
            .round_trips
            .iter()
            .flat_map(|r| r.trips.slowest.iter())
            .map(|t| t.network)
            .fold(0.0, f64::max)
    };
    assert_eq!(
        run(false),
        0.0,
        "the accepted socket's first bytes are not dated"
    );
    assert!(run(true) > 0.9, "{}", run(true));
}

/// svc/radius-down--i, client.trace:2066-2086 and 10384 (one poll of each second kept, the
/// others cut): radclient sends its Access-Request and spins on pselect6 with a zero timeout
/// until its own 1 s timer resends. One zero-timeout poll shows no waiting; polls long after
/// the request do, so the request went unanswered. Polls right after it alone do not.
#[test]
fn zero_timeout_polls_long_after_a_request_wait_for_its_answer() {
    let radclient = |last_poll: &str| {
        format!(
            r#"11142 17:02:56.389877 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
11142 17:02:56.390035 bind(3, {{sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}}, 16) = 0
11142 17:02:56.391831 sendto(3, "\1\355\0+\331j\nX", 43, 0, {{sa_family=AF_INET, sin_port=htons(1812), sin_addr=inet_addr("10.98.1.1")}}, 16) = 43
11142 17:02:56.392377 pselect6(4, [3], NULL, NULL, {{tv_sec=0, tv_nsec=0}}, NULL) = 0 (Timeout)
11142 {last_poll} pselect6(4, [3], NULL, NULL, {{tv_sec=0, tv_nsec=0}}, NULL) = 0 (Timeout)
11142 17:02:57.004239 sendto(3, "\1\355\0+\331j\nX", 43, 0, {{sa_family=AF_INET, sin_port=htons(1812), sin_addr=inet_addr("10.98.1.1")}}, 16) = 43
11142 17:02:57.004300 close(3) = 0
"#
        )
    };
    let unanswered = |name: &str, last_poll: &str| {
        super::replay_texts(
            name,
            &[
                ("client", "10.98.1.2", Some(&radclient(last_poll))),
                ("server", "10.98.1.1", None),
            ],
        )
        .unanswered_requests
        .iter()
        .map(|u| u.unanswered)
        .sum::<u32>()
    };
    assert_eq!(unanswered("polled-long", "17:02:57.003900"), 1);
    assert_eq!(unanswered("polled-at-once", "17:02:56.392414"), 0);
}

/// svc/stun-wrong-port--unix, client.trace:72-104 and server.trace:580 (coturn's sockets cut
/// to one): turnutils_stunclient asks port 3479 of the traced server's host, whose only UDP
/// socket is bound to 3478, and waits until it is stopped. The request found nothing bound
/// there: unanswered, as by a peer no trace shows, and its flow marked so for the loss rules.
#[test]
fn a_request_to_a_port_the_traced_host_never_had_is_unanswered() {
    let client = r#"14897 1796663174.143943 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
14897 1796663174.146529 sendto(3, "\0\1\0\0!\22\244B\31\311o(\261H\26\37\264\3\216u", 20, 0, {sa_family=AF_INET, sin_port=htons(3479), sin_addr=inet_addr("10.98.1.1")}, 16) = 20
14897 1796663174.146742 recvfrom(3, 0x7ffdcf393884, 65507, 0, NULL, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
"#;
    let server = r#"14882 1796663174.059000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 12
14882 1796663174.059599 bind(12, {sa_family=AF_INET, sin_port=htons(3478), sin_addr=inet_addr("10.98.1.1")}, 16) = 0
14882 1796663179.000000 close(12) = 0
"#;
    let out = super::replay_texts(
        "never-bound",
        &[
            ("client", "10.98.1.2", Some(client)),
            ("server", "10.98.1.1", Some(server)),
        ],
    );
    let unanswered: Vec<_> = out
        .unanswered_requests
        .iter()
        .map(|u| (u.peer, u.unanswered, u.peer_traced))
        .collect();
    assert_eq!(unanswered, vec![(addr("10.98.1.1:3479"), 1, false)]);
    assert!(
        out.udp.iter().all(|f| f.nothing_bound_at_receiver),
        "{:?}",
        out.udp
    );
}

/// A port the traced host's trace does not show (a socket connected without a bind, so bound
/// by the kernel to a port of `ip_local_port_range`) may be any port of that range: a datagram
/// to such a port may have found that socket, one to a port below the range found nothing.
#[test]
fn a_port_the_kernel_chose_may_be_any_ephemeral_port() {
    let server = r#"14882 1796663174.059000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 12
14882 1796663174.059599 connect(12, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.98.1.2")}, 16) = 0
14882 1796663179.000000 close(12) = 0
"#;
    let asked = |port: u16| {
        let client = format!(
            r#"14897 1796663174.143943 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
14897 1796663174.146529 sendto(3, "\0\1\0\0", 4, 0, {{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr("10.98.1.1")}}, 16) = 4
14897 1796663174.146742 recvfrom(3, 0x7ffdcf393884, 65507, 0, NULL, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
"#
        );
        let out = super::replay_texts(
            &format!("ephemeral-{port}"),
            &[
                ("client", "10.98.1.2", Some(&client)),
                ("server", "10.98.1.1", Some(server)),
            ],
        );
        out.udp
            .iter()
            .find(|f| f.receiver_addr.port() == port)
            .map(|f| f.nothing_bound_at_receiver)
    };
    assert_eq!(asked(40000), Some(false));
    assert_eq!(asked(3479), Some(true));
}

/// The script's last call, a close, was its process's death (SIGKILL), not its program's close.
fn killed_at_last_call(script: &mut Script) {
    if let Some(close) = script.last() {
        close.synthetic = Some(crate::fold::SyntheticReason::ProcessKilled);
    }
}

/// With the server killed, the request at `request` went unanswered, met by the end of the
/// stream at `end` from the death at `closed`; closed by its program, nothing is unanswered.
fn assert_unanswered_only_if_killed(
    out: &ReplayOutcome,
    killed: bool,
    (request, end, closed): (Loc, Loc, Loc),
) {
    if killed {
        let [u] = out.unanswered_requests.as_slice() else {
            panic!("{:?}", out.unanswered_requests)
        };
        assert!(u.ended_by_peer);
        assert_eq!(
            (u.request, u.gave_up, u.peer_close),
            (request, end, Some(closed))
        );
    } else {
        assert!(
            out.unanswered_requests.is_empty(),
            "{:?}",
            out.unanswered_requests
        );
    }
}
