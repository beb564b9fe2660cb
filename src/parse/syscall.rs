//! The typed vocabulary the parser produces: one [`Call`] per system call line (after merging
//! `<unfinished ...>` / `<... resumed>` halves), with arguments decoded into [`Syscall`].
//!
//! This is the interface between *parse* and every later stage. File descriptors stay raw
//! ([`Fd`]); the *fold* stage resolves them to socket identities.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::source::Loc;

/// A raw file descriptor number as printed by strace.
pub type Fd = i32;

/// One system call as strace reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub loc: Loc,
    /// Process (or thread) id; 0 when the trace was recorded without `-f` and has no pid column.
    pub pid: u32,
    /// Timestamp in seconds, when the trace has one (`-t`, `-tt`, `-ttt`; `-r` gives relative
    /// seconds, accumulated into an absolute offset from the trace start).
    pub time: Option<f64>,
    /// Time spent in the call (`-T`), in seconds.
    pub duration: Option<f64>,
    /// The call's name exactly as strace printed it (e.g. `recvfrom`, `accept4`).
    pub name: SyscallName,
    pub syscall: Syscall,
    pub outcome: Outcome,
    /// What `-y` / `-yy` printed about descriptors in this call (extra evidence; empty without
    /// those flags).
    pub fd_info: Vec<FdInfo>,
}

/// A `-y` / `-yy` descriptor decoration, e.g. `3<TCP:[10.0.0.1:80->10.0.0.2:5000]>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdInfo {
    pub fd: Fd,
    /// What the fd is: `TCP`, `TCPv6`, `UDP`, `UDPv6`, `UNIX`, `NETLINK`, `socket` (bare
    /// `socket:[inode]`), `pipe`, `file`, ... The usual kinds are borrowed, not allocated:
    /// decorations are on most calls of a `-y` trace.
    pub kind: Cow<'static, str>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// File path, unix socket path, or inode text, when that is what strace printed (shared:
    /// calls on one descriptor repeat its decoration).
    pub detail: Option<Arc<str>>,
}

/// What the call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The numeric return value; `None` when strace printed `?` (the call never returned, e.g. it
    /// was interrupted by exit or restarted).
    pub value: Option<i64>,
    pub errno: Option<Errno>,
}

impl Outcome {
    pub fn ok(value: i64) -> Self {
        Outcome {
            value: Some(value),
            errno: None,
        }
    }
    pub fn failed(errno: Errno) -> Self {
        Outcome {
            value: Some(-1),
            errno: Some(errno),
        }
    }
    pub fn is_success(&self) -> bool {
        self.errno.is_none() && self.value.is_some_and(|v| v >= 0)
    }
    /// The call ended without a result while it was blocked: strace printed `?` (the trace
    /// ended in it, its process exited or was killed in it, or a signal will restart it) or a
    /// signal interrupted it (EINTR). A receive or wait that ends so got nothing.
    pub fn never_returned(&self) -> bool {
        self.value.is_none() || self.errno == Some(Errno::EINTR)
    }
}

