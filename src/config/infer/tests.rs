//! Inference over hand-built calls: each test is a small dialogue per host.

use std::net::SocketAddr;

use super::inference::MAX_EVIDENCE;
use super::*;
use crate::parse::{
    Domain, Errno, Fd, FdInfo, MsgFlags, Outcome, Payload, Protocol, SockAddr, SockType, Syscall,
    SyscallName,
};
use crate::source::{Loc, TraceId};

/// Builds one trace's calls, numbering lines as they are added.
struct Script {
    trace: TraceId,
    calls: Vec<Call>,
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn inet(text: &str) -> SockAddr {
    SockAddr::Inet(addr(text))
}

impl Script {
    fn new(trace: u32) -> Self {
        Script {
            trace: TraceId(trace),
            calls: Vec::new(),
        }
    }

    fn push(&mut self, name: SyscallName, syscall: Syscall, outcome: Outcome) -> &mut Call {
        let line = self.calls.len() as u64 + 1;
        self.calls.push(Call {
            loc: Loc::new(self.trace, line),
            pid: 100,
            time: None,
            duration: None,
            name,
            syscall,
            outcome,
            fd_info: Vec::new(),
        });
        self.calls.last_mut().unwrap()
    }

    fn socket(&mut self, fd: Fd) -> &mut Self {
        let syscall = Syscall::Socket {
            domain: Domain::Inet,
            ty: SockType::Stream,
            nonblock: false,
            cloexec: false,
            protocol: Protocol::Default,
            fd: Some(fd),
        };
        self.push(SyscallName::Socket, syscall, Outcome::ok(fd.into()));
        self
    }

    fn bind(&mut self, fd: Fd, local: &str) -> &mut Self {
        let syscall = Syscall::Bind {
            fd,
            addr: inet(local),
        };
        self.push(SyscallName::Bind, syscall, Outcome::ok(0));
        self
    }

    fn accept(&mut self, fd: Fd, peer: &str, new_fd: Fd) -> &mut Self {
        let syscall = Syscall::Accept {
            fd,
            peer: Some(inet(peer)),
            nonblock: false,
            cloexec: false,
            new_fd: Some(new_fd),
        };
        self.push(SyscallName::Accept, syscall, Outcome::ok(new_fd.into()));
        self
    }

    /// An accept whose result strace decorated with `-yy`.
    fn accept_decorated(&mut self, fd: Fd, peer: &str, new_fd: Fd, local: &str) -> &mut Self {
        self.accept(fd, peer, new_fd);
        if let Some(call) = self.calls.last_mut() {
            call.fd_info.push(FdInfo {
                fd: new_fd,
                kind: "TCP".into(),
                local: Some(addr(local)),
                peer: Some(addr(peer)),
                detail: None,
            });
        }
        self
    }

    fn connect(&mut self, fd: Fd, target: &str, outcome: Outcome) -> &mut Self {
        let syscall = Syscall::Connect {
            fd,
            addr: inet(target),
        };
        self.push(SyscallName::Connect, syscall, outcome);
        self
    }

