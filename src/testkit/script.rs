//! Hand-written socket event sequences: one [`Script`] per trace, written like the program's
//! own calls (`let s = a.tcp(); a.connect(s, "10.0.0.2:80");`). Used by tests, property tests
//! and benchmarks to feed the model and the ordering without strace text.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::fold::SocketEvent;
use crate::parse::{
    Call, Domain, EpollOp, Errno, Fd, MsgFlags, OptValue, Outcome, Payload, Protocol, Ready,
    SockAddr, SockType, Syscall, SyscallName, WaitFd,
};
use crate::source::{Loc, SockId, TraceId};

/// Parses a socket address written in a test (`"10.0.0.1:80"`, `"[::1]:80"`); an unparsable
/// text becomes the unspecified address so a typo shows up as a failing assertion.
pub fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Builds one trace's socket events.
#[derive(Debug)]
pub struct Script {
    trace: TraceId,
    line: u64,
    next_fd: Fd,
    next_sock: u32,
    fds: HashMap<Fd, SockId>,
    events: Vec<SocketEvent>,
    /// Marks every event as from a trace that shows its readiness waits (see
    /// `SocketEvent::waits_shown`); off by default, as in a trace filtered to network calls.
    waits_shown: bool,
}

fn name_of(syscall: &Syscall) -> SyscallName {
    match syscall {
        Syscall::Socket { .. } => SyscallName::Socket,
        Syscall::Socketpair { .. } => SyscallName::Socketpair,
        Syscall::Bind { .. } => SyscallName::Bind,
        Syscall::Listen { .. } => SyscallName::Listen,
        Syscall::Accept { nonblock, .. } if *nonblock => SyscallName::Accept4,
        Syscall::Accept { .. } => SyscallName::Accept,
        Syscall::Connect { .. } => SyscallName::Connect,
        Syscall::Send { dest: Some(_), .. } => SyscallName::Sendto,
        Syscall::Send { .. } => SyscallName::Send,
        Syscall::Recv { src: Some(_), .. } => SyscallName::Recvfrom,
        Syscall::Recv { .. } => SyscallName::Recv,
        Syscall::SendMany { .. } => SyscallName::Sendmmsg,
        Syscall::RecvMany { .. } => SyscallName::Recvmmsg,
        Syscall::CopyFile { .. } => SyscallName::Sendfile,
        Syscall::Close { .. } => SyscallName::Close,
        Syscall::CloseRange { .. } => SyscallName::CloseRange,
        Syscall::Shutdown { .. } => SyscallName::Shutdown,
        Syscall::Setsockopt { .. } => SyscallName::Setsockopt,
        Syscall::Getsockopt { .. } => SyscallName::Getsockopt,
        Syscall::Getsockname { .. } => SyscallName::Getsockname,
        Syscall::Getpeername { .. } => SyscallName::Getpeername,
        Syscall::Fcntl { .. } => SyscallName::Fcntl,
        Syscall::Ioctl { .. } => SyscallName::Ioctl,
        Syscall::Dup { .. } => SyscallName::Dup,
        Syscall::Spawn { .. } => SyscallName::Clone,
        Syscall::Execve => SyscallName::Execve,
        Syscall::Exit { .. } => SyscallName::ExitGroup,
        Syscall::Wait {
            epoll_fd: Some(_), ..
        } => SyscallName::EpollWait,
        Syscall::Wait { .. } => SyscallName::Poll,
        Syscall::EpollCreate { .. } => SyscallName::EpollCreate1,
        Syscall::EpollCtl { .. } => SyscallName::EpollCtl,
    }
}

fn shown(data: &[u8]) -> Payload {
    Payload::new(data.to_vec(), false)
}

impl Script {
    pub fn new(trace: u32) -> Self {
        Script {
            trace: TraceId(trace),
            line: 0,
            next_fd: 3,
            next_sock: 0,
            fds: HashMap::new(),
            events: Vec::new(),
            waits_shown: false,
        }
    }

    /// The script's calls come from a trace that shows its readiness waits: a wait it does not
    /// show did not happen.
    pub fn showing_waits(&mut self) -> &mut Self {
        self.waits_shown = true;
        self
    }

    pub fn trace(&self) -> TraceId {
        self.trace
    }

    /// The socket behind a descriptor of this script.
    pub fn sock(&self, fd: Fd) -> Option<SockId> {
        self.fds.get(&fd).copied()
    }

