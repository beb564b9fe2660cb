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
    assert_eq!(events[1].socks, vec![(3, sock(0)), (4, sock(1))]);
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
