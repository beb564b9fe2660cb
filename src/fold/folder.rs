//! The folding iterator: turns a trace's events into socket events.

use std::collections::VecDeque;

use smallvec::smallvec;

use super::adopt::{self, Adoption};
use super::tables::{Slot, SockNo, TableId, Tables};
use super::{
    is_stop_signal, EventSocks, FailedSocketCall, FoldStats, ProgramContext, SocketEvent,
    SyntheticReason,
};
use crate::parse::{
    Call, Domain, Errno, FcntlOp, Fd, Outcome, SockAddr, SocketOracle, Syscall, SyscallName,
    TraceEvent, TraceReader,
};
use crate::source::{Loc, SockId, TraceId};

/// Where the fold stage takes its events from. A trace reader is told which descriptors are
/// sockets, so that it can count calls on other descriptors without reading them; any other
/// iterator of events (tests, replays) is folded call by call.
pub trait EventSource: Iterator<Item = TraceEvent> {
    /// The next event, knowing which descriptors are sockets.
    fn next_knowing(&mut self, _sockets: &dyn SocketOracle) -> Option<TraceEvent> {
        self.next()
    }

    /// Calls the source counted without reading them, because `next_knowing` ruled their
    /// descriptor out, so far.
    fn calls_not_read(&self) -> u64 {
        0
    }

    /// The last such call: where, by whom, when.
    fn last_not_read(&self) -> Option<(Loc, u32, Option<f64>)> {
        None
    }

    /// Whether a call not read so far was outside strace's `%network` class (read, close...).
    fn generic_not_read(&self) -> bool {
        false
    }
}

impl EventSource for TraceReader {
    fn next_knowing(&mut self, sockets: &dyn SocketOracle) -> Option<TraceEvent> {
        self.next_with(sockets)
    }

    fn calls_not_read(&self) -> u64 {
        self.stats().calls_not_read
    }

    fn last_not_read(&self) -> Option<(Loc, u32, Option<f64>)> {
        self.last_unread()
    }

    fn generic_not_read(&self) -> bool {
        self.generic_unread()
    }
}

impl<S: EventSource + ?Sized> EventSource for &mut S {
    fn next_knowing(&mut self, sockets: &dyn SocketOracle) -> Option<TraceEvent> {
        (**self).next_knowing(sockets)
    }

    fn calls_not_read(&self) -> u64 {
        (**self).calls_not_read()
    }

    fn last_not_read(&self) -> Option<(Loc, u32, Option<f64>)> {
        (**self).last_not_read()
    }

    fn generic_not_read(&self) -> bool {
        (**self).generic_not_read()
    }
}

impl EventSource for std::vec::IntoIter<TraceEvent> {}

/// Longest decoration kind [`adoptable`] accepts.
const ADOPTABLE_KIND_MAX: usize = 5;

/// Is this a `-yy` decoration kind (`TCP`, `UDPv6`...) of a socket the fold stage may adopt
/// when the trace never showed it created?
fn adoptable(kind: &[u8]) -> bool {
    matches!(kind, b"TCP" | b"TCPv6" | b"UDP" | b"UDPv6")
}

/// The inodes of a connected unix socket's two ends from its `-yy` decoration detail
/// (`150717->150718`: this end, then its peer).
fn unix_pair_inodes(detail: &str) -> Option<(u64, u64)> {
    let (own, peer) = detail.split_once("->")?;
    Some((own.trim().parse().ok()?, peer.trim().parse().ok()?))
}

/// The descriptor tables answer for the reader: a descriptor names a socket if a table says so,
/// or may become one if its decoration is of a kind the fold stage adopts.
impl SocketOracle for Tables {
    fn may_be_socket(&self, pid: u32, fd: Fd, decoration: Option<&[u8]>) -> bool {
        // Adoptable kinds are short: look for the `:` after the kind in the first bytes only
        // (the decoration runs on into the rest of the line).
        let adopts = decoration.is_some_and(|d| {
            let head = d.get(..ADOPTABLE_KIND_MAX + 1).unwrap_or(d);
            let kind_len = head.iter().position(|&b| b == b':').unwrap_or(head.len());
            adoptable(head.get(..kind_len).unwrap_or_default())
        });
        adopts || self.names_socket(pid, fd)
    }
}

