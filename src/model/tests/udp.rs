//! UDP datagrams: flows, loss, truncation, broadcast, multicast, IPv6.

use super::*;

#[test]
fn lost_datagrams_are_counted_by_size() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv1 = a.recvfrom(r, b"one", "10.0.0.2:6000");
    let recv3 = a.recvfrom(r, b"thr", "10.0.0.2:6000");
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    b.sendto(s, b"one", "10.0.0.1:5000");
    b.sendto(s, b"two", "10.0.0.1:5000");
    let last = b.sendto(s, b"thr", "10.0.0.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    assert!(is_retry(&w.upto(recv1)));
    w.upto(last);
    assert_eq!(w.upto(recv1), Verdict::Accept);
    assert_eq!(w.upto(recv3), Verdict::Accept);
    let out = w.finish();
    assert_eq!(out.udp.len(), 1);
    assert_eq!(out.udp[0].by_size, vec![(3, 3, 2)]);
    assert_eq!(out.udp[0].receivers, vec![addr_sock(0, 0)]);
}

#[test]
fn a_datagram_cut_to_the_buffer_is_truncated() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv = a.recv_into(
        r,
        b"0123456789",
        10,
        10,
        MsgFlags::default(),
        Some("10.0.0.2:6000"),
    );
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    let big = vec![b'0'; 0]
        .into_iter()
        .chain(b"0123456789abcdefghij".iter().copied())
        .collect::<Vec<u8>>();
    let send = b.sendto(s, &big, "10.0.0.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(
        kind(&w.upto(recv)),
        Some(&DeviationKind::DatagramTruncated {
            len: 20,
            buffer: 10
        })
    );
}

#[test]
fn broadcast_needs_so_broadcast() {
    let topo = two_hosts();
    let mut b = Script::new(1);
    let s = b.udp();
    let denied = b.sendto(s, b"hello", "255.255.255.255:9");
    let t = b.udp();
    b.setsockopt(t, "SOL_SOCKET", "SO_BROADCAST", OptValue::Int(1));
    let allowed = b.sendto(t, b"hello", "255.255.255.255:9");
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(
        kind(&w.upto(denied)),
        Some(&DeviationKind::BroadcastNotPermitted)
    );
    assert_eq!(w.upto(allowed), Verdict::Accept);
}

#[test]
fn multicast_members_receive_group_datagrams() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.setsockopt(r, "SOL_SOCKET", "SO_REUSEADDR", OptValue::Int(1));
    a.bind(r, "0.0.0.0:5000");
    a.setsockopt(
        r,
        "SOL_IP",
        "IP_ADD_MEMBERSHIP",
        OptValue::Membership {
            group: "239.1.1.1".parse().unwrap(),
            interface: None,
        },
    );
    let recv = a.recvfrom(r, b"tick", "10.0.0.2:6000");
    let mut b = Script::new(1);
    let s = b.udp();
    b.bind(s, "10.0.0.2:6000");
    let send = b.sendto(s, b"tick", "239.1.1.1:5000");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn ipv6_datagrams_flow() {
    let topo = topology(&[&["fd00::1"], &["fd00::2"]]);
    let mut a = Script::new(0);
    let r = a.udp6();
    a.bind(r, "[::]:5353");
    let recv = a.recvfrom(r, b"q", "[fd00::2]:7000");
    let mut b = Script::new(1);
    let s = b.udp6();
    b.bind(s, "[fd00::2]:7000");
    let send = b.sendto(s, b"q", "[fd00::1]:5353");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(w.upto(recv), Verdict::Accept);
}

#[test]
fn a_datagram_nobody_sent_is_forced_as_unknown_data() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "10.0.0.1:5000");
    let recv = a.recvfrom(r, b"?", "10.0.0.2:6000");
    let mut w = World::new(&topo, vec![a]);
    assert!(is_retry(&w.upto(recv)));
    assert_eq!(w.model.wait_keys()[0], WaitKey::UdpPort(5000));
    assert_eq!(kind(&w.force(recv)), Some(&DeviationKind::UnknownData));
}

#[test]
fn an_auto_bound_sender_is_found_at_the_address_its_peer_saw() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let s = a.udp();
    a.bind(s, "10.0.0.1:53");
    let query_in = a.recvfrom(s, b"q", "10.0.0.2:40000");
    a.sendto(s, b"long answer", "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.udp();
    b.sendto(c, b"q", "10.0.0.1:53");
    // The reply is cut to a 4-byte buffer: only its prefix identifies it, found by the port
    // the client was given when it first sent.
    let cut = b.recv_into(c, b"long", 4, 4, MsgFlags::default(), Some("10.0.0.1:53"));
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(query_in);
    w.upto(Loc::new(TraceId(0), 4));
    assert!(matches!(
        kind(&w.upto(cut)),
        Some(DeviationKind::DatagramTruncated { len: 11, buffer: 4 })
    ));
}