    /// Where the next call will be.
    pub fn next_loc(&self) -> Loc {
        Loc::new(self.trace, self.line + 1)
    }

    pub fn events(self) -> Vec<SocketEvent> {
        self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The last call, to adjust its outcome or timestamp.
    pub fn last(&mut self) -> Option<&mut SocketEvent> {
        self.events.last_mut()
    }

    /// Makes the last call fail with `errno`.
    pub fn fails(&mut self, errno: Errno) -> &mut Self {
        if let Some(ev) = self.events.last_mut() {
            ev.call.outcome = Outcome::failed(errno);
        }
        self
    }

    /// Gives the last call a timestamp.
    pub fn at(&mut self, time: f64) -> &mut Self {
        if let Some(ev) = self.events.last_mut() {
            ev.call.time = Some(time);
        }
        self
    }

    /// Appends any call; descriptors it names are resolved to this script's sockets.
    pub fn call(&mut self, syscall: Syscall, outcome: Outcome) -> Loc {
        self.line += 1;
        let loc = Loc::new(self.trace, self.line);
        let mut fds: Vec<Fd> = Vec::new();
        match &syscall {
            Syscall::Wait { fds: w, .. } => fds.extend(w.iter().map(|w| w.fd)),
            Syscall::CopyFile { out_fd, in_fd, .. } => fds.extend([*out_fd, *in_fd]),
            Syscall::Accept {
                fd,
                new_fd: Some(n),
                ..
            } => fds.extend([*fd, *n]),
            other => fds.extend(other.primary_fd()),
        }
        let socks = fds
            .into_iter()
            .filter_map(|fd| Some((fd, *self.fds.get(&fd)?)))
            .collect();
        self.events.push(SocketEvent {
            call: Call {
                loc,
                pid: 100 + self.trace.0,
                time: None,
                duration: None,
                name: name_of(&syscall),
                syscall,
                outcome,
                fd_info: Vec::new(),
            },
            socks,
            synthetic: None,
            context: Default::default(),
            waits_shown: self.waits_shown,
            returned_by: None,
        });
        loc
    }

    fn new_sock(&mut self) -> Fd {
        let fd = self.next_fd;
        self.next_fd += 1;
        let id = SockId {
            trace: self.trace,
            n: self.next_sock,
        };
        self.next_sock += 1;
        self.fds.insert(fd, id);
        fd
    }

    pub fn socket(&mut self, domain: Domain, ty: SockType, nonblock: bool) -> Fd {
        let fd = self.new_sock();
        self.call(
            Syscall::Socket {
                domain,
                ty,
                nonblock,
                cloexec: false,
                protocol: Protocol::Default,
                fd: Some(fd),
            },
            Outcome::ok(i64::from(fd)),
        );
        fd
    }

    pub fn tcp(&mut self) -> Fd {
        self.socket(Domain::Inet, SockType::Stream, false)
    }

    pub fn tcp6(&mut self) -> Fd {
        self.socket(Domain::Inet6, SockType::Stream, false)
    }

    pub fn tcp_nonblocking(&mut self) -> Fd {
        self.socket(Domain::Inet, SockType::Stream, true)
    }

    pub fn udp(&mut self) -> Fd {
        self.socket(Domain::Inet, SockType::Dgram, false)
    }

    pub fn udp6(&mut self) -> Fd {
        self.socket(Domain::Inet6, SockType::Dgram, false)
    }

    pub fn bind(&mut self, fd: Fd, at: &str) -> Loc {
        self.call(
            Syscall::Bind {
                fd,
                addr: SockAddr::Inet(addr(at)),
            },
            Outcome::ok(0),
        )
    }

    pub fn listen(&mut self, fd: Fd) -> Loc {
        self.listen_backlog(fd, 128)
    }

    pub fn listen_backlog(&mut self, fd: Fd, backlog: i64) -> Loc {
        self.call(Syscall::Listen { fd, backlog }, Outcome::ok(0))
    }

    fn accept_with(&mut self, fd: Fd, peer: Option<&str>, nonblock: bool) -> Fd {
        let new_fd = self.new_sock();
        self.call(
            Syscall::Accept {
                fd,
                peer: peer.map(|p| SockAddr::Inet(addr(p))),
                nonblock,
                cloexec: false,
                new_fd: Some(new_fd),
            },
            Outcome::ok(i64::from(new_fd)),
        );
        new_fd
    }

    /// accept(fd, peer) returning a new socket.
    pub fn accept(&mut self, fd: Fd, peer: &str) -> Fd {
        self.accept_with(fd, Some(peer), false)
    }

    /// accept with a NULL address.
    /// accept4 with `SOCK_NONBLOCK` (nginx, every event loop).
    pub fn accept_nonblocking(&mut self, fd: Fd, peer: &str) -> Fd {
        self.accept_with(fd, Some(peer), true)
    }

    pub fn accept_any(&mut self, fd: Fd) -> Fd {
        self.accept_with(fd, None, false)
    }

    /// accept4(fd, peer, SOCK_NONBLOCK).
    pub fn accept4_nonblock(&mut self, fd: Fd, peer: &str) -> Fd {
        self.accept_with(fd, Some(peer), true)
    }

    /// An accept that failed (no new descriptor).
    pub fn accept_fails(&mut self, fd: Fd, errno: Errno) -> Loc {
        self.call(
            Syscall::Accept {
                fd,
                peer: None,
                nonblock: false,
                cloexec: false,
                new_fd: None,
            },
            Outcome::failed(errno),
        )
    }

    pub fn connect(&mut self, fd: Fd, to: &str) -> Loc {
        self.call(
            Syscall::Connect {
                fd,
                addr: SockAddr::Inet(addr(to)),
            },
            Outcome::ok(0),
        )
    }

    /// Sends `data` in full.
    pub fn send(&mut self, fd: Fd, data: &[u8]) -> Loc {
        self.send_shown(fd, data, data.len() as u64)
    }

    /// Sends `len` bytes of which strace showed `data` (cut when shorter).
    pub fn send_shown(&mut self, fd: Fd, data: &[u8], len: u64) -> Loc {
        let mut payload = shown(data);
        payload.truncated = (data.len() as u64) < len;
        self.call(
            Syscall::Send {
                fd,
                data: payload,
                flags: MsgFlags::default(),
                dest: None,
                passed_fds: Vec::new(),
            },
            Outcome::ok(len as i64),
        )
    }

    /// A send that failed.
    pub fn send_fails(&mut self, fd: Fd, data: &[u8], errno: Errno) -> Loc {
        self.call(
            Syscall::Send {
                fd,
                data: shown(data),
                flags: MsgFlags::default(),
                dest: None,
                passed_fds: Vec::new(),
            },
            Outcome::failed(errno),
        )
    }

    pub fn sendto(&mut self, fd: Fd, data: &[u8], to: &str) -> Loc {
        self.call(
            Syscall::Send {
                fd,
                data: shown(data),
                flags: MsgFlags::default(),
                dest: Some(SockAddr::Inet(addr(to))),
                passed_fds: Vec::new(),
            },
            Outcome::ok(data.len() as i64),
        )
    }

    /// Receives exactly `data` (buffer of 4096 bytes).
    pub fn recv(&mut self, fd: Fd, data: &[u8]) -> Loc {
        self.recv_into(fd, data, data.len() as u64, 4096, MsgFlags::default(), None)
    }

    /// Receives `len` bytes of which `data` were shown, into a `buf_len` buffer.
    pub fn recv_into(
        &mut self,
        fd: Fd,
        data: &[u8],
        len: u64,
        buf_len: u64,
        flags: MsgFlags,
        src: Option<&str>,
    ) -> Loc {
        let mut payload = shown(data);
        payload.truncated = (data.len() as u64) < len;
        self.call(
            Syscall::Recv {
                fd,
                data: payload,
                buf_len,
                flags,
                src: src.map(|s| SockAddr::Inet(addr(s))),
                truncated_datagram: None,
                passed_fds: Vec::new(),
            },
            Outcome::ok(len as i64),
        )
    }

    pub fn recvfrom(&mut self, fd: Fd, data: &[u8], from: &str) -> Loc {
        self.recv_into(
            fd,
            data,
            data.len() as u64,
            65536,
            MsgFlags::default(),
            Some(from),
        )
    }

    /// read() returning 0: end of stream.
    pub fn recv_eof(&mut self, fd: Fd) -> Loc {
        self.recv_into(fd, b"", 0, 4096, MsgFlags::default(), None)
    }

    pub fn recv_fails(&mut self, fd: Fd, errno: Errno) -> Loc {
        self.call(
            Syscall::Recv {
                fd,
                data: Payload::default(),
                buf_len: 4096,
                flags: MsgFlags::default(),
                src: None,
                truncated_datagram: None,
                passed_fds: Vec::new(),
            },
            Outcome::failed(errno),
        )
    }

    pub fn close(&mut self, fd: Fd) -> Loc {
        self.call(Syscall::Close { fd }, Outcome::ok(0))
    }

    pub fn shutdown(&mut self, fd: Fd, how: i64) -> Loc {
        self.call(Syscall::Shutdown { fd, how }, Outcome::ok(0))
    }

    pub fn setsockopt(&mut self, fd: Fd, level: &str, name: &str, value: OptValue) -> Loc {
        self.call(
            Syscall::Setsockopt {
                fd,
                level: level.into(),
                name: name.into(),
                value,
            },
            Outcome::ok(0),
        )
    }

    pub fn getsockopt_so_error(&mut self, fd: Fd, errno_number: i64) -> Loc {
        self.call(
            Syscall::Getsockopt {
                fd,
                level: "SOL_SOCKET".into(),
                name: "SO_ERROR".into(),
                value: OptValue::Int(errno_number),
            },
            Outcome::ok(0),
        )
    }

    pub fn getsockname(&mut self, fd: Fd, at: &str) -> Loc {
        self.call(
            Syscall::Getsockname {
                fd,
                addr: Some(SockAddr::Inet(addr(at))),
            },
            Outcome::ok(0),
        )
    }

    /// poll() on one descriptor, reporting `got` (all false = timeout).
    pub fn poll(&mut self, fd: Fd, wanted: Ready, got: Ready) -> Loc {
        let ready = got.read || got.write || got.error || got.hangup;
        self.call(
            Syscall::Wait {
                fds: vec![WaitFd { fd, wanted, got }],
                timeout_ms: Some(1000),
                epoll_fd: None,
            },
            Outcome::ok(i64::from(ready)),
        )
    }

    /// epoll_ctl(EPOLL_CTL_ADD) of `fd` to the epoll instance `epfd`, for `wanted`.
    pub fn epoll_add(&mut self, epfd: Fd, fd: Fd, wanted: Ready) -> Loc {
        self.call(
            Syscall::EpollCtl {
                epfd,
                op: EpollOp::Add,
                fd,
                wanted,
            },
            Outcome::ok(0),
        )
    }

    /// epoll_wait on `epfd` that timed out after `timeout_ms` with nothing ready.
    pub fn epoll_timeout(&mut self, epfd: Fd, timeout_ms: i64) -> Loc {
        self.call(
            Syscall::Wait {
                fds: Vec::new(),
                timeout_ms: Some(timeout_ms),
                epoll_fd: Some(epfd),
            },
            Outcome::ok(0),
        )
    }
}

/// Readiness bits for [`Script::poll`].
pub fn readable() -> Ready {
    Ready {
        read: true,
        ..Ready::default()
    }
}

pub fn writable() -> Ready {
    Ready {
        write: true,
        ..Ready::default()
    }
}

pub fn nothing() -> Ready {
    Ready::default()
}

/// A topology with one host per entry (its IPs) and one trace per host, trace `i` on host `i`.
pub fn topology(hosts: &[&[&str]]) -> crate::config::Topology {
    use crate::config::{Host, Topology, TopologyOrigin, TraceSpec};
    let mut topo = Topology {
        origin: TopologyOrigin::Inferred,
        ..Topology::default()
    };
    for (i, ips) in hosts.iter().enumerate() {
        let id = TraceId(i as u32);
        topo.hosts.push(Host {
            name: format!("host{i}"),
            ips: ips.iter().filter_map(|ip| ip.parse().ok()).collect(),
            nats: Vec::new(),
            traces: vec![id],
        });
        topo.traces.push(TraceSpec {
            id,
            name: format!("trace{i}"),
            path: format!("trace{i}").into(),
            host: i,
            clock: crate::source::TraceClock::TimeOfDay,
        });
    }
    topo
}

/// A topology with `traces` traces all on one host with the given IPs.
pub fn one_host(ips: &[&str], traces: u32) -> crate::config::Topology {
    let mut topo = topology(&[ips]);
    topo.traces.clear();
    topo.hosts[0].traces.clear();
    for i in 0..traces {
        let id = TraceId(i);
        topo.hosts[0].traces.push(id);
        topo.traces.push(crate::config::TraceSpec {
            id,
            name: format!("trace{i}"),
            path: format!("trace{i}").into(),
            host: 0,
            clock: crate::source::TraceClock::TimeOfDay,
        });
    }
    topo
}
