//! The *fold* stage: per-process file descriptors → stable socket identities per trace.
//!
//! Input: a trace's [`TraceEvent`](crate::parse::TraceEvent)s. Output: [`SocketEvent`]s, one per
//! call that touches an Internet socket, in trace order, each with the fds it names resolved to
//! [`SockId`]s. Calls on files, pipes and unix sockets are counted and dropped.

mod adopt;
pub mod background;
mod display;
mod fd_map;
mod fd_trie;
mod folder;
mod tables;
#[cfg(test)]
mod tests;
mod undecoded;
mod unix_connects;

pub use display::show_addr;
pub use folder::{EventSource, Folder};
pub use undecoded::{ConnectEnd, UndecodedAddresses};
pub use unix_connects::{UnixConnectFailures, UnixConnects};

use serde::Serialize;
use smallvec::SmallVec;

use crate::parse::{Call, Errno, Fd, SyscallName};
use crate::source::{Loc, SockId};

/// A socket call with its descriptors resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketEvent {
    /// The call as parsed (descriptors still raw; resolve them with [`SocketEvent::sock`]).
    pub call: Call,
    /// The tracked sockets this call names: `(fd in the call, socket)`. For socket/accept the new
    /// descriptor is included.
    pub socks: EventSocks,
    /// Why fold made this event up, when the trace has no such line.
    pub synthetic: Option<SyntheticReason>,
    /// What the program was doing when this event happened: for a close, whether the program
    /// chose to end the connection or it ended because the program stopped or finished.
    pub context: ProgramContext,
    /// The trace has shown calls a `-e trace=network` filter hides (read, close, poll...), so
    /// its readiness waits are in it too: a wait it does not show did not happen.
    pub waits_shown: bool,
    /// When a call that saw its connection reset had returned at the latest, when `-T` does not
    /// say: the time of a later line of the trace (the next event, or an earlier call that made
    /// none). A call shown on one line had no other traced call begin while it ran (strace
    /// would have split it `<unfinished ...>`), so every later line began after it returned.
    pub returned_by: Option<f64>,
}

impl SocketEvent {
    /// The socket behind `fd` in this call, if it is a tracked socket.
    pub fn sock(&self, fd: Fd) -> Option<SockId> {
        self.socks.iter().find(|(f, _)| *f == fd).map(|(_, s)| *s)
    }
}

/// The sockets one event names. A call names one socket, an accept or a copy between sockets
/// two; only a readiness wait names more, so two are held inline: no allocation per event.
pub type EventSocks = SmallVec<[(Fd, SockId); 2]>;

/// Why a close was synthesised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyntheticReason {
    /// dup2/dup3 replaced the socket's last descriptor.
    DupOver,
    /// close_range covered the socket's last descriptor.
    CloseRange,
    /// The last process holding the socket exited (or replaced its image with execve).
    ProcessExit,
    /// The last process holding the socket was killed by a signal.
    ProcessKilled,
    /// The trace ended with the socket still open.
    EndOfTrace,
    /// Not a close: a socket opened before the trace began, announced (as socket, bind and
    /// listen calls) where a call first proved what it is (see `adopt.rs`).
    Adopted,
}

/// Where a program stood in its life when an event happened. A connection a running program
/// closes is its choice; one closed because the program was asked to stop, or because it
/// finished its work without closing, says something else about the peer's trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ProgramContext {
    /// Running, no stop asked for: the program's own calls, its own exit with an error, or a
    /// crash.
    #[default]
    Running,
    /// The program had been asked to stop (SIGTERM, SIGINT or SIGQUIT delivered, or killed by
    /// one of those), or the recording ended with the descriptor still open. A SIGKILL out of
    /// the blue is no request: the OOM killer and `kill -9` end a program that way, and its
    /// peers' troubles afterwards are a fault; after a stop request it ends a shutdown that
    /// took too long, and the program was stopping already.
    Stopping,
    /// The last process holding the descriptor exited with status 0 without closing it, or
    /// closed it as its last act before that exit: its work was done.
    Finished,
}

/// Signals that ask a program to stop: what `kill`, `systemctl stop`, `timeout` and Ctrl-C send.
/// SIGHUP is not one (daemons reload on it); neither is SIGALRM (a program's own timer), nor
/// SIGKILL, which cannot be asked, only imposed (see [`ProgramContext::Stopping`]).
pub fn is_stop_signal(signal: &str) -> bool {
    matches!(signal, "SIGTERM" | "SIGINT" | "SIGQUIT")
}

/// Counters for what fold consumed or dropped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FoldStats {
    pub sockets: u64,
    pub socket_events: u64,
    /// Calls on descriptors that are not Internet sockets (files, pipes, unix sockets...).
    pub non_socket_calls: u64,
    /// Calls on descriptors fold never saw created (inherited from before the trace started).
    pub unknown_fd_calls: u64,
    /// Sockets adopted that way: used by the trace, opened before it began.
    pub adopted_sockets: u64,
    pub synthetic_closes: u64,
    /// Closes of a descriptor while another descriptor still held the socket open.
    pub duplicate_closes: u64,
    /// socket and socketpair calls that failed: they name no descriptor, so no socket event
    /// carries them, yet their errno (EMFILE...) tells about the process.
    pub failed_socket_calls: Vec<FailedSocketCall>,
    /// Connects to unix-domain sockets that failed (see [`UnixConnects`]).
    pub unix_connects: UnixConnects,
    /// Connects and binds with an address strace did not decode (see [`UndecodedAddresses`]).
    pub undecoded_addresses: UndecodedAddresses,
    /// Where the program was first asked to stop (see [`ProgramContext::Stopping`]), killed by
    /// SIGKILL, or, when the trace ended with sockets still open, where it ended: from there on
    /// it no longer ran by itself.
    pub stop_requested: Option<Loc>,
}

/// A socket or socketpair call that failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedSocketCall {
    pub loc: Loc,
    pub call: SyscallName,
    pub errno: Errno,
    /// Start time, when the trace has timestamps.
    pub time: Option<f64>,
}
