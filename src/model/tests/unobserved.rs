//! Peers no trace shows: the local trace settles its own calls, and what it proves alone (resets,
//! unanswered requests, connects that never completed) is kept for the rules.

use super::*;
use crate::parse::{FcntlOp, Outcome, Syscall, WaitFd};

/// Host 0 (10.0.0.1) traced; host 1 (10.0.0.2) declared without a trace.
fn server_unobserved() -> Topology {
    let mut topo = two_hosts();
    topo.hosts[1].traces.clear();
    topo.traces.truncate(1);
    topo
}

fn play(topo: &Topology, script: Script) -> ReplayOutcome {
    let mut model = Model::new(topo);
    for ev in script.events() {
        let verdict = model.simulate(&ev);
        assert!(!is_retry(&verdict), "{verdict:?} at {:?}", ev.call.loc);
    }
    model.finish(0, Vec::new())
}

#[test]
fn a_connect_to_an_unobserved_host_completes_on_local_evidence() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    a.send(c, b"GET /");
    a.recv(c, b"200 OK");
    a.close(c);
    let outcome = play(&topo, a);
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
    assert!(outcome.unanswered_requests.is_empty());
    assert!(outcome.pending_connects.is_empty());
}

#[test]
fn a_request_waited_for_in_vain_then_closed_is_unanswered() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    let request = a.send(c, b"GET /");
    let timeout = a.poll(c, readable(), nothing());
    a.close(c);
    let outcome = play(&topo, a);
    let [u] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert_eq!((u.answered, u.unanswered, u.unanswered_named), (0, 1, 1));
    assert_eq!((u.request, u.gave_up), (request, timeout));
    assert_eq!(u.peer, addr("10.0.0.2:80"));
}

#[test]
fn sends_without_a_wait_for_an_answer_are_no_requests() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let u = a.udp();
    a.sendto(u, b"metric 1", "10.0.0.2:8125");
    a.sendto(u, b"metric 2", "10.0.0.2:8125");
    a.close(u);
    assert!(play(&topo, a).unanswered_requests.is_empty());
}

#[test]
fn the_side_that_answers_asks_nothing() {
    // A UDP server: receives, answers, then its next wait times out before it closes.
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let u = a.udp();
    a.bind(u, "10.0.0.1:7000");
    a.recvfrom(u, b"ping", "10.0.0.2:5000");
    a.sendto(u, b"pong", "10.0.0.2:5000");
    a.poll(u, readable(), nothing());
    a.close(u);
    assert!(play(&topo, a).unanswered_requests.is_empty());
}

#[test]
fn round_trips_count_answered_and_unanswered_requests() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let u = a.udp();
    for _ in 0..3 {
        a.sendto(u, b"echo", "10.0.0.2:7");
        a.poll(u, readable(), readable());
        a.recvfrom(u, b"echo", "10.0.0.2:7");
    }
    a.sendto(u, b"echo", "10.0.0.2:7");
    a.poll(u, readable(), nothing());
    a.sendto(u, b"echo", "10.0.0.2:7");
    a.poll(u, readable(), readable());
    a.recvfrom(u, b"echo", "10.0.0.2:7");
    a.close(u);
    let outcome = play(&topo, a);
    let [r] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert_eq!((r.answered, r.unanswered), (4, 1));
}

#[test]
fn a_reset_from_an_unobserved_peer_is_reported_from_the_receive() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    a.send(c, b"GET /");
    let reset = a.recv_fails(c, Errno::ECONNRESET);
    let outcome = play(&topo, a);
    let kinds: Vec<(&DeviationKind, Loc)> = outcome
        .deviations
        .iter()
        .map(|d| (&d.kind, d.loc))
        .collect();
    assert_eq!(kinds, [(&DeviationKind::ConnectionReset, reset)]);
    // The reset ended the request: it is no unanswered one.
    assert!(outcome.unanswered_requests.is_empty());
}

#[test]
fn a_nonblocking_connect_closed_before_it_completed_never_completed() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp_nonblocking();
    let connect = a.connect(c, "10.0.0.2:80");
    a.fails(Errno::EINPROGRESS);
    a.poll(c, writable(), nothing());
    a.close(c);
    let outcome = play(&topo, a);
    let pending: Vec<Loc> = outcome.pending_connects.iter().map(|p| p.loc).collect();
    assert_eq!(pending, [connect]);
}

