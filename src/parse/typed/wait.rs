//! Readiness waits and epoll sets: select, pselect6, poll, ppoll, the epoll_wait family,
//! epoll_create and epoll_ctl.
//!
//! Ready descriptors of `epoll_wait` come from each event's `data`, resolved through the
//! registrations of the trace's `epoll_ctl` calls (`EpollCookies`).

use super::super::error::{ParseError, Part, Result};
use super::super::outcome::Returned;
use super::super::syscall::{EpollOp, Fd, Ready, Syscall, WaitFd};
use super::super::value;
use super::args::{int, returned_fd, timeout_micros, Args};
use super::decorations::Decorations;
use super::epoll_cookies::EpollData;
use super::val::Val;

/// `epoll_create1(EPOLL_CLOEXEC) = 3`.
pub(super) fn epoll_create(ret: &Returned, d: &mut Decorations) -> Syscall {
    let fd = returned_fd(ret);
    if let Some(epfd) = fd {
        d.epoll.new_set(epfd);
    }
    Syscall::EpollCreate { fd }
}

/// `epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN, data=...}) = 0`; `-X raw` prints the
/// operation as its number (`0x1`).
pub(super) fn epoll_ctl(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    let epfd = d.fd(a.get(0)?)?;
    let op_text = value::symbol(a.get(1)?);
    let op = match op_text {
        b"EPOLL_CTL_ADD" | b"0x1" | b"1" => EpollOp::Add,
        b"EPOLL_CTL_DEL" | b"0x2" | b"2" => EpollOp::Del,
        b"EPOLL_CTL_MOD" | b"0x3" | b"3" => EpollOp::Mod,
        other => return Err(ParseError::at(Part::Flags, other)),
    };
    let fd = d.fd(a.get(2)?)?;
    let (events, data) = event_fields(a.opt_val(3).unwrap_or(Val::Text(b"")));
    let wanted = events.map(ready).unwrap_or_default();
    // A failed call changed nothing; an unfinished one is taken to have succeeded.
    if ret.outcome.errno.is_none() {
        match (op, data) {
            (EpollOp::Del, _) => d.epoll.forget(epfd, fd),
            (_, Some(data)) => d.epoll.register(epfd, fd, &EpollData::of(data)),
            (_, None) => {}
        }
    }
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
    if let Some(items) = a.val(0)?.array_items() {
        for item in items.filter(|i| i.text() != b"...") {
            let (fd, events) = poll_fields(item, b"events")?;
            let fd = d.fd(fd)?;
            wait_fd(&mut fds, fd).wanted = events.map(ready).unwrap_or_default();
        }
    }
    if let Some(items) = Val::Text(ret.annotation).array_items() {
        for item in items.filter(|i| i.text() != b"...") {
            let (fd, revents) = poll_fields(item, b"revents")?;
            let fd = d.fd(fd)?;
            wait_fd(&mut fds, fd).got = revents.map(ready).unwrap_or_default();
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
        if let Some(items) = a.val(1)?.array_items() {
            for item in items.filter(|i| i.text() != b"...") {
                let (events, data) = event_fields(item);
                let data = data.ok_or(ParseError::at(Part::Struct, item.text()))?;
                // A cookie that names no descriptor netcheck knows tells nothing about sockets.
                let Some(fd) = d.epoll.resolve(epfd, &EpollData::of(data)) else {
                    continue;
                };
                wait_fd(&mut fds, fd).got = events.map(ready).unwrap_or_default();
            }
        }
    }
    // An epoll wait prints its events and timeout only when it returns: one the trace left
    // (`epoll_pwait(5,  <unfinished ...>` and nothing after) names only its instance.
    let timeout_ms = match a.opt(3) {
        None if ret.outcome.value.is_none() => None,
        _ => wait_timeout(a, 3, timespec)?,
    };
    Ok(Syscall::Wait {
        fds,
        timeout_ms,
        epoll_fd: Some(epfd),
    })
}

/// The `events` and `data` of an epoll event (`{events=EPOLLIN, data={u32=5, u64=5}}`), read in
/// one pass over its fields (the first of each name counts).
fn event_fields<'a>(event: Val<'a>) -> (Option<&'a [u8]>, Option<Val<'a>>) {
    let (mut events, mut data) = (None, None);
    for (key, value) in event
        .struct_items()
        .into_iter()
        .flatten()
        .map(|i| i.field())
    {
        match key {
            Some(b"events") => {
                events.get_or_insert(value.text());
            }
            Some(b"data") => {
                data.get_or_insert(value);
            }
            _ => {}
        }
    }
    (events, data)
}

/// The `fd` and the events named `events_key` of a `pollfd` (`{fd=3, events=POLLIN}`), in one
/// pass over its fields; a `pollfd` without `fd` is malformed.
fn poll_fields<'a>(item: Val<'a>, events_key: &[u8]) -> Result<(&'a [u8], Option<&'a [u8]>)> {
    let (mut fd, mut events) = (None, None);
    for (key, value) in item.struct_items().into_iter().flatten().map(|i| i.field()) {
        if key == Some(b"fd") {
            fd.get_or_insert(value.text());
        } else if key == Some(events_key) {
            events.get_or_insert(value.text());
        }
    }
    let fd = fd.ok_or(ParseError::at(Part::Struct, item.text()))?;
    Ok((fd, events))
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
            b"POLLET" => r.edge_triggered = true,
            b"0" => {}
            number => match value::int(number) {
                Some(bits) => add_numeric_events(&mut r, bits),
                None => r.other = true,
            },
        }
    }
    r
}

/// Event bits `-X raw` prints as a number (`0x2011`, `0x80000001`): the same for poll and epoll
/// in the low bits netcheck reads.
fn add_numeric_events(r: &mut Ready, bits: i64) {
    const IN: i64 = 0x1 | 0x40; // POLLIN | POLLRDNORM
    const OUT: i64 = 0x4 | 0x100; // POLLOUT | POLLWRNORM
    const ERROR: i64 = 0x8 | 0x20; // POLLERR | POLLNVAL
    const HANGUP: i64 = 0x10 | 0x2000; // POLLHUP | POLLRDHUP
    r.read |= bits & IN != 0;
    r.write |= bits & OUT != 0;
    r.error |= bits & ERROR != 0;
    const EDGE: i64 = 0x8000_0000; // EPOLLET
    r.hangup |= bits & HANGUP != 0;
    r.edge_triggered |= bits & EDGE != 0;
    r.other |= bits & !(IN | OUT | ERROR | HANGUP | EDGE) != 0;
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