    fn getsockname(&mut self, fd: Fd, local: &str) -> &mut Self {
        let syscall = Syscall::Getsockname {
            fd,
            addr: Some(inet(local)),
        };
        self.push(SyscallName::Getsockname, syscall, Outcome::ok(0));
        self
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.clone()
    }
}

/// A server on `bind` accepting one connection from `peer`.
fn server(trace: u32, bind: &str, peer: &str) -> Script {
    let mut s = Script::new(trace);
    s.socket(3).bind(3, bind).accept(3, peer, 4);
    s
}

/// A client connecting to `target`, then asking for its own address.
fn client(trace: u32, target: &str, local: &str) -> Script {
    let mut s = Script::new(trace);
    s.socket(3)
        .connect(3, target, Outcome::ok(0))
        .getsockname(3, local);
    s
}

fn ips(host: &InferredHost) -> Vec<String> {
    host.ips.iter().map(ToString::to_string).collect()
}

fn nat_lines(host: &InferredHost) -> Vec<String> {
    host.nats
        .iter()
        .map(|n| {
            assert!(n.rule.inferred, "inferred rules are marked");
            crate::config::render::nat_line(&n.rule)
        })
        .collect()
}

#[test]
fn two_hosts_talking_directly_need_no_nat() {
    let a = server(0, "10.0.0.2:80", "10.0.0.1:40000");
    let b = client(1, "10.0.0.2:80", "10.0.0.1:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(ips(&inference.hosts[0]), ["10.0.0.2"]);
    assert_eq!(ips(&inference.hosts[1]), ["10.0.0.1"]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
    assert!(inference.ambiguities.is_empty());
}

#[test]
fn a_client_behind_a_nat_gets_an_inferred_rule_with_evidence() {
    let mut a = Script::new(0);
    a.socket(3).bind(3, "0.0.0.0:80").accept_decorated(
        3,
        "203.0.113.7:51000",
        4,
        "198.51.100.2:80",
    );
    let b = client(1, "198.51.100.2:80", "192.168.1.10:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(ips(&inference.hosts[0]), ["198.51.100.2"]);
    assert_eq!(ips(&inference.hosts[1]), ["192.168.1.10"]);
    assert!(inference.hosts[0].nats.is_empty());
    assert_eq!(
        nat_lines(&inference.hosts[1]),
        ["nat 192.168.1.10 203.0.113.7"]
    );
    let evidence = &inference.hosts[1].nats[0].evidence;
    assert_eq!(
        evidence,
        &[Loc::new(TraceId(0), 3), Loc::new(TraceId(1), 2)]
    );
}

#[test]
fn a_port_forwarded_server_gets_a_rule_with_both_ports() {
    let a = server(0, "192.168.1.50:3005", "198.51.100.9:40000");
    let b = client(1, "96.250.21.150:3001", "198.51.100.9:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[0]),
        ["nat 192.168.1.50,3005 96.250.21.150,3001"]
    );
    assert!(inference.hosts[1].nats.is_empty());
    assert!(inference.ambiguities.is_empty());
}

#[test]
fn a_forwarded_server_bound_to_the_wildcard_uses_its_only_address() {
    let mut a = server(0, "0.0.0.0:3005", "198.51.100.9:40000");
    a.getsockname(4, "192.168.1.50:3005");
    let b = client(1, "96.250.21.150:3001", "198.51.100.9:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[0]),
        ["nat 192.168.1.50,3005 96.250.21.150,3001"]
    );
}

#[test]
fn ipv6_and_mapped_ipv4_addresses_are_gathered_and_compared_canonically() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "[::]:80")
        .accept_decorated(3, "[2001:db8::1]:40000", 4, "[2001:db8::2]:80")
        .accept(3, "[::ffff:10.0.0.1]:40001", 5)
        .getsockname(5, "[::ffff:10.0.0.2]:80");
    let b = client(1, "[2001:db8::2]:80", "[2001:db8::1]:40000");
    let c = client(2, "10.0.0.2:80", "10.0.0.1:40001");
    let inference = infer([a.calls(), b.calls(), c.calls()]);
    assert_eq!(ips(&inference.hosts[0]), ["10.0.0.2", "2001:db8::2"]);
    assert_eq!(ips(&inference.hosts[1]), ["2001:db8::1"]);
    assert_eq!(ips(&inference.hosts[2]), ["10.0.0.1"]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn an_ipv6_client_behind_a_nat_is_found_too() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "[2001:db8::2]:80")
        .accept(3, "[2001:db8:ff::7]:5000", 4);
    let b = client(1, "[2001:db8::2]:80", "[fd00::10]:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[1]),
        ["nat fd00::10 2001:db8:ff::7"]
    );
}

#[test]
fn loopback_and_wildcard_addresses_are_never_host_addresses() {
    let a = server(0, "127.0.0.1:80", "127.0.0.1:40000");
    let mut b = Script::new(1);
    b.socket(3).bind(3, "0.0.0.0:0");
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.ips.is_empty()));
}