/// Events held back one event, to learn from the next line: a call a signal interrupted (EINTR,
/// or `?` ERESTARTSYS and kin: to be restarted), since the signal's delivery in the same process
/// dates its end when `-T` does not, and says whether the program was being asked to stop; and a
/// socket's own close, since the process's exit with status 0 right after it means the
/// connection ended as the program finished its work; and a call that saw its connection reset
/// without a `-T` duration, since the next line bounds when it returned (see
/// [`SocketEvent::returned_by`]).
fn held_back(event: &SocketEvent) -> bool {
    let call = &event.call;
    let interrupted = call
        .outcome
        .errno
        .is_some_and(|e| e == Errno::EINTR || e.is_restart());
    let closed = matches!(call.syscall, Syscall::Close { .. }) && event.synthetic.is_none();
    interrupted || closed || reset_of_unknown_end(event)
}

/// A call that failed with ECONNRESET, shown without a `-T` duration.
fn reset_of_unknown_end(event: &SocketEvent) -> bool {
    event.call.duration.is_none()
        && event.synthetic.is_none()
        && event.call.outcome.errno == Some(Errno::ECONNRESET)
}

/// The sockets a call names, when it reaches the model (`None`: it does not).
type Named = Option<EventSocks>;

/// Folds one trace's events into socket events (streaming: memory is bounded by the number of
/// live descriptors, not by the trace's length).
pub struct Folder<I> {
    events: I,
    trace: TraceId,
    tables: Tables,
    stats: FoldStats,
    /// The number the next socket gets.
    next_sock: SockNo,
    ready: VecDeque<SocketEvent>,
    /// The last event seen, for placing end-of-trace closes.
    last: Option<(Loc, u32, Option<f64>)>,
    finished: bool,
    /// A stop signal has reached the program (see [`ProgramContext::Stopping`]).
    stopping: bool,
    /// An event held back one event to learn what comes next (see [`held_back`]).
    interrupted: Option<SocketEvent>,
    /// Calls the source had counted without reading when that event was held.
    unread_when_held: u64,
    /// The latest call since then that made no socket event, when it was.
    quiet_since_hold: Option<f64>,
    /// After the last event: the sockets still open, closed one per call to `next`, so a
    /// trace ending with a million open sockets never holds a million close events at once.
    end_closes: std::vec::IntoIter<SockNo>,
    /// Where the end-of-trace closes are placed: the last call's location, pid and time.
    end_at: (Loc, u32, Option<f64>),
    /// A call a `-e trace=network` filter hides (read, close, poll...) has come by.
    generic_seen: bool,
    /// The trace has shown a socket created (`socket` or `socketpair` succeeded): a filter
    /// that hides creation (`-e trace=connect`, `-Z`) would not.
    creation_seen: bool,
    /// Where each table's descriptor last lost its socket to a close (see [`Folder::closed_under`]).
    closed_at: std::collections::HashMap<(TableId, Fd), Loc>,
}

impl<I: EventSource> Folder<I> {
    pub fn new(events: I, trace: TraceId) -> Self {
        Folder {
            events,
            trace,
            tables: Tables::default(),
            stats: FoldStats::default(),
            next_sock: 0,
            ready: VecDeque::new(),
            last: None,
            finished: false,
            stopping: false,
            interrupted: None,
            unread_when_held: 0,
            quiet_since_hold: None,
            end_closes: Vec::new().into_iter(),
            end_at: (Loc::new(trace, 0), 0, None),
            generic_seen: false,
            creation_seen: false,
            closed_at: std::collections::HashMap::new(),
        }
    }

    /// The trace has shown calls a `-e trace=network` filter hides, read or counted unread,
    /// so it shows its readiness waits too.
    fn waits_shown(&self) -> bool {
        self.generic_seen || self.events.generic_not_read()
    }

    pub fn stats(&self) -> &FoldStats {
        &self.stats
    }

