//! Folding rules on small hand-built traces.

use super::*;
use crate::parse::{
    Call, Domain, Errno, FcntlOp, Fd, Outcome, Payload, ProcessEvent, Protocol, SockType, Syscall,
    SyscallName, TraceEvent,
};
use crate::source::{Loc, SockId, TraceId};

const T: TraceId = TraceId(0);

struct Script {
    events: Vec<TraceEvent>,
}

impl Script {
    fn new() -> Self {
        Script { events: Vec::new() }
    }

    fn call(mut self, pid: u32, name: SyscallName, syscall: Syscall, outcome: Outcome) -> Self {
        let line = self.events.len() as u64 + 1;
        self.events.push(TraceEvent::Call(Call {
            loc: Loc::new(T, line),
            pid,
            time: None,
            duration: None,
            name,
            syscall,
            outcome,
            fd_info: Vec::new(),
        }));
        self
    }

    fn socket(self, pid: u32, fd: Fd) -> Self {
        self.call(
            pid,
            SyscallName::Socket,
            Syscall::Socket {
                domain: Domain::Inet,
                ty: SockType::Stream,
                nonblock: false,
                cloexec: false,
                protocol: Protocol::Tcp,
                fd: Some(fd),
            },
            Outcome::ok(fd as i64),
        )
    }

    fn send(self, pid: u32, fd: Fd) -> Self {
        self.call(
            pid,
            SyscallName::Write,
            Syscall::Send {
                fd,
                data: Payload::new(b"hi".to_vec(), false),
                flags: Default::default(),
                dest: None,
                passed_fds: Vec::new(),
            },
            Outcome::ok(2),
        )
    }

    fn close(self, pid: u32, fd: Fd) -> Self {
        self.call(
            pid,
            SyscallName::Close,
            Syscall::Close { fd },
            Outcome::ok(0),
        )
    }

    fn dup2(self, pid: u32, old_fd: Fd, new_fd: Fd) -> Self {
        self.call(
            pid,
            SyscallName::Dup2,
            Syscall::Dup {
                old_fd,
                new_fd: Some(new_fd),
                cloexec: false,
            },
            Outcome::ok(new_fd as i64),
        )
    }

    fn spawn(self, pid: u32, child: u32, shares_fds: bool) -> Self {
        self.call(
            pid,
            SyscallName::Clone,
            Syscall::Spawn {
                shares_fds,
                thread: shares_fds,
                child: Some(child),
            },
            Outcome::ok(child as i64),
        )
    }

    fn exit(mut self, pid: u32) -> Self {
        let line = self.events.len() as u64 + 1;
        self.events.push(TraceEvent::Process {
            loc: Loc::new(T, line),
            pid,
            time: None,
            event: ProcessEvent::Exited { code: 0 },
        });
        self
    }

    fn fold(self) -> (Vec<SocketEvent>, FoldStats) {
        let mut folder = Folder::new(self.events.into_iter(), T);
        let out: Vec<SocketEvent> = folder.by_ref().collect();
        (out, folder.stats().clone())
    }
}

fn sock(n: u32) -> SockId {
    SockId { trace: T, n }
}

/// `(line, call name, socket, synthetic?)` of each folded event.
fn summary(events: &[SocketEvent]) -> Vec<(u64, &'static str, SockId, bool)> {
    events
        .iter()
        .map(|e| {
            (
                e.call.loc.line,
                e.call.name.as_str(),
                e.socks[0].1,
                e.synthetic.is_some(),
            )
        })
        .collect()
}

#[test]
fn a_duplicate_keeps_the_socket_open_until_the_last_close() {
    let (events, stats) = Script::new()
        .socket(1, 3)
        .dup2(1, 3, 7)
        .close(1, 3)
        .send(1, 7)
        .close(1, 7)
        .fold();
    assert_eq!(
        summary(&events),
        vec![
            (1, "socket", sock(0), false),
            (4, "write", sock(0), false),
            (5, "close", sock(0), false),
        ]
    );
    assert_eq!(stats.duplicate_closes, 1);
}

#[test]
fn dup2_over_the_last_descriptor_closes_the_socket() {
    let (events, _) = Script::new().socket(1, 3).socket(1, 4).dup2(1, 4, 3).fold();
    let closes: Vec<_> = events
        .iter()
        .filter(|e| e.synthetic == Some(SyntheticReason::DupOver))
        .map(|e| e.socks[0].1)
        .collect();
    assert_eq!(closes, vec![sock(0)]);
}

#[test]
fn a_forked_child_shares_the_socket_and_the_parent_close_is_not_final() {
    let (events, _) = Script::new()
        .socket(10, 3)
        .spawn(10, 11, false)
        .close(10, 3)
        .send(11, 3)
        .close(11, 3)
        .fold();
    assert_eq!(
        summary(&events),
        vec![
            (1, "socket", sock(0), false),
            (4, "write", sock(0), false),
            (5, "close", sock(0), false),
        ]
    );
}

#[test]
fn threads_share_the_table_so_a_thread_close_is_final() {
    let (events, _) = Script::new()
        .socket(10, 3)
        .spawn(10, 12, true)
        .close(12, 3)
        .send(10, 3)
        .fold();
    assert_eq!(
        summary(&events),
        vec![(1, "socket", sock(0), false), (3, "close", sock(0), false)]
    );
}

#[test]
fn process_exit_closes_what_only_it_held() {
    let (events, stats) = Script::new()
        .socket(10, 3)
        .spawn(10, 11, false)
        .close(10, 3)
        .exit(11)
        .fold();
    assert_eq!(
        summary(&events),
        vec![(1, "socket", sock(0), false), (4, "close", sock(0), true)]
    );
    assert_eq!(stats.synthetic_closes, 1);
}

