//! Which head to try first. The original tool's table (lower = earlier): local set-up and calls
//! the model ignores (0), consumers — accept, receives, readiness waits (1), producers — TCP
//! connect and sends (2), and teardown of live connections and listen (3). Consumers go first
//! so that a receive is matched as soon as its send exists; listen goes last so that a connect
//! that failed in the trace is placed before the listener appears, while one that succeeded
//! waits for it. A receive or wait that never returned (its trace ended in it), or that the
//! request to stop its program interrupted (SIGTERM, SIGINT, SIGQUIT: it was still waiting when
//! the outside asked the program to end), goes after everything else that can go (4): it waited
//! for all of it, and got none.

use crate::fold::{ProgramContext, SocketEvent};
use crate::model::{Model, Socket};
use crate::parse::{Errno, Fd, SockAddr, Syscall};
use crate::source::TraceId;

pub type Priority = u8;

pub const SETUP: Priority = 0;
pub const CONSUMER: Priority = 1;
pub const PRODUCER: Priority = 2;
pub const TEARDOWN: Priority = 3;
pub const NEVER_RETURNED: Priority = 4;

/// The socket behind `fd` if the model follows it (not external).
fn modelled<'m>(model: &'m Model<'_>, ev: &SocketEvent, fd: Fd) -> Option<&'m Socket> {
    model.socket(ev.sock(fd)?).filter(|s| s.is_modelled())
}

/// Does the call name a remote address outside the modelled world?
fn remote_outside(model: &Model<'_>, addr: Option<&SockAddr>) -> bool {
    addr.and_then(SockAddr::inet)
        .is_some_and(|a| model.is_outside(a))
}

pub fn of(model: &Model<'_>, ev: &SocketEvent) -> Priority {
    let waits = matches!(
        ev.call.syscall,
        Syscall::Wait { .. } | Syscall::Recv { .. } | Syscall::RecvMany { .. }
    );
    let interrupted = ev
        .call
        .outcome
        .errno
        .is_some_and(|e| e == Errno::EINTR || e.is_restart());
    let stopped_waiting = ev.context == ProgramContext::Stopping && interrupted;
    if waits && (ev.call.outcome.value.is_none() || stopped_waiting) {
        return NEVER_RETURNED;
    }
    match &ev.call.syscall {
        Syscall::Accept { peer: a, .. }
        | Syscall::Recv { src: a, .. }
        | Syscall::Send { dest: a, .. }
            if remote_outside(model, a.as_ref()) =>
        {
            SETUP
        }
        Syscall::Connect { addr, .. } if remote_outside(model, Some(addr)) => SETUP,
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
            let interesting = fds
                .iter()
                .any(|w| modelled(model, ev, w.fd).is_some_and(Socket::can_receive));
            if interesting {
                CONSUMER
            } else {
                SETUP
            }
        }
        Syscall::Connect { fd, addr } => match modelled(model, ev, *fd) {
            Some(s) if s.is_tcp() && matches!(addr, SockAddr::Inet(_)) => PRODUCER,
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
            Some(s) if s.is_live_stream() => TEARDOWN,
            _ => SETUP,
        },
        _ => SETUP,
    }
}

/// Which blocked head to push through first (lower = forced first).
///
/// First, receives whose counterpart can no longer come: an accept or a datagram from an address
/// whose traces have all ended (or that belongs to no traced host). Forcing those invents
/// nothing: the connection or datagram came from outside the traces (NAT, port forwarding, an
/// untraced client). Then other receives and waits, whose forcing only changes what the receiving
/// socket believes. Producers and closes come last, since forcing them invents state that other
/// traces then read. An accept whose peer's traces are still running is kept for last of all:
/// some blocked head there may still supply it once something else is forced.
pub fn force_rank(model: &Model<'_>, ev: &SocketEvent, live: &dyn Fn(TraceId) -> bool) -> u8 {
    let supplier_gone = |addr: Option<&SockAddr>| match addr.and_then(SockAddr::inet) {
        // The accepting trace itself cannot supply it: it is blocked right here.
        Some(a) => !model
            .traces_behind(a)
            .into_iter()
            .any(|t| t != ev.call.loc.trace && live(t)),
        None => false,
    };
    match &ev.call.syscall {
        Syscall::Accept { peer, .. } if supplier_gone(peer.as_ref()) => 0,
        Syscall::Recv { src, .. } if supplier_gone(src.as_ref()) => 0,
        Syscall::Recv { .. } | Syscall::RecvMany { .. } | Syscall::CopyFile { .. } => 1,
        Syscall::Wait { .. } => 2,
        Syscall::Getsockopt { .. } => 3,
        Syscall::Send { .. } | Syscall::SendMany { .. } => 4,
        Syscall::Connect { .. } => 5,
        Syscall::Accept { .. } => 7,
        _ => 6,
    }
}
