//! Typed conversion: the argument text and return value of one recognised call become a
//! [`Syscall`]. Every argument is read from the borrowed line; the only allocations are payload
//! bytes (one `Vec` per payload), `-y` decorations, and the names kept for options and ioctls.
//!
//! [`convert`] hands each call to the file of its family: [`sockets`] (create, name, connect),
//! [`transfer`] (bytes), [`options`] (settings and names), [`descriptors`] (descriptor tables
//! and processes) and [`wait`] (readiness).

mod args;
mod decorations;
mod descriptors;
mod epoll_cookies;
mod options;
mod sockets;
mod transfer;
mod val;
mod wait;

pub use decorations::{Decorations, RecentDecorations};
pub use epoll_cookies::EpollCookies;

use super::error::Result;
use super::outcome::Returned;
use super::syscall::{Syscall, SyscallName};
use super::tokens::Tokens;
use args::{returned_fd, Args};

/// Converts one call. `args` is the text between the parentheses, read once into `tokens`'
/// tree (or, when its brackets do not match, by the scanner). A byte count the call cannot have
/// returned is corrected in `ret` (see [`transfer::clamp_to_count`]).
pub fn convert(
    name: SyscallName,
    args: &[u8],
    ret: &mut Returned,
    decorations: &mut Decorations,
    tokens: &mut Tokens,
) -> Result<Syscall> {
    let cut_short = ret.outcome.value.is_none();
    let a = if tokens.read(args) {
        Args::from_tree(args, tokens.tree(args), cut_short)
    } else {
        Args::split(args, cut_short)
    };
    convert_args(name, &a, ret, decorations)
}

/// [`convert`] with the arguments split by the scanner alone (the tree must give the same).
#[cfg(test)]
fn convert_scanned(
    name: SyscallName,
    args: &[u8],
    ret: &mut Returned,
    decorations: &mut Decorations,
) -> Result<Syscall> {
    let a = Args::split(args, ret.outcome.value.is_none());
    convert_args(name, &a, ret, decorations)
}

fn convert_args(
    name: SyscallName,
    a: &Args,
    ret: &mut Returned,
    decorations: &mut Decorations,
) -> Result<Syscall> {
    use SyscallName as N;
    if let Some(fd) = returned_fd(ret) {
        if !ret.decoration.is_empty() {
            decorations.note(fd, ret.decoration);
        }
    }
    let d = decorations;
    match name {
        N::Socket => sockets::socket(a, ret),
        N::Socketpair => sockets::socketpair(a, ret, d),
        N::Bind | N::Connect => sockets::bind_or_connect(name, a, d),
        N::Listen => sockets::listen(a, d),
        N::Accept | N::Accept4 => sockets::accept(a, ret, d),
        N::Send | N::Sendto | N::Write | N::Pwrite64 => {
            transfer::clamp_to_count(a, &mut ret.outcome)?;
            transfer::send(name, a, d)
        }
        N::Recv | N::Recvfrom | N::Read | N::Pread64 => transfer::recv(name, a, d),
        N::Writev => transfer::writev(a, d),
        N::Readv => transfer::readv(a, d),
        N::Sendmsg => transfer::sendmsg(a, d),
        N::Recvmsg => transfer::recvmsg(a, d),
        N::Sendmmsg | N::Recvmmsg => transfer::many(name, a, d),
        N::Sendfile | N::Sendfile64 | N::Splice => transfer::copy_file(name, a, d),
        N::Close => descriptors::close(a, d),
        N::CloseRange => descriptors::close_range(a),
        N::Shutdown => options::shutdown(a, d),
        N::Setsockopt | N::Getsockopt => options::sockopt(name, a, d),
        N::Getsockname | N::Getpeername => options::sockname(name, a, d),
        N::Fcntl | N::Fcntl64 => options::fcntl(a, d),
        N::Ioctl => options::ioctl(a, d),
        N::Dup => descriptors::dup(a, ret, d),
        N::Dup2 | N::Dup3 => descriptors::dup2(a, ret, d),
        N::Clone | N::Clone3 | N::Fork | N::Vfork => descriptors::spawn(name, a, ret),
        N::Execve => Ok(Syscall::Execve),
        N::Exit | N::ExitGroup => descriptors::exit(name, a),
        N::Select | N::Pselect6 => wait::select(a, ret, d),
        N::Poll | N::Ppoll => wait::poll(a, ret, d, name == N::Ppoll),
        N::EpollWait | N::EpollPwait | N::EpollPwait2 => {
            wait::epoll_wait(a, ret, d, name == N::EpollPwait2)
        }
        N::EpollCreate | N::EpollCreate1 => Ok(wait::epoll_create(ret, d)),
        N::EpollCtl => wait::epoll_ctl(a, ret, d),
    }
}

#[cfg(test)]
mod tests;