#[test]
fn end_of_trace_closes_every_open_socket_in_creation_order() {
    let (events, _) = Script::new().socket(1, 5).socket(1, 4).fold();
    let closes: Vec<_> = events
        .iter()
        .filter(|e| e.synthetic == Some(SyntheticReason::EndOfTrace))
        .map(|e| e.socks[0].1)
        .collect();
    assert_eq!(closes, vec![sock(0), sock(1)]);
}

#[test]
fn accept_creates_a_socket_remembering_its_listener() {
    let (events, _) = Script::new()
        .socket(1, 3)
        .call(
            1,
            SyscallName::Accept4,
            Syscall::Accept {
                fd: 3,
                peer: None,
                nonblock: true,
                cloexec: true,
                new_fd: Some(4),
            },
            Outcome::ok(4),
        )
        .send(1, 4)
        .fold();
    assert_eq!(events[1].socks.as_slice(), [(3, sock(0)), (4, sock(1))]);
    assert_eq!(events[2].sock(4), Some(sock(1)));
}

#[test]
fn calls_on_files_and_unix_sockets_are_counted_not_emitted() {
    let (events, stats) = Script::new()
        .call(
            1,
            SyscallName::Socket,
            Syscall::Socket {
                domain: Domain::Unix,
                ty: SockType::Stream,
                nonblock: false,
                cloexec: false,
                protocol: Protocol::Default,
                fd: Some(3),
            },
            Outcome::ok(3),
        )
        .send(1, 3)
        .send(1, 1)
        .close(1, 3)
        .fold();
    assert!(events.is_empty());
    assert_eq!(stats.non_socket_calls, 4);
}

#[test]
fn fcntl_dupfd_and_close_range_follow_the_socket() {
    let (events, _) = Script::new()
        .socket(1, 3)
        .call(
            1,
            SyscallName::Fcntl,
            Syscall::Fcntl {
                fd: 3,
                op: FcntlOp::DupFd { cloexec: true },
            },
            Outcome::ok(10),
        )
        .close(1, 3)
        .send(1, 10)
        .call(
            1,
            SyscallName::CloseRange,
            Syscall::CloseRange {
                first: 5,
                last: i32::MAX,
                cloexec_only: false,
            },
            Outcome::ok(0),
        )
        .fold();
    assert_eq!(
        summary(&events),
        vec![
            (1, "socket", sock(0), false),
            (4, "write", sock(0), false),
            (5, "close", sock(0), true),
        ]
    );
}

#[test]
fn a_failed_close_is_kept_as_evidence() {
    let (events, _) = Script::new()
        .socket(1, 3)
        .call(
            1,
            SyscallName::Close,
            Syscall::Close { fd: 3 },
            Outcome::failed(Errno::EINTR),
        )
        .fold();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].call.outcome.errno, Some(Errno::EINTR));
}

/// The record of a dispatcher that accepts a connection and hands it to a worker forked
/// beforehand (`tests/fixtures/lab/healthy-fdpass--nc--fdpass--record/server.trace`), with the
/// dispatcher closing its copy while the descriptor is in flight.
const PASSED_WITH_DECORATIONS: &str = r#"19183 1796551127.844856 socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [3<UNIX-STREAM:[150717->150718]>, 4<UNIX-STREAM:[150718->150717]>]) = 0 <0.000039>
19183 1796551127.845106 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f9470331e50) = 19191 <0.005698>
19183 1796551127.851931 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 4<TCP:[150725]> <0.000028>
19183 1796551128.076166 accept4(4<TCP:[10.77.1.10:7000]>, {sa_family=AF_INET, sin_port=htons(34424), sin_addr=inet_addr("10.77.1.21")}, [16], SOCK_CLOEXEC) = 5<TCP:[10.77.1.10:7000->10.77.1.21:34424]> <0.000024>
19183 1796551128.081811 sendmsg(3<UNIX-STREAM:[150717->150718]>, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="conn", iov_len=4}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5<TCP:[10.77.1.10:7000->10.77.1.21:34424]>]}], msg_controllen=24, msg_flags=0}, 0) = 4 <0.000040>
19183 1796551128.081900 close(5<TCP:[10.77.1.10:7000->10.77.1.21:34424]>) = 0 <0.000010>
19191 1796551128.082019 recvmsg(4<UNIX-STREAM:[150718->150717]>, {msg_name=0x7ffd8f331e10, msg_namelen=110 => 0, msg_iov=[{iov_base="conn", iov_len=16}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3<TCP:[10.77.1.10:7000->10.77.1.21:34424]>]}], msg_controllen=24, msg_flags=0}, 0) = 4 <0.000018>
19191 1796551128.083202 recvfrom(3<TCP:[10.77.1.10:7000->10.77.1.21:34424]>, "passed-along\n", 4096, 0, NULL, NULL) = 13 <0.000014>
"#;

