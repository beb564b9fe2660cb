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

/// tftp fetching a file from a server no trace shows (apps/tftp-healthy, client.trace:135-151,
/// strings abridged): every full block fills the 516-byte buffer the client sized to TFTP's
/// block and header exactly.
const TFTP_BLOCKS: &str = r#"16595 1796626291.591747 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[389852]> <0.000008>
16595 1796626291.591822 bind(3<UDP:[389852]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000009>
16595 1796626291.592010 sendto(3<UDP:[0.0.0.0:37257]>, "\0\1boot.txt\0octet\0", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr("10.78.1.10")}, 16) = 17 <0.000181>
16595 1796626291.592266 recvfrom(3<UDP:[0.0.0.0:37257]>, "\0\3\0\1tttttttttttttttttttttttttttt"..., 516, 0, {sa_family=AF_INET, sin_port=htons(38411), sin_addr=inet_addr("10.78.1.10")}, [28 => 16]) = 516 <0.005981>
16595 1796626291.598372 sendto(3<UDP:[0.0.0.0:37257]>, "\0\4\0\1", 4, 0, {sa_family=AF_INET, sin_port=htons(38411), sin_addr=inet_addr("10.78.1.10")}, 16) = 4 <0.000020>
16595 1796626291.599051 recvfrom(3<UDP:[0.0.0.0:37257]>, "\0\3\0\2tttttttttttttttttttttttttttt"..., 516, 0, {sa_family=AF_INET, sin_port=htons(38411), sin_addr=inet_addr("10.78.1.10")}, [28 => 16]) = 68 <0.000164>
16595 1796626291.599272 sendto(3<UDP:[0.0.0.0:37257]>, "\0\4\0\2", 4, 0, {sa_family=AF_INET, sin_port=htons(38411), sin_addr=inet_addr("10.78.1.10")}, 16) = 4 <0.000028>
16595 1796626291.599300 close(3<UDP:[0.0.0.0:37257]>) = 0 <0.000010>
"#;

/// iperf3's UDP hello (udp/iperf-udp--record, client.trace:36-42): 4 bytes each way, read
/// into a 4-byte buffer.
const IPERF_HELLO: &str = r#"28474 1796652749.097710 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 5<UDP:[2019168]> <0.000010>
28474 1796652749.097793 connect(5<UDP:[2019168]>, {sa_family=AF_INET, sin_port=htons(7500), sin_addr=inet_addr("10.78.1.10")}, 16) = 0 <0.000013>
28474 1796652749.097946 write(5<UDP:[10.78.1.21:36933->10.78.1.10:7500]>, "9876", 4) = 4 <0.000025>
28474 1796652749.098525 recvfrom(5<UDP:[10.78.1.21:36933->10.78.1.10:7500]>, "6789", 4, 0, NULL, NULL) = 4 <0.000006>
28474 1796652749.098600 close(5<UDP:[10.78.1.21:36933->10.78.1.10:7500]>) = 0 <0.000010>
"#;

/// lab/udp-truncated seen from the server alone (server.trace:95-99, string abridged): a
/// 1200-byte datagram read into a 512-byte buffer fills it exactly.
const GENERIC_BUFFER_FILLED: &str = r#"11013 1795566993.731704 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[109268]> <0.000024>
11013 1795566993.731930 bind(3<UDP:[109268]>, {sa_family=AF_INET, sin_port=htons(7110), sin_addr=inet_addr("10.78.1.10")}, 16) = 0 <0.000019>
11013 1795566993.873614 recvfrom(3<UDP:[10.78.1.10:7110]>, "big datagram ===================="..., 512, 0, {sa_family=AF_INET, sin_port=htons(48846), sin_addr=inet_addr("10.78.1.21")}, [16]) = 512 <0.000186>
11013 1795566993.880000 close(3<UDP:[10.78.1.10:7110]>) = 0 <0.000010>
"#;

fn truncations(outcome: &ReplayOutcome) -> usize {
    outcome
        .deviations
        .iter()
        .filter(|d| matches!(d.kind, DeviationKind::DatagramTruncated { .. }))
        .count()
}