/// nc's view of lab/reset-unread (client.trace:132): its request unread, the unobserved server
/// closes; `poll` reports `POLLIN|POLLERR|POLLHUP` on the socket nc connected.
fn aborted_under_its_client() -> ReplayOutcome {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:7414");
    a.send(c, b"rrrr");
    let aborted = Ready {
        read: true,
        error: true,
        hangup: true,
        ..nothing()
    };
    a.poll(c, readable(), aborted);
    a.close(c);
    play(&topo, a)
}

#[test]
fn an_error_with_a_hang_up_on_a_connection_made_outside_is_an_abort() {
    let outcome = aborted_under_its_client();
    let kinds: Vec<&DeviationKind> = outcome.deviations.iter().map(|d| &d.kind).collect();
    assert_eq!(kinds, [&DeviationKind::ConnectionReset]);
    assert!(outcome.deviations[0].related.is_empty());
}

/// The same report on a connection the program accepted: a client that left abruptly, routine
/// for a server.
#[test]
fn an_abort_on_an_accepted_connection_from_outside_is_left_alone() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    let aborted = Ready {
        read: true,
        error: true,
        hangup: true,
        ..nothing()
    };
    a.poll(s, readable(), aborted);
    a.close(s);
    let outcome = play(&topo, a);
    assert!(outcome.deviations.is_empty(), "{:?}", outcome.deviations);
}

/// nc relaying lines to a UDP echo service no trace shows (lab/udp-partial-loss, client side):
/// each poll watches its input (a pipe, fd 0) and the socket together. The first line is
/// echoed; for the second, the poll blocks 0.1 s and wakes for the next input line instead.
/// `first_answered`: whether the peer answered the first line at all.
fn relay(first_answered: bool) -> ReplayOutcome {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let u = a.udp();
    a.connect(u, "10.0.0.2:7101");
    a.send(u, b"dgram 1\n");
    if first_answered {
        a.poll(u, readable(), readable());
        a.recv(u, b"dgram 1\n");
    }
    a.send(u, b"dgram 2\n");
    let input = Ready {
        read: true,
        ..nothing()
    };
    a.call(
        Syscall::Wait {
            fds: vec![
                WaitFd {
                    fd: 0,
                    wanted: readable(),
                    got: input,
                },
                WaitFd {
                    fd: u,
                    wanted: readable(),
                    got: nothing(),
                },
            ],
            timeout_ms: None,
            epoll_fd: None,
        },
        Outcome::ok(1),
    );
    if let Some(wait) = a.last() {
        wait.call.duration = Some(0.1);
    }
    a.send(u, b"dgram 3\n");
    a.close(u);
    play(&topo, a)
}

#[test]
fn a_datagram_wait_woken_by_other_input_brought_no_answer() {
    let outcome = relay(true);
    let [u] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert_eq!((u.answered, u.unanswered), (1, 1));
}

/// One-way traffic to a sink: nothing ever came back, so the socket in the poll shows no
/// waiting for an answer.
#[test]
fn a_relay_to_a_sink_makes_no_requests() {
    let outcome = relay(false);
    assert!(
        outcome.unanswered_requests.is_empty(),
        "{:?}",
        outcome.unanswered_requests
    );
}

/// rsync's client ending its session (apps/rsync-healthy, client.trace:301-309): its receiver
/// process waits in `pselect6`, the sender process writes the closing message and stops the
/// receiver with SIGUSR2 (`<... pselect6 resumed>) = ? ERESTARTNOHAND`), and the program exits
/// with status 0. A wait the program cut short on its way to a successful end is no wait in
/// vain; the same wait before a close that is no successful exit still is.
#[test]
fn a_wait_cut_short_by_a_signal_before_a_successful_exit_is_not_in_vain() {
    for (context, unanswered) in [
        (crate::fold::ProgramContext::Finished, 0),
        (crate::fold::ProgramContext::Running, 1),
    ] {
        let topo = server_unobserved();
        let mut a = Script::new(0);
        let c = a.tcp();
        a.connect(c, "10.0.0.2:873");
        a.send(c, b"@RSYNCD: 32.0\n");
        a.recv(c, b"@RSYNCD: 32.0\n");
        a.send(c, b"\x01\x00\x00\x07\x00");
        a.poll(c, readable(), nothing());
        if let Some(wait) = a.last() {
            wait.call.outcome = Outcome {
                value: None,
                errno: Some(crate::parse::Errno::ERESTARTNOHAND),
            };
        }
        a.close(c);
        if let Some(close) = a.last() {
            close.context = context;
        }
        let outcome = play(&topo, a);
        let count: u32 = outcome
            .unanswered_requests
            .iter()
            .map(|u| u.unanswered)
            .sum();
        assert_eq!(count, unanswered, "{context:?}");
    }
}