    /// A socket's last descriptor is gone: nothing more is asked about it.
    fn forget(&mut self, sock: SockNo) {
        self.tables.forget_user(sock);
    }

    /// The event source (e.g. to read the parser's statistics after the last event).
    pub fn into_inner(self) -> I {
        self.events
    }

    /// The event source, borrowed.
    pub fn inner(&self) -> &I {
        &self.events
    }

    fn id(&self, n: SockNo) -> SockId {
        SockId {
            trace: self.trace,
            n,
        }
    }

    fn new_socket(&mut self) -> SockNo {
        let n = self.next_sock;
        self.next_sock += 1;
        self.stats.sockets += 1;
        n
    }

    /// A new socket on descriptor `fd` of `table` (socket, accept): whatever `fd` named before
    /// is closed over.
    fn open_socket(&mut self, table: TableId, fd: Fd, cloexec: bool, call: &Call) -> SockId {
        let sock = self.new_socket();
        let slot = Slot {
            sock,
            cloexec,
            user: call.pid,
        };
        self.bind_fd(table, fd, slot, call, SyntheticReason::DupOver);
        self.id(sock)
    }

    /// Queues an event, after any interrupted call held back (the order stays the trace's).
    fn push(&mut self, event: SocketEvent) {
        self.bound_held_call(event.call.time);
        self.release_interrupted();
        if held_back(&event) {
            self.unread_when_held = self.events.calls_not_read();
            self.quiet_since_hold = None;
            self.interrupted = Some(event);
        } else {
            self.ready.push_back(event);
        }
    }

    /// A call at `at` made no socket event: while a reset of unknown end is held, the latest
    /// such line bounds its return (see [`Self::bound_held_call`]).
    fn note_quiet_line(&mut self, at: Option<f64>) {
        if self.interrupted.is_some() {
            self.quiet_since_hold = at.or(self.quiet_since_hold);
        }
    }

    /// The event after a held reset of unknown end began at `next`: the call had returned by
    /// then, and by any call in between that made no event (the latest of them, read or only
    /// counted by the source: the same whether or not the source reads every call).
    fn bound_held_call(&mut self, next: Option<f64>) {
        let unread = (self.events.calls_not_read() > self.unread_when_held)
            .then(|| self.events.last_not_read().and_then(|(_, _, at)| at))
            .flatten();
        let quiet = match (self.quiet_since_hold.take(), unread) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let Some(held) = self
            .interrupted
            .as_mut()
            .filter(|h| reset_of_unknown_end(h))
        else {
            return;
        };
        let bound = match (next, quiet) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        held.returned_by = bound.filter(|b| held.call.time.is_none_or(|t| *b >= t));
    }

    fn release_interrupted(&mut self) {
        if let Some(held) = self.interrupted.take() {
            self.ready.push_back(held);
        }
    }

    /// A stop request (SIGTERM, SIGINT, SIGQUIT) reached `pid`: a call of that process it
    /// interrupted was still waiting when the program was asked to stop.
    fn interrupted_by_stop_request(&mut self, pid: u32) {
        let interrupted =
            |h: &&mut SocketEvent| h.call.pid == pid && h.call.outcome.errno.is_some();
        if let Some(held) = self.interrupted.as_mut().filter(interrupted) {
            held.context = ProgramContext::Stopping;
        }
    }

    /// A signal reached `pid` at `time`: a call of that process it interrupted (the call's line
    /// came just before, with EINTR or ERESTART*) ended then. Without `-T` nothing else tells how long a
    /// wait cut short by a stop signal had waited.
    fn date_interrupted_call(&mut self, pid: u32, time: Option<f64>) {
        let interrupted =
            |h: &&mut SocketEvent| h.call.pid == pid && h.call.outcome.errno.is_some();
        if let Some(held) = self.interrupted.as_mut().filter(interrupted) {
            if held.call.duration.is_none() {
                held.call.duration = held
                    .call
                    .time
                    .zip(time)
                    .map(|(began, ended)| (ended - began).max(0.0));
            }
        }
        self.bound_held_call(time);
        self.release_interrupted();
    }

