//! Calls that create, name and connect sockets: socket, socketpair, bind, connect, listen,
//! accept and accept4.

use super::super::address::sockaddr_of_fields;
use super::super::error::{ParseError, Part, Result};
use super::super::outcome::Returned;
use super::super::syscall::{Domain, Protocol, SockAddr, SockType, Syscall, SyscallName};
use super::super::value;
use super::args::{int, returned_fd, text, Args};
use super::decorations::Decorations;
use super::val::Val;

/// `socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3`.
pub(super) fn socket(a: &Args, ret: &Returned) -> Result<Syscall> {
    let (ty, nonblock, cloexec) = sock_type(a.get(1)?);
    Ok(Syscall::Socket {
        domain: domain(a.get(0)?),
        ty,
        nonblock,
        cloexec,
        protocol: protocol(a.get(2)?),
        fd: returned_fd(ret),
    })
}

/// `socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0`.
pub(super) fn socketpair(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    let (ty, nonblock, _) = sock_type(a.get(1)?);
    // `-s 0` abbreviates the pair to `[...]`: the call is known, its descriptors are not.
    let abbreviated = a.opt(3) == Some(b"[...]".as_slice());
    let fds = match a.opt(3).and_then(value::array_items) {
        Some(_) if abbreviated => None,
        Some(mut items) if ret.outcome.is_success() => {
            let first = d.fd(items.next().unwrap_or_default())?;
            let second = d.fd(items.next().unwrap_or_default())?;
            Some([first, second])
        }
        _ => None,
    };
    Ok(Syscall::Socketpair {
        domain: domain(a.get(0)?),
        ty,
        nonblock,
        fds,
    })
}

/// `bind(3, {sa_family=AF_INET, ...}, 16) = 0`, and `connect` with the same arguments.
pub(super) fn bind_or_connect(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let raw = a.val(1)?;
    let addr = sockaddr(raw)?.unwrap_or_else(|| unknown_addr(raw.text()));
    Ok(if name == SyscallName::Bind {
        Syscall::Bind { fd, addr }
    } else {
        Syscall::Connect { fd, addr }
    })
}

/// `listen(3, 128) = 0`.
pub(super) fn listen(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Listen {
        fd: d.fd(a.get(0)?)?,
        backlog: int(a.get(1)?)?,
    })
}

/// `accept4(3, {sa_family=AF_INET, ...}, [16], SOCK_NONBLOCK) = 4`, and `accept` without flags.
pub(super) fn accept(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    let flags = a.opt(3).unwrap_or_default();
    Ok(Syscall::Accept {
        fd: d.fd(a.get(0)?)?,
        peer: a.opt_val(1).map(sockaddr).transpose()?.flatten(),
        nonblock: has_sock_flag(flags, b"SOCK_NONBLOCK", SOCK_NONBLOCK),
        cloexec: has_sock_flag(flags, b"SOCK_CLOEXEC", SOCK_CLOEXEC),
        new_fd: returned_fd(ret),
    })
}

/// A `sockaddr` argument or field (see [`super::super::address::sockaddr`]).
pub(super) fn sockaddr(value: Val) -> Result<Option<SockAddr>> {
    let text = value::trim(value.text());
    if text.first() != Some(&b'{') {
        return Ok(None);
    }
    let items = value
        .struct_items()
        .ok_or(ParseError::at(Part::SocketAddress, text))?;
    sockaddr_of_fields(
        text,
        items.map(|item| {
            let (key, val) = item.field();
            (item.text(), key, val.text())
        }),
    )
}

/// An address argument strace printed as something other than a structure (a pointer after
/// EFAULT, say): kept as text rather than dropping the call.
fn unknown_addr(raw: &[u8]) -> SockAddr {
    SockAddr::Other(text(raw))
}

/// `SOCK_NONBLOCK` and `SOCK_CLOEXEC` as `-X raw` prints them (Linux values).
const SOCK_NONBLOCK: i64 = 0o4000;
const SOCK_CLOEXEC: i64 = 0o2000000;

/// A flag of a `SOCK_*` set by name, or by its bit when `-X raw` printed numbers (`0x1|0x80800`).
fn has_sock_flag(text: &[u8], name: &[u8], bit: i64) -> bool {
    value::flags(text).any(|flag| flag == name || value::int(flag).is_some_and(|n| n & bit != 0))
}

fn domain(text: &[u8]) -> Domain {
    match value::symbol(text) {
        b"AF_INET" | b"PF_INET" => Domain::Inet,
        b"AF_INET6" | b"PF_INET6" => Domain::Inet6,
        b"AF_UNIX" | b"AF_LOCAL" | b"PF_UNIX" | b"PF_LOCAL" => Domain::Unix,
        b"AF_NETLINK" | b"PF_NETLINK" => Domain::Netlink,
        b"AF_PACKET" | b"PF_PACKET" => Domain::Packet,
        // `-X raw`: the numbers of the same families.
        number => match value::int(number) {
            Some(2) => Domain::Inet,
            Some(10) => Domain::Inet6,
            Some(1) => Domain::Unix,
            Some(16) => Domain::Netlink,
            Some(17) => Domain::Packet,
            _ => Domain::Other,
        },
    }
}

/// `SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC` (or `-X raw` `0x1|0x80800`) → (type, nonblock,
/// cloexec).
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
            number => {
                let Some(bits) = value::int(number) else {
                    continue;
                };
                // The low bits are the type; the flags sit above them.
                match bits & 0xf {
                    1 => ty = SockType::Stream,
                    2 => ty = SockType::Dgram,
                    3 => ty = SockType::Raw,
                    5 => ty = SockType::SeqPacket,
                    _ => {}
                }
                nonblock |= bits & SOCK_NONBLOCK != 0;
                cloexec |= bits & SOCK_CLOEXEC != 0;
            }
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
        other => match value::int(other) {
            Some(0) => Protocol::Default,
            Some(6) => Protocol::Tcp,
            Some(17) => Protocol::Udp,
            Some(1) => Protocol::Icmp,
            Some(58) => Protocol::Icmpv6,
            number => Protocol::Other(number.unwrap_or(-1)),
        },
    }
}