/// glibc's getaddrinfo probes each candidate's source address with a UDP socket it connects,
/// asks getsockname, and dissolves with connect(AF_UNSPEC); sshd's probe
/// (lab/healthy-ssh--ssh--sshd--record/server.trace:298-302) learns `::1` for `::`, then
/// connects the same socket to 0.0.0.0. The dissolved association took its source address
/// along, and 0.0.0.0 is this host: nothing talks to another host from loopback.
#[test]
fn connect_af_unspec_forgets_the_source_address_of_the_association() {
    use crate::parse::{Outcome, SockAddr, Syscall};
    let topo = topology(&[&["10.77.1.10"]]);
    let mut a = Script::new(0);
    let probe = a.udp6();
    a.connect(probe, "[::]:22");
    a.getsockname(probe, "[::1]:47765");
    a.call(
        Syscall::Connect {
            fd: probe,
            addr: SockAddr::Unspec,
        },
        Outcome::ok(0),
    );
    let next_candidate = a.connect(probe, "0.0.0.0:22");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(next_candidate), Verdict::Accept);
    let probe = w.model.socket(addr_sock(0, 0));
    assert_eq!(probe.and_then(|s| s.local), None);
}

/// A UDP socket bound explicitly keeps its address when its association is dissolved.
#[test]
fn connect_af_unspec_keeps_an_explicitly_bound_address() {
    use crate::parse::{Outcome, SockAddr, Syscall};
    let topo = topology(&[&["10.77.1.10"], &["10.77.1.20"]]);
    let mut a = Script::new(0);
    let u = a.udp();
    a.bind(u, "127.0.0.1:5000");
    a.connect(u, "127.0.0.1:53");
    a.call(
        Syscall::Connect {
            fd: u,
            addr: SockAddr::Unspec,
        },
        Outcome::ok(0),
    );
    let external = a.connect(u, "10.77.1.20:53");
    let mut w = World::new(&topo, vec![a]);
    assert!(matches!(
        kind(&w.upto(external)),
        Some(DeviationKind::LoopbackBoundExternalPeer { .. })
    ));
}

/// lab/nat-declared-udp--socat--python--record/client.trace:114: socat shuts down writing on
/// its connected UDP socket; Linux allows shutdown on any socket with a peer.
#[test]
fn shutdown_of_a_connected_udp_socket_is_legal() {
    let topo = topology(&[&["10.77.1.10"], &["10.77.2.21"]]);
    let mut b = Script::new(1);
    let u = b.udp();
    b.connect(u, "10.77.1.10:7200");
    let shut = b.shutdown(u, 1);
    let unconnected = b.udp();
    let refused = b.shutdown(unconnected, 1);
    let mut w = World::new(&topo, vec![Script::new(0), b]);
    assert_eq!(w.upto(shut), Verdict::Accept);
    assert!(matches!(
        kind(&w.upto(refused)),
        Some(DeviationKind::UnexpectedSuccess)
    ));
}

/// curl resolving the server by name (lab/healthy-http-byname--curl--bbhttpd--plain): glibc's
/// getaddrinfo connects a UDP probe to each candidate, port 8000, and never sends on it. Only a
/// datagram makes an address a peer.
#[test]
fn a_udp_connect_that_never_sends_makes_no_peer() {
    let topo = topology(&[&["10.77.1.21"]]);
    let mut a = Script::new(0);
    let probe = a.udp();
    let connect = a.connect(probe, "10.77.1.10:8000");
    let mut w = World::new(&topo, vec![a]);
    assert_eq!(w.upto(connect), Verdict::NotModelled);
    assert!(w.finish().activity[0].unknown_peers.is_empty());

    let mut b = Script::new(0);
    let socket = b.udp();
    b.connect(socket, "10.77.1.10:7200");
    let send = b.send(socket, b"udp hello\n");
    let mut w = World::new(&topo, vec![b]);
    assert_eq!(w.upto(send), Verdict::NotModelled);
    assert_eq!(
        w.finish().activity[0].unknown_peers,
        vec![addr("10.77.1.10:7200")]
    );
}