    /// Makes a call's event. It is handed back when it may go out at once (nothing queued or
    /// held before it, nothing to hold it for), sparing the queue's two moves of an event;
    /// otherwise it is queued.
    fn emit(&mut self, call: Call, socks: EventSocks) -> Option<SocketEvent> {
        self.stats.socket_events += 1;
        let context = self.context();
        let event = SocketEvent {
            call,
            socks,
            synthetic: None,
            context,
            waits_shown: self.waits_shown(),
            returned_by: None,
        };
        if self.ready.is_empty() && self.interrupted.is_none() && !held_back(&event) {
            return Some(event);
        }
        self.push(event);
        None
    }

    /// The program's context for what it does now.
    fn context(&self) -> ProgramContext {
        if self.stopping {
            ProgramContext::Stopping
        } else {
            ProgramContext::Running
        }
    }

    fn note_stop_request(&mut self, loc: Loc) {
        self.stopping = true;
        self.stats.stop_requested.get_or_insert(loc);
    }

    fn synthetic_close(&mut self, sock: SockNo, at: &Call, reason: SyntheticReason) {
        let pid = self.tables.last_user(sock).unwrap_or(at.pid);
        let context = self.context();
        self.push_synthetic_close(sock, at.loc, pid, at.time, (reason, context));
    }

    fn push_synthetic_close(
        &mut self,
        sock: SockNo,
        loc: Loc,
        pid: u32,
        time: Option<f64>,
        (reason, context): (SyntheticReason, ProgramContext),
    ) {
        // The descriptor number is gone; -1 keeps the call shape while naming no real fd.
        let fd: Fd = -1;
        let id = self.id(sock);
        self.stats.synthetic_closes += 1;
        self.stats.socket_events += 1;
        self.push(SocketEvent {
            call: Call {
                loc,
                pid,
                time,
                duration: None,
                name: SyscallName::Close,
                syscall: Syscall::Close { fd },
                outcome: Outcome::ok(0),
                fd_info: Vec::new(),
            },
            socks: smallvec![(fd, id)],
            synthetic: Some(reason),
            context,
            waits_shown: self.waits_shown(),
            returned_by: None,
        });
        self.forget(sock);
    }

    /// Maps `fd` to a socket, closing (synthetically) a socket whose last descriptor it replaced:
    /// the trace reused the number without a close we could see.
    fn bind_fd(
        &mut self,
        table: TableId,
        fd: Fd,
        slot: Slot,
        call: &Call,
        reason: SyntheticReason,
    ) {
        if let Some(old) = self.tables.insert(table, fd, slot) {
            if old != slot.sock {
                self.synthetic_close(old, call, reason);
            }
        }
    }

    /// Maps `fd` to a unix socket, closing (synthetically) a socket it replaced.
    fn bind_channel(&mut self, table: TableId, fd: Fd, call: &Call) {
        if let Some(old) = self.tables.insert_channel(table, fd) {
            self.synthetic_close(old, call, SyntheticReason::DupOver);
        }
    }

    /// SCM_RIGHTS: descriptors a sendmsg passed are queued on its unix socket; those a recvmsg
    /// received name, in the receiver's table, what the oldest set queued on that socket named
    /// (the same shared handle, as a dup would).
    fn pass_fds(&mut self, table: TableId, call: &Call) {
        let (fd, passed, sending) = match &call.syscall {
            Syscall::Send { fd, passed_fds, .. } => (*fd, passed_fds, true),
            Syscall::Recv { fd, passed_fds, .. } => (*fd, passed_fds, false),
            _ => return,
        };
        if passed.is_empty() || !call.outcome.is_success() {
            return;
        }
        let ends = call
            .fd_info
            .iter()
            .find(|i| i.fd == fd)
            .and_then(|i| i.detail.as_deref())
            .and_then(unix_pair_inodes);
        if sending {
            self.tables.send_fds(table, ends, passed);
            return;
        }
        let channel = ends.map(|(own, peer)| (peer, own));
        for old in self.tables.receive_fds(table, channel, passed) {
            self.synthetic_close(old, call, SyntheticReason::DupOver);
        }
    }