/// Folds a trace given as text, read the way the pipeline reads it.
fn fold_text(name: &str, text: &str) -> (Vec<SocketEvent>, FoldStats) {
    let path = std::env::temp_dir().join(format!("netcheck-fold-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let reader = crate::parse::TraceReader::open(&path, T).unwrap();
    let mut folder = Folder::new(reader, T);
    let events: Vec<SocketEvent> = folder.by_ref().collect();
    let stats = folder.stats().clone();
    std::fs::remove_file(&path).unwrap();
    (events, stats)
}

/// The accepted socket reaches the worker: its read names the socket the dispatcher accepted,
/// and the dispatcher's close while the descriptor was in flight closes nothing.
fn assert_passed_socket_is_the_accepted_one(events: &[SocketEvent], stats: &FoldStats) {
    assert_eq!(
        stats.sockets, 2,
        "listener and accepted socket, nothing adopted"
    );
    let accepted = events
        .iter()
        .find(|e| e.call.name == SyscallName::Accept4)
        .and_then(|e| e.sock(5))
        .unwrap();
    let read = events
        .iter()
        .find(|e| e.call.name == SyscallName::Recvfrom)
        .unwrap();
    assert_eq!(read.call.pid, 19191);
    assert_eq!(read.sock(3), Some(accepted));
    let closes: Vec<&SocketEvent> = events
        .iter()
        .filter(|e| e.call.name == SyscallName::Close && e.sock(-1) == Some(accepted))
        .collect();
    assert_eq!(closes.len(), 1, "closed once, at the end of the trace");
    assert_eq!(closes[0].synthetic, Some(SyntheticReason::EndOfTrace));
}

#[test]
fn a_socket_passed_with_scm_rights_is_the_senders_socket_in_the_receiver() {
    let (events, stats) = fold_text("yy", PASSED_WITH_DECORATIONS);
    assert_passed_socket_is_the_accepted_one(&events, &stats);
}

#[test]
fn without_decorations_the_kth_set_sent_is_the_kth_received() {
    // The same calls as a trace without -yy prints them.
    let plain: String = PASSED_WITH_DECORATIONS
        .lines()
        .map(|line| strip_decorations(line) + "\n")
        .collect();
    assert!(!plain.contains("TCP:"));
    let (events, stats) = fold_text("plain", &plain);
    assert_passed_socket_is_the_accepted_one(&events, &stats);
}

/// Removes every `<...>` decoration (they nest `[...]` and may hold `->`).
fn strip_decorations(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("<TCP:").or_else(|| rest.find("<UNIX-STREAM:")) {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find("]>").map_or(after.len(), |e| e + 2);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Lines of etcd's trace (apps/etcd-healthy, e1.trace and put.trace, shortened to one member's
/// and one client's sockets): a connection closed while the program runs, then a stop signal,
/// then a close while stopping.
const ETCD_STOPPED: &str = "\
24486 1796551836.101843 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 11<TCP:[395307]> <0.000020>
24486 1796551836.111713 close(11<TCP:[395307]>) = 0 <0.000356>
24486 1796551836.117246 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 15<TCP:[395320]> <0.000020>
24486 1796551838.379689 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=13034, si_uid=0} ---
24486 1796551838.384599 close(15<TCP:[10.78.1.10:58290->10.78.1.12:2380]>) = 0 <0.000069>
24486 1796551838.396374 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 8<TCP:[395330]> <0.000020>
24486 1796551838.447643 +++ killed by SIGTERM +++
";

const ETCDCTL_FINISHED: &str = "\
24823 1796551837.352562 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 7<TCP:[395551]> <0.000021>
24823 1796551838.162159 +++ exited with 0 +++
";

fn close_contexts(events: &[SocketEvent]) -> Vec<(u64, ProgramContext)> {
    events
        .iter()
        .filter(|e| e.call.name == SyscallName::Close)
        .map(|e| (e.call.loc.line, e.context))
        .collect()
}

#[test]
fn closes_after_a_stop_signal_are_closes_while_stopping() {
    let (events, stats) = fold_text("etcd-stopped", ETCD_STOPPED);
    assert_eq!(
        close_contexts(&events),
        [
            (2, ProgramContext::Running),
            (5, ProgramContext::Stopping),
            (7, ProgramContext::Stopping),
        ]
    );
    assert_eq!(stats.stop_requested.map(|l| l.line), Some(4));
}

#[test]
fn an_exit_with_status_0_holding_a_socket_is_a_finished_program() {
    let (events, stats) = fold_text("etcdctl-finished", ETCDCTL_FINISHED);
    assert_eq!(close_contexts(&events), [(2, ProgramContext::Finished)]);
    assert_eq!(stats.stop_requested, None);
}

#[test]
fn a_crash_or_an_own_timer_is_no_stop() {
    for (name, ending) in [
        ("segv", "+++ killed by SIGSEGV +++"),
        ("alarm", "+++ killed by SIGALRM +++"),
        ("failed", "+++ exited with 1 +++"),
    ] {
        let text = format!(
            "7 1.0 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<TCP:[1]> <0.000010>\n7 2.0 {ending}\n"
        );
        let (events, stats) = fold_text(name, &text);
        assert_eq!(
            close_contexts(&events),
            [(2, ProgramContext::Running)],
            "{name}"
        );
        assert_eq!(stats.stop_requested, None, "{name}");
    }
}

/// lab/killed-listener: python killed by SIGKILL while listening. Its listener's close is no
/// orderly stop (its clients' refusals stay a fault), yet the program did not end by itself.
#[test]
fn a_kill_with_sigkill_is_imposed_not_asked() {
    let text = "7 1.0 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<TCP:[1]> <0.000010>\n\
                7 2.0 +++ killed by SIGKILL +++\n";
    let (events, stats) = fold_text("sigkill", text);
    assert_eq!(close_contexts(&events), [(2, ProgramContext::Running)]);
    assert_eq!(stats.stop_requested.map(|l| l.line), Some(2));
}

/// A trace that ends with the program still holding a socket (strace detached, or the recording
/// stopped): the program was stopped from outside as far as the trace goes.
#[test]
fn a_trace_that_ends_holding_sockets_was_stopped_where_it_ends() {
    let text = "7 1.0 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<TCP:[1]> <0.000010>\n\
                7 2.0 getpid() = 7 <0.000010>\n";
    let (events, stats) = fold_text("detached", text);
    // The end is placed at the last call fold read (getpid is not one it reads).
    assert_eq!(close_contexts(&events), [(1, ProgramContext::Stopping)]);
    assert_eq!(stats.stop_requested.map(|l| l.line), Some(1));
}

/// nginx traced with `-e trace=network` (lab/healthy-http--curl--nginx--network): the master
/// listens on fd 4; its worker, whose fork the filter hides, accepts on fd 4.
const NGINX_NETWORK_ONLY: &str = "\
17329 10:17:08.440126 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 4
17329 10:17:08.440278 bind(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr(\"10.77.1.10\")}, 16) = 0
17329 10:17:08.440370 listen(4, 511)    = 0
17337 10:17:08.651292 accept4(4, {sa_family=AF_INET, sin_port=htons(39308), sin_addr=inet_addr(\"10.77.1.21\")}, [112 => 16], SOCK_NONBLOCK) = 6
17337 10:17:08.651429 recvfrom(6, \"GET /hello.txt HTTP/1.1\\r\\n\\r\\n\", 1024, 0, NULL, NULL) = 27
";

#[test]
fn a_process_whose_fork_is_hidden_inherits_from_the_first_process() {
    let (events, _) = fold_text("nginx-network", NGINX_NETWORK_ONLY);
    let accept = events
        .iter()
        .find(|e| e.call.name == SyscallName::Accept4)
        .expect("the worker's accept reaches the model");
    let listener = events
        .iter()
        .find(|e| e.call.name == SyscallName::Listen)
        .and_then(|e| e.sock(4));
    assert_eq!(
        accept.sock(4),
        listener,
        "the worker accepts on the master's listener"
    );
    assert!(events
        .iter()
        .any(|e| e.call.name == SyscallName::Recvfrom && e.sock(6).is_some()));
}

/// Apache's worker, attached with `strace -p` (no `-yy`): it accepts on descriptor 3, which it
/// inherited from its parent long before the trace began.
const APACHE_WORKER_ATTACHED: &str = "\
19853 18:04:43.563587 accept4(3, {sa_family=AF_INET, sin_port=htons(41074), sin_addr=inet_addr(\"10.78.1.21\")}, [128 => 16], SOCK_CLOEXEC) = 7
19853 18:04:44.192117 read(7, \"GET /big.txt HTTP/1.1\\r\\n\\r\\n\", 8000) = 25
19853 18:04:46.195979 close(7)          = 0
";

/// unbound, attached with `strace -p`: its UDP socket (descriptor 3) was bound before the trace
/// began; the first call on it is a recvfrom that shows the client's address. Descriptor 5 is a
/// unix socket, which no address proves to be anything the model follows.
const UNBOUND_ATTACHED: &str = "\
22787 10:10:12.327563 epoll_wait(7, [{events=EPOLLIN, data={u32=3, u64=3}}], 32, -1) = 1
22787 10:10:12.872119 recvfrom(3, \"\\322l\\1 \\0\\1\", 65552, MSG_DONTWAIT, {sa_family=AF_INET, sin_port=htons(53668), sin_addr=inet_addr(\"10.78.1.21\")}, [128 => 16]) = 6
22787 10:10:12.872341 sendto(3, \"\\322l\\205\\200\\0\\1\", 6, 0, {sa_family=AF_INET, sin_port=htons(53668), sin_addr=inet_addr(\"10.78.1.21\")}, 16) = 6
22787 10:10:12.900000 sendto(5, \"<30>unbound\", 11, MSG_NOSIGNAL, NULL, 0) = 11
22787 10:10:12.958548 epoll_ctl(7, EPOLL_CTL_DEL, 3, 0x7fff30c9e85c) = 0
";

fn adopted(events: &[SocketEvent]) -> Vec<(u64, SyscallName)> {
    events
        .iter()
        .filter(|e| e.synthetic == Some(SyntheticReason::Adopted))
        .map(|e| (e.call.loc.line, e.call.name))
        .collect()
}

#[test]
fn an_accept_on_a_descriptor_opened_before_the_trace_adopts_a_listener() {
    let (events, stats) = fold_text("apache-attached", APACHE_WORKER_ATTACHED);
    // Announced where the accept proved it, as a socket that listens (its port unknown).
    assert_eq!(
        adopted(&events),
        vec![(1, SyscallName::Socket), (1, SyscallName::Listen)]
    );
    let listener = events[0].sock(3);
    let accept = events
        .iter()
        .find(|e| e.call.name == SyscallName::Accept4)
        .expect("the accept reaches the model");
    assert_eq!(accept.sock(3), listener);
    assert!(accept.sock(7).is_some(), "the accepted socket is followed");
    assert!(events.iter().any(|e| e.call.name == SyscallName::Read));
    assert_eq!(stats.adopted_sockets, 1);
}

#[test]
fn a_datagram_address_on_a_descriptor_opened_before_the_trace_adopts_a_udp_socket() {
    let (events, stats) = fold_text("unbound-attached", UNBOUND_ATTACHED);
    assert_eq!(adopted(&events), vec![(2, SyscallName::Socket)]);
    let Syscall::Socket { ty, domain, .. } = &events[0].call.syscall else {
        panic!("a socket call announces it: {:?}", events[0].call.syscall);
    };
    assert_eq!((*ty, *domain), (SockType::Dgram, Domain::Inet));
    // The sendto on the same descriptor names the same socket; the wait before the recvfrom
    // came before anything proved descriptor 3 a socket, and the unix socket's send proves
    // nothing.
    let names: Vec<SyscallName> = events.iter().map(|e| e.call.name).collect();
    assert_eq!(
        names,
        vec![
            SyscallName::Socket,
            SyscallName::Recvfrom,
            SyscallName::Sendto,
            SyscallName::EpollCtl,
            SyscallName::Close
        ]
    );
    assert_eq!(stats.adopted_sockets, 1);
}

#[test]
fn a_decorated_connection_opened_before_the_trace_gets_an_identity_but_no_replay() {
    let text = "\
9001 10:00:00.000001 sendto(4<TCP:[10.77.1.10:80->10.77.1.21:40000]>, \"x\", 1, MSG_NOSIGNAL, NULL, 0) = 1
9001 10:00:00.000002 recvfrom(6<UDP:[0.0.0.0:53]>, \"y\", 512, 0, {sa_family=AF_INET, sin_port=htons(5353), sin_addr=inet_addr(\"10.77.1.21\")}, [16]) = 1
";
    let (events, stats) = fold_text("decorated-attached", text);
    assert_eq!(
        adopted(&events),
        vec![(2, SyscallName::Socket), (2, SyscallName::Bind)],
        "the UDP socket is announced with the address its decoration shows; the TCP connection is not"
    );
    assert!(events[0].sock(4).is_some());
    assert_eq!(stats.adopted_sockets, 2);
}

/// Node's server stopped with SIGINT while its epoll wait blocked (plain `strace -f -tt`: no
/// `-T`); the connection is in the wait's interest set.
const NODE_STOPPED_IN_WAIT: &str = "\
26848 10:18:04.467000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 19
26848 10:18:04.696619 accept4(19, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK) = 20
26848 10:18:04.702728 epoll_ctl(14, EPOLL_CTL_ADD, 20, {events=EPOLLIN, data={u32=20, u64=20}}) = 0
26848 10:18:04.702771 epoll_pwait(14, 0x7ffd0f85cfa0, 1024, -1, NULL, 8) = -1 EINTR (Interrupted system call)
26848 10:18:08.141743 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=20764, si_uid=0} ---
26848 10:18:08.142110 epoll_pwait(14, 0x7ffd0f85cfa0, 1024, -1, NULL, 8) = -1 EINTR (Interrupted system call)
26849 10:18:08.142200 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 30
26848 10:18:08.142300 --- SIGINT {si_signo=SIGINT, si_code=SI_TKILL, si_pid=26848, si_uid=0} ---
26848 10:18:08.145702 +++ killed by SIGINT +++
";

#[test]
fn a_call_a_signal_interrupted_ended_when_the_signal_came() {
    let (events, _) = fold_text("node-stopped", NODE_STOPPED_IN_WAIT);
    let waits: Vec<&SocketEvent> = events
        .iter()
        .filter(|e| e.call.name == SyscallName::EpollPwait)
        .collect();
    assert_eq!(waits.len(), 2);
    let lasted = waits[0].call.duration.expect("dated by the SIGINT line");
    assert!((lasted - 3.438972).abs() < 1e-6, "{lasted}");
    // Another process's socket call came between the second wait and the signal's line: the
    // wait was handed on before it, undated (holding it longer would reorder the calls).
    assert_eq!(waits[1].call.duration, None);
    // Held back, the waits still come in the trace's order.
    let lines: Vec<u64> = events.iter().map(|e| e.call.loc.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
}

#[test]
fn a_call_to_be_restarted_ends_when_its_signal_comes_too() {
    // Apache's worker, blocked in accept when its parent stops it (plain `strace -f -tt`).
    let text = "\
19853 18:04:46.236000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3
19853 18:04:46.242734 accept4(3, 0x7ffdaacab6f0, [128], SOCK_CLOEXEC) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
19853 18:04:46.247120 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=19852, si_uid=0} ---
";
    let (events, _) = fold_text("apache-stopped", text);
    let accept = events
        .iter()
        .find(|e| e.call.name == SyscallName::Accept4)
        .expect("the accept reaches the model");
    let lasted = accept.call.duration.expect("dated by the SIGTERM line");
    assert!((lasted - 0.004386).abs() < 1e-6, "{lasted}");
}

/// mosquitto_sub after its one message (apps/mqtt-subscriber-done, subscriber.trace:58-62):
/// it closes its connection, then exits with status 0. A close that was the process's last act
/// before a successful exit ends the connection as the program finished; a close followed by
/// more work is an ordinary close.
const SUBSCRIBER_DONE: &str = "\
2862  1796600427.712000 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5<TCP:[114990]> <0.000020>
2862  1796600427.712100 connect(5<TCP:[114990]>, {sa_family=AF_INET, sin_port=htons(1883), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 0 <0.000300>
2862  1796600428.222369 close(5<TCP:[10.78.1.21:46346->10.78.1.10:1883]>) = 0 <0.000095>
2862  1796600428.222527 close(3<UNIX-STREAM:[114981->114982]>) = 0 <0.000020>
2862  1796600428.222786 exit_group(0)   = ?
2862  1796600428.223183 +++ exited with 0 +++
";

#[test]
fn a_close_just_before_a_successful_exit_is_the_program_finishing() {
    let (events, _) = fold_text("subscriber-done", SUBSCRIBER_DONE);
    assert_eq!(close_contexts(&events), [(3, ProgramContext::Finished)]);
    let more_work = SUBSCRIBER_DONE.replace(
        "2862  1796600428.222527 close(3<UNIX-STREAM:[114981->114982]>) = 0 <0.000020>\n",
        "2862  1796600428.222527 socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 6<UDP:[114999]> <0.000020>\n",
    );
    let (events, _) = fold_text("subscriber-more", &more_work);
    // The UDP socket it still held is closed by the exit itself.
    assert_eq!(
        close_contexts(&events),
        [(3, ProgramContext::Running), (6, ProgramContext::Finished)]
    );
}

/// A Go server under `strace -f -r -y` waits in epoll for a request a firewall dropped; Ctrl-C
/// (SIGINT) interrupts the wait and the runtime re-raises it (tcp-data-dropped--go--go--ry,
/// server.trace:209-304, trimmed).
const GO_SERVER_STOPPED: &str = "\
3648       0.000028 epoll_create1(EPOLL_CLOEXEC) = 5<anon_inode:[eventpoll]>
3648       0.000054 accept4(3<socket:[69430]>, {sa_family=AF_INET, sin_port=htons(54848), sin_addr=inet_addr(\"10.77.1.21\")}, [112 => 16], SOCK_CLOEXEC|SOCK_NONBLOCK) = 4<socket:[69459]>
3648       0.000042 epoll_ctl(5<anon_inode:[eventpoll]>, EPOLL_CTL_ADD, 4<socket:[69459]>, {events=EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, data={u32=1662746088, u64=140326834241000}}) = 0
3648       0.000039 epoll_pwait(5<anon_inode:[eventpoll]>,  <unfinished ...>
3650       0.000017 nanosleep({tv_sec=0, tv_nsec=20000},  <unfinished ...>
3648       0.000042 <... epoll_pwait resumed>[{events=EPOLLOUT, data={u32=1662746088, u64=140326834241000}}], 128, 0, NULL, 2) = 1
3648       0.000028 epoll_pwait(5<anon_inode:[eventpoll]>,  <unfinished ...>
3651       0.000029 <... futex resumed>) = 0
3648       3.402740 <... epoll_pwait resumed>0x7ffecda282b8, 128, -1, NULL, 0) = -1 EINTR (Interrupted system call)
3648       0.000040 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=2102, si_uid=0} ---
3648       0.000031 rt_sigprocmask(SIG_UNBLOCK, [INT], NULL, 8) = 0
3648       0.000028 --- SIGINT {si_signo=SIGINT, si_code=SI_TKILL, si_pid=3648, si_uid=0} ---
3648       0.000004 +++ killed by SIGINT +++
";

#[test]
fn a_wait_a_stop_request_interrupted_waited_while_the_program_was_stopping() {
    let (events, _) = fold_text("go-server-stopped", GO_SERVER_STOPPED);
    let waits = |events: &[SocketEvent]| -> Vec<(u64, ProgramContext)> {
        events
            .iter()
            .filter(|e| e.call.name == SyscallName::EpollPwait)
            .map(|e| (e.call.loc.line, e.context))
            .collect()
    };
    // The wait SIGINT cut short (its line is where it began) was still waiting when the
    // program was asked to stop.
    assert_eq!(waits(&events), [(7, ProgramContext::Stopping)]);
    // A child's exit interrupting the same wait asks nothing of the program.
    let sigchld = GO_SERVER_STOPPED.replace(
        "--- SIGINT {si_signo=SIGINT, si_code=SI_USER",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED",
    );
    let (events_chld, _) = fold_text("go-server-sigchld", &sigchld);
    assert_eq!(waits(&events_chld), [(7, ProgramContext::Running)]);
    // Its duration stays the one its own lines give (0.000029 + 3.402740 s), and the trace's
    // order is kept.
    let lines: Vec<u64> = events.iter().map(|e| e.call.loc.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    let interrupted = events.iter().find(|e| e.call.loc.line == 7).unwrap();
    let duration = interrupted.call.duration.unwrap_or_default();
    assert!((duration - 3.402769).abs() < 1e-6, "{duration}");
}

/// Dovecot's master, attached with plain `strace -f -tt -p` after its start-up, forks an
/// imap-login process for each wave of clients; each accepts on fd 7, the listener the master
/// opened before tracing began (`apps/imap-healthy-plain`, server.trace:2-2186).
const FORKED_AFTER_ATTACH: &str = r#"17248 07:32:19.633647 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f67fc564f10) = 17277
17277 07:32:19.634729 execve("/usr/lib/dovecot/imap-login", ["dovecot/imap-login"], 0x559403f91f90 /* 21 vars */) = 0
17277 07:32:19.768127 accept(7, {sa_family=AF_INET, sin_port=htons(39932), sin_addr=inet_addr("10.78.1.21")}, [28 => 16]) = 17
17248 07:32:20.183732 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f67fc564f10) = 17291
17291 07:32:20.186003 execve("/usr/lib/dovecot/imap-login", ["dovecot/imap-login"], 0x559403f92150 /* 21 vars */) = 0
17291 07:32:20.225696 accept(7, {sa_family=AF_INET, sin_port=htons(43088), sin_addr=inet_addr("10.78.1.22")}, [28 => 16]) = 17
"#;

#[test]
fn a_socket_opened_before_tracing_is_the_same_in_every_child_forked_later() {
    let (events, stats) = fold_text("attached-forks", FORKED_AFTER_ATTACH);
    let listeners: Vec<Option<SockId>> = events
        .iter()
        .filter(|e| e.call.name == SyscallName::Accept && e.synthetic.is_none())
        .map(|e| e.sock(7))
        .collect();
    assert_eq!(listeners.len(), 2);
    assert_eq!(
        listeners[0], listeners[1],
        "one listener, inherited by both children"
    );
    assert_eq!(stats.adopted_sockets, 1);
}

/// Failed connects to unix-domain sockets are kept per path and errno, with a later success
/// (lines from lab/unix.sh's late-python scenario and a redis-cli to a stale socket file).
#[test]
fn failed_unix_connects_are_kept_per_path_and_errno() {
    let text = "\
4925  12:16:54.698763 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3<UNIX-STREAM:[1609192]> <0.000011>
4925  12:16:54.698799 connect(3<UNIX-STREAM:[1609192]>, {sa_family=AF_UNIX, sun_path=\"/tmp/n/app.sock\"}, 37) = -1 ENOENT (No such file or directory) <0.000020>
4925  12:16:54.698901 close(3<UNIX-STREAM:[1609192]>) = 0 <0.000008>
4925  12:16:54.799102 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3<UNIX-STREAM:[1609195]> <0.000010>
4925  12:16:54.799130 connect(3<UNIX-STREAM:[1609195]>, {sa_family=AF_UNIX, sun_path=\"/tmp/n/app.sock\"}, 37) = -1 ENOENT (No such file or directory) <0.000016>
4925  12:16:54.799190 close(3<UNIX-STREAM:[1609195]>) = 0 <0.000007>
4925  12:16:55.302601 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3<UNIX-STREAM:[1609216]> <0.000010>
4925  12:16:55.302618 connect(3<UNIX-STREAM:[1609216]>, {sa_family=AF_UNIX, sun_path=\"/tmp/n/app.sock\"}, 37) = 0 <0.000042>
4925  12:16:55.402000 socket(AF_UNIX, SOCK_STREAM, 0) = 4<UNIX-STREAM:[1609300]> <0.000010>
4925  12:16:55.402100 connect(4<UNIX-STREAM:[1609300]>, {sa_family=AF_UNIX, sun_path=\"/tmp/n/redis.sock\"}, 110) = -1 ECONNREFUSED (Connection refused) <0.000013>
";
    let (events, stats) = fold_text("unix-connects", text);
    assert!(
        events.is_empty(),
        "unix sockets are not modelled: {events:?}"
    );
    let [app, redis] = stats.unix_connects.failures.as_slice() else {
        panic!("{:?}", stats.unix_connects)
    };
    assert_eq!(
        (app.path.as_str(), app.errno, app.count),
        ("/tmp/n/app.sock", Errno::ENOENT, 2)
    );
    assert_eq!(
        (
            app.first.line,
            app.last.line,
            app.then_connected.map(|l| l.line)
        ),
        (2, 5, Some(8))
    );
    assert_eq!(
        (redis.errno, redis.count, redis.then_connected),
        (Errno::ECONNREFUSED, 1, None)
    );
}

/// Connects and binds whose address strace printed as a pointer (`-e raw=all`): counted on
/// Internet sockets only, with how the last connect ended by its own line (redis-cli refused,
/// lab/options.sh; a unix-domain probe and an EFAULT connect are not counted).
#[test]
fn undecoded_addresses_are_counted_with_the_last_connect() {
    let text = "\
2403  1796653211.751000 socket(0x1, 0x80801, 0) = 0x4 <0.000021>
2403  1796653211.751100 connect(0x4, 0x7ffdc0087850, 0x6e) = -1 ENOENT (No such file or directory) <0.000019>
2403  1796653211.752165 socket(0x2, 0x1, 0x6) = 0x3 <0.000067>
2403  1796653211.752379 fcntl(0x3, 0x4, 0x802) = 0 <0.000038>
2403  1796653211.752468 connect(0x3, 0x7f325c033030, 0x10) = -1 EINPROGRESS (Operation now in progress) <0.000125>
2403  1796653211.752654 poll(0x7ffca031dbd8, 0x1, 0xffffffff) = 0x1 <0.000039>
2403  1796653211.752744 connect(0x3, 0x7f325c020020, 0x10) = -1 ECONNREFUSED (Connection refused) <0.000039>
2403  1796653211.752800 connect(0x3, 0x10, 0x10) = -1 EFAULT (Bad address) <0.000009>
";
    let (_, stats) = fold_text("undecoded", text);
    let undecoded = &stats.undecoded_addresses;
    assert_eq!(undecoded.calls, 2);
    assert_eq!(undecoded.first.map(|l| l.line), Some(5));
    assert_eq!(
        undecoded.last_connect.map(|(l, end)| (l.line, end)),
        Some((7, ConnectEnd::Failed(Errno::ECONNREFUSED)))
    );
}

/// A trace with decoded addresses counts none.
#[test]
fn decoded_addresses_are_not_counted() {
    let text = "\
4925  12:16:55.402000 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3 <0.000010>
4925  12:16:55.402100 connect(3, {sa_family=AF_INET, sin_port=htons(7722), sin_addr=inet_addr(\"10.93.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused) <0.000013>
";
    let (_, stats) = fold_text("decoded", text);
    assert_eq!(stats.undecoded_addresses, UndecodedAddresses::default());
}

/// Varnish's cache process (`varnishd -F` under `netcheck record`): a thread waits in accept
/// on the listener the manager bound; at shutdown the main thread closes the listener while
/// that accept still waits, and the process's exit then ends the accept (`web/varnish-healthy-
/// aria2c--record`, cache.trace:3446-3605, trimmed).
const ACCEPT_WAITING_WHILE_CLOSED: &str = r#"14581 1796673548.381872 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3<TCP:[29655]> <0.000037>
14581 1796673548.381900 bind(3<TCP:[29655]>, {sa_family=AF_INET, sin_port=htons(6081), sin_addr=inet_addr("10.99.1.1")}, 16) = 0 <0.000062>
14581 1796673548.381950 listen(3<TCP:[10.99.1.1:6081]>, 1024) = 0 <0.000029>
14581 1796673548.383341 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fbe6edff990, parent_tid=0x7fbe6edff990, exit_signal=0, stack=0x7fbe6e5ff000, stack_size=0x7fff80, tls=0x7fbe6edff6c0} => {parent_tid=[14593]}, 88) = 14593 <0.000051>
14593 1796673548.469380 accept(3<TCP:[10.99.1.1:6081]>, {sa_family=AF_INET, sin_port=htons(59902), sin_addr=inet_addr("10.99.1.2")}, [128 => 16]) = 15<TCP:[10.99.1.1:6081->10.99.1.2:59902]> <0.119186>
14593 1796673548.607960 accept(3<TCP:[10.99.1.1:6081]>,  <unfinished ...>
14581 1796673548.689528 close(3<TCP:[10.99.1.1:6081]>) = 0 <0.000008>
14581 1796673548.692021 exit_group(0)   = ?
14593 1796673548.692184 <... accept resumed> <unfinished ...>) = ?
14593 1796673548.692280 +++ exited with 0 +++
14581 1796673548.692947 +++ exited with 0 +++
"#;

#[test]
fn an_accept_waiting_while_another_thread_closes_its_listener_opens_no_new_socket() {
    let (events, stats) = fold_text("accept-closed-under", ACCEPT_WAITING_WHILE_CLOSED);
    // The listener and the one connection it accepted: the accept cut short by the exit is no
    // listener "opened before the trace began".
    assert_eq!(stats.sockets, 2, "{events:#?}");
    assert_eq!(stats.adopted_sockets, 0);
    assert!(events
        .iter()
        .all(|e| e.synthetic != Some(SyntheticReason::Adopted)));
    let accepts: Vec<u64> = events
        .iter()
        .filter(|e| e.call.name == SyscallName::Accept)
        .map(|e| e.call.loc.line)
        .collect();
    assert_eq!(accepts, [5]);
}

/// `filters/refused-busybox--Z`: busybox wget traced with `-Z`, whose refused connect is the
/// only network call shown (its `socket` succeeded, so `-Z` hid it).
const BUSYBOX_REFUSED_FAILED_ONLY: &str = "\
32028 22:58:25.121631 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"10.101.1.1\")}, 16) = -1 ECONNREFUSED (Connection refused)
32028 22:58:25.121908 +++ exited with 1 +++
";

/// `filters/healthy-python--cio-tt`: a Python client traced with `-e
/// trace=connect,accept,accept4,sendto,recvfrom,getsockopt`: its blocking connect succeeded.
const PYTHON_CONNECTED_NO_SOCKET_CALL: &str = "\
32272 22:58:31.613597 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"10.101.1.1\")}, 16) = 0
32272 22:58:31.614000 sendto(3, \"GET / HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n\", 29, 0, NULL, 0) = 29
32272 22:58:31.621768 recvfrom(3, \"\", 4096, 0, NULL, NULL) = 0
32272 22:58:31.625065 +++ exited with 0 +++
";

fn adopted_type(events: &[SocketEvent]) -> Option<(SockType, Domain)> {
    events.iter().find_map(|e| match &e.call.syscall {
        Syscall::Socket { ty, domain, .. } if e.synthetic == Some(SyntheticReason::Adopted) => {
            Some((*ty, *domain))
        }
        _ => None,
    })
}

#[test]
fn a_connect_refused_on_a_descriptor_never_created_adopts_a_tcp_client() {
    let (events, stats) = fold_text("busybox-refused", BUSYBOX_REFUSED_FAILED_ONLY);
    assert_eq!(adopted(&events), vec![(1, SyscallName::Socket)]);
    assert_eq!(
        adopted_type(&events),
        Some((SockType::Stream, Domain::Inet))
    );
    assert!(events.iter().any(|e| e.call.name == SyscallName::Connect));
    assert_eq!(stats.adopted_sockets, 1);
}

#[test]
fn a_successful_connect_is_adopted_only_where_no_socket_was_shown_created() {
    let (events, _) = fold_text("python-cio", PYTHON_CONNECTED_NO_SOCKET_CALL);
    assert_eq!(
        adopted_type(&events),
        Some((SockType::Stream, Domain::Inet))
    );
    let names: Vec<SyscallName> = events.iter().map(|e| e.call.name).collect();
    assert_eq!(
        names,
        vec![
            SyscallName::Socket,
            SyscallName::Connect,
            SyscallName::Sendto,
            SyscallName::Recvfrom,
            SyscallName::Close
        ],
        "announced, then replayed; the exit closes it"
    );
    // The same connect in a trace that shows its sockets created: the descriptor came from
    // before the trace, and a connect that succeeded does not say TCP or UDP.
    let shown = format!(
        "32272 22:58:31.610000 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 5\n{PYTHON_CONNECTED_NO_SOCKET_CALL}"
    );
    let (events, stats) = fold_text("python-cio-created", &shown);
    assert!(adopted(&events).is_empty());
    assert_eq!(stats.adopted_sockets, 0);
}
