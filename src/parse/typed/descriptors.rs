//! Calls that change descriptor tables and processes, the fold stage's business: close,
//! close_range, dup, dup2, dup3, clone, fork, vfork, execve and exit.

use super::super::error::Result;
use super::super::outcome::Returned;
use super::super::syscall::{Fd, Syscall, SyscallName};
use super::super::value::{self, trim};
use super::args::{int, returned_fd, Args};
use super::decorations::Decorations;

use SyscallName as N;

/// `close(3) = 0`.
pub(super) fn close(a: &Args, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Close {
        fd: d.fd(a.get(0)?)?,
    })
}

/// `close_range(3, ~0U, 0) = 0`.
pub(super) fn close_range(a: &Args) -> Result<Syscall> {
    Ok(Syscall::CloseRange {
        first: fd_bound(a.get(0)?)?,
        last: fd_bound(a.get(1)?)?,
        cloexec_only: value::has_flag(a.opt(2).unwrap_or_default(), b"CLOSE_RANGE_CLOEXEC"),
    })
}

/// `dup(3) = 4`.
pub(super) fn dup(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    Ok(Syscall::Dup {
        old_fd: d.fd(a.get(0)?)?,
        new_fd: returned_fd(ret),
        cloexec: false,
    })
}

/// `dup2(3, 4) = 4` and `dup3(3, 4, O_CLOEXEC) = 4`.
pub(super) fn dup2(a: &Args, ret: &Returned, d: &mut Decorations) -> Result<Syscall> {
    let old_fd = d.fd(a.get(0)?)?;
    d.fd(a.get(1)?)?;
    Ok(Syscall::Dup {
        old_fd,
        new_fd: returned_fd(ret),
        cloexec: value::has_flag(a.opt(2).unwrap_or_default(), b"O_CLOEXEC"),
    })
}

/// clone, clone3, fork and vfork: whether the child shares descriptors or is a thread.
pub(super) fn spawn(name: SyscallName, a: &Args, ret: &Returned) -> Result<Syscall> {
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
    Ok(Syscall::Spawn {
        shares_fds: value::has_flag(flags, b"CLONE_FILES"),
        thread: value::has_flag(flags, b"CLONE_THREAD"),
        child: ret
            .outcome
            .value
            .filter(|&v| v > 0)
            .and_then(|v| u32::try_from(v).ok()),
    })
}

/// `exit(0)` and `exit_group(0)`.
pub(super) fn exit(name: SyscallName, a: &Args) -> Result<Syscall> {
    Ok(Syscall::Exit {
        group: name == N::ExitGroup,
        code: int(a.get(0)?)?,
    })
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