    /// Forgets `fd` because a non-socket object now lives there.
    fn forget_fd(&mut self, table: TableId, fd: Fd, call: &Call) {
        if let Some(old) = self.tables.remove(table, fd) {
            self.synthetic_close(old, call, SyntheticReason::DupOver);
        }
    }

    /// Did another thread close `fd` while `call` waited on it? Linux takes hold of a call's
    /// file when the call starts: a close by another thread sharing the table does not wake
    /// or change a blocked accept or receive, which goes on with the socket it started with.
    /// Such a call is printed `<unfinished ...>` before the close and resumed (or left by the
    /// thread's exit) after it: by then the descriptor names nothing, or a newer socket. The
    /// call is left out rather than taken for a socket opened before the trace began.
    fn closed_under(&self, table: TableId, call: &Call, fd: Fd) -> bool {
        self.closed_at
            .get(&(table, fd))
            .is_some_and(|at| at.file == call.loc.file && at.line > call.loc.line)
    }

    fn resolve(&mut self, table: TableId, fd: Fd, pid: u32) -> Option<(Fd, SockId)> {
        let n = self.tables.lookup_or_inherit(table, fd)?;
        self.tables.note_user(n, pid);
        Some((fd, self.id(n)))
    }

    /// A socket the trace uses but never created (opened before tracing began), adopted on
    /// the evidence of `call` (see `adopt.rs`): it gets a number, and the model hears what it
    /// is through synthetic calls placed before `call`.
    fn adopt(&mut self, table: TableId, call: &Call, fd: Fd, adoption: Adoption) -> SockNo {
        let n = self.new_socket();
        let slot = Slot {
            sock: n,
            cloexec: false,
            user: call.pid,
        };
        self.tables.insert(table, fd, slot);
        self.tables.share_with_root(table, fd);
        self.stats.unknown_fd_calls += 1;
        self.stats.adopted_sockets += 1;
        let id = self.id(n);
        let context = self.context();
        for synthetic in adopt::announcement(adoption, fd, call) {
            self.stats.socket_events += 1;
            self.push(SocketEvent {
                call: synthetic,
                socks: smallvec![(fd, id)],
                synthetic: Some(SyntheticReason::Adopted),
                context,
                waits_shown: self.waits_shown(),
                returned_by: None,
            });
        }
        n
    }

    /// The adoption a call on an unknown descriptor allows: its `-yy` decoration first, then
    /// its own arguments. A TCP socket with no peer is adopted only by an accept on it: until
    /// then it may be a listener or a socket about to connect.
    fn adoption_for(&self, table: TableId, call: &Call, fd: Fd) -> Option<Adoption> {
        if self.tables.is_channel(table, fd) {
            return None;
        }
        match call.fd_info.iter().find(|i| i.fd == fd) {
            Some(info) => match adopt::from_decoration(info)? {
                Adoption::Listener { .. } => None,
                other => Some(other),
            },
            None => adopt::from_call(call, fd, !self.creation_seen),
        }
    }