#[test]
fn a_buffer_sized_to_the_protocols_message_is_filled_not_cut() {
    let tftp = replay_alone("tftp-blocks", "client", TFTP_BLOCKS);
    assert_eq!(truncations(&tftp), 0, "{:?}", tftp.deviations);
    let iperf = replay_alone("iperf-hello", "client", IPERF_HELLO);
    assert_eq!(truncations(&iperf), 0, "{:?}", iperf.deviations);
}

#[test]
fn a_generic_buffer_filled_exactly_by_an_unobserved_sender_was_cut() {
    let outcome = replay_alone("generic-filled", "server", GENERIC_BUFFER_FILLED);
    assert_eq!(truncations(&outcome), 1, "{:?}", outcome.deviations);
}

/// A Go client (lab/mtu-black-hole-tcp-sigalrm--go--socat--plain, client.trace, pid 15263,
/// the bulk writes abridged): its hello is echoed, then it writes its upload, tries to read
/// the answer (EAGAIN) and parks on the runtime's epoll set, where socket 3 is registered
/// edge-triggered, until it is killed four seconds later.
const GO_CLIENT_KILLED_WAITING: &str = r#"15263 10:29:07.788033 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 3
15263 10:29:07.788088 connect(3, {sa_family=AF_INET, sin_port=htons(7603), sin_addr=inet_addr("10.77.4.10")}, 16) = -1 EINPROGRESS (Operation now in progress)
15263 10:29:07.788337 epoll_create1(EPOLL_CLOEXEC) = 4
15263 10:29:07.788456 epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, data={u32=88833752, u64=139861403860696}}) = 0
15263 10:29:07.788531 epoll_pwait(4, [{events=EPOLLOUT, data={u32=88833752, u64=139861403860696}}], 128, 0, NULL, 2) = 1
15263 10:29:07.788580 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
15263 10:29:07.789470 write(3, "hello\n", 6 <unfinished ...>
15263 10:29:07.789582 <... write resumed>) = 6
15263 10:29:07.789653 read(3, 0xc000100000, 65536) = -1 EAGAIN (Resource temporarily unavailable)
15263 10:29:07.789833 epoll_pwait(4,  <unfinished ...>
15263 10:29:07.791094 <... epoll_pwait resumed>[{events=EPOLLIN|EPOLLOUT, data={u32=88833752, u64=139861403860696}}], 128, -1, NULL, 0) = 1
15263 10:29:07.791184 read(3, "hello\n", 65536) = 6
15263 10:29:07.791290 write(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 1400) = 1400
15263 10:29:07.791348 write(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 1400) = 1400
15263 10:29:07.791971 read(3, 0xc000100000, 65536) = -1 EAGAIN (Resource temporarily unavailable)
15263 10:29:07.791998 epoll_pwait(4, [], 128, 0, NULL, 2) = 0
15263 10:29:07.792024 epoll_pwait(4,  <unfinished ...>
15263 10:29:11.795037 <... epoll_pwait resumed>0x7ffd13d68058, 128, -1, NULL, 0) = -1 EINTR (Interrupted system call)
15263 10:29:11.795086 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=7727, si_uid=0} ---
15263 10:29:11.795873 +++ killed by SIGTERM +++
"#;

#[test]
fn a_read_parked_on_an_edge_triggered_epoll_set_until_death_waited_in_vain() {
    let outcome = replay_alone("go-parked", "client", GO_CLIENT_KILLED_WAITING);
    let [unanswered] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert_eq!((unanswered.answered, unanswered.unanswered), (1, 1));
    assert_eq!(unanswered.unanswered_named, 1, "{unanswered:?}");
}

