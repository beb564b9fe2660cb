//! TCP byte streams: send, receive, end of stream, resets, would-block.

use super::*;

#[test]
fn recv_before_send_retries_and_changes_nothing() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let recv = a.recv(s, b"hello");
    let send = b.send(c, b"hello");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert!(is_retry(&w.upto(recv)), "still nothing sent");
    assert_eq!(w.upto(send), Verdict::Accept);
    assert!(w
        .model
        .take_touched()
        .contains(&WaitKey::Sock(addr_sock(0, 1))));
    assert_eq!(w.upto(recv), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.tcp[0].to_server.stats.sent, 5);
    assert_eq!(out.tcp[0].to_server.stats.received, 5);
}

#[test]
fn partial_receives_and_truncated_content_match() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send_shown(c, b"abc", 10); // strace showed 3 of 10 bytes
    let first = a.recv(s, b"abcd");
    let rest = a.recv_into(s, b"efghij", 6, 4096, MsgFlags::default(), None);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(w.upto(first), Verdict::Accept);
    assert_eq!(w.upto(rest), Verdict::Accept);
}

#[test]
fn different_bytes_are_a_data_mismatch() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send(c, b"hello");
    let recv = a.recv(s, b"hellx");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(kind(&w.upto(recv)), Some(&DeviationKind::DataMismatch));
}

#[test]
fn peek_does_not_consume() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let send = b.send(c, b"hello");
    let peek = a.recv_into(
        s,
        b"he",
        2,
        2,
        MsgFlags {
            peek: true,
            ..MsgFlags::default()
        },
        None,
    );
    let recv = a.recv(s, b"hello");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(send);
    assert_eq!(w.upto(peek), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn end_of_stream_waits_for_the_peers_close() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let eof = a.recv_eof(s);
    let close = b.close(c);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(eof)));
    assert_eq!(w.upto(close), Verdict::Accept);
    assert_eq!(w.upto(eof), Verdict::Accept);
}

#[test]
fn end_of_stream_after_shutdown_write() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let shut = b.shutdown(c, 1);
    let eof = a.recv_eof(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(shut);
    assert_eq!(w.upto(eof), Verdict::Accept);
}

#[test]
fn epipe_waits_for_the_peers_close_then_is_a_deviation() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let close = a.close(s);
    let send = b.send_fails(c, b"late", Errno::EPIPE);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(send)));
    w.upto(close);
    assert_eq!(
        kind(&w.upto(send)),
        Some(&DeviationKind::SendAfterPeerClosed {
            errno: Some(Errno::EPIPE)
        })
    );
}

#[test]
fn epipe_after_its_own_shutdown_is_expected_even_once_the_peer_closed() {
    // vsftpd (apps/ftp-healthy-plain): the session process shuts the control connection down
    // both ways, the client closes, and the privileged parent sharing the socket writes into it.
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    b.shutdown(c, 2);
    let close = a.close(s);
    let send = b.send_fails(c, b"500 OOPS: ", Errno::EPIPE);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(close);
    assert_eq!(w.upto(send), Verdict::Accept);
}

#[test]
fn reset_with_both_ends_open_is_forced_as_a_reset() {
    let topo = two_hosts();
    let (a, mut b, _, c) = connected();
    let recv = b.recv_fails(c, Errno::ECONNRESET);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::ConnectionReset));
}

#[test]
fn data_nobody_sent_is_forced_as_unknown_data() {
    let topo = two_hosts();
    let (mut a, b, s, _) = connected();
    let recv = a.recv(s, b"from nowhere");
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::UnknownData));
}

#[test]
fn sendfile_moves_counts_without_content() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    let file_fd = 99;
    let sendfile = b.call(
        crate::parse::Syscall::CopyFile {
            out_fd: c,
            in_fd: file_fd,
            count: 1000,
        },
        crate::parse::Outcome::ok(1000),
    );
    let recv = a.recv_into(
        s,
        b"any bytes at all",
        1000,
        4096,
        MsgFlags::default(),
        None,
    );
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(sendfile), Verdict::Accept);
    assert_eq!(w.upto(recv), Verdict::Accept);
    assert_eq!(w.finish().tcp[0].to_server.stats.received, 1000);
}