    /// Folds one call: what it does to the descriptor tables, and the sockets it names when it
    /// reaches the model. The call itself is only borrowed: it is moved once, into its event.
    fn fold_call(&mut self, call: &Call) -> Named {
        let table = self.tables.table_of(call.pid);
        let ok = call.outcome.is_success();
        if let (Syscall::Socket { .. } | Syscall::Socketpair { .. }, Some(errno)) =
            (&call.syscall, call.outcome.errno)
        {
            self.stats.failed_socket_calls.push(FailedSocketCall {
                loc: call.loc,
                call: call.name,
                errno,
                time: call.time,
            });
        }
        if let Syscall::Connect {
            addr: SockAddr::Unix(path),
            ..
        } = &call.syscall
        {
            self.stats.unix_connects.note(path, call);
        }
        match &call.syscall {
            Syscall::Socket {
                domain,
                ty,
                protocol,
                cloexec,
                fd: Some(fd),
                ..
            } if ok => {
                self.creation_seen = true;
                let (fd, domain, cloexec) = (*fd, *domain, *cloexec);
                self.fold_socket(table, call, fd, domain, cloexec)
            }
            Syscall::Socketpair { fds: Some(fds), .. } if ok => {
                // Only unix sockets come in pairs: both ends may pass descriptors.
                self.creation_seen = true;
                let fds = *fds;
                for fd in fds {
                    self.bind_channel(table, fd, call);
                }
                self.stats.non_socket_calls += 1;
                None
            }
            Syscall::Accept {
                fd,
                new_fd,
                cloexec,
                ..
            } => {
                let (fd, new_fd, cloexec) = (*fd, new_fd.filter(|_| ok), *cloexec);
                self.fold_accept(table, call, fd, new_fd, cloexec)
            }
            Syscall::Dup {
                old_fd,
                new_fd: Some(new_fd),
                cloexec,
            } if ok => {
                let (old_fd, new_fd, cloexec) = (*old_fd, *new_fd, *cloexec);
                self.duplicate(table, old_fd, new_fd, cloexec, call);
                None
            }
            Syscall::Fcntl {
                fd,
                op: FcntlOp::DupFd { cloexec },
            } if ok => {
                let (fd, cloexec) = (*fd, *cloexec);
                if let Some(new_fd) = call.outcome.value.and_then(|v| Fd::try_from(v).ok()) {
                    self.duplicate(table, fd, new_fd, cloexec, call);
                }
                None
            }
            Syscall::Close { fd } => {
                let fd = *fd;
                self.fold_close(table, fd, ok, call.loc)
            }
            Syscall::CloseRange {
                first,
                last,
                cloexec_only,
            } if ok && !*cloexec_only => {
                let (first, last) = (*first, *last);
                for sock in self.tables.remove_range(table, first, last) {
                    self.synthetic_close(sock, call, SyntheticReason::CloseRange);
                }
                None
            }
            Syscall::Spawn {
                shares_fds,
                child: Some(child),
                ..
            } => {
                let (share, child) = (*shares_fds, *child);
                self.tables.spawn(call.pid, child, share);
                None
            }
            Syscall::Execve if ok => {
                for sock in self.tables.exec(table) {
                    self.synthetic_close(sock, call, SyntheticReason::ProcessExit);
                }
                None
            }
            Syscall::Wait { .. } => self.fold_wait(table, call),
            _ => {
                self.pass_fds(table, call);
                self.fold_plain(table, call)
            }
        }
    }

    /// A successful `socket`: an INET or INET6 socket gets its descriptor; any other kind only
    /// ends what the descriptor named before.
    fn fold_socket(
        &mut self,
        table: TableId,
        call: &Call,
        fd: Fd,
        domain: Domain,
        cloexec: bool,
    ) -> Named {
        if matches!(domain, Domain::Inet | Domain::Inet6) {
            Some(smallvec![(fd, self.open_socket(table, fd, cloexec, call))])
        } else {
            if domain == Domain::Unix {
                self.bind_channel(table, fd, call);
            } else {
                self.forget_fd(table, fd, call);
            }
            self.stats.non_socket_calls += 1;
            None
        }
    }

    /// `accept` on listener `fd`: the new descriptor (`new_fd`, only when the call succeeded)
    /// names a socket of the listener's kind.
    fn fold_accept(
        &mut self,
        table: TableId,
        call: &Call,
        fd: Fd,
        new_fd: Option<Fd>,
        cloexec: bool,
    ) -> Named {
        if self.closed_under(table, call, fd) {
            self.stats.non_socket_calls += 1;
            return None;
        }
        let adoption = match self.tables.lookup_or_inherit(table, fd) {
            Some(_) => None,
            None if self.tables.is_channel(table, fd) => None,
            None => match call.fd_info.iter().find(|i| i.fd == fd) {
                Some(info) => adopt::from_decoration(info),
                None => match &call.syscall {
                    Syscall::Accept { peer, .. } if new_fd.is_some() => {
                        adopt::from_accept(peer.as_ref())
                    }
                    _ => None,
                },
            },
        };
        if let Some(adoption) = adoption {
            self.adopt(table, call, fd, adoption);
        }
        let Some(listener) = self.resolve(table, fd, call.pid) else {
            if let Some(n) = new_fd {
                if self.tables.is_channel(table, fd) {
                    self.bind_channel(table, n, call);
                } else {
                    self.forget_fd(table, n, call);
                }
            }
            self.stats.non_socket_calls += 1;
            return None;
        };
        let mut socks: EventSocks = smallvec![listener];
        if let Some(nfd) = new_fd {
            socks.push((nfd, self.open_socket(table, nfd, cloexec, call)));
        }
        Some(socks)
    }