#[test]
fn two_private_clients_and_two_unknown_peers_are_reported_as_ambiguous() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "198.51.100.2:80")
        .accept(3, "203.0.113.7:51000", 4)
        .accept(3, "203.0.113.8:52000", 5);
    let b = client(1, "198.51.100.2:80", "192.168.1.10:40000");
    let c = client(2, "198.51.100.2:80", "10.0.0.20:40000");
    let inference = infer([a.calls(), b.calls(), c.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
    assert_eq!(inference.ambiguities.len(), 2);
    assert_eq!(inference.ambiguities[0].loc, Loc::new(TraceId(0), 3));
}

#[test]
fn a_nat_that_keeps_source_ports_identifies_the_client() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "198.51.100.2:80")
        .accept(3, "203.0.113.7:40000", 4)
        .accept(3, "203.0.113.8:41000", 5);
    let b = client(1, "198.51.100.2:80", "192.168.1.10:40000");
    let c = client(2, "198.51.100.2:80", "10.0.0.20:41000");
    let inference = infer([a.calls(), b.calls(), c.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[1]),
        ["nat 192.168.1.10 203.0.113.7"]
    );
    assert_eq!(
        nat_lines(&inference.hosts[2]),
        ["nat 10.0.0.20 203.0.113.8"]
    );
    assert!(inference.ambiguities.is_empty());
}

#[test]
fn clients_behind_one_shared_public_address_all_get_the_rule() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "198.51.100.2:80")
        .accept(3, "203.0.113.7:51000", 4)
        .accept(3, "203.0.113.7:52000", 5);
    let b = client(1, "198.51.100.2:80", "192.168.1.10:40000");
    let c = client(2, "198.51.100.2:80", "192.168.1.11:40000");
    let inference = infer([a.calls(), b.calls(), c.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[1]),
        ["nat 192.168.1.10 203.0.113.7"]
    );
    assert_eq!(
        nat_lines(&inference.hosts[2]),
        ["nat 192.168.1.11 203.0.113.7"]
    );
}

#[test]
fn a_client_the_server_saw_directly_is_not_blamed_for_an_untraced_peer() {
    let mut a = Script::new(0);
    a.socket(3)
        .bind(3, "10.0.0.2:80")
        .accept(3, "10.0.0.1:40000", 4)
        .accept(3, "203.0.113.99:6000", 5);
    let b = client(1, "10.0.0.2:80", "10.0.0.1:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn failed_connects_and_datagram_sockets_are_not_connections() {
    let a = server(0, "192.168.1.50:3005", "198.51.100.9:40000");
    let mut b = Script::new(1);
    b.socket(3)
        .connect(
            3,
            "96.250.21.150:3001",
            Outcome::failed(Errno::ECONNREFUSED),
        )
        .getsockname(3, "198.51.100.9:40000");
    let udp = Syscall::Socket {
        domain: Domain::Inet,
        ty: SockType::Dgram,
        nonblock: false,
        cloexec: false,
        protocol: Protocol::Default,
        fd: Some(5),
    };
    b.push(SyscallName::Socket, udp, Outcome::ok(5));
    b.connect(5, "96.250.21.150:3001", Outcome::ok(0));
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn a_nonblocking_connect_in_progress_counts() {
    let a = server(0, "192.168.1.50:3005", "198.51.100.9:40000");
    let mut b = Script::new(1);
    b.socket(3)
        .connect(3, "96.250.21.150:3001", Outcome::failed(Errno::EINPROGRESS))
        .getsockname(3, "198.51.100.9:40000");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[0]),
        ["nat 192.168.1.50,3005 96.250.21.150,3001"]
    );
}

#[test]
fn a_client_without_a_known_port_is_tied_to_its_only_foreign_target() {
    let a = server(0, "192.168.1.50:3005", "198.51.100.9:40000");
    let mut b = Script::new(1);
    b.socket(3)
        .bind(3, "198.51.100.9:0")
        .connect(3, "96.250.21.150:3001", Outcome::ok(0));
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[0]),
        ["nat 192.168.1.50,3005 96.250.21.150,3001"]
    );
}