/// socat `UDP4-RECVFROM:9001,fork` (strace 6.1, `-f -tt -yy`) peeks one byte of each datagram
/// with MSG_TRUNC to learn its size, then its child reads it whole:
/// `recvmsg(5<UDP:[0.0.0.0:9001]>, {msg_name={... sin_port=htons(60190),
/// sin_addr=inet_addr("10.213.7.1")}, ..., msg_iov=[{iov_base="p", iov_len=1}], ...,
/// msg_flags=MSG_TRUNC}, MSG_PEEK|MSG_TRUNC) = 6`, then
/// `recvfrom(5<UDP:[0.0.0.0:9001]>, "ping1\n", 8192, 0, {... sin_port=htons(60190), ...}) = 6`.
#[test]
fn a_peek_that_reports_the_full_size_cuts_nothing() {
    let topo = two_hosts();
    let mut a = Script::new(0);
    let r = a.udp();
    a.bind(r, "0.0.0.0:9001");
    let peek = MsgFlags {
        peek: true,
        trunc: true,
        ..MsgFlags::default()
    };
    let peeked = a.recv_into(r, b"p", 6, 1, peek, Some("10.0.0.2:60190"));
    let read = a.recv_into(
        r,
        b"ping1\n",
        6,
        8192,
        MsgFlags::default(),
        Some("10.0.0.2:60190"),
    );
    let mut b = Script::new(1);
    let s = b.udp();
    b.connect(s, "10.0.0.1:9001");
    let send = b.send(s, b"ping1\n");
    let mut w = World::new(&topo, vec![a, b]);
    w.upto(send);
    assert_eq!(w.upto(peeked), Verdict::Accept);
    assert_eq!(w.upto(read), Verdict::Accept);
    let out = w.finish();
    assert!(out.deviations.is_empty(), "{:#?}", out.deviations);
}