    /// `close`: reaches the model only when the last descriptor of the socket goes (or when the
    /// close failed, which the model judges).
    fn fold_close(&mut self, table: TableId, fd: Fd, ok: bool, at: Loc) -> Named {
        let Some(n) = self.tables.lookup_or_inherit(table, fd) else {
            self.tables.close_channel(table, fd);
            self.stats.non_socket_calls += 1;
            return None;
        };
        let last = self.tables.remove(table, fd);
        if ok {
            self.closed_at.insert((table, fd), at);
        }
        if last.is_some() {
            self.forget(n);
        }
        if last.is_some() || !ok {
            Some(smallvec![(fd, self.id(n))])
        } else {
            self.stats.duplicate_closes += 1;
            None
        }
    }

    /// A readiness wait names the sockets among its descriptors; one on files only is dropped.
    fn fold_wait(&mut self, table: TableId, call: &Call) -> Named {
        let Syscall::Wait { fds, epoll_fd, .. } = &call.syscall else {
            return None;
        };
        let wanted: Vec<Fd> = fds.iter().map(|w| w.fd).collect();
        let socks: EventSocks = wanted
            .into_iter()
            .filter_map(|fd| self.resolve(table, fd, call.pid))
            .collect();
        // An epoll wait that timed out (or never returned) lists nothing, yet it tells about
        // every socket its instance watches: the model knows that interest set.
        let empty_epoll_wait =
            epoll_fd.is_some() && (call.outcome.value == Some(0) || call.outcome.never_returned());
        if socks.is_empty() && !empty_epoll_wait {
            self.stats.non_socket_calls += 1;
            None
        } else {
            Some(socks)
        }
    }

    /// A call on one existing descriptor (bind, connect, send, recv, options...).
    fn fold_plain(&mut self, table: TableId, call: &Call) -> Named {
        let fd = call.syscall.primary_fd()?;
        if self.closed_under(table, call, fd) {
            self.stats.non_socket_calls += 1;
            return None;
        }
        let mut socks = EventSocks::new();
        match self.resolve(table, fd, call.pid) {
            Some(s) => socks.push(s),
            None => match self.adoption_for(table, call, fd) {
                Some(adoption) => {
                    let n = self.adopt(table, call, fd, adoption);
                    socks.push((fd, self.id(n)));
                }
                None => {
                    self.stats.non_socket_calls += 1;
                    return None;
                }
            },
        }
        if let Syscall::CopyFile { in_fd, .. } = &call.syscall {
            if let Some(s) = self.resolve(table, *in_fd, call.pid) {
                socks.push(s);
            }
        }
        Some(socks)
    }

    fn duplicate(&mut self, table: TableId, old_fd: Fd, new_fd: Fd, cloexec: bool, call: &Call) {
        if old_fd == new_fd {
            return;
        }
        match self.tables.duplicate(table, old_fd, new_fd, cloexec) {
            Some((sock, Some(old))) if old != sock => {
                self.synthetic_close(old, call, SyntheticReason::DupOver);
            }
            Some(_) => {}
            None if self.tables.is_channel(table, old_fd) => self.bind_channel(table, new_fd, call),
            None => self.forget_fd(table, new_fd, call),
        }
    }