macro_rules! names {
    ($(#[$meta:meta])* $vis:vis enum $ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $ty { $($variant),* }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The spelling strace uses.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }

            /// Looks a name up by strace's spelling.
            pub fn from_bytes(name: &[u8]) -> Option<$ty> {
                match name { $(n if n == $text.as_bytes() => Some($ty::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

names! {
    /// The system calls netcheck recognises (network calls and everything fd folding needs).
    pub enum SyscallName {
        Socket => "socket", Socketpair => "socketpair", Bind => "bind", Listen => "listen",
        Accept => "accept", Accept4 => "accept4", Connect => "connect",
        Send => "send", Sendto => "sendto", Sendmsg => "sendmsg", Sendmmsg => "sendmmsg",
        Recv => "recv", Recvfrom => "recvfrom", Recvmsg => "recvmsg", Recvmmsg => "recvmmsg",
        Read => "read", Readv => "readv", Write => "write", Writev => "writev",
        Pread64 => "pread64", Pwrite64 => "pwrite64", Sendfile => "sendfile",
        Sendfile64 => "sendfile64", Splice => "splice",
        Close => "close", CloseRange => "close_range", Shutdown => "shutdown",
        Setsockopt => "setsockopt", Getsockopt => "getsockopt",
        Getsockname => "getsockname", Getpeername => "getpeername",
        Fcntl => "fcntl", Fcntl64 => "fcntl64", Ioctl => "ioctl",
        Dup => "dup", Dup2 => "dup2", Dup3 => "dup3",
        Clone => "clone", Clone3 => "clone3", Fork => "fork", Vfork => "vfork",
        Execve => "execve", Exit => "exit", ExitGroup => "exit_group",
        Select => "select", Pselect6 => "pselect6", Poll => "poll", Ppoll => "ppoll",
        EpollCreate => "epoll_create", EpollCreate1 => "epoll_create1", EpollCtl => "epoll_ctl",
        EpollWait => "epoll_wait", EpollPwait => "epoll_pwait", EpollPwait2 => "epoll_pwait2",
    }
}

impl SyscallName {
    /// Calls on any kind of descriptor, outside strace's `%network` class: a trace recorded
    /// with `-e trace=network` has none of them. `sendfile` is in that class (strace keeps it
    /// under the filter), `splice` is not.
    pub fn is_generic_descriptor_call(self) -> bool {
        use SyscallName as N;
        matches!(
            self,
            N::Read
                | N::Readv
                | N::Write
                | N::Writev
                | N::Pread64
                | N::Pwrite64
                | N::Splice
                | N::Close
                | N::CloseRange
                | N::Fcntl
                | N::Fcntl64
                | N::Ioctl
                | N::Dup
                | N::Dup2
                | N::Dup3
                | N::Select
                | N::Pselect6
                | N::Poll
                | N::Ppoll
                | N::EpollCreate
                | N::EpollCreate1
                | N::EpollCtl
                | N::EpollWait
                | N::EpollPwait
                | N::EpollPwait2
        )
    }
}

names! {
    #[allow(non_camel_case_types)] // the kernel's own spelling, so reports and code read alike
    /// Error names the model reasons about; the parser reads any other name as
    /// [`Errno::OTHER`] ([`Errno::from_bytes`] itself answers `None` for it).
    pub enum Errno {
        EAGAIN => "EAGAIN", EWOULDBLOCK => "EWOULDBLOCK", EINPROGRESS => "EINPROGRESS",
        EALREADY => "EALREADY", EINTR => "EINTR", ERESTARTSYS => "ERESTARTSYS",
        ERESTARTNOHAND => "ERESTARTNOHAND", ERESTARTNOINTR => "ERESTARTNOINTR",
        ERESTART_RESTARTBLOCK => "ERESTART_RESTARTBLOCK",
        ECONNREFUSED => "ECONNREFUSED", ECONNRESET => "ECONNRESET", ECONNABORTED => "ECONNABORTED",
        ETIMEDOUT => "ETIMEDOUT", EHOSTUNREACH => "EHOSTUNREACH", ENETUNREACH => "ENETUNREACH",
        EHOSTDOWN => "EHOSTDOWN", ENETDOWN => "ENETDOWN",
        EPIPE => "EPIPE", ENOTCONN => "ENOTCONN", EISCONN => "EISCONN",
        EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", EAFNOSUPPORT => "EAFNOSUPPORT",
        EACCES => "EACCES", EPERM => "EPERM", EINVAL => "EINVAL", EBADF => "EBADF",
        ENOTSOCK => "ENOTSOCK", EMSGSIZE => "EMSGSIZE", ENOBUFS => "ENOBUFS", ENOMEM => "ENOMEM",
        EOPNOTSUPP => "EOPNOTSUPP", EPROTOTYPE => "EPROTOTYPE", ENOPROTOOPT => "ENOPROTOOPT",
        EDESTADDRREQ => "EDESTADDRREQ", EFAULT => "EFAULT", ENOENT => "ENOENT", ESPIPE => "ESPIPE",
        EMFILE => "EMFILE", ENFILE => "ENFILE", ENOSYS => "ENOSYS", ENOTTY => "ENOTTY",
        EPROTONOSUPPORT => "EPROTONOSUPPORT", ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        ENETRESET => "ENETRESET", ESHUTDOWN => "ESHUTDOWN", EIO => "EIO", ECHILD => "ECHILD",
        EEXIST => "EEXIST", ENODEV => "ENODEV", ENXIO => "ENXIO", EROFS => "EROFS",
        OTHER => "(other error)",
    }
}

impl Errno {
    /// True for the would-block family.
    pub fn is_would_block(self) -> bool {
        matches!(self, Errno::EAGAIN | Errno::EWOULDBLOCK)
    }
    /// True for the kernel-internal restart codes strace shows when a signal interrupts a call.
    pub fn is_restart(self) -> bool {
        matches!(
            self,
            Errno::ERESTARTSYS
                | Errno::ERESTARTNOHAND
                | Errno::ERESTARTNOINTR
                | Errno::ERESTART_RESTARTBLOCK
                | Errno::EINTR
        )
    }
}

/// Payload bytes of a send or receive, as far as strace showed them.
///
/// The parser keeps the text strace printed between the quotes and undoes its escapes only when
/// the bytes are first asked for: most payloads of a trace are file reads that the fold stage
/// drops, and decoding them was the largest single cost of parsing. An escape strace never
/// prints (`\q`) is kept as its literal text.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    /// Decoded bytes, or while `escaped` the raw text with its C escapes.
    text: Vec<u8>,
    /// `text` still holds escapes.
    escaped: bool,
    /// The decoded bytes, once asked for (only when `escaped`).
    decoded: OnceLock<Box<[u8]>>,
    /// strace cut the string (`"..."...`, `-s` limit): bytes beyond the shown ones are unknown.
    pub truncated: bool,
}

impl Payload {
    /// A payload of known bytes.
    pub fn new(bytes: Vec<u8>, truncated: bool) -> Self {
        Payload {
            text: bytes,
            escaped: false,
            decoded: OnceLock::new(),
            truncated,
        }
    }

    /// Appends the raw text of one quoted string (between its quotes, escapes undecoded).
    pub(crate) fn push_quoted(&mut self, raw: &[u8]) {
        if self.escaped && raw.first().is_some_and(|c| (b'0'..=b'7').contains(c)) {
            // strace escapes each string on its own and writes a byte as a short octal escape
            // (`\0`) unless a digit follows in the same string: an iovec array's `"\0"` then
            // `"1"` is two bytes, which the joined text `\01` would read as one.
            pad_trailing_octal_escape(&mut self.text);
        }
        if !self.escaped && memchr::memchr(b'\\', raw).is_some() {
            // Bytes already held contain no backslash, so they read the same as raw text.
            self.escaped = true;
        }
        self.text.extend_from_slice(raw);
    }

    /// The bytes strace showed, escapes undone.
    pub fn shown(&self) -> &[u8] {
        if !self.escaped {
            return &self.text;
        }
        self.decoded
            .get_or_init(|| crate::parse::strings::decode_lenient(&self.text).into_boxed_slice())
    }

    /// Number of bytes whose content is known.
    pub fn shown_len(&self) -> usize {
        self.shown().len()
    }
}

/// Writes a short octal escape that ends `text` (`\0`, `\12`) with three digits (`\000`,
/// `\012`), so that a digit appended after it stays a byte of its own. A backslash that is
/// itself escaped (`\\`) starts no escape.
fn pad_trailing_octal_escape(text: &mut Vec<u8>) {
    let len = text.len();
    for digits in [2, 1] {
        let Some(start) = len.checked_sub(digits + 1) else {
            continue;
        };
        let is_escape = text.get(start) == Some(&b'\\')
            && text
                .get(start + 1..)
                .is_some_and(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        let backslashes_before = text
            .get(..start)
            .map_or(0, |t| t.iter().rev().take_while(|&&c| c == b'\\').count());
        if is_escape && backslashes_before % 2 == 0 {
            let zeros = std::iter::repeat_n(b'0', 3 - digits);
            text.splice(start + 1..start + 1, zeros);
            return;
        }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.truncated == other.truncated && self.shown() == other.shown()
    }
}

impl Eq for Payload {}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Payload", 2)?;
        out.serialize_field("shown", &String::from_utf8_lossy(self.shown()))?;
        out.serialize_field("truncated", &self.truncated)?;
        out.end()
    }
}

/// A socket address as decoded from a `sockaddr` struct.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum SockAddr {
    /// AF_INET / AF_INET6 (the scope id and flow info of IPv6 are kept in `SocketAddr`).
    Inet(SocketAddr),
    /// AF_UNIX: the path (abstract names keep their leading `@` as strace prints them).
    Unix(String),
    /// AF_UNSPEC (e.g. `connect` to dissolve a UDP association).
    Unspec,
    /// Any other family (netlink, packet...), by strace's name.
    Other(String),
}

impl SockAddr {
    pub fn inet(&self) -> Option<SocketAddr> {
        match self {
            SockAddr::Inet(a) => Some(*a),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Domain {
    Inet,
    Inet6,
    Unix,
    Netlink,
    Packet,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SockType {
    Stream,
    Dgram,
    Raw,
    SeqPacket,
    Other,
}

/// Transport protocol of a socket (from the `protocol` argument, or implied by the type when 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// 0 / IPPROTO_IP: the type's default.
    Default,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Other(i64),
}

/// Flags given to `send*`/`recv*` calls. Unknown names are kept as `other` bits, never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MsgFlags {
    pub peek: bool,
    pub trunc: bool,
    pub dontwait: bool,
    pub oob: bool,
    pub nosignal: bool,
    pub more: bool,
    pub waitall: bool,
    /// MSG_ERRQUEUE: the call reads the socket's error queue (transmit timestamps, ICMP
    /// errors), not bytes from the peer.
    pub errqueue: bool,
    /// MSG_FASTOPEN: a send on an unconnected TCP socket that connects it first (TCP Fast Open).
    pub fastopen: bool,
    /// Any other flag names or numeric bits.
    pub other: bool,
}

/// Which spelling of "send bytes" / "receive bytes" a call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Transfer {
    Stream,
    Datagram,
}

/// An option value of `setsockopt` / `getsockopt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OptValue {
    Int(i64),
    Linger {
        onoff: i64,
        linger: i64,
    },
    /// SO_RCVTIMEO / SO_SNDTIMEO, in microseconds.
    Timeout {
        micros: i64,
    },
    /// IP_ADD_MEMBERSHIP and friends.
    Membership {
        group: IpAddr,
        interface: Option<IpAddr>,
    },
    /// Anything else (raw struct text or bytes), kept for display.
    Raw(String),
    /// Not shown (failed getsockopt, NULL).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FcntlOp {
    /// F_DUPFD / F_DUPFD_CLOEXEC: the new fd is the call's return value.
    DupFd {
        cloexec: bool,
    },
    GetFl,
    SetFl {
        nonblock: bool,
    },
    GetFd,
    SetFd {
        cloexec: bool,
    },
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IoctlOp {
    /// FIONBIO: set or clear nonblocking mode.
    SetNonblock(bool),
    /// FIONREAD / SIOCINQ: bytes readable (the count, when shown).
    BytesReadable(Option<i64>),
    Other(String),
}

/// Poll-style readiness bits (for poll/ppoll, select and epoll alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ready {
    pub read: bool,
    pub write: bool,
    pub error: bool,
    pub hangup: bool,
    /// Bits netcheck does not interpret (POLLPRI, EPOLLONESHOT...).
    pub other: bool,
    /// EPOLLET: the instance reports a change of readiness once, not a state; a wait that times
    /// out says only that nothing *new* arrived.
    pub edge_triggered: bool,
}

/// One descriptor in a readiness wait: what was asked for and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WaitFd {
    pub fd: Fd,
    pub wanted: Ready,
    /// Readiness reported by the call (all false when not ready or the call failed / timed out).
    pub got: Ready,
}

/// One message of `sendmmsg` / `recvmmsg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MmsgEntry {
    pub data: Payload,
    pub addr: Option<SockAddr>,
    /// `msg_len`: bytes transferred for this message, when shown.
    pub len: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EpollOp {
    Add,
    Mod,
    Del,
}

/// Typed arguments of a recognised call. Result descriptors (socket, accept, dup...) come from
/// [`Outcome::value`] and are copied into the variant for convenience.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Syscall {
    Socket {
        domain: Domain,
        ty: SockType,
        nonblock: bool,
        cloexec: bool,
        protocol: Protocol,
        /// The new descriptor on success.
        fd: Option<Fd>,
    },
    Socketpair {
        domain: Domain,
        ty: SockType,
        nonblock: bool,
        fds: Option<[Fd; 2]>,
    },
    Bind {
        fd: Fd,
        addr: SockAddr,
    },
    Listen {
        fd: Fd,
        backlog: i64,
    },
    /// accept and accept4. `peer` is None when the address argument was NULL or not shown.
    Accept {
        fd: Fd,
        peer: Option<SockAddr>,
        nonblock: bool,
        cloexec: bool,
        new_fd: Option<Fd>,
    },
    Connect {
        fd: Fd,
        addr: SockAddr,
    },
    /// send, sendto, sendmsg, write, writev, pwrite64. `dest` only for an explicit address.
    Send {
        fd: Fd,
        data: Payload,
        flags: MsgFlags,
        dest: Option<SockAddr>,
        /// Descriptors sendmsg passed with SCM_RIGHTS (a unix socket's ancillary data), in order.
        passed_fds: Vec<Fd>,
    },
    /// recv, recvfrom, recvmsg, read, readv, pread64. `data` is what came back (empty on
    /// failure); `buf_len` the buffer size offered (sum of iovecs).
    Recv {
        fd: Fd,
        data: Payload,
        buf_len: u64,
        flags: MsgFlags,
        src: Option<SockAddr>,
        /// Whether recvmsg's `msg_flags` contained MSG_TRUNC (the datagram was larger than the
        /// buffer); `None` when the call shows no message flags (recvfrom, read, a msghdr
        /// printed as a pointer), so only the sizes can hint at a cut.
        truncated_datagram: Option<bool>,
        /// Descriptors recvmsg received with SCM_RIGHTS, numbered in the receiver's table.
        passed_fds: Vec<Fd>,
    },
    SendMany {
        fd: Fd,
        msgs: Vec<MmsgEntry>,
        flags: MsgFlags,
    },
    RecvMany {
        fd: Fd,
        msgs: Vec<MmsgEntry>,
        flags: MsgFlags,
    },
    /// sendfile / splice: byte count only, content unknown.
    CopyFile {
        out_fd: Fd,
        in_fd: Fd,
        count: u64,
    },
    Close {
        fd: Fd,
    },
    /// close_range(first, last, flags); `cloexec_only` for CLOSE_RANGE_CLOEXEC (closes nothing).
    CloseRange {
        first: Fd,
        last: Fd,
        cloexec_only: bool,
    },
    Shutdown {
        fd: Fd,
        /// 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR.
        how: i64,
    },
    Setsockopt {
        fd: Fd,
        level: String,
        name: String,
        value: OptValue,
    },
    Getsockopt {
        fd: Fd,
        level: String,
        name: String,
        value: OptValue,
    },
    Getsockname {
        fd: Fd,
        addr: Option<SockAddr>,
    },
    Getpeername {
        fd: Fd,
        addr: Option<SockAddr>,
    },
    Fcntl {
        fd: Fd,
        op: FcntlOp,
    },
    Ioctl {
        fd: Fd,
        op: IoctlOp,
    },
    /// dup / dup2 / dup3 (also used for fcntl F_DUPFD by the fold stage). `new_fd` is the result.
    Dup {
        old_fd: Fd,
        new_fd: Option<Fd>,
        cloexec: bool,
    },
    /// clone / clone3 / fork / vfork. `shares_fds` = CLONE_FILES; `child` = the returned pid.
    Spawn {
        shares_fds: bool,
        thread: bool,
        child: Option<u32>,
    },
    Execve,
    /// exit / exit_group: the whole process (exit_group) or thread (exit) ends.
    Exit {
        group: bool,
        code: i64,
    },
    /// select / pselect6 / poll / ppoll / epoll_wait family.
    Wait {
        fds: Vec<WaitFd>,
        /// Timeout in milliseconds; None = wait forever.
        timeout_ms: Option<i64>,
        /// For epoll_wait: the epoll instance (fds are then those reported ready).
        epoll_fd: Option<Fd>,
    },
    EpollCreate {
        fd: Option<Fd>,
    },
    EpollCtl {
        epfd: Fd,
        op: EpollOp,
        fd: Fd,
        wanted: Ready,
    },
}

impl Syscall {
    /// The descriptor the call operates on, when it has a single one.
    pub fn primary_fd(&self) -> Option<Fd> {
        use Syscall::*;
        match self {
            Bind { fd, .. }
            | Listen { fd, .. }
            | Accept { fd, .. }
            | Connect { fd, .. }
            | Send { fd, .. }
            | Recv { fd, .. }
            | SendMany { fd, .. }
            | RecvMany { fd, .. }
            | Close { fd }
            | Shutdown { fd, .. }
            | Setsockopt { fd, .. }
            | Getsockopt { fd, .. }
            | Getsockname { fd, .. }
            | Getpeername { fd, .. }
            | Fcntl { fd, .. }
            | Ioctl { fd, .. } => Some(*fd),
            CopyFile { out_fd, .. } => Some(*out_fd),
            Dup { old_fd, .. } => Some(*old_fd),
            EpollCtl { fd, .. } => Some(*fd),
            Socket { fd, .. } => *fd,
            _ => None,
        }
    }
}

/// Something a trace reports that is not a system call but matters to later stages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ProcessEvent {
    /// `+++ exited with N +++`
    Exited { code: i64 },
    /// `+++ killed by SIGxxx +++`
    Killed { signal: String },
    /// `--- SIGxxx {...} ---` (SIGPIPE is evidence of a send after the peer closed).
    Signal { signal: String },
}

/// One item of a parsed trace, in trace order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TraceEvent {
    Call(Call),
    Process {
        loc: Loc,
        pid: u32,
        time: Option<f64>,
        event: ProcessEvent,
    },
}

impl TraceEvent {
    pub fn loc(&self) -> Loc {
        match self {
            TraceEvent::Call(c) => c.loc,
            TraceEvent::Process { loc, .. } => *loc,
        }
    }
}
