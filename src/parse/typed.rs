//! Typed conversion: the argument text and return value of one recognised call become a
//! [`Syscall`]. Every argument is read from the borrowed line; the only allocations are payload
//! bytes (one `Vec` per payload), `-y` decorations, and the names kept for options and ioctls.
//!
//! Ready descriptors of `epoll_wait` come from each event's `data`: the `fd` member when strace
//! shows one, else `u32` (programs almost always store the descriptor there; Python's selectors,
//! libuv and libevent do), else a plain numeric `data`.

use super::address::{fd_info, sockaddr};
use super::error::{ParseError, Part, Result};
use super::outcome::Returned;
use super::strings;
use super::syscall::*;
use super::value::{self, trim};

/// Most arguments any recognised call has.
const MAX_ARGS: usize = 8;

/// A call's top-level arguments.
struct Args<'a> {
    items: [&'a [u8]; MAX_ARGS],
    len: usize,
    /// The whole argument text (errors about missing arguments point at its end).
    text: &'a [u8],
    /// The call never returned (`= ?`): strace may have printed only its first arguments, so
    /// missing ones read as empty.
    cut_short: bool,
}

impl<'a> Args<'a> {
    fn split(text: &'a [u8], cut_short: bool) -> Self {
        let mut args = Args {
            items: [b""; MAX_ARGS],
            len: 0,
            text,
            cut_short,
        };
        for item in value::items(text).take(MAX_ARGS) {
            args.items[args.len] = item;
            args.len += 1;
        }
        args
    }

    fn get(&self, index: usize) -> Result<&'a [u8]> {
        if index < self.len {
            Ok(self.items[index])
        } else if self.cut_short {
            Ok(b"")
        } else {
            Err(ParseError::at(
                Part::MissingArgument,
                self.text.get(self.text.len()..).unwrap_or_default(),
            ))
        }
    }

    fn opt(&self, index: usize) -> Option<&'a [u8]> {
        (index < self.len).then(|| self.items[index])
    }
}

/// Collects `-y` decorations met while reading descriptors.
pub struct Decorations<'v> {
    pub infos: &'v mut Vec<FdInfo>,
    pub recent: &'v mut RecentDecorations,
}

/// Decorations decoded lately and what they gave: calls on one descriptor repeat its decoration
/// (a file read in a loop, a socket's sends), and a server moves between a few descriptors (its
/// listener, the connection it serves, its poll set), so each is decoded once per stretch.
#[derive(Debug, Default)]
pub struct RecentDecorations {
    entries: Vec<(Vec<u8>, FdInfo)>,
    /// The entry to replace next (oldest first).
    next: usize,
}

/// Decorations kept by [`RecentDecorations`].
const RECENT_DECORATIONS: usize = 8;

impl RecentDecorations {
    fn decode(&mut self, fd: Fd, decoration: &[u8]) -> FdInfo {
        if let Some((_, info)) = self
            .entries
            .iter()
            .find(|(text, info)| info.fd == fd && text.as_slice() == decoration)
        {
            return info.clone();
        }
        let info = fd_info(fd, decoration);
        if self.entries.len() < RECENT_DECORATIONS {
            self.entries.push((decoration.to_vec(), info.clone()));
        } else if let Some(entry) = self.entries.get_mut(self.next) {
            entry.0.clear();
            entry.0.extend_from_slice(decoration);
            entry.1 = info.clone();
            self.next = (self.next + 1) % RECENT_DECORATIONS;
        }
        info
    }
}

impl Decorations<'_> {
    /// Reads a descriptor, recording its decoration if it has one.
    fn fd(&mut self, text: &[u8]) -> Result<Fd> {
        // Fast path: a plain small descriptor, the common case.
        if let [digit @ b'0'..=b'9'] = text {
            return Ok(Fd::from(digit - b'0'));
        }
        if let [tens @ b'1'..=b'9', units @ b'0'..=b'9'] = text {
            return Ok(Fd::from(tens - b'0') * 10 + Fd::from(units - b'0'));
        }
        let (number, rest) = value::number_prefix(text);
        let fd = value::int(number)
            .and_then(|n| Fd::try_from(n).ok())
            .ok_or(ParseError::at(Part::Fd, text))?;
        if rest.first() == Some(&b'<') {
            self.note(fd, rest);
        }
        Ok(fd)
    }

    fn note(&mut self, fd: Fd, decoration: &[u8]) {
        if !self.infos.iter().any(|i| i.fd == fd) {
            self.infos.push(self.recent.decode(fd, decoration));
        }
    }
}

fn int(text: &[u8]) -> Result<i64> {
    value::int(value::strip_comment(text)).ok_or(ParseError::at(Part::Number, text))
}