    /// Folds one event; a call's event that may go out at once is handed back (see `emit`).
    fn fold_event(&mut self, event: TraceEvent) -> Option<SocketEvent> {
        match event {
            TraceEvent::Call(call) => {
                self.last = Some((call.loc, call.pid, call.time));
                self.generic_seen |= call.name.is_generic_descriptor_call();
                let socks = self.fold_call(&call)?;
                self.stats.undecoded_addresses.note(&call);
                self.emit(call, socks)
            }
            TraceEvent::Process {
                loc,
                pid,
                time,
                event,
            } => {
                self.last = Some((loc, pid, time));
                use crate::parse::ProcessEvent::*;
                let reason = match event {
                    Exited { code } => {
                        let context = match self.context() {
                            ProgramContext::Running if code == 0 => ProgramContext::Finished,
                            other => other,
                        };
                        // A close that was the process's last act before a successful exit
                        // ended the connection as the program finished its work.
                        if let Some(held) = self.interrupted.as_mut().filter(|h| {
                            h.call.pid == pid && matches!(h.call.syscall, Syscall::Close { .. })
                        }) {
                            held.context = context;
                        }
                        Some((SyntheticReason::ProcessExit, context))
                    }
                    Killed { signal } => {
                        self.date_interrupted_call(pid, time);
                        if is_stop_signal(&signal) {
                            self.note_stop_request(loc);
                        }
                        let context = self.context();
                        if signal == "SIGKILL" {
                            // Killed outright: the program did not end by itself, but nothing
                            // asked it to stop in order either.
                            self.stats.stop_requested.get_or_insert(loc);
                        }
                        Some((SyntheticReason::ProcessKilled, context))
                    }
                    Signal { signal } => {
                        if is_stop_signal(&signal) {
                            self.note_stop_request(loc);
                            self.interrupted_by_stop_request(pid);
                        }
                        self.date_interrupted_call(pid, time);
                        None
                    }
                };
                if let Some(reason) = reason {
                    for sock in self.tables.exit(pid) {
                        self.push_synthetic_close(sock, loc, pid, time, reason);
                    }
                }
                None
            }
        }
    }

    fn finish(&mut self) {
        self.finished = true;
        self.bound_held_call(None);
        self.release_interrupted();
        // Calls the source did not read were calls on other descriptors, as far as folding goes.
        self.stats.non_socket_calls += self.events.calls_not_read();
        let last = match (self.last, self.events.last_not_read()) {
            (Some(seen), Some(unread)) if unread.0.line > seen.0.line => Some(unread),
            (None, unread) => unread,
            (seen, _) => seen,
        };
        self.end_at = last.unwrap_or((Loc::new(self.trace, 0), 0, None));
        let open_at_end = self.tables.close_all();
        // The recording stopped while the program still held sockets: for what came after, it
        // was stopped as surely as by a signal.
        if !open_at_end.is_empty() && self.end_at.0.line > 0 {
            self.stats.stop_requested.get_or_insert(self.end_at.0);
        }
        self.end_closes = open_at_end.into_iter();
    }

    /// The next end-of-trace close, once the trace is read; false when none is left.
    fn close_one_at_end(&mut self) -> bool {
        let Some(sock) = self.end_closes.next() else {
            return false;
        };
        let (loc, pid, time) = self.end_at;
        let pid = self.tables.last_user(sock).unwrap_or(pid);
        let reason = (SyntheticReason::EndOfTrace, ProgramContext::Stopping);
        self.push_synthetic_close(sock, loc, pid, time, reason);
        true
    }
}

impl<I: EventSource> Iterator for Folder<I> {
    type Item = SocketEvent;

    fn next(&mut self) -> Option<SocketEvent> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(ev);
            }
            if self.finished {
                if self.close_one_at_end() {
                    continue;
                }
                return None;
            }
            match self.events.next_knowing(&self.tables) {
                Some(event) => {
                    let call_at = match &event {
                        TraceEvent::Call(call) => Some(call.time),
                        TraceEvent::Process { .. } => None,
                    };
                    let events_before = self.stats.socket_events;
                    let ready = self.fold_event(event);
                    if let Some(at) = call_at.filter(|_| self.stats.socket_events == events_before)
                    {
                        self.note_quiet_line(at);
                    }
                    if let Some(ready) = ready {
                        return Some(ready);
                    }
                }
                None => self.finish(),
            }
        }
    }
}