/// vsftpd's control connection (apps/ftp-healthy-plain, plain `strace -f -tt`): the session
/// process answers QUIT, shuts the connection down both ways and exits; its privileged parent,
/// which shares the socket, then writes an error line into it and gets EPIPE.
const VSFTPD_QUIT: &str = r#"13388 01:12:16.848014 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
13388 01:12:16.848267 bind(3, {sa_family=AF_INET, sin_port=htons(21), sin_addr=inet_addr("10.78.1.10")}, 16) = 0
13388 01:12:16.848360 listen(3, 32)     = 0
13388 01:12:16.848400 accept(3, {sa_family=AF_INET, sin_port=htons(45420), sin_addr=inet_addr("10.78.1.21")}, [28 => 16]) = 4
13388 01:12:17.161419 clone(child_stack=NULL, flags=CLONE_NEWIPC|SIGCHLD) = 13404
13404 01:12:17.164789 dup2(4, 0)        = 0
13404 01:12:17.206533 clone(child_stack=NULL, flags=CLONE_NEWNET|SIGCHLD) = 13406
13406 01:12:17.266277 write(0, "230 Login successful.\r\n", 23) = 23
13406 01:12:17.311241 recvfrom(0, "QUIT\r\n", 4096, MSG_PEEK, NULL, NULL) = 6
13406 01:12:17.311608 read(0, "QUIT\r\n", 6) = 6
13406 01:12:17.312356 shutdown(0, SHUT_RD) = 0
13406 01:12:17.316675 write(0, "221 Goodbye.\r\n", 14) = 14
13406 01:12:17.316889 shutdown(0, SHUT_RDWR) = 0
13406 01:12:17.317048 exit_group(0)     = ?
13406 01:12:17.317594 +++ exited with 0 +++
13404 01:12:17.317923 write(0, "500 OOPS: ", 10) = -1 EPIPE (Broken pipe)
"#;

/// Replays one traced host's strace text through every stage as the command line reads it:
/// host `server` 10.78.1.10 and host `client` 10.78.1.21, only `traced` of them with a trace.
fn replay_alone(name: &str, traced: &str, text: &str) -> ReplayOutcome {
    let hosts = [("server", "10.78.1.10"), ("client", "10.78.1.21")]
        .map(|(host, ip)| (host, ip, (host == traced).then_some(text)));
    replay_texts(name, &hosts)
}

#[test]
fn epipe_after_its_own_shutdown_is_no_send_after_the_peer_closed() {
    let outcome = replay_alone("own-shut", "server", VSFTPD_QUIT);
    assert!(
        !outcome
            .deviations
            .iter()
            .any(|d| matches!(d.kind, DeviationKind::SendAfterPeerClosed { .. })),
        "{:?}",
        outcome.deviations
    );
}

/// dig asks over a connected UDP socket (apps/named-listen-localhost, `-T -yy`, the query cut
/// short); named listens on 127.0.0.1 only, so the server's host answers with ICMP port
/// unreachable, which Linux reports as ECONNREFUSED on the next receive.
const DIG_UDP_REFUSED: &str = r#"31126 1796607112.053699 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 14<UDP:[57829]> <0.000072>
31126 1796607112.055296 bind(14<UDP:[57829]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000059>
31126 1796607112.055500 connect(14<UDP:[0.0.0.0:55932]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.78.1.10")}, 16) = 0 <0.000108>
31126 1796607112.056811 sendmmsg(14<UDP:[0.0.0.0:55932]>, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="\231|\1 \0\1\0\0\0\0\0\1\3www\3lab\0\0\1\0\1", iov_len=48}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=48}], 1, 0) = 1 <0.000243>
31126 1796607112.057661 recvmsg(14<UDP:[0.0.0.0:55932]>, {msg_namelen=128}, 0) = -1 ECONNREFUSED (Connection refused) <0.000057>
31126 1796607112.058115 close(14<UDP:[0.0.0.0:55932]>) = 0 <0.000061>
"#;

