//! Descriptor tables: which process uses which table, which descriptor names which socket, and when
//! a socket loses its last descriptor.
//!
//! A fork gives the child a copy of its parent's table. A large table is a persistent map
//! (`fd_map::FdMap`), so that copy costs nothing until one side changes it, and then only the
//! path to the change: a server with many open sockets that forks many children stays linear.
//! For the same reason a socket's descriptors are not counted one by one on every fork: every
//! descriptor holds a shared [`Handle`] of its socket, and the socket is closed for real when the
//! last handle is dropped, whichever table (or copy of a table) held it.
//!
//! Unix sockets are kept too, as channels with no socket: descriptors sent over one with
//! SCM_RIGHTS hold their handles while in flight, and the receiver's descriptors share them.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::fd_map::FdMap;
use crate::int_hash::{IntHashBuilder, SequenceHashBuilder};

use crate::parse::Fd;

/// Index of a descriptor table. Threads (CLONE_FILES) share one; fork copies it.
pub type TableId = usize;

/// A socket slot: the socket's number within the trace.
pub type SockNo = u32;

#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub sock: SockNo,
    /// Closed on a successful execve.
    pub cloexec: bool,
    /// The process that made it.
    pub user: u32,
}

thread_local! {
    /// Sockets whose last handle was dropped, in the order they were dropped. One queue per
    /// thread, not a pointer in every handle: a handle is dropped only inside a method of
    /// [`Tables`] (or when the tables themselves are dropped), every such method takes the queue
    /// before it returns, and tables are used by one thread at a time, so what a method takes
    /// is exactly what it dropped, even with the tables of several traces in one thread.
    static CLOSED: RefCell<Vec<SockNo>> = const { RefCell::new(Vec::new()) };
}

/// One socket held open; shared by every descriptor (in every table) that names the socket.
#[derive(Debug)]
struct Handle {
    sock: SockNo,
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Past the thread's end (no queue any more) nothing is left to tell.
        let _ = CLOSED.try_with(|closed| {
            if let Ok(mut closed) = closed.try_borrow_mut() {
                closed.push(self.sock);
            }
        });
    }
}

/// The sockets whose last handle was dropped since the queue was last taken.
fn take_closed() -> Vec<SockNo> {
    CLOSED
        .try_with(|closed| closed.try_borrow_mut().map(|mut q| std::mem::take(&mut *q)))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
struct Entry {
    /// The socket, or none for a unix socket: a channel descriptors are passed over.
    handle: Option<Arc<Handle>>,
    cloexec: bool,
}

/// Identifies the channel a descriptor set travels on. With `-yy` both ends of a unix socket
/// pair are known by inode (`UNIX-STREAM:[150717->150718]`): a set sent on `(a, b)` is received
/// on the end decorated `(b, a)`. Without them every set travels on one channel per trace.
pub type ChannelKey = Option<(u64, u64)>;

/// Descriptor sets in flight: sent with SCM_RIGHTS and not yet received. Each holds its
/// sockets open, as the kernel does for descriptors queued on a unix socket.
type InFlight = HashMap<ChannelKey, VecDeque<Vec<Option<Arc<Handle>>>>, IntHashBuilder>;

#[derive(Debug, Default)]
struct Table {
    /// Ordered so that draining a table (exit, end of trace) is deterministic.
    fds: FdMap<Entry>,
    /// Processes/threads currently using this table.
    users: u32,
    /// For a table made for a process seen before the call that created it returned: the
    /// descriptors it opened, replaced or closed meanwhile. What it inherits when the creating
    /// call returns does not undo them (its calls all came after the fork).
    touched: Option<Box<Touched>>,
}

/// The descriptors a table touched before its creating call returned. Boxed in [`Table`]:
/// few tables have one, and a run may hold a table for each of a million processes. The trace's
/// first process keeps one all along, for every descriptor it ever used: a bit set, one word of
/// 32 descriptors per entry of a map indexed like a descriptor table.
#[derive(Debug, Default)]
struct Touched(FdMap<u32>);

impl Touched {
    /// The word holding `fd`'s bit, and the bit.
    fn word_and_bit(fd: Fd) -> (Fd, u32) {
        (fd >> 5, 1 << (fd & 31))
    }

    fn insert(&mut self, fd: Fd) {
        let (word, bit) = Touched::word_and_bit(fd);
        let bits = self.0.get(&word).copied().unwrap_or(0);
        if bits & bit == 0 {
            self.0.insert(word, bits | bit);
        }
    }

    fn contains(&self, fd: Fd) -> bool {
        let (word, bit) = Touched::word_and_bit(fd);
        self.0.get(&word).is_some_and(|bits| bits & bit != 0)
    }
}

/// All descriptor tables of one trace.
#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Table>,
    /// Tables no process uses any more, for reuse: memory follows live processes.
    free: Vec<TableId>,
    /// This map is used on every socket event: seeded integer hasher, not
    /// SipHash (see `int_hash.rs`).
    table_of_pid: HashMap<u32, TableId, IntHashBuilder>,
    /// The last answer of [`Tables::table_of`]: runs of calls by one pid are the rule. Cleared
    /// whenever `table_of_pid` changes.
    recent: Option<(u32, TableId)>,
    /// The trace's first process. A process that appears with no call creating it, and whose
    /// creation never shows (a trace filtered with `-e trace=network` hides fork and clone),
    /// inherited its descriptors from it as far as the trace can tell: a server's workers are
    /// forked from its first process.
    root_pid: Option<u32>,
    /// Every socket open now (made and not yet closed by the fold stage), with the last pid seen
    /// using it (for synthetic events). Socket numbers are handed out in sequence, so the
    /// sockets in use now sit in neighbouring buckets.
    open: HashMap<SockNo, u32, SequenceHashBuilder>,
    /// Processes that exited while their table still waited for the call that created them
    /// (or that no call in the trace created).
    ended_before_created: HashSet<u32, IntHashBuilder>,
    /// Live processes seen before any call created them, other than the first: their table is
    /// still their own until the creating call returns (see [`Tables::thread_holding`]).
    unlinked: HashSet<u32, IntHashBuilder>,
    in_flight: InFlight,
}