#[test]
fn a_client_without_a_known_port_and_several_foreign_targets_is_ambiguous() {
    let a = server(0, "192.168.1.50:3005", "198.51.100.9:40000");
    let mut b = Script::new(1);
    b.socket(3)
        .bind(3, "198.51.100.9:0")
        .connect(3, "96.250.21.150:3001", Outcome::ok(0))
        .socket(5)
        .bind(5, "198.51.100.9:0")
        .connect(5, "93.184.216.34:443", Outcome::ok(0));
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
    let locs: Vec<Loc> = inference.ambiguities.iter().map(|a| a.loc).collect();
    assert_eq!(locs, [Loc::new(TraceId(1), 6), Loc::new(TraceId(1), 3)]);
}

#[test]
fn an_accept_explained_by_a_direct_connect_is_not_a_forward() {
    let a = server(0, "10.0.0.2:80", "10.0.0.1:40000");
    let mut b = Script::new(1);
    b.socket(3)
        .bind(3, "10.0.0.1:0")
        .connect(3, "10.0.0.2:80", Outcome::ok(0))
        .socket(5)
        .connect(5, "93.184.216.34:443", Outcome::ok(0));
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
    assert!(inference.ambiguities.is_empty());
}

#[test]
fn many_connections_through_one_nat_give_one_rule() {
    let mut a = Script::new(0);
    a.socket(3).bind(3, "198.51.100.2:80");
    let mut b = Script::new(1);
    for i in 0..2000u16 {
        let fd = 4 + Fd::from(i % 500);
        a.accept(3, &format!("203.0.113.7:{}", 20000 + i), fd);
        b.socket(fd)
            .connect(fd, "198.51.100.2:80", Outcome::ok(0))
            .getsockname(fd, &format!("192.168.1.10:{}", 40000 + i));
    }
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(
        nat_lines(&inference.hosts[1]),
        ["nat 192.168.1.10 203.0.113.7"]
    );
    assert_eq!(inference.hosts[1].nats[0].evidence.len(), MAX_EVIDENCE);
}

#[test]
fn a_client_that_never_shows_its_address_gets_the_one_its_server_saw() {
    let a = server(0, "10.0.0.2:80", "10.0.0.1:40000");
    let mut b = Script::new(1);
    b.socket(3).connect(3, "10.0.0.2:80", Outcome::ok(0));
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(ips(&inference.hosts[1]), ["10.0.0.1"]);
    let seen = &inference.hosts[1].seen_by_peers;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].evidence,
        [Loc::new(TraceId(0), 3), Loc::new(TraceId(1), 2)]
    );
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn two_silent_clients_of_one_server_get_no_address() {
    let a = server(0, "10.0.0.2:80", "10.0.0.1:40000");
    let mut b = Script::new(1);
    b.socket(3).connect(3, "10.0.0.2:80", Outcome::ok(0));
    let c = b.calls();
    let inference = infer([a.calls(), b.calls(), c]);
    assert!(inference.hosts[1].ips.is_empty());
    assert!(inference.hosts[2].ips.is_empty());
}

/// One random step of a trace, over a few descriptors and addresses.
fn any_step() -> impl proptest::strategy::Strategy<Value = (u8, Fd, &'static str, bool)> {
    use proptest::prelude::*;
    let addrs = proptest::sample::select(vec![
        "10.0.0.1:40000",
        "10.0.0.2:80",
        "0.0.0.0:80",
        "192.168.1.10:40000",
        "203.0.113.7:51000",
        "96.250.21.150:3001",
        "[::ffff:10.0.0.1]:40000",
        "[fd00::1]:80",
        "127.0.0.1:53",
    ]);
    (0u8..7, 0 as Fd..5, addrs, any::<bool>())
}