#[test]
fn econnrefused_on_a_connected_udp_socket_is_a_refusal_by_its_peer() {
    let outcome = replay_alone("udp-refused", "client", DIG_UDP_REFUSED);
    let [d] = outcome.deviations.as_slice() else {
        panic!("{:?}", outcome.deviations)
    };
    assert_eq!(
        d.kind,
        DeviationKind::ConnectFailed {
            errno: Errno::ECONNREFUSED,
            target: addr("10.78.1.10:53"),
            listener: None,
        }
    );
}

/// lab/nonblock-inherited, seen from the server alone (server.trace:97-103): the listener is
/// made nonblocking with `ioctl(3, FIONBIO, [1])`, `accept4(3, ...)` without SOCK_NONBLOCK, then
/// `recvfrom(4, "late-request\n", 4096, 0, NULL, NULL) = 13 <1.000304>`. The client is not
/// traced, yet the blocking is the server's own fact.
#[test]
fn blocking_on_a_socket_accepted_from_a_nonblocking_listener_needs_no_peer_trace() {
    // Host 1, declared without a trace, is the client here.
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:7704");
    a.listen(l);
    a.call(
        Syscall::Ioctl {
            fd: l,
            op: crate::parse::IoctlOp::SetNonblock(true),
        },
        Outcome::ok(0),
    );
    let s = a.accept(l, "10.0.0.2:32826");
    a.recv(s, b"late-request\n");
    if let Some(ev) = a.last() {
        ev.call.duration = Some(1.000_304);
    }
    let quick = a.recv(s, b"more");
    a.recv_eof(s);
    if let Some(ev) = a.last() {
        ev.call.duration = Some(2.0);
    }
    a.close(s);
    let mut model = Model::new(&topo);
    let mut kinds = Vec::new();
    for ev in a.events() {
        if let Verdict::Deviation(d) = model.simulate(&ev) {
            kinds.push((ev.call.loc, d.kind));
        }
    }
    let [(_, kind)] = kinds.as_slice() else {
        panic!("one deviation, for the blocked receive with bytes: {kinds:?}")
    };
    assert_eq!(
        *kind,
        DeviationKind::BlockedWithoutInheritedNonblock { blocked_ms: 1000 }
    );
    assert!(kinds.iter().all(|(loc, _)| *loc != quick));
}

/// gunicorn's sync worker seen from the server alone (`strace -f -tt -T -yy`): the listener is
/// nonblocking, and each accepted socket is put in blocking mode on purpose,
/// `ioctl(9<TCPv6:[[fd77::2]:8080->[fd77::1]:59354]>, FIONBIO, [0]) = 0`, before
/// `recvfrom(9<...>, "GET / HTTP/1.1..."..., 8192, 0, NULL, NULL) = 78 <0.200...>` waits for a
/// request a lost segment delayed. A mode the program set is no inherited one, whoever the peer.
#[test]
fn blocking_after_the_program_set_blocking_mode_itself_is_no_inherited_mode() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:8080");
    a.listen(l);
    a.call(
        Syscall::Fcntl {
            fd: l,
            op: FcntlOp::SetFl { nonblock: true },
        },
        Outcome::ok(0),
    );
    let s = a.accept(l, "10.0.0.2:59354");
    a.call(
        Syscall::Ioctl {
            fd: s,
            op: crate::parse::IoctlOp::SetNonblock(false),
        },
        Outcome::ok(0),
    );
    a.recv(s, b"GET / HTTP/1.1\r\n\r\n");
    if let Some(ev) = a.last() {
        ev.call.duration = Some(0.200_5);
    }
    a.close(s);
    let mut model = Model::new(&topo);
    let deviations: Vec<_> = a
        .events()
        .iter()
        .filter_map(|ev| match model.simulate(ev) {
            Verdict::Deviation(d) => Some(d.kind),
            _ => None,
        })
        .collect();
    assert_eq!(deviations, Vec::new());
}

/// The end of the stream is the only thing a connection that never carried anything back
/// brings after a request: the peer's program closed its end, or ended, without a word (a
/// server killed mid-request, one that rejects by closing).
#[test]
fn a_request_met_only_by_the_end_of_the_stream_is_unanswered() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    let request = a.send(c, b"GET /capi\n");
    let end = a.recv_eof(c);
    a.close(c);
    let outcome = play(&topo, a);
    let [u] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert_eq!((u.answered, u.unanswered), (0, 1));
    assert_eq!((u.request, u.gave_up), (request, end));
    assert!(u.ended_by_peer && u.peer_close.is_none());
}