impl Tables {
    /// The table of `pid`, creating an empty one for a process seen for the first time (its
    /// creating clone may not be in the trace, or may not have returned yet).
    pub fn table_of(&mut self, pid: u32) -> TableId {
        if let Some((recent_pid, t)) = self.recent {
            if recent_pid == pid {
                return t;
            }
        }
        let t = match self.table_of_pid.get(&pid) {
            Some(&t) => t,
            None => {
                let t = self.new_table(FdMap::default());
                self.tables[t].touched = Some(Box::default());
                self.table_of_pid.insert(pid, t);
                if *self.root_pid.get_or_insert(pid) != pid {
                    self.unlinked.insert(pid);
                }
                t
            }
        };
        self.recent = Some((pid, t));
        t
    }

    fn touch(&mut self, table: TableId, fd: Fd) {
        if let Some(touched) = self.tables.get_mut(table).and_then(|t| t.touched.as_mut()) {
            touched.insert(fd);
        }
    }

    /// A table with one user holding `fds`.
    fn new_table(&mut self, fds: FdMap<Entry>) -> TableId {
        let table = Table {
            fds,
            users: 1,
            touched: None,
        };
        match self.free.pop() {
            Some(t) => {
                self.tables[t] = table;
                t
            }
            None => {
                self.tables.push(table);
                self.tables.len() - 1
            }
        }
    }

    /// Does `fd` of `pid` name a socket (or a unix socket that may pass one) now? (Unlike
    /// [`Tables::table_of`], creates nothing.)
    pub fn names_socket(&self, pid: u32, fd: Fd) -> bool {
        let table = match self.recent {
            Some((recent_pid, t)) if recent_pid == pid => Some(t),
            _ => self.table_of_pid.get(&pid).copied(),
        };
        let own =
            table.is_some_and(|t| self.tables.get(t).is_some_and(|t| t.fds.contains_key(&fd)));
        own || table.is_some_and(|t| {
            self.inheritable(t, fd).is_some() || self.thread_holding(t, fd).is_some()
        })
    }