proptest::proptest! {
    /// Any sequence of calls gives an answer; every inferred rule is marked and has evidence.
    #[test]
    fn inference_never_panics_and_marks_what_it_infers(
        traces in proptest::collection::vec(proptest::collection::vec(any_step(), 0..25), 1..4)
    ) {
        let scripts: Vec<Vec<Call>> = traces
            .iter()
            .enumerate()
            .map(|(t, steps)| {
                let mut s = Script::new(t as u32);
                for &(op, fd, addr, ok) in steps {
                    let outcome = if ok { Outcome::ok(0) } else { Outcome::failed(Errno::EINPROGRESS) };
                    match op {
                        0 => { s.socket(fd); }
                        1 => { s.bind(fd, addr); }
                        2 => { s.accept(fd, addr, fd + 1); }
                        3 => { s.connect(fd, addr, outcome); }
                        4 => { s.getsockname(fd, addr); }
                        5 => { s.accept_decorated(fd, addr, fd + 1, "10.0.0.2:80"); }
                        _ => {
                            s.push(SyscallName::Close, Syscall::Close { fd }, Outcome::ok(0));
                        }
                    }
                }
                s.calls()
            })
            .collect();
        let inference = infer(scripts);
        proptest::prop_assert_eq!(inference.hosts.len(), traces.len());
        for host in &inference.hosts {
            for nat in &host.nats {
                proptest::prop_assert!(nat.rule.inferred);
                proptest::prop_assert!(!nat.evidence.is_empty());
            }
            for ip in &host.ips {
                proptest::prop_assert!(!crate::config::address::is_special(*ip));
            }
        }
    }
}

impl Script {
    fn udp_socket(&mut self, fd: Fd) -> &mut Self {
        let syscall = Syscall::Socket {
            domain: Domain::Inet,
            ty: SockType::Dgram,
            nonblock: false,
            cloexec: false,
            protocol: Protocol::Default,
            fd: Some(fd),
        };
        self.push(SyscallName::Socket, syscall, Outcome::ok(fd.into()));
        self
    }

    fn sendto(&mut self, fd: Fd, to: &str) -> &mut Self {
        let syscall = Syscall::Send {
            fd,
            data: Payload::new(b"ping".to_vec(), false),
            flags: MsgFlags::default(),
            dest: Some(inet(to)),
            passed_fds: Vec::new(),
        };
        self.push(SyscallName::Sendto, syscall, Outcome::ok(4));
        self
    }

    fn recvfrom(&mut self, fd: Fd, from: &str) -> &mut Self {
        let syscall = Syscall::Recv {
            fd,
            data: Payload::new(b"ping".to_vec(), false),
            buf_len: 64,
            flags: MsgFlags::default(),
            src: Some(inet(from)),
            truncated_datagram: None,
            passed_fds: Vec::new(),
        };
        self.push(SyscallName::Recvfrom, syscall, Outcome::ok(4));
        self
    }
}