/// A count or length (`[16]`, `16 => 0` give the value after the call).
fn count(text: &[u8]) -> Result<u64> {
    if text.is_empty() {
        return Ok(0);
    }
    // Plain lengths are most counts: no brackets, arrows or comments to look for.
    if text.iter().all(u8::is_ascii_digit) {
        return Ok(u64::try_from(int(text)?).unwrap_or(0));
    }
    let text = value::inner(text, b'[', b']').unwrap_or(text);
    let n = int(value::result_part(text))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn returned_fd(ret: &Returned) -> Option<Fd> {
    ret.outcome
        .value
        .filter(|_| ret.outcome.is_success())
        .and_then(|v| Fd::try_from(v).ok())
}

/// Converts one call. `args` is the text between the parentheses.
pub fn convert(
    name: SyscallName,
    args: &[u8],
    ret: &Returned,
    decorations: &mut Decorations,
) -> Result<Syscall> {
    use SyscallName as N;
    if let Some(fd) = returned_fd(ret) {
        if !ret.decoration.is_empty() {
            decorations.note(fd, ret.decoration);
        }
    }
    let cut_short = ret.outcome.value.is_none();
    let a = Args::split(args, cut_short);
    let d = decorations;
    Ok(match name {
        N::Socket => {
            let (ty, nonblock, cloexec) = sock_type(a.get(1)?);
            Syscall::Socket {
                domain: domain(a.get(0)?),
                ty,
                nonblock,
                cloexec,
                protocol: protocol(a.get(2)?),
                fd: returned_fd(ret),
            }
        }
        N::Socketpair => {
            let (ty, nonblock, _) = sock_type(a.get(1)?);
            let fds = match a.opt(3).and_then(value::array_items) {
                Some(mut items) if ret.outcome.is_success() => {
                    let first = d.fd(items.next().unwrap_or_default())?;
                    let second = d.fd(items.next().unwrap_or_default())?;
                    Some([first, second])
                }
                _ => None,
            };
            Syscall::Socketpair {
                domain: domain(a.get(0)?),
                ty,
                nonblock,
                fds,
            }
        }
        N::Bind | N::Connect => {
            let fd = d.fd(a.get(0)?)?;
            let raw = a.get(1)?;
            let addr = sockaddr(raw)?.unwrap_or_else(|| unknown_addr(raw));
            if name == N::Bind {
                Syscall::Bind { fd, addr }
            } else {
                Syscall::Connect { fd, addr }
            }
        }
        N::Listen => Syscall::Listen {
            fd: d.fd(a.get(0)?)?,
            backlog: int(a.get(1)?)?,
        },
        N::Accept | N::Accept4 => {
            let flags = a.opt(3).unwrap_or_default();
            Syscall::Accept {
                fd: d.fd(a.get(0)?)?,
                peer: a.opt(1).map(sockaddr).transpose()?.flatten(),
                nonblock: value::has_flag(flags, b"SOCK_NONBLOCK"),
                cloexec: value::has_flag(flags, b"SOCK_CLOEXEC"),
                new_fd: returned_fd(ret),
            }
        }
        N::Send | N::Sendto | N::Write | N::Pwrite64 => Syscall::Send {
            fd: d.fd(a.get(0)?)?,
            data: payload(a.get(1)?)?,
            flags: match name {
                N::Send | N::Sendto => msg_flags(a.get(3)?),
                _ => MsgFlags::default(),
            },
            dest: match name {
                N::Sendto => a.opt(4).map(sockaddr).transpose()?.flatten(),
                _ => None,
            },
        },
        N::Recv | N::Recvfrom | N::Read | N::Pread64 => Syscall::Recv {
            fd: d.fd(a.get(0)?)?,
            data: payload(a.get(1)?)?,
            buf_len: count(a.get(2)?)?,
            flags: match name {
                N::Recv | N::Recvfrom => msg_flags(a.get(3)?),
                _ => MsgFlags::default(),
            },
            src: match name {
                N::Recvfrom => a.opt(4).map(sockaddr).transpose()?.flatten(),
                _ => None,
            },
            truncated_datagram: false,
        },
        N::Writev => {
            let (data, _) = iovecs(a.get(1)?)?;
            Syscall::Send {
                fd: d.fd(a.get(0)?)?,
                data,
                flags: MsgFlags::default(),
                dest: None,
            }
        }
        N::Readv => {
            let (data, buf_len) = iovecs(a.get(1)?)?;
            Syscall::Recv {
                fd: d.fd(a.get(0)?)?,
                data,
                buf_len,
                flags: MsgFlags::default(),
                src: None,
                truncated_datagram: false,
            }
        }
        N::Sendmsg => {
            let msg = msghdr(a.get(1)?)?;
            Syscall::Send {
                fd: d.fd(a.get(0)?)?,
                data: msg.data,
                flags: msg_flags(a.get(2)?),
                dest: msg.name,
            }
        }
        N::Recvmsg => {
            let msg = msghdr(a.get(1)?)?;
            Syscall::Recv {
                fd: d.fd(a.get(0)?)?,
                data: msg.data,
                buf_len: msg.buf_len,
                flags: msg_flags(a.get(2)?),
                src: msg.name,
                truncated_datagram: msg.truncated_datagram,
            }
        }
        N::Sendmmsg | N::Recvmmsg => {
            let fd = d.fd(a.get(0)?)?;
            let msgs = mmsghdrs(a.get(1)?)?;
            let flags = msg_flags(a.get(3)?);
            if name == N::Sendmmsg {
                Syscall::SendMany { fd, msgs, flags }
            } else {
                Syscall::RecvMany { fd, msgs, flags }
            }
        }
        N::Sendfile | N::Sendfile64 => Syscall::CopyFile {
            out_fd: d.fd(a.get(0)?)?,
            in_fd: d.fd(a.get(1)?)?,
            count: count(a.get(3)?)?,
        },
        N::Splice => Syscall::CopyFile {
            in_fd: d.fd(a.get(0)?)?,
            out_fd: d.fd(a.get(2)?)?,
            count: count(a.get(4)?)?,
        },
        N::Close => Syscall::Close {
            fd: d.fd(a.get(0)?)?,
        },
        N::CloseRange => Syscall::CloseRange {
            first: fd_bound(a.get(0)?)?,
            last: fd_bound(a.get(1)?)?,
            cloexec_only: value::has_flag(a.opt(2).unwrap_or_default(), b"CLOSE_RANGE_CLOEXEC"),
        },
        N::Shutdown => Syscall::Shutdown {
            fd: d.fd(a.get(0)?)?,
            how: match value::symbol(a.get(1)?) {
                b"SHUT_RD" => 0,
                b"SHUT_WR" => 1,
                b"SHUT_RDWR" => 2,
                other => int(other)?,
            },
        },
        N::Setsockopt | N::Getsockopt => {
            let fd = d.fd(a.get(0)?)?;
            let level = text(a.get(1)?);
            let option = value::symbol(a.get(2)?);
            let value = opt_value(option, a.get(3)?);
            let name_text = text(option);
            if name == N::Setsockopt {
                Syscall::Setsockopt {
                    fd,
                    level,
                    name: name_text,
                    value,
                }
            } else {
                Syscall::Getsockopt {
                    fd,
                    level,
                    name: name_text,
                    value,
                }
            }
        }
        N::Getsockname | N::Getpeername => {
            let fd = d.fd(a.get(0)?)?;
            let addr = a.opt(1).map(sockaddr).transpose()?.flatten();
            if name == N::Getsockname {
                Syscall::Getsockname { fd, addr }
            } else {
                Syscall::Getpeername { fd, addr }
            }
        }
        N::Fcntl | N::Fcntl64 => Syscall::Fcntl {
            fd: d.fd(a.get(0)?)?,
            op: fcntl_op(a.get(1)?, a.opt(2).unwrap_or_default()),
        },
        N::Ioctl => Syscall::Ioctl {
            fd: d.fd(a.get(0)?)?,
            op: ioctl_op(a.get(1)?, a.opt(2).unwrap_or_default()),
        },
        N::Dup => Syscall::Dup {
            old_fd: d.fd(a.get(0)?)?,
            new_fd: returned_fd(ret),
            cloexec: false,
        },
        N::Dup2 | N::Dup3 => {
            let old_fd = d.fd(a.get(0)?)?;
            d.fd(a.get(1)?)?;
            Syscall::Dup {
                old_fd,
                new_fd: returned_fd(ret),
                cloexec: value::has_flag(a.opt(2).unwrap_or_default(), b"O_CLOEXEC"),
            }
        }
        N::Clone | N::Clone3 | N::Fork | N::Vfork => {
            let flags = match name {
                N::Clone => a
                    .items
                    .iter()
                    .take(a.len)
                    .map(|item| value::field(item))
                    .find(|(key, _)| *key == Some(b"flags"))
                    .map(|(_, v)| v)
                    .unwrap_or_default(),
                N::Clone3 => value::get_field(a.get(0)?, b"flags").unwrap_or_default(),
                _ => b"",
            };
            Syscall::Spawn {
                shares_fds: value::has_flag(flags, b"CLONE_FILES"),
                thread: value::has_flag(flags, b"CLONE_THREAD"),
                child: ret
                    .outcome
                    .value
                    .filter(|&v| v > 0)
                    .and_then(|v| u32::try_from(v).ok()),
            }
        }
        N::Execve => Syscall::Execve,
        N::Exit | N::ExitGroup => Syscall::Exit {
            group: name == N::ExitGroup,
            code: int(a.get(0)?)?,
        },
        N::Select | N::Pselect6 => select(&a, ret, d)?,
        N::Poll | N::Ppoll => poll(&a, ret, d, name == N::Ppoll)?,
        N::EpollWait | N::EpollPwait | N::EpollPwait2 => {
            epoll_wait(&a, ret, d, name == N::EpollPwait2)?
        }
        N::EpollCreate | N::EpollCreate1 => Syscall::EpollCreate {
            fd: returned_fd(ret),
        },
        N::EpollCtl => {
            let epfd = d.fd(a.get(0)?)?;
            let op = match value::symbol(a.get(1)?) {
                b"EPOLL_CTL_ADD" => EpollOp::Add,
                b"EPOLL_CTL_MOD" => EpollOp::Mod,
                b"EPOLL_CTL_DEL" => EpollOp::Del,
                other => return Err(ParseError::at(Part::Flags, other)),
            };
            let fd = d.fd(a.get(2)?)?;
            let wanted = a
                .opt(3)
                .and_then(|event| value::get_field(event, b"events"))
                .map(ready)
                .unwrap_or_default();
            Syscall::EpollCtl {
                epfd,
                op,
                fd,
                wanted,
            }
        }
    })
}

fn text(bytes: &[u8]) -> String {
    strings::text(value::symbol(bytes))
}

/// An address argument strace printed as something other than a structure (a pointer after
/// EFAULT, say): kept as text rather than dropping the call.
fn unknown_addr(raw: &[u8]) -> SockAddr {
    SockAddr::Other(text(raw))
}

/// `close_range` bounds: a descriptor, or `~0U` / a huge number meaning "all".
fn fd_bound(text: &[u8]) -> Result<Fd> {
    let text = trim(text);
    if text.starts_with(b"~0") {
        return Ok(Fd::MAX);
    }
    let (number, _) = value::number_prefix(text);
    let n = int(number)?;
    Ok(Fd::try_from(n).unwrap_or(Fd::MAX))
}

fn domain(text: &[u8]) -> Domain {
    match value::symbol(text) {
        b"AF_INET" | b"PF_INET" => Domain::Inet,
        b"AF_INET6" | b"PF_INET6" => Domain::Inet6,
        b"AF_UNIX" | b"AF_LOCAL" | b"PF_UNIX" | b"PF_LOCAL" => Domain::Unix,
        b"AF_NETLINK" | b"PF_NETLINK" => Domain::Netlink,
        b"AF_PACKET" | b"PF_PACKET" => Domain::Packet,
        _ => Domain::Other,
    }
}

/// `SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC` → (type, nonblock, cloexec).
fn sock_type(text: &[u8]) -> (SockType, bool, bool) {
    let mut ty = SockType::Other;
    let (mut nonblock, mut cloexec) = (false, false);
    for flag in value::flags(text) {
        match flag {
            b"SOCK_STREAM" => ty = SockType::Stream,
            b"SOCK_DGRAM" => ty = SockType::Dgram,
            b"SOCK_RAW" => ty = SockType::Raw,
            b"SOCK_SEQPACKET" => ty = SockType::SeqPacket,
            b"SOCK_NONBLOCK" => nonblock = true,
            b"SOCK_CLOEXEC" => cloexec = true,
            _ => {}
        }
    }
    (ty, nonblock, cloexec)
}

fn protocol(text: &[u8]) -> Protocol {
    match value::symbol(text) {
        b"0" | b"IPPROTO_IP" => Protocol::Default,
        b"IPPROTO_TCP" => Protocol::Tcp,
        b"IPPROTO_UDP" => Protocol::Udp,
        b"IPPROTO_ICMP" => Protocol::Icmp,
        b"IPPROTO_ICMPV6" => Protocol::Icmpv6,
        other => Protocol::Other(value::int(other).unwrap_or(-1)),
    }
}

fn msg_flags(text: &[u8]) -> MsgFlags {
    let mut flags = MsgFlags::default();
    for flag in value::flags(text) {
        match flag {
            b"0" => {}
            b"MSG_PEEK" => flags.peek = true,
            b"MSG_TRUNC" => flags.trunc = true,
            b"MSG_DONTWAIT" => flags.dontwait = true,
            b"MSG_OOB" => flags.oob = true,
            b"MSG_NOSIGNAL" => flags.nosignal = true,
            b"MSG_MORE" => flags.more = true,
            b"MSG_WAITALL" => flags.waitall = true,
            _ => flags.other = true,
        }
    }
    flags
}

/// A buffer argument: a quoted string (decoded when first read), or NULL / a pointer (nothing shown).
fn payload(text: &[u8]) -> Result<Payload> {
    let mut data = Payload::default();
    append_payload(text, &mut data)?;
    Ok(data)
}

/// Appends a buffer argument's bytes to `data`. Once a part is truncated nothing after it is
/// known, so later parts are not appended.
fn append_payload(text: &[u8], data: &mut Payload) -> Result<()> {
    let text = trim(text);
    let Some(q) = strings::quoted(text) else {
        if text.first() == Some(&b'"') {
            return Err(ParseError::at(Part::String, text));
        }
        return Ok(());
    };
    if data.truncated {
        return Ok(());
    }
    data.push_quoted(q.raw);
    data.truncated = q.truncated;
    Ok(())
}

/// An iovec array (`[{iov_base="ab", iov_len=2}, ...]`, old form `[{"ab", 2}, ...]`): the bytes
/// shown and the sum of the buffer lengths.
fn iovecs(text: &[u8]) -> Result<(Payload, u64)> {
    let mut data = Payload::default();
    let mut total: u64 = 0;
    let Some(items) = value::array_items(text) else {
        return Ok((data, 0));
    };
    for iov in items {
        if iov == b"..." {
            data.truncated = true;
            continue;
        }
        let fields = value::struct_items(iov).ok_or(ParseError::at(Part::Struct, iov))?;
        for (position, item) in fields.enumerate() {
            match value::field(item) {
                (Some(b"iov_base"), base) => append_payload(base, &mut data)?,
                (Some(b"iov_len"), len) => total = total.saturating_add(count(len)?),
                (None, base) if position == 0 => append_payload(base, &mut data)?,
                (None, len) if position == 1 => total = total.saturating_add(count(len)?),
                _ => {}
            }
        }
    }
    Ok((data, total))
}

struct Msg {
    data: Payload,
    buf_len: u64,
    name: Option<SockAddr>,
    truncated_datagram: bool,
}

/// A `msghdr` (`{msg_name=..., msg_iov=[...], msg_flags=...}`, old `msg_iov(1)=[...]`).
fn msghdr(text: &[u8]) -> Result<Msg> {
    let mut msg = Msg {
        data: Payload::default(),
        buf_len: 0,
        name: None,
        truncated_datagram: false,
    };
    let Some(fields) = value::struct_items(text) else {
        return Ok(msg);
    };
    for item in fields {
        match value::field(item) {
            (Some(b"msg_name"), name) => msg.name = sockaddr(name)?,
            (Some(b"msg_iov"), iov) => (msg.data, msg.buf_len) = iovecs(iov)?,
            (Some(b"msg_flags"), flags) => {
                msg.truncated_datagram = value::has_flag(flags, b"MSG_TRUNC")
            }
            _ => {}
        }
    }
    Ok(msg)
}

/// An `mmsghdr` array: `[{msg_hdr={...}, msg_len=5}, ...]`.
fn mmsghdrs(text: &[u8]) -> Result<Vec<MmsgEntry>> {
    let mut entries = Vec::new();
    let Some(items) = value::array_items(text) else {
        return Ok(entries);
    };
    for item in items {
        if item == b"..." {
            continue;
        }
        let mut entry = MmsgEntry {
            data: Payload::default(),
            addr: None,
            len: None,
        };
        for field in value::struct_items(item).ok_or(ParseError::at(Part::Struct, item))? {
            match value::field(field) {
                (Some(b"msg_hdr"), hdr) => {
                    let msg = msghdr(hdr)?;
                    entry.data = msg.data;
                    entry.addr = msg.name;
                }
                (Some(b"msg_len"), len) => entry.len = Some(count(len)?),
                _ => {}
            }
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn opt_value(option: &[u8], text: &[u8]) -> OptValue {
    let text = trim(text);
    if text == b"NULL" || text.starts_with(b"0x") || text.is_empty() {
        return OptValue::None;
    }
    if let Some(inside) = value::inner(text, b'[', b']') {
        if let Some(n) = value::int(value::result_part(inside)) {
            return OptValue::Int(n);
        }
    }
    if let Some(n) = value::int(text) {
        return OptValue::Int(n);
    }
    if text.first() == Some(&b'{') {
        if let (Some(onoff), Some(linger)) = (
            value::get_field(text, b"l_onoff").and_then(value::int),
            value::get_field(text, b"l_linger").and_then(value::int),
        ) {
            return OptValue::Linger { onoff, linger };
        }
        if matches!(
            option,
            b"SO_RCVTIMEO" | b"SO_SNDTIMEO" | b"SO_RCVTIMEO_OLD" | b"SO_SNDTIMEO_OLD"
        ) {
            if let Some(micros) = timeout_micros(text) {
                return OptValue::Timeout { micros };
            }
        }
        if let Some(group) = value::get_field(text, b"imr_multiaddr").and_then(ip_text) {
            let interface = value::get_field(text, b"imr_interface")
                .or_else(|| value::get_field(text, b"imr_address"))
                .and_then(ip_text);
            return OptValue::Membership { group, interface };
        }
    }
    OptValue::Raw(strings::text(text))
}

/// The address in `inet_addr("224.0.0.1")`.
fn ip_text(text: &[u8]) -> Option<std::net::IpAddr> {
    let open = memchr::memchr(b'"', text)?;
    let end = strings::string_end(text, open)?;
    std::str::from_utf8(text.get(open + 1..end - 1)?)
        .ok()?
        .parse()
        .ok()
}

/// `{tv_sec=1, tv_usec=500}`, `{tv_sec=1, tv_nsec=0}` or old `{1, 500}` in microseconds.
fn timeout_micros(text: &[u8]) -> Option<i64> {
    let mut seconds = None;
    let mut micros = 0i64;
    for (position, item) in value::struct_items(text)?.enumerate() {
        match value::field(item) {
            (Some(b"tv_sec"), v) => seconds = value::int(v),
            (Some(b"tv_usec"), v) => micros = value::int(v)?,
            (Some(b"tv_nsec"), v) => micros = value::int(v)? / 1000,
            (None, v) if position == 0 => seconds = value::int(v),
            (None, v) if position == 1 => micros = value::int(v)?,
            _ => {}
        }
    }
    Some(seconds?.saturating_mul(1_000_000).saturating_add(micros))
}

/// A timeval/timespec timeout in milliseconds; `None` for NULL (wait forever).
fn timeout_ms(text: &[u8]) -> Option<i64> {
    timeout_micros(text).map(|us| us / 1000)
}

fn fcntl_op(cmd: &[u8], arg: &[u8]) -> FcntlOp {
    match value::symbol(cmd) {
        b"F_DUPFD" => FcntlOp::DupFd { cloexec: false },
        b"F_DUPFD_CLOEXEC" => FcntlOp::DupFd { cloexec: true },
        b"F_GETFL" => FcntlOp::GetFl,
        b"F_SETFL" => FcntlOp::SetFl {
            nonblock: value::has_flag(arg, b"O_NONBLOCK"),
        },
        b"F_GETFD" => FcntlOp::GetFd,
        b"F_SETFD" => FcntlOp::SetFd {
            cloexec: value::has_flag(arg, b"FD_CLOEXEC"),
        },
        other => FcntlOp::Other(text(other)),
    }
}

fn ioctl_op(request: &[u8], arg: &[u8]) -> IoctlOp {
    let shown = value::inner(arg, b'[', b']').and_then(|v| value::int(value::result_part(v)));
    match value::symbol(request) {
        b"FIONBIO" => IoctlOp::SetNonblock(shown.unwrap_or(0) != 0),
        b"FIONREAD" | b"SIOCINQ" | b"TIOCINQ" => IoctlOp::BytesReadable(shown),
        other => IoctlOp::Other(text(other)),
    }
}

/// Readiness bits of poll / epoll event names.
fn ready(text: &[u8]) -> Ready {
    let mut r = Ready::default();
    for flag in value::flags(text) {
        let flag = flag
            .strip_prefix(b"E")
            .filter(|f| f.starts_with(b"POLL"))
            .unwrap_or(flag);
        match flag {
            b"POLLIN" | b"POLLRDNORM" => r.read = true,
            b"POLLOUT" | b"POLLWRNORM" => r.write = true,
            b"POLLERR" | b"POLLNVAL" => r.error = true,
            b"POLLHUP" | b"POLLRDHUP" => r.hangup = true,
            b"0" => {}
            _ => r.other = true,
        }
    }
    r
}

fn wait_fd(fds: &mut Vec<WaitFd>, fd: Fd) -> &mut WaitFd {
    let index = match fds.iter().position(|w| w.fd == fd) {
        Some(index) => index,
        None => {
            fds.push(WaitFd {
                fd,
                wanted: Ready::default(),
                got: Ready::default(),
            });
            fds.len() - 1
        }
    };
    &mut fds[index]
}

/// `poll([{fd=3, events=POLLIN}], 1, 1000) = 1 ([{fd=3, revents=POLLIN}])`.
fn poll(a: &Args, ret: &Returned, d: &mut Decorations, timespec: bool) -> Result<Syscall> {
    let mut fds = Vec::new();
    let list = a.get(0)?;
    if let Some(items) = value::array_items(list) {
        for item in items.filter(|i| *i != b"...") {
            let fd =
                d.fd(value::get_field(item, b"fd").ok_or(ParseError::at(Part::Struct, item))?)?;
            let wanted = value::get_field(item, b"events")
                .map(ready)
                .unwrap_or_default();
            wait_fd(&mut fds, fd).wanted = wanted;
        }
    }
    if let Some(items) = value::array_items(ret.annotation) {
        for item in items.filter(|i| *i != b"...") {
            let fd =
                d.fd(value::get_field(item, b"fd").ok_or(ParseError::at(Part::Struct, item))?)?;
            let got = value::get_field(item, b"revents")
                .map(ready)
                .unwrap_or_default();
            wait_fd(&mut fds, fd).got = got;
        }
    }
    let timeout_ms = wait_timeout(a, 2, timespec)?;
    Ok(Syscall::Wait {
        fds,
        timeout_ms,
        epoll_fd: None,
    })
}

/// `select(5, [3 4], [4], NULL, {tv_sec=1, tv_usec=0}) = 1 (in [3], left {...})`.
fn select(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    let mut fds = Vec::new();
    for (index, set) in [1usize, 2, 3].into_iter().enumerate() {
        let Some(members) = a.opt(set).and_then(value::fd_set) else {
            continue;
        };
        for member in members {
            let fd = d.fd(member)?;
            mark(&mut wait_fd(&mut fds, fd).wanted, index);
        }
    }
    for part in value::items(ret.annotation) {
        let (which, set) = if let Some(rest) = part.strip_prefix(b"in ") {
            (0, rest)
        } else if let Some(rest) = part.strip_prefix(b"out ") {
            (1, rest)
        } else if let Some(rest) = part.strip_prefix(b"except ") {
            (2, rest)
        } else {
            continue;
        };
        for member in value::fd_set(set).ok_or(ParseError::at(Part::Array, set))? {
            let fd = d.fd(member)?;
            mark(&mut wait_fd(&mut fds, fd).got, which);
        }
    }
    Ok(Syscall::Wait {
        fds,
        timeout_ms: a.opt(4).and_then(timeout_ms),
        epoll_fd: None,
    })
}

/// The timeout argument at `index`: a timespec (ppoll, epoll_pwait2) or milliseconds, where a
/// negative number means no timeout.
fn wait_timeout(a: &Args, index: usize, timespec: bool) -> Result<Option<i64>> {
    if timespec {
        return Ok(a.opt(index).and_then(timeout_ms));
    }
    Ok(Some(int(a.get(index)?)?).filter(|&ms| ms >= 0))
}

fn mark(ready: &mut Ready, set_index: usize) {
    match set_index {
        0 => ready.read = true,
        1 => ready.write = true,
        _ => ready.error = true,
    }
}

/// `epoll_wait(3, [{events=EPOLLIN, data={u32=5, u64=5}}], 8, 1000) = 1`.
fn epoll_wait(a: &Args, ret: &Returned, d: &mut Decorations, timespec: bool) -> Result<Syscall> {
    let epfd = d.fd(a.get(0)?)?;
    let mut fds = Vec::new();
    if ret.outcome.is_success() {
        if let Some(items) = value::array_items(a.get(1)?) {
            for item in items.filter(|i| *i != b"...") {
                let data =
                    value::get_field(item, b"data").ok_or(ParseError::at(Part::Struct, item))?;
                let fd_text = value::get_field(data, b"fd")
                    .or_else(|| value::get_field(data, b"u32"))
                    .unwrap_or(data);
                let fd = d.fd(fd_text)?;
                let got = value::get_field(item, b"events")
                    .map(ready)
                    .unwrap_or_default();
                wait_fd(&mut fds, fd).got = got;
            }
        }
    }
    let timeout_ms = wait_timeout(a, 3, timespec)?;
    Ok(Syscall::Wait {
        fds,
        timeout_ms,
        epoll_fd: Some(epfd),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{frame, outcome};
    use super::*;
    use std::net::SocketAddr;

    /// Parses one complete strace call line into (syscall, outcome, decorations).
    fn parse(line: &str) -> (Syscall, Outcome, Vec<FdInfo>) {
        let framed = frame::frame(line.as_bytes()).unwrap();
        let frame::Body::Call { name, tail, .. } = framed.body else {
            panic!("not a call: {line}")
        };
        let name = SyscallName::from_bytes(name).unwrap();
        let parts = frame::split_tail(tail).unwrap();
        let ret = outcome::returned(parts.ret).unwrap();
        let mut infos = Vec::new();
        let syscall = convert(
            name,
            parts.args,
            &ret,
            &mut Decorations {
                infos: &mut infos,
                recent: &mut RecentDecorations::default(),
            },
        )
        .unwrap_or_else(|e| panic!("{line}: {e}"));
        (syscall, ret.outcome, infos)
    }

    fn syscall(line: &str) -> Syscall {
        parse(line).0
    }

    fn inet(text: &str) -> SockAddr {
        SockAddr::Inet(text.parse::<SocketAddr>().unwrap())
    }

    fn shown(data: &Payload) -> &[u8] {
        data.shown()
    }

    #[test]
    fn socket_with_flags_and_numeric_fallbacks() {
        assert_eq!(
            syscall("socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, IPPROTO_TCP) = 3"),
            Syscall::Socket {
                domain: Domain::Inet,
                ty: SockType::Stream,
                nonblock: true,
                cloexec: true,
                protocol: Protocol::Tcp,
                fd: Some(3)
            }
        );
        let Syscall::Socket { ty, protocol, fd, .. } =
            syscall("socket(AF_INET6, SOCK_DGRAM|0x40000 /* SOCK_??? */, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)")
        else {
            panic!()
        };
        assert_eq!(
            (ty, protocol, fd),
            (SockType::Dgram, Protocol::Default, None)
        );
        let Syscall::Socketpair { fds, domain, .. } =
            syscall("socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [3, 4]) = 0")
        else {
            panic!()
        };
        assert_eq!((domain, fds), (Domain::Unix, Some([3, 4])));
    }

    #[test]
    fn bind_connect_listen_accept() {
        assert_eq!(
            syscall(
                r#"bind(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("0.0.0.0")}, 16) = 0"#
            ),
            Syscall::Bind {
                fd: 3,
                addr: inet("0.0.0.0:8000")
            }
        );
        let (call, out, _) = parse(
            r#"connect(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused)"#,
        );
        assert_eq!(
            call,
            Syscall::Connect {
                fd: 4,
                addr: inet("[::1]:80")
            }
        );
        assert_eq!(out, Outcome::failed(Errno::ECONNREFUSED));
        assert_eq!(
            syscall("connect(5, {sa_family=AF_UNSPEC, sa_data=\"\"}, 16) = 0"),
            Syscall::Connect {
                fd: 5,
                addr: SockAddr::Unspec
            }
        );
        assert_eq!(
            syscall("listen(3, 128) = 0"),
            Syscall::Listen {
                fd: 3,
                backlog: 128
            }
        );
        assert_eq!(
            syscall("accept(3, NULL, NULL) = 4"),
            Syscall::Accept {
                fd: 3,
                peer: None,
                nonblock: false,
                cloexec: false,
                new_fd: Some(4)
            }
        );
        assert_eq!(
            syscall(
                r#"accept4(3, {sa_family=AF_INET, sin_port=htons(5000), sin_addr=inet_addr("10.0.0.2")}, [16->16], SOCK_NONBLOCK) = 5"#
            ),
            Syscall::Accept {
                fd: 3,
                peer: Some(inet("10.0.0.2:5000")),
                nonblock: true,
                cloexec: false,
                new_fd: Some(5)
            }
        );
        assert_eq!(
            syscall("accept4(3, 0x7ffd5f1c, [128], SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable)"),
            Syscall::Accept { fd: 3, peer: None, nonblock: false, cloexec: true, new_fd: None }
        );
        let Syscall::Bind { addr, .. } =
            syscall(r#"bind(3, {sa_family=AF_UNIX, sun_path="/tmp/s"}, 110) = 0"#)
        else {
            panic!()
        };
        assert_eq!(addr, SockAddr::Unix("/tmp/s".into()));
    }

    #[test]
    fn sends_and_receives_with_escapes_hex_and_truncation() {
        let Syscall::Send {
            fd,
            data,
            flags,
            dest,
        } = syscall(
            r#"sendto(3, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, MSG_NOSIGNAL|MSG_MORE, NULL, 0) = 27"#,
        )
        else {
            panic!()
        };
        assert_eq!(
            (fd, shown(&data), data.truncated, dest),
            (3, &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..], false, None)
        );
        assert!(flags.nosignal && flags.more && !flags.other);
        let (call, out, _) = parse(
            r#"recvfrom(3, "\x68\x69\x0a", 4096, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, [28->16]) = 3"#,
        );
        let Syscall::Recv {
            data, buf_len, src, ..
        } = call
        else {
            panic!()
        };
        assert_eq!(
            (shown(&data), buf_len, src, out.value),
            (&b"hi\n"[..], 4096, Some(inet("127.0.0.53:53")), Some(3))
        );
        let Syscall::Recv { data, .. } =
            syscall(r#"read(5, "HTTP/1.0 200 OK\r\nServer: Simple"..., 8192) = 540"#)
        else {
            panic!()
        };
        assert!(data.truncated);
        assert_eq!(shown(&data), b"HTTP/1.0 200 OK\r\nServer: Simple");
        let Syscall::Recv { data, buf_len, .. } = syscall(
            "recv(3, 0x7ffc, 100, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)",
        ) else {
            panic!()
        };
        assert_eq!((data.shown().len(), buf_len), (0, 100));
        let Syscall::Send { data, .. } = syscall(r#"write(1, "\0\1\177\377'\"", 6) = 6"#) else {
            panic!()
        };
        assert_eq!(shown(&data), b"\0\x01\x7f\xff'\"");
        let Syscall::Send { data, .. } = syscall(r#"pwrite64(4, "ab", 2, 100) = 2"#) else {
            panic!()
        };
        assert_eq!(shown(&data), b"ab");
        let Syscall::Recv { buf_len, .. } = syscall(r#"pread64(4, "ab", 10, 0) = 2"#) else {
            panic!()
        };
        assert_eq!(buf_len, 10);
        let Syscall::Send { data, .. } = syscall(r#"send(3, "x", 1, 0) = 1"#) else {
            panic!()
        };
        assert_eq!(shown(&data), b"x");
    }

    #[test]
    fn iovec_arrays_new_old_and_elided() {
        let Syscall::Send { data, .. } = syscall(
            r#"writev(3, [{iov_base="ab", iov_len=2}, {iov_base="cd", iov_len=2}], 2) = 4"#,
        ) else {
            panic!()
        };
        assert_eq!(shown(&data), b"abcd");
        let Syscall::Recv { data, buf_len, .. } =
            syscall(r#"readv(3, [{"ab", 2}, {"c"..., 100}, {"zz", 2}], 3) = 53"#)
        else {
            panic!()
        };
        assert_eq!(
            (shown(&data), data.truncated, buf_len),
            (&b"abc"[..], true, 104)
        );
        let Syscall::Send { data, .. } =
            syscall(r#"writev(3, [{iov_base="a", iov_len=1}, ...], 300) = 301"#)
        else {
            panic!()
        };
        assert!(data.truncated);
    }

    #[test]
    fn msghdr_new_and_old_forms() {
        let Syscall::Recv {
            data,
            buf_len,
            src,
            truncated_datagram,
            ..
        } = syscall(
            r#"recvmsg(4, {msg_name={sa_family=AF_INET, sin_port=htons(8218), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=128 => 16, msg_iov=[{iov_base="long ans", iov_len=8}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 8"#,
        )
        else {
            panic!()
        };
        assert_eq!(
            (shown(&data), buf_len, src, truncated_datagram),
            (&b"long ans"[..], 8, Some(inet("127.0.0.1:8218")), true)
        );
        let Syscall::Send {
            data, dest, flags, ..
        } = syscall(
            r#"sendmsg(3, {msg_name(16)={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, msg_iov(2)=[{"abc", 3}, {"de", 2}], msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 5"#,
        )
        else {
            panic!()
        };
        assert_eq!(
            (shown(&data), dest),
            (&b"abcde"[..], Some(inet("10.0.0.1:53")))
        );
        assert!(flags.dontwait);
    }

    #[test]
    fn mmsghdr_arrays() {
        let Syscall::SendMany { fd, msgs, .. } = syscall(
            r#"sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="one", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=3}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="two!", iov_len=4}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=4}], 2, 0) = 2"#,
        ) else {
            panic!()
        };
        assert_eq!(fd, 3);
        assert_eq!(
            msgs.iter()
                .map(|m| (m.data.shown().to_vec(), m.len))
                .collect::<Vec<_>>(),
            [(b"one".to_vec(), Some(3)), (b"two!".to_vec(), Some(4))]
        );
        let Syscall::RecvMany { msgs, .. } = syscall(
            r#"recvmmsg(3, [{msg_hdr={msg_name={sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("1.2.3.4")}, msg_namelen=16, msg_iov=[{iov_base="x", iov_len=10}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=1}, ...], 8, MSG_WAITFORONE, NULL) = 1"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (msgs.len(), msgs[0].addr.clone()),
            (1, Some(inet("1.2.3.4:9")))
        );
    }

    #[test]
    fn verbose_constants() {
        assert_eq!(
            syscall("socket(0x2 /* AF_INET */, 0x80801 /* SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK */, 0x6 /* IPPROTO_TCP */) = 3"),
            Syscall::Socket {
                domain: Domain::Inet,
                ty: SockType::Stream,
                nonblock: true,
                cloexec: true,
                protocol: Protocol::Tcp,
                fd: Some(3)
            }
        );
        assert_eq!(
            syscall("shutdown(3, 0x1 /* SHUT_WR */) = 0"),
            Syscall::Shutdown { fd: 3, how: 1 }
        );
        assert_eq!(
            syscall("fcntl(4, 0x406 /* F_DUPFD_CLOEXEC */, 0) = 6"),
            Syscall::Fcntl {
                fd: 4,
                op: FcntlOp::DupFd { cloexec: true }
            }
        );
    }

    #[test]
    fn comments_after_arrays_and_in_flags_are_ignored() {
        let Syscall::SendMany { msgs, .. } = syscall(
            r#"sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="a", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=1}] /* 1 entries */, 1, 0x4000 /* MSG_??? */) = 1"#,
        ) else {
            panic!()
        };
        assert_eq!(msgs.len(), 1);
        let Syscall::Send { flags, .. } =
            syscall(r#"sendto(3, "x", 1, MSG_DONTWAIT|0x80000000 /* MSG_??? */, NULL, 0) = 1"#)
        else {
            panic!()
        };
        assert!(flags.dontwait && flags.other);
    }

    #[test]
    fn poll_and_ppoll_with_annotations() {
        let Syscall::Wait { fds, timeout_ms, epoll_fd } = syscall(
            "poll([{fd=3, events=POLLIN|POLLPRI}, {fd=4, events=POLLOUT}], 2, 1000) = 1 ([{fd=3, revents=POLLIN|POLLHUP}])",
        ) else {
            panic!()
        };
        assert_eq!((timeout_ms, epoll_fd, fds.len()), (Some(1000), None, 2));
        assert!(fds[0].wanted.read && fds[0].wanted.other && fds[0].got.read && fds[0].got.hangup);
        assert!(fds[1].wanted.write && !fds[1].got.write);
        let Syscall::Wait { timeout_ms, .. } =
            syscall("poll([{fd=3, events=POLLIN}], 1, -1) = 0 (Timeout)")
        else {
            panic!()
        };
        assert_eq!(timeout_ms, None);
        let Syscall::Wait { timeout_ms, fds, .. } = syscall(
            "ppoll([{fd=5, events=POLLIN}], 1, {tv_sec=2, tv_nsec=500000000}, NULL, 8) = 1 ([{fd=5, revents=POLLIN}], left {tv_sec=1, tv_nsec=0})",
        ) else {
            panic!()
        };
        assert_eq!((timeout_ms, fds[0].got.read), (Some(2500), true));
    }

    #[test]
    fn select_and_pselect6_results() {
        let Syscall::Wait { fds, timeout_ms, .. } = syscall(
            "select(5, [3 4], [4], NULL, {tv_sec=1, tv_usec=500}) = 2 (in [3], out [4], left {tv_sec=0, tv_usec=1})",
        ) else {
            panic!()
        };
        assert_eq!(timeout_ms, Some(1000));
        let three = fds.iter().find(|w| w.fd == 3).unwrap();
        let four = fds.iter().find(|w| w.fd == 4).unwrap();
        assert!(three.wanted.read && three.got.read && !three.got.write);
        assert!(four.wanted.read && four.wanted.write && four.got.write && !four.got.read);
        let Syscall::Wait {
            fds, timeout_ms, ..
        } = syscall("pselect6(7, [4 6], [], NULL, NULL, NULL) = 1 (in [6])")
        else {
            panic!()
        };
        assert_eq!(timeout_ms, None);
        assert!(fds.iter().any(|w| w.fd == 6 && w.got.read));
        let Syscall::Wait { fds, .. } = syscall("select(4, [3], NULL, NULL, {1, 0}) = 0 (Timeout)")
        else {
            panic!()
        };
        assert!(!fds[0].got.read);
    }

    #[test]
    fn epoll_calls() {
        assert_eq!(
            syscall(
                "epoll_ctl(3, EPOLL_CTL_ADD, 6, {events=EPOLLIN|EPOLLET, data={u32=6, u64=6}}) = 0"
            ),
            Syscall::EpollCtl {
                epfd: 3,
                op: EpollOp::Add,
                fd: 6,
                wanted: Ready {
                    read: true,
                    other: true,
                    ..Ready::default()
                }
            }
        );
        let Syscall::Wait { fds, epoll_fd, timeout_ms } = syscall(
            "epoll_wait(3, [{events=EPOLLIN, data={u32=6, u64=6}}, {events=EPOLLOUT|EPOLLERR, data={u32=7, u64=7}}], 3, 1000) = 2",
        ) else {
            panic!()
        };
        assert_eq!((epoll_fd, timeout_ms), (Some(3), Some(1000)));
        assert_eq!(fds.iter().map(|w| w.fd).collect::<Vec<_>>(), [6, 7]);
        assert!(fds[1].got.write && fds[1].got.error);
        let Syscall::Wait { fds, .. } =
            syscall("epoll_pwait(3, [{events=EPOLLIN, data={fd=9}}], 1, -1, NULL, 8) = 1")
        else {
            panic!()
        };
        assert_eq!(fds[0].fd, 9);
        let Syscall::Wait { timeout_ms, .. } =
            syscall("epoll_pwait2(3, [], 1, {tv_sec=0, tv_nsec=0}, NULL, 8) = 0")
        else {
            panic!()
        };
        assert_eq!(timeout_ms, Some(0));
        assert_eq!(
            syscall("epoll_create1(EPOLL_CLOEXEC) = 3"),
            Syscall::EpollCreate { fd: Some(3) }
        );
        assert_eq!(
            syscall("epoll_create(1) = 4"),
            Syscall::EpollCreate { fd: Some(4) }
        );
    }

    #[test]
    fn socket_options() {
        let opt = |line: &str| match syscall(line) {
            Syscall::Setsockopt { value, .. } | Syscall::Getsockopt { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            opt("setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"),
            OptValue::Int(1)
        );
        assert_eq!(
            opt("setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"),
            OptValue::Linger {
                onoff: 1,
                linger: 0
            }
        );
        assert_eq!(
            opt("setsockopt(3, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=2, tv_usec=500}, 16) = 0"),
            OptValue::Timeout { micros: 2_000_500 }
        );
        assert_eq!(
            opt(
                r#"setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("224.0.0.1"), imr_interface=inet_addr("0.0.0.0")}, 8) = 0"#
            ),
            OptValue::Membership {
                group: "224.0.0.1".parse().unwrap(),
                interface: Some("0.0.0.0".parse().unwrap())
            }
        );
        assert_eq!(
            opt(
                r#"setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("239.1.1.1"), imr_address=inet_addr("10.0.0.1"), imr_ifindex=if_nametoindex("eth0")}, 12) = 0"#
            ),
            OptValue::Membership {
                group: "239.1.1.1".parse().unwrap(),
                interface: Some("10.0.0.1".parse().unwrap())
            }
        );
        assert_eq!(
            opt("getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0"),
            OptValue::Int(0)
        );
        assert_eq!(
            opt("getsockopt(3, SOL_SOCKET, SO_RCVBUF, 0x7ffd, 0x7ffe) = -1 EFAULT (Bad address)"),
            OptValue::None
        );
        assert_eq!(
            opt("getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0"),
            OptValue::Raw("[ECONNREFUSED]".into())
        );
        let Syscall::Setsockopt { level, name, .. } =
            syscall("setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4) = 0")
        else {
            panic!()
        };
        assert_eq!((level.as_str(), name.as_str()), ("SOL_TCP", "TCP_NODELAY"));
    }

    #[test]
    fn names_of_sockets() {
        assert_eq!(
            syscall(
                r#"getsockname(3, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 0"#
            ),
            Syscall::Getsockname {
                fd: 3,
                addr: Some(inet("127.0.0.1:40000"))
            }
        );
        assert_eq!(
            syscall(
                "getpeername(3, 0x7ffd, [16]) = -1 ENOTCONN (Transport endpoint is not connected)"
            ),
            Syscall::Getpeername { fd: 3, addr: None }
        );
    }

    #[test]
    fn descriptor_management() {
        assert_eq!(syscall("close(3) = 0"), Syscall::Close { fd: 3 });
        assert_eq!(
            syscall("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) = 0"),
            Syscall::CloseRange {
                first: 3,
                last: Fd::MAX,
                cloexec_only: true
            }
        );
        assert_eq!(
            syscall("close_range(3, 4294967295, 0) = 0"),
            Syscall::CloseRange {
                first: 3,
                last: Fd::MAX,
                cloexec_only: false
            }
        );
        assert_eq!(
            syscall("shutdown(3, SHUT_WR) = 0"),
            Syscall::Shutdown { fd: 3, how: 1 }
        );
        assert_eq!(
            syscall("dup(3) = 5"),
            Syscall::Dup {
                old_fd: 3,
                new_fd: Some(5),
                cloexec: false
            }
        );
        assert_eq!(
            syscall("dup2(3, 1) = 1"),
            Syscall::Dup {
                old_fd: 3,
                new_fd: Some(1),
                cloexec: false
            }
        );
        assert_eq!(
            syscall("dup3(3, 7, O_CLOEXEC) = 7"),
            Syscall::Dup {
                old_fd: 3,
                new_fd: Some(7),
                cloexec: true
            }
        );
        let (call, out, _) = parse("fcntl(4, F_DUPFD_CLOEXEC, 0) = 6");
        assert_eq!(
            (call, out.value),
            (
                Syscall::Fcntl {
                    fd: 4,
                    op: FcntlOp::DupFd { cloexec: true }
                },
                Some(6)
            )
        );
        assert_eq!(
            syscall("fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0"),
            Syscall::Fcntl {
                fd: 4,
                op: FcntlOp::SetFl { nonblock: true }
            }
        );
        assert_eq!(
            syscall("fcntl64(4, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)"),
            Syscall::Fcntl {
                fd: 4,
                op: FcntlOp::GetFl
            }
        );
        assert_eq!(
            syscall("fcntl(4, F_SETFD, FD_CLOEXEC) = 0"),
            Syscall::Fcntl {
                fd: 4,
                op: FcntlOp::SetFd { cloexec: true }
            }
        );
        assert_eq!(
            syscall("ioctl(3, FIONBIO, [1]) = 0"),
            Syscall::Ioctl {
                fd: 3,
                op: IoctlOp::SetNonblock(true)
            }
        );
        assert_eq!(
            syscall("ioctl(3, FIONREAD, [42]) = 0"),
            Syscall::Ioctl {
                fd: 3,
                op: IoctlOp::BytesReadable(Some(42))
            }
        );
        assert_eq!(
            syscall("ioctl(3, SIOCINQ, [0]) = 0"),
            Syscall::Ioctl {
                fd: 3,
                op: IoctlOp::BytesReadable(Some(0))
            }
        );
        assert_eq!(
            syscall("ioctl(1, TCGETS, 0x7ffc) = -1 ENOTTY (Inappropriate ioctl for device)"),
            Syscall::Ioctl {
                fd: 1,
                op: IoctlOp::Other("TCGETS".into())
            }
        );
        assert_eq!(
            syscall("sendfile(4, 5, [0] => [512], 512) = 512"),
            Syscall::CopyFile {
                out_fd: 4,
                in_fd: 5,
                count: 512
            }
        );
        assert_eq!(
            syscall("splice(5, NULL, 4, NULL, 65536, SPLICE_F_MOVE) = 100"),
            Syscall::CopyFile {
                out_fd: 4,
                in_fd: 5,
                count: 65536
            }
        );
    }

    #[test]
    fn processes() {
        assert_eq!(
            syscall("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f3c) = 1235"),
            Syscall::Spawn { shares_fds: false, thread: false, child: Some(1235) }
        );
        assert_eq!(
            syscall("clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff80, tls=0x7f} => {parent_tid=[474]}, 88) = 474"),
            Syscall::Spawn { shares_fds: true, thread: true, child: Some(474) }
        );
        assert_eq!(
            syscall("fork() = 77"),
            Syscall::Spawn {
                shares_fds: false,
                thread: false,
                child: Some(77)
            }
        );
        assert_eq!(
            syscall("vfork() = 78"),
            Syscall::Spawn {
                shares_fds: false,
                thread: false,
                child: Some(78)
            }
        );
        assert_eq!(
            syscall(r#"execve("/bin/true", ["true"], 0x7ffd /* 20 vars */) = 0"#),
            Syscall::Execve
        );
        let (call, out, _) = parse("exit_group(3) = ?");
        assert_eq!(
            (call, out.value),
            (
                Syscall::Exit {
                    group: true,
                    code: 3
                },
                None
            )
        );
        assert_eq!(
            syscall("exit(0) = ?"),
            Syscall::Exit {
                group: false,
                code: 0
            }
        );
    }

    #[test]
    fn fd_decorations_fill_fd_info_and_keep_numbers() {
        let (call, out, infos) = parse(
            "accept4(3<TCP:[127.0.0.1:8203]>, {sa_family=AF_INET, sin_port=htons(58148), sin_addr=inet_addr(\"127.0.0.1\")}, [16], SOCK_CLOEXEC) = 5<TCP:[127.0.0.1:8203->127.0.0.1:58148]>",
        );
        assert!(matches!(
            call,
            Syscall::Accept {
                fd: 3,
                new_fd: Some(5),
                ..
            }
        ));
        assert_eq!(out.value, Some(5));
        assert_eq!(infos.len(), 2);
        let five = infos.iter().find(|i| i.fd == 5).unwrap();
        assert_eq!(five.peer, Some("127.0.0.1:58148".parse().unwrap()));
        let (_, _, infos) = parse(
            "poll([{fd=4<TCPv6:[[::1]:80->[::1]:5000]>, events=POLLIN}], 1, 0) = 0 (Timeout)",
        );
        assert_eq!((infos[0].fd, infos[0].kind.as_ref()), (4, "TCPv6"));
        let (_, _, infos) = parse("close(7</tmp/a file, with comma>) = 0");
        assert_eq!(infos[0].detail.as_deref(), Some("/tmp/a file, with comma"));
        let (_, _, infos) = parse("write(8<UDP:[10.0.0.1:53->10.0.0.2:4000]>, \"x\", 1) = 1");
        assert_eq!(infos[0].kind, "UDP");
        let (_, _, infos) = parse("read(9<pipe:[123]>, \"\", 10) = 0");
        assert_eq!(infos[0].kind, "pipe");
    }

    #[test]
    fn malformed_arguments_name_the_part() {
        let line = "connect(x, NULL, 0) = 0";
        let framed = frame::frame(line.as_bytes()).unwrap();
        let frame::Body::Call { tail, .. } = framed.body else {
            panic!()
        };
        let parts = frame::split_tail(tail).unwrap();
        let ret = outcome::returned(parts.ret).unwrap();
        let err = convert(
            SyscallName::Connect,
            parts.args,
            &ret,
            &mut Decorations {
                infos: &mut Vec::new(),
                recent: &mut RecentDecorations::default(),
            },
        )
        .unwrap_err();
        assert_eq!((err.part, err.column_in(line.as_bytes())), (Part::Fd, 9));
        let err = convert(
            SyscallName::Listen,
            b"3",
            &ret,
            &mut Decorations {
                infos: &mut Vec::new(),
                recent: &mut RecentDecorations::default(),
            },
        )
        .unwrap_err();
        assert_eq!(err.part, Part::MissingArgument);
        let err = convert(
            SyscallName::Write,
            br#"3, "abc, 2"#,
            &ret,
            &mut Decorations {
                infos: &mut Vec::new(),
                recent: &mut RecentDecorations::default(),
            },
        )
        .unwrap_err();
        assert_eq!(err.part, Part::String);
        // An escape strace never prints is kept as printed, not lost with its line.
        let write = convert(
            SyscallName::Write,
            br#"3, "a\q", 2"#,
            &ret,
            &mut Decorations {
                infos: &mut Vec::new(),
                recent: &mut RecentDecorations::default(),
            },
        )
        .unwrap();
        let Syscall::Send { data, .. } = write else {
            panic!("{write:?}")
        };
        assert_eq!(data.shown(), br"a\q");
    }
}