    /// For the first process's `table`: a process no call created that opened `fd` itself and
    /// holds it. The first process naming a descriptor it never opened, which such a process
    /// opened, shows they share one table: they are threads of one program whose clone a
    /// filter hid (`-e trace=%network,read,write,close`: HAProxy's thread accepts a
    /// connection, its main thread answers on it). A process that only copied the table would
    /// hold its own descriptor under that number, invisible to the first process.
    fn thread_holding(&self, table: TableId, fd: Fd) -> Option<u32> {
        if self.unlinked.is_empty() {
            return None;
        }
        let root = self.root_pid?;
        if self.table_of_pid.get(&root) != Some(&table) {
            return None;
        }
        let mut holders = self.unlinked.iter().filter(|pid| {
            self.table_of_pid
                .get(pid)
                .and_then(|t| self.tables.get(*t))
                .is_some_and(|t| {
                    t.fds.contains_key(&fd) && t.touched.as_ref().is_some_and(|s| s.contains(fd))
                })
        });
        let pid = *holders.next()?;
        // Two such processes holding it: which one shares the table is not shown.
        holders.next().is_none().then_some(pid)
    }

    /// [`Tables::thread_holding`]'s process shares the first process's table from now on, as
    /// a CLONE_FILES clone would have made it.
    fn join_root_as_thread(&mut self, table: TableId, fd: Fd) -> bool {
        let (Some(pid), Some(root)) = (self.thread_holding(table, fd), self.root_pid) else {
            return false;
        };
        self.spawn(root, pid, true);
        true
    }

    /// The root's entry for `fd`, when `table` is of a process whose creation the trace has not
    /// shown and that has not touched `fd` itself.
    fn inheritable(&self, table: TableId, fd: Fd) -> Option<&Entry> {
        let t = self.tables.get(table)?;
        let touched = t.touched.as_ref()?;
        if touched.contains(fd) || t.fds.contains_key(&fd) {
            return None;
        }
        let root = *self.table_of_pid.get(&self.root_pid?)?;
        if root == table {
            return None;
        }
        self.tables.get(root)?.fds.get(&fd)
    }

    /// [`Tables::lookup`], or for a process whose creation the trace has not shown, the
    /// descriptor it inherited from the trace's first process (copied in as a fork would).
    pub fn lookup_or_inherit(&mut self, table: TableId, fd: Fd) -> Option<SockNo> {
        if let Some(n) = self.lookup(table, fd) {
            return Some(n);
        }
        if self.join_root_as_thread(table, fd) {
            return self.lookup(table, fd);
        }
        let entry = self.inheritable(table, fd)?.clone();
        let sock = entry.handle.as_ref().map(|h| h.sock);
        if let Some(t) = self.tables.get_mut(table) {
            t.fds.insert(fd, entry);
        }
        sock
    }

    pub fn lookup(&self, table: TableId, fd: Fd) -> Option<SockNo> {
        let entry = self.tables.get(table)?.fds.get(&fd)?;
        entry.handle.as_ref().map(|h| h.sock)
    }

    /// Maps `fd` to a unix socket: no socket of the model, but a channel that may pass
    /// descriptors, so the reader must read the calls on it. Returns the socket whose last
    /// descriptor this replaced, if any.
    pub fn insert_channel(&mut self, table: TableId, fd: Fd) -> Option<SockNo> {
        let replaced = self.remove(table, fd);
        self.touch(table, fd);
        if let Some(t) = self.tables.get_mut(table) {
            let entry = Entry {
                handle: None,
                cloexec: false,
            };
            t.fds.insert(fd, entry);
        }
        replaced
    }

    /// Does `fd` name a unix socket (a channel for descriptors)?
    pub fn is_channel(&self, table: TableId, fd: Fd) -> bool {
        let entry = self.tables.get(table).and_then(|t| t.fds.get(&fd));
        entry.is_some_and(|e| e.handle.is_none())
    }

    /// `fd` was closed; forgets it if it named a unix socket.
    pub fn close_channel(&mut self, table: TableId, fd: Fd) {
        if self.is_channel(table, fd) {
            self.remove(table, fd);
        }
    }

    /// `fds` of `table` were sent on `channel`: the sockets among them stay open in flight
    /// until a receiver takes them (or the trace ends).
    pub fn send_fds(&mut self, table: TableId, channel: ChannelKey, fds: &[Fd]) {
        let Some(t) = self.tables.get(table) else {
            return;
        };
        let set: Vec<Option<Arc<Handle>>> = fds
            .iter()
            .map(|fd| t.fds.get(fd).and_then(|e| e.handle.clone()))
            .collect();
        self.in_flight.entry(channel).or_default().push_back(set);
    }

