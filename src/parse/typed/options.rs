//! Calls that read or change a socket's settings and names: setsockopt, getsockopt,
//! getsockname, getpeername, fcntl, ioctl and shutdown.

use super::super::address::sockaddr;
use super::super::error::Result;
use super::super::strings;
use super::super::syscall::{FcntlOp, IoctlOp, OptValue, Syscall, SyscallName};
use super::super::value::{self, trim};
use super::args::{int, text, timeout_micros, Args};
use super::decorations::Decorations;

/// `setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0`, and `getsockopt` alike.
pub(super) fn sockopt(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let level = text(a.get(1)?);
    let option = value::symbol(a.get(2)?);
    let value = opt_value(option, a.get(3)?);
    let name_text = text(option);
    Ok(if name == SyscallName::Setsockopt {
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
    })
}

/// `getsockname(3, {sa_family=AF_INET, ...}, [16]) = 0`, and `getpeername` alike.
pub(super) fn sockname(name: SyscallName, a: &Args, d: &mut Decorations) -> Result<Syscall> {
    let fd = d.fd(a.get(0)?)?;
    let addr = a.opt(1).map(sockaddr).transpose()?.flatten();
    Ok(if name == SyscallName::Getsockname {
        Syscall::Getsockname { fd, addr }
    } else {
        Syscall::Getpeername { fd, addr }
    })
}

/// `shutdown(3, SHUT_WR) = 0`.
pub(super) fn shutdown(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Shutdown {
        fd: d.fd(a.get(0)?)?,
        how: match value::symbol(a.get(1)?) {
            b"SHUT_RD" => 0,
            b"SHUT_WR" => 1,
            b"SHUT_RDWR" => 2,
            other => int(other)?,
        },
    })
}

/// `fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0`.
pub(super) fn fcntl(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Fcntl {
        fd: d.fd(a.get(0)?)?,
        op: fcntl_op(a.get(1)?, a.opt(2).unwrap_or_default()),
    })
}

/// `ioctl(3, FIONBIO, [1]) = 0`.
pub(super) fn ioctl(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Ioctl {
        fd: d.fd(a.get(0)?)?,
        op: ioctl_op(a.get(1)?, a.opt(2).unwrap_or_default()),
    })
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