#[test]
fn a_datagram_client_without_an_address_gets_the_one_its_server_saw() {
    let mut a = Script::new(0);
    a.udp_socket(3)
        .bind(3, "10.0.0.1:7100")
        .recvfrom(3, "10.0.0.2:41000")
        .sendto(3, "10.0.0.2:41000");
    let mut b = Script::new(1);
    b.udp_socket(3)
        .sendto(3, "10.0.0.1:7100")
        .recvfrom(3, "10.0.0.1:7100");
    let inference = infer([a.calls(), b.calls()]);
    assert_eq!(ips(&inference.hosts[1]), ["10.0.0.2"]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn a_datagram_flow_never_explains_a_tcp_accept() {
    // The server accepted a TCP connection from a stranger; the client only sent datagrams
    // there: no NAT can be concluded from that.
    let a = server(0, "10.0.0.1:7100", "203.0.113.5:41000");
    let mut b = Script::new(1);
    b.udp_socket(3)
        .bind(3, "192.168.1.20:41000")
        .sendto(3, "10.0.0.1:7100");
    let inference = infer([a.calls(), b.calls()]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

/// The calls of real strace lines, read as a trace file is.
fn real_calls(trace: u32, lines: &str) -> Vec<Call> {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(lines.as_bytes()).unwrap();
    crate::parse::TraceReader::open(file.path(), TraceId(trace))
        .unwrap()
        .filter_map(|event| match event {
            crate::parse::TraceEvent::Call(call) => Some(call),
            crate::parse::TraceEvent::Process { .. } => None,
        })
        .collect()
}

/// redis-server 7.0 under `strace -f`: one listener per family on the wildcard, an accept from
/// 10.213.7.1; no -yy, so the trace never shows the server's own address.
const REDIS_SERVER: &str = "\
20338 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 6
20338 bind(6, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0
20338 listen(6, 511)                    = 0
20338 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 7
20338 bind(7, {sa_family=AF_INET6, sin6_port=htons(9001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::\", &sin6_addr), sin6_scope_id=0}, 28) = 0
20338 listen(7, 511)                    = 0
20338 accept4(6, {sa_family=AF_INET, sin_port=htons(37266), sin_addr=inet_addr(\"10.213.7.1\")}, [128 => 16], SOCK_CLOEXEC|SOCK_NONBLOCK) = 8
";

/// redis-cli under `strace -f` on the other host: a nonblocking connect to the server.
const REDIS_CLIENT: &str = "\
20347 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
20347 connect(3, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.213.7.2\")}, 16) = -1 EINPROGRESS (Operation now in progress)
20347 connect(3, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.213.7.2\")}, 16) = 0
";

#[test]
fn a_server_that_never_shows_its_address_gets_the_one_its_client_reached() {
    let inference = infer([real_calls(0, REDIS_SERVER), real_calls(1, REDIS_CLIENT)]);
    assert_eq!(ips(&inference.hosts[0]), ["10.213.7.2"]);
    let reached = &inference.hosts[0].seen_by_peers[0];
    assert!(reached.reason.contains("-yy"), "{}", reached.reason);
    assert_eq!(
        reached.evidence,
        [Loc::new(TraceId(1), 2), Loc::new(TraceId(0), 3)]
    );
    // Then the client is the one the server saw, as for any silent client.
    assert_eq!(ips(&inference.hosts[1]), ["10.213.7.1"]);
    assert!(inference.hosts.iter().all(|h| h.nats.is_empty()));
}

#[test]
fn a_connect_that_never_returned_still_names_the_server_it_went_to() {
    // python3 http.server listening, and wget 1.21 (`strace -f -tt -s 0`), whose blocking
    // connect a SYN-dropping firewall held until its alarm.
    let server = "\
1058  06:59:22.371186 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
1058  06:59:22.371263 bind(3, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0
1058  06:59:22.371292 listen(3, 128)    = 0
";
    let client = "\
1081  06:59:21.328455 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3
1081  06:59:21.328844 connect(3, {sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.213.7.2\")}, 16) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
";
    let inference = infer([real_calls(0, server), real_calls(1, client)]);
    assert_eq!(ips(&inference.hosts[0]), ["10.213.7.2"]);
    assert!(inference.hosts[1].ips.is_empty());
}

#[test]
fn two_servers_on_the_reached_port_leave_the_address_unknown() {
    let other = REDIS_SERVER.replace("10.213.7.1", "10.213.7.9");
    let inference = infer([
        real_calls(0, REDIS_SERVER),
        real_calls(1, REDIS_CLIENT),
        real_calls(2, &other),
    ]);
    assert!(inference.hosts.iter().all(|h| h.ips.is_empty()));
}

#[test]
fn a_server_that_shows_an_address_of_the_family_is_not_given_another() {
    // The same server seen with -yy: its own address is known, and a connect to another
    // address is the NAT inferences' business.
    let decorated = format!(
        "{REDIS_SERVER}20338 getsockname(8<TCP:[10.213.7.5:9001->10.213.7.1:37266]>, \
         {{sa_family=AF_INET, sin_port=htons(9001), sin_addr=inet_addr(\"10.213.7.5\")}}, [128 => 16]) = 0\n"
    );
    let inference = infer([real_calls(0, &decorated), real_calls(1, REDIS_CLIENT)]);
    assert_eq!(ips(&inference.hosts[0]), ["10.213.7.5"]);
}