    /// `fds` of `table` were received on `channel`: the oldest set in flight on it gives them
    /// their sockets, position by position (a descriptor whose sent one was no socket forgets
    /// what it named). Returns the sockets whose last descriptor a received one replaced.
    pub fn receive_fds(&mut self, table: TableId, channel: ChannelKey, fds: &[Fd]) -> Vec<SockNo> {
        let set = self
            .in_flight
            .get_mut(&channel)
            .and_then(VecDeque::pop_front)
            .unwrap_or_default();
        let mut sent = set.into_iter();
        let mut replaced = Vec::new();
        for &fd in fds {
            replaced.extend(self.remove(table, fd));
            self.touch(table, fd);
            let Some(handle) = sent.next().flatten() else {
                continue;
            };
            if let Some(t) = self.tables.get_mut(table) {
                // SCM_RIGHTS descriptors arrive without close-on-exec unless MSG_CMSG_CLOEXEC.
                let entry = Entry {
                    handle: Some(handle),
                    cloexec: false,
                };
                t.fds.insert(fd, entry);
            }
        }
        drop(sent);
        replaced.extend(self.take_closed());
        replaced
    }

    /// `pid` uses `sock` (a socket just made, or one a call names).
    pub fn note_user(&mut self, sock: SockNo, pid: u32) {
        self.open.insert(sock, pid);
    }

    pub fn last_user(&self, sock: SockNo) -> Option<u32> {
        self.open.get(&sock).copied()
    }

    /// The socket is closed for good (its close was handed on): it is no longer open, and
    /// [`Tables::close_all`] leaves it out.
    pub fn forget_user(&mut self, sock: SockNo) {
        self.open.remove(&sock);
    }

    /// A handle for a socket no descriptor names yet.
    fn new_handle(&self, sock: SockNo) -> Arc<Handle> {
        Arc::new(Handle { sock })
    }

    /// The sockets whose last handle was dropped since the last call.
    fn take_closed(&mut self) -> Vec<SockNo> {
        take_closed()
    }

    /// Maps `fd` to `slot.sock`, a socket no descriptor names yet (just created, accepted or
    /// adopted). Returns the socket whose last descriptor this replaced, if any.
    pub fn insert(&mut self, table: TableId, fd: Fd, slot: Slot) -> Option<SockNo> {
        self.note_user(slot.sock, slot.user);
        let handle = self.new_handle(slot.sock);
        self.insert_handle(table, fd, handle, slot.cloexec)
    }

    /// A socket adopted at `fd` of `table` (opened before tracing began) was inherited through
    /// the forks that made this process from the trace's first process, which then holds it
    /// too, unless the trace shows that process using `fd` otherwise: its later children inherit
    /// the same socket. Dovecot's master, attached after its start, forks an imap-login
    /// process per client wave, each accepting on the listener the master opened
    /// (`apps/imap-healthy-plain`).
    pub fn share_with_root(&mut self, table: TableId, fd: Fd) {
        let Some(root) = self
            .root_pid
            .and_then(|pid| self.table_of_pid.get(&pid).copied())
        else {
            return;
        };
        if root == table {
            return;
        }
        let Some(entry) = self.tables.get(table).and_then(|t| t.fds.get(&fd)).cloned() else {
            return;
        };
        let Some(root_table) = self.tables.get_mut(root) else {
            return;
        };
        let used = root_table.touched.as_ref().is_some_and(|t| t.contains(fd));
        if !used && !root_table.fds.contains_key(&fd) {
            root_table.fds.insert(fd, entry);
        }
    }

    /// `new_fd` becomes a duplicate of `old_fd` (dup, dup2, F_DUPFD): both share the socket's
    /// handle. Returns the socket `old_fd` names (none when it names no socket) and the socket
    /// whose last descriptor `new_fd` replaced, if any.
    pub fn duplicate(
        &mut self,
        table: TableId,
        old_fd: Fd,
        new_fd: Fd,
        cloexec: bool,
    ) -> Option<(SockNo, Option<SockNo>)> {
        let entry = self.tables.get(table)?.fds.get(&old_fd)?;
        let handle = Arc::clone(entry.handle.as_ref()?);
        let sock = handle.sock;
        Some((sock, self.insert_handle(table, new_fd, handle, cloexec)))
    }