/// An upload ends with the sender shutting down its writing and the receiver closing in turn:
/// that end of the stream is the acknowledgement, not a refusal.
#[test]
fn the_end_of_the_stream_after_shutting_down_writing_is_the_answer() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    a.send(c, b"upload");
    a.shutdown(c, 1);
    a.recv_eof(c);
    a.close(c);
    assert!(play(&topo, a).unanswered_requests.is_empty());
}

/// A kept-alive connection the server closes as the next request crosses it is a race clients
/// retry; it carried answers before.
#[test]
fn the_end_of_the_stream_on_a_connection_that_answered_before_is_no_refusal() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let c = a.tcp();
    a.connect(c, "10.0.0.2:80");
    a.send(c, b"GET /1");
    a.recv(c, b"200 OK");
    a.send(c, b"GET /2");
    a.recv_eof(c);
    a.close(c);
    assert!(play(&topo, a).unanswered_requests.is_empty());
}

/// A server that greets first and sees its client leave: the client's business (a health
/// check, a port scan), not a request refused.
#[test]
fn a_client_leaving_after_a_servers_greeting_is_no_refusal() {
    let topo = server_unobserved();
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:22");
    a.listen(l);
    let s = a.accept(l, "10.0.0.2:40000");
    a.send(s, b"SSH-2.0-OpenSSH_9.2p1\r\n");
    a.recv_eof(s);
    a.close(s);
    assert!(play(&topo, a).unanswered_requests.is_empty());
}

/// A NATS client whose server's firewall answered its CONNECT with a reset (tcpd
/// nats-reset--unixus, client.trace:630-641, the INFO line cut short), the server untraced:
/// the poll reports the error, the next send fails with ECONNRESET. Nothing showed the server
/// closing: a reset, not a send after the peer closed.
const NATS_RESET: &str = r#"16724 1796663315.484177 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3
16724 1796663315.485609 ioctl(3, FIONBIO, [1]) = 0
16724 1796663315.485659 connect(3, {sa_family=AF_INET, sin_port=htons(4222), sin_addr=inet_addr("10.97.1.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
16724 1796663315.485913 poll([{fd=3, events=POLLOUT|POLLERR}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
16724 1796663315.486102 poll([{fd=3, events=POLLIN}], 1, 8000) = 1 ([{fd=3, revents=POLLIN}])
16724 1796663315.487401 recvfrom(3, "INFO {\"server_id\":\"NAR2QA35\"}\r\n", 32768, 0, NULL, NULL) = 31
16724 1796663315.487623 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
16724 1796663315.487940 sendto(3, "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"lab\"}\r\n", 57, 0, NULL, 0) = 57
16724 1796663315.488020 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT|POLLERR|POLLHUP}])
16724 1796663315.488063 sendto(3, "SUB lab.x 1\r\nPUB lab.x 5\r\nhello\r\nPING\r\n", 39, 0, NULL, 0) = -1 ECONNRESET (Connection reset by peer)
16724 1796663315.488125 close(3)        = 0
"#;

#[test]
fn a_send_reset_with_no_close_of_the_unobserved_peer_seen_is_a_reset() {
    let kinds = |name: &str, text: &str| -> Vec<DeviationKind> {
        let hosts = [
            ("server", "10.97.1.1", None),
            ("client", "10.97.1.2", Some(text)),
        ];
        replay_texts(name, &hosts)
            .deviations
            .into_iter()
            .map(|d| d.kind)
            .collect()
    };
    let reset = kinds("nats-reset", NATS_RESET);
    assert!(reset.contains(&DeviationKind::ConnectionReset), "{reset:?}");
    assert!(
        !reset
            .iter()
            .any(|k| matches!(k, DeviationKind::SendAfterPeerClosed { .. })),
        "{reset:?}"
    );
    // The same send after the client read the server's end of stream answers bytes sent
    // after that close.
    let after_close = NATS_RESET.replace(
        "16724 1796663315.487623 poll",
        "16724 1796663315.487500 recvfrom(3, \"\", 32768, 0, NULL, NULL) = 0\n16724 1796663315.487623 poll",
    );
    let closed = kinds("nats-closed", &after_close);
    assert!(
        closed
            .iter()
            .any(|k| matches!(k, DeviationKind::SendAfterPeerClosed { .. })),
        "{closed:?}"
    );
}
