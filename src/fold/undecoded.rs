//! Connects and binds of Internet sockets whose address strace printed as a pointer
//! (`connect(3, 0x7ffd0fc88bc0, 16)`): the trace was recorded with `-e raw=...` or `-e
//! verbose=none`, which print structures undecoded. Such a trace names no peer, so none of its
//! connections can be matched, and the values a program reads back (`getsockopt(SO_ERROR)`)
//! are pointers too. What is left is each call's errno: a connect that failed says so itself.

use serde::Serialize;

use crate::parse::{Call, Errno, SockAddr, Syscall};
use crate::source::Loc;

/// The connects, binds and addressed sends of one trace whose address was not decoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UndecodedAddresses {
    pub calls: u64,
    pub first: Option<Loc>,
    /// The last connect among them, and how it ended when that is known from its own line
    /// (see [`ConnectEnd`]).
    pub last_connect: Option<(Loc, ConnectEnd)>,
}

/// How a connect with an undecoded address ended, as far as its line tells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum ConnectEnd {
    Connected,
    /// Still in progress, or interrupted: the outcome would be read back with a call whose
    /// value is undecoded too.
    Unknown,
    Failed(Errno),
}

impl UndecodedAddresses {
    /// Counts `call`, a call on an Internet socket, if it is a connect, bind or addressed send
    /// whose address strace left undecoded.
    pub fn note(&mut self, call: &Call) {
        let addr = match &call.syscall {
            Syscall::Connect { addr, .. } | Syscall::Bind { addr, .. } => addr,
            // A datagram's destination: where it went is as unknown.
            Syscall::Send {
                dest: Some(addr), ..
            } => addr,
            _ => return,
        };
        // strace prints the pointer of an address it could not read (EFAULT) in any trace.
        if !is_pointer(addr) || call.outcome.errno == Some(Errno::EFAULT) {
            return;
        }
        self.calls += 1;
        self.first.get_or_insert(call.loc);
        if matches!(call.syscall, Syscall::Connect { .. }) {
            self.last_connect = Some((call.loc, connect_end(call.outcome.errno)));
        }
    }
}

fn connect_end(errno: Option<Errno>) -> ConnectEnd {
    match errno {
        None | Some(Errno::EISCONN) => ConnectEnd::Connected,
        Some(e)
            if e == Errno::EINPROGRESS
                || e == Errno::EALREADY
                || e == Errno::EINTR
                || e.is_restart()
                || e.is_would_block() =>
        {
            ConnectEnd::Unknown
        }
        Some(e) => ConnectEnd::Failed(e),
    }
}

fn is_pointer(addr: &SockAddr) -> bool {
    matches!(addr, SockAddr::Other(text) if text.starts_with("0x"))
}