    fn insert_handle(
        &mut self,
        table: TableId,
        fd: Fd,
        handle: Arc<Handle>,
        cloexec: bool,
    ) -> Option<SockNo> {
        let replaced = self.remove(table, fd);
        self.touch(table, fd);
        if let Some(t) = self.tables.get_mut(table) {
            t.fds.insert(
                fd,
                Entry {
                    handle: Some(handle),
                    cloexec,
                },
            );
        }
        replaced
    }

    /// Unmaps `fd`. Returns the socket if that was its last descriptor.
    pub fn remove(&mut self, table: TableId, fd: Fd) -> Option<SockNo> {
        self.touch(table, fd);
        let entry = self.tables.get_mut(table)?.fds.remove(&fd)?;
        drop(entry);
        self.take_closed().into_iter().next()
    }

    /// Unmaps each of `fds`; returns sockets that lost their last descriptor, in that order.
    fn remove_all(&mut self, table: TableId, fds: Vec<Fd>) -> Vec<SockNo> {
        fds.into_iter()
            .filter_map(|fd| self.remove(table, fd))
            .collect()
    }

    /// Unmaps every descriptor in `first..=last`; returns sockets that lost their last one.
    pub fn remove_range(&mut self, table: TableId, first: Fd, last: Fd) -> Vec<SockNo> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let fds = t.fds.keys_in(first, last);
        self.remove_all(table, fds)
    }

    /// Unmaps every close-on-exec descriptor (a successful execve).
    pub fn exec(&mut self, table: TableId) -> Vec<SockNo> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let fds = t.fds.keys_where(|e| e.cloexec);
        self.remove_all(table, fds)
    }

    /// `parent` created `child`. With `share` (CLONE_FILES) the child uses the parent's table;
    /// otherwise it gets a copy. A child already seen (its lines came before the clone returned)
    /// keeps the descriptors it opened itself.
    pub fn spawn(&mut self, parent: u32, child: u32, share: bool) {
        let parent_table = self.table_of(parent);
        self.recent = None;
        self.unlinked.remove(&child);
        let existing = self.table_of_pid.get(&child).copied();
        if share {
            if let Some(own) = existing {
                if own == parent_table {
                    return;
                }
                self.detach_user(own);
                let moved = self.tables[own].fds.entries();
                let into = &mut self.tables[parent_table].fds;
                for (fd, entry) in moved {
                    if !into.contains_key(&fd) {
                        into.insert(fd, entry);
                    }
                }
            }
            self.table_of_pid.insert(child, parent_table);
            if let Some(t) = self.tables.get_mut(parent_table) {
                t.users += 1;
            }
            return;
        }
        if existing.is_none() && self.ended_before_created.remove(&child) {
            // It ran and exited before the call that created it returned: nothing to inherit.
            return;
        }
        let inherited = self.tables[parent_table].fds.clone();
        match existing {
            Some(own) => {
                let table = &mut self.tables[own];
                let touched = table.touched.take().unwrap_or_default();
                for (fd, entry) in inherited.entries() {
                    if !touched.contains(fd) && !table.fds.contains_key(&fd) {
                        table.fds.insert(fd, entry);
                    }
                }
            }
            None => {
                let t = self.new_table(inherited);
                self.table_of_pid.insert(child, t);
            }
        }
    }

    fn detach_user(&mut self, table: TableId) {
        if let Some(t) = self.tables.get_mut(table) {
            t.users = t.users.saturating_sub(1);
        }
    }

    /// `pid` ended. When it was the table's last user, the table's descriptors are closed; the
    /// sockets that lost their last descriptor are returned.
    pub fn exit(&mut self, pid: u32) -> Vec<SockNo> {
        self.recent = None;
        self.unlinked.remove(&pid);
        let Some(table) = self.table_of_pid.remove(&pid) else {
            return Vec::new();
        };
        self.detach_user(table);
        if self.tables[table].users > 0 {
            return Vec::new();
        }
        if self.tables[table].touched.take().is_some() {
            self.ended_before_created.insert(pid);
        }
        let closed = self.drain(table);
        self.free.push(table);
        closed
    }

    /// Drops every descriptor of `table`; returns the sockets that lost their last one, in
    /// descriptor order.
    fn drain(&mut self, table: TableId) -> Vec<SockNo> {
        let fds = std::mem::take(&mut self.tables[table].fds);
        let order: Vec<SockNo> = fds
            .entries()
            .iter()
            .filter_map(|(_, e)| e.handle.as_ref().map(|h| h.sock))
            .collect();
        drop(fds);
        let mut closed: HashSet<SockNo, SequenceHashBuilder> =
            self.take_closed().into_iter().collect();
        order
            .into_iter()
            .filter(|sock| closed.remove(sock))
            .collect()
    }

    /// End of trace: every socket still open, in creation order. The caller forgets
    /// ([`Tables::forget_user`]) each socket these tables reported closed, as it hands the close
    /// on; what remains is held by a descriptor of some table or by a set in flight.
    pub fn close_all(&mut self) -> Vec<SockNo> {
        // Reading the set of open sockets rather than every table keeps this linear when many
        // forked copies of one large table are alive.
        let mut open: Vec<SockNo> = self.open.keys().copied().collect();
        open.sort_unstable();
        for t in &mut self.tables {
            t.fds = FdMap::default();
        }
        self.in_flight.clear();
        self.take_closed();
        open
    }
}

