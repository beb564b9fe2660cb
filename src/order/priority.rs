//! Which head to try first. The original tool's table (lower = earlier): local set-up and calls
//! the model ignores (0), consumers — accept, receives, readiness waits (1), producers — TCP
//! connect and sends (2), and teardown of live connections and listen (3). Consumers go first
//! so that a receive is matched as soon as its send exists; listen goes last so that a connect
//! that failed in the trace is placed before the listener appears, while one that succeeded
//! waits for it.

use crate::fold::SocketEvent;
use crate::model::{Model, Proto, SockState};
use crate::parse::{Fd, SockAddr, Syscall};

pub type Priority = u8;

pub const SETUP: Priority = 0;
pub const CONSUMER: Priority = 1;
pub const PRODUCER: Priority = 2;
pub const TEARDOWN: Priority = 3;

/// The socket behind `fd` if the model follows it (not external).
fn modelled<'m>(
    model: &'m Model<'_>,
    ev: &SocketEvent,
    fd: Fd,
) -> Option<&'m crate::model::Socket> {
    model.socket(ev.sock(fd)?).filter(|s| !s.external)
}

pub fn of(model: &Model<'_>, ev: &SocketEvent) -> Priority {
    match &ev.call.syscall {
        Syscall::Listen { fd, .. } => match modelled(model, ev, *fd) {
            Some(_) => TEARDOWN,
            None => SETUP,
        },
        Syscall::Accept { fd, .. } | Syscall::Recv { fd, .. } | Syscall::RecvMany { fd, .. } => {
            match modelled(model, ev, *fd) {
                Some(_) => CONSUMER,
                None => SETUP,
            }
        }
        Syscall::Wait { fds, .. } => {
            let interesting = fds.iter().any(|w| {
                modelled(model, ev, w.fd).is_some_and(|s| {
                    !matches!(s.state, SockState::Created | SockState::Bound)
                        || s.proto == Proto::Udp
                })
            });
            if interesting {
                CONSUMER
            } else {
                SETUP
            }
        }
        Syscall::Connect { fd, addr } => match modelled(model, ev, *fd) {
            Some(s) if s.proto == Proto::Tcp && matches!(addr, SockAddr::Inet(_)) => PRODUCER,
            _ => SETUP,
        },
        Syscall::Send { fd, .. } | Syscall::SendMany { fd, .. } => match modelled(model, ev, *fd) {
            Some(_) => PRODUCER,
            None => SETUP,
        },
        Syscall::CopyFile { out_fd, in_fd, .. } => {
            if modelled(model, ev, *out_fd).is_some() {
                PRODUCER
            } else if modelled(model, ev, *in_fd).is_some() {
                CONSUMER
            } else {
                SETUP
            }
        }
        Syscall::Close { fd } | Syscall::Shutdown { fd, .. } => match modelled(model, ev, *fd) {
            Some(s)
                if s.state == SockState::Listen
                    || s.state == SockState::Connected
                    || (s.state == SockState::Connecting && s.conn.is_some()) =>
            {
                TEARDOWN
            }
            _ => SETUP,
        },
        _ => SETUP,
    }
}

/// Which blocked head to push through first (lower = forced first). Receivers go first: forcing
/// a receive or an accept only changes what the receiving trace's own socket believes (the data
/// or connection came from outside the traces), whereas forcing a producer or a close would
/// invent state that other traces then read.
pub fn force_rank(ev: &SocketEvent) -> u8 {
    match &ev.call.syscall {
        Syscall::Accept { .. } => 0,
        Syscall::Recv { .. } | Syscall::RecvMany { .. } | Syscall::CopyFile { .. } => 1,
        Syscall::Wait { .. } => 2,
        Syscall::Getsockopt { .. } => 3,
        Syscall::Send { .. } | Syscall::SendMany { .. } => 4,
        Syscall::Connect { .. } => 5,
        _ => 6,
    }
}
