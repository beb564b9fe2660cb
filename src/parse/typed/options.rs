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
    let level_text = value::symbol(a.get(1)?);
    let option = option_name(level_text, value::symbol(a.get(2)?));
    let level = text(level_name(level_text));
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

/// A socket option level's name; `-X raw` prints its number.
fn level_name(level: &[u8]) -> &[u8] {
    match value::int(level) {
        Some(1) => b"SOL_SOCKET",
        Some(0) => b"SOL_IP",
        Some(6) => b"SOL_TCP",
        Some(17) => b"SOL_UDP",
        Some(41) => b"SOL_IPV6",
        _ => level,
    }
}

/// An option's name; `-X raw` prints its number. Named here: the options netcheck reads or
/// reports (Linux values).
fn option_name<'a>(level: &[u8], option: &'a [u8]) -> &'a [u8] {
    let Some(number) = value::int(option) else {
        return option;
    };
    match (value::int(level), number) {
        (Some(1), 2) => b"SO_REUSEADDR",
        (Some(1), 4) => b"SO_ERROR",
        (Some(1), 6) => b"SO_BROADCAST",
        (Some(1), 7) => b"SO_SNDBUF",
        (Some(1), 8) => b"SO_RCVBUF",
        (Some(1), 9) => b"SO_KEEPALIVE",
        (Some(1), 13) => b"SO_LINGER",
        (Some(1), 15) => b"SO_REUSEPORT",
        (Some(1), 20) => b"SO_RCVTIMEO_OLD",
        (Some(1), 21) => b"SO_SNDTIMEO_OLD",
        (Some(6), 1) => b"TCP_NODELAY",
        (Some(6), 30) => b"TCP_FASTOPEN_CONNECT",
        (Some(41), 26) => b"IPV6_V6ONLY",
        _ => option,
    }
}

fn opt_value(option: &[u8], text: &[u8]) -> OptValue {
    let text = trim(text);
    if text == b"NULL" || text.starts_with(b"0x") || text.is_empty() {
        return OptValue::None;
    }
    if let Some(inside) = value::inner(text, b'[', b']') {
        // `-X verbose` names the value after it: `[111 /* ECONNREFUSED */]`.
        if let Some(n) = value::int(value::strip_comment(value::result_part(inside))) {
            return OptValue::Int(n);
        }
    }
    if let Some(n) = value::int(text) {
        return OptValue::Int(n);
    }
    if is_timeout_option(option) {
        if let Some(micros) = raw_timeval_micros(text) {
            return OptValue::Timeout { micros };
        }
    }
    if text.first() == Some(&b'{') {
        if let (Some(onoff), Some(linger)) = (
            value::get_field(text, b"l_onoff").and_then(value::int),
            value::get_field(text, b"l_linger").and_then(value::int),
        ) {
            return OptValue::Linger { onoff, linger };
        }
        if is_timeout_option(option) {
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

fn is_timeout_option(option: &[u8]) -> bool {
    matches!(
        option,
        b"SO_RCVTIMEO" | b"SO_SNDTIMEO" | b"SO_RCVTIMEO_OLD" | b"SO_SNDTIMEO_OLD"
    )
}

/// A `struct timeval` strace printed as its raw bytes: strace 6.1 decodes SO_RCVTIMEO_OLD and
/// SO_SNDTIMEO_OLD (the numbers glibc's SO_RCVTIMEO and SO_SNDTIMEO stand for on 64-bit Linux)
/// only by name, and shows the value as a string (`"\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"`:
/// one second). 16 bytes are two 64-bit fields (64-bit ABIs), 8 bytes two 32-bit ones. The
/// bytes are read little-endian (x86, ARM, RISC-V); on a big-endian trace a set timeout still
/// reads as a nonzero one, which is all the model asks of it (that a timeout is set).
fn raw_timeval_micros(text: &[u8]) -> Option<i64> {
    let quoted = strings::quoted(text).filter(|q| !q.truncated)?;
    let bytes = strings::decode_lenient(quoted.raw);
    let half = match bytes.len() {
        16 => 8,
        8 => 4,
        _ => return None,
    };
    let field = |at: usize| -> Option<i64> {
        let mut le = [0u8; 8];
        let part = bytes.get(at..at + half)?;
        le.get_mut(..half)?.copy_from_slice(part);
        let value = i64::from_le_bytes(le);
        // A 32-bit field is signed: extend its sign.
        Some(if half == 4 {
            i64::from(value as u32 as i32)
        } else {
            value
        })
    };
    Some(
        field(0)?
            .saturating_mul(1_000_000)
            .saturating_add(field(half)?),
    )
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

/// `O_NONBLOCK` and `FD_CLOEXEC` as `-X raw` prints them (`0x802`, `0x1`).
const O_NONBLOCK: i64 = 0o4000;
const FD_CLOEXEC: i64 = 1;

/// A flag by name, or by its bit when `-X raw` printed a number.
fn has_flag_or_bit(text: &[u8], name: &[u8], bit: i64) -> bool {
    value::flags(text).any(|flag| flag == name || value::int(flag).is_some_and(|n| n & bit != 0))
}

/// An fcntl command's name; `-X raw` prints its number.
fn fcntl_command(cmd: &[u8]) -> &[u8] {
    match value::int(cmd) {
        Some(0) => b"F_DUPFD",
        Some(1) => b"F_GETFD",
        Some(2) => b"F_SETFD",
        Some(3) => b"F_GETFL",
        Some(4) => b"F_SETFL",
        Some(1030) => b"F_DUPFD_CLOEXEC",
        _ => cmd,
    }
}

fn fcntl_op(cmd: &[u8], arg: &[u8]) -> FcntlOp {
    match fcntl_command(value::symbol(cmd)) {
        b"F_DUPFD" => FcntlOp::DupFd { cloexec: false },
        b"F_DUPFD_CLOEXEC" => FcntlOp::DupFd { cloexec: true },
        b"F_GETFL" => FcntlOp::GetFl,
        b"F_SETFL" => FcntlOp::SetFl {
            nonblock: has_flag_or_bit(arg, b"O_NONBLOCK", O_NONBLOCK),
        },
        b"F_GETFD" => FcntlOp::GetFd,
        b"F_SETFD" => FcntlOp::SetFd {
            cloexec: has_flag_or_bit(arg, b"FD_CLOEXEC", FD_CLOEXEC),
        },
        other => FcntlOp::Other(text(other)),
    }
}

fn ioctl_op(request: &[u8], arg: &[u8]) -> IoctlOp {
    let shown = value::inner(arg, b'[', b']').and_then(|v| value::int(value::result_part(v)));
    // `-X raw` prints the request's number (Linux x86 and arm values).
    let request: &[u8] = match value::int(value::symbol(request)) {
        Some(0x5421) => b"FIONBIO",
        Some(0x541b) => b"FIONREAD",
        _ => value::symbol(request),
    };
    match request {
        b"FIONBIO" => IoctlOp::SetNonblock(shown.unwrap_or(0) != 0),
        b"FIONREAD" | b"SIOCINQ" | b"TIOCINQ" => IoctlOp::BytesReadable(shown),
        other => IoctlOp::Other(text(other)),
    }
}