#[test]
fn a_level_triggered_epoll_set_pending_at_death_shows_no_wait_for_an_answer() {
    // An event loop keeps every socket it may read registered level-triggered and always has
    // a wait pending: that proves no wait for this answer.
    let looping = GO_CLIENT_KILLED_WAITING.replace("|EPOLLET", "");
    let outcome = replay_alone("loop-pending", "client", &looping);
    assert!(
        outcome
            .unanswered_requests
            .iter()
            .all(|u| u.unanswered_named == 0),
        "{:?}",
        outcome.unanswered_requests
    );
}

/// A Java client's upload across an MTU black hole (java/mtu-black-hole-tcp--jbulk--jsink--record,
/// client.trace.zst:318-446, pid 10776, the 1024-byte writes abridged to two): its hello is
/// echoed, then its send buffer fills (a partial write, EAGAIN) and it waits for room in poll
/// until SIGTERM ends it 14.7 s later.
const JAVA_UPLOAD_STUCK: &str = r#"10776 1796635649.304390 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 4<TCPv6:[1072960]> <0.000023>
10776 1796635649.319897 connect(4<TCPv6:[1072960]>, {sa_family=AF_INET6, sin6_port=htons(7700), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:10.79.2.10", &sin6_addr), sin6_scope_id=0}, 28) = -1 EINPROGRESS (Operation now in progress) <0.000119>
10776 1796635649.321831 poll([{fd=4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, events=POLLOUT}], 1, 0) = 1 ([{fd=4, revents=POLLOUT}]) <0.001675>
10776 1796635649.325080 getsockopt(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, SOL_SOCKET, SO_ERROR, [0], [4]) = 0 <0.000505>
10776 1796635649.333014 write(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, "hello\n", 6) = 6 <0.000204>
10776 1796635649.333860 read(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, 0x7fede80bd2f0, 1) = -1 EAGAIN (Resource temporarily unavailable) <0.000140>
10776 1796635649.337176 read(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, "hello\n", 6) = 6 <0.000133>
10776 1796635649.338493 write(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"..., 1024) = 1024 <0.000077>
10776 1796635649.341893 write(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"..., 1024) = 368 <0.000005>
10776 1796635649.341921 write(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"..., 656) = -1 EAGAIN (Resource temporarily unavailable) <0.000004>
10776 1796635649.341977 poll([{fd=4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, events=POLLOUT}], 1, -1 <unfinished ...>
10776 1796635664.056724 <... poll resumed>) = ? ERESTART_RESTARTBLOCK (Interrupted by signal) <14.714732>
10776 1796635664.377492 +++ exited with 143 +++
"#;

#[test]
fn a_send_buffer_that_never_drained_before_the_end_left_the_request_unsent() {
    let outcome = replay_alone("java-stuck", "client", JAVA_UPLOAD_STUCK);
    let [unanswered] = outcome.unanswered_requests.as_slice() else {
        panic!("{:?}", outcome.unanswered_requests)
    };
    assert!(unanswered.undrained, "{unanswered:?}");
    assert_eq!((unanswered.answered, unanswered.unanswered), (1, 1));
}

#[test]
fn a_full_send_buffer_that_drains_is_no_stall() {
    // The same client, a first poll for room timing out after two seconds, the next one
    // reporting room and the rest written.
    let (stuck_at, _) = JAVA_UPLOAD_STUCK
        .split_once("10776 1796635649.341977 poll(")
        .expect("poll line");
    let drained = format!(
        "{stuck_at}10776 1796635649.341977 poll([{{fd=4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, events=POLLOUT}}], 1, 2000) = 0 (Timeout) <2.002000>
10776 1796635651.344100 poll([{{fd=4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, events=POLLOUT}}], 1, -1) = 1 ([{{fd=4, revents=POLLOUT}}]) <1.204000>
10776 1796635652.548100 write(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>, \"jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj\"..., 656) = 656 <0.000010>
10776 1796635652.548300 close(4<TCPv6:[[::ffff:10.79.1.21]:42956->[::ffff:10.79.2.10]:7700]>) = 0 <0.000030>
10776 1796635652.600000 +++ exited with 0 +++
"
    );
    let outcome = replay_alone("java-drained", "client", &drained);
    assert!(
        outcome.unanswered_requests.is_empty(),
        "{:?}",
        outcome.unanswered_requests
    );
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

/// A beanstalkd client (tcpd/beanstalkd-killed--ff, client.trace.15820:629-658) whose server is
/// killed while it waits 1.46 s for the answer to `reserve-with-timeout 10`; its earlier
/// requests were answered within a millisecond.
const BEANSTALK_SERVER_KILLED: &str = r#"17:07:44.893293 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3
17:07:44.893360 ioctl(3, FIONBIO, [1])  = 0
17:07:44.893399 connect(3, {sa_family=AF_INET, sin_port=htons(11300), sin_addr=inet_addr("10.97.1.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
17:07:44.893574 poll([{fd=3, events=POLLOUT|POLLERR}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
17:07:44.893672 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
17:07:44.893732 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
17:07:44.893827 sendto(3, "put 0 0 60 5\r\nhello\r\n", 21, 0, NULL, 0) = 21
17:07:44.894097 poll([{fd=3, events=POLLIN}], 1, 8000) = 1 ([{fd=3, revents=POLLIN}])
17:07:44.894254 recvfrom(3, "INSERTED 1\r\n", 4096, 0, NULL, NULL) = 12
17:07:44.894343 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
17:07:44.894378 sendto(3, "reserve-with-timeout 2\r\n", 24, 0, NULL, 0) = 24
17:07:44.894483 poll([{fd=3, events=POLLIN}], 1, 8000) = 1 ([{fd=3, revents=POLLIN}])
17:07:44.894668 recvfrom(3, "RESERVED 1 5\r\nhello\r\n", 4096, 0, NULL, NULL) = 21
17:07:44.894750 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
17:07:44.894800 sendto(3, "delete 1\r\n", 10, 0, NULL, 0) = 10
17:07:44.894871 poll([{fd=3, events=POLLIN}], 1, 8000) = 1 ([{fd=3, revents=POLLIN}])
17:07:44.895037 recvfrom(3, "DELETED\r\n", 4096, 0, NULL, NULL) = 9
17:07:44.895116 poll([{fd=3, events=POLLOUT}], 1, 8000) = 1 ([{fd=3, revents=POLLOUT}])
17:07:44.895165 sendto(3, "reserve-with-timeout 10\r\n", 25, 0, NULL, 0) = 25
17:07:44.895261 ioctl(3, FIONBIO, [1])  = 0
17:07:44.895310 poll([{fd=3, events=POLLIN}], 1, 15000) = 1 ([{fd=3, revents=POLLIN}])
17:07:46.357926 recvfrom(3, "", 4096, 0, NULL, NULL) = 0
17:07:46.362995 exit_group(1)           = ?
17:07:46.363905 +++ exited with 1 +++
"#;

fn beanstalk_unanswered(name: &str, text: &str) -> Vec<UnansweredRequests> {
    let hosts = [
        ("server", "10.97.1.1", None),
        ("client", "10.97.1.2", Some(text)),
    ];
    replay_texts(name, &hosts).unanswered_requests
}

#[test]
fn an_end_of_stream_long_after_the_request_is_no_crossing_close() {
    let unanswered = beanstalk_unanswered("beanstalk-killed", BEANSTALK_SERVER_KILLED);
    let [unanswered] = unanswered.as_slice() else {
        panic!("{unanswered:?}")
    };
    assert!(unanswered.ended_by_peer, "{unanswered:?}");
    assert_eq!(unanswered.answered, 3);
}

#[test]
fn an_end_of_stream_within_a_round_trip_of_the_request_crossed_it() {
    // The same connection closed by the server just as the request left: a kept-alive
    // connection's close crossing the next request, which clients retry.
    let crossing = BEANSTALK_SERVER_KILLED.replace("17:07:46.357926", "17:07:44.895400");
    assert!(beanstalk_unanswered("beanstalk-crossing", &crossing).is_empty());
}

/// syslog-ng relaying to a second syslog-ng (pool lab, syslog-healthy-tcp--s0, the relay's
/// socket to the back end, the back end untraced): it sends a message, watches the socket for
/// input only to notice a close, and after SIGTERM waits 100 ms in its shutdown before closing.
const SYSLOG_NG_RELAY_STOPPED: &str = "\
2576  23:39:43.565589 epoll_create1(EPOLL_CLOEXEC) = 3
2576  23:39:43.604524 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 14
2576  23:39:43.604570 fcntl(14, F_SETFL, O_RDWR|O_NONBLOCK) = 0
2576  23:39:43.604679 bind(14, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0
2576  23:39:43.604727 connect(14, {sa_family=AF_INET, sin_port=htons(5514), sin_addr=inet_addr(\"10.102.2.2\")}, 16) = -1 EINPROGRESS (Operation now in progress)
2576  23:39:43.606880 epoll_ctl(3, EPOLL_CTL_ADD, 14, {events=EPOLLOUT, data={u32=2436307464, u64=93959140874760}}) = 0
2576  23:39:43.606947 epoll_wait(3, [{events=EPOLLOUT, data={u32=2436307464, u64=93959140874760}}], 10, 59998) = 1
2576  23:39:43.606973 epoll_ctl(3, EPOLL_CTL_DEL, 14, 0x7ffc745909cc) = 0
2576  23:39:43.606996 getsockopt(14, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
2576  23:39:43.711875 sendto(14, \"<13>Dec  7 23:39:43 10.102.1.2 1 2026-12-07T23:39:43.266472+00:00 vm lab - - message 1\\n\", 126, 0, NULL, 0) = 126
2576  23:39:43.771326 epoll_ctl(3, EPOLL_CTL_ADD, 14, {events=EPOLLIN, data={u32=2436476072, u64=93959141043368}}) = 0
2576  23:39:43.771388 epoll_wait(3, 0x7ffc74590aa0, 10, -1) = -1 EINTR (Interrupted system call)
2576  23:39:44.780881 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=18243, si_uid=0} ---
2576  23:39:44.781273 epoll_wait(3, [], 10, 100) = 0
2576  23:39:44.881885 epoll_ctl(3, EPOLL_CTL_DEL, 14, 0x7ffc7459099c) = 0
2576  23:39:44.882197 shutdown(14, SHUT_RDWR) = 0
2576  23:39:44.882375 close(14)         = 0
2576  23:39:44.884855 exit_group(0)     = ?
2576  23:39:44.886310 +++ exited with 0 +++
";

#[test]
fn a_wait_in_the_shutdown_a_stop_request_began_awaits_no_answer() {
    let relay = |text: &str| {
        super::replay_texts(
            "syslog-ng-relay",
            &[
                ("relay", "10.102.2.1", Some(text)),
                ("sink", "10.102.2.2", None),
            ],
        )
    };
    // After SIGTERM the 100 ms wait is the shutdown's; the wait before it was cut short by the
    // stop, and the program then exited 0: one-way traffic, nothing unanswered.
    let stopped = relay(SYSLOG_NG_RELAY_STOPPED);
    assert!(
        stopped.unanswered_requests.is_empty(),
        "{:?}",
        stopped.unanswered_requests
    );
    // Without the stop request the same timed-out wait, then the close, gave the message up.
    let unasked = SYSLOG_NG_RELAY_STOPPED.replace(
        "2576  23:39:44.780881 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=18243, si_uid=0} ---\n",
        "",
    );
    let unasked = unasked.replace(
        "epoll_wait(3, 0x7ffc74590aa0, 10, -1) = -1 EINTR (Interrupted system call)",
        "epoll_wait(3, [], 10, 1000) = 0",
    );
    assert_eq!(relay(&unasked).unanswered_requests.len(), 1);
}
/// PgBouncer's server connection (pool lab, pgb-backend-crashed-psql--T): the start-up, a SET,
/// then a query it passes on and waits for, until the end of the stream.
const PGBOUNCER_SERVER_CONN: &str = "\
9478  23:45:43.410170 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 8 <0.000011>
9478  23:45:43.410239 fcntl(8, F_SETFL, O_RDWR|O_NONBLOCK) = 0 <0.000007>
9478  23:45:43.410335 connect(8, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr(\"10.102.2.2\")}, 16) = -1 EINPROGRESS (Operation now in progress) <0.000066>
9478  23:45:43.410426 epoll_ctl(3, EPOLL_CTL_ADD, 8, {events=EPOLLOUT, data={u32=8, u64=8}}) = 0 <0.000009>
9478  23:45:43.410454 epoll_wait(3, [{events=EPOLLOUT, data={u32=8, u64=8}}], 32, 154) = 1 <0.000008>
9478  23:45:43.410479 epoll_ctl(3, EPOLL_CTL_DEL, 8, 0x7fff8dcd479c) = 0 <0.000008>
9478  23:45:43.410500 getsockopt(8, SOL_SOCKET, SO_ERROR, [0], [4]) = 0 <0.000008>
9478  23:45:43.410526 getsockname(8, {sa_family=AF_INET, sin_port=htons(37448), sin_addr=inet_addr(\"10.102.2.1\")}, [28 => 16]) = 0 <0.000007>
9478  23:45:43.410603 sendto(8, \"\\0\\0\\0)\\0\\3\\0\\0database\\0postgres\\0user\\0postgres\\0\\0\", 41, 0, NULL, 0) = 41 <0.000016>
9478  23:45:43.410644 epoll_ctl(3, EPOLL_CTL_ADD, 8, {events=EPOLLIN, data={u32=8, u64=8}}) = 0 <0.000008>
9478  23:45:43.410668 epoll_wait(3, [{events=EPOLLIN, data={u32=8, u64=8}}], 32, 154) = 1 <0.047387>
9478  23:45:43.458196 recvfrom(8, \"R\\0\\0\\0\\10\\0\\0\\0\\0S\\0\\0\\0\\26application_name\\0\\0S\\0\\0\\0\\31client_encoding\\0UTF8\\0S\\0\\0\\0\\27DateStyle\\0ISO, MDY\\0S\\0\\0\\0&default_transaction_read_only\\0off\\0S\\0\\0\\0\\27in_hot_standby\\0off\\0S\\0\\0\\0\\31integer_datetimes\\0on\\0S\\0\\0\\0\\33IntervalStyle\\0postgres\\0S\\0\\0\\0\\24is_superuser\\0on\\0S\\0\\0\\0\\31server_encoding\\0UTF8\\0S\\0\\0\\0002serve\"..., 4096, 0, NULL, NULL) = 410 <0.000039>
9478  23:45:43.461451 sendto(8, \"Q\\0\\0\\0!SET application_name='psql';\\0\", 34, 0, NULL, 0) = 34 <0.000313>
9478  23:45:43.461848 recvfrom(8, \"C\\0\\0\\0\\10SET\\0S\\0\\0\\0\\32application_name\\0psql\\0Z\\0\\0\\0\\5I\", 4096, 0, NULL, NULL) = 42 <0.000008>
9478  23:45:43.461933 sendto(8, \"Q\\0\\0\\0\\27select pg_sleep(5)\\0\", 24, 0, NULL, 0) = 24 <0.001225>
9478  23:45:43.463184 epoll_wait(3, [], 32, 102) = 0 <0.102226>
9478  23:45:43.565501 epoll_wait(3, [], 32, 331) = 0 <0.331408>
9478  23:45:44.567218 epoll_wait(3, [{events=EPOLLIN, data={u32=8, u64=8}}], 32, 331) = 1 <0.296596>
9478  23:45:44.863895 recvfrom(8, \"\", 4096, 0, NULL, NULL) = 0 <0.000011>
9478  23:45:44.864367 close(8)          = 0 <0.000038>
";

/// The PostgreSQL side: the postmaster accepts and forks the session's back end, which reads
/// the query; SIGKILL takes the postmaster and the back end, seeing it gone, exits with status 1.
const POSTGRES_BACKEND_DIED: &str = "\
9456  23:45:43.157354 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 5 <0.000022>
9456  23:45:43.157424 bind(5, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr(\"10.102.2.2\")}, 16) = 0 <0.000097>
9456  23:45:43.157548 listen(5, 84)     = 0 <0.000010>
9456  23:45:43.421639 accept(5, {sa_family=AF_INET, sin_port=htons(37448), sin_addr=inet_addr(\"10.102.2.1\")}, [128 => 16]) = 7 <0.000053>
9456  23:45:43.422107 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7faf8c822d50) = 9495 <0.000624>
9456  23:45:43.422784 close(7)          = 0 <0.000090>
9495  23:45:43.433672 fcntl(7, F_GETFL) = 0x2 (flags O_RDWR) <0.000007>
9495  23:45:43.433696 fcntl(7, F_SETFL, O_RDWR|O_NONBLOCK) = 0 <0.000006>
9495  23:45:43.433948 recvfrom(7, \"\\0\\0\\0)\\0\\3\\0\\0database\\0postgres\\0user\\0postgres\\0\\0\", 8192, 0, NULL, NULL) = 41 <0.000012>
9495  23:45:43.457812 sendto(7, \"R\\0\\0\\0\\10\\0\\0\\0\\0S\\0\\0\\0\\26application_name\\0\\0S\\0\\0\\0\\31client_encoding\\0UTF8\\0S\\0\\0\\0\\27DateStyle\\0ISO, MDY\\0S\\0\\0\\0&default_transaction_read_only\\0off\\0S\\0\\0\\0\\27in_hot_standby\\0off\\0S\\0\\0\\0\\31integer_datetimes\\0on\\0S\\0\\0\\0\\33IntervalStyle\\0postgres\\0S\\0\\0\\0\\24is_superuser\\0on\\0S\\0\\0\\0\\31server_encoding\\0UTF8\\0S\\0\\0\\0002serve\"..., 410, 0, NULL, 0) = 410 <0.000073>
9495  23:45:43.461532 recvfrom(7, \"Q\\0\\0\\0!SET application_name='psql';\\0\", 8192, 0, NULL, NULL) = 34 <0.000007>
9495  23:45:43.461712 sendto(7, \"C\\0\\0\\0\\10SET\\0S\\0\\0\\0\\32application_name\\0psql\\0Z\\0\\0\\0\\5I\", 42, 0, NULL, 0) = 42 <0.000012>
9495  23:45:43.461973 recvfrom(7, \"Q\\0\\0\\0\\27select pg_sleep(5)\\0\", 8192, 0, NULL, NULL) = 24 <0.000006>
9495  23:45:44.862375 exit_group(1 <unfinished ...>
9495  23:45:44.862472 <... exit_group resumed>) = ?
9495  23:45:44.893634 +++ exited with 1 +++
";

#[test]
fn a_peer_that_exits_in_failure_with_a_request_read_left_it_unanswered() {
    let replay = |backend: &str| {
        super::replay_texts(
            "pgbouncer-backend-died",
            &[
                ("middle", "10.102.2.1", Some(PGBOUNCER_SERVER_CONN)),
                ("backend", "10.102.2.2", Some(backend)),
            ],
        )
        .unanswered_requests
    };
    // The connection had carried answers (the start-up, the SET); the query it read went with
    // the back end's failed exit.
    let died = replay(POSTGRES_BACKEND_DIED);
    let [u] = died.as_slice() else {
        panic!("{died:?}")
    };
    assert!(u.ended_by_peer && u.peer_traced, "{u:?}");
    assert_eq!(u.peer, addr("10.102.2.2:5432"));
    assert_eq!(u.request.line, 15, "{u:?}");
    // A back end that ended with status 0 finished its work: a close after it is no silence.
    let finished = POSTGRES_BACKEND_DIED.replace("+++ exited with 1 +++", "+++ exited with 0 +++");
    assert!(replay(&finished).is_empty());
}