impl Drop for Tables {
    /// The handles the tables still hold are dropped here, outside any method: their closes
    /// are nobody's, and must not reach the next method of other tables in this thread.
    fn drop(&mut self) {
        self.tables.clear();
        self.in_flight.clear();
        take_closed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(sock: SockNo) -> Slot {
        Slot {
            sock,
            cloexec: false,
            user: 1,
        }
    }

    #[test]
    fn a_socket_stays_open_until_its_last_descriptor_closes() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 3, slot(0));
        assert_eq!(t.duplicate(tab, 3, 4, false), Some((0, None)));
        assert_eq!(t.remove(tab, 3), None);
        assert_eq!(t.remove(tab, 4), Some(0));
    }

    #[test]
    fn fork_copies_the_table_and_threads_share_it() {
        let mut t = Tables::default();
        let parent = t.table_of(10);
        t.insert(parent, 3, slot(0));
        t.spawn(10, 11, false);
        t.spawn(10, 12, true);
        let child = t.table_of(11);
        assert_eq!(t.lookup(child, 3), Some(0));
        assert_eq!(t.remove(parent, 3), None, "the forked child still holds it");
        let thread = t.table_of(12);
        assert_eq!(
            t.lookup(thread, 3),
            None,
            "the thread sees the parent's close"
        );
        assert_eq!(t.exit(11), vec![0]);
    }

    #[test]
    fn a_shared_table_survives_until_its_last_thread_exits() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 5, slot(2));
        t.spawn(1, 2, true);
        assert!(t.exit(1).is_empty());
        assert_eq!(t.exit(2), vec![2]);
    }

    #[test]
    fn a_child_seen_before_its_clone_returned_keeps_its_own_descriptors() {
        let mut t = Tables::default();
        let parent = t.table_of(1);
        t.insert(parent, 3, slot(0));
        let early = t.table_of(2);
        t.insert(early, 3, slot(1));
        t.spawn(1, 2, false);
        let child = t.table_of(2);
        assert_eq!(t.lookup(child, 3), Some(1));
    }

    #[test]
    fn forked_copies_share_until_written_and_close_only_with_their_last_holder() {
        let mut t = Tables::default();
        let parent = t.table_of(1);
        for fd in 3..103 {
            t.insert(parent, fd, slot((fd - 3) as SockNo));
        }
        for child in 1000..1100 {
            t.spawn(1, child, false);
            let table = t.table_of(child);
            assert_eq!(
                t.remove(table, 3 + child as Fd - 1000),
                None,
                "the parent still holds it"
            );
        }
        // The parent closes everything: only socket 0 (fd 3) was closed by its child 1000, but
        // every other child still holds the rest.
        assert!(t.remove_range(parent, 3, 102).is_empty());
        let mut closed = Vec::new();
        for child in 1000..1100 {
            closed.extend(t.exit(child));
        }
        closed.sort_unstable();
        assert_eq!(closed, (0..100).collect::<Vec<_>>());
        for &sock in &closed {
            t.forget_user(sock);
        }
        assert!(t.close_all().is_empty());
    }

    #[test]
    fn a_table_drained_at_exit_reports_each_socket_once_in_descriptor_order() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 9, slot(4));
        t.insert(tab, 5, slot(7));
        t.insert(tab, 6, slot(4));
        assert_eq!(t.exit(1), vec![7, 4]);
        // The freed table is reused for the next process, empty.
        let next = t.table_of(2);
        assert_eq!(next, tab);
        assert_eq!(t.lookup(next, 5), None);
    }

    #[test]
    fn a_child_seen_before_its_fork_returned_keeps_what_it_closed_and_replaced() {
        // socat under -f: the child's `dup2(4, 0)` and `close(3)` come before the parent's
        // `<... clone resumed> = PID` line.
        let mut t = Tables::default();
        let parent = t.table_of(1);
        t.insert(parent, 0, slot(0));
        t.insert(parent, 3, slot(1));
        t.insert(parent, 5, slot(2));
        let child = t.table_of(2);
        assert_eq!(t.remove(child, 0), None);
        assert_eq!(t.remove(child, 3), None);
        t.spawn(1, 2, false);
        assert_eq!(
            t.lookup(child, 0),
            None,
            "replaced by a pipe before the clone returned"
        );
        assert_eq!(t.lookup(child, 3), None, "closed before the clone returned");
        assert_eq!(t.lookup(child, 5), Some(2), "inherited");
    }

    #[test]
    fn touched_descriptors_are_remembered_one_bit_each() {
        let mut touched = Touched::default();
        for fd in [-40, -1, 0, 31, 32, 1000, 1 << 20] {
            assert!(!touched.contains(fd));
            touched.insert(fd);
            assert!(touched.contains(fd));
        }
        assert!(!touched.contains(33));
        assert!(!touched.contains(-2));
    }

    #[test]
    fn a_child_that_exited_before_its_fork_returned_holds_nothing() {
        let mut t = Tables::default();
        let parent = t.table_of(1);
        t.insert(parent, 3, slot(0));
        t.table_of(2);
        assert!(t.exit(2).is_empty());
        t.spawn(1, 2, false);
        assert_eq!(
            t.remove(parent, 3),
            Some(0),
            "no child table keeps socket 0 open"
        );
    }

    #[test]
    fn a_socket_in_flight_stays_open_and_the_receiver_holds_the_same_handle() {
        let mut t = Tables::default();
        let sender = t.table_of(1);
        let receiver = t.table_of(2);
        t.insert_channel(sender, 3);
        t.insert(sender, 5, slot(0));
        let channel = Some((150717, 150718));
        t.send_fds(sender, channel, &[5]);
        assert_eq!(t.remove(sender, 5), None, "in flight: still open");
        assert!(t.receive_fds(receiver, None, &[3]).is_empty());
        assert_eq!(
            t.lookup(receiver, 3),
            None,
            "nothing was sent on that channel"
        );
        assert!(t.receive_fds(receiver, channel, &[3]).is_empty());
        assert_eq!(t.lookup(receiver, 3), Some(0));
        assert_eq!(
            t.remove(receiver, 3),
            Some(0),
            "the receiver held the last one"
        );
        assert!(t.is_channel(sender, 3));
        t.close_channel(sender, 3);
        assert!(!t.names_socket(1, 3));
    }

    #[test]
    fn a_socket_never_received_closes_at_the_end_of_the_trace() {
        let mut t = Tables::default();
        let sender = t.table_of(1);
        t.insert(sender, 5, slot(0));
        t.send_fds(sender, None, &[5]);
        assert_eq!(t.exit(1), Vec::<SockNo>::new());
        assert_eq!(t.close_all(), vec![0]);
    }

    #[test]
    fn the_tables_of_two_traces_in_one_thread_see_only_their_own_closes() {
        let mut first = Tables::default();
        let mut second = Tables::default();
        let a = first.table_of(1);
        let b = second.table_of(1);
        first.insert(a, 3, slot(0));
        second.insert(b, 3, slot(0));
        second.insert(b, 4, slot(1));
        assert_eq!(first.remove(a, 3), Some(0));
        first.insert(a, 5, slot(1));
        drop(first);
        assert_eq!(second.remove(b, 4), Some(1));
        assert_eq!(second.exit(1), vec![0]);
    }

    #[test]
    fn exec_closes_only_cloexec_descriptors() {
        let mut t = Tables::default();
        let tab = t.table_of(1);
        t.insert(tab, 3, slot(0));
        t.insert(
            tab,
            4,
            Slot {
                sock: 1,
                cloexec: true,
                user: 1,
            },
        );
        assert_eq!(t.exec(tab), vec![1]);
        assert_eq!(t.lookup(tab, 3), Some(0));
    }
}