#[test]
fn receive_timeouts_and_dontwait_make_eagain_expected() {
    let topo = two_hosts();
    let (mut a, b, s, _) = connected();
    let dontwait = a.call(
        crate::parse::Syscall::Recv {
            fd: s,
            data: crate::parse::Payload::default(),
            buf_len: 10,
            flags: MsgFlags {
                dontwait: true,
                ..MsgFlags::default()
            },
            src: None,
            truncated_datagram: None,
            passed_fds: Vec::new(),
        },
        crate::parse::Outcome::failed(Errno::EAGAIN),
    );
    a.setsockopt(
        s,
        "SOL_SOCKET",
        "SO_RCVTIMEO",
        OptValue::Timeout { micros: 500_000 },
    );
    let timed_out = a.recv_fails(s, Errno::EAGAIN);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    assert_eq!(w.upto(dontwait), Verdict::Accept);
    assert_eq!(w.upto(timed_out), Verdict::Accept);
}

#[test]
fn unread_bytes_beyond_the_sized_buffers_overrun_once() {
    let topo = two_hosts();
    let (a, mut b, _, c) = connected();
    b.setsockopt(c, "SOL_SOCKET", "SO_SNDBUF", OptValue::Int(4096));
    let big = vec![b'x'; 4000];
    let first = b.send(c, &big);
    let second = b.send(c, &big);
    let third = b.send(c, &big);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    // Capacity: 8192 (4096 doubled) + the receiver's auto-tuned maximum: large sends fit.
    assert_eq!(w.upto(first), Verdict::Accept);
    assert_eq!(w.upto(second), Verdict::Accept);
    assert_eq!(w.upto(third), Verdict::Accept);
}

#[test]
fn explicitly_small_buffers_on_both_ends_overrun() {
    let topo = two_hosts();
    let (mut a, l, listen) = server();
    a.setsockopt(l, "SOL_SOCKET", "SO_RCVBUF", OptValue::Int(2048));
    let accept_loc = a.next_loc();
    a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.setsockopt(c, "SOL_SOCKET", "SO_SNDBUF", OptValue::Int(4096));
    b.connect(c, "10.0.0.1:80");
    let big = vec![b'x'; 10_000];
    let send = b.send(c, &big);
    let overrun = b.send(c, &big);
    let again = b.send(c, &big);
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(listen);
    w.upto(Loc::new(TraceId(0), 4));
    w.upto(Loc::new(TraceId(1), 3));
    w.upto(accept_loc);
    assert_eq!(w.upto(send), Verdict::Accept, "10000 bytes fit in 12288");
    assert_eq!(
        kind(&w.upto(overrun)),
        Some(&DeviationKind::BufferOverrun {
            unreceived: 20_000,
            capacity: 8192 + 4096
        })
    );
    assert_eq!(
        w.upto(again),
        Verdict::Accept,
        "reported once per direction"
    );
}

#[test]
fn closed_connections_keep_counters_but_no_content() {
    let topo = two_hosts();
    let (mut a, mut b, s, c) = connected();
    b.send(c, b"never read by the server");
    let client_close = b.close(c);
    let server_close = a.close(s);
    let mut w = World::new(&topo, vec![a, b]);
    set_up(&mut w);
    w.upto(client_close);
    assert!(
        w.model.held_content_bytes() > 0,
        "unread bytes are held while the server lives"
    );
    w.upto(server_close);
    assert_eq!(w.model.held_content_bytes(), 0);
    assert!(
        w.model.socket(addr_sock(0, 1)).is_none(),
        "closed sockets leave the table"
    );
    let out = w.finish();
    assert_eq!(out.tcp[0].to_server.unreceived(), 24);
    assert!(out.tcp[0].to_server.stats.closed_by_receiver);
}
