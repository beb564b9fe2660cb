//! Readiness waits and epoll sets: select, pselect6, poll, ppoll, the epoll_wait family,
//! epoll_create and epoll_ctl.
//!
//! Ready descriptors of `epoll_wait` come from each event's `data`: the `fd` member when strace
//! shows one, else `u32` (programs almost always store the descriptor there; Python's selectors,
//! libuv and libevent do), else a plain numeric `data`.

use super::super::error::{ParseError, Part, Result};
use super::super::outcome::Returned;
use super::super::syscall::{EpollOp, Fd, Ready, Syscall, WaitFd};
use super::super::value;
use super::args::{int, returned_fd, timeout_micros, Args};
use super::decorations::Decorations;

/// `epoll_create1(EPOLL_CLOEXEC) = 3`.
pub(super) fn epoll_create(ret: &Returned) -> Syscall {
    Syscall::EpollCreate {
        fd: returned_fd(ret),
    }
}

/// `epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN, data=...}) = 0`.
pub(super) fn epoll_ctl(a: &Args, d: &mut Decorations) -> Result<Syscall> {
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
    Ok(Syscall::EpollCtl {
        epfd,
        op,
        fd,
        wanted,
    })
}

/// `poll([{fd=3, events=POLLIN}], 1, 1000) = 1 ([{fd=3, revents=POLLIN}])`.
pub(super) fn poll(
    a: &Args,
    ret: &Returned,
    d: &mut Decorations,
    timespec: bool,
) -> Result<Syscall> {
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
pub(super) fn select(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
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

/// `epoll_wait(3, [{events=EPOLLIN, data={u32=5, u64=5}}], 8, 1000) = 1`.
pub(super) fn epoll_wait(
    a: &Args,
    ret: &Returned,
    d: &mut Decorations,
    timespec: bool,
) -> Result<Syscall> {
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

/// A timeval/timespec timeout in milliseconds; `None` for NULL (wait forever).
fn timeout_ms(text: &[u8]) -> Option<i64> {
    timeout_micros(text).map(|us| us / 1000)
}