/// svc/dhcp-healthy--record, server.trace:144, 244 and 354 (payloads cut): dnsmasq's socket on
/// 0.0.0.0:67 reads udhcpc's DISCOVER, which left the client's packet socket with source
/// 0.0.0.0 (it has no address yet), and answers the address it offers. A datagram from 0.0.0.0
/// that no traced socket sent is a host without an address, not data gone astray; the trace
/// talked to another host.
#[test]
fn a_datagram_from_a_host_without_an_address_is_no_unknown_data() {
    let server = r#"14932 1796663179.331186 socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 4<UDP:[34141]> <0.000021>
14932 1796663179.331964 bind(4<UDP:[34141]>, {sa_family=AF_INET, sin_port=htons(67), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000016>
14932 1796663179.491083 recvmsg(4<UDP:[0.0.0.0:67]>, {msg_name={sa_family=AF_INET, sin_port=htons(68), sin_addr=inet_addr("0.0.0.0")}, msg_namelen=16, msg_iov=[{iov_base="\1\1\6\0(\235@\27"..., iov_len=548}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 300 <0.000020>
14932 1796663182.508375 sendmsg(4<UDP:[0.0.0.0:67]>, {msg_name={sa_family=AF_INET, sin_port=htons(68), sin_addr=inet_addr("10.98.1.107")}, msg_namelen=16, msg_iov=[{iov_base="\2\1\6\0(\235@\27"..., iov_len=300}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 300 <0.000026>
"#;
    let out = super::replay_texts(
        "addressless",
        &[
            ("server", "10.98.1.1", Some(server)),
            ("client", "10.98.1.2", None),
        ],
    );
    assert!(
        out.deviations
            .iter()
            .all(|d| d.kind != DeviationKind::UnknownData),
        "{:?}",
        out.deviations
    );
    let activity = out.activity.first().expect("the server's activity");
    assert_eq!(activity.addressless_peer_contacts, 1, "{activity:?}");
}

/// svc/avahi-healthy--k, server.trace:14212-14213: avahi-daemon asks FIONREAD for the size of
/// the next datagram and reads the 30-byte question into exactly 30 bytes; msg_flags=0 says the
/// kernel did not cut it (no MSG_TRUNC). Without the flags (recvfrom), a buffer sized to the
/// message is no cut either, while a generic buffer filled exactly is a probable one, unless
/// the flags say otherwise.
#[test]
fn a_full_buffer_is_no_cut_when_the_message_flags_say_so() {
    let read = |call: &str| {
        format!(
            r#"14991 17:06:30.100000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 9
14991 17:06:30.100100 bind(9, {{sa_family=AF_INET, sin_port=htons(5353), sin_addr=inet_addr("0.0.0.0")}}, 16) = 0
14991 17:06:31.235351 ioctl(9, FIONREAD, [30]) = 0
14991 17:06:31.236593 {call}
"#
        )
    };
    let truncated = |text: &str, name: &str| {
        let out = super::replay_texts(
            name,
            &[
                ("server", "10.98.1.1", Some(text)),
                ("client", "10.98.1.2", None),
            ],
        );
        out.deviations
            .iter()
            .any(|d| matches!(d.kind, DeviationKind::DatagramTruncated { .. }))
    };
    let recvmsg = read(
        r#"recvmsg(9, {msg_name={sa_family=AF_INET, sin_port=htons(41824), sin_addr=inet_addr("10.98.1.2")}, msg_namelen=16, msg_iov=[{iov_base="\277\306\0\0\0\1\0\0\0\0\0\0\6labsrv\5local\0\0\1\0\1", iov_len=30}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 30"#,
    );
    assert!(!truncated(&recvmsg, "flags-shown"));
    let recvfrom = read(
        r#"recvfrom(9, "\277\306\0\0\0\1\0\0\0\0\0\0\6labsrv\5local\0\0\1\0\1", 30, 0, {sa_family=AF_INET, sin_port=htons(41824), sin_addr=inet_addr("10.98.1.2")}, [16]) = 30"#,
    );
    assert!(!truncated(&recvfrom, "flags-unshown"));
    // The same question read into a generic 512-byte buffer that it filled.
    let generic = read(
        r#"recvfrom(9, "\277\306\0\0\0\1\0\0\0\0\0\0\6labsrv\5local\0\0\1\0\1"..., 512, 0, {sa_family=AF_INET, sin_port=htons(41824), sin_addr=inet_addr("10.98.1.2")}, [16]) = 512"#,
    );
    assert!(truncated(&generic, "generic-unshown"));
    let generic_flags = read(
        r#"recvmsg(9, {msg_name={sa_family=AF_INET, sin_port=htons(41824), sin_addr=inet_addr("10.98.1.2")}, msg_namelen=16, msg_iov=[{iov_base="\277\306\0\0\0\1\0\0\0\0\0\0\6labsrv\5local\0\0\1\0\1"..., iov_len=512}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 512"#,
    );
    assert!(!truncated(&generic_flags, "generic-shown"));
}

/// Kamailio's UDP socket, bound to port 5060, closed by the SIGKILL that ended it
/// (svc/sip-killed--T, server.trace, pid 15627).
const SIP_SERVER_KILLED: &str = r#"15627 17:07:43.579355 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3 <0.000016>
15627 17:07:43.581498 bind(3, {sa_family=AF_INET, sin_port=htons(5060), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000012>
15627 17:07:44.514191 +++ killed by SIGKILL +++
"#;

/// Two OPTIONS requests, each waited for 1 s in vain (client.trace:1339-1348, payloads cut).
const SIP_CLIENT_AFTER_THE_KILL: &str = r#"15811 17:07:44.793017 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3 <0.000022>
15811 17:07:44.793088 bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000014>
15811 17:07:44.793253 sendto(3, "OPTIONS sip:10.98.1.1:5060 SIP/2.0\r\n"..., 319, 0, {sa_family=AF_INET, sin_port=htons(5060), sin_addr=inet_addr("10.98.1.1")}, 16) = 319 <0.000050>
15811 17:07:44.793373 poll([{fd=3, events=POLLIN}], 1, 1000) = 0 (Timeout) <1.001103>
15811 17:07:45.794743 sendto(3, "OPTIONS sip:10.98.1.1:5060 SIP/2.0\r\n"..., 319, 0, {sa_family=AF_INET, sin_port=htons(5060), sin_addr=inet_addr("10.98.1.1")}, 16) = 319 <0.000060>
15811 17:07:45.794898 poll([{fd=3, events=POLLIN}], 1, 1000) = 0 (Timeout) <1.001093>
15811 17:07:46.796120 close(3)          = 0 <0.000030>
"#;

/// Datagrams the clocks do not put before the close of every socket bound to their port found
/// nothing there (or nothing that would read them): unanswered requests, no loss. Sent earlier
/// than that by more than the clock margin, they reached a bound port and were lost.
#[test]
fn datagrams_sent_after_the_receivers_death_by_the_clocks_are_not_lost() {
    let replay = |name: &str, client: &str| {
        super::replay_texts(
            name,
            &[
                ("server", "10.98.1.1", Some(SIP_SERVER_KILLED)),
                ("client", "10.98.1.2", Some(client)),
            ],
        )
    };
    let after = replay("sip-after-kill", SIP_CLIENT_AFTER_THE_KILL);
    assert_eq!(after.udp.len(), 1, "{:?}", after.udp);
    assert!(after.udp[0].nothing_bound_at_receiver, "{:?}", after.udp);
    assert_eq!(after.unanswered_requests.len(), 1, "{after:?}");
    assert_eq!(after.unanswered_requests[0].unanswered, 2);
    assert!(after.unanswered_requests[0].nothing_bound);
    // The same requests 1.3 s earlier: the port was bound when they came.
    let earlier = SIP_CLIENT_AFTER_THE_KILL
        .replace("17:07:44.", "17:07:42.")
        .replace("17:07:45.", "17:07:43.")
        .replace("17:07:46.", "17:07:44.");
    let before = replay("sip-before-kill", &earlier);
    assert!(!before.udp[0].nothing_bound_at_receiver, "{:?}", before.udp);
}
